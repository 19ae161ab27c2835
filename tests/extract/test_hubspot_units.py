"""Pure HubSpot helpers: typing wire strings, the changed-records search."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from extract import hubspot_source
from extract.hubspot_source import ChangedSearch, convert


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


class FakeSearch:
    """HubSpot's search endpoint over (id, last-modified ms) pairs, offset-paged with a cap."""

    def __init__(self, records: list[tuple[int, int]], cap: int) -> None:
        self.records = records
        self.cap = cap
        self.bodies: list[dict[str, Any]] = []

    def json(self, method: str, path: str, *, json: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(json)
        hits = [
            r
            for r in self.records
            if all(_matches(r, f) for f in json["filterGroups"][0]["filters"])
        ]
        by_id = json["sorts"][0]["propertyName"] == "hs_object_id"
        hits.sort(key=lambda r: r[0] if by_id else (r[1], r[0]))
        offset = int(json.get("after", 0))
        assert offset < self.cap, "search past the offset cap"
        page = hits[offset : offset + json["limit"]]
        more = offset + json["limit"] < len(hits)
        return {
            "results": [
                {"id": str(i), "properties": {"lastmodifieddate": str(ms), "hs_object_id": str(i)}}
                for i, ms in page
            ],
            "paging": {"next": {"after": str(offset + json["limit"])}} if more else {},
        }


def _matches(record: tuple[int, int], f: dict[str, str]) -> bool:
    value = record[0] if f["propertyName"] == "hs_object_id" else record[1]
    wanted = int(f["value"])
    return {"GT": value > wanted, "GTE": value >= wanted, "EQ": value == wanted}[f["operator"]]


def test_changed_search_restarts_at_the_cap_and_walks_a_crowded_millisecond_by_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hubspot_source, "SEARCH_CAP", 6)
    monkeypatch.setattr(hubspot_source, "SEARCH_PAGE", 2)
    # 9 records in one millisecond (more than the cap), then a spread-out tail.
    records = [(i, 1_000) for i in range(1, 10)] + [(100 + i, 2_000 + i) for i in range(12)]
    api = FakeSearch(records, cap=6)
    search = ChangedSearch(cast(Any, api), "contacts", "lastmodifieddate", 1_000)
    found = search.run()
    assert found == {str(i): ms for i, ms in records}
    assert search.cursor > 2_000 and not search.past_cursor
    operators = [[f["operator"] for f in b["filterGroups"][0]["filters"]] for b in api.bodies]
    assert ["EQ", "GT"] in operators and ["GT"] in operators
