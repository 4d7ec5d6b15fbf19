"""Zendesk responses and webhook payloads written for this project, reproducing the
field names, types, nesting and edge values of real material (SOURCES.md names the
source of each shape). No third-party file is copied: values are our own."""

from __future__ import annotations

from typing import Any

BASE = "https://acme.zendesk.com"


def ticket(ticket_id: int, **overrides: Any) -> dict[str, Any]:
    """A REST ticket as `GET /tickets/{id}` returns it: every key present, many null,
    `via.source.from/to` objects (empty for API tickets), `fields` mirroring
    `custom_fields`, and late additions such as `satisfaction_probability`."""
    body: dict[str, Any] = {
        "url": f"{BASE}/api/v2/tickets/{ticket_id}.json",
        "id": ticket_id,
        "external_id": None,
        "via": {
            "channel": "email",
            "source": {
                "from": {"address": "requester@example.org", "name": "R. Quester"},
                "to": {"name": "Acme Support", "address": "support@acme.zendesk.com"},
                "rel": None,
            },
        },
        "created_at": "2024-05-02T09:14:07Z",
        "updated_at": "2024-05-02T09:20:31Z",
        "generated_timestamp": 1714641631,
        "type": None,
        "subject": "Payment for milestone 2 never arrived",
        "raw_subject": "Payment for milestone 2 never arrived",
        "description": "Hello,\n\nthe client has not paid.",
        "priority": None,
        "status": "new",
        "recipient": "support@acme.zendesk.com",
        "requester_id": 381234500011,
        "submitter_id": 381234500011,
        "assignee_id": None,
        "organization_id": None,
        "group_id": 360004077472,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": ["milestone", "payment"],
        "custom_fields": [
            {"id": 360012345671, "value": "dispute"},
            {"id": 360012345672, "value": None},
        ],
        "satisfaction_rating": None,
        "sharing_agreement_ids": [],
        "custom_status_id": 360001234561,
        "fields": [{"id": 360012345671, "value": "dispute"}, {"id": 360012345672, "value": None}],
        "followup_ids": [],
        "ticket_form_id": 360000389592,
        "brand_id": 360002256672,
        "satisfaction_probability": None,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
    }
    body.update(overrides)
    return body


def search_page(
    tickets: list[dict[str, Any]], *, next_page: str | None, count: int
) -> dict[str, Any]:
    """`GET /search`: `results` carry `result_type`, `facets` is null, pages are URLs."""
    return {
        "results": [{**t, "result_type": "ticket"} for t in tickets],
        "facets": None,
        "next_page": next_page,
        "previous_page": None,
        "count": count,
    }


def export_page(tickets: list[dict[str, Any]], *, after: str | None, end: bool) -> dict[str, Any]:
    """`GET /incremental/tickets/cursor`: cursors and URLs both ways, `end_of_stream`."""
    return {
        "tickets": tickets,
        "after_url": None
        if after is None
        else f"{BASE}/api/v2/incremental/tickets/cursor.json?cursor={after}",
        "after_cursor": after,
        "before_url": None,
        "before_cursor": None,
        "end_of_stream": end,
    }


def job_status(
    job_id: str, status: str, results: list[dict[str, Any]] | None = None, *, total: int = 2
) -> dict[str, Any]:
    """A job status: string id (`V3-` + hex on current accounts), `url`, counters that
    are null while queued, `message` null until done, `results` null until done."""
    done = status == "completed"
    return {
        "job_status": {
            "id": job_id,
            "job_type": "bulk_update",
            "url": f"{BASE}/api/v2/job_statuses/{job_id}.json",
            "total": total,
            "progress": total if done else None,
            "status": status,
            "message": "Completed at 2024-05-02 09:21:03 +0000" if done else None,
            "results": results if done else None,
        }
    }


