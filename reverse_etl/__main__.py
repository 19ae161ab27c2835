"""`python -m reverse_etl sync [--dry-run] [--only NAME ...] [--full] [--repair]`, settings from env.

A plain process entry for operators and the crash tests; the `lmsbridge sync` CLI wraps
`run_syncs` the same way.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from lmsbridge_core.errors import ExitCode, LmsbridgeError, SyncFailed, exit_code_for
from lmsbridge_core.settings import load_settings
from reverse_etl.config import SyncConfigError
from reverse_etl.runner import run_syncs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reverse_etl")
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="write changed mart rows to HubSpot")
    sync.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    sync.add_argument("--only", action="append", help="run only this sync (repeatable)")
    sync.add_argument("--full", action="store_true", help="ignore sync_state, re-send all")
    sync.add_argument(
        "--repair", action="store_true", help="read HubSpot back, re-send what was lost there"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        results = run_syncs(
            load_settings(),
            dry_run=args.dry_run,
            only=args.only,
            full=args.full,
            repair=args.repair,
        )
    except LmsbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except (SyncConfigError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return int(ExitCode.BAD_CONFIG)
    for r in results:
        line = {
            "sync": r.name,
            "status": r.status,
            "planned": r.planned,
            "sent": r.sent,
            "succeeded": r.succeeded,
            "rejected": r.rejected,
            "unchanged": r.unchanged,
            "calls": r.calls,
            "status_429": r.status_429,
            "duration_s": r.duration_s,
            "error": r.error,
            "deferred": r.deferred,
            "repaired": r.repaired,
        }
        if r.by_owner:
            line["by_owner"] = r.by_owner
        if args.dry_run and r.plan is not None:
            line["plan"] = r.plan.summary()
        print(json.dumps(line))
    failed = [r for r in results if r.status != "ok"]
    if not failed:
        return 0
    causes = [r.cause for r in failed if r.cause is not None]
    return int(exit_code_for(SyncFailed("sync failed", causes=causes)))


if __name__ == "__main__":
    sys.exit(main())
