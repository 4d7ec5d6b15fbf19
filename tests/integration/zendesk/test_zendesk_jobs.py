"""Background jobs: update_many chunking and per-ticket results, the job limit, merges."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
import respx

from app.zendesk import (
    JobFailed,
    JobSettings,
    JobTimedOut,
    JobVanished,
    Priority,
    RetrySettings,
)
from tests.integration.zendesk.zendesk_fakes import FakeTime, MakeClient, json_response

pytestmark = pytest.mark.anyio

STAMP = "2025-01-01T00:00:00Z"
JOB_PATH = re.compile(r"/api/v2/job_statuses/(?P<job_id>\w+)")


class FakeJobs:
    """Zendesk's job queue: jobs submitted by update_many, polled via job_statuses."""

    def __init__(
        self,
        *,
        fail_ticket: int | None = None,
        drop_ticket: int | None = None,
        polls_before_done: int = 1,
    ) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.fail_ticket = fail_ticket
        self.drop_ticket = drop_ticket
        self.polls_before_done = polls_before_done
        self.running = 0
        self.max_running = 0

    def submit(self, request: httpx.Request) -> Any:
        tickets = json.loads(request.content)["tickets"]
        job_id = f"job{len(self.jobs) + 1}"
        self.jobs[job_id] = {"tickets": tickets}
        self.polls[job_id] = 0
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        return json_response(200, {"job_status": {"id": job_id, "status": "queued"}})

    def status(self, request: httpx.Request, job_id: str) -> Any:
        self.polls[job_id] += 1
        if self.polls[job_id] < self.polls_before_done:
            return json_response(200, {"job_status": {"id": job_id, "status": "working"}})
        self.running -= 1
        results = []
        for t in self.jobs[job_id]["tickets"]:
            if t["id"] == self.drop_ticket:
                continue
            if t["id"] == self.fail_ticket:
                results.append(
                    {
                        "id": t["id"],
                        "action": "update",
                        "success": False,
                        "status": "Failed",
                        "error": "TicketUpdateFailed",
                        "details": "Safe Update prevented the update",
                    }
                )
            else:
                results.append(
                    {"id": t["id"], "action": "update", "success": True, "status": "Updated"}
                )
        return json_response(
            200,
            {
                "job_status": {
                    "id": job_id,
                    "status": "completed",
                    "total": len(results),
                    "results": results,
                }
            },
        )


def updates(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "group_id": 7, "updated_stamp": STAMP} for i in range(1, n + 1)]


