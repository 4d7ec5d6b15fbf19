"""Zendesk Support API client (async, one choke point) and the names catalog.

See `client.py` for the client, `errors.py` for the exception tree,
`ratelimit.py` for the budget and priorities, `auth.py` for credentials.
"""

from app.core.urls import zendesk_account_url as base_url_for
from app.zendesk.auth import (
    ApiTokenAuth,
    AuthSettings,
    BearerTokenAuth,
    OAuthClientCredentials,
    ZendeskAuth,
    build_auth,
)
from app.zendesk.catalog import CatalogSource, ZendeskCatalog
from app.zendesk.client import DEFAULT_TIMEOUT, ZendeskClient
from app.zendesk.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    JobFailed,
    JobTimedOut,
    JobVanished,
    MalformedResponse,
    NotFound,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TooManyJobs,
    Unauthorized,
    UnknownName,
    Unprocessable,
    ZendeskAPIError,
    ZendeskError,
    ZendeskJobError,
    ZendeskPermanentError,
    ZendeskTransientError,
    ZendeskTransportError,
)
from app.zendesk.jobs import JobSettings
from app.zendesk.models import (
    CheckRow,
    ClientStats,
    ExportPage,
    FieldInfo,
    JobResult,
    MacroInfo,
)
from app.zendesk.ratelimit import Priority, RateBudget, RateLimiter
from app.zendesk.retry import RetrySettings
from app.zendesk.tickets import macro_changes

__all__ = [
    "DEFAULT_TIMEOUT",
    "ApiTokenAuth",
    "AuthSettings",
    "BadRequest",
    "BearerTokenAuth",
    "CatalogSource",
    "CheckRow",
    "ClientStats",
    "Conflict",
    "ExportPage",
    "FieldInfo",
    "MacroInfo",
    "Forbidden",
    "JobFailed",
    "JobResult",
    "JobSettings",
    "JobTimedOut",
    "JobVanished",
    "MalformedResponse",
    "NotFound",
    "OAuthClientCredentials",
    "Priority",
    "RateBudget",
    "RateLimited",
    "RateLimiter",
    "RetrySettings",
    "ServerError",
    "ServiceUnavailable",
    "TooManyJobs",
    "Unauthorized",
    "UnknownName",
    "Unprocessable",
    "ZendeskAPIError",
    "ZendeskAuth",
    "ZendeskCatalog",
    "ZendeskClient",
    "ZendeskError",
    "ZendeskJobError",
    "ZendeskPermanentError",
    "ZendeskTransientError",
    "ZendeskTransportError",
    "base_url_for",
    "build_auth",
    "macro_changes",
]
