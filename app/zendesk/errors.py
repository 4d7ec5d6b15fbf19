"""Errors raised by the Zendesk client.

    ZendeskError
    ├── ZendeskTransportError        no HTTP answer: timeout, connection refused/reset (transient)
    ├── ZendeskAPIError              Zendesk answered with an error status
    │   │                            (status, body, retry_after, request_method, request_path)
    │   ├── ZendeskTransientError    retried by the client (bounded)
    │   │   ├── RateLimited          429; waits Retry-After
    │   │   │   └── TooManyJobs      429 {"error": "TooManyJobs"}: 30 jobs queued or running
    │   │   ├── ServiceUnavailable   503; with Retry-After: DB timeout/deadlock; without: incident
    │   │   └── ServerError          500, 502, 504, ...
    │   ├── ZendeskPermanentError    never retried
    │   │   ├── BadRequest           400
    │   │   ├── Unauthorized         401 (OAuth: after one token refresh)
    │   │   ├── Forbidden            403
    │   │   ├── NotFound             404
    │   │   └── Unprocessable        422; Zendesk's error JSON in `.body`
    │   ├── Conflict                 409: the ticket changed since `updated_stamp` (or
    │   │                            DatabaseConflict). Re-read and decide again; the
    │   │                            client never retries it.
    │   └── MalformedResponse        the body is not the JSON we expected
    ├── ZendeskJobError              a background job did not complete
    │   ├── JobFailed                status "failed" or "killed"
    │   ├── JobVanished              the job status is gone (404) while polling
    │   └── JobTimedOut              still queued/working after the polling budget
    └── UnknownName                  the catalog has no group/macro/form/brand/field of that name

`body` is Zendesk's error body: parsed JSON when it is JSON (e.g.
`{"error": "RecordInvalid", "description": ..., "details": {...}}`), else the text.
Messages and reprs carry the method, the path (no query string) and Zendesk's
error summary, never a credential or a request body. E-mail addresses in
Zendesk's answer (a plain-text 429 can name the user) are redacted from the
summary, and from `.body` when it is text, before anything can log them.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx

from app.zendesk.ratelimit import endpoint_reset, retry_after_from
from app.zendesk.ratelimit import parse_retry_after as parse_retry_after  # re-exported

if TYPE_CHECKING:
    from app.zendesk.models import JobResult

_SUMMARY_MAX = 300
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
REDACTED_EMAIL = "<email>"


def redact_emails(text: str) -> str:
    """Every e-mail address in `text` replaced by `<email>`."""
    return _EMAIL.sub(REDACTED_EMAIL, text)


class ZendeskError(Exception):
    """Base of every error the Zendesk client raises."""


class ZendeskTransportError(ZendeskError):
    """No HTTP answer (timeout, connection error). Transient.

    `request_sent` is False when the request certainly never reached Zendesk
    (connect errors, pool timeouts): safe to retry even a POST.
    """

    def __init__(
        self, message: str, *, request_method: str, request_path: str, request_sent: bool
    ) -> None:
        super().__init__(f"{request_method} {request_path}: {message}")
        self.request_method = request_method
        self.request_path = request_path
        self.request_sent = request_sent


class ZendeskAPIError(ZendeskError):
    """Zendesk answered with an error status."""

    def __init__(
        self,
        status: int,
        body: Any,
        retry_after: float | None = None,
        request_method: str = "",
        request_path: str = "",
    ) -> None:
        self.status = status
        self.body = body
        self.retry_after = retry_after
        self.request_method = request_method
        self.request_path = request_path
        super().__init__(
            f"{request_method} {request_path} -> {status} {type(self).__name__}: "
            f"{summarize_body(body)}"
        )

    @property
    def error_code(self) -> str | None:
        """Zendesk's `error` string (e.g. "RecordInvalid"), if the body has one."""
        if isinstance(self.body, dict):
            error = self.body.get("error")
            if isinstance(error, str):
                return error
            if isinstance(error, dict) and isinstance(error.get("title"), str):
                return str(error["title"])
        return None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, method={self.request_method!r}, "
            f"path={self.request_path!r}, error={self.error_code!r}, "
            f"retry_after={self.retry_after!r})"
        )


