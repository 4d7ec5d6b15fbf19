"""What every sandbox store shares: one lock, id sequences, timestamps, the base URL.

The state is mutated by handlers on the uvicorn thread and read by tests on the
main thread, so every public store method runs under the one re-entrant lock
(`@synchronized`). Everything is in memory, so the lock is held for microseconds.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

Json = dict[str, Any]

# First id of each sequence: stable across runs and resets, far apart so an id
# says what it is (a group id can never be mistaken for a ticket id in a test).
ID_STARTS: dict[str, int] = {
    "group": 360000001,
    "macro": 360100001,
    "ticket_form": 360200001,
    "brand": 360300001,
    "trigger": 360400001,
    "user": 361000001,
    "organization": 362000001,
    "user_field": 363000001,
    "organization_field": 363100001,
    "ticket_field": 900000001,
    "field_option": 900100001,
    "ticket": 5100001,
    "comment": 7100000001,
    "audit": 7200000001,
    "event": 7300000001,
    "webhook": 1,
    "job": 1,
}


class Ids:
    """Monotonic integer sequences, one per kind, restartable."""

    def __init__(self) -> None:
        self._next: dict[str, int] = dict(ID_STARTS)

    def next(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    def reset(self) -> None:
        self._next = dict(ID_STARTS)


class Stamper:
    """Timestamps in integer microseconds, strictly increasing.

    Two updates in the same microsecond still get different `updated_at`
    values, so a safe update can always tell them apart.
    """

    def __init__(self, wall_clock: Callable[[], float]) -> None:
        self._wall_clock = wall_clock
        self._last = 0

    def now(self) -> int:
        """The current wall time in microseconds (not necessarily unique)."""
        return int(self._wall_clock() * 1_000_000)

    def next(self) -> int:
        """A unique, strictly increasing timestamp for a change."""
        self._last = max(self.now(), self._last + 1)
        return self._last


def iso(us: int) -> str:
    """Microseconds since the epoch -> `2024-06-10T12:00:00.123456Z`."""
    seconds, micros = divmod(us, 1_000_000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{micros:06d}Z"


_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_iso(text: str) -> int | None:
    """An ISO-8601 date or date-time (naive = UTC) -> microseconds, None if invalid."""
    text = text.strip()
    if not _ISO.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class Context:
    """Shared by the stores of one `SandboxState`."""

    def __init__(self, wall_clock: Callable[[], float], base_url: str) -> None:
        self.lock = threading.RLock()
        self.ids = Ids()
        self.stamps = Stamper(wall_clock)
        self.base_url = base_url.rstrip("/")

    def api_url(self, path: str) -> str:
        """The `url` property of a resource, as Zendesk renders it."""
        return f"{self.base_url}/api/v2/{path}.json"


class _Locked(Protocol):
    @property
    def lock(self) -> threading.RLock: ...


S = TypeVar("S", bound=_Locked)
P = ParamSpec("P")
R = TypeVar("R")


def synchronized(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a store method under the store's lock."""

    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            return method(self, *args, **kwargs)

    functools.update_wrapper(wrapper, method)
    return wrapper
