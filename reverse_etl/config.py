"""Sync configuration: a versioned YAML file validated by pydantic.

Analysts change field maps, modes and consent gating here, not in code. A bad file fails at
start-up, before any network call, with the location of the bad field in the message.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from yaml.nodes import MappingNode

from lmsbridge_core.errors import ConfigurationError
from reverse_etl.mappings import FieldMappings

ObjectType = Literal["contacts", "deals", "tasks", "notes"]
Mode = Literal["update", "upsert", "create_once"]
PropertyType = Literal["string", "number", "bool", "enumeration", "date", "datetime"]

# HubSpot's type -> allowed fieldType table (properties API; a wrong pair is a 400).
FIELD_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"text", "textarea", "html", "phonenumber", "file"}),
    "number": frozenset({"number"}),
    "bool": frozenset({"booleancheckbox"}),
    "enumeration": frozenset({"select", "radio", "checkbox", "booleancheckbox"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SyncConfigError(ConfigurationError, ValueError):
    """The sync YAML is missing, unreadable or invalid; the message names the bad field."""


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: object, line: int, first: int) -> None:
        super().__init__(f"duplicate key {key!r} at line {line} (first at line {first})")


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping.

    PyYAML keeps the last value silently, so a repeated field name would quietly replace the
    first mapping (and create a HubSpot property nobody asked for). Merge keys (`<<`) may
    still be overridden, as YAML intends.
    """

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # unhashable key: the base loader reports it
                continue
            if first is not None:
                raise _DuplicateKey(key, line, first)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    label: str
    value: str


class OptionsFrom(_Strict):
    """Enumeration options read from a warehouse table at run time (one option per row).

    Lets a dbt seed own the list (e.g. marts.dim_attribution_models): a new seed row becomes
    a new HubSpot option on the next run, with no edit here.
    """

    table: str
    value: str
    label: str

    @model_validator(mode="after")
    def _check(self) -> OptionsFrom:
        if not _SQL_NAME.match(self.table):
            raise ValueError(f"options_from.table {self.table!r} is not a name like schema.table")
        for key in ("value", "label"):
            column = getattr(self, key)
            if not _COLUMN.match(column):
                raise ValueError(f"options_from.{key} {column!r} is not a column name")
        return self


class FieldSpec(_Strict):
    """One mart column written to one HubSpot property of a declared type."""

    property: str
    type: PropertyType
    field_type: str
    label: str | None = None
    options: tuple[Option, ...] | None = None
    # Instead of `options`: read them from the warehouse (reverse_etl/options.py fills
    # `options` in before planning; the config file gives exactly one of the two).
    options_from: OptionsFrom | None = None
    unique: bool = False
    # Values in stage order: the writer never sends a value behind the one HubSpot holds.
    forward_only: tuple[str, ...] | None = None
    # HubSpot-defined properties (hs_*, lifecyclestage) are checked, never created.
    hubspot_defined: bool = False

    @model_validator(mode="after")
    def _check(self) -> FieldSpec:
        if not _NAME.match(self.property):
            raise ValueError(
                f"property {self.property!r}: use lowercase letters, digits and underscores"
            )
        if self.field_type not in FIELD_TYPES[self.type]:
            allowed = ", ".join(sorted(FIELD_TYPES[self.type]))
            raise ValueError(
                f"field_type {self.field_type!r} does not fit type {self.type!r} (use one of: {allowed})"
            )
        if self.type != "enumeration":
            if self.options is not None or self.options_from is not None:
                raise ValueError("options are only allowed on enumeration properties")
            return self
        if self.options is not None and self.options_from is not None:
            raise ValueError(
                f"property {self.property!r}: give either options or options_from, not both"
            )
        if self.hubspot_defined:
            if self.options_from is not None:
                raise ValueError(
                    f"property {self.property!r} is hubspot_defined: HubSpot owns its options, "
                    "so options_from cannot add to them"
                )
        elif self.options is None and self.options_from is None:
            raise ValueError(
                f"enumeration property {self.property!r} needs its options: list them under "
                "options, or read them from a table with options_from: {table, value, label}"
            )
        return self


class Association(_Strict):
    """Associate each written record with the record whose id is in `column` (v4 batch/create)."""

    column: str
    to_object_type: ObjectType | Literal["companies"]
    type_id: int
    category: Literal["HUBSPOT_DEFINED", "USER_DEFINED"] = "HUBSPOT_DEFINED"


class WriteCap(_Strict):
    """At most `max_per_run` new writes per value of `column` in one run (e.g. tasks per
    owner); the rest are deferred to later runs, newest `newest_first_by` value first."""

    column: str
    max_per_run: int | None = Field(default=None, ge=1)  # None: only count per value
    newest_first_by: str | None = None


DeletePolicy = Literal["leave", "clear", "archive"]


class ColumnPattern(_Strict):
    """Map every mart column starting with `prefix` (and not listed in fields) to itself."""

    prefix: str
    type: PropertyType
    field_type: str
    label_prefix: str = ""


