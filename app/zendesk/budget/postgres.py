"""`PostgresRateBudget`: one Zendesk rate budget for every process on one database.

Implements the `RateBudget` protocol (`app/zendesk/ratelimit.py`), so the
Zendesk client uses it unchanged. What is shared, and how:

- our own limit per window (`ZENDESK_RATE_LIMIT_PER_MINUTE` for the account
  window): a sliding log of grants, `zendesk_rate_grants`. A call goes when
  fewer than `limit - reserve` grants of the last `window_seconds` exist, all
  processes counted; the check and the grant happen under the window row's
  lock, in one transaction, so two processes never both take the last call;
- Zendesk's headers: whatever any process reads (`remaining`, `limit`, reset
  time) goes to the window row and is counted down by every grant, so all
  processes slow down together until the window resets; a 429's Retry-After
  (`penalize`) holds every call of every process until then, and later
  headers do not lift it;
- priorities: the reserves of the in-process limiter (LIVE 0, REPLAY 10 %,
  BACKFILL 30 %), and a caller waiting on a window announces it in
  `zendesk_rate_waiters`, so lower priorities in any process let it go first.

Time is the database's clock (`clock_timestamp()`), so processes on machines
with skewed clocks agree on windows. One attempt is one short transaction
(lock the rows in name order, read the state, grant or announce the wait,
commit); a waiting caller sleeps for what the state says (at most `max_step`)
and asks again.

When PostgreSQL cannot answer (down, timeouts, lock waits), calls fall back to
an in-process `RateLimiter` fed by the same headers, and the database is tried
again after `retry_db_after` seconds: Zendesk calls never wait on the budget's
database, and 429s are still honoured by the client.

The connection pool opens on first use, in the running event loop; the tables
are created idempotently then (see `schema.py`). Close with `aclose()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg

from app.zendesk import Priority, RateBudget, RateLimiter
from app.zendesk.budget.policy import (
    DEFAULT_REQUESTS_PER_MINUTE,
    Verdict,
    WindowState,
    own_cap,
    verdict,
)
from app.zendesk.budget.schema import DDL, DDL_LOCK_KEY, postgres_target, quote_ident
from app.zendesk.models import Sleep
from app.zendesk.ratelimit import (
    ACCOUNT,
    DEFAULT_RESERVES,
    DEFAULT_RESET_SECONDS,
    MAX_RESET_SECONDS,
    Observation,
    read_headers,
)

log = logging.getLogger("app.zendesk.budget")

APPLICATION_NAME = "dispute-triage-budget"  # pg_stat_activity.application_name
_MAX_CONFLICT_RETRIES = 5
_CONFLICT_STATES = {"40001", "40P01"}  # serialization failure, deadlock: just ask again

_DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)

_ENSURE_ROWS = """
INSERT INTO zendesk_rate_windows (scope, name)
SELECT $1, unnest($2::text[])
ON CONFLICT DO NOTHING
"""

# Statement 1: the row locks, in a fixed (byte) order so lockers never deadlock.
_LOCK = """
SELECT name, observed_remaining, observed_limit, observed_reset_at, penalty_until
FROM zendesk_rate_windows
WHERE scope = $1 AND name = ANY($2::text[])
ORDER BY name COLLATE "C"
FOR UPDATE
"""

# Statement 2, a new snapshot under the locks: it sees every grant committed by
# whoever held them before. Per window: grants in the window, when enough of
# them leave for this caller's cap, and whether a higher priority waits on it.
_STATE = """
WITH t AS (SELECT clock_timestamp() AS now)
SELECT x.name, t.now, c.used,
       CASE WHEN x.cap IS NOT NULL AND c.used >= x.cap THEN (
           SELECT g.granted_at FROM zendesk_rate_grants g
           WHERE g.scope = $1 AND g.name = x.name
             AND g.granted_at > t.now - make_interval(secs => $4)
           ORDER BY g.granted_at
           OFFSET c.used - x.cap LIMIT 1
       ) END AS leaves_at,
       EXISTS (
           SELECT 1 FROM zendesk_rate_waiters q
           WHERE q.scope = $1 AND q.name = x.name AND q.priority < $5
             AND q.until > t.now AND q.waiter <> $6
       ) AS outranked
