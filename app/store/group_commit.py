"""Group commit: concurrent `accept()` calls share one transaction.

Every webhook must be stored before its 200. One transaction per webhook makes
each pay the whole round of a transaction (and on SQLite an fsync, one at a
time); here the webhooks that arrive while a commit runs wait for the next one,
and all of them are committed together. No delay is added: an idle intake
commits the first webhook at once.

The adapters supply `commit(items) -> [(event_id, duplicate)]`, one answer per
item in order, with one-by-one semantics: a key stored before, or earlier in
the batch, is a duplicate carrying the first event's id. If a batch cannot be
committed, every caller in it gets the error (the webhook answers 503):
nothing is acknowledged that was not stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from app.store.base import AcceptResult

#: upper bound of one transaction; more waiting callers go in the next one
MAX_BATCH = 1000

Item = TypeVar("Item")
Commit = Callable[[Sequence[Item]], Awaitable[Sequence[tuple[int, bool]]]]


class GroupCommit(Generic[Item]):
    def __init__(
        self,
        commit: Commit[Item],
        *,
        on_new_work: Callable[[], None],
        max_batch: int = MAX_BATCH,
        name: str = "group-commit",
    ) -> None:
        self._commit = commit
        self._on_new_work = on_new_work
        self._max_batch = max_batch
        self._name = name
        self._pending: list[tuple[Item, bool, asyncio.Future[AcceptResult]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: Item, *, processable: bool) -> AcceptResult:
        future: asyncio.Future[AcceptResult] = asyncio.get_running_loop().create_future()
        self._pending.append((item, processable, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=self._name)
        # A cancelled caller cancels only its own future, not the batch: the event
        # may still be stored, and Zendesk's retry of it is then a duplicate.
        return await future

    async def drain(self) -> None:
        """Wait for the batches under way (before closing what they write to)."""
        if self._flusher is not None and not self._flusher.done():
            await asyncio.wait([self._flusher])

    async def _flush(self) -> None:
        while self._pending:
            cut = self._max_batch
            batch, self._pending = self._pending[:cut], self._pending[cut:]
            try:
                results = await self._commit([item for item, _, _ in batch])
            except Exception as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (shutdown): nobody is told "stored"
                for _, _, future in batch:
                    future.cancel()
                raise
            new_work = False
            for (_, processable, future), (event_id, duplicate) in zip(batch, results, strict=True):
                new_work = new_work or (processable and not duplicate)
                if not future.done():
                    future.set_result(AcceptResult(event_id=event_id, duplicate=duplicate))
            if new_work:
                self._on_new_work()
