"""Benchmark the two-way field syncs at 2,000 learners against both emulators.

    uv run --frozen python -m bench.two_way_bench [--learners 2000] [--seed 7]

1. A first run without field mappings, LearnWorlds' limit lifted for the backfill (as the
   extract bench does: a real 2,000-learner backfill takes ~25 minutes).
2. With LearnWorlds' real limit (30 / 10 s) back on and the shipped mappings switched on,
   `resync --direction both` of every learner: the first alignment, its wall time, calls and
   429s (the budget must hold: no 429 at all), write calls per changed learner.
3. A run with nothing changed: the two-way syncs must make zero calls.
4. Hand edits on both sides (HubSpot job titles and phones, LearnWorlds phones), then a run
   with the profile sweep due: inbound writes equal the learners changed, and the LearnWorlds
   edits reach HubSpot.
Results go to stdout and bench/results/two_way.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.pipeline import run_direct
from lmsbridge_core.settings import Settings
from reverse_etl import run_syncs
from sandbox.generator import generate
from sandbox.runner import SandboxProcess

RESULTS = Path(__file__).resolve().parent / "results" / "two_way.json"
UNLIMITED = 1_000_000
FIELD_SYNCS = ("fields_to_hubspot", "fields_to_lms")


def _settings(sb: SandboxProcess, warehouse: Path, lms_rate: int, config: Path) -> Settings:
    values: dict[str, Any] = {k.removeprefix("LMSBRIDGE_").lower(): v for k, v in sb.env().items()}
    values.update(
        warehouse_path=warehouse,
        lms_rate_calls=lms_rate,
        lms_rate_window_s=10.0,
        sync_config_path=config,
    )
    return Settings(_env_file=None, **values)


def _configs(folder: Path) -> tuple[Path, Path]:
    """The shipped syncs.yml, and a copy with field mappings off."""
    import yaml

    shipped = Path(__file__).resolve().parent.parent / "reverse_etl" / "syncs.yml"
    config = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    config["field_mappings"]["enabled"] = False
    off = folder / "syncs-off.yml"
    off.write_text(yaml.safe_dump(config), encoding="utf-8")
    return shipped, off


def _field_rows(results: list[Any]) -> dict[str, dict[str, int]]:
    return {
        r.name: {"planned": r.planned, "sent": r.sent, "ok": r.succeeded, "calls": r.calls}
        for r in results
        if r.name in FIELD_SYNCS
    }


def _step(name: str, sb: SandboxProcess, fn: Any) -> dict[str, Any]:
    for which in ("hubspot", "lms"):
        sb.control_post(which, "calls/reset")
    started = time.perf_counter()
    results = fn()
    wall = time.perf_counter() - started
    lms, hub = sb.calls("lms"), sb.calls("hubspot")
    plan = next((r.field_plan for r in results if getattr(r, "field_plan", None)), None)
    row = {
        "step": name,
        "wall_s": round(wall, 1),
        "fields": _field_rows(results),
        "learners_to_lms": len(plan.to_lms_by_learner()) if plan else 0,
        "contacts_to_hubspot": len(plan.to_hubspot_by_contact()) if plan else 0,
        "lms_write_calls": lms["write_calls"],
        "lms_calls": lms["total"],
        "lms_429": lms["status_429"],
        "hubspot_write_calls": hub["write_calls"],
        "hubspot_429": hub["status_429"],
    }
    print(json.dumps(row), flush=True)
    return row


def _edit(sb: SandboxProcess, warehouse: Path, n: int) -> int:
    """n HubSpot job titles, n HubSpot phones and n LearnWorlds phones edited by hand."""
    import duckdb

    # This process's dbt build keeps the file open read-write: open it the same way.
    with duckdb.connect(str(warehouse)) as con:
        pairs = con.execute(
            "select distinct lms_user_id, hubspot_contact_id from marts.rev_etl__learner_fields "
            "where hubspot_contact_id is not null order by 1 limit ?",
            [3 * n],
        ).fetchall()
    for i, (user_id, contact_id) in enumerate(pairs):
        if i < n:
            props = {"jobtitle": f"Edited title {i}"}
            sb.control_post("hubspot", f"objects/contacts/{contact_id}/edit", {"properties": props})
        elif i < 2 * n:
            props = {"phone": f"+44 20 7000 {i:04d}"}
            sb.control_post("hubspot", f"objects/contacts/{contact_id}/edit", {"properties": props})
        else:
            sb.control_post(
                "lms", f"users/{user_id}/edit", {"fields": {"phone": f"+1 555 {i:04d}"}}
            )
    return len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--edits", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="two-way-bench-") as tmp:
        data = Path(tmp) / "data"
        generate(data, args.learners, args.seed)
        warehouse = Path(tmp) / "wh" / "lmsbridge.duckdb"
        rows = []
        shipped, off = _configs(Path(tmp))
        with SandboxProcess(data, hubspot_rate_max=100, lms_rate_max=UNLIMITED) as sb:
            sb.control_post("hubspot", "chaos", {"search_index_lag_ms": 0})
            backfill = _settings(sb, warehouse, UNLIMITED - 1, off)
            rows.append(_step("backfill, no mappings", sb, lambda: run_direct(backfill).syncs))
            # The real LearnWorlds limit from here on, and the default client pace under it.
            sb.control_post("lms", "chaos", {"rate_max": 30, "rate_interval_ms": 10_000})
            real = _settings(sb, warehouse, 29, shipped)
            rows.append(
                _step(
                    "resync --direction both (real LMS limit)",
                    sb,
                    lambda: run_syncs(real, resync="both"),
                )
            )
            rows.append(_step("no-op run", sb, lambda: run_direct(real).syncs))
            edited = _edit(sb, warehouse, args.edits)
            # Profiles re-read on this run (the daily sweep made due): LearnWorlds-side edits
            # are seen without webhooks, at learners / 200 extra calls.
            sweep = real.model_copy(update={"lms_profile_sweep_hours": 1e-6})
            rows.append(
                _step(f"{edited} hand edits, then a run", sb, lambda: run_direct(sweep).syncs)
            )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    out = {
        "benchmark": "two_way",
        "learners": args.learners,
        "seed": args.seed,
        "commit": commit,
        "machine": f"{platform.machine()} {platform.processor() or ''} cpus={__import__('os').cpu_count()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "steps": rows,
    }
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
