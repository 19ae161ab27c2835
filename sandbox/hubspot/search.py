"""The search endpoint's query engine: filter groups, one sort, offset paging, 10k cap."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .clock import ms_to_iso, now_ms, parse_datetime_ms
from .errors import validation
from .objecttypes import OBJECT_TYPES, resolve
from .store import Record, Store, sort_key

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_LIMIT = 200
RESULT_CAP = 10_000
MAX_BODY_CHARS = 3000

Operator = Literal[
    "LT",
    "LTE",
    "GT",
    "GTE",
    "EQ",
    "NEQ",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
]


class Filter(BaseModel):
    model_config = ConfigDict(extra="ignore")
    propertyName: str
    operator: Operator
    value: str | int | float | bool | None = None
    highValue: str | int | float | None = None
    values: list[str | int | float] | None = None


class FilterGroup(BaseModel):
    filters: list[Filter] = Field(default_factory=list)


class Sort(BaseModel):
    propertyName: str
    direction: Literal["ASCENDING", "DESCENDING"] = "ASCENDING"


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    filterGroups: list[FilterGroup] = Field(default_factory=list)
    # The docs send objects; the spec types sorts as strings ("prop" or "-prop").
    sorts: list[Sort | str] = Field(default_factory=list)
    properties: list[str] | None = None
    limit: int = 10
    after: str | int | None = None
    query: str | None = None


Predicate = Callable[[Record], bool]
_RANGE_OPS = {"LT", "LTE", "GT", "GTE", "EQ", "BETWEEN"}


def check_limits(req: SearchRequest) -> None:
    groups = req.filterGroups
    if len(groups) > MAX_GROUPS:
        raise validation(f"Too many filter groups: {len(groups)}. The maximum is {MAX_GROUPS}.")
    for group in groups:
        if len(group.filters) > MAX_FILTERS_PER_GROUP:
            raise validation(
                f"Too many filters in a filter group: {len(group.filters)}. "
                f"The maximum is {MAX_FILTERS_PER_GROUP}."
            )
    total = sum(len(g.filters) for g in groups)
    if total > MAX_FILTERS:
        raise validation(f"Too many filters: {total}. The maximum is {MAX_FILTERS}.")
    if req.limit < 0 or req.limit > MAX_LIMIT:
        raise validation(f"limit must be between 0 and {MAX_LIMIT}, got {req.limit}")
    if req.query is not None and len(req.query) > MAX_BODY_CHARS:
        raise validation(f"query may be at most {MAX_BODY_CHARS} characters")


def offset_of(req: SearchRequest) -> int:
    if req.after is None or req.after == "":
        return 0
    text = str(req.after)
    if not text.isdigit():
        raise validation(f"after must be an integer-formatted string, got {text!r}")
    return int(text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _prop_type(store: Store, object_type: str, name: str) -> str:
    prop = store.registry.get(object_type, name)
    return prop["type"] if prop else "string"


def _filter_key(ptype: str, value: Any, name: str) -> Any:
    """Turn a filter value into the same comparable key the store uses for that type."""
    text = _text(value).strip()
    if ptype == "datetime":
        key = parse_datetime_ms(text)
    elif ptype == "date":
        ms = parse_datetime_ms(text)
        key = ms_to_iso(ms)[:10] if ms is not None else None
    else:
        key = sort_key(ptype, text)
    if key is None:
        raise validation(f"Invalid value {text!r} for a {ptype} filter on property {name}")
    return key


def _tokens(value: str) -> set[str]:
    lowered = value.lower()
    return {t for t in re.split(r"[\s;,]+", lowered) if t} | {lowered}


def _contains_token(pattern: str, value: str) -> bool:
    pat = pattern.lower()
    tokens = _tokens(value)
    if "*" in pat:
        return any(fnmatch.fnmatchcase(t, pat) for t in tokens)
    return pat in tokens


def _association_predicate(store: Store, object_type: str, flt: Filter) -> Predicate:
    target = resolve(flt.propertyName.split(".", 1)[1])
    if target is None or flt.operator != "EQ" or flt.value is None:
        raise validation(f"Unsupported association filter {flt.propertyName} {flt.operator}")
    wanted = _text(flt.value)

    def pred(rec: Record) -> bool:
        return wanted in store.assoc.targets(object_type, rec.id, target.name)

    return pred


def compile_filter(store: Store, object_type: str, flt: Filter) -> Predicate:
    name, op = flt.propertyName, flt.operator
    if name.startswith("associations."):
        return _association_predicate(store, object_type, flt)
    if op == "HAS_PROPERTY":
        return lambda rec: bool(rec.props.get(name))
    if op == "NOT_HAS_PROPERTY":
        return lambda rec: not rec.props.get(name)
    ptype = _prop_type(store, object_type, name)
    if op in ("IN", "NOT_IN"):
        if not flt.values:
            raise validation(f"{op} on {name} needs a non-empty 'values' list")
        wanted = {_text(v) for v in flt.values}
        exact = ptype == "enumeration"

        def is_in(rec: Record) -> bool:
            raw = rec.props.get(name)
            if not raw:
                return False
            parts = raw.split(";") if exact else [raw.lower(), raw]
            return any(p in wanted for p in parts)

        return is_in if op == "IN" else (lambda rec: not is_in(rec))
    if flt.value is None:
        raise validation(f"{op} on {name} needs a 'value'")
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = _text(flt.value)

        def contains(rec: Record) -> bool:
            raw = rec.props.get(name)
            return bool(raw) and _contains_token(pattern, raw)

        return contains if op == "CONTAINS_TOKEN" else (lambda rec: not contains(rec))
    low = _filter_key(ptype, flt.value, name)
    high = _filter_key(ptype, flt.highValue, name) if op == "BETWEEN" else None
    if op == "BETWEEN" and flt.highValue is None:
        raise validation(f"BETWEEN on {name} needs a 'highValue'")
    compare: dict[str, Callable[[Any], bool]] = {
        "EQ": lambda k: k == low,
        "NEQ": lambda k: k != low,
        "LT": lambda k: k < low,
        "LTE": lambda k: k <= low,
        "GT": lambda k: k > low,
        "GTE": lambda k: k >= low,
        "BETWEEN": lambda k: low <= k <= high,
    }
    test = compare[op]

    def pred(rec: Record) -> bool:
        raw = rec.props.get(name)
        key = sort_key(ptype, raw) if raw else None
        if key is None:
            return op == "NEQ"  # a record without the value is "not equal" to anything
        try:
            return test(key)
        except TypeError:
            return False

    return pred


def _sort_of(req: SearchRequest, object_type: str) -> tuple[str, bool]:
    if not req.sorts:
        return OBJECT_TYPES[object_type].created_prop, False
    first = req.sorts[0]  # HubSpot honours only one sort rule
    if isinstance(first, str):
        return first.lstrip("-"), first.startswith("-")
    return first.propertyName, first.direction == "DESCENDING"


def _narrow(store: Store, object_type: str, req: SearchRequest, sort_prop: str) -> list[str] | None:
    """With one group holding a range filter on the sort property, bisect the index."""
    if len(req.filterGroups) != 1:
        return None
    ptype = _prop_type(store, object_type, sort_prop)
    low: Any = None
    high: Any = None
    found = False
    for flt in req.filterGroups[0].filters:
        if flt.propertyName != sort_prop or flt.operator not in _RANGE_OPS or flt.value is None:
            continue
        key = _filter_key(ptype, flt.value, sort_prop)
        if flt.operator in ("GT", "GTE", "EQ", "BETWEEN"):
            low = key if low is None else max(low, key)
        if flt.operator in ("LT", "LTE", "EQ"):
            high = key if high is None else min(high, key)
        if flt.operator == "BETWEEN" and flt.highValue is not None:
            hk = _filter_key(ptype, flt.highValue, sort_prop)
            high = hk if high is None else min(high, hk)
        found = True
    if not found:
        return None
    if low is not None and high is not None and low > high:
        return []
    return store.range_ids(object_type, sort_prop, low, high)


def _query_predicate(object_type: str, query: str) -> Predicate:
    needle = query.strip().lower()
    fields = OBJECT_TYPES[object_type].searchable

    def pred(rec: Record) -> bool:
        return any(needle in rec.props.get(f, "").lower() for f in fields)

    return pred


def run_search(
    store: Store, object_type: str, req: SearchRequest
) -> tuple[int, list[Record], int | None]:
    """(total, page, next offset or None). Call with the store lock held."""
    check_limits(req)
    offset = offset_of(req)
    if offset + req.limit > RESULT_CAP:
        raise validation(
            f"Paging beyond {RESULT_CAP} results is not supported: after={offset}, "
            f"limit={req.limit}. Narrow the query (e.g. by last modified date) instead."
        )
    groups = [
        [compile_filter(store, object_type, f) for f in g.filters]
        for g in req.filterGroups
        if g.filters
    ]
    if req.query:
        query_pred = _query_predicate(object_type, req.query)
        groups = [[*g, query_pred] for g in groups] or [[query_pred]]
    sort_prop, descending = _sort_of(req, object_type)
    narrowed = _narrow(store, object_type, req, sort_prop)
    if narrowed is not None:
        ordered: Iterable[str] = reversed(narrowed) if descending else narrowed
    else:
        ordered = store.ordered(object_type, sort_prop, descending=descending)
    total = 0
    page: list[Record] = []
    end = offset + req.limit
    now = now_ms()
    for live in store.live(object_type, ordered):
        rec = store.search_view(live, now)
        if rec is None:
            continue
        if groups and not any(all(p(rec) for p in g) for g in groups):
            continue
        if offset <= total < end:
            page.append(rec)
        total += 1
    next_offset = end if end < total else None
    return total, page, next_offset
