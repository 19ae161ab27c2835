"""HubSpot's calculated deal properties, recomputed on every write so search can filter on them.

Source: reference/hubspot-api.md section 9 (hs_is_closed / hs_is_closed_won come from the
stage's metadata in the pipeline: isClosed, probability; hs_v2_date_entered_<stageId> and
hs_v2_date_exited_<stageId> are set when a deal enters or leaves a stage; days_to_close,
hs_closed_amount, amount_in_home_currency are calculated). The portal has one currency, so
home-currency amounts equal the amount (exchange rate 1).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from .clock import ms_to_iso, parse_datetime_ms
from .pipelines import find_stage

DAY_MS = 86_400_000
# Every property this module may set; a value that no longer applies is cleared.
AMOUNT_PROPS = (
    "amount_in_home_currency",
    "hs_closed_amount",
    "hs_closed_amount_in_home_currency",
    "hs_projected_amount",
    "hs_projected_amount_in_home_currency",
    "hs_open_amount_in_home_currency",
    "hs_forecast_amount",
)

Setter = Callable[[str, str], None]  # (name, value); "" clears


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _decimal(raw: str | None) -> Decimal | None:
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def recompute_deal(
    props: dict[str, str], set_value: Setter, stamp: int, previous_stage: str | None
) -> None:
    """Derive the calculated properties from `props`; `stamp` is the write's time (ms)."""
    stage_id = props.get("dealstage")
    stage = find_stage("deals", stage_id) if stage_id else None
    closed = won = lost = False
    probability: Decimal | None = None
    if stage is not None:
        meta = stage.get("metadata", {})
        closed = meta.get("isClosed") == "true"
        probability = _decimal(meta.get("probability"))
        won = closed and probability == 1
        lost = closed and probability == 0
    set_value("hs_is_closed", _flag(closed))
    set_value("hs_is_closed_won", _flag(won))
    set_value("hs_is_closed_lost", _flag(lost))
    set_value("hs_is_open_count", "0" if closed else "1")
    set_value("hs_is_closed_count", "1" if closed else "0")
    set_value("hs_closed_won_count", "1" if won else "0")
    set_value("hs_deal_stage_probability", _number(probability) if probability is not None else "")

    amount = _decimal(props.get("amount"))
    values: dict[str, str] = dict.fromkeys(AMOUNT_PROPS, "")
    if amount is not None:
        weighted = _number(amount * probability) if probability is not None else ""
        values.update(
            amount_in_home_currency=_number(amount),
            hs_closed_amount=_number(amount) if won else "0",
            hs_closed_amount_in_home_currency=_number(amount) if won else "0",
            hs_projected_amount=weighted,
            hs_projected_amount_in_home_currency=weighted,
            hs_open_amount_in_home_currency="0" if closed else _number(amount),
            hs_forecast_amount=_number(amount),
        )
    for name, value in values.items():
        set_value(name, value)

    if stage_id and stage_id != previous_stage:
        entered = ms_to_iso(stamp)
        set_value(f"hs_v2_date_entered_{stage_id}", entered)
        set_value(f"hs_date_entered_{stage_id}", entered)
        if previous_stage:
            set_value(f"hs_v2_date_exited_{previous_stage}", entered)
            set_value(f"hs_date_exited_{previous_stage}", entered)
            since = parse_datetime_ms(props.get(f"hs_v2_date_entered_{previous_stage}", ""))
            if since is not None:
                set_value(f"hs_time_in_{previous_stage}", str(max(0, stamp - since)))
    if won and not props.get("hs_closed_won_date"):
        set_value("hs_closed_won_date", props.get("closedate") or ms_to_iso(stamp))
    elif not won:
        set_value("hs_closed_won_date", "")

    created = parse_datetime_ms(props.get("createdate", ""))
    close = parse_datetime_ms(props.get("closedate", ""))
    if created is not None and close is not None:
        raw = (close - created) / DAY_MS
        set_value("hs_days_to_close_raw", _number(Decimal(str(round(raw, 6)))))
        set_value("days_to_close", str(max(0, int(raw))))
    else:
        set_value("hs_days_to_close_raw", "")
        set_value("days_to_close", "")
