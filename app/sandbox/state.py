"""`SandboxState`: the whole fake Zendesk account and marketplace, in memory.

Handlers and tests use the same stores (`state.tickets`, `state.directory`,
`state.macros`, `state.jobs`, `state.admin`, `state.marketplace`,
`state.faults`, `state.limits`, `state.requests`); every store method takes
the state's one lock, so tests may read from the main thread while uvicorn
serves from its own.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from app.sandbox.admin import AdminStore
from app.sandbox.context import Context, Json, iso, synchronized
from app.sandbox.faults import FaultInjector
from app.sandbox.jobs import MAX_INFLIGHT_JOBS, JobQueue
from app.sandbox.limits import RateLimits
from app.sandbox.lookups import Directory
from app.sandbox.macros import MacroBook
from app.sandbox.marketplace import MarketplaceDirectory
from app.sandbox.seed import SERVICE_USER_ID, build_seed
from app.sandbox.tickets import TicketStore


class RequestLog:
    """Every non-control request, in arrival order: `{"method", "path", "status"}`.

    An entry is added when the request arrives (status None while in flight)
    and completed with the status of the answer.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._entries: list[Json] = []

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @synchronized
    def open(self, method: str, path: str) -> Json:
        entry: Json = {"method": method, "path": path, "status": None}
        self._entries.append(entry)
        return entry

    @synchronized
    def close(self, entry: Json, status: int) -> None:
        entry["status"] = status

    @synchronized
    def entries(self) -> list[Json]:
        return [dict(e) for e in self._entries]

    @synchronized
    def clear(self) -> None:
        self._entries = []


class SandboxState:
    """The sandbox's data and settings. All arguments are keyword-only.

    `clock` (monotonic seconds) drives rate-limit windows and job delays, so
    tests can move time; `wall_clock` (epoch seconds) stamps records.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        require_auth: bool = True,
        export_exclude_recent_seconds: int = 0,
        ticket_updates_per_minute: int | None = None,
        requests_per_minute: int | None = None,
        max_inflight_jobs: int = MAX_INFLIGHT_JOBS,
        jobs_paused: bool = False,
        job_delay_seconds: float = 0.0,
        oauth_expires_in: int = 1800,
        seed: int = 0,
        base_url: str = "http://testserver",
        service_user_role: str = "agent",
    ) -> None:
        self.ctx = Context(wall_clock, base_url)
        self.clock = clock
        self.directory = Directory(self.ctx)
        self.macros = MacroBook(self.ctx)
        self.tickets = TicketStore(self.ctx, self.directory, self.macros)
        self.jobs = JobQueue(self.ctx, clock, max_inflight_jobs)
        self.admin = AdminStore(self.ctx)
        self.marketplace = MarketplaceDirectory(self.lock)
        self.faults = FaultInjector(self.lock, seed)
        self.limits = RateLimits(self.lock, clock)
        self.requests = RequestLog(self.lock)
        self.require_auth = require_auth
        self.export_exclude_recent_seconds = export_exclude_recent_seconds
        self.oauth_expires_in = oauth_expires_in
        self.issued_tokens: list[str] = []
        # update_many: "enforce" each item's safe_update (as documented) or "ignore" it
        # (as Zendesk may: no source shows it honoured in bulk items).
        self.bulk_safe_update = "enforce"
        # additional_tags / remove_tags in batch items: applied (current docs) or not.
        self.batch_tag_deltas = True
        self._initial: dict[str, Any] = {
            "require_auth": require_auth,
            "export_exclude_recent_seconds": export_exclude_recent_seconds,
            "oauth_expires_in": oauth_expires_in,
            "jobs_paused": jobs_paused,
            "job_delay_seconds": job_delay_seconds,
            "ticket_updates_per_minute": ticket_updates_per_minute,
            "requests_per_minute": requests_per_minute,
            "service_user_role": service_user_role,
        }
        self.service_user_role = service_user_role
        self.reset()

    @property
    def lock(self) -> threading.RLock:
        return self.ctx.lock

    @property
    def service_user_id(self) -> int:
        """The agent the service acts as ("Triage Service"): author of API changes."""
        return SERVICE_USER_ID

    @property
    def base_url(self) -> str:
        """Where the sandbox is served; used in resources' `url` properties."""
        return self.ctx.base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self.ctx.base_url = value.rstrip("/")

    @property
    def jobs_paused(self) -> bool:
        return self.jobs.paused

    @jobs_paused.setter
    def jobs_paused(self, value: bool) -> None:
        self.jobs.paused = value

    @property
    def job_delay_seconds(self) -> float:
        return self.jobs.delay_seconds

    @job_delay_seconds.setter
    def job_delay_seconds(self, value: float) -> None:
        self.jobs.delay_seconds = value

    @synchronized
    def reset(self) -> None:
        """Back to the state as constructed: reseeded account, no tickets, no jobs,
        no marketplace records, no faults, empty request log, initial settings."""
        self.ctx.ids.reset()
        seed = build_seed(self.ctx.ids, iso(self.ctx.stamps.next()))
        self.directory.load(seed)
        self.macros.load(seed.macros)
        self.tickets.clear()
        self.jobs.clear()
        self.admin.clear()
        self.marketplace.clear()
        self.faults.clear()
        self.limits.clear()
        self.requests.clear()
        self.issued_tokens = []
        initial = self._initial
        self.limits.configure(
            ticket_updates_per_minute=initial["ticket_updates_per_minute"],
            requests_per_minute=initial["requests_per_minute"],
        )
        self.require_auth = initial["require_auth"]
        self.export_exclude_recent_seconds = initial["export_exclude_recent_seconds"]
        self.oauth_expires_in = initial["oauth_expires_in"]
        self.jobs_paused = initial["jobs_paused"]
        self.job_delay_seconds = initial["job_delay_seconds"]
        self.bulk_safe_update = "enforce"
        self.batch_tag_deltas = True
        self.service_user_role = initial["service_user_role"]

    # -- Python conveniences for tests and demos --------------------------------

    def create_ticket(self, ticket: Json) -> Json:
        """Create a ticket as `POST /api/v2/tickets` would (author: the service user)."""
        return self.tickets.create(ticket, author_id=self.service_user_id)

    @synchronized
    def ticket(self, ticket_id: int) -> Json:
        """The stored ticket with its comments and audits, after due jobs have run."""
        self.jobs.tick()
        return self.tickets.raw(ticket_id)

    @synchronized
    def issue_token(self) -> str:
        """A new OAuth access token (any non-empty bearer token is accepted anyway)."""
        token = secrets.token_hex(32)
        self.issued_tokens.append(token)
        return token

    def request_log(self) -> list[Json]:
        return self.requests.entries()

    def settings(self) -> Json:
        return {
            "require_auth": self.require_auth,
            "export_exclude_recent_seconds": self.export_exclude_recent_seconds,
            "oauth_expires_in": self.oauth_expires_in,
            "jobs_paused": self.jobs_paused,
            "job_delay_seconds": self.job_delay_seconds,
            "bulk_safe_update": self.bulk_safe_update,
            "batch_tag_deltas": self.batch_tag_deltas,
            "service_user_role": self.service_user_role,
        }
