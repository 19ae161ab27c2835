"""extract.dataset_source: a dataset directory lands the way the production extract lands it."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from extract.dataset_source import land_dataset
from tests.dbt.tiny_dataset import AS_OF, write_tiny_dataset

LANDED_AS_OF = datetime.fromisoformat(AS_OF)


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dataset_source")
    dataset = write_tiny_dataset(root / "dataset")
    warehouse = root / "lmsbridge.duckdb"
    land_dataset(dataset, warehouse, as_of=LANDED_AS_OF)
    return dataset, warehouse


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def test_webhooks_get_the_receivers_delivery_id_and_the_landing_time(
    landed: tuple[Path, Path],
) -> None:
    dataset, warehouse = landed
    bodies = [
        line
        for line in (dataset / "lms" / "webhooks.jsonl").read_bytes().splitlines()
        if line.strip()
    ]
    expected = {(hashlib.sha256(body).hexdigest(), LANDED_AS_OF) for body in bodies}
    rows = _query(warehouse, "select delivery_id, received_at from raw_lms.webhook_events")
    assert len(rows) == len(bodies)
    assert set(rows) == expected


def test_contract_properties_are_typed_without_a_definition(landed: tuple[Path, Path]) -> None:
    """The tiny dataset defines no HubSpot properties: the contract's declared types apply."""
    dataset, warehouse = landed
    assert not (dataset / "hubspot" / "properties.jsonl").exists()
    types = dict(
        _query(
            warehouse,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_hubspot' and table_name = 'deals'",
        )
    )
    assert types["amount"] == "DOUBLE"
    assert types["closedate"] == "TIMESTAMP WITH TIME ZONE"
    assert types["archived"] == "BOOLEAN"


def test_every_live_record_gets_an_association_parent_row(landed: tuple[Path, Path]) -> None:
    """As the API source reads associations for each unarchived record, edges or not."""
    _, warehouse = landed
    missing = _query(
        warehouse,
        "select c.id from raw_hubspot.contacts c where not c.archived and not exists ("
        " select 1 from raw_hubspot.associations a where a.from_object_type = 'contacts'"
        " and a.to_object_type = 'companies' and a.from_id = c.id)",
    )
    assert missing == []
    archived = _query(
        warehouse,
        "select a.from_id from raw_hubspot.associations a join raw_hubspot.contacts c"
        " on a.from_object_type = 'contacts' and a.from_id = c.id where c.archived",
    )
    assert archived == []


def test_an_existing_warehouse_is_refused(tmp_path: Path) -> None:
    warehouse = tmp_path / "lmsbridge.duckdb"
    warehouse.write_bytes(b"")
    with pytest.raises(FileExistsError, match="needs a new warehouse"):
        land_dataset(tmp_path / "dataset", warehouse, as_of=LANDED_AS_OF)
