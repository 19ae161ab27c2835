"""What the HTML report shows, read from the published BI snapshot.

Reads only `marts.*` and `reverse_etl.sync_runs`: the snapshot is curated down to those, and
a table or column an older snapshot lacks leaves its section empty instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from lmsbridge_core.warehouse import table_exists

DEAL_STATUSES = ("won", "open", "lost")
MATCH_METHODS = ("lms_user_id", "email", "additional_email", "created", "none")
# Learner-level steps; each counts learners who also reached every earlier step.
FUNNEL_STEPS = (
    ("enrolled", "enrolled"),
    ("completed", "completed a course"),
    ("certificate_issued", "earned a certificate"),
    ("purchase", "purchased"),
)
RECENT_RUNS = 20


@dataclass(frozen=True)
class RevenueRow:
    currency: str
    status: str
    deals: int
    amount: float
    influenced_deals: int
    attributed: float


@dataclass(frozen=True)
class PivotCell:
    course: str
    model: str
    currency: str
    amount: float
    deals: int


@dataclass(frozen=True)
class ModelTotal:
    model: str
    currency: str
    status: str
    amount: float


@dataclass(frozen=True)
class MatchRow:
    method: str
    first: int
    current: int


@dataclass(frozen=True)
class FunnelStep:
    step: str
    label: str
    learners: int
    # share of the previous step's learners; None for the first step
    conversion: float | None


@dataclass
class ReportData:
    snapshot: str
    generated_at: datetime
    as_of: datetime | None = None
    # the model whose figures are written to HubSpot (fct_deals.attribution_model)
    written_model: str | None = None
    learners: int = 0
    matched: int = 0
    has_first_match: bool = False
    matches: list[MatchRow] = field(default_factory=list)
    company_matches: list[tuple[str, int]] = field(default_factory=list)
    conflicts: list[tuple[str, int]] = field(default_factory=list)
    revenue: list[RevenueRow] = field(default_factory=list)
    model_totals: list[ModelTotal] = field(default_factory=list)
    pivot: list[PivotCell] = field(default_factory=list)
    funnel: list[FunnelStep] = field(default_factory=list)
    pipeline_runs: int = 0
    # False for warehouses without sync_runs.pipeline_run_id: each sync is then its own run
    runs_grouped: bool = False
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def currencies(self) -> list[str]:
        return sorted({r.currency for r in self.revenue})

    def revenue_for(self, currency: str, status: str) -> RevenueRow | None:
        return next((r for r in self.revenue if (r.currency, r.status) == (currency, status)), None)

    def pivot_rows(self, currency: str) -> list[tuple[str, dict[str, float]]]:
        """(course, {model: closed-won amount}), biggest under the written model first."""
        rows: dict[str, dict[str, float]] = {}
        for c in self.pivot:
            if c.currency == currency:
                rows.setdefault(c.course, {})[c.model] = c.amount
        written = self.written_model or ""
        return sorted(rows.items(), key=lambda r: (-r[1].get(written, 0.0), r[0]))

    def pivot_top(self, currency: str, top: int) -> list[tuple[str, dict[str, float]]]:
        """The first `top` pivot rows, the rest summed into one "N other courses" row."""
        rows = self.pivot_rows(currency)
        if len(rows) <= top + 1:
            return rows
        rest: dict[str, float] = {}
        for _, amounts in rows[top:]:
            for model, amount in amounts.items():
                rest[model] = rest.get(model, 0.0) + amount
        return [*rows[:top], (f"{len(rows) - top} other courses", rest)]

    def model_total(self, model: str, currency: str, status: str) -> float:
        return sum(
            t.amount
            for t in self.model_totals
            if (t.model, t.currency, t.status) == (model, currency, status)
        )

    def models(self) -> list[str]:
        """Attribution models, the one written to HubSpot first."""
        names = {c.model for c in self.pivot} | {t.model for t in self.model_totals}
        return sorted(names, key=lambda m: (m != self.written_model, m))


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {r[0] for r in rows}


def _learners(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    if not table_exists(con, "marts", "dim_learners"):
        return
    # an older snapshot has no first_match_method: show the current method in its place
    data.has_first_match = "first_match_method" in _columns(con, "marts", "dim_learners")
    first = "first_match_method" if data.has_first_match else "match_method"
    row = con.execute(
        "select count(*), count(*) filter (where match_method <> 'none') from marts.dim_learners"
    ).fetchone()
    data.learners, data.matched = (int(row[0]), int(row[1])) if row else (0, 0)
    counts = con.execute(
        f"""
        select method, sum(is_first)::bigint, sum(is_current)::bigint from (
            select {first} as method, 1 as is_first, 0 as is_current from marts.dim_learners
            union all
            select match_method, 0, 1 from marts.dim_learners
        ) group by method
        """
    ).fetchall()
    order = {m: i for i, m in enumerate(MATCH_METHODS)}
    data.matches = sorted(
        (MatchRow(m, int(f), int(c)) for m, f, c in counts),
        key=lambda r: (order.get(r.method, len(order)), r.method),
    )
    data.company_matches = con.execute(
        "select company_match_method, count(*) from marts.dim_learners group by 1 order by 2 desc"
    ).fetchall()


def _conflicts(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    if table_exists(con, "marts", "identity_conflicts"):
        data.conflicts = con.execute(
            "select reason, count(*) from marts.identity_conflicts group by 1 order by 2 desc"
        ).fetchall()


def _revenue(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    if not table_exists(con, "marts", "fct_deals"):
        return
    head = con.execute("select max(as_of), min(attribution_model) from marts.fct_deals").fetchone()
    if head:
        data.as_of, data.written_model = head
    data.revenue = [
        RevenueRow(cur, status, int(n), float(amount), int(influenced), float(attributed))
        for cur, status, n, amount, influenced, attributed in con.execute(
            """
            select currency, deal_status, count(*), coalesce(sum(amount), 0),
                   count(*) filter (where lms_influenced), coalesce(sum(lms_attributed_amount), 0)
            from marts.fct_deals group by all order by all
            """
        ).fetchall()
    ]
    if not table_exists(con, "marts", "fct_deal_attribution"):
        return
    # Learning touches only: CRM touches (no course) take part of the credit in some models
    # but are not learning revenue.
    attribution = """
        marts.fct_deal_attribution a
        inner join marts.fct_deals d on a.deal_id = d.deal_id
        where a.course_id is not null
    """
    data.model_totals = [
        ModelTotal(model, cur, status, float(amount))
        for model, cur, status, amount in con.execute(
            f"""
            select a.attribution_model, d.currency, d.deal_status,
                   coalesce(sum(a.attributed_amount), 0)
            from {attribution} group by all order by all
            """
        ).fetchall()
    ]
    course = (
        "coalesce(a.course_name, a.course_id)"
        if "course_name" in _columns(con, "marts", "fct_deal_attribution")
        else "a.course_id"
    )
    data.pivot = [
        PivotCell(c, model, cur, float(amount), int(deals))
        for c, model, cur, amount, deals in con.execute(
            f"""
            select {course}, a.attribution_model, d.currency,
                   coalesce(sum(a.attributed_amount), 0), count(distinct a.deal_id)
            from {attribution} and d.deal_status = 'won'
            group by all order by all
            """
        ).fetchall()
    ]


def _funnel(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    if not table_exists(con, "marts", "fct_learning_events"):
        return
    reached = [
        f"bool_or(event_type = '{step}') as s{i}" for i, (step, _) in enumerate(FUNNEL_STEPS)
    ]
    cumulative = [
        "count(*) filter (where " + " and ".join(f"s{j}" for j in range(i + 1)) + ")"
        for i in range(len(FUNNEL_STEPS))
    ]
    row = con.execute(
        f"""
        with per_learner as (
            select learner_key, {", ".join(reached)}
            from marts.fct_learning_events group by learner_key
        )
        select {", ".join(cumulative)} from per_learner
        """
    ).fetchone()
    counts = [int(n) for n in row] if row else [0] * len(FUNNEL_STEPS)
    data.funnel = [
        FunnelStep(
            step,
            label,
            counts[i],
            None if i == 0 else (counts[i] / counts[i - 1] if counts[i - 1] else 0.0),
        )
        for i, (step, label) in enumerate(FUNNEL_STEPS)
    ]


def _runs(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    if not table_exists(con, "reverse_etl", "sync_runs"):
        return
    # One `lmsbridge run` writes one sync_runs row per sync; pipeline_run_id ties them
    # together. Older warehouses lack the column, and then each sync row is its own run.
    columns = _columns(con, "reverse_etl", "sync_runs")
    data.runs_grouped = "pipeline_run_id" in columns
    key = "coalesce(pipeline_run_id, run_id)" if data.runs_grouped else "run_id"
    row = con.execute(f"select count(distinct {key}) from reverse_etl.sync_runs").fetchone()
    data.pipeline_runs = int(row[0]) if row else 0
    cur = con.execute(
        f"""
        select min(started_at) as started, max(finished_at) as finished,
               string_agg(sync_name, ', ' order by started_at, sync_name) as syncs,
               bool_or(dry_run) as dry_run,
               sum(sent) as sent, sum(succeeded) as succeeded, sum(rejected) as rejected,
               sum(unchanged) as unchanged, sum(calls) as api_calls,
               sum(status_429) as throttled,
               case when bool_and(status = 'ok') then 'ok'
                    else string_agg(distinct status, ', ') filter (where status <> 'ok')
               end as status
        from reverse_etl.sync_runs
        group by {key}
        order by started desc
        limit {RECENT_RUNS}
        """
    )
    names = [d[0] for d in cur.description]
    data.runs = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def load_report_data(snapshot: Path) -> ReportData:
    data = ReportData(snapshot=str(snapshot), generated_at=datetime.now(UTC))
    with duckdb.connect(str(snapshot), read_only=True) as con:
        for load in (_learners, _conflicts, _revenue, _funnel, _runs):
            load(con, data)
    return data