async def test_update_many_250_updates_three_jobs_with_per_ticket_failures(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    fake = FakeJobs(fail_ticket=7, drop_ticket=205, polls_before_done=2)
    submit = zd_api.put("/api/v2/tickets/update_many").mock(side_effect=fake.submit)
    poll = zd_api.get(path__regex=JOB_PATH.pattern).mock(side_effect=fake.status)
    async with make_client() as zd:
        results = await zd.update_many(updates(250))
    assert submit.call_count == 3
    assert [len(json.loads(c.request.content)["tickets"]) for c in submit.calls] == [100, 100, 50]
    first = json.loads(submit.calls[0].request.content)["tickets"][0]
    assert first == {"id": 1, "group_id": 7, "updated_stamp": STAMP, "safe_update": True}
    assert poll.call_count == 6  # working, then completed, for each job
    assert [r.ticket_id for r in results] == list(range(1, 251))
    failed = {r.ticket_id: r for r in results if not r.success}
    assert set(failed) == {7, 205}
    assert failed[7].error == "TicketUpdateFailed" and failed[7].job_id == "job1"
    assert failed[205].error == "MissingResult"
    assert fake_time.sleeps  # polled with the injected sleep, never a blocking one


async def test_update_many_in_flight_limit_caps_concurrent_jobs(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    fake = FakeJobs(polls_before_done=3)
    zd_api.put("/api/v2/tickets/update_many").mock(side_effect=fake.submit)
    zd_api.get(path__regex=JOB_PATH.pattern).mock(side_effect=fake.status)
    async with make_client(jobs=JobSettings(max_in_flight=2, chunk_size=10)) as zd:
        results = await zd.update_many(updates(50))
    assert len(results) == 50 and all(r.success for r in results)
    assert len(fake.jobs) == 5
    assert fake.max_running == 2


async def test_update_many_too_many_jobs_waits_then_resubmits(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    fake = FakeJobs()
    too_many = json_response(
        429,
        {
            "error": "TooManyJobs",
            "description": "Number of allowed queued jobs (30) exceeded",
            "current_job_ids": ["a", "b"],
        },
        **{"zendesk-ratelimit-inflight-jobs": "total=30; remaining=0; resets=15"},
    )
    # respx calls a callable found in a side-effect list; its type hints leave that out.
    submit = zd_api.put("/api/v2/tickets/update_many").mock(
        side_effect=[too_many, fake.submit]  # type: ignore[list-item]
    )
    zd_api.get(path__regex=JOB_PATH.pattern).mock(side_effect=fake.status)
    async with make_client() as zd:
        results = await zd.update_many(updates(3))
    assert submit.call_count == 2
    assert fake_time.sleeps[0] == 15.0  # the inflight-jobs reset
    assert zd.stats.rate_limited == 1
    assert all(r.success for r in results)


async def test_update_many_too_many_jobs_without_reset_waits_configured_time(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    fake = FakeJobs()
    zd_api.put("/api/v2/tickets/update_many").mock(
        # respx calls a callable found in a side-effect list; its type hints leave that out.
        side_effect=[json_response(429, {"error": "TooManyJobs"}), fake.submit]  # type: ignore[list-item]
    )
    zd_api.get(path__regex=JOB_PATH.pattern).mock(side_effect=fake.status)
    async with make_client(retry=RetrySettings(too_many_jobs_wait=12.0)) as zd:
        await zd.update_many(updates(1))
    assert fake_time.sleeps[0] == 12.0


async def test_update_many_job_failed_raises_with_completed_chunks(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    def submit(request: httpx.Request) -> httpx.Response:
        first_id = json.loads(request.content)["tickets"][0]["id"]
        return json_response(200, {"job_status": {"id": f"j{first_id}", "status": "queued"}})

    def status(request: httpx.Request, job_id: str) -> httpx.Response:
        if job_id == "j101":
            return json_response(
                200, {"job_status": {"id": job_id, "status": "failed", "message": "boom"}}
            )
        ids = range(1, 101)
        return json_response(
            200,
            {
                "job_status": {
                    "id": job_id,
                    "status": "completed",
                    "results": [{"id": i, "success": True, "status": "Updated"} for i in ids],
                }
            },
        )

    zd_api.put("/api/v2/tickets/update_many").mock(side_effect=submit)
    zd_api.get(path__regex=JOB_PATH.pattern).mock(side_effect=status)
    async with make_client() as zd:
        with pytest.raises(JobFailed) as caught:
            await zd.update_many(updates(150))
    assert caught.value.job_id == "j101"
    assert "boom" in str(caught.value)
    assert [r.ticket_id for r in caught.value.completed] == list(range(1, 101))


async def test_update_many_job_vanished_raises_job_vanished(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.put("/api/v2/tickets/update_many").mock(
        return_value=json_response(200, {"job_status": {"id": "gone", "status": "queued"}})
    )
    zd_api.get("/api/v2/job_statuses/gone").mock(
        return_value=json_response(404, {"error": "RecordNotFound"})
    )
    async with make_client() as zd:
        with pytest.raises(JobVanished):
            await zd.update_many(updates(2))


async def test_update_many_job_never_finishing_raises_timed_out(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.put("/api/v2/tickets/update_many").mock(
        return_value=json_response(200, {"job_status": {"id": "slow", "status": "queued"}})
    )
    zd_api.get("/api/v2/job_statuses/slow").mock(
        return_value=json_response(200, {"job_status": {"id": "slow", "status": "working"}})
    )
    settings = JobSettings(poll_initial=1.0, poll_max=4.0, poll_timeout=20.0)
    async with make_client(jobs=settings) as zd:
        with pytest.raises(JobTimedOut):
            await zd.update_many(updates(1))


async def test_update_many_refused_chunk_returns_failed_results(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    route = zd_api.put("/api/v2/tickets/update_many").mock(
        return_value=json_response(
            422, {"error": "RecordInvalid", "description": "updated_stamp missing"}
        )
    )
    async with make_client() as zd:
        results = await zd.update_many([{"id": 1, "status": "open"}, {"id": 2}])
    assert route.call_count == 1
    assert [(r.ticket_id, r.success, r.error) for r in results] == [
        (1, False, "Unprocessable"),
        (2, False, "Unprocessable"),
    ]
    assert "RecordInvalid" in (results[0].details or "")


async def test_update_many_update_without_id_raises_value_error(make_client: MakeClient) -> None:
    async with make_client() as zd:
        with pytest.raises(ValueError, match="id"):
            await zd.update_many([{"status": "open"}])


async def test_merge_job_completed_returns_success(
    zd_api: respx.MockRouter, make_client: MakeClient, fake_time: FakeTime
) -> None:
    route = zd_api.post("/api/v2/tickets/10/merge").mock(
        return_value=json_response(200, {"job_status": {"id": "m1", "status": "queued"}})
    )
    zd_api.get("/api/v2/job_statuses/m1").mock(
        return_value=json_response(
            200,
            {
                "job_status": {
                    "id": "m1",
                    "status": "completed",
                    "message": "Completed at 2025-01-01",
                }
            },
        )
    )
    async with make_client() as zd:
        result = await zd.merge(
            10, [11, 12], target_comment="Merged #11, #12", source_comment="Merged into #10"
        )
    assert json.loads(route.calls.last.request.content) == {
        "ids": [11, 12],
        "target_comment": "Merged #11, #12",
        "source_comment": "Merged into #10",
    }
    assert (result.ticket_id, result.success, result.job_id) == (10, True, "m1")
    assert fake_time.sleeps == [1.0]


async def test_merge_job_result_error_returns_failed_result(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.post("/api/v2/tickets/10/merge").mock(
        return_value=json_response(
            200,
            {
                "job_status": {
                    "id": "m2",
                    "status": "completed",
                    "results": [
                        {
                            "success": False,
                            "error": "TicketMergeFailed",
                            "details": "closed tickets cannot be merged",
                        }
                    ],
                }
            },
        )
    )
    async with make_client() as zd:
        result = await zd.merge(10, [11])
    assert not result.success
    assert result.error == "TicketMergeFailed"


async def test_merge_job_failed_raises_job_failed(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.post("/api/v2/tickets/10/merge").mock(
        return_value=json_response(200, {"job_status": {"id": "m3", "status": "queued"}})
    )
    zd_api.get("/api/v2/job_statuses/m3").mock(
        return_value=json_response(200, {"job_status": {"id": "m3", "status": "killed"}})
    )
    async with make_client() as zd:
        with pytest.raises(JobFailed):
            await zd.merge(10, [11], priority=Priority.REPLAY)


async def test_get_job_status_returns_job_status(
    zd_api: respx.MockRouter, make_client: MakeClient
) -> None:
    zd_api.get("/api/v2/job_statuses/abc").mock(
        return_value=json_response(
            200, {"job_status": {"id": "abc", "status": "working", "progress": 3, "total": 10}}
        )
    )
    async with make_client() as zd:
        job = await zd.get_job_status("abc")
    assert job["progress"] == 3
