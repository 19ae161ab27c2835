from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from reverse_etl.config import FieldSpec, Option
from reverse_etl.values import InvalidValue, to_wire


def spec(ptype: str, field_type: str, **kw: object) -> FieldSpec:
    return FieldSpec(property="p", type=ptype, field_type=field_type, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (1e-7, "0.0000001"),
        (1e20, "100000000000000000000"),
        (12.50, "12.5"),
        (3, "3"),
        (Decimal("1E+3"), "1000"),
        ("42.10", "42.10"),
        (-0.0, "0"),
    ],
)
def test_numbers_never_use_an_exponent(value: object, wire: str) -> None:
    assert to_wire(spec("number", "number"), value) == wire


@pytest.mark.parametrize("value", ["1.42e-14", "1,000", float("nan"), True])
def test_numbers_hubspot_rejects_are_invalid_locally(value: object) -> None:
    with pytest.raises(InvalidValue) as err:
        to_wire(spec("number", "number"), value)
    assert err.value.code == "INVALID_INTEGER"


def test_dates_must_be_midnight_utc() -> None:
    date_spec = spec("date", "date")
    assert to_wire(date_spec, date(2024, 5, 1)) == "2024-05-01"
    assert to_wire(date_spec, datetime(2024, 5, 1, tzinfo=UTC)) == "2024-05-01"
    with pytest.raises(InvalidValue, match="not midnight") as err:
        to_wire(date_spec, datetime(2024, 5, 1, 22, 18, 55, tzinfo=UTC))
    assert err.value.code == "INVALID_DATE"
    with pytest.raises(InvalidValue):
        to_wire(date_spec, "2024-13-01")


def test_datetimes_are_iso_utc_with_milliseconds() -> None:
    dt_spec = spec("datetime", "date")
    assert (
        to_wire(dt_spec, datetime(2024, 5, 1, 10, 15, 22, 123456, tzinfo=UTC))
        == "2024-05-01T10:15:22.123Z"
    )
    assert to_wire(dt_spec, datetime(2024, 5, 1, 10, 0)) == "2024-05-01T10:00:00.000Z"
    assert to_wire(dt_spec, "2024-05-01T12:00:00+02:00") == "2024-05-01T10:00:00.000Z"


def test_enumeration_values_must_be_declared_options() -> None:
    enum = spec("enumeration", "select", options=(Option(label="Linear", value="linear"),))
    assert to_wire(enum, "linear") == "linear"
    with pytest.raises(InvalidValue, match="allowed options") as err:
        to_wire(enum, "Linear")
    assert err.value.code == "INVALID_OPTION"


def test_bools_and_nulls() -> None:
    assert to_wire(spec("bool", "booleancheckbox"), True) == "true"
    assert to_wire(spec("bool", "booleancheckbox"), None) is None
    with pytest.raises(InvalidValue):
        to_wire(spec("bool", "booleancheckbox"), "yes")
