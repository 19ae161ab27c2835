"""The `{"data": [...], "meta": {...}}` envelope and its page arithmetic.

Choices (the spec is loose here, see the module docs in __init__):
- `totalItems` is the grand total (what clients and examples rely on);
- `totalPages` is at least 1, so an empty list is one empty page (Laravel's `lastPage`);
- a page past the end serves the last page again and `meta.page` names the page served,
  except where the caller asks for "no results" (user progress).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
from fastapi import Response

T = TypeVar("T")


def page_window(
    total: int, page: int, per_page: int, *, past_end_repeats_last: bool = True
) -> tuple[int, int, dict[str, int]]:
    """Slice bounds and the meta block for `page` of a `total`-item list."""
    total_pages = max(1, math.ceil(total / per_page))
    if page > total_pages and past_end_repeats_last:
        page = total_pages
    start = (page - 1) * per_page
    end = min(start + per_page, total) if page <= total_pages else start
    meta = {"page": page, "totalItems": total, "totalPages": total_pages, "itemsPerPage": per_page}
    return start, end, meta


def paginate(
    items: Sequence[T],
    page: int,
    per_page: int,
    render: Callable[[T], Any],
    *,
    past_end_repeats_last: bool = True,
) -> Response:
    start, end, meta = page_window(
        len(items), page, per_page, past_end_repeats_last=past_end_repeats_last
    )
    return json_response({"data": [render(item) for item in items[start:end]], "meta": meta})


def json_response(body: Any, status_code: int = 200) -> Response:
    # orjson serializes stored records (kept as JSON bytes, see store.py) via orjson.Fragment.
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")
