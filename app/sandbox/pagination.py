"""Zendesk's two pagination styles over an already sorted list.

Cursor (`page[size]`, `page[after]`, `page[before]`) answers `meta`/`links`;
without `page[...]` parameters the list endpoints answer offset style
(`page`, `per_page` -> `next_page`, `previous_page`, `count`), as Zendesk does.
Cursors are opaque to clients: base64 of the sort key of the boundary record,
so a record added or removed between pages neither repeats nor skips others.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request

from app.sandbox.context import Json
from app.sandbox.errors import ZendeskError

MAX_PAGE_SIZE = 100
MAX_OFFSET_RECORDS = 10_000  # offset pagination stops at 100 pages of 100

SortKey = Callable[[Any], Any]  # JSON-native (int, str, list): it goes into the cursor
Render = Callable[[Any], Json]


def _by_id(record: Json) -> Any:
    return record["id"]


def _as_is(record: Any) -> Json:
    rendered: Json = record
    return rendered


def invalid_pagination(description: str) -> ZendeskError:
    return ZendeskError(400, {"error": "InvalidPaginationParameter", "description": description})


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid_pagination("Invalid cursor") from exc


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise invalid_pagination(f"{name} must be an integer") from exc
    if not low <= value <= high:
        raise invalid_pagination(f"{name} must be between {low} and {high}")
    return value


def with_params(request: Request, drop: Sequence[str] = (), **params: Any) -> str:
    url = request.url.remove_query_params(list(drop) + list(params))
    return str(url.include_query_params(**params))


def paginate(
    request: Request,
    key: str,
    items: Sequence[Any],
    sort_key: SortKey = _by_id,
    render: Render = _as_is,
) -> Json:
    """`{key: page, ...}` in the style the request asked for.

    `items` are sorted by `sort_key`; only the records of the page are `render`ed.
    """
    if any(name.startswith("page[") for name in request.query_params):
        return cursor_page(request, key, items, sort_key, render)
    return offset_page(request, key, items, render)


def cursor_page(
    request: Request,
    key: str,
    items: Sequence[Any],
    sort_key: SortKey = _by_id,
    render: Render = _as_is,
) -> Json:
    size = int_param(request, "page[size]", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    after = request.query_params.get("page[after]")
    before = request.query_params.get("page[before]")
    if after:
        bound = decode_cursor(after)
        page = [item for item in items if _gt(sort_key(item), bound)][:size]
    elif before:
        bound = decode_cursor(before)
        page = [item for item in items if _gt(bound, sort_key(item))][-size:]
    else:
        page = list(items[:size])
    first = sort_key(page[0]) if page else None
    last = sort_key(page[-1]) if page else None
    more_after = bool(page) and any(_gt(sort_key(item), last) for item in items)
    more_before = bool(page) and any(_gt(first, sort_key(item)) for item in items)
    after_cursor = encode_cursor(last) if page else None
    before_cursor = encode_cursor(first) if page else None
    cursor_drop = ("page[after]", "page[before]")
    return {
        key: [render(item) for item in page],
        "meta": {
            "has_more": more_before if before and not after else more_after,
            "after_cursor": after_cursor,
            "before_cursor": before_cursor,
        },
        "links": {
            "next": with_params(request, cursor_drop, **{"page[after]": after_cursor})
            if more_after
            else None,
            "prev": with_params(request, cursor_drop, **{"page[before]": before_cursor})
            if more_before
            else None,
        },
    }


def offset_page(request: Request, key: str, items: Sequence[Any], render: Render = _as_is) -> Json:
    per_page = int_param(request, "per_page", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    number = int_param(request, "page", 1, 1, MAX_OFFSET_RECORDS)
    start = (number - 1) * per_page
    if start >= MAX_OFFSET_RECORDS:
        raise invalid_pagination("Offset pagination is limited to the first 10000 records")
    end = start + per_page
    return {
        key: [render(item) for item in items[start:end]],
        "next_page": with_params(request, page=number + 1) if end < len(items) else None,
        "previous_page": with_params(request, page=number - 1) if number > 1 else None,
        "count": len(items),
    }


def _gt(left: Any, right: Any) -> bool:
    """`left > right` for sort keys of one kind; keys of mixed kinds compare as text."""
    try:
        return bool(left > right)
    except TypeError:
        return str(left) > str(right)
