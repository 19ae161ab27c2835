"""Enumeration options read from the warehouse (options_from): config rules, the read, the
PATCH that adds what HubSpot lacks, and a new seed row reaching HubSpot end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from reverse_etl import run_syncs
from reverse_etl.config import SyncConfigError, load_config, parse_config
from reverse_etl.options import read_options, resolve_options
from reverse_etl.properties import OptionsUpdate
from reverse_etl.results import SyncAborted
from reverse_etl.values import InvalidValue, to_wire
from tests.reverse_etl.retl_support import deal_rows, list_all, seed_models, write_marts
from tests.reverse_etl.test_retl_sync_integration import DEFAULT_CONFIG, Hub, routes

PROPERTY_ROUTE = ("PATCH", "/crm/v3/properties/{object_type}/{property_name}")
FIELD = """
version: 1
syncs:
  - name: deals
    source: marts.rev_etl__hubspot_deals
    object_type: deals
    mode: update
    record_key: hubspot_deal_id
    id_column: hubspot_deal_id
    fields:
      lms_attribution_model: {property: lms_attribution_model, type: %s, field_type: %s%s}
"""
FROM = ", options_from: {table: marts.models, value: model, label: label}"
LISTED = ", options: [{label: Linear, value: linear}]"


def config(type_: str = "enumeration", field_type: str = "select", extra: str = FROM) -> Any:
    return parse_config(FIELD % (type_, field_type, extra))


@pytest.mark.parametrize(
    ("type_", "field_type", "extra", "message"),
    [
        ("enumeration", "select", FROM + LISTED, "either options or options_from, not both"),
        ("enumeration", "select", "", "needs its options: list them under options"),
        ("string", "text", FROM, "options are only allowed on enumeration properties"),
        ("enumeration", "select", FROM + ", hubspot_defined: true", "HubSpot owns its options"),
        ("enumeration", "select", FROM.replace("marts.models", "a.b.c"), "not a name like"),
        ("enumeration", "select", FROM.replace("value: model", "value: 'x y'"), "column name"),
    ],
)
def test_config_takes_exactly_one_source_of_options(
    type_: str, field_type: str, extra: str, message: str
) -> None:
    with pytest.raises(SyncConfigError, match=message) as err:
        config(type_, field_type, extra)
    assert "syncs.0.fields.lms_attribution_model" in str(err.value)


def test_a_hubspot_defined_enumeration_may_leave_its_options_to_hubspot() -> None:
    spec = config(extra=", hubspot_defined: true").syncs[0].fields["lms_attribution_model"]
    assert spec.options is None and spec.options_from is None


def models_table(rows: list[tuple[str | None, str | None]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("create schema marts")
    con.execute("create table marts.models (model varchar, label varchar, kind varchar)")
    for row in rows:
        con.execute("insert into marts.models values (?, ?, 'k')", list(row))
    return con


def test_options_are_read_per_value_and_drive_value_checks() -> None:
    con = models_table([("linear", "Linear"), ("first_touch", "First touch"), (None, "x")])
    sync = resolve_options(con, config().syncs[0])
    spec = sync.fields["lms_attribution_model"]
    assert [(o.value, o.label) for o in spec.options or ()] == [
        ("first_touch", "First touch"),
        ("linear", "Linear"),
    ]
    assert spec.options_from is not None  # kept: the fingerprint names where options came from
    assert to_wire(spec, "linear") == "linear"
    with pytest.raises(InvalidValue, match="'u_shaped_60d' was not one of the allowed"):
        to_wire(spec, "u_shaped_60d")
    # A new row is a new valid value, and a new fingerprint (property setup runs again).
    con.execute("insert into marts.models values ('u_shaped_60d', 'U-shaped 60d', 'k')")
    again = resolve_options(con, config().syncs[0])
    assert to_wire(again.fields["lms_attribution_model"], "u_shaped_60d") == "u_shaped_60d"
    assert again.fingerprint() != sync.fingerprint()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (None, "does not exist \\(run dbt build first"),
        ([], "has no rows"),
        ([("linear", "Linear"), ("linear", "Even")], "'linear' has two labels"),
    ],
)
def test_an_unusable_options_table_stops_the_sync(
    rows: list[tuple[str, str]] | None, message: str
) -> None:
    con = models_table(rows or [])
    if rows is None:
        con.execute("drop table marts.models")
    source = config().syncs[0].fields["lms_attribution_model"].options_from
    assert source is not None
    with pytest.raises(SyncAborted, match=message):
        read_options(con, source, "lms_attribution_model")


def test_patch_body_keeps_hubspot_options_and_appends_the_missing() -> None:
    con = models_table([("linear", "Linear"), ("u_shaped_60d", "U 60d")])
    spec = resolve_options(con, config().syncs[0]).fields["lms_attribution_model"]
    existing = [
        {"label": "Legacy", "value": "legacy", "displayOrder": 4, "hidden": True, "readOnly": 1},
        {"label": "Linear (renamed)", "value": "linear", "displayOrder": 0, "hidden": False},
    ]
    missing = [o for o in spec.options or () if o.value == "u_shaped_60d"]
    body = OptionsUpdate(spec, existing, missing).body()
    assert body == {
        "options": [
            {"label": "Legacy", "value": "legacy", "displayOrder": 4, "hidden": True},
            {"label": "Linear (renamed)", "value": "linear", "displayOrder": 0, "hidden": False},
            {"label": "U 60d", "value": "u_shaped_60d", "displayOrder": 5, "hidden": False},
        ]
    }


def property_options(hub: Hub) -> list[tuple[str, str]]:
    found = hub.api("GET", "/crm/v3/properties/deals/lms_attribution_model")
    assert found.status_code == 200, found.text
    return [(o["value"], o["label"]) for o in found.json()["options"]]


def test_a_new_seed_row_becomes_an_option_with_one_patch(fast_hub: Hub, tmp_path: Path) -> None:
    hub = fast_hub
    assert hub.config == DEFAULT_CONFIG
    models = seed_models()
    deals = deal_rows(hub.deals, 3)
    write_marts(hub.warehouse, {"rev_etl__hubspot_deals": deals})
    [first] = run_syncs(hub.settings(), only="deals")
    assert (first.status, first.succeeded) == ("ok", 3), first.error
    seeded = sorted((m["attribution_model"], m["label"]) for m in models)
    assert property_options(hub) == seeded  # created with the table's options

    # An analyst adds a variant (one seed row) and makes it the written model.
    variant = {"attribution_model": "u_shaped_60d", "label": "U-shaped 30/40/30 over 60 days"}
    for d in deals:
        d["lms_attribution_model"] = "u_shaped_60d"
    write_marts(
        hub.warehouse,
        {"rev_etl__hubspot_deals": deals, "dim_attribution_models": [*models, variant]},
    )
    hub.reset_calls()
    [planned] = run_syncs(hub.settings(), only="deals", dry_run=True)
    assert planned.plan is not None
    assert planned.plan.setup == ["add options ['u_shaped_60d'] to property lms_attribution_model"]
    assert routes(hub.calls())[PROPERTY_ROUTE] == 0  # a dry run only says so
    [second] = run_syncs(hub.settings(), only="deals")
    assert (second.status, second.succeeded, second.rejected) == ("ok", 3, 0), second.error
    assert routes(hub.calls())[PROPERTY_ROUTE] == 1
    # HubSpot's options stay first and in place (records may hold them); the new one follows.
    assert property_options(hub) == [*seeded, ("u_shaped_60d", variant["label"])]
    written = {
        d["id"]: d["properties"]["lms_attribution_model"]
        for d in list_all(hub.url, hub.token, "deals", ["lms_attribution_model"])
    }
    assert {written[d["hubspot_deal_id"]] for d in deals} == {"u_shaped_60d"}

    # Nothing missing: no PATCH, no property call at all.
    hub.reset_calls()
    [third] = run_syncs(hub.settings(), only="deals")
    assert (third.status, third.setup_calls) == ("ok", 0)
    assert routes(hub.calls())[PROPERTY_ROUTE] == 0


def test_an_existing_property_keeps_options_the_table_lacks(fast_hub: Hub) -> None:
    hub = fast_hub
    created = hub.api(
        "POST",
        "/crm/v3/properties/deals",
        {
            "name": "lms_attribution_model",
            "label": "LMS attribution model",
            "type": "enumeration",
            "fieldType": "select",
            "groupName": "dealinformation",
            "options": [
                {"label": "Legacy", "value": "legacy", "displayOrder": 0, "hidden": False},
                {"label": "Linear", "value": "linear", "displayOrder": 1, "hidden": False},
            ],
        },
    )
    assert created.status_code == 201, created.text
    write_marts(
        hub.warehouse,
        {
            "rev_etl__hubspot_deals": deal_rows(hub.deals, 1),
            "dim_attribution_models": [
                {"attribution_model": "linear", "label": "Linear"},
                {"attribution_model": "shapley", "label": "Shapley value"},
            ],
        },
    )
    [result] = run_syncs(hub.settings(), only="deals")
    assert result.status == "ok", result.error
    assert property_options(hub) == [
        ("legacy", "Legacy"),
        ("linear", "Linear"),
        ("shapley", "Shapley value"),
    ]
    assert routes(hub.calls())[PROPERTY_ROUTE] == 1


def test_a_missing_models_table_stops_only_the_deals_sync(fast_hub: Hub) -> None:
    hub = fast_hub
    write_marts(hub.warehouse, {"rev_etl__hubspot_deals": deal_rows(hub.deals, 1)})
    con = duckdb.connect(str(hub.warehouse))
    con.execute("drop table marts.dim_attribution_models")
    con.close()
    results = {r.name: r for r in run_syncs(hub.settings(), only=["deals", "notes"])}
    assert results["deals"].status == "error"
    assert "marts.dim_attribution_models" in (results["deals"].error or "")
    assert results["notes"].status == "ok"


def test_emulator_patch_refuses_duplicate_option_values(fast_hub: Hub) -> None:
    hub = fast_hub
    write_marts(hub.warehouse, {"rev_etl__hubspot_deals": deal_rows(hub.deals, 1)})
    [result] = run_syncs(hub.settings(), only="deals")
    assert result.status == "ok", result.error
    twice = {"label": "Linear", "value": "linear", "displayOrder": 0, "hidden": False}
    patched = hub.api(
        "PATCH", "/crm/v3/properties/deals/lms_attribution_model", {"options": [twice, twice]}
    )
    assert patched.status_code == 400
    assert patched.json()["category"] == "VALIDATION_ERROR"


def test_default_config_reads_models_from_the_published_mart() -> None:
    deals = next(s for s in load_config(DEFAULT_CONFIG).syncs if s.name == "deals")
    source = deals.fields["lms_attribution_model"].options_from
    assert source is not None and source.table == "marts.dim_attribution_models"