class Sync(_Strict):
    """A mart + an object type + a record key + a field map."""

    name: str
    source: str
    object_type: ObjectType
    mode: Mode
    record_key: str
    # update: the column holding the HubSpot record id; upsert/create_once: the column whose
    # value goes to the unique `id_property`.
    id_column: str
    id_property: str | None = None
    fields: dict[str, FieldSpec]
    property_group: str = "lmsbridge"
    consent_column: str | None = None
    create_missing_contacts: bool = False
    create_id_column: str = "email"
    associations: tuple[Association, ...] = ()
    column_patterns: tuple[ColumnPattern, ...] = ()
    cap: WriteCap | None = None
    # What a row flagged in `deleted_column` (its learner was deleted in the LMS) does, once:
    # leave (stop writing), clear (empty our own properties on the record), archive (archive
    # the record, only if lmsbridge created it; else clear). None: the column is not read.
    on_delete: DeletePolicy | None = None
    deleted_column: str = "lms_deleted"
    # A true value here never creates a contact (e.g. the contact was archived in HubSpot).
    do_not_create_column: str | None = None
    enabled: bool = True

    def resolve(self, columns: list[str]) -> Sync:
        """Expand column patterns against the mart's actual columns into plain fields."""
        if not self.column_patterns:
            return self
        taken = set(self.fields) | {self.record_key, self.id_column, self.consent_column}
        taken |= {self.deleted_column, self.do_not_create_column}
        taken |= {a.column for a in self.associations}
        if self.cap is not None:
            taken |= {self.cap.column, self.cap.newest_first_by}
        fields = dict(self.fields)
        for pattern in self.column_patterns:
            for column in columns:
                if column.startswith(pattern.prefix) and column not in taken:
                    fields[column] = FieldSpec(
                        property=column,
                        type=pattern.type,
                        field_type=pattern.field_type,
                        label=f"{pattern.label_prefix}{column[len(pattern.prefix) :]}",
                    )
                    taken.add(column)
        return self.model_copy(update={"fields": fields, "column_patterns": ()})

    @model_validator(mode="after")
    def _check(self) -> Sync:
        if not _NAME.match(self.name):
            raise ValueError(f"name {self.name!r}: use lowercase letters, digits and underscores")
        if not _SQL_NAME.match(self.source):
            raise ValueError(f"source {self.source!r} is not a table name like schema.table")
        if not self.fields:
            raise ValueError("fields: at least one column -> property mapping is required")
        if self.mode in ("upsert", "create_once"):
            if not self.id_property:
                raise ValueError(f"id_property is required for mode {self.mode!r}")
            unique = [f for f in self.fields.values() if f.property == self.id_property]
            if not unique or not unique[0].unique:
                raise ValueError(
                    f"id_property {self.id_property!r} must be a mapped field with unique: true"
                )
        if self.mode == "update" and self.id_property:
            raise ValueError("id_property is not used with mode 'update' (records go by id)")
        if self.create_missing_contacts and self.object_type != "contacts":
            raise ValueError("create_missing_contacts only applies to contacts")
        if self.on_delete == "clear" and self.mode != "update":
            raise ValueError(
                f"on_delete 'clear' needs mode 'update' (a {self.mode} sync creates its records: "
                "use 'archive' or 'leave')"
            )
        properties = [f.property for f in self.fields.values()]
        if len(properties) != len(set(properties)):
            raise ValueError("fields: two columns map to the same property")
        return self

    def fingerprint(self) -> str:
        """Changes whenever the schema this sync needs in HubSpot changes."""
        schema = {
            "object_type": self.object_type,
            "group": self.property_group,
            "fields": {k: v.model_dump(mode="json") for k, v in sorted(self.fields.items())},
        }
        return hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()


class PropertyGroup(_Strict):
    name: str = "lmsbridge"
    label: str = "LMS Bridge"


class SyncFile(_Strict):
    version: Literal[1]
    property_group: PropertyGroup = Field(default_factory=PropertyGroup)
    syncs: tuple[Sync, ...]
    # Two-way contact fields (HubSpot <-> LearnWorlds); absent = one-way only.
    field_mappings: FieldMappings | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> SyncFile:
        names = [s.name for s in self.syncs]
        if len(names) != len(set(names)):
            raise ValueError("syncs: names must be unique")
        return self


def _describe(exc: ValidationError, origin: str) -> str:
    # One line (the CLI's error contract): the problems joined, each with its location.
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        problems.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return f"invalid sync config {origin}: " + "; ".join(problems)


def parse_config(text: str, origin: str = "<string>") -> SyncFile:
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except _DuplicateKey as exc:
        raise SyncConfigError(f"sync config {origin}: {exc}") from None
    except yaml.YAMLError as exc:
        # PyYAML spreads its message over lines (problem, context, a caret under the text).
        lines = (line.strip() for line in str(exc).splitlines())
        detail = " ".join(line for line in lines if line.strip("^"))
        raise SyncConfigError(f"sync config {origin} is not valid YAML: {detail}") from None
    if not isinstance(data, dict):
        raise SyncConfigError(f"sync config {origin} must be a mapping with version and syncs")
    try:
        return SyncFile.model_validate(data)
    except ValidationError as exc:
        raise SyncConfigError(_describe(exc, origin)) from None


def load_config(path: Path) -> SyncFile:
    if not path.is_file():
        # A relative default ("reverse_etl/syncs.yml") should work from any working directory.
        packaged = Path(__file__).parent / path.name
        if path == Path("reverse_etl/syncs.yml") and packaged.is_file():
            path = packaged
        else:
            raise SyncConfigError(f"sync config not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SyncConfigError(f"sync config {path} is not UTF-8 (at byte {exc.start})") from None
    except OSError as exc:
        raise SyncConfigError(f"sync config {path} cannot be read: {exc.strerror}") from None
    return parse_config(text, str(path))