class ZendeskTransientError(ZendeskAPIError):
    """Worth retrying: Zendesk may answer differently later."""


class RateLimited(ZendeskTransientError):
    """429 Too Many Requests; `retry_after` seconds if Zendesk said so."""


class TooManyJobs(RateLimited):
    """The account already has 30 queued or running jobs."""


class ServiceUnavailable(ZendeskTransientError):
    """503."""


class ServerError(ZendeskTransientError):
    """Any other 5xx."""


class ZendeskPermanentError(ZendeskAPIError):
    """Retrying the same request will fail the same way."""


class BadRequest(ZendeskPermanentError):
    """400."""


class Unauthorized(ZendeskPermanentError):
    """401: the credential is wrong, expired or revoked."""


class Forbidden(ZendeskPermanentError):
    """403: the user or the account lacks the permission (or the OAuth scope)."""


class NotFound(ZendeskPermanentError):
    """404."""


class Unprocessable(ZendeskPermanentError):
    """422: valid syntax Zendesk refuses (unknown id, closed ticket, invalid value...)."""


class Conflict(ZendeskAPIError):
    """409: changed since `updated_stamp`. Re-read the ticket and decide again."""


class MalformedResponse(ZendeskAPIError):
    """The body is not JSON, or lacks what the endpoint always returns."""


class ZendeskJobError(ZendeskError):
    """A background job did not complete.

    `completed` holds the per-ticket results of the other chunks of the same
    `update_many` call that did complete (empty for a single job).
    """

    def __init__(self, message: str, *, job_id: str, job: dict[str, Any] | None = None) -> None:
        super().__init__(f"job {job_id}: {message}")
        self.job_id = job_id
        self.job = job
        self.completed: list[JobResult] = []


class JobFailed(ZendeskJobError):
    """The job ended with status "failed" or "killed"."""


class JobVanished(ZendeskJobError):
    """The job status disappeared (404) before the job completed."""


class JobTimedOut(ZendeskJobError):
    """The job was still queued or working when the polling budget ran out."""


class UnknownName(ZendeskError, LookupError):
    """The catalog has no `kind` (group, macro, form, brand, field) called `name`."""

    def __init__(self, kind: str, name: object) -> None:
        super().__init__(f"unknown Zendesk {kind}: {name!r}")
        self.kind = kind
        self.name = name


_BY_STATUS: dict[int, type[ZendeskAPIError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
    429: RateLimited,
    503: ServiceUnavailable,
}


def parse_body(response: httpx.Response) -> Any:
    """Zendesk's error body: JSON when it parses, else the text (e-mails redacted)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return redact_emails(response.text)


def summarize_body(body: Any) -> str:
    if isinstance(body, dict):
        parts = [
            str(body[key])
            for key in ("error", "description", "message", "details")
            if body.get(key) not in (None, "", {}, [])
        ]
        text = " | ".join(parts) or json.dumps(body, default=str)
    else:
        text = str(body)
    text = redact_emails(" ".join(text.split()))
    return text if len(text) <= _SUMMARY_MAX else text[: _SUMMARY_MAX - 3] + "..."


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_error(exc: httpx.TransportError, *, method: str, path: str) -> ZendeskTransportError:
    """Wrap an httpx transport failure; the message names the failure, not the request."""
    return ZendeskTransportError(
        type(exc).__name__,
        request_method=method,
        request_path=path,
        request_sent=not isinstance(exc, _NOT_SENT),
    )


def error_for_status(status: int, body: Any) -> type[ZendeskAPIError]:
    if isinstance(body, dict) and body.get("error") == "TooManyJobs":
        return TooManyJobs
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return ZendeskPermanentError


def error_from_response(response: httpx.Response, *, method: str, path: str) -> ZendeskAPIError:
    """Map a non-2xx response to the exception tree above."""
    body = parse_body(response)
    cls = error_for_status(response.status_code, body)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if retry_after is None and cls is TooManyJobs:
        retry_after = endpoint_reset(response.headers, "inflight-jobs")
    if retry_after is None and issubclass(cls, RateLimited):
        retry_after = retry_after_from(response.headers)  # rate-limit-reset / ratelimit-reset
    return cls(response.status_code, body, retry_after, method, path)
