"""The CRM object types the emulator serves, and the names HubSpot uses for each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectType:
    name: str  # plural path name, e.g. "contacts"
    type_id: str  # objectTypeId, e.g. "0-1"
    singular: str  # used in association labels ("contact_to_company") and messages
    scope: str  # the crm.objects.<scope>.read/write scope family
    created_prop: str
    modified_prop: str
    default_props: tuple[str, ...]
    searchable: tuple[str, ...]  # properties a free-text `query` covers
    # Older granular scopes some types still accept besides crm.objects.<scope>.* (tickets and
    # products predate the crm.objects.* scheme: the v3 specs list "tickets" and "e-commerce").
    legacy_scope: str | None = None

    def scopes(self, write: bool) -> tuple[str, ...]:
        suffix = "write" if write else "read"
        own = f"crm.objects.{self.scope}.{suffix}"
        return (own, self.legacy_scope) if self.legacy_scope else (own,)


OBJECT_TYPES: dict[str, ObjectType] = {
    t.name: t
    for t in (
        ObjectType(
            "contacts",
            "0-1",
            "contact",
            "contacts",
            "createdate",
            "lastmodifieddate",
            ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
            ("firstname", "lastname", "email", "phone", "hs_additional_emails", "company"),
        ),
        ObjectType(
            "companies",
            "0-2",
            "company",
            "companies",
            "createdate",
            "hs_lastmodifieddate",
            ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
            ("website", "phone", "name", "domain"),
        ),
        ObjectType(
            "deals",
            "0-3",
            "deal",
            "deals",
            "createdate",
            "hs_lastmodifieddate",
            (
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ),
            ("dealname", "pipeline", "dealstage", "description", "dealtype"),
        ),
        # The v3 specs gate tasks and notes behind the contacts scopes.
        ObjectType(
            "tasks",
            "0-27",
            "task",
            "contacts",
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
            ("hs_task_subject", "hs_task_body"),
        ),
        ObjectType(
            "notes",
            "0-46",
            "note",
            "contacts",
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
            ("hs_note_body",),
        ),
        # Engagements (activities). The calls, emails and meetings guides gate them behind the
        # contacts scopes, like tasks and notes. (The generic objects spec also lists
        # crm.objects.calls.* and crm.objects.meetings.*; the emulator does not accept those.)
        ObjectType(
            "calls",
            "0-48",
            "call",
            "contacts",
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
            ("hs_call_title", "hs_call_body"),
        ),
        ObjectType(
            "emails",
            "0-49",
            "email",
            "contacts",
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
            ("hs_email_subject", "hs_email_text"),
        ),
        ObjectType(
            "meetings",
            "0-47",
            "meeting",
            "contacts",
            "hs_createdate",
            "hs_lastmodifieddate",
            ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
            ("hs_meeting_title", "hs_meeting_body"),
        ),
        # Types the product does not use; they exist so that generic clients (dlt's HubSpot
        # source asks for tickets, products and quotes by default) find a valid, empty type.
        ObjectType(
            "tickets",
            "0-5",
            "ticket",
            "tickets",
            "createdate",
            "hs_lastmodifieddate",
            (
                "content",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_pipeline",
                "hs_pipeline_stage",
                "hs_ticket_category",
                "hs_ticket_priority",
                "subject",
            ),
            ("subject", "content"),
            legacy_scope="tickets",
        ),
        ObjectType(
            "products",
            "0-7",
            "product",
            "products",
            "createdate",
            "hs_lastmodifieddate",
            ("createdate", "description", "hs_lastmodifieddate", "hs_object_id", "name", "price"),
            ("name", "description", "hs_sku"),
            legacy_scope="e-commerce",
        ),
        ObjectType(
            "quotes",
            "0-14",
            "quote",
            "quotes",
            "hs_createdate",
            "hs_lastmodifieddate",
            (
                "hs_createdate",
                "hs_expiration_date",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_public_url_key",
                "hs_status",
                "hs_title",
            ),
            ("hs_title",),
        ),
    )
}

_ALIASES: dict[str, str] = {}
for _t in OBJECT_TYPES.values():
    for _alias in (_t.name, _t.type_id, _t.singular):
        _ALIASES[_alias] = _t.name


def resolve(name: str) -> ObjectType | None:
    """Accept the plural name, the singular, or the objectTypeId, as HubSpot does."""
    key = _ALIASES.get(name.lower())
    return OBJECT_TYPES[key] if key else None
