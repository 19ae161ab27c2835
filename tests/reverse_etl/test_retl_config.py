from pathlib import Path

import pytest

from reverse_etl.config import SyncConfigError, load_config, parse_config

DEFAULT = Path(__file__).resolve().parents[2] / "reverse_etl" / "syncs.yml"

MINIMAL = """
version: 1
syncs:
  - name: deals
    source: marts.rev_etl__hubspot_deals
    object_type: deals
    mode: update
    record_key: hubspot_deal_id
    id_column: hubspot_deal_id
    fields:
      lms_touch_count: {property: lms_touch_count, type: number, field_type: %s}
"""


def test_default_config_declares_the_four_syncs() -> None:
    config = load_config(DEFAULT)
    assert [s.name for s in config.syncs] == ["contacts", "deals", "tasks", "notes"]
    tasks = next(s for s in config.syncs if s.name == "tasks")
    assert tasks.id_property == "lms_task_key"
    assert any(f.unique and f.property == "lms_task_key" for f in tasks.fields.values())
    contacts = config.syncs[0]
    assert contacts.create_missing_contacts is False


def test_type_and_field_type_mismatch_names_the_field() -> None:
    with pytest.raises(SyncConfigError) as err:
        parse_config(MINIMAL % "text")
    message = str(err.value)
    assert "syncs.0.fields.lms_touch_count" in message
    assert "field_type 'text' does not fit type 'number'" in message


def test_wrong_version_is_rejected_with_its_location() -> None:
    with pytest.raises(SyncConfigError, match="version"):
        parse_config((MINIMAL % "number").replace("version: 1", "version: 2"))


def test_upsert_needs_a_unique_id_property() -> None:
    text = (MINIMAL % "number").replace(
        "mode: update", "mode: upsert\n    id_property: lms_touch_count"
    )
    with pytest.raises(SyncConfigError, match="unique: true"):
        parse_config(text)


def test_unknown_keys_are_errors_not_silently_ignored() -> None:
    text = (MINIMAL % "number").replace("mode: update", "mode: update\n    batch_sise: 10")
    with pytest.raises(SyncConfigError, match="batch_sise"):
        parse_config(text)


def test_column_patterns_expand_to_one_field_per_mart_column() -> None:
    contacts = load_config(DEFAULT).syncs[0]
    resolved = contacts.resolve(
        ["learner_key", "lms_certified_products", "lms_certified_crm", "lms_certified_api"]
    )
    assert resolved.fields["lms_certified_crm"].type == "bool"
    assert resolved.fields["lms_certified_api"].property == "lms_certified_api"
    # The explicit ;-joined text field is not swallowed by the boolean pattern.
    assert resolved.fields["lms_certified_products"].type == "string"
    assert resolved.fingerprint() != contacts.fingerprint()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SyncConfigError, match="not found"):
        load_config(tmp_path / "nope.yml")
