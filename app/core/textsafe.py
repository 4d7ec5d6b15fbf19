"""Make decoded JSON storable anywhere: no NUL, no lone surrogates, no NaN.

All three are legal in Python strings (and JSON escapes) but not in UTF-8 text
or PostgreSQL's jsonb; they are replaced, so the event or decision is kept.
"""

from __future__ import annotations

import json
import math
from typing import Any

REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {clean_text(str(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """The JSON serializer of the PostgreSQL store."""
    return json.dumps(clean(value), ensure_ascii=False, default=str)
