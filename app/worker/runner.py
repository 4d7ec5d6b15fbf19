"""The worker loop: claim with leases, process with bounded concurrency, stop cleanly.

A crash anywhere leaves leased events to expire and be claimed again; a clean
stop (SIGTERM) finishes what it holds within the grace period and releases the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from typing import Any

from app.runtime.container import Services
from app.store import StoredEvent, StoreUnavailable
from app.worker.batch import BatchPipeline
from app.worker.pipeline import Result, pipeline_for
from app.worker.retry_policy import decide_retry, describe
from app.worker.timers import TimerPoller
from app.zendesk import UnknownName, ZendeskAPIError

log = logging.getLogger("app.worker")


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(self, services: Services, *, owner: str | None = None) -> None:
        self.services = services
        self.owner = owner or default_owner()
        self.concurrency = services.settings.worker_concurrency
        self.pipeline = pipeline_for(services)
        self.batch = BatchPipeline(self.pipeline)
        self._stopping = asyncio.Event()
        self._drained = asyncio.Event()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self.timers = TimerPoller(
            services.store,
            services.clock,
            services.settings.poll_interval_seconds,
            on_fired=services.metrics.timers_fired.inc,
        )

    async def run(self) -> None:
        log.info("worker started", extra={"owner": self.owner, "concurrency": self.concurrency})
        while not self._stopping.is_set():
            if self._free_slots() > 0:  # due deadlines become TIMER events first
                await self.timers.poll()
            claimed = await self._claim()
            if not claimed:
                await self._idle()
        await self._drained.wait()

    def _free_slots(self) -> int:
        return self.concurrency - len(set(self._inflight.values()))

    async def _claim(self) -> int:
        free = self._free_slots()
        if free <= 0:
            return 0
        settings = self.services.settings
        try:
            events = await self._lease(free)
            if len(events) == free and settings.batch_size > free:
                # A full claim means a backlog: take a batch for one bulk job.
                events += await self._lease(settings.batch_size - free)
        except StoreUnavailable as exc:
            log.error("store unavailable, worker waits: %s", exc)
            return 0
        if len(events) >= settings.batch_min_events:
            task = asyncio.create_task(self._process_batch(events))
            for event in events:
                self._inflight[event.id] = task
            return len(events)
        for event in events:
            self._inflight[event.id] = asyncio.create_task(self._process(event))
        return len(events)

    async def _lease(self, limit: int) -> list[StoredEvent]:
        claimed = await self.services.store.claim(
            self.owner,
            limit=limit,
            lease_seconds=self.services.settings.lease_seconds,
            now=self.services.clock(),
        )
        cap = self.services.settings.max_lease_expiries
        for event in (e for e in claimed if e.lease_expiries >= cap):
            await self._poisoned(event)
        return [e for e in claimed if e.lease_expiries < cap]

    async def _poisoned(self, event: StoredEvent) -> None:
        """A worker died every time it held this event: taking it again would kill the
        next one and keep its ticket blocked, so it goes to the dead letters, where an
        operator sees why and can retry it once the cause is fixed."""
        reason = (
            f"a worker stopped {event.lease_expiries} times while holding this event "
            f"(MAX_LEASE_EXPIRIES={self.services.settings.max_lease_expiries}); "
            f"last: {event.last_error or 'unknown'}"
        )
        ctx = {"event_id": event.id, "ticket_id": event.ticket_id}
        try:
            await self._dead_letter(event, reason, "LeaseExpired", ctx)
        except StoreUnavailable as exc:  # its lease expires again: the next claim retries
            log.error("could not dead-letter a poison event: %s", exc, extra=ctx)

    async def _dead_letter(
        self, event: StoredEvent, reason: str, kind: str, ctx: dict[str, Any]
    ) -> None:
        if not await self.services.store.dead_letter(event.id, self.owner, reason=reason):
            return  # the lease was lost meanwhile: its new holder decides
        self.services.metrics.dead_letters.labels(kind).inc()
        self.services.metrics.processed.labels("dead").inc()
        log.error("event dead-lettered: %s", reason, extra=ctx)

    async def _idle(self) -> None:
        waiters: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(self._stopping.wait()),
            asyncio.ensure_future(
                self.services.store.wait_for_work(self.services.settings.poll_interval_seconds)
            ),
            *set(self._inflight.values()),
        ]
        own = waiters[:2]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in own:
            waiter.cancel()

    async def stop(self, grace_seconds: float = 20.0) -> None:
        """Stop claiming; let in-flight events finish, then release what is left."""
        self._stopping.set()
        tasks = list(set(self._inflight.values()))
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._drained.set()
        log.info("worker stopped", extra={"owner": self.owner})

    async def _heartbeat(self, *event_ids: int) -> None:
        """Every third of a lease, all of a batch's leases in one transaction (one
        per event let a busy store fall behind and another worker re-claim)."""
        lease = self.services.settings.lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            with contextlib.suppress(StoreUnavailable):
                await self.services.store.extend_leases(
                    event_ids, self.owner, lease_seconds=lease, now=self.services.clock()
                )

    async def _process_batch(self, events: list[StoredEvent]) -> None:
        beat = asyncio.create_task(self._heartbeat(*(e.id for e in events)))
        log.info("processing a batch of %d events", len(events))
        try:
            outcomes = await self.batch.handle_many(events, self.services.clock().date())
            for event in events:
                outcome = outcomes.get(event.id) or RuntimeError("no outcome for event")
                ctx = {"event_id": event.id, "ticket_id": event.ticket_id}
                if isinstance(outcome, BaseException):
                    await self._failed(event, outcome, ctx)
                else:
                    await self._succeeded(event, outcome, ctx)
        except asyncio.CancelledError:
            for event in events:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.services.store.release(event.id, self.owner))
            raise
        except Exception as exc:
            for event in events:
                await self._failed(event, exc, {"event_id": event.id, "ticket_id": event.ticket_id})
        finally:
            beat.cancel()
            for event in events:
                self._inflight.pop(event.id, None)

    async def _succeeded(self, event: StoredEvent, result: Result, ctx: dict[str, Any]) -> None:
        await self.services.store.complete(event.id, self.owner)
        metrics = self.services.metrics
        metrics.processed.labels(result.outcome).inc()
        if result.decision_id is not None:
            metrics.decisions.labels(result.queue or "none", result.eligibility or "none").inc()
        metrics.latency.observe((self.services.clock() - event.received_at).total_seconds())
        log.info(
            "event %s",
            result.outcome,
            extra=ctx | {"decision_id": result.decision_id, "queue": result.queue},
        )

    async def _process(self, event: StoredEvent) -> None:
        beat = asyncio.create_task(self._heartbeat(event.id))
        ctx = {"event_id": event.id, "ticket_id": event.ticket_id}
        try:
            result = await self.pipeline.handle(event, self.services.clock().date())
            await self._succeeded(event, result, ctx)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.services.store.release(event.id, self.owner))
            raise
        except Exception as exc:  # every failure is recorded, none is lost
            await self._failed(event, exc, ctx)
        finally:
            beat.cancel()
            self._inflight.pop(event.id, None)

    async def _failed(self, event: StoredEvent, exc: BaseException, ctx: dict[str, Any]) -> None:
        if isinstance(exc, UnknownName):
            with contextlib.suppress(Exception):
                await self.services.catalog.refresh()
        retry_after = exc.retry_after if isinstance(exc, ZendeskAPIError) else None
        verdict = decide_retry(
            exc,
            attempts=event.attempts,
            max_attempts=self.services.settings.max_attempts,
            now=self.services.clock(),
            retry_after=retry_after,
        )
        store, metrics = self.services.store, self.services.metrics
        try:
            if verdict.dead:
                await self._dead_letter(event, verdict.reason, type(exc).__name__, ctx)
            else:
                assert verdict.retry_at is not None
                await store.fail(
                    event.id, self.owner, error=verdict.reason, retry_at=verdict.retry_at
                )
                metrics.processed.labels("retry").inc()
                log.warning(
                    "event failed, retry at %s: %s",
                    verdict.retry_at.isoformat(),
                    describe(exc),
                    extra=ctx,
                )
        except StoreUnavailable as store_exc:
            log.error(
                "could not record failure (lease will expire and retry): %s", store_exc, extra=ctx
            )
