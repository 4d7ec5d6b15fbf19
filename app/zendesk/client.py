"""`ZendeskClient`: one async client over one `httpx.AsyncClient`.

Every call goes through `_request`, the choke point: rate budget (priorities),
auth header (with one OAuth refresh on 401), JSON in and out, rate-limit
header reading, status -> exception mapping (`errors.py`), metrics, and the
one tenacity retry policy (`retry.py`). The endpoint methods live in mixins
(`tickets.py`, `jobs.py`, `lookups.py`, `admin.py`) and only build paths and
payloads.

    async with ZendeskClient(base_url_for("acme", None), OAuthClientCredentials(...)) as zd:
        body = await zd.get_ticket(42, include=["users"])
        await zd.update_ticket(42, {"group_id": 7}, updated_stamp=body["ticket"]["updated_at"])

Tests pass `transport=` (respx / `httpx.MockTransport`) and a fake `sleep`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, Self

import httpx
from tenacity import RetryCallState

from app.zendesk._base import Expect, Params
from app.zendesk.admin import AdminMixin
from app.zendesk.auth import ZendeskAuth
from app.zendesk.errors import (
    MalformedResponse,
    RateLimited,
    TooManyJobs,
    error_from_response,
    parse_body,
    transport_error,
)
from app.zendesk.jobs import JobSettings, JobsMixin
from app.zendesk.lookups import LookupsMixin
from app.zendesk.models import ClientStats, Clock, MetricsHook, Sleep
from app.zendesk.ratelimit import PerTicketUpdates, Priority, RateBudget, RateLimiter
from app.zendesk.retry import RetrySettings, retrying
from app.zendesk.tickets import TicketsMixin

log = logging.getLogger(__name__)

API_PREFIX = "/api/v2"
PAGE_SIZE = 100
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
# An id-like path segment: digits; anything of 6+ id characters holding a digit
# (job ids `V3-2054ccab…`, 32-hex, ULID webhook ids); 16+ hex or letters.
_ID_SEGMENT = re.compile(
    r"^(\d+|(?=[^/]*\d)[0-9A-Za-z._:~-]{6,}|[0-9a-fA-F-]{16,}|[A-Za-z]\d+-[0-9A-Za-z-]+)$"
)
_TICKET_WRITE = re.compile(r"^/api/v2/tickets/(\d+)(/tags)?$")


def endpoint_label(path: str) -> str:
    """`/api/v2/tickets/123/tags` -> `/api/v2/tickets/{id}/tags`, `/api/v2/job_statuses/V3-…`
    -> `/api/v2/job_statuses/{id}`: metric labels stay bounded."""
    path = path.removesuffix(".json")
    return "/".join("{id}" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))


def _ticket_write(method: str, path: str) -> int | None:
    """The ticket a single-ticket write touches (update, tags), else None."""
    match = _TICKET_WRITE.match(path)
    if match is None or method == "GET" or (method == "POST" and match.group(2) is None):
        return None
    return int(match.group(1))


class ZendeskClient(TicketsMixin, JobsMixin, LookupsMixin, AdminMixin):
    """Async Zendesk Support API client; use as `async with` or call `aclose()`.

    base_url: account root (`base_url_for(subdomain, base_url)`), no /api/v2.
    auth: `OAuthClientCredentials`, `BearerTokenAuth` or `ApiTokenAuth`.
    transport: an httpx transport (tests: respx / `httpx.MockTransport`).
    timeout: explicit connect/read/write/pool (`DEFAULT_TIMEOUT`).
    budget: a `RateBudget` (default: an in-process `RateLimiter`).
    retry / jobs: `RetrySettings` / `JobSettings`.
    metrics: called per HTTP attempt with (endpoint template, method, status
        or None, seconds); `stats` holds 429s seen, retries and seconds waited.
    sleep / clock: injectable so tests never really wait.
    account_hosts: other hosts of the same account a `next_page` may point at
        (e.g. `acme.zendesk.com` behind a host-mapped base URL).
    """

    def __init__(
        self,
        base_url: str,
        auth: ZendeskAuth,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        budget: RateBudget | None = None,
        retry: RetrySettings | None = None,
        jobs: JobSettings | None = None,
        metrics: MetricsHook | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        user_agent: str = "dispute-triage",
        account_hosts: Sequence[str] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._own_hosts = {httpx.URL(self.base_url).host, *(h.lower() for h in account_hosts)}
        self._per_ticket = PerTicketUpdates(clock=clock)
        self._auth = auth
        self._budget: RateBudget = budget or RateLimiter(clock=clock, sleep=sleep)
        self._retry = retry or RetrySettings()
        self._jobs = jobs or JobSettings()
        self._job_slots = asyncio.Semaphore(self._jobs.max_in_flight)
        self._metrics = metrics
        self._sleep = sleep
        self._clock = clock
        self.stats = ClientStats()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": user_agent},
            follow_redirects=False,  # a redirect would carry the Authorization header
        )

    def __repr__(self) -> str:
        return f"ZendeskClient(base_url={self.base_url!r}, auth={self._auth!r})"

    @property
    def budget(self) -> RateBudget:
        return self._budget

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the choke point -----------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        priority: Priority = Priority.LIVE,
        limits: Sequence[str] = (),
        idempotent: bool | None = None,
        expect: Expect | None = None,
    ) -> dict[str, Any]:
        """One API call: `path` under /api/v2 (or a same-host absolute URL from a
        `next_page`). Returns the JSON object ({} for an empty 2xx body).

        `limits`: endpoint rate windows the call counts against. `idempotent`
        (default: not POST) decides which failures are safe to retry.
        `expect`: top-level keys and types the body must have, else
        `MalformedResponse`.
        """
        method = method.upper()
        url = self._url(path)
        safe = method != "POST" if idempotent is None else idempotent
        async for attempt in retrying(
            self._retry, idempotent=safe, sleep=self._sleep, before_sleep=self._on_retry
        ):
            with attempt:
                return await self._attempt(method, url, params, json, priority, limits, expect)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _attempt(
        self,
        method: str,
        url: httpx.URL,
        params: Params | None,
        json: Any,
        priority: Priority,
        limits: Sequence[str],
        expect: Expect | None,
    ) -> dict[str, Any]:
        ticket_id = _ticket_write(method, url.path)
        if ticket_id is not None and (hold := self._per_ticket.blocked_for(ticket_id)) > 0:
            body = {"error": "PerTicketUpdateLimit", "description": "30 updates / 10 min"}
            raise RateLimited(429, body, hold, method, url.path)  # never sent: Zendesk's limit
        waited = await self._budget.acquire(priority, limits)
        self.stats.wait_seconds += waited
        response = await self._send(method, url, params, json)
        if response.status_code == 401:
            rejected = response.request.headers.get("Authorization", "")
            if await self._auth.invalidate(rejected):
                log.info("zendesk: 401 on %s %s, retrying with a fresh token", method, url.path)
                response = await self._send(method, url, params, json)
        self._budget.observe(response.headers)
        if ticket_id is not None:
            self._per_ticket.record(ticket_id, response.headers, wrote=response.is_success)
        if warning := response.headers.get("x-zendesk-api-warn"):
            # Zendesk drops keys it will not accept silently, saying so only here.
            log.warning("zendesk: %s %s: %s", method, url.path, warning)
        if not response.is_success:
            error = error_from_response(response, method=method, path=url.path)
            if response.status_code == 429:
                self.stats.rate_limited += 1
                # Retry-After is the account's: every call waits it out, not just this one.
                if error.retry_after and not isinstance(error, TooManyJobs):
                    self._budget.penalize(error.retry_after)
            raise error
        return self._body(response, method, url.path, expect)

    async def _send(
        self, method: str, url: httpx.URL, params: Params | None, json: Any
    ) -> httpx.Response:
        headers = {"Authorization": await self._auth.authorization(self._http)}
        label = endpoint_label(url.path)
        self.stats.requests += 1
        started = self._clock()
        try:
            response = await self._http.request(
                method, url, params=dict(params) if params else None, json=json, headers=headers
            )
        except httpx.TransportError as exc:
            self._observe_metric(label, method, None, started)
            raise transport_error(exc, method=method, path=url.path) from exc
        self._observe_metric(label, method, response.status_code, started)
        return response

    def _body(
        self, response: httpx.Response, method: str, path: str, expect: Expect | None
    ) -> dict[str, Any]:
        status = response.status_code
        if not response.content:
            body: Any = {}
        else:
            body = parse_body(response)
            if isinstance(body, str):
                raise MalformedResponse(status, body, None, method, path)
        if not isinstance(body, dict):
            raise MalformedResponse(
                status, f"expected a JSON object, got {type(body).__name__}", None, method, path
            )
        for key, kind in (expect or {}).items():
            if not isinstance(body.get(key), kind):
                # Name the keys, never the values: some bodies hold secrets.
                raise MalformedResponse(
                    status,
                    f"expected {key!r} ({kind.__name__}); keys: {sorted(body)[:20]}",
                    None,
                    method,
                    path,
                )
        return body

    def _url(self, path: str) -> httpx.URL:
        if path.startswith(("http://", "https://")):
            url = httpx.URL(path)
            base = httpx.URL(self.base_url)
            own = url.host == base.host and (url.scheme, url.port) == (base.scheme, base.port)
            if not own and not (
                url.scheme == "https" and url.port is None and url.host in self._own_hosts
            ):
                # Our Authorization header must never go to another account's host.
                raise MalformedResponse(
                    200, f"next_page points off the account: {url.host}", None, "GET", url.path
                )
            return url
        if not path.startswith(API_PREFIX + "/"):
            path = API_PREFIX + "/" + path.lstrip("/")
        return httpx.URL(self.base_url + path)

    def _observe_metric(self, label: str, method: str, status: int | None, started: float) -> None:
        if self._metrics is None:
            return
        try:
            self._metrics(label, method, status, self._clock() - started)
        except Exception:  # a broken metrics sink must not fail Zendesk calls
            log.exception("zendesk metrics hook failed")

    def _on_retry(self, state: RetryCallState) -> None:
        seconds = state.next_action.sleep if state.next_action else 0.0
        self.stats.retries += 1
        self.stats.wait_seconds += seconds
        exc = state.outcome.exception() if state.outcome else None
        log.warning("zendesk: %s; retry %d in %.1fs", exc, state.attempt_number, seconds)

    # -- pagination ----------------------------------------------------------

    async def paginate(
        self,
        path: str,
        key: str,
        params: Params | None = None,
        *,
        priority: Priority = Priority.LIVE,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of `body[key]`, following cursor pagination (`page[size]=100`,
        `meta.has_more`, `meta.after_cursor`); an endpoint that answers with
        offset pagination (`next_page`) is followed too."""
        query: dict[str, Any] = {**(params or {}), "page[size]": PAGE_SIZE}
        target, seen = path, set()
        while True:
            body = await self._request(
                "GET",
                target,
                params=query if target == path else None,
                priority=priority,
                expect={key: list},
            )
            for item in body[key]:
                yield item
            meta = body.get("meta")
            if isinstance(meta, dict):
                cursor = meta.get("after_cursor")
                if not meta.get("has_more") or not cursor:
                    return
                query = {**query, "page[after]": cursor}
            elif body.get("next_page"):
                target = str(body["next_page"])
                cursor = target
            else:
                return
            if cursor in seen:
                raise MalformedResponse(
                    200, f"pagination repeats cursor {cursor!r}", None, "GET", path
                )
            seen.add(cursor)
