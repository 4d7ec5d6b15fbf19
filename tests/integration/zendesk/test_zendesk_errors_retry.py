"""The choke point: status -> exception mapping, retries, Retry-After, metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from app.zendesk import (
    BadRequest,
    Conflict,
    Forbidden,
    MalformedResponse,
    NotFound,
    RateLimited,
    RetrySettings,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
    Unprocessable,
    ZendeskAPIError,
    ZendeskPermanentError,
    ZendeskTransportError,
    base_url_for,
)
from app.zendesk.client import endpoint_label
from app.zendesk.errors import TooManyJobs, parse_retry_after
from app.zendesk.retry import RetryKind, classify
from tests.integration.zendesk.zendesk_fakes import FakeTime, MakeClient, json_response, ticket

pytestmark = pytest.mark.anyio

TICKET_PATH = "/api/v2/tickets/1"


def ok_ticket() -> Any:
    return json_response(200, {"ticket": ticket(1)})


# -- 429 / 503 and Retry-After ----------------------------------------------------


async def test_request_429_with_retry_after_waits_then_succeeds(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.get(TICKET_PATH).mock(
        side_effect=[
            json_response(429, {"error": "TooManyRequests"}, **{"Retry-After": "7"}),
            ok_ticket(),
        ]
    )
    async with make_client() as zd:
        body = await zd.get_ticket(1)
    assert body["ticket"]["id"] == 1
    assert route.call_count == 2
    assert fake_time.sleeps == [7.0]
    assert (zd.stats.rate_limited, zd.stats.retries, zd.stats.wait_seconds) == (1, 1, 7.0)


async def test_request_429_past_wait_cap_raises_rate_limited(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.get(TICKET_PATH).mock(
        return_value=json_response(429, {}, **{"Retry-After": "1"})
    )
    async with make_client(retry=RetrySettings(max_rate_limit_waits=2)) as zd:
        with pytest.raises(RateLimited) as caught:
            await zd.get_ticket(1)
    assert route.call_count == 3
    assert fake_time.sleeps == [1.0, 1.0]
    assert caught.value.retry_after == 1.0
    assert zd.stats.rate_limited == 3


async def test_request_retry_after_above_cap_raises_without_waiting(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.get(TICKET_PATH).mock(
        return_value=json_response(429, {}, **{"Retry-After": "3600"})
    )
    async with make_client() as zd:
        with pytest.raises(RateLimited) as caught:
            await zd.get_ticket(1)
    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert caught.value.retry_after == 3600.0


async def test_request_429_without_retry_after_uses_ratelimit_reset(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    zd_api.get(TICKET_PATH).mock(
        side_effect=[json_response(429, {}, **{"ratelimit-reset": "4"}), ok_ticket()]
    )
    async with make_client() as zd:
        await zd.get_ticket(1)
    assert 4.0 in fake_time.sleeps


async def test_request_503_with_retry_after_waits_exactly_then_succeeds(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.get(TICKET_PATH).mock(
        side_effect=[
            httpx.Response(503, text="db timeout", headers={"Retry-After": "2"}),
            ok_ticket(),
        ]
    )
    async with make_client() as zd:
        await zd.get_ticket(1)
    assert route.call_count == 2
    assert fake_time.sleeps == [2.0]


async def test_request_503_without_retry_after_backs_off_then_succeeds(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.get(TICKET_PATH).mock(
        side_effect=[
            httpx.Response(503, text="maintenance"),
            httpx.Response(503, text="maintenance"),
            ok_ticket(),
        ]
    )
    settings = RetrySettings(backoff_initial=0.5, backoff_max=20.0, backoff_jitter=0.5)
    async with make_client(retry=settings) as zd:
        await zd.get_ticket(1)
    assert route.call_count == 3
    assert len(fake_time.sleeps) == 2
    assert 0.5 <= fake_time.sleeps[0] <= 1.0
    assert 1.0 <= fake_time.sleeps[1] <= 1.5  # exponential, with jitter


async def test_request_503_without_retry_after_persisting_raises_service_unavailable(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get(TICKET_PATH).mock(return_value=httpx.Response(503))
    async with make_client(retry=RetrySettings(max_attempts=3)) as zd:
        with pytest.raises(ServiceUnavailable) as caught:
            await zd.get_ticket(1)
    assert route.call_count == 3
    assert caught.value.retry_after is None


async def test_request_500_persisting_gives_up_with_server_error(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.get(TICKET_PATH).mock(return_value=httpx.Response(500, text="boom"))
    async with make_client() as zd:
        with pytest.raises(ServerError) as caught:
            await zd.get_ticket(1)
    assert route.call_count == RetrySettings().max_attempts
    assert len(fake_time.sleeps) == RetrySettings().max_attempts - 1
    assert caught.value.body == "boom"


# -- transport errors -----------------------------------------------------------


async def test_request_read_timeout_retried_then_raises_transport_error(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get(TICKET_PATH).mock(side_effect=httpx.ReadTimeout("read timed out"))
    async with make_client() as zd:
        with pytest.raises(ZendeskTransportError) as caught:
            await zd.get_ticket(1)
    assert route.call_count == RetrySettings().max_attempts
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert caught.value.request_sent is True
    assert zd.stats.retries == RetrySettings().max_attempts - 1


async def test_request_read_timeout_then_answer_returns_body(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get(TICKET_PATH).mock(
        side_effect=[httpx.ReadTimeout("read timed out"), ok_ticket()]
    )
    async with make_client() as zd:
        body = await zd.get_ticket(1)
    assert body["ticket"]["id"] == 1
    assert route.call_count == 2


async def test_create_ticket_read_timeout_not_retried(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.post("/api/v2/tickets").mock(side_effect=httpx.ReadTimeout("read timed out"))
    async with make_client() as zd:
        with pytest.raises(ZendeskTransportError):
            await zd.create_ticket({"subject": "hi", "comment": {"body": "x"}})
    assert route.call_count == 1  # it may have been created: never create twice


async def test_create_ticket_connect_error_retried_then_created(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.post("/api/v2/tickets").mock(
        side_effect=[httpx.ConnectError("refused"), json_response(201, {"ticket": ticket(9)})]
    )
    async with make_client() as zd:
        body = await zd.create_ticket({"subject": "hi"})
    assert body["ticket"]["id"] == 9
    assert route.call_count == 2


async def test_create_ticket_500_not_retried(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.post("/api/v2/tickets").mock(return_value=httpx.Response(500))
    async with make_client() as zd:
        with pytest.raises(ServerError):
            await zd.create_ticket({"subject": "hi"})
    assert route.call_count == 1


# -- 4xx ------------------------------------------------------------------------


async def test_update_ticket_409_raises_conflict_without_retry(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    conflict = {"error": "UpdateConflict", "description": "Ticket changed since updated_stamp"}
    route = zd_api.put(TICKET_PATH).mock(return_value=json_response(409, conflict))
    async with make_client() as zd:
        with pytest.raises(Conflict) as caught:
            await zd.update_ticket(1, {"status": "open"}, updated_stamp="2025-01-01T00:00:00Z")
    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert caught.value.status == 409
    assert caught.value.body == conflict
    assert caught.value.request_method == "PUT"
    assert caught.value.request_path == TICKET_PATH


async def test_update_ticket_422_carries_zendesk_error_json(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    invalid = {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"group_id": [{"type": "invalid", "description": "Group is invalid"}]},
    }
    route = zd_api.put(TICKET_PATH).mock(return_value=json_response(422, invalid))
    async with make_client() as zd:
        with pytest.raises(Unprocessable) as caught:
            await zd.update_ticket(1, {"group_id": 5}, updated_stamp="2025-01-01T00:00:00Z")
    assert route.call_count == 1
    assert caught.value.body == invalid
    assert caught.value.error_code == "RecordInvalid"
    assert "RecordInvalid" in str(caught.value)
    assert isinstance(caught.value, ZendeskPermanentError)


async def test_get_ticket_404_raises_not_found(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.get(TICKET_PATH).mock(
        return_value=json_response(404, {"error": "RecordNotFound", "description": "Not found"})
    )
    async with make_client() as zd:
        with pytest.raises(NotFound) as caught:
            await zd.get_ticket(1)
    assert route.call_count == 1
    assert caught.value.error_code == "RecordNotFound"


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequest), (401, Unauthorized), (403, Forbidden), (405, ZendeskPermanentError)],
)
async def test_request_permanent_status_raises_mapped_error_without_retry(
    zd_api: respx.MockRouter, make_client: MakeClient, status: int, error: type[ZendeskAPIError]
) -> None:
    route = zd_api.get(TICKET_PATH).mock(return_value=httpx.Response(status, text="Nope"))
    async with make_client() as zd:
        with pytest.raises(error) as caught:
            await zd.get_ticket(1)
    assert route.call_count == 1
    assert caught.value.body == "Nope"  # text/plain error bodies are kept as text


# -- malformed answers ------------------------------------------------------------


async def test_get_ticket_non_json_body_raises_malformed_response(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get(TICKET_PATH).mock(return_value=httpx.Response(200, text="<html>proxy error</html>"))
    async with make_client() as zd:
        with pytest.raises(MalformedResponse) as caught:
            await zd.get_ticket(1)
    assert caught.value.status == 200
    assert "proxy error" in caught.value.body


async def test_get_ticket_missing_ticket_key_raises_malformed_response(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get(TICKET_PATH).mock(return_value=json_response(200, {"tickets": []}))
    async with make_client() as zd:
        with pytest.raises(MalformedResponse, match="'ticket'"):
            await zd.get_ticket(1)


async def test_get_ticket_json_array_raises_malformed_response(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get(TICKET_PATH).mock(return_value=json_response(200, [1, 2]))
    async with make_client() as zd:
        with pytest.raises(MalformedResponse):
            await zd.get_ticket(1)


# -- secrets, metrics, urls ---------------------------------------------------------


async def test_errors_unauthorized_message_and_repr_exclude_credentials(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get(TICKET_PATH).mock(return_value=httpx.Response(401, text="Couldn't authenticate"))
    async with make_client() as zd:
        with pytest.raises(Unauthorized) as caught:
            await zd.get_ticket(1)
        shown = " ".join([str(caught.value), repr(caught.value), repr(zd)])
    assert "s3cr3t" not in shown
    assert "Basic" not in shown


async def test_metrics_hook_records_each_attempt_with_template(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    calls = []
    zd_api.get(TICKET_PATH).mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "0"}), ok_ticket()]
    )
    zd_api.get("/api/v2/users/77").mock(side_effect=httpx.ConnectError("down"))

    def hook(endpoint: str, method: str, status: int | None, seconds: float) -> None:
        calls.append((endpoint, method, status))

    async with make_client(metrics=hook, retry=RetrySettings(max_attempts=1)) as zd:
        await zd.get_ticket(1)
        with pytest.raises(ZendeskTransportError):
            await zd.get_user(77)
    assert calls == [
        ("/api/v2/tickets/{id}", "GET", 503),
        ("/api/v2/tickets/{id}", "GET", 200),
        ("/api/v2/users/{id}", "GET", None),
    ]


async def test_metrics_hook_failing_does_not_fail_the_call(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get(TICKET_PATH).mock(return_value=ok_ticket())

    def hook(endpoint: str, method: str, status: int | None, seconds: float) -> None:
        raise RuntimeError("statsd down")

    async with make_client(metrics=hook) as zd:
        assert (await zd.get_ticket(1))["ticket"]["id"] == 1


async def test_paginate_next_page_on_other_host_refused(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get("/api/v2/ticket_fields").mock(
        return_value=json_response(
            200, {"ticket_fields": [{"id": 1}], "next_page": "https://evil.example.com/steal"}
        )
    )
    async with make_client() as zd:
        with pytest.raises(MalformedResponse, match="off the account: evil.example.com"):
            await zd.list_ticket_fields()


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/api/v2/tickets/123/tags", "/api/v2/tickets/{id}/tags"),
        ("/api/v2/job_statuses/8b726e606741012ffc2d782bcb7848fe", "/api/v2/job_statuses/{id}"),
        (
            "/api/v2/webhooks/01F1KRFQ6BG29CNWFR60NK5FNY/signing_secret",
            "/api/v2/webhooks/{id}/signing_secret",
        ),
        ("/api/v2/tickets/update_many", "/api/v2/tickets/update_many"),
        ("/api/v2/incremental/tickets/cursor.json", "/api/v2/incremental/tickets/cursor"),
        ("/api/v2/job_statuses/V3-2054ccab1d8e4e4b9d3c2f7a1b0c9d8e", "/api/v2/job_statuses/{id}"),
        ("/api/v2/job_statuses/V3-2054ccab.json", "/api/v2/job_statuses/{id}"),
        ("/api/v2/tickets/show_many", "/api/v2/tickets/show_many"),
        ("/api/v2/webhooks/01FMJQSY40HZBCBVPZB9212S8V", "/api/v2/webhooks/{id}"),
        ("/api/v2/tickets/42/macros/360001/apply", "/api/v2/tickets/{id}/macros/{id}/apply"),
    ],
)
def test_endpoint_label_ids_replaced_by_placeholder(path: str, label: str) -> None:
    assert endpoint_label(path) == label


@pytest.mark.parametrize(
    ("subdomain", "base_url", "expected"),
    [
        ("acme", None, "https://acme.zendesk.com"),
        ("acme", "http://127.0.0.1:8025/", "http://127.0.0.1:8025"),
        (None, "http://sandbox:8025", "http://sandbox:8025"),
    ],
)
def test_base_url_for_base_url_overrides_subdomain(
    subdomain: str | None, base_url: str | None, expected: str
) -> None:
    assert base_url_for(subdomain, base_url) == expected


@pytest.mark.parametrize("subdomain", [None, "", "acme.evil.com/", "a b"])
def test_base_url_for_no_valid_subdomain_raises(subdomain: str | None) -> None:
    with pytest.raises(ValueError):
        base_url_for(subdomain, None)


# -- pure helpers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("2.5", 2.5),
        (" 3 ", 3.0),
        ("-3", 0.0),
        ("abc", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("inf", None),
        ("Wed, 01 Jan 2025 00:00:30 GMT", 30.0),
    ],
)
def test_parse_retry_after_values_parsed_defensively(
    value: str | None, expected: float | None
) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == expected


def _api(
    cls: type[ZendeskAPIError], retry_after: float | None = None, status: int = 500
) -> ZendeskAPIError:
    return cls(status, {}, retry_after, "GET", "/x")


@pytest.mark.parametrize(
    ("exc", "idempotent", "kind"),
    [
        (_api(RateLimited, 3.0, 429), False, RetryKind.AFTER),
        (_api(RateLimited, None, 429), True, RetryKind.BACKOFF),
        (_api(TooManyJobs, None, 429), False, RetryKind.AFTER),
        (_api(ServiceUnavailable, 2.0, 503), False, RetryKind.AFTER),
        (_api(ServiceUnavailable, None, 503), True, RetryKind.BACKOFF),
        (_api(ServiceUnavailable, None, 503), False, RetryKind.NO),
        (_api(ServerError), True, RetryKind.BACKOFF),
        (_api(ServerError), False, RetryKind.NO),
        (_api(Conflict, None, 409), True, RetryKind.NO),
        (_api(Unprocessable, None, 422), True, RetryKind.NO),
        (_api(MalformedResponse, None, 200), True, RetryKind.NO),
        (
            ZendeskTransportError("t", request_method="GET", request_path="/", request_sent=True),
            True,
            RetryKind.BACKOFF,
        ),
        (
            ZendeskTransportError("t", request_method="POST", request_path="/", request_sent=True),
            False,
            RetryKind.NO,
        ),
        (
            ZendeskTransportError("t", request_method="POST", request_path="/", request_sent=False),
            False,
            RetryKind.BACKOFF,
        ),
        (ValueError("bug"), True, RetryKind.NO),
    ],
)
def test_classify_error_and_idempotency_decides_retry(
    exc: Exception, idempotent: bool, kind: RetryKind
) -> None:
    assert classify(exc, idempotent=idempotent) is kind


async def test_request_api_warn_header_logged(
    zd_api: respx.MockRouter, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    zd_api.put(TICKET_PATH).mock(
        return_value=json_response(
            200,
            {"ticket": ticket(1)},
            **{"X-Zendesk-API-Warn": 'Removed restricted keys ["ticket_form_id"]'},
        )
    )
    async with make_client() as zd:
        with caplog.at_level("WARNING", logger="app.zendesk.client"):
            await zd.update_ticket(1, {"ticket_form_id": 3}, updated_stamp="2025-01-01T00:00:00Z")
    assert "Removed restricted keys" in caplog.text


async def test_create_ticket_503_with_retry_after_retried(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.post("/api/v2/tickets").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "1"}),
            json_response(201, {"ticket": ticket(3)}),
        ]
    )
    async with make_client() as zd:
        await zd.create_ticket({"subject": "hi"})
    assert route.call_count == 2  # Zendesk said it did not act: safe to resend
    assert fake_time.sleeps == [1.0]
