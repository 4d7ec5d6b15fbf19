"""Keys of a JSON object that its model does not know: a typo like `"contracts"` would
otherwise be dropped in silence and the decision made without the contract.

    keys = unknown_keys(raw_json, TicketFacts)       # ["contracts"]
    decision = with_unknown_keys(decision, keys, raw_json, TicketFacts)

The decision is unchanged but for one more trace step (`step: "facts"`, `outcome:
"unknown_keys"`) naming each key and, where one is close, the key that was meant.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel

from .decision import Decision, TraceStep


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside `M`, `M | None`, `list[M]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if (found := _model_in(arg)) is not None:
            return found
    return None


def _known(model: type[BaseModel]) -> set[str]:
    fields = model.model_fields
    return set(fields) | {f.alias for f in fields.values() if f.alias}


def unknown_keys(raw: object, model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted paths (`contract.payments[0].knid`) of every key `model` would ignore."""
    if not isinstance(raw, dict):
        return []
    found: list[str] = []
    known = _known(model)
    for key, value in raw.items():
        if key not in known:
            found.append(f"{prefix}{key}")
            continue
        inner = _model_in(model.model_fields[key].annotation)
        if inner is None:
            continue
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            where = f"{prefix}{key}" if index is None else f"{prefix}{key}[{index}]"
            found += unknown_keys(item, inner, f"{where}.")
    return found


def _siblings(path: str, model: type[BaseModel]) -> list[str]:
    """The known keys beside the last part of `path`."""
    for part in path.split(".")[:-1]:
        name = part.split("[", 1)[0]
        inner = _model_in(model.model_fields[name].annotation) if name in _known(model) else None
        if inner is None:
            return []
        model = inner
    return sorted(_known(model))


def _hint(path: str, model: type[BaseModel]) -> str:
    last, siblings = path.rsplit(".", 1)[-1], _siblings(path, model)
    close = difflib.get_close_matches(last, siblings, n=1, cutoff=0.6)
    if close:
        return f' (did you mean "{path[: len(path) - len(last)]}{close[0]}"?)'
    if 0 < len(siblings) <= 5:  # few: name them all ("today" where "now" is meant)
        return f" (known here: {', '.join(siblings)})"
    return ""


def describe_unknown(keys: list[str], model: type[BaseModel]) -> str:
    return "ignored unknown keys: " + ", ".join(f'"{key}"{_hint(key, model)}' for key in keys)


def with_unknown_keys(decision: Decision, keys: list[str], model: type[BaseModel]) -> Decision:
    """`decision` with a warning step in its trace when `keys` is not empty."""
    if not keys:
        return decision
    step = TraceStep(step="facts", outcome="unknown_keys", why=describe_unknown(keys, model))
    return decision.model_copy(update={"trace": [*decision.trace, step]})
