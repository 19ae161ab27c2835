"""`make demo`: a generated school and CRM, the `lmsbridge run` pipeline, a RevOps summary.

Runs everything against the local emulators (no network), in ./warehouse/demo/, twice: the
second run proves that an unchanged source makes zero HubSpot write calls. The runs are
`lmsbridge run`'s direct mode (flows.pipeline.run_direct: the same steps and retry policy as
the Prefect flow, without a Prefect server to start), so a busy machine cannot fail the demo
on Prefect's start-up timeout; the Prefect flow itself is covered by the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import yaml
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "warehouse" / "demo"
LEARNERS = 2000
SEED = 7
# LearnWorlds allows 30 calls / 10 s, so a real 2,000-learner API backfill takes ~25 minutes
# (production imports the history CSV or runs the backfill once, overnight). The demo raises
# the emulator's limit and paces the client just under it, and says so in its output.
DEMO_LMS_RATE_MAX = 1000
DEMO_LMS_CLIENT_RATE = (900, 10.0)
# The HubSpot emulator indexes writes for search 2 s after them, as HubSpot does (seconds).
SEARCH_INDEX_WAIT_S = 3.0


console = Console()

CONTACT_PROPS = [
    "email", "lifecyclestage", "lms_user_id", "lms_courses_completed_count",
    "lms_last_course_completed", "lms_engagement_score", "lms_certified_products",
]  # fmt: skip
DEAL_PROPS = [
    "dealname", "dealstage", "amount", "lms_influenced", "lms_touch_count", "lms_top_course",
    "lms_attributed_amount", "lms_attribution_model",
]  # fmt: skip


def prepare_dataset(learners: int, seed: int) -> tuple[Path, dict[str, Any]]:
    from sandbox.generator import generate

    dataset = DEMO_DIR / "dataset"
    with console.status(f"generating {learners:,} learners (seed {seed})"):
        generate(dataset, learners, seed)
    manifest = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
    return dataset, manifest


def point_settings_at(sandbox: Any, dataset: Path, manifest: dict[str, Any]) -> None:
    """Settings are read from the environment; the demo never touches the default warehouse."""
    os.environ.update(sandbox.env())
    os.environ["LMSBRIDGE_WAREHOUSE_PATH"] = str(DEMO_DIR / "lmsbridge.duckdb")
    os.environ["LMSBRIDGE_LMS_CSV_DIR"] = str(dataset / "history")
    os.environ["LMSBRIDGE_WEBHOOK_LANDING_DIR"] = str(DEMO_DIR / "webhooks")
    # The dataset's reference time: attribution windows and scores come out the same each time.
    os.environ["LMSBRIDGE_AS_OF"] = manifest["as_of"]
    calls, window = DEMO_LMS_CLIENT_RATE
    os.environ["LMSBRIDGE_LMS_RATE_CALLS"] = str(calls)
    os.environ["LMSBRIDGE_LMS_RATE_WINDOW_S"] = str(window)


def run_once(label: str) -> Any:
    from flows.pipeline import run_direct
    from flows.progress import set_progress
    from lmsbridge_cli.console import progress_bars
    from lmsbridge_core.settings import load_settings

    console.rule(label)
    with progress_bars() as bars:
        set_progress(bars)
        try:
            return run_direct(load_settings())
        finally:
            set_progress(None)


def default_model() -> str:
    from lmsbridge_core.settings import load_settings

    project = yaml.safe_load((load_settings().dbt_project_dir / "dbt_project.yml").read_text())
    return str(project.get("vars", {}).get("default_attribution_model", "linear"))


def show_identity(con: duckdb.DuckDBPyConnection) -> None:
    table = Table("match method", "learners", "share", title="Learners matched to HubSpot contacts")
    rows = con.execute(
        "select match_method, count(*), count(*) / sum(count(*)) over () "
        "from marts.dim_learners group by 1 order by 2 desc"
    ).fetchall()
    for method, n, share in rows:
        table.add_row(method, f"{n:,}", f"{share:.1%}")
    console.print(table)
    conflicts = con.execute(
        "select reason, count(*) from marts.identity_conflicts group by 1 order by 2 desc"
    ).fetchall()
    if conflicts:
        ct = Table("reason", "cases", title="Identity conflicts (reported, left unmatched)")
        for reason, n in conflicts:
            ct.add_row(str(reason), str(n))
        console.print(ct)


def show_revenue(con: duckdb.DuckDBPyConnection, model: str) -> None:
    """Deal revenue split by status (won / open / lost): adding them up would mislead."""
    rows = con.execute(
        """
        select deal_status, count(*), sum(amount),
               count(*) filter (where lms_influenced), sum(lms_attributed_amount),
               any_value(currency), max(as_of)
        from marts.fct_deals group by 1
        order by case deal_status when 'won' then 1 when 'open' then 2 else 3 end
        """
    ).fetchall()
    if not rows:
        return
    currency = rows[0][5] or ""
    as_of = rows[0][6]
    when = as_of.strftime("%Y-%m-%d %H:%M UTC") if hasattr(as_of, "strftime") else str(as_of)
    table = Table(
        "deal status", "deals", "amount", "influenced", "credited to learning",
        title=f"Deal revenue by status ({currency}, {model} model, data as of {when})",
    )  # fmt: skip
    for status, deals, amount, influenced, learning, _, _ in rows:
        table.add_row(
            str(status),
            f"{deals:,}",
            f"{amount or 0:,.0f}",
            f"{influenced:,}",
            f"{learning or 0:,.0f}",
        )
    console.print(table)


def show_attribution(con: duckdb.DuckDBPyConnection, model: str) -> None:
    """Courses by the closed-won revenue credited to them (learning touches only)."""
    rows = con.execute(
        """
        select coalesce(any_value(a.course_name), a.course_id) as course,
               sum(a.attributed_amount) as revenue, count(distinct a.deal_id) as deals
        from marts.fct_deal_attribution a
        join marts.fct_deals d on d.deal_id = a.deal_id
        where a.attribution_model = ? and a.course_id is not null and d.deal_status = 'won'
        group by a.course_id order by revenue desc nulls last limit 8
        """,
        [model],
    ).fetchall()
    table = Table(
        "course",
        "closed-won revenue",
        "won deals",
        title=f"Top courses by closed-won revenue credited to them ({model} model)",
    )
    for course, revenue, deals in rows:
        table.add_row(str(course), f"{revenue or 0:,.0f}", str(deals))
    console.print(table)


def _hubspot_get(sandbox: Any, path: str, props: list[str]) -> dict[str, Any]:
    token = os.environ["LMSBRIDGE_HUBSPOT_ACCESS_TOKEN"]
    response = httpx.get(
        f"{sandbox.hubspot_url}{path}",
        params={"properties": ",".join(props)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def _records_table(title: str, props: list[str], records: list[dict[str, Any]]) -> Table:
    """One column per record, one row per property: readable at 80 columns."""
    table = Table("property", *(f"#{r['id']}" for r in records), title=title)
    for prop in props:
        table.add_row(prop, *(str(r["properties"].get(prop) or "") for r in records))
    return table


def show_hubspot(sandbox: Any, con: duckdb.DuckDBPyConnection) -> None:
    """Read back from the HubSpot API what the sync wrote: the CRM is the source of truth."""
    contact_ids = [
        r[0]
        for r in con.execute(
            "select hubspot_contact_id from marts.rev_etl__hubspot_contacts "
            "where hubspot_contact_id is not null and lms_courses_completed_count > 0 "
            "order by lms_engagement_score desc, hubspot_contact_id limit 3"
        ).fetchall()
    ]
    contacts = [
        _hubspot_get(sandbox, f"/crm/v3/objects/contacts/{cid}", CONTACT_PROPS)
        for cid in contact_ids
    ]
    console.print(_records_table("Contacts as HubSpot now holds them", CONTACT_PROPS, contacts))
    deal_ids = [
        r[0]
        for r in con.execute(
            "select hubspot_deal_id from marts.rev_etl__hubspot_deals where lms_influenced "
            "order by lms_touch_count desc, lms_attributed_amount desc nulls last, hubspot_deal_id limit 3"
        ).fetchall()
    ]
    deals = [_hubspot_get(sandbox, f"/crm/v3/objects/deals/{did}", DEAL_PROPS) for did in deal_ids]
    console.print(_records_table("Deals as HubSpot now holds them", DEAL_PROPS, deals))


def show_changes(summary: Any) -> None:
    """What the run changed, as `lmsbridge run` and `lmsbridge status` say it."""
    from flows.summary import change_lines, to_record

    record = to_record(summary)
    console.print(f"[bold]What run {str(summary.run_id)[:8]} changed[/]")
    for line in change_lines(record):
        console.print(f"  {line}", highlight=False)
    console.print(f"  {record['records_rejected']:,} records rejected", highlight=False)


def show_calls(sandbox: Any, summary: Any) -> dict[str, dict[str, Any]]:
    calls = {which: sandbox.calls(which) for which in ("hubspot", "lms")}
    minutes = max(summary.duration_s, 1.0) / 60
    table = Table(
        "API",
        "calls",
        "write calls",
        "429s",
        "avg calls / 10 s",
        "limit / 10 s",
        title="API budget used",
    )
    limits = {"hubspot": sandbox.hubspot_rate_max, "lms": sandbox.lms_rate_max}
    for which, stats in calls.items():
        table.add_row(
            which,
            f"{stats['total']:,}",
            f"{stats.get('write_calls', 0):,}",
            str(stats.get("status_429", 0)),
            f"{stats['total'] / (minutes * 6):.1f}",
            str(limits[which]),
        )
    console.print(table)
    return calls


def show_two_way(summary: Any) -> None:
    """What the field mappings (reverse_etl/syncs.yml) sent each way on this run."""
    table = Table("sync", "fields planned", "sent", "confirmed", "rejected", "API calls",
                  title="Two-way contact fields (field_mappings)")  # fmt: skip
    invalid: list[tuple[str, str]] = []
    for r in summary.syncs:
        if r.name.startswith("fields_") or r.name == "learner_creation":
            table.add_row(r.name, f"{r.planned:,}", f"{r.sent:,}", f"{r.succeeded:,}",
                          f"{r.rejected:,}", f"{r.calls:,}")  # fmt: skip
            invalid = invalid or r.invalid_mappings
    console.print(table)
    for key, problem in invalid:
        console.print(f"[yellow]invalid mapping skipped:[/] {key}: {problem}")


def show_hand_edit(sandbox: Any) -> bool:
    """A sales rep edits a job title in HubSpot; the next run takes it to the learner."""
    from lmsbridge_core.settings import load_settings

    # The published snapshot: this process's dbt build may still hold the live file.
    with duckdb.connect(str(load_settings().published_warehouse_path), read_only=True) as con:
        found = con.execute(
            # the learners the two-way sync writes (its input view is not published)
            "select lms_user_id, hubspot_contact_id from marts.rev_etl__hubspot_contacts "
            "where hubspot_contact_id is not null and lms_user_id is not null "
            "order by learner_key limit 1"
        ).fetchone()
    if found is None:
        return True
    user_id, contact_id = found
    title = "VP Customer Education"
    sandbox.control_post(
        "hubspot", f"objects/contacts/{contact_id}/edit", {"properties": {"jobtitle": title}}
    )
    # HubSpot's search (which the incremental extract reads) shows an edit a few seconds
    # later; an extract started sooner picks it up on the run after.
    time.sleep(SEARCH_INDEX_WAIT_S)
    reset_calls(sandbox)
    third = run_once(
        f"third run: a rep set contact #{contact_id}'s job title to {title!r} in HubSpot"
    )
    users = sandbox.control_get("lms", "state", {"object": "users"})["records"]
    learner = next(u for u in users if u["id"] == user_id)
    got = (learner.get("fields") or {}).get("cf_job_title")
    lms_writes = sandbox.calls("lms").get("write_calls", 0)
    ok = got == title
    mark = "[green]arrived[/]" if ok else "[red]missing[/]"
    console.print(
        f"{mark}: learner {user_id} now has cf_job_title {got!r} in LearnWorlds "
        f"({lms_writes} LearnWorlds write call(s); run took {third.duration_s:.0f} s)"
    )
    return ok


def main(learners: int = LEARNERS, seed: int = SEED) -> int:
    from flows.environment import quiet_tools
    from lmsbridge_core.settings import load_settings
    from lmsbridge_demo.receiver import background_receiver, deliver_fresh_activity
    from sandbox.runner import SandboxProcess

    started = time.monotonic()
    quiet_tools()
    os.environ.setdefault("DBT_USE_COLORS", "false")
    os.environ["LMSBRIDGE_WAREHOUSE_PATH"] = str(DEMO_DIR / "lmsbridge.duckdb")
    # A cold demo every time: yesterday's warehouse or sync state would hide the first sync.
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    dataset, manifest = prepare_dataset(learners, seed)
    with SandboxProcess(dataset, lms_rate_max=DEMO_LMS_RATE_MAX) as sandbox:
        point_settings_at(sandbox, dataset, manifest)
        from flows.run_log import log_to_file

        log_to_file(load_settings())
        console.print(
            Panel.fit(
                f"HubSpot emulator {sandbox.hubspot_url}\nLearnWorlds emulator {sandbox.lms_url}\n"
                f"warehouse {DEMO_DIR / 'lmsbridge.duckdb'}\n"
                f"LearnWorlds limit raised to {DEMO_LMS_RATE_MAX} calls / 10 s for the demo "
                "(the real API allows 30)",
                title="lmsbridge demo",
            )
        )
        with background_receiver(load_settings()) as hook_url:
            delivered = deliver_fresh_activity(sandbox, hook_url, seed=seed)
        console.print(f"learners were active just now: {delivered} LearnWorlds webhooks received")
        reset_calls(sandbox)
        first = run_once("first run: backfill and first sync")
        snapshot = load_settings().published_warehouse_path
        with duckdb.connect(str(snapshot), read_only=True) as con:
            show_identity(con)
            show_revenue(con, default_model())
            show_attribution(con, default_model())
            show_hubspot(sandbox, con)
        show_changes(first)
        show_calls(sandbox, first)

        show_two_way(first)

        reset_calls(sandbox)
        second = run_once("second run: nothing changed in the LMS or the CRM")
        calls = show_calls(sandbox, second)
        writes = calls["hubspot"].get("write_calls", 0) + calls["lms"].get("write_calls", 0)
        verdict = "[green]no-op proven[/]" if writes == 0 else "[red]unexpected writes[/]"
        per_sync = ", ".join(f"{s.name} {s.sent}" for s in second.syncs)
        console.print(
            f"{verdict}: second run sent {second.records_sent} records ({per_sync}) "
            f"with {writes} write calls (HubSpot and LearnWorlds)"
        )
        # The first run's writes come back in the second extract, so it usually builds; a
        # run after it with nothing new reuses that build (README "No build when nothing changed").
        if second.dbt is not None:
            console.print(f"second run: {second.dbt.line}")
        arrived = show_hand_edit(sandbox)
        show_reuse(snapshot, time.monotonic() - started)
        return 0 if writes == 0 and arrived else 1


def show_reuse(snapshot: Path, seconds: float) -> None:
    """How to look at this warehouse again: the emulators stop with the demo, the files stay."""
    from flows.run_log import log_path
    from lmsbridge_core.settings import load_settings

    warehouse = os.path.relpath(DEMO_DIR / "lmsbridge.duckdb")
    console.print(
        Panel.fit(
            f"BI snapshot  {os.path.relpath(snapshot)}\n"
            f"full log     {os.path.relpath(log_path(load_settings()))}\n\n"
            "Look at it again (from this folder):\n"
            f"  export LMSBRIDGE_WAREHOUSE_PATH={warehouse}\n"
            "  uv run lmsbridge report    # HTML report from the snapshot\n"
            "  uv run lmsbridge status    # runs, what they changed, rejects",
            title=f"demo finished in {seconds:.0f} s",
        )
    )


def reset_calls(sandbox: Any) -> None:
    for which in ("hubspot", "lms"):
        sandbox.control_post(which, "calls/reset")


def run_from_command_line() -> int:
    """`make demo`: main() with any failure as one readable line and the CLI's exit code."""
    from lmsbridge_core.errors import exit_code_for

    try:
        return main()
    except Exception as exc:  # one readable line, like the CLI; the flow logs hold the detail
        console.print(f"[bold red]demo failed:[/] {type(exc).__name__}: {exc}")
        return int(exit_code_for(exc))


if __name__ == "__main__":
    sys.exit(run_from_command_line())
