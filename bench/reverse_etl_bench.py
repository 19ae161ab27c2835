"""Reverse ETL under HubSpot's real burst limit: a 20,000-record contact sync.

Starts the sandbox (`python -m sandbox serve`) on free ports, creates the contacts with a
separate token (its own rate window), then runs `reverse_etl.run_syncs` at the emulator's
default 100 calls / 10 s and reports:
  - 429s as a share of calls (target <= 1 %),
  - wall time vs the time the limit allows for the calls made (target <= 1.2x).
Results go to bench/results/reverse_etl.json.

    uv run --frozen python -m bench.reverse_etl_bench [--records 20000]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx

from lmsbridge_core.settings import Settings
from reverse_etl import run_syncs

ROOT = Path(__file__).resolve().parents[1]

SEED_TOKEN = "pat-na1-bench-seeder-0000"
SYNC_TOKEN = "pat-na1-bench-sync-0000"
RATE_MAX, RATE_WINDOW_S = 100, 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sandbox(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port, lms_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--data",
            str(data),
            "--hubspot-port",
            str(port),
            "--lms-port",
            str(lms_port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_sandbox/calls", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError("sandbox exited during start-up")
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("sandbox did not start within 120 s")


def seed_contacts(url: str, n: int) -> list[str]:
    ids: list[str] = []
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {SEED_TOKEN}"}, timeout=60
    ) as c:
        c.post("/_sandbox/chaos", json={"rate_max": 1_000_000})
        for start in range(0, n, 100):
            inputs = [
                {"properties": {"email": f"bench-{i:06d}@example.com", "firstname": f"B{i}"}}
                for i in range(start, min(n, start + 100))
            ]
            response = c.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
            response.raise_for_status()
            by_email = {r["properties"]["email"]: r["id"] for r in response.json()["results"]}
            ids += [by_email[i["properties"]["email"]] for i in inputs]
        # Back to the emulator's real limit for the measured run.
        c.post("/_sandbox/chaos", json={})
        c.post("/_sandbox/calls/reset")
    return ids


def write_mart(path: Path, ids: list[str], work: Path) -> None:
    rows = work / "contacts.csv"
    with rows.open("w", newline="") as f:
        out = csv.writer(f)
        for i, contact_id in enumerate(ids):
            out.writerow(
                [
                    f"learner-{i:06d}",
                    contact_id,
                    f"bench-{i:06d}@example.com",
                    "true",
                    f"u{i}",
                    "learnworlds",
                    i % 9,
                    f"Course {i % 13}",
                    "2026-01-15",
                    f"{(i % 1000) / 10}",
                    "",
                    "2026-01-15 10:00:00+00",
                ]
            )
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute(f"""
        create or replace table marts.rev_etl__hubspot_contacts as
        select * from read_csv('{rows}', header = false, columns = {{
            'learner_key': 'text', 'hubspot_contact_id': 'text', 'email': 'text',
            'marketing_consent': 'boolean', 'lms_user_id': 'text', 'lms_source': 'text',
            'lms_courses_completed_count': 'integer', 'lms_last_course_completed': 'text',
            'lms_recent_course_completion_date': 'date', 'lms_engagement_score': 'double',
            'lms_certified_products': 'text', 'lms_last_activity_at': 'timestamptz'}})
    """)
    con.execute("alter table marts.rev_etl__hubspot_contacts add column lifecyclestage text")
    for flag in ("lms_deleted", "hubspot_contact_archived"):
        con.execute(
            f"alter table marts.rev_etl__hubspot_contacts add column {flag} boolean default false"
        )
    con.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="retl-bench-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sandbox",
                "generate",
                "--learners",
                "10",
                "--seed",
                "1",
                "--out",
                str(work / "data"),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        process, url = start_sandbox(work / "data")
        try:
            ids = seed_contacts(url, args.records)
            warehouse = work / "warehouse.duckdb"
            write_mart(warehouse, ids, work)
            settings = Settings(
                hubspot_base_url=url,
                hubspot_access_token=SYNC_TOKEN,
                warehouse_path=warehouse,
                sync_config_path=ROOT / "reverse_etl" / "syncs.yml",
            )
            started = time.monotonic()
            [result] = run_syncs(settings, only="contacts")
            wall = time.monotonic() - started
            seen = httpx.get(f"{url}/_sandbox/calls", timeout=10).json()
        finally:
            process.terminate()
            process.wait(timeout=30)
    calls = seen["total"]
    # The k-th call in a rolling window of RATE_MAX cannot start before floor((k-1)/max)*window.
    allowed = math.floor((calls - 1) / RATE_MAX) * RATE_WINDOW_S
    report = {
        "bench": "reverse_etl",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "records": args.records,
        "status": result.status,
        "error": result.error,
        "succeeded": result.succeeded,
        "calls": calls,
        "setup_calls": result.setup_calls,
        "write_calls": seen["write_calls"],
        "status_429": seen["status_429"],
        "share_429": round(seen["status_429"] / calls, 4) if calls else 0,
        "wall_s": round(wall, 2),
        "allowed_s": allowed,
        "ratio": round(wall / allowed, 3) if allowed else None,
        "targets": {"share_429_max": 0.01, "ratio_max": 1.2},
        "cpu_count": os.cpu_count(),
    }
    out = ROOT / "bench" / "results" / "reverse_etl.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    ok = result.status == "ok" and report["share_429"] <= 0.01 and (report["ratio"] or 0) <= 1.2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
