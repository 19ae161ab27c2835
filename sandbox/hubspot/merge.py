"""Contacts merge: the secondary disappears and the primary absorbs it."""

from __future__ import annotations

from .state import Portal
from .store import Record


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").split(";") if part]


def merge_contacts(p: Portal, primary: Record, merged: Record) -> None:
    """Fold `merged` into `primary`. Call with the store lock held.

    The primary keeps its own values and gains the secondary's where it has none, its
    emails as additional emails, its associations, and its id in hs_merged_object_ids.
    """
    store = p.store

    def writable(name: str) -> bool:
        prop = p.registry.get("contacts", name)
        return prop is not None and not prop["modificationMetadata"]["readOnlyValue"]

    fill = {
        name: value
        for name, value in merged.props.items()
        if name not in primary.props and name != "email" and writable(name)
    }
    extra = _split(primary.props.get("hs_additional_emails"))
    for email in [merged.props.get("email", ""), *_split(merged.props.get("hs_additional_emails"))]:
        if email and email not in extra and email != primary.props.get("email"):
            extra.append(email)
    if extra:
        fill["hs_additional_emails"] = ";".join(extra)
    ids = _split(primary.props.get("hs_merged_object_ids"))
    ids += [merged.id, *_split(merged.props.get("hs_merged_object_ids"))]
    store.assoc.move_record("contacts", merged.id, primary.id)
    store.remove("contacts", merged)
    store.merged_into[merged.id] = primary.id
    # hs_merged_object_ids is read-only for clients, so it is set here without validation.
    primary.props["hs_merged_object_ids"] = ";".join(ids)
    store.update("contacts", primary, fill, ("MERGE", f"merge:{merged.id}"))
