"""`make chaos`: the fault matrix. Each trial disturbs one `lmsbridge run` (a SIGKILL at a
point of extract, dbt, sync or publish; a 429 storm; 5xx at 5% and 20%; latency; LearnWorlds
token expiry; the HubSpot daily limit mid-sync; an outage; two runs at once), then reruns
undisturbed and compares with an undisturbed run:

- HubSpot after the rerun must hold exactly what it holds after one undisturbed run: every
  property we write, one task / note / contact per key (0 lost, 0 duplicated writes);
- the marts at rest (after one more run, which settles values that depend on what HubSpot
  already holds, such as forward-only lifecycle stages) must equal the undisturbed marts at
  rest, row for row.

    python -m bench.chaos [--learners N] [--kills-per-phase K] [--only NAME ...]

Everything runs for real: the `lmsbridge` console script as a child process (direct mode),
both emulators in their own process, DuckDB files in a scratch folder. Writes a table to
stdout and bench/results/chaos.json.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from sandbox.generator import generate
from sandbox.runner import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
AS_OF = "2026-11-30T00:00:00+00:00"
FAST = 100_000
PHASES = ("extract", "dbt", "sync", "publish")
# Properties HubSpot sets itself (timestamps, ids) differ between any two runs.
VOLATILE = ("lastmodified", "createdate", "hs_object_id", "hs_created", "hs_updated", "_date")
# Mart columns that record when a row was loaded or checked, not what it says.
VOLATILE_MART_COLUMNS = (
    "landed_at", "detected_at", "loaded_at", "_dlt_load_id", "lms_read_at", "hubspot_read_at",
)  # fmt: skip
# Views that mirror a source's current state, write times included (every HubSpot contact
# property, lastmodifieddate too): when a run happened shows there by design.
MIRROR_MARTS = ("rev_etl__contact_properties",)


def lmsbridge_bin() -> str:
    candidate = Path(sys.executable).parent / "lmsbridge"
    return str(candidate) if candidate.exists() else "lmsbridge"


@dataclass
class Outcome:
    exit: int
    seconds: float
    phase: str | None = None
    tail: str = ""


@dataclass
class Trial:
    name: str
    kind: str  # "kill", "fault" or "concurrent"
    phase: str | None = None
    hubspot_chaos: dict[str, Any] = field(default_factory=dict)
    lms_chaos: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    # Exit codes the disturbed run may end with (the rerun must always exit 0).
    expect: tuple[int, ...] = (0,)


@dataclass
class Row:
    trial: str
    fault: str
    phase: str
    first_exit: int
    first_s: float
    rerun_exit: int
    rerun_s: float
    hubspot_converged: bool
    marts_converged: bool
    lost: int
    duplicated: int
    expected_first_exit: bool
    killed_in: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.rerun_exit == 0
            and self.hubspot_converged
            and self.marts_converged
            and self.lost == 0
            and self.duplicated == 0
            and self.expected_first_exit
        )


# ---- what to compare ----------------------------------------------------------------------


def _keep(name: str) -> bool:
    return not any(v in name for v in VOLATILE)


def hubspot_state(sandbox: SandboxProcess) -> dict[str, dict[str, Any]]:
    """HubSpot's records keyed the way our writes identify them, volatile fields dropped.

    Contacts and deals by id (we update existing ones), tasks and notes by our unique key
    (they are created by upsert, so their ids differ between runs); each value lists the
    records found under the key, so a duplicate shows up as a list of two.
    """
    keys = {
        "contacts": "email",
        "deals": None,
        "tasks": "lms_task_key",
        "notes": "lms_activity_key",
    }
    state: dict[str, dict[str, Any]] = {}
    for object_type, key in keys.items():
        body = sandbox.control_get("hubspot", "state", {"object": object_type})
        grouped: dict[str, list[Any]] = {}
        for record in body["records"]:
            props = record.get("properties") or {}
            if record.get("archived"):
                continue
            ident = str(props.get(key) or record["id"]) if key else str(record["id"])
            kept = {k: v for k, v in sorted(props.items()) if _keep(k)}
            grouped.setdefault(ident, []).append(kept)
        state[object_type] = grouped
    return state


def mart_digests(warehouse: Path) -> dict[str, str]:
    """One digest per mart table, over its rows in a stable order."""
    out: dict[str, str] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1"
        ).fetchall()
        for (table,) in tables:
            if table in MIRROR_MARTS:
                continue
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in VOLATILE_MART_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {select} from marts."{table}" order by all').fetchall()
            out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
    return out


def compare_hubspot(
    want: dict[str, dict[str, Any]], got: dict[str, dict[str, Any]]
) -> tuple[bool, int, int, str]:
    lost = duplicated = 0
    diffs: list[str] = []
    for object_type, records in want.items():
        have = got.get(object_type, {})
        lost += len(set(records) - set(have))
        duplicated += sum(len(v) - 1 for v in have.values() if len(v) > 1)
        extra = set(have) - set(records)
        duplicated += len(extra)
        changed = [k for k in records.keys() & have.keys() if records[k] != have[k]]
        if changed or extra:
            diffs.append(f"{object_type}: {len(changed)} differ, {len(extra)} extra")
    return not diffs and lost == 0 and duplicated == 0, lost, duplicated, "; ".join(diffs)


# ---- running lmsbridge --------------------------------------------------------------------


def phase_of(warehouse: Path, started: float) -> str:
    """Where a run is, read off the files it writes (no hooks in the product)."""
    folder = warehouse.parent
    published = folder / "published"
    snapshot = published / warehouse.name
    # The publish is the run's last step: from its temp copy on, the run is publishing.
    if any(published.glob(".*.tmp.duckdb")) or (
        snapshot.exists() and snapshot.stat().st_mtime >= started
    ):
        return "publish"
    # dbt writes run_results.json when the build ends; the syncs come next.
    run_results = folder / "dbt" / "target" / "run_results.json"
    if run_results.exists() and run_results.stat().st_mtime >= started:
        return "sync"
    dbt_log = folder / "dbt" / "logs" / "dbt.log"
    if dbt_log.exists() and dbt_log.stat().st_mtime >= started:
        return "dbt"
    return "extract"


class Lab:
    def __init__(self, workdir: Path, learners: int, seed: int) -> None:
        self.workdir = workdir
        data = workdir / "data"
        if not (data / "manifest.json").exists():
            generate(data, learners, seed)
        self.sandbox = SandboxProcess(data, hubspot_rate_max=FAST, lms_rate_max=FAST).start()
        self.counter = 0
        self.phase_s: dict[str, float] = {}

    def close(self) -> None:
        self.sandbox.close()

    def fresh_warehouse(self, label: str) -> Path:
        self.counter += 1
        folder = self.workdir / f"{self.counter:02d}-{label}"
        # A workdir may be reused: a leftover warehouse would hold another run's sync state.
        shutil.rmtree(folder, ignore_errors=True)
        return folder / "lmsbridge.duckdb"

    def env(self, warehouse: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LMSBRIDGE_", "PREFECT_"))}
        env.update(self.sandbox.env())
        env.update(
            {
                "LMSBRIDGE_WAREHOUSE_PATH": str(warehouse),
                "LMSBRIDGE_AS_OF": AS_OF,
                "LMSBRIDGE_LMS_RATE_CALLS": str(FAST - 1000),
                # Long enough to outlast the storms below, short enough that an outage ends.
                "LMSBRIDGE_HTTP_RETRY_BUDGET_S": "60",
                # The generated history is older than the 14-day task window at AS_OF; the
                # trials need tasks to prove a crash never duplicates one.
                "LMSBRIDGE_TASK_MAX_AGE_DAYS": "3650",
            }
        )
        env.update(extra or {})
        return env

    def run(
        self,
        warehouse: Path,
        *,
        kill_phase: str | None = None,
        rng: random.Random | None = None,
        env: dict[str, str] | None = None,
        watch: Callable[[str, float], None] | None = None,
    ) -> Outcome:
        """One `lmsbridge run`; SIGKILL it at a random point of `kill_phase` if given."""
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        log_path = warehouse.parent / f"run-{time.time_ns()}.log"
        started = time.time()
        t0 = time.monotonic()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [lmsbridge_bin(), "run"],
                env=self.env(warehouse, env),
                cwd=warehouse.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            killed_in = None
            deadline: float | None = None
            last = "extract"
            while proc.poll() is None:
                phase = phase_of(warehouse, started)
                if phase != last and watch is not None:
                    watch(phase, time.monotonic() - t0)
                last = phase
                if kill_phase is not None and killed_in is None:
                    if deadline is None and phase == kill_phase and self._writing(phase):
                        span = self.phase_s.get(kill_phase, 5.0)
                        deadline = time.monotonic() + (rng or random).uniform(0, 0.8 * span)
                    if deadline is not None and time.monotonic() >= deadline:
                        killed_in = phase_of(warehouse, started)
                        os.killpg(proc.pid, signal.SIGKILL)
                time.sleep(0.01 if kill_phase == "publish" else 0.05)
            code = proc.wait()
        tail = log_path.read_text(errors="replace")[-1500:]
        return Outcome(code, round(time.monotonic() - t0, 1), killed_in, tail)

    def _writing(self, phase: str) -> bool:
        """In sync, wait for the first HubSpot write, so the kill lands among the writes."""
        if phase != "sync":
            return True
        return bool(self.sandbox.calls("hubspot").get("write_calls"))

    def set_chaos(self, hubspot: dict[str, Any], lms: dict[str, Any]) -> None:
        self.sandbox.control_post("hubspot", "chaos", {"rate_max": FAST, **hubspot})
        self.sandbox.control_post("lms", "chaos", {"rate_max": FAST, **lms})


@dataclass
class Baseline:
    hubspot: dict[str, dict[str, Any]]
    marts: dict[str, str]
    seconds: float
    phases: dict[str, float]
    hubspot_extract_calls: int


def baseline(lab: Lab) -> Baseline:
    lab.sandbox.reload()
    lab.set_chaos({}, {})
    warehouse = lab.fresh_warehouse("baseline")
    marks: dict[str, float] = {}
    extract_calls: list[int] = []

    def watch(phase: str, at: float) -> None:
        marks.setdefault(phase, at)
        if phase == "dbt" and not extract_calls:
            extract_calls.append(lab.sandbox.calls("hubspot")["total"])

    first = lab.run(warehouse, watch=watch)
    if first.exit != 0:
        raise SystemExit(f"the undisturbed run failed (exit {first.exit}):\n{first.tail}")
    hubspot = hubspot_state(lab.sandbox)
    settle = lab.run(warehouse)
    if settle.exit != 0:
        raise SystemExit(f"the undisturbed rerun failed (exit {settle.exit}):\n{settle.tail}")
    ends = {**marks, "end": first.seconds}
    order = [p for p in (*PHASES, "end") if p in ends]
    phases = {p: max(0.2, ends[n] - ends[p]) for p, n in itertools.pairwise(order)}
    phases.setdefault("publish", 0.5)
    lab.phase_s = phases
    return Baseline(
        hubspot, mart_digests(warehouse), first.seconds, phases, (extract_calls or [0])[0]
    )


def matrix(base: Baseline, kills_per_phase: int) -> list[Trial]:
    trials = [
        Trial(f"kill-{phase}-{i + 1}", "kill", phase=phase)
        for phase in PHASES
        for i in range(kills_per_phase)
    ]
    daily = base.hubspot_extract_calls + 3
    trials += [
        Trial("429-storm-hubspot", "fault", hubspot_chaos={"burst_429": 8}),
        Trial("429-storm-lms", "fault", lms_chaos={"burst_429": 8}),
        Trial("5xx-5pct", "fault", hubspot_chaos={"error_rate": 0.05, "seed": 5},
              lms_chaos={"error_rate": 0.05, "seed": 5}),
        Trial("5xx-20pct", "fault", hubspot_chaos={"error_rate": 0.2, "seed": 20},
              lms_chaos={"error_rate": 0.2, "seed": 20}),
        Trial("latency-500ms", "fault", hubspot_chaos={"latency_ms": 500},
              lms_chaos={"latency_ms": 50}),
        Trial("lms-token-expiry", "fault", lms_chaos={"token_ttl_s": 2}),
        Trial("hubspot-daily-limit-mid-sync", "fault", hubspot_chaos={"daily_limit": daily},
              expect=(1,)),
        Trial("hubspot-outage", "fault", hubspot_chaos={"fail_after": daily},
              env={"LMSBRIDGE_HTTP_RETRY_BUDGET_S": "5"}, expect=(1,)),
        Trial("two-runs-at-once", "concurrent"),
    ]  # fmt: skip
    return trials


def run_trial(lab: Lab, base: Baseline, trial: Trial, rng: random.Random) -> Row:
    lab.sandbox.reload()
    warehouse = lab.fresh_warehouse(trial.name)
    lab.set_chaos(trial.hubspot_chaos, trial.lms_chaos)
    if trial.kind == "concurrent":
        outcomes: list[Outcome] = []
        threads = [
            threading.Thread(target=lambda: outcomes.append(lab.run(warehouse))) for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        first = max(outcomes, key=lambda o: o.exit)
        first.seconds = max(o.seconds for o in outcomes)
    else:
        first = lab.run(warehouse, kill_phase=trial.phase, rng=rng, env=trial.env)
    lab.set_chaos({}, {})
    rerun = lab.run(warehouse)
    hubspot_ok, lost, duplicated, detail = compare_hubspot(base.hubspot, hubspot_state(lab.sandbox))
    settle = lab.run(warehouse)
    marts = mart_digests(warehouse) if settle.exit == 0 else {}
    differing = sorted(t for t in base.marts if base.marts[t] != marts.get(t))
    if differing:
        detail = "; ".join(filter(None, [detail, f"marts differ: {', '.join(differing)}"]))
    if rerun.exit != 0:
        detail = "; ".join(filter(None, [detail, f"rerun: {rerun.tail[-300:]}"]))
    expected_first = (
        first.exit == -signal.SIGKILL if trial.kind == "kill" else first.exit in trial.expect
    )
    if trial.kind == "kill" and first.exit != -signal.SIGKILL:
        detail = "; ".join(filter(None, [detail, "run ended before the kill"]))
    fault = (
        "SIGKILL"
        if trial.kind == "kill"
        else json.dumps({"hubspot": trial.hubspot_chaos, "lms": trial.lms_chaos} | trial.env)
        if trial.kind == "fault"
        else "2 runs started together"
    )
    return Row(
        trial=trial.name,
        fault=fault,
        phase=trial.phase or "whole run",
        first_exit=first.exit,
        first_s=first.seconds,
        rerun_exit=rerun.exit,
        rerun_s=rerun.seconds,
        hubspot_converged=hubspot_ok,
        marts_converged=not differing,
        lost=lost,
        duplicated=duplicated,
        expected_first_exit=expected_first,
        killed_in=first.phase,
        detail=detail,
    )


def print_table(rows: list[Row]) -> None:
    head = ("trial", "phase", "killed in", "1st exit", "1st s", "rerun", "rerun s",
            "hubspot", "marts", "lost", "dup", "ok")  # fmt: skip
    print(" | ".join(head))
    for r in rows:
        print(
            " | ".join(
                str(x)
                for x in (
                    r.trial,
                    r.phase,
                    r.killed_in or "-",
                    r.first_exit,
                    r.first_s,
                    r.rerun_exit,
                    r.rerun_s,
                    r.hubspot_converged,
                    r.marts_converged,
                    r.lost,
                    r.duplicated,
                    "yes" if r.ok else f"NO: {r.detail}",
                )
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos")
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kills-per-phase", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="trial names (prefixes) to run")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lmsbridge-chaos-"))
    rng = random.Random(args.seed)
    lab = Lab(workdir, args.learners, args.seed)
    started = time.monotonic()
    try:
        base = baseline(lab)
        print(f"undisturbed run: {base.seconds:.0f} s; phases {base.phases}", flush=True)
        trials = matrix(base, args.kills_per_phase)
        if args.only:
            trials = [t for t in trials if any(t.name.startswith(p) for p in args.only)]
        rows = []
        for trial in trials:
            row = run_trial(lab, base, trial, rng)
            rows.append(row)
            print(
                f"{row.trial}: first exit {row.first_exit} ({row.killed_in or '-'}), rerun "
                f"{row.rerun_exit}, converged {row.hubspot_converged and row.marts_converged}, "
                f"lost {row.lost}, dup {row.duplicated} {'' if row.ok else row.detail}",
                flush=True,
            )
    finally:
        lab.close()
    print()
    print_table(rows)
    kinds = Counter(r.killed_in for r in rows if r.fault == "SIGKILL")
    summary = {
        "learners": args.learners,
        "trials": len(rows),
        "passed": sum(r.ok for r in rows),
        "kills_by_phase": dict(kinds),
        "minutes": round((time.monotonic() - started) / 60, 1),
        "rows": [asdict(r) | {"ok": r.ok} for r in rows],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chaos.json").write_text(json.dumps(summary, indent=2))
    print(
        f"\n{summary['passed']}/{summary['trials']} trials converged; kills by phase {dict(kinds)}"
    )
    return 0 if summary["passed"] == summary["trials"] else 1


if __name__ == "__main__":
    sys.exit(main())
