"""Zendesk's error answers. Stores raise `ZendeskError`; one handler renders it."""

from __future__ import annotations

from typing import Any

UPDATE_CONFLICT = (
    "Safe Update prevented the update due to outdated ticket data. "
    "Please fetch the latest ticket data and try again."
)


class ZendeskError(Exception):
    """An HTTP error with Zendesk's JSON body (and headers such as Retry-After)."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found() -> ZendeskError:
    return ZendeskError(404, {"error": "RecordNotFound", "description": "Not found"})


def bad_request(description: str, error: str = "InvalidValue") -> ZendeskError:
    return ZendeskError(400, {"error": error, "description": description})


def too_many_values(limit: int, what: str) -> ZendeskError:
    return ZendeskError(
        400, {"error": "TooManyValues", "description": f"At most {limit} {what} per request"}
    )


def record_invalid(field: str, description: str, error: str = "InvalidValue") -> ZendeskError:
    """422 as for a model validation failure: `details` keyed by the offending field."""
    return ZendeskError(
        422,
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {field: [{"description": description, "error": error}]},
        },
    )


def update_conflict() -> ZendeskError:
    return ZendeskError(409, {"error": "UpdateConflict", "description": UPDATE_CONFLICT})