FROM unnest($2::text[], $3::int[]) AS x(name, cap)
CROSS JOIN t
CROSS JOIN LATERAL (
    SELECT count(*)::int AS used FROM zendesk_rate_grants g
    WHERE x.cap IS NOT NULL AND g.scope = $1 AND g.name = x.name
      AND g.granted_at > t.now - make_interval(secs => $4)
) AS c
"""

# Statement 3a: the call goes. Log it in its own windows, drop grants that left
# them, forget this caller's wait, count Zendesk's remaining down.
_GRANT = """
WITH purge AS (
    DELETE FROM zendesk_rate_grants
    WHERE scope = $1 AND name = ANY($2::text[])
      AND granted_at <= $3::timestamptz - make_interval(secs => $4)
), logged AS (
    INSERT INTO zendesk_rate_grants (scope, name, granted_at)
    SELECT $1, unnest($2::text[]), $3::timestamptz
), forget AS (
    DELETE FROM zendesk_rate_waiters WHERE scope = $1 AND waiter = $5
)
UPDATE zendesk_rate_windows
SET observed_remaining = observed_remaining - 1
WHERE scope = $1 AND name = ANY($6::text[])
  AND observed_remaining IS NOT NULL AND observed_reset_at > $3::timestamptz
"""

# Statement 3b: the call waits. Announce it on the windows it waits for (until a
# little after it will ask again), drop its other announcements and long-dead ones.
_WAIT = """
WITH purge AS (
    DELETE FROM zendesk_rate_waiters
    WHERE scope = $1 AND (
        (waiter = $3 AND NOT (name = ANY($2::text[])))
        OR (waiter <> $3 AND until < $4::timestamptz - interval '1 minute')
    )
)
INSERT INTO zendesk_rate_waiters (scope, name, waiter, priority, until)
SELECT $1, unnest($2::text[]), $3, $5, $4::timestamptz + make_interval(secs => $6)
ON CONFLICT (scope, name, waiter)
DO UPDATE SET priority = EXCLUDED.priority, until = EXCLUDED.until
"""

_FORGET = "DELETE FROM zendesk_rate_waiters WHERE scope = $1 AND waiter = $2"

# Headers any process read, newest observation wins (observation time on the
# database clock: now minus how long ago this process read them).
_OBSERVE = """
INSERT INTO zendesk_rate_windows AS w
    (scope, name, observed_remaining, observed_limit, observed_reset_at, observed_at)
SELECT $1, o.name, o.remaining, o.lim,
       clock_timestamp() + make_interval(secs => o.resets_in - o.age),
       clock_timestamp() - make_interval(secs => o.age)
FROM unnest($2::text[], $3::int[], $4::int[], $5::float8[], $6::float8[])
     AS o(name, remaining, lim, resets_in, age)
ON CONFLICT (scope, name) DO UPDATE SET
    observed_remaining = EXCLUDED.observed_remaining,
    observed_limit = COALESCE(
        EXCLUDED.observed_limit,
        GREATEST(
            EXCLUDED.observed_remaining,
            CASE WHEN w.observed_reset_at > clock_timestamp() THEN w.observed_limit END
        )
    ),
    observed_reset_at = EXCLUDED.observed_reset_at,
    observed_at = EXCLUDED.observed_at
