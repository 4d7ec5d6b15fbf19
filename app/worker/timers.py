"""The case clock in the worker: timers kept from decisions, fired when due.

- `timer_specs`: the timers a decision asks for (its running deadlines with a
  timer); the pipeline stores them with every recorded decision, so a later
  decision moves or drops them (docs/playbook.md, "Clocks").
- `TimerPoller`: at most once per poll interval, the worker turns due timers
  into events of priority TIMER (below live webhooks, above replays). The store
  does it in one transaction with a dedupe key per deadline, so several workers
  and crashes still fire each deadline once; a timer never fires before its
  `fire_at` (the midnight after the due day, UTC).
- `annotate_timer`: the decision history says a timer decided again, and which.

A timer's re-decision reads the ticket fresh, decides with the day it runs on,
and writes only when the outcome changed (the decision marker); it is never
held as an echo of our own last write: the ticket did not change, the clock did.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.routing import Decision
from app.store import EventStore, StoredEvent, StoreUnavailable, TimerSpec

log = logging.getLogger("app.worker")
TIMER_SOURCE = "timer"
FIRE_LIMIT = 100


def is_timer_event(event: StoredEvent) -> bool:
    return event.source == TIMER_SOURCE and isinstance(event.payload.get("timer"), dict)


def timer_specs(decision: Decision | None) -> list[TimerSpec]:
    """One timer per running deadline kind that asks for one."""
    if decision is None:
        return []
    specs = {
        d.kind: TimerSpec(d.kind, d.due, d.over_at, d.what, d.then)
        for d in decision.deadlines
        if d.timer and not d.over
    }
    return list(specs.values())


def annotate_timer(decision: dict[str, Any], event: StoredEvent) -> dict[str, Any]:
    """The stored decision says a timer triggered it, and which deadline (returned)."""
    if not is_timer_event(event):
        return decision
    timer = dict(event.payload["timer"])
    decision["trigger"] = {"kind": "timer", "deadline": timer.get("kind"), "timer": timer}
    why = (
        f"decided again because the {timer.get('kind')} clock ran out "
        f"(last day {timer.get('due_on')}; {timer.get('what')}); no webhook"
    )
    decision.setdefault("trace", []).insert(0, {"step": "timer", "outcome": "fired", "why": why})
    return decision


class TimerPoller:
    """Fires due timers, at most once per `interval` seconds (monotonic)."""

    def __init__(
        self,
        store: EventStore,
        clock: Callable[[], datetime],
        interval: float,
        on_fired: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.interval = interval
        self.on_fired = on_fired
        self._last: float | None = None

    async def poll(self) -> int:
        """Fire what is due now, unless polled less than `interval` ago."""
        now = time.monotonic()
        if self._last is not None and now - self._last < self.interval:
            return 0
        self._last = now
        try:
            fired = await self.store.fire_due_timers(self.clock(), limit=FIRE_LIMIT)
        except StoreUnavailable as exc:
            log.error("store unavailable, timers wait: %s", exc)
            return 0
        if fired:
            log.info("timers fired", extra={"fired": fired})
            if self.on_fired is not None:
                self.on_fired(fired)
            if fired >= FIRE_LIMIT:
                self._last = None  # more may be due: look again at once
        return fired
