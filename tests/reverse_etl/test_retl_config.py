from pathlib import Path

import pytest

from lmsbridge_core.errors import ConfigurationError
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


def test_a_duplicated_key_is_a_configuration_error_naming_key_and_line() -> None:
    text = (MINIMAL % "number") + (
        "      lms_touch_count: {property: lms_other, type: number, field_type: number}\n"
    )
    with pytest.raises(ConfigurationError) as err:
        parse_config(text, "syncs.yml")
    assert str(err.value) == (
        "sync config syncs.yml: duplicate key 'lms_touch_count' at line 12 (first at line 11)"
    )
    assert isinstance(err.value, SyncConfigError)


def test_a_duplicated_key_in_a_flow_mapping_is_refused_too() -> None:
    text = (MINIMAL % "number").replace("type: number,", "type: number, type: string,")
    with pytest.raises(SyncConfigError, match="duplicate key 'type' at line 11"):
        parse_config(text)


def test_yaml_merge_keys_may_still_be_overridden() -> None:
    text = (MINIMAL % "number").replace(
        "version: 1\n", "version: 1\nx-base: &base {type: number, field_type: text}\n"
    )
    text = text.replace(
        "{property: lms_touch_count, type: number, field_type: number}",
        "{<<: *base, property: lms_touch_count, field_type: number}",
    )
    with pytest.raises(SyncConfigError, match="x-base"):  # only the unknown top-level key
        parse_config(text)


def test_an_unreadable_file_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "syncs.yml"
    path.write_bytes(b"version: 1\nsyncs: caf\xe9\n")
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        load_config(path)