def me(role: str, role_type: int | None, custom_role_id: int | None = None) -> dict[str, Any]:
    """`GET /users/me`: role as a string, `role_type` null for plain agents and admins
    on plans without custom roles, a number otherwise."""
    return {
        "user": {
            "id": 381234500001,
            "url": f"{BASE}/api/v2/users/381234500001.json",
            "name": "Triage Service",
            "email": "triage@acme.example",
            "created_at": "2023-11-20T08:00:00Z",
            "updated_at": "2024-05-01T08:00:00Z",
            "time_zone": "Europe/Berlin",
            "iana_time_zone": "Europe/Berlin",
            "locale": "en-US",
            "locale_id": 1,
            "organization_id": None,
            "role": role,
            "verified": True,
            "external_id": None,
            "tags": [],
            "alias": "",
            "active": True,
            "shared": False,
            "shared_agent": False,
            "last_login_at": None,
            "two_factor_auth_enabled": None,
            "signature": "",
            "details": "",
            "notes": "",
            "role_type": role_type,
            "custom_role_id": custom_role_id,
            "moderator": role != "end-user",
            "ticket_restriction": None if role == "admin" else "groups",
            "only_private_comments": False,
            "restricted_agent": role != "admin",
            "suspended": False,
            "default_group_id": 360004077472,
            "report_csv": False,
            "user_fields": {},
        }
    }


FORBIDDEN = {
    "error": {
        "title": "Forbidden",
        "message": "You do not have access to this page. Please contact the account owner"
        " of this help desk for further help.",
    }
}
RECORD_INVALID = {
    "error": "RecordInvalid",
    "description": "Record validation errors",
    "details": {
        "base": [{"description": "Status: closed prevents ticket update", "error": "ClosedTicket"}]
    },
}
CONFLICT = {
    "error": "UpdateConflict",
    "description": "The ticket has been updated since you last viewed it",
}
TOO_MANY_JOBS = {
    "error": "TooManyJobs",
    "description": "Number of allowed background jobs exceeded (30).",
    "current_job_ids": ["V3-1a2b3c4d5e6f70819a2b3c4d5e6f7081"],
}

# Response headers: the account window as the rate-limits page shows it, the
# endpoint window, and the spellings of recordings of live accounts.
LIST_HEADERS = {
    "x-rate-limit": "700",
    "ratelimit-limit": "700",
    "x-rate-limit-remaining": "699",
    "ratelimit-remaining": "699",
    "ratelimit-reset": "41",
    "zendesk-ratelimit-tickets-index": "total=100; remaining=99; resets=41",
}
OLD_RECORDING_HEADERS = {"X-Rate-Limit": "400", "X-Rate-Limit-Remaining": "379"}

# Webhook payloads.
TICKET_EVENT = {
    "account_id": 22129848,
    "detail": {
        "actor_id": "8447388090494",
        "assignee_id": None,
        "brand_id": "8447346621310",
        "created_at": "2025-01-08T10:12:07Z",
        "custom_status": "8447388155262",
        "description": "The client has not paid for milestone 2.",
        "external_id": None,
        "form_id": "8646151517822",
        "group_id": "8447346623742",
        "id": "5158",
        "is_public": True,
        "organization_id": None,
        "priority": None,
        "requester_id": "8447388090494",
        "status": "OPEN",
        "subject": "Payment for milestone 2 never arrived",
        "submitter_id": "8447388090494",
        "tags": None,
        "type": "TASK",
        "updated_at": "2025-01-08T10:12:13Z",
        "via": {"channel": "web_service"},
    },
    "event": {"current": "OPEN", "previous": "NEW"},
    "id": "cbe4028c-7239-495d-b020-f22348516046",
    "subject": "zen:ticket:5158",
    "time": "2025-01-08T10:12:13.814529475Z",
    "type": "zen:event-type:ticket.status_changed",
    "zendesk_event_version": "2022-11-06",
}
USER_EVENT = {
    "account_id": 22129848,
    "detail": {
        "created_at": "2025-01-08T10:15:00Z",
        "email": "new.user@example.org",
        "external_id": None,
        "default_group_id": None,
        "id": "8447388090777",
        "organization_id": None,
        "role": "end-user",
        "updated_at": "2025-01-08T10:15:00Z",
    },
    "event": {"current": True, "previous": False},
    "id": "5f0e4d1c-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
    "subject": "zen:user:8447388090777",
    "time": "2025-01-08T10:15:00.120000000Z",
    "type": "zen:event-type:user.active_changed",
    "zendesk_event_version": "2022-11-06",
}
TRIGGER_BODY = {  # placeholders render as strings; `{{ticket.tags}}` space-separated
    "ticket_id": "5158",
    "updated_at": "2025-01-08T10:12:13Z",
    "status": "Open",
    "group": "Support",
    "tags": "milestone payment",
    "current_user_id": "8447388090494",
}
