"""`lmsbridge report`: one static HTML file from the published BI snapshot.

Self-contained on purpose (plotly.js inlined, no CDN): it opens offline and can be mailed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape

from lmsbridge_core.dbt_invocation import DbtInvocation
from lmsbridge_core.settings import Settings
from lmsbridge_core.warehouse import table_exists

FUNNEL_STEPS = ["enrolled", "completed", "certificate_issued", "purchase"]


@dataclass
class ReportData:
    snapshot: str
    generated_at: str
    learners: int = 0
    attribution: list[tuple[str, str, float, int]] = field(default_factory=list)
    matches: list[tuple[str, int]] = field(default_factory=list)
    company_matches: list[tuple[str, int]] = field(default_factory=list)
    conflicts: list[tuple[str, int]] = field(default_factory=list)
    funnel: list[tuple[str, int]] = field(default_factory=list)
    sync_runs: list[dict[str, Any]] = field(default_factory=list)


def load_report_data(snapshot: Path) -> ReportData:
    data = ReportData(
        snapshot=str(snapshot), generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
    with duckdb.connect(str(snapshot), read_only=True) as con:
        if table_exists(con, "marts", "dim_learners"):
            data.learners = con.execute("select count(*) from marts.dim_learners").fetchone()[0]  # type: ignore[index]
            data.matches = con.execute(
                "select match_method, count(*) from marts.dim_learners group by 1 order by 2 desc"
            ).fetchall()
            data.company_matches = con.execute(
                "select company_match_method, count(*) from marts.dim_learners group by 1 order by 2 desc"
            ).fetchall()
        if table_exists(con, "marts", "identity_conflicts"):
            data.conflicts = con.execute(
                "select reason, count(*) from marts.identity_conflicts group by 1 order by 2 desc"
            ).fetchall()
        if table_exists(con, "marts", "fct_learning_events"):
            counts = dict(
                con.execute(
                    "select event_type, count(distinct learner_key) from marts.fct_learning_events group by 1"
                ).fetchall()
            )
            data.funnel = [(step, int(counts.get(step, 0))) for step in FUNNEL_STEPS]
        if table_exists(con, "marts", "fct_deal_attribution"):
            names = (
                "(select course_id, any_value(course_name) as course_name "
                "from marts.fct_learning_events group by 1)"
                if table_exists(con, "marts", "fct_learning_events")
                else "(select null::text as course_id, null::text as course_name where false)"
            )
            data.attribution = con.execute(
                f"""
                select coalesce(n.course_name, a.course_id) as course, a.attribution_model,
                       coalesce(sum(a.attributed_amount), 0) as amount,
                       count(distinct a.deal_id) as deals
                from marts.fct_deal_attribution a left join {names} n using (course_id)
                group by all order by amount desc
                """
            ).fetchall()
        if table_exists(con, "reverse_etl", "sync_runs"):
            cur = con.execute(
                "select started_at, sync_name, status, dry_run, sent, succeeded, rejected, "
                "unchanged, calls, status_429, duration_s from reverse_etl.sync_runs "
                "order by started_at desc limit 50"
            )
            columns = [d[0] for d in cur.description]
            data.sync_runs = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    return data


def _figures(data: ReportData) -> dict[str, str]:
    """HTML snippets; plotly.js is embedded once, in the first figure."""
    figs: dict[str, go.Figure] = {}
    if data.attribution:
        models = sorted({m for _, m, _, _ in data.attribution})
        top_courses = []
        for course, _, _, _ in data.attribution:
            if course not in top_courses:
                top_courses.append(course)
        top_courses = top_courses[:15]
        fig = go.Figure()
        for model in models:
            amounts = {c: a for c, m, a, _ in data.attribution if m == model}
            fig.add_bar(name=model, x=top_courses, y=[amounts.get(c, 0) for c in top_courses])
        fig.update_layout(
            barmode="group", title="Attributed revenue by course and model", yaxis_title="amount"
        )
        figs["attribution"] = fig
    if data.matches:
        fig = go.Figure(go.Bar(x=[m for m, _ in data.matches], y=[n for _, n in data.matches]))
        fig.update_layout(title="Learners by contact match method", yaxis_title="learners")
        figs["matches"] = fig
    if data.funnel:
        fig = go.Figure(go.Funnel(y=[s for s, _ in data.funnel], x=[n for _, n in data.funnel]))
        fig.update_layout(title="Learning funnel (distinct learners)")
        figs["funnel"] = fig
    html: dict[str, str] = {}
    first = True
    for name, fig in figs.items():
        fig.update_layout(
            template="plotly_white", height=420, margin={"t": 60, "l": 60, "r": 20, "b": 120}
        )
        html[name] = fig.to_html(
            full_html=False, include_plotlyjs=first, config={"displaylogo": False}
        )
        first = False
    return html


def generate_dbt_docs(settings: Settings, snapshot: Path, out_dir: Path) -> Path | None:
    """`dbt docs generate --static` against a private copy of the snapshot.

    A copy because dbt-duckdb opens its database read-write, which a BI reader of the
    snapshot would block (and the snapshot must stay untouched).
    """
    with tempfile.TemporaryDirectory(prefix="lmsbridge-docs-") as tmp:
        db_copy = Path(tmp) / snapshot.name
        shutil.copyfile(snapshot, db_copy)
        dbt = DbtInvocation(
            warehouse=db_copy, work_dir=Path(tmp), project_dir=settings.dbt_project_dir.resolve()
        )
        result = dbt.invoke(["docs", "generate", "--static"])
        target = dbt.target_dir
        page = target / "static_index.html"
        if not (result.success and page.exists()):
            return None
        # Only the single-file page is kept: manifests and compiled SQL stay in the temp dir.
        final = out_dir / "dbt-docs.html"
        shutil.copyfile(page, final)
    return final


def write_report(settings: Settings, out: Path, *, with_dbt_docs: bool = True) -> Path:
    snapshot = settings.published_warehouse_path
    if not snapshot.exists():
        raise FileNotFoundError(
            f"no published snapshot at {snapshot}: run `lmsbridge run` (or `lmsbridge build`) first"
        )
    data = load_report_data(snapshot)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    docs_link = None
    if with_dbt_docs:
        docs = generate_dbt_docs(settings, snapshot, out.parent)
        docs_link = os.path.relpath(docs, out.parent) if docs else None
    html = render(data, _figures(data), docs_link)
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    return out


def render(data: ReportData, figures: dict[str, str], docs_link: str | None) -> str:
    env = Environment(
        loader=PackageLoader("lmsbridge_cli", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    matched = sum(n for m, n in data.matches if m != "none")
    return env.get_template("report.html.j2").render(
        data=data,
        figures=figures,
        docs_link=docs_link,
        match_rate=(matched / data.learners) if data.learners else None,
        matched=matched,
    )
