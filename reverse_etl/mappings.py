"""Field mappings: one declaration, read by both directions of the two-way field sync.

The `field_mappings` section of syncs.yml pairs an LMS field with a HubSpot contact property,
a type and a direction. The file's shape is checked when it loads (a bad direction fails the
run before any call); whether each mapping can work against the real portal and school
(the property exists and has that type, the LMS field exists and is writable) is checked by
`check_mappings` before any write, and a mapping that cannot work is reported and skipped
while the others sync.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PropertyType = Literal["string", "number", "bool", "enumeration", "date", "datetime"]
Direction = Literal["to_hubspot", "to_lms", "both"]
Side = Literal["hubspot", "lms"]

# LearnWorlds' writable default sign-up fields (UserRequestPutModel `fields`); custom ones are
# `cf_*`. Every other field the User object carries is read-only through the API.
LMS_PROFILE_FIELDS = frozenset(
    {
        "bio", "location", "url", "fb", "twitter", "instagram", "linkedin", "skype", "behance",
        "dribbble", "github", "phone", "address", "country", "birthday", "company",
        "company_size", "university", "graduation_year",
    }
)  # fmt: skip
# UTM keys are unstable between REST and webhooks (reference section 4): any key is accepted.
_UTM = re.compile(r"^utms\.[a-z0-9_]+$")
_BILLING = re.compile(r"^billing_info\.bf_[a-z0-9_]+$")
_CUSTOM = re.compile(r"^fields\.cf_[A-Za-z0-9_]+$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class LmsField:
    """What the LMS side of a mapping is: its natural type and whether the API can write it."""

    type: PropertyType
    writable: bool
    note: str = ""


# Derived in dbt (marts.rev_etl__learner_fields): facts about the learner, never written back.
USAGE_FIELDS: dict[str, PropertyType] = {
    "usage.last_login": "datetime",
    "usage.signed_up_at": "datetime",
    "usage.last_purchase_at": "datetime",
    "usage.purchases_count": "number",
    "usage.courses_completed": "number",
    "usage.last_activity_at": "datetime",
}


def lms_field(name: str) -> LmsField | None:
    """The LMS field a mapping names, or None when no such field can exist."""
    if name in ("first_name", "last_name"):
        # On GET (a live probe), absent from the write models: LearnWorlds ignores them on PUT.
        return LmsField("string", False, "not writable through the LearnWorlds API")
    if name == "username":
        return LmsField("string", True)
    if name == "subscribed_for_marketing_emails":
        return LmsField("bool", True)
    if name == "tags":
        return LmsField("string", True)
    if name.startswith("fields."):
        key = name.removeprefix("fields.")
        if key in LMS_PROFILE_FIELDS or _CUSTOM.match(name):
            return LmsField("string", True)
        return None
    if _UTM.match(name):
        return LmsField("string", True)
    if _BILLING.match(name):
        return LmsField("string", False, "billing details are read-only through the API")
    if name in USAGE_FIELDS:
        return LmsField(USAGE_FIELDS[name], False, "derived from LMS activity")
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMapping(_Strict):
    """One LMS field <-> one HubSpot contact property."""

    lms: str
    hubspot: str
    type: PropertyType
    direction: Direction
    # Which side's value stands when a `both` field changed on both sides since the last run.
    winner: Side | None = None
    enabled: bool = True

    @property
    def key(self) -> str:
        return f"{self.lms}>{self.hubspot}"

    @model_validator(mode="after")
    def _check(self) -> FieldMapping:
        if self.direction == "both" and self.winner is None:
            raise ValueError(
                f"{self.key}: direction 'both' needs winner: hubspot or lms (which side "
                "wins when both changed)"
            )
        if self.direction != "both" and self.winner is not None:
            raise ValueError(f"{self.key}: winner only applies to direction 'both'")
        if not _NAME.match(self.hubspot):
            raise ValueError(f"{self.key}: HubSpot property names are lowercase internal names")
        return self


class LearnerCreation(_Strict):
    """Contacts that become learners (POST /v2/users); off unless enabled."""

    enabled: bool = False
    # Contacts whose `property` holds one of `values` (compared case-insensitively).
    property: str = "lifecyclestage"
    values: tuple[str, ...] = ("customer",)
    tags: tuple[str, ...] = ()
    send_registration_email: bool = False
    # When set, only contacts whose property is true (HubSpot booleans) are created.
    consent_property: str | None = None


class FieldMappings(_Strict):
    """The `field_mappings` section of syncs.yml."""

    enabled: bool = True
    # Sends LearnWorlds' `signup_validation_rules: true`: each value must pass the school's
    # sign-up rules, or the learner's row is rejected with LearnWorlds' reason.
    validate_values: bool = Field(default=False, alias="validate")
    fields: tuple[FieldMapping, ...] = ()
    learner_creation: LearnerCreation = Field(default_factory=LearnerCreation)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _unique(self) -> FieldMappings:
        keys = [m.key for m in self.fields]
        if len(keys) != len(set(keys)):
            raise ValueError("field_mappings.fields: a mapping is listed twice")
        for side in ("lms", "hubspot"):
            # Two mappings writing one target would overwrite each other every run.
            writers = [
                getattr(m, side)
                for m in self.fields
                if m.enabled and m.direction in ("both", f"to_{side}")
            ]
            twice = sorted({w for w in writers if writers.count(w) > 1})
            if twice:
                raise ValueError(
                    f"field_mappings.fields: {side} field(s) {twice} written by two mappings"
                )
        return self

    @property
    def active(self) -> tuple[FieldMapping, ...]:
        return tuple(m for m in self.fields if m.enabled) if self.enabled else ()


@dataclass(frozen=True)
class PropertyDefinition:
    name: str
    type: str
    field_type: str
    calculated: bool


@dataclass(frozen=True)
class MappingCheck:
    mapping: FieldMapping
    problem: str | None

    @property
    def valid(self) -> bool:
        return self.problem is None


def _hubspot_type_fits(mapping: FieldMapping, prop: PropertyDefinition) -> bool:
    if mapping.type == "bool":
        return prop.type == "bool" or (
            prop.type == "enumeration" and prop.field_type == "booleancheckbox"
        )
    if mapping.type == "datetime":
        return prop.type == "datetime"
    if mapping.type == "string":
        # Text in HubSpot may hold any text from the LMS; phone numbers are text too.
        return prop.type in ("string", "phone_number")
    return prop.type == mapping.type


def _lms_type_fits(mapping: FieldMapping, field: LmsField) -> bool:
    if field.type == "string":
        # LMS profile fields are free text: parsed as the mapping's type when compared.
        return mapping.type != "bool" and mapping.type != "datetime"
    return field.type == mapping.type or (field.type == "datetime" and mapping.type == "date")


def check_mapping(
    mapping: FieldMapping,
    properties: dict[str, PropertyDefinition],
    lms_fields_seen: set[str] | None,
    stored_name: Callable[[str], str] = str.lower,
) -> MappingCheck:
    """Why this mapping cannot sync (None when it can). `lms_fields_seen`: the fields the
    school's learners actually carry, as the warehouse names them (`stored_name` turns a
    mapping's field into that name); None when not known yet."""
    field = lms_field(mapping.lms)
    if field is None:
        return MappingCheck(mapping, f"{mapping.lms!r} is not a LearnWorlds user field")
    if mapping.lms == "email" or mapping.hubspot == "email":
        return MappingCheck(mapping, "email is an identity, never a mapped value")
    if not field.writable and mapping.direction != "to_hubspot":
        return MappingCheck(
            mapping, f"{mapping.lms} is read-only ({field.note}): it can only map to_hubspot"
        )
    if not _lms_type_fits(mapping, field):
        return MappingCheck(
            mapping, f"type {mapping.type} does not fit {mapping.lms} (a {field.type} field)"
        )
    if (
        lms_fields_seen is not None
        and mapping.lms.startswith("fields.cf_")
        and stored_name(mapping.lms) not in lms_fields_seen
    ):
        return MappingCheck(mapping, f"no learner has the custom field {mapping.lms} (deleted?)")
    prop = properties.get(mapping.hubspot)
    if prop is None:
        return MappingCheck(mapping, f"HubSpot has no contact property {mapping.hubspot!r}")
    if not _hubspot_type_fits(mapping, prop):
        return MappingCheck(
            mapping,
            f"type {mapping.type} does not fit HubSpot property {mapping.hubspot} "
            f"({prop.type}/{prop.field_type})",
        )
    if prop.calculated and mapping.direction != "to_lms":
        return MappingCheck(
            mapping, f"HubSpot property {mapping.hubspot} is calculated: it can only map to_lms"
        )
    return MappingCheck(mapping, None)


def check_mappings(
    mappings: FieldMappings,
    properties: dict[str, PropertyDefinition],
    lms_fields_seen: set[str] | None,
    stored_name: Callable[[str], str] = str.lower,
) -> list[MappingCheck]:
    return [check_mapping(m, properties, lms_fields_seen, stored_name) for m in mappings.active]
