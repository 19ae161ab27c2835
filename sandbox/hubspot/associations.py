"""Association types (HubSpot-defined ids) and the edge store, kept in both directions."""

from __future__ import annotations

from dataclasses import dataclass

from .objecttypes import OBJECT_TYPES


@dataclass(frozen=True)
class AssocType:
    type_id: int
    from_type: str
    to_type: str
    reverse_id: int
    primary: bool  # a "Primary" label; its pair's unlabeled type is stored alongside


def _pair(from_type: str, to_type: str, unlabeled: int, reverse_unlabeled: int) -> list[AssocType]:
    return [
        AssocType(unlabeled, from_type, to_type, reverse_unlabeled, False),
        AssocType(reverse_unlabeled, to_type, from_type, unlabeled, False),
    ]


def _primary(from_type: str, to_type: str, primary: int, reverse_primary: int) -> list[AssocType]:
    return [
        AssocType(primary, from_type, to_type, reverse_primary, True),
        AssocType(reverse_primary, to_type, from_type, primary, True),
    ]


ASSOC_TYPES: dict[int, AssocType] = {
    t.type_id: t
    for t in [
        *_pair("contacts", "companies", 279, 280),
        *_primary("contacts", "companies", 1, 2),
        *_pair("deals", "contacts", 3, 4),
        *_pair("deals", "companies", 341, 342),
        *_primary("deals", "companies", 5, 6),
        *_pair("tasks", "contacts", 204, 203),
        *_pair("tasks", "companies", 192, 191),
        *_pair("tasks", "deals", 216, 215),
        *_pair("notes", "contacts", 202, 201),
        *_pair("notes", "companies", 190, 189),
        *_pair("notes", "deals", 214, 213),
        *_pair("calls", "contacts", 194, 193),
        *_pair("calls", "companies", 182, 181),
        *_pair("calls", "deals", 206, 205),
        *_pair("emails", "contacts", 198, 197),
        *_pair("emails", "companies", 186, 185),
        *_pair("emails", "deals", 210, 209),
        *_pair("meetings", "contacts", 200, 199),
        *_pair("meetings", "companies", 188, 187),
        *_pair("meetings", "deals", 212, 211),
        *_pair("tickets", "contacts", 16, 15),
        *_pair("tickets", "companies", 339, 340),
        *_primary("tickets", "companies", 26, 25),
        *_pair("deals", "tickets", 27, 28),
    ]
}

# The unlabeled (default) type for each direction.
DEFAULT_TYPE: dict[tuple[str, str], int] = {
    (t.from_type, t.to_type): t.type_id for t in ASSOC_TYPES.values() if not t.primary
}
_HAS_PRIMARY = {(t.from_type, t.to_type) for t in ASSOC_TYPES.values() if t.primary}


def v3_label(type_id: int) -> str:
    """The snake-case `type` the v3 `?associations=` form shows for one edge type."""
    t = ASSOC_TYPES[type_id]
    base = f"{OBJECT_TYPES[t.from_type].singular}_to_{OBJECT_TYPES[t.to_type].singular}"
    if not t.primary and (t.from_type, t.to_type) in _HAS_PRIMARY:
        return base + "_unlabeled"
    return base


def label_definitions(from_type: str, to_type: str) -> list[dict[str, object]]:
    """HubSpot-defined types from one object type to another, as the labels API lists them."""
    return [
        {"category": "HUBSPOT_DEFINED", "typeId": t.type_id, "label": v4_label(t.type_id)}
        for t in sorted(ASSOC_TYPES.values(), key=lambda t: t.type_id)
        if (t.from_type, t.to_type) == (from_type, to_type)
    ]


def v4_label(type_id: int) -> str | None:
    return "Primary" if ASSOC_TYPES[type_id].primary else None


Key = tuple[str, str]  # (object type, record id)


class AssociationStore:
    """edges[(from_type, from_id)][to_type][to_id] = set of type ids."""

    def __init__(self) -> None:
        self.edges: dict[Key, dict[str, dict[str, set[int]]]] = {}

    def clear(self) -> None:
        self.edges.clear()

    def _add_one(self, from_type: str, from_id: str, to_type: str, to_id: str, tid: int) -> None:
        by_type = self.edges.setdefault((from_type, from_id), {})
        by_type.setdefault(to_type, {}).setdefault(to_id, set()).add(tid)

    def add(self, from_id: str, to_id: str, type_id: int) -> None:
        """Add an edge and its reverse; a primary label also implies the unlabeled pair."""
        t = ASSOC_TYPES[type_id]
        tids = [type_id]
        if t.primary:
            tids.append(DEFAULT_TYPE[(t.from_type, t.to_type)])
        for tid in tids:
            fwd = ASSOC_TYPES[tid]
            self._add_one(fwd.from_type, from_id, fwd.to_type, to_id, tid)
            self._add_one(fwd.to_type, to_id, fwd.from_type, from_id, fwd.reverse_id)

    def targets(self, from_type: str, from_id: str, to_type: str) -> dict[str, set[int]]:
        return self.edges.get((from_type, from_id), {}).get(to_type, {})

    def remove_pair(self, from_type: str, from_id: str, to_type: str, to_id: str) -> bool:
        fwd = self.edges.get((from_type, from_id), {}).get(to_type, {})
        rev = self.edges.get((to_type, to_id), {}).get(from_type, {})
        found = fwd.pop(to_id, None) is not None
        rev.pop(from_id, None)
        return found

    def drop_record(self, object_type: str, record_id: str) -> None:
        by_type = self.edges.pop((object_type, record_id), {})
        for to_type, targets in by_type.items():
            for to_id in targets:
                self.edges.get((to_type, to_id), {}).get(object_type, {}).pop(record_id, None)

    def move_record(self, object_type: str, old_id: str, new_id: str) -> None:
        """Re-point every edge of a merged record at the surviving one."""
        by_type = self.edges.get((object_type, old_id), {})
        moved = [
            (to_type, to_id, tid)
            for to_type, targets in by_type.items()
            for to_id, tids in targets.items()
            for tid in tids
        ]
        self.drop_record(object_type, old_id)
        for _to_type, to_id, tid in moved:
            self.add(new_id, to_id, tid)
