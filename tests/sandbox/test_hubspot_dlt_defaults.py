"""dlt's HubSpot default resources, built with dlt's own REST machinery, load from the emulator.

dlt's verified `hubspot()` source (what `dlt init hubspot duckdb` copies) reads, by default:
contacts, companies, deals, tickets, products and quotes (all property names from
`/crm/v3/properties/{type}`, then `/crm/v3/objects/{type}?properties=...&associations=...`
paged on `paging.next.after`), property history (`propertiesWithHistory`, pages of 50), owners
and the deal and ticket pipelines with their stages. That source's code is not ours to copy, so
this test rebuilds the same call pattern from `RESTClient` inside `@dlt.resource`s and runs a
real duckdb pipeline against a real emulator server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import dlt
import duckdb
import pytest
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from requests import Response

from tests.sandbox.hubspot_support import TOKEN, Api

CRM_OBJECTS = ("contacts", "companies", "deals", "tickets", "products", "quotes")
EMPTY_OBJECTS = ("tickets", "products", "quotes")
HISTORY_OBJECTS = ("contacts", "deals")
PIPELINE_OBJECTS = ("deals", "tickets")
# HubSpot refuses over-long URLs with 414 (reference section 2).
MAX_URL = 2000
# Room for the `after` cursor that paging adds to a chunk's URL.
CURSOR_ROOM = len("&after=") + 20
EXTRA_CONTACTS = 90


def _url(base: str, path: str, params: dict[str, Any]) -> str:
    return f"{base}{path}?{urlencode(params)}"


def _chunks(
    base: str, path: str, names: list[str], fixed: dict[str, Any], key: str
) -> list[list[str]]:
    """Split property names so each request URL (cursor included) stays under MAX_URL."""
    chunks: list[list[str]] = []
    current: list[str] = []
    for name in names:
        trial = [*current, name]
        if (
            current
            and len(_url(base, path, {key: ",".join(trial), **fixed})) + CURSOR_ROOM >= MAX_URL
        ):
            chunks.append(current)
            trial = [name]
        current = trial
    if current:
        chunks.append(current)
    return chunks


def hubspot_defaults(base_url: str, token: str, urls: list[str]) -> Any:
    """The default resources as a dlt source; every request URL is appended to `urls`."""
    client = RESTClient(
        base_url=base_url,
        auth=BearerTokenAuth(token),
        paginator=JSONResponseCursorPaginator(
            cursor_path="paging.next.after", cursor_param="after"
        ),
        data_selector="results",
    )

    def checked(response: Response, *args: Any, **kwargs: Any) -> None:
        urls.append(response.url)
        response.raise_for_status()

    hooks: dict[str, Any] = {"response": [checked]}

    def get(path: str) -> dict[str, Any]:
        resp = client.get(path)
        checked(resp)
        body: dict[str, Any] = resp.json()
        return body

    def property_names(object_type: str) -> list[str]:
        return [p["name"] for p in get(f"/crm/v3/properties/{object_type}")["results"]]

    def read_objects(object_type: str) -> Iterator[dict[str, Any]]:
        path = f"/crm/v3/objects/{object_type}"
        others = ",".join(t for t in CRM_OBJECTS if t != object_type)
        fixed = {"associations": others, "limit": 100}
        merged: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(base_url, path, property_names(object_type), fixed, "properties"):
            params = {"properties": ",".join(chunk), **fixed}
            for page in client.paginate(path, params=params, hooks=hooks):
                for item in page:
                    seen = merged.setdefault(item["id"], item)
                    if seen is not item:
                        seen["properties"].update(item["properties"])
        yield from merged.values()

    def read_history(object_type: str) -> Iterator[dict[str, Any]]:
        path = f"/crm/v3/objects/{object_type}"
        fixed = {"limit": 50}
        names = property_names(object_type)
        for chunk in _chunks(base_url, path, names, fixed, "propertiesWithHistory"):
            params = {"propertiesWithHistory": ",".join(chunk), **fixed}
            for page in client.paginate(path, params=params, hooks=hooks):
                for item in page:
                    for name, versions in item.get("propertiesWithHistory", {}).items():
                        for version in versions:
                            yield {"object_id": item["id"], "property_name": name, **version}

    resources = []
    for object_type in CRM_OBJECTS:
        resources.append(
            dlt.resource(
                read_objects(object_type),
                name=object_type,
                primary_key="id",
                write_disposition="replace",
            )
        )
    for object_type in HISTORY_OBJECTS:
        resources.append(
            dlt.resource(
                read_history(object_type),
                name=f"{object_type}_property_history",
                write_disposition="replace",
            )
        )

    @dlt.resource(name="owners", primary_key="id", write_disposition="replace")
    def owners() -> Iterator[Any]:
        yield from client.paginate("/crm/v3/owners", params={"limit": 100}, hooks=hooks)

    resources.append(owners)
    for object_type in PIPELINE_OBJECTS:
        resources.append(
            dlt.resource(
                iter(get(f"/crm/v3/pipelines/{object_type}")["results"]),
                name=f"pipelines_{object_type}",
                primary_key="id",
                write_disposition="replace",
            )
        )

    @dlt.source(name="hubspot")
    def source() -> Any:
        return resources

    return source()


def _count(db: duckdb.DuckDBPyConnection, table: str) -> int:
    row = db.execute(f"select count(*) from hubspot_data.{table}").fetchone()
    assert row is not None
    return int(row[0])


def _tables(db: duckdb.DuckDBPyConnection) -> set[str]:
    rows = db.execute(
        "select table_name from information_schema.tables where table_schema = 'hubspot_data'"
    ).fetchall()
    return {r[0] for r in rows}


def test_default_resources_load_into_duckdb(hs: Api, hs_url: str, tmp_path: Path) -> None:
    # Enough contacts that both the 100-record pages and the 50-record history pages follow
    # `paging.next.after`.
    created = hs.post(
        "/crm/v3/objects/contacts/batch/create",
        json={
            "inputs": [
                {"properties": {"email": f"extra{i}@example.com", "firstname": f"Extra{i}"}}
                for i in range(EXTRA_CONTACTS)
            ]
        },
    )
    assert created.status_code == 201, created.text
    counts = hs.get("/_sandbox/state").json()["counts"]
    assert counts["contacts"] > 100
    assert counts["contacts"] > 0 and counts["companies"] > 0 and counts["deals"] > 0
    assert all(counts[t] == 0 for t in EMPTY_OBJECTS)

    urls: list[str] = []
    db_path = tmp_path / "hubspot.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="hubspot_defaults",
        pipelines_dir=str(tmp_path / "dlt"),
        destination=dlt.destinations.duckdb(str(db_path)),
        dataset_name="hubspot_data",
    )
    info = pipeline.run(hubspot_defaults(hs_url, TOKEN, urls))
    assert not info.has_failed_jobs

    # Every default call was made, and chunking kept every URL short enough for HubSpot.
    paths = {u.split("?")[0].removeprefix(hs_url) for u in urls}
    for object_type in CRM_OBJECTS:
        assert f"/crm/v3/properties/{object_type}" in paths
        assert f"/crm/v3/objects/{object_type}" in paths
    assert {"/crm/v3/owners", "/crm/v3/pipelines/deals", "/crm/v3/pipelines/tickets"} <= paths
    assert max(len(u) for u in urls) < MAX_URL
    contact_pages = [u for u in urls if "/crm/v3/objects/contacts?properties=" in u]
    first_pages = [u for u in contact_pages if "after=" not in u]
    assert len(first_pages) > 1, "the contact property list should need several chunks"
    # Each chunk is read in two pages, the second through the cursor.
    assert len(contact_pages) == 2 * len(first_pages)
    history_pages = [u for u in urls if "/crm/v3/objects/contacts?propertiesWithHistory=" in u]
    assert sum("after=" in u for u in history_pages) >= 2 * sum(
        "after=" not in u for u in history_pages
    )

    with duckdb.connect(str(db_path), read_only=True) as db:
        tables = _tables(db)
        for object_type in ("contacts", "companies", "deals"):
            assert _count(db, object_type) == counts[object_type], object_type
        # Empty types load nothing (dlt creates no table for a resource that yielded no rows).
        for object_type in EMPTY_OBJECTS:
            assert object_type not in tables or _count(db, object_type) == 0, object_type

        # Every property a contact holds arrives, merged across the chunks.
        held = hs.get("/_sandbox/state", params={"object": "contacts"}).json()["records"]
        first = next(r for r in held if r["id"] == "1000")
        cursor = db.execute("select * from hubspot_data.contacts where id = '1000'")
        columns = [d[0] for d in cursor.description]
        loaded = dict(zip(columns, cursor.fetchone() or (), strict=True))
        expected = {n for n, v in first["properties"].items() if v not in (None, "")}
        chunk_of = {
            name: i
            for i, u in enumerate(first_pages)
            for name in parse_qs(urlsplit(u).query)["properties"][0].split(",")
        }
        assert len({chunk_of[n] for n in expected}) > 1, "values should span several chunks"
        got = {c.removeprefix("properties__") for c, v in loaded.items() if v is not None}
        assert expected <= got, sorted(expected - got)
        assert loaded["properties__firstname"] == "First0"

        # Associations asked for with `associations=` come back nested under each deal.
        deal_contacts = db.execute(
            "select d.id, a.id from hubspot_data.deals d "
            "join hubspot_data.deals__associations__contacts__results a "
            "on a._dlt_parent_id = d._dlt_id"
        ).fetchall()
        assert {("5000", "1000"), ("5005", "1005")} <= set(deal_contacts)
        contact_companies = db.execute(
            "select count(distinct c.id) from hubspot_data.contacts c "
            "join hubspot_data.contacts__associations__companies__results a "
            "on a._dlt_parent_id = c._dlt_id"
        ).fetchone()
        assert contact_companies is not None and contact_companies[0] > 0

        # Owners and both pipelines, stages in their child tables.
        assert _count(db, "owners") == counts["owners"]
        for object_type in PIPELINE_OBJECTS:
            assert _count(db, f"pipelines_{object_type}") > 0, object_type
            assert _count(db, f"pipelines_{object_type}__stages") > 0, object_type
        won = db.execute(
            "select s.id from hubspot_data.pipelines_deals p "
            "join hubspot_data.pipelines_deals__stages s on s._dlt_parent_id = p._dlt_id "
            "where p.id = 'default' and s.id = 'closedwon'"
        ).fetchall()
        assert won == [("closedwon",)]

        # Property history: one row per version, each with a timestamp and a sourceType.
        for object_type in HISTORY_OBJECTS:
            table = f"{object_type}_property_history"
            assert _count(db, table) > 0, table
            missing = db.execute(
                f"select count(*) from hubspot_data.{table} "
                "where timestamp is null or source_type is null or source_type = ''"
            ).fetchone()
            assert missing == (0,), table
        firstname = db.execute(
            "select value, source_type from hubspot_data.contacts_property_history "
            "where object_id = '1001' and property_name = 'firstname'"
        ).fetchall()
        assert firstname == [("First1", "IMPORT")]
        histories = db.execute(
            "select count(distinct object_id) from hubspot_data.contacts_property_history"
        ).fetchone()
        assert histories == (counts["contacts"],)


@pytest.fixture(autouse=True)
def _no_dlt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep dlt's state and config lookups inside the test's tmp dir."""
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt_data"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