WHERE w.observed_at IS NULL OR w.observed_at <= EXCLUDED.observed_at
"""


# A 429's Retry-After: nothing goes before then (only ever pushed later).
_PENALIZE = """
INSERT INTO zendesk_rate_windows AS w (scope, name, penalty_until)
VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
ON CONFLICT (scope, name) DO UPDATE
SET penalty_until = GREATEST(w.penalty_until, EXCLUDED.penalty_until)
"""


class BudgetSettings(Protocol):
    """What `budget_for` reads from `app.core.settings.Settings`."""

    @property
    def database_url(self) -> str: ...

    @property
    def zendesk_url(self) -> str: ...


def budget_for(
    settings: BudgetSettings,
    *,
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
    **options: Any,
) -> PostgresRateBudget | None:
    """The shared budget when `DATABASE_URL` is PostgreSQL, else None (the
    client then keeps its in-process `RateLimiter`: one SQLite file means one
    process). `requests_per_minute` is the account's Zendesk plan limit
    (`ZENDESK_RATE_LIMIT_PER_MINUTE`); `options` go to `PostgresRateBudget`."""
    target = postgres_target(settings.database_url)
    if target is None:
        return None
    return PostgresRateBudget(
        target.dsn,
        schema=target.schema,
        scope=settings.zendesk_url,
        limits={ACCOUNT: requests_per_minute},
        display=target.redacted,
        **options,
    )


@dataclass(frozen=True, slots=True)
class _Outcome:
    verdict: Verdict
    step: float


class PostgresRateBudget:
    """A `RateBudget` whose state lives in PostgreSQL (see the module docstring).

    dsn: `postgresql://…` for asyncpg; schema: where the tables live (the
    store's `?schema=`), created if missing; scope: the Zendesk account (its
    base URL); limits: our own limit per window name and `window_seconds`
    ({"account": 700} per minute by default; windows not named here are
    limited by Zendesk's headers only); reserves: per priority, as
    `RateLimiter`; max_step: longest single sleep before asking again; tick:
    how long an outranked caller yields; waiter_grace: how long a wait
    announcement outlives the next check (a crashed waiter's announcement
    lapses after that).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        scope: str = "default",
        limits: Mapping[str, int] | None = None,
        window_seconds: float = 60.0,
        reserves: Mapping[Priority, float] = DEFAULT_RESERVES,
        max_step: float = 5.0,
        tick: float = 0.05,
        waiter_grace: float = 2.0,
        default_reset: float = DEFAULT_RESET_SECONDS,
        max_reset: float = MAX_RESET_SECONDS,
        pool_size: int = 2,
        connect_timeout: float = 5.0,
        command_timeout: float = 5.0,
        lock_timeout: float = 3.0,
        retry_db_after: float = 5.0,
        sleep: Sleep = asyncio.sleep,
        display: str | None = None,
    ) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self._limits = dict({ACCOUNT: DEFAULT_REQUESTS_PER_MINUTE} if limits is None else limits)
        for name, limit in self._limits.items():
            if limit < 1:
                raise ValueError(f"the limit of window {name!r} must be at least 1, got {limit}")
        self._dsn = dsn
        self._schema = schema
        self.scope = scope
        self.window_seconds = window_seconds
        self._reserves = {p: reserves.get(p, 0.0) for p in Priority}
        self._max_step = max_step
        self._tick = tick
        self._waiter_grace = waiter_grace
        self._default_reset = default_reset
        self._max_reset = max_reset
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._lock_timeout = lock_timeout
        self._retry_db_after = retry_db_after
        self._sleep = sleep
        self._display = display or "postgresql://…"
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None
        self._known: set[str] = set()  # window rows known to exist
        self._pending: dict[str, tuple[Observation, float]] = {}  # name -> (seen, monotonic)
        self._penalty_until: float | None = None  # monotonic, not shared yet
        self._flusher: asyncio.Task[None] | None = None
        self._chores: set[asyncio.Task[None]] = set()
        self._down_until: float | None = None  # monotonic; set while the database fails
        self.local = RateLimiter(reserves=reserves, sleep=sleep)  # the fallback
        self.waited_seconds = 0.0
        self.grants = 0  # calls this instance let go through the shared budget
        self.fallbacks = 0  # calls let go by the in-process fallback
        self.closed = False

    def __repr__(self) -> str:
        return f"PostgresRateBudget({self._display!r}, scope={self.scope!r}, limits={self._limits})"

    # -- lifecycle -----------------------------------------------------------

    async def open(self) -> None:
        """Connect and create the tables if missing (done on first use anyway)."""
        await self._connected()

    async def aclose(self) -> None:
        self.closed = True
        tasks = [t for t in (self._flusher, *self._chores) if t is not None and not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=5.0)
            except Exception:  # a close that timed out or failed: drop the sockets
                pool.terminate()

    async def __aenter__(self) -> PostgresRateBudget:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _connected(self) -> asyncpg.Pool:
        if self.closed:
            raise RuntimeError("the rate budget is closed")
        if self._pool is not None:
            return self._pool
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=self._pool_size,
                    timeout=self._connect_timeout,
                    command_timeout=self._command_timeout,
                    server_settings=self._server_settings(),
                )
                try:
                    await self._create_tables(pool)
                except BaseException:
                    pool.terminate()
                    raise
                self._pool = pool
        return self._pool

    def _server_settings(self) -> dict[str, str]:
        settings = {
            "application_name": APPLICATION_NAME,
            "lock_timeout": f"{int(self._lock_timeout * 1000)}ms",
            # a process frozen inside a transaction must not hold the rows for long
            "idle_in_transaction_session_timeout": f"{int(max(self._lock_timeout, 1) * 3000)}ms",
        }
        if self._schema:
            settings["search_path"] = quote_ident(self._schema)
        return settings

    async def _create_tables(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", DDL_LOCK_KEY
            )
            if self._schema:
                exists = "SELECT 1 FROM pg_namespace WHERE nspname = $1"
                if await conn.fetchval(exists, self._schema) is None:
                    try:
                        async with conn.transaction():  # a savepoint: the store may race us
                            await conn.execute(f"CREATE SCHEMA {quote_ident(self._schema)}")
                    except (asyncpg.DuplicateSchemaError, asyncpg.UniqueViolationError):
                        pass
            for statement in DDL:
                await conn.execute(statement)

    # -- observe -------------------------------------------------------------

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn from a response's headers, here and (soon after) for every process."""
        self.local.observe(headers)
        seen = read_headers(headers, default_reset=self._default_reset, max_reset=self._max_reset)
        if not seen or self.closed:
            return
        stamp = time.monotonic()
        for observation in seen:
            self._pending[observation.name] = (observation, stamp)
        self._schedule_flush()

    def penalize(self, seconds: float) -> None:
        """Zendesk answered 429 with Retry-After: no call of any priority, in any
        process, before then (shared soon after; here at once)."""
        self.local.penalize(seconds)
        if self.closed:
            return
        until = time.monotonic() + min(max(seconds, 0.0), self._max_reset)
        self._penalty_until = max(self._penalty_until or 0.0, until)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: nothing to share with
            self._pending.clear()
            self._penalty_until = None
            return
        self._flusher = loop.create_task(self._flush_pending())

    async def flush(self) -> None:
        """Write the observations not shared yet (the budget does it on its own;
        for tests and shutdown)."""
        if self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)
        await self._flush_pending()

    async def _flush_pending(self) -> None:
        while self._pending or self._penalty_until is not None:
            if self._is_down():
                self._pending.clear()  # stale by the time the database is back
                self._penalty_until = None  # the in-process fallback holds it
                return
            batch = sorted(self._pending.items())  # the lock order of `_LOCK`
            self._pending.clear()
            penalty, self._penalty_until = self._penalty_until, None
            now = time.monotonic()
            try:
                pool = await self._connected()
                async with pool.acquire() as conn:
                    # Separate statements (transactions): each locks rows in name order.
                    if penalty is not None and penalty > now:
                        await conn.execute(_PENALIZE, self.scope, ACCOUNT, penalty - now)
                    if not batch:
                        continue
                    await conn.execute(
                        _OBSERVE,
                        self.scope,
                        [name for name, _ in batch],
                        [o.remaining for _, (o, _) in batch],
                        [o.limit for _, (o, _) in batch],
                        [o.resets_in for _, (o, _) in batch],
                        [max(0.0, now - seen) for _, (_, seen) in batch],
                    )
            except _DB_ERRORS as exc:
                if not _conflict(exc):
                    self._went_down(exc)
                    return

    # -- acquire -------------------------------------------------------------

    async def acquire(self, priority: Priority, limits: Sequence[str] = ()) -> float:
        names = sorted({ACCOUNT, *limits})
        waiter = uuid.uuid4().hex
        announced = False
        done = False
        waited = 0.0
        conflicts = 0
        try:
            while True:
                if self._is_down():
                    waited += await self.local.acquire(priority, limits)
                    self.fallbacks += 1
                    return waited
                try:
                    outcome = await self._attempt(names, priority, waiter)
                except _DB_ERRORS as exc:
                    if _conflict(exc) and conflicts < _MAX_CONFLICT_RETRIES:
                        conflicts += 1
                        continue
                    self._went_down(exc)
                    continue
                self._came_back()
                if outcome.verdict.go:
                    done = True  # the grant also dropped this caller's announcements
                    self.grants += 1
                    return waited
                announced = True
                await self._sleep(outcome.step)
                waited += outcome.step
                self.waited_seconds += outcome.step
        finally:
            if announced and not done:
                self._spawn(self._forget(waiter))

    async def _attempt(self, names: list[str], priority: Priority, waiter: str) -> _Outcome:
        fraction = self._reserves[priority]
        caps = [
            own_cap(fraction, self._limits[name]) if name in self._limits else None
            for name in names
        ]
        pool = await self._connected()
        async with pool.acquire() as conn, conn.transaction():
            missing = [name for name in names if name not in self._known]
            if missing:
                await conn.execute(_ENSURE_ROWS, self.scope, missing)
            locked = await conn.fetch(_LOCK, self.scope, names)
            if len(locked) < len(names):  # rows deleted under us: create them again
                await conn.execute(_ENSURE_ROWS, self.scope, names)
                locked = await conn.fetch(_LOCK, self.scope, names)
            rows = await conn.fetch(
                _STATE, self.scope, names, caps, self.window_seconds, int(priority), waiter
            )
            now: datetime = rows[0]["now"]
            observed = {row["name"]: row for row in locked}
            states = [self._state(row, observed[row["name"]], now) for row in rows]
            decided = verdict(states, priority, self._reserves)
            if decided.go:
                await conn.execute(
                    _GRANT,
                    self.scope,
                    [name for name in names if name in self._limits],
                    now,
                    self.window_seconds,
                    waiter,
                    names,
                )
                step = 0.0
            else:
                step = decided.step(self._tick, self._max_step)
                await conn.execute(
                    _WAIT,
                    self.scope,
                    decided.waiting_on(names),
                    waiter,
                    now,
                    int(priority),
                    step + self._waiter_grace,
                )
        self._known.update(names)
        return _Outcome(decided, step)

    def _state(self, row: Mapping[str, Any], seen: Mapping[str, Any], now: datetime) -> WindowState:
        name: str = row["name"]
        leaves_at: datetime | None = row["leaves_at"]
        frees_in = None
        if leaves_at is not None:
            frees_in = (leaves_at - now).total_seconds() + self.window_seconds
        reset_at: datetime | None = seen["observed_reset_at"]
        resets_in = (reset_at - now).total_seconds() if reset_at is not None else 0.0
        current = seen["observed_remaining"] is not None and resets_in > 0
        penalty_until: datetime | None = seen["penalty_until"]
        penalty_in = (penalty_until - now).total_seconds() if penalty_until is not None else 0.0
        return WindowState(
            name=name,
            own_limit=self._limits.get(name),
            used=int(row["used"]),
            frees_in=frees_in,
            observed_remaining=int(seen["observed_remaining"]) if current else None,
            observed_limit=seen["observed_limit"] if current else None,
            observed_resets_in=max(0.0, resets_in),
            outranked=bool(row["outranked"]),
            penalty_in=max(0.0, penalty_in),
        )

    async def _forget(self, waiter: str) -> None:
        """Drop a wait announcement (a caller cancelled or fell back mid-wait)."""
        with contextlib.suppress(*_DB_ERRORS, RuntimeError):
            pool = await self._connected()
            async with pool.acquire() as conn:
                await conn.execute(_FORGET, self.scope, waiter)

    def _spawn(self, coro: Any) -> None:
        if self.closed:
            coro.close()
            return
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:
            coro.close()
            return
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    # -- when the database fails ---------------------------------------------

    def _is_down(self) -> bool:
        return self._down_until is not None and time.monotonic() < self._down_until

    def _went_down(self, exc: BaseException) -> None:
        if self._down_until is None:
            log.warning(
                "shared Zendesk rate budget unavailable, using the in-process one for %.0fs: %r",
                self._retry_db_after,
                exc,
            )
        self._down_until = time.monotonic() + self._retry_db_after

    def _came_back(self) -> None:
        if self._down_until is not None:
            log.info("shared Zendesk rate budget available again")
            self._down_until = None

    @property
    def degraded(self) -> bool:
        """True while calls use the in-process fallback."""
        return self._is_down()


def _conflict(exc: BaseException) -> bool:
    return getattr(exc, "sqlstate", None) in _CONFLICT_STATES


if TYPE_CHECKING:  # mypy: the budget is what the Zendesk client takes
    _CONFORMS: RateBudget = PostgresRateBudget("postgresql://")
