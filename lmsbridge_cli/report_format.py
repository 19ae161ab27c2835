"""How values read in the HTML report: the Jinja filters, one place for every table and card."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from jinja2 import Environment


def timestamp(value: datetime | date | str | None) -> str:
    """`2026-12-02 14:05 UTC`; naive datetimes are taken as UTC (DuckDB's timestamptz
    comes back aware, a plain timestamp column does not)."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def number(value: float | int | Decimal | None, decimals: int = 0) -> str:
    return "" if value is None else f"{value:,.{decimals}f}"


def money(value: float | int | Decimal | None, currency: str) -> str:
    """Whole units: report figures are totals, and cents would only add noise."""
    return "" if value is None else f"{currency} {value:,.0f}"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def cell(value: Any) -> str:
    """A table cell of unknown type: booleans before numbers (bool is an int in Python)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, datetime | date):
        return timestamp(value)
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float | Decimal):
        return number(value, 2)
    return str(value)


def install(env: Environment) -> Environment:
    env.filters.update(
        timestamp=timestamp, yes_no=yes_no, number=number, money=money, percent=percent, cell=cell
    )
    return env
