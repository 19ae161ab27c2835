"""Pure HubSpot helpers: property-list chunking and typing wire strings from definitions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from extract.hubspot_api import chunk_properties
from extract.hubspot_source import convert


def test_property_chunks_stay_under_the_limit_and_keep_every_name():
    names = [f"custom_property_number_{i:04d}" for i in range(300)]
    chunks = chunk_properties(names, limit=2000)
    assert len(chunks) > 1
    assert all(len(",".join(c)) <= 2000 for c in chunks)
    assert [n for c in chunks for n in c] == names


def test_one_chunk_when_the_list_is_short():
    assert chunk_properties(["email", "firstname"]) == [["email", "firstname"]]


def test_wire_strings_become_typed_values():
    assert convert("number", "1500.50") == 1500.5
    assert convert("number", "") is None
    assert convert("bool", "true") is True
    assert convert("bool", "false") is False
    assert convert("datetime", "2024-05-02T08:00:01.456Z") == datetime(
        2024, 5, 2, 8, 0, 1, 456000, tzinfo=UTC
    )
    assert convert("datetime", "1714636801456") == datetime(2024, 5, 2, 8, 0, 1, 456000, tzinfo=UTC)
    assert convert("date", "2024-06-30") == date(2024, 6, 30)
    assert convert("date", "1430438400000") == date(2015, 5, 1)
    assert convert("string", "x") == "x"


def test_unparseable_values_are_kept_not_dropped():
    assert convert("number", "12,5") == "12,5"
    assert convert("date", "soon") == "soon"
