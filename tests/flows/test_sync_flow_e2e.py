"""Both ways to run the pipeline against the emulators: extract, dbt, publish, reverse ETL.

One small dataset (plus fresh activity delivered as webhooks), one sandbox and one Prefect
test server for the module; two real runs started together while a BI reader holds the
published snapshot open: the real `lmsbridge-sync` Prefect flow and a direct run (what
`lmsbridge run` does without a Prefect server). Whichever starts first lands and writes
everything; the other waits for it and must find nothing to send.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from flows.summary import RunSummary
from lmsbridge_core.settings import load_settings
from tests.flows.handmade import make_warehouse

LEARNERS = 150
# The emulator's LearnWorlds limit is raised and the client paced to match, so the backfill
# fan-out does not spend the test's time waiting on the real 30 calls / 10 s.
LMS_RATE_MAX = 2000


@pytest.fixture(scope="module")
def pipeline_env(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> Iterator[Any]:
    from sandbox.generator import generate
    from sandbox.runner import SandboxProcess

    root = tmp_path_factory.mktemp("e2e")
    generate(root / "data", LEARNERS, seed=11)
    manifest = json.loads((root / "data" / "manifest.json").read_text())
    with (
        SandboxProcess(root / "data", lms_rate_max=LMS_RATE_MAX) as sandbox,
        pytest.MonkeyPatch.context() as mp,
    ):
        for key, value in sandbox.env().items():
            mp.setenv(key, value)
        mp.setenv("LMSBRIDGE_WAREHOUSE_PATH", str(root / "wh" / "lmsbridge.duckdb"))
        mp.setenv("LMSBRIDGE_WEBHOOK_LANDING_DIR", str(root / "webhooks"))
        mp.setenv("LMSBRIDGE_AS_OF", manifest["as_of"])
        mp.delenv("LMSBRIDGE_FAILURE_WEBHOOK_URL", raising=False)
        mp.setenv("LMSBRIDGE_LMS_RATE_CALLS", str(LMS_RATE_MAX - 200))
        from lmsbridge_demo.receiver import background_receiver, deliver_fresh_activity

        # Some learners act "now", so the first run also lands webhook deliveries.
        with background_receiver(load_settings()) as hook_url:
            assert deliver_fresh_activity(sandbox, hook_url, learners=20, seed=3) > 0
        yield sandbox


@pytest.fixture(scope="module")
def two_runs(pipeline_env: Any) -> tuple[RunSummary, RunSummary, str]:
    """Two real runs started at the same moment while a BI tool holds the snapshot open.

    Returns (earlier run, later run, what the BI reader printed before and after)."""
    from flows.pipeline import run_direct
    from flows.publish import publish_snapshot
    from flows.sync_flow import sync_flow

    settings = load_settings()
    # An older snapshot for the BI tool to hold (from a hand-made warehouse).
    old = make_warehouse(settings.warehouse_path.parent / "old" / "lmsbridge.duckdb")
    publish_snapshot(old, settings.published_warehouse_path)
    reader = subprocess.Popen(
        [sys.executable, "-c", (
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); q = "
            "'select count(*) from marts.dim_learners'; print(c.execute(q).fetchone()[0], flush=True); "
            "sys.stdin.read(); print(c.execute(q).fetchone()[0], flush=True)"
        ), str(settings.published_warehouse_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout is not None
        before = reader.stdout.readline().strip()
        results: list[RunSummary] = []
        errors: list[BaseException] = []

        def one(mode: str) -> None:
            try:
                summary = sync_flow() if mode == "prefect" else run_direct(load_settings())
                summary.mode = mode  # type: ignore[attr-defined]
                results.append(summary)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(mode,)) for mode in ("prefect", "direct")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        out, _ = reader.communicate("", timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert not errors, errors
    first, second = sorted(results, key=lambda r: r.started_at)
    return first, second, f"{before} {out.strip()}"


def _marts(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_runs_started_together_never_overlap(two_runs: tuple[RunSummary, RunSummary, str]) -> None:
    first, second, _ = two_runs
    assert first.finished_at <= second.started_at


def test_bi_reader_holding_the_snapshot_blocks_nothing(
    two_runs: tuple[RunSummary, RunSummary, str],
) -> None:
    _, second, reader_counts = two_runs
    before, after = reader_counts.split()
    assert before == after  # the reader kept its consistent (old) snapshot throughout
    published = _marts(Path(second.published_path or ""), "select count(*) from marts.dim_learners")
    assert published[0][0] != int(before)  # while the runs swapped in the new one


def test_first_run_builds_marts_and_writes_hubspot(
    pipeline_env: Any, two_runs: tuple[RunSummary, RunSummary, str]
) -> None:
    first, _, _ = two_runs
    assert first.dbt is not None and first.dbt.tests_failed == 0
    assert first.dbt.models_built > 0
    assert {e.source for e in first.extracts} >= {"lms", "hubspot"}
    assert first.records_sent > 0

    snapshot = load_settings().published_warehouse_path
    learners = _marts(snapshot, "select count(*) from marts.dim_learners")[0][0]
    assert learners >= LEARNERS * 0.9  # duplicates in the generated mess may collapse

    # What the mart says each matched contact should hold is what HubSpot now holds.
    expected = dict(
        _marts(
            snapshot,
            "select hubspot_contact_id, lms_courses_completed_count from marts.rev_etl__hubspot_contacts "
            "where hubspot_contact_id is not null and lms_courses_completed_count is not null",
        )
    )
    assert expected
    records = pipeline_env.control_get("hubspot", "state", {"object": "contacts"})["records"]
    held = {str(r["id"]): r["properties"] for r in records}
    for contact_id, completed in expected.items():
        assert float(held[contact_id]["lms_courses_completed_count"]) == completed


def test_scheduled_builds_run_data_tests_and_no_unit_tests(
    two_runs: tuple[RunSummary, RunSummary, str],
) -> None:
    """Each run's one `dbt build` (the Prefect flow's and the direct one) runs the data tests
    that gate the reverse ETL and leaves the unit tests to CI and `lmsbridge build --full`."""
    first, second, _ = two_runs
    target = load_settings().warehouse_path.resolve().parent / "dbt" / "target"
    results = json.loads((target / "run_results.json").read_text())["results"]
    kinds = [r["unique_id"].split(".")[0] for r in results]
    assert "unit_test" not in kinds
    data_tests = kinds.count("test")
    assert data_tests > 0
    # both engines ran the same lean build (a unit test would count as a passed test)
    assert first.dbt is not None and second.dbt is not None
    assert first.dbt.tests_passed + first.dbt.tests_warned == data_tests
    assert second.dbt.tests_passed + second.dbt.tests_warned == data_tests


def test_run_summary_counts_equal_what_hubspot_now_holds(
    pipeline_env: Any, two_runs: tuple[RunSummary, RunSummary, str]
) -> None:
    """The summary a person reads (and the ledger keeps for `status`) counts what changed
    in the emulator: notes and tasks we created, deals and contacts we wrote."""
    from flows import ledger
    from flows.summary import to_record

    first, _, _ = two_runs
    record = ledger.summaries(load_settings(), [first.run_id or ""])[first.run_id or ""]
    assert record == json.loads(json.dumps(to_record(first)))
    changes = record["changes"]

    def held(object_type: str, prop: str) -> int:
        state = pipeline_env.control_get("hubspot", "state", {"object": object_type})
        return sum(1 for r in state["records"] if (r["properties"].get(prop) or "") != "")

    assert changes["notes"] == held("notes", "lms_activity_key") > 0
    assert changes["tasks"] == held("tasks", "lms_task_key")
    assert sum(record["tasks_by_owner"].values()) == changes["tasks"]
    assert changes["deals"] == held("deals", "lms_influenced") > 0
    assert changes["contacts"] == held("contacts", "lms_source") > 0


def test_one_run_id_groups_the_runs_syncs(two_runs: tuple[RunSummary, RunSummary, str]) -> None:
    first, second, _ = two_runs
    # The snapshot is published once, after the syncs (this process's dbt holds the live file).
    rows = _marts(
        load_settings().published_warehouse_path,
        "select pipeline_run_id, count(*) from reverse_etl.sync_runs group by 1 order by 1",
    )
    assert dict(rows) == {first.run_id: len(first.syncs), second.run_id: len(second.syncs)}


def test_second_run_without_source_changes_sends_nothing(
    two_runs: tuple[RunSummary, RunSummary, str],
) -> None:
    _, second, _ = two_runs
    assert second.syncs
    assert {s.name: s.sent for s in second.syncs} == {s.name: 0 for s in second.syncs}


def test_both_modes_ran(two_runs: tuple[RunSummary, RunSummary, str]) -> None:
    assert {getattr(r, "mode", None) for r in two_runs[:2]} == {"prefect", "direct"}
    from flows import ledger

    runs = ledger.recent(load_settings())
    assert sorted((r.mode, r.status) for r in runs) == [("direct", "ok"), ("prefect", "ok")]
    assert all(r.flow_run_id for r in runs if r.mode == "prefect")


def test_flow_run_leaves_a_markdown_artifact(
    two_runs: tuple[RunSummary, RunSummary, str],
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["lmsbridge-sync"]))
        )
    texts = [str(a.data) for a in artifacts]
    flow_run = next(r for r in two_runs[:2] if getattr(r, "mode", None) == "prefect")
    assert flow_run.run_id
    mine = [t for t in texts if f"run `{flow_run.run_id[:8]}`" in t]
    assert mine and "## What changed" in mine[0]
    assert not any(os.environ["LMSBRIDGE_HUBSPOT_ACCESS_TOKEN"] in t for t in texts)


def test_report_from_the_snapshot_links_dbt_docs(
    two_runs: tuple[RunSummary, RunSummary, str], tmp_path: Path
) -> None:
    from lmsbridge_cli.cli import app

    out = tmp_path / "report" / "lmsbridge.html"
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert 'href="dbt-docs.html"' in html
    assert (out.parent / "dbt-docs.html").stat().st_size > 0
    assert "Plotly.newPlot" in html


def test_cli_sync_with_a_refused_token_exits_3_without_leaking_it(
    pipeline_env: Any, two_runs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmsbridge_cli.cli import app

    pipeline_env.control_post("hubspot", "auth", {"tokens": [pipeline_env.hubspot_token]})
    wrong = "pat-na1-canary-refused-not-real-0003"
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_ACCESS_TOKEN", wrong)
    try:
        result = CliRunner().invoke(app, ["sync", "--only", "contacts", "--full"])
    finally:
        pipeline_env.control_post("hubspot", "auth", {"tokens": None})
    assert result.exit_code == 3, result.output
    assert wrong not in result.output
    assert "Traceback" not in result.output


def test_cli_sync_against_an_unreachable_api_exits_4(
    pipeline_env: Any, two_runs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmsbridge_cli.cli import app
    from sandbox.runner import free_port

    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_BASE_URL", f"http://127.0.0.1:{free_port()}")
    result = CliRunner().invoke(app, ["sync", "--only", "contacts", "--full"])
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output


def test_the_prefect_run_builds_dbt_in_one_task(
    two_runs: tuple[RunSummary, RunSummary, str],
) -> None:
    """By default the flow's dbt build is one task (`dbt-build`), not one task per dbt node:
    per-node tasks cost the server's bookkeeping for each of ~300 nodes."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        names = [t.name for t in client.read_task_runs(limit=200)]
    assert any(name.startswith("dbt-build") for name in names), names
    node_tasks = [n for n in names if n.split(" ", 1)[0] in ("model", "test", "seed")]
    assert node_tasks == []


def test_node_tasks_when_asked_for(pipeline_env: Any, tmp_path: Path) -> None:
    """The build LMSBRIDGE_PREFECT_DBT_NODE_TASKS asks for (prefect-dbt's engine) still makes
    a task per dbt node (one seed here, into a warehouse of its own)."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    from flows.dbt_step import run_dbt_build

    settings = load_settings().model_copy(
        update={"warehouse_path": tmp_path / "wh" / "lmsbridge.duckdb"}
    )
    settings.warehouse_path.parent.mkdir(parents=True)

    @flow(name="node-tasks-check")
    def build_seeds() -> int:
        return run_dbt_build(settings, "free_email_domains", engine="prefect").seeds_loaded

    assert build_seeds() == 1
    wanted = TaskRunFilter(name=TaskRunFilterName(any_=["seed free_email_domains"]))
    with get_client(sync_client=True) as client:
        assert client.read_task_runs(task_run_filter=wanted, limit=10)
