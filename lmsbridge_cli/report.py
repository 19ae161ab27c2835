"""`lmsbridge report`: one static HTML file from the published BI snapshot.

The data comes from report_data, the way values read from report_format; this module draws
the charts and writes the page.

Self-contained on purpose (plotly.js inlined, no CDN): it opens offline and can be mailed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape

from lmsbridge_cli import report_format
from lmsbridge_cli.report_data import DEAL_STATUSES, ReportData, load_report_data
from lmsbridge_core.dbt_invocation import DbtInvocation
from lmsbridge_core.settings import Settings

__all__ = ["ReportData", "load_report_data", "render", "write_report"]

TOP_COURSES = 15  # in the pivot chart
TABLE_COURSES = 10  # in the pivot table before "N other courses" (all of them in a <details>)
WRITTEN_COLOR = "#1f6feb"
OTHER_COLORS = ["#9db4d0", "#c6a7d8", "#a8d5b9", "#f0c39a", "#d9d9d9", "#e6b0aa"]
# pixels per chart: the page should read top to bottom without scrolling inside a chart
HEIGHTS = {"revenue": 340, "pivot": 440, "matches": 320, "funnel": 300}
STATUS_COLORS = {"won": "#2e8b57", "open": "#d4a017", "lost": "#b22222"}


def _main_currency(data: ReportData) -> str | None:
    """The currency with the most closed-won revenue: charts show one currency, tables all."""
    won = {
        c: sum(r.amount for r in data.revenue if r.currency == c and r.status == "won")
        for c in data.currencies
    }
    return max(won, key=lambda c: (won[c], c)) if won else None


def _revenue_figure(data: ReportData, currency: str) -> go.Figure:
    rows = [data.revenue_for(currency, s) for s in DEAL_STATUSES]
    fig = go.Figure()
    fig.add_bar(
        name="deal amount",
        x=list(DEAL_STATUSES),
        y=[r.amount if r else 0 for r in rows],
        marker_color=[STATUS_COLORS[s] for s in DEAL_STATUSES],
        opacity=0.45,
    )
    fig.add_bar(
        name=f"learning-attributed ({data.written_model})",
        x=list(DEAL_STATUSES),
        y=[r.attributed if r else 0 for r in rows],
        marker_color=[STATUS_COLORS[s] for s in DEAL_STATUSES],
    )
    fig.update_layout(
        barmode="group",
        title=f"Deal amount and learning-attributed revenue by status ({currency})",
        yaxis_title=currency,
        showlegend=True,
    )
    return fig


def _pivot_figure(data: ReportData, currency: str) -> go.Figure:
    cells = [c for c in data.pivot if c.currency == currency]
    written = {c.course: c.amount for c in cells if c.model == data.written_model}
    courses = sorted({c.course for c in cells}, key=lambda c: (-written.get(c, 0.0), c))
    courses = courses[:TOP_COURSES]
    fig = go.Figure()
    others = iter(OTHER_COLORS * 3)
    for model in data.models():
        amounts = {c.course: c.amount for c in cells if c.model == model}
        is_written = model == data.written_model
        fig.add_bar(
            name=f"{model} (written to HubSpot)" if is_written else model,
            x=courses,
            y=[amounts.get(c, 0.0) for c in courses],
            marker_color=WRITTEN_COLOR if is_written else next(others),
            marker_line={"width": 1.5 if is_written else 0, "color": "#0b3d91"},
        )
    fig.update_layout(
        barmode="group",
        yaxis_title=currency,
        title=f"Closed-won revenue attributed to learning, by course and model ({currency})",
    )
    return fig


def _figures(data: ReportData) -> dict[str, str]:
    """HTML snippets; plotly.js is embedded once, in the first figure."""
    figs: dict[str, go.Figure] = {}
    currency = _main_currency(data)
    if currency:
        figs["revenue"] = _revenue_figure(data, currency)
    if currency and data.pivot:
        figs["pivot"] = _pivot_figure(data, currency)
    if data.matches:
        fig = go.Figure()
        methods = [m.method for m in data.matches]
        fig.add_bar(name="first match", x=methods, y=[m.first for m in data.matches])
        fig.add_bar(name="current match", x=methods, y=[m.current for m in data.matches])
        fig.update_layout(
            barmode="group", title="Learners by contact match method", yaxis_title="learners"
        )
        figs["matches"] = fig
    if data.funnel:
        fig = go.Figure(
            go.Funnel(
                y=[s.label for s in data.funnel],
                x=[s.learners for s in data.funnel],
                text=[
                    f"{s.learners:,}"
                    + ("" if s.conversion is None else f" ({s.conversion:.1%} of previous)")
                    for s in data.funnel
                ],
                textinfo="text",
            )
        )
        fig.update_layout(title="Learning funnel (distinct learners, each step within the last)")
        figs["funnel"] = fig
    html: dict[str, str] = {}
    first = True
    for name, fig in figs.items():
        # only the pivot's long, slanted course names need a deep bottom margin
        fig.update_layout(
            template="plotly_white",
            height=HEIGHTS[name],
            margin={"t": 60, "l": 60, "r": 20, "b": 140 if name == "pivot" else 50},
            yaxis_tickformat=",",
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
    env = report_format.install(
        Environment(
            loader=PackageLoader("lmsbridge_cli", "templates"),
            autoescape=select_autoescape(["html", "j2"]),
        )
    )
    return env.get_template("report.html.j2").render(
        data=data,
        figures=figures,
        docs_link=docs_link,
        statuses=DEAL_STATUSES,
        top_courses=TABLE_COURSES,
        match_rate=(data.matched / data.learners) if data.learners else None,
    )
