"""Checking and applying one record write; shared by the single and batch endpoints.

Checks never mutate, so a batch can be validated completely before anything is written
(HubSpot's all-or-nothing rule) and then applied input by input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .associations import ASSOC_TYPES
from .errors import HubSpotError
from .models import InlineAssociation, as_id
from .objecttypes import OBJECT_TYPES
from .pipelines import PIPELINE_PROPS, default_pipeline
from .propdefs import REQUIRED_ON_CREATE
from .state import Portal
from .store import Conflict, Record
from .validation import PropError, check_properties, error_details, error_message


@dataclass
class Failure:
    status: int
    category: str
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    prop_errors: list[PropError] = field(default_factory=list)
    context: dict[str, list[str]] | None = None

    def as_error(self) -> HubSpotError:
        return HubSpotError(
            self.status,
            self.category,
            self.message,
            errors=self.errors or None,
            context=self.context,
        )


def _props_failure(p: Portal, errors: list[PropError]) -> Failure:
    return Failure(
        400,
        "VALIDATION_ERROR",
        error_message(errors, p.config.portal_id),
        error_details(errors),
        errors,
    )


def _conflict(
    p: Portal, object_type: str, record_id: str | None, clean: dict[str, str]
) -> Failure | None:
    try:
        p.store.conflict_for(object_type, record_id, clean)
    except Conflict as exc:
        return Failure(409, "CONFLICT", exc.message)
    return None


# A contact needs some identity; HubSpot's contacts guide asks for at least one of these.
CONTACT_IDENTITY = ("email", "firstname", "lastname")


def _missing_required(p: Portal, object_type: str, clean: dict[str, str]) -> Failure | None:
    """HubSpot's answer to a create without its required properties.

    Body as HubSpot sends it (HubSpot/hubspot-api-nodejs#124): VALIDATION_ERROR, "Error
    creating NOTE.  Some required properties were not set." and context.properties.
    """
    missing = [n for n in REQUIRED_ON_CREATE[object_type] if not clean.get(n)]
    if object_type == "contacts" and not any(clean.get(n) for n in CONTACT_IDENTITY):
        missing = list(CONTACT_IDENTITY)
    if not missing:
        return None
    singular = OBJECT_TYPES[object_type].singular.upper()
    return Failure(
        400,
        "VALIDATION_ERROR",
        f"Error creating {singular}.  Some required properties were not set.",
        context={"properties": missing},
    )


def _with_defaults(object_type: str, clean: dict[str, str]) -> dict[str, str]:
    """A portal with one pipeline puts new deals and tickets in it (reference section 9)."""
    names = PIPELINE_PROPS.get(object_type)
    if names is None or clean.get(names[0]):
        return clean
    pipeline = default_pipeline(object_type)
    return {**clean, names[0]: pipeline} if pipeline else clean


def check_associations(
    p: Portal, object_type: str, specs: list[InlineAssociation]
) -> tuple[list[tuple[str, int]], Failure | None]:
    edges: list[tuple[str, int]] = []
    for spec in specs:
        to_id = as_id(spec.to.id)
        for t in spec.types:
            atype = ASSOC_TYPES.get(t.associationTypeId)
            if atype is None or atype.from_type != object_type:
                return [], Failure(
                    400,
                    "VALIDATION_ERROR",
                    f"{t.associationCategory} {t.associationTypeId} is not a valid association "
                    f"type from {OBJECT_TYPES[object_type].singular}",
                )
            if p.store.get(atype.to_type, to_id) is None:
                return [], Failure(
                    400,
                    "VALIDATION_ERROR",
                    f"{OBJECT_TYPES[atype.to_type].singular} {to_id} does not exist; "
                    "cannot create the association",
                )
            edges.append((to_id, atype.type_id))
    return edges, None


@dataclass
class Planned:
    """A checked write: a create (record None) or an update of `record`."""

    clean: dict[str, str]
    record: Record | None = None
    edges: list[tuple[str, int]] = field(default_factory=list)


def check_create(
    p: Portal,
    object_type: str,
    props: dict[str, Any],
    associations: list[InlineAssociation] | None = None,
    pending: set[tuple[str, str]] | None = None,
) -> tuple[Planned | None, Failure | None]:
    clean, errors = check_properties(p.registry, object_type, props)
    if errors:
        return None, _props_failure(p, errors)
    clean = _with_defaults(object_type, clean)
    failure = _missing_required(p, object_type, clean)
    if failure is not None:
        return None, failure
    failure = _conflict(p, object_type, None, clean)
    if failure is None and pending is not None:
        failure = _pending_conflict(p, object_type, clean, pending)
    if failure is not None:
        return None, failure
    edges, failure = check_associations(p, object_type, associations or [])
    if failure is not None:
        return None, failure
    return Planned(clean, None, edges), None


def check_update(
    p: Portal,
    object_type: str,
    rec: Record,
    props: dict[str, Any],
    pending: set[tuple[str, str]] | None = None,
) -> tuple[Planned | None, Failure | None]:
    clean, errors = check_properties(p.registry, object_type, props, rec.props)
    if errors:
        return None, _props_failure(p, errors)
    failure = _conflict(p, object_type, rec.id, clean)
    if failure is None and pending is not None:
        failure = _pending_conflict(p, object_type, clean, pending)
    if failure is not None:
        return None, failure
    return Planned(clean, rec), None


def _pending_conflict(
    p: Portal, object_type: str, clean: dict[str, str], pending: set[tuple[str, str]]
) -> Failure | None:
    """Two inputs of one batch claiming the same unique value conflict with each other."""
    names = p.registry.unique_names(object_type)
    if object_type == "contacts":
        names = ["email", *names]
    for name in names:
        value = clean.get(name)
        if not value:
            continue
        if (name, value) in pending:
            return Failure(
                409, "CONFLICT", f"Two inputs in this batch share {name} {value}; it must be unique"
            )
        pending.add((name, value))
    return None


def apply(p: Portal, object_type: str, plan: Planned) -> Record:
    store = p.store
    if plan.record is None:
        rec = store.create(object_type, plan.clean)
    else:
        rec = store.update(object_type, plan.record, plan.clean)
    for to_id, type_id in plan.edges:
        store.assoc.add(rec.id, to_id, type_id)
    return rec


def fails_whole_batch(failures: list[Failure], traced: bool) -> bool:
    """Without trace ids any failure rejects the batch; a conflict (409) always does."""
    return bool(failures) and (not traced or any(f.status == 409 for f in failures))


def combined_failure(p: Portal, failures: list[Failure]) -> HubSpotError:
    """The single error an all-or-nothing batch answers with."""
    conflicts = [f for f in failures if f.status == 409]
    if conflicts:
        return conflicts[0].as_error()  # HubSpot reports only the first conflict
    prop_errors = [e for f in failures for e in f.prop_errors]
    if prop_errors:
        return _props_failure(p, prop_errors).as_error()
    return failures[0].as_error()
