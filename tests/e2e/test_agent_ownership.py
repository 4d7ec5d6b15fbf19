"""An agent is never overruled, and agents can answer back, with the service's clock moved.

The service runs with an injectable clock (`create_app(clock=...)`), moved 1 and
8 days forward while the user writes again. After a hand-off the service acts
only on new facts or a deadline: an agent's reassignment stands, no second note
is written, and nothing at all is written when nothing new is known. An agent
filling in one of the policy's agent fields re-triggers the decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.api.app import create_app
from app.core.serving import ThreadedServer
from tests.e2e.agents_helpers import (
    Contract,
    MovableClock,
    end_user,
    fill_in,
    notify,
    open_ticket,
    outcome_notes,
    service_puts,
    user_writes_again,
)
from tests.e2e.conftest import ADMIN, e2e_settings
from tests.e2e.test_followup_flow import Desk, decisions

RETENTION = "Client Retention Tier 2"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def api(sandbox: ThreadedServer, tmp_path: Path, clock: MovableClock) -> Iterator[httpx.Client]:
    settings = e2e_settings(sandbox.url, tmp_path / "triage.db")
    with ThreadedServer(create_app(settings, clock=clock)) as server:
        headers = {"authorization": f"Bearer {ADMIN}"}
        with httpx.Client(base_url=server.url, timeout=10, headers=headers) as client:
            yield client


def trace_of(api: httpx.Client, ticket_id: int, step: str) -> list[str]:
    latest = decisions(api, ticket_id)[0]["decision"]
    return [s["why"] for s in latest["trace"] if s["step"] == step]


def dispute_ticket(desk: Desk, clock: MovableClock, cid: str, paid_days_ago: int) -> int:
    Contract(cid, paid_days_ago=paid_days_ago).seed(desk.zd, clock.today())
    fields = {
        "Contract ID": cid,
        "Requester Role": "client",
        "Inquiry Type": "dispute",
        "Dispute Reasons": ["Manual Time"],
    }
    user = end_user(desk.zd, f"User {cid}")
    return int(open_ticket(desk, f"Dispute {cid}", fields, requester_id=user)["id"])


def test_reassignment_stands_and_a_later_day_writes_nothing(
    zd: httpx.Client, api: httpx.Client, clock: MovableClock
) -> None:
    desk = Desk(zd)
    # 55 days after the last payment: Client Retention (31-60); on day +8 it would be 63.
    moved = dispute_ticket(desk, clock, "C-O1", 55)
    left = dispute_ticket(desk, clock, "C-O2", 55)
    for tid in (moved, left):
        notify(api, zd, tid, clock())
        assert desk.group(tid) == RETENTION
        assert len(outcome_notes(desk, tid)) == 1
    # An agent takes one ticket back.
    zd.put(
        f"/api/v2/tickets/{moved}", json={"ticket": {"group_id": desk.groups["Customer Support"]}}
    ).raise_for_status()

    for days in (1, 8):
        clock.days = days
        for tid in (moved, left):
            user_writes_again(zd, tid, f"Any news? (day +{days})")
            zd.delete("/_sandbox/requests").raise_for_status()  # from here: the service's
            notify(api, zd, tid, clock())
            assert service_puts(zd, tid) == 0, f"no write at all on day +{days}"
        assert desk.group(moved) == "Customer Support", "the agent's reassignment stands"
        assert desk.group(left) == RETENTION
        assert [len(outcome_notes(desk, tid)) for tid in (moved, left)] == [1, 1]
        [held] = trace_of(api, moved, "ownership")
        assert held.startswith("held: owned by agent since ")
        [kept] = trace_of(api, left, "ownership")
        assert kept.startswith(f"held: handed to {RETENTION} on ")
    # On day +8 the payment is 63 days old: the decision alone would flip the path.
    assert decisions(api, left)[0]["decision"]["path"] == "not_eligible"
    assert decisions(api, left)[0]["outcome"] == "noop"

    # A new fact from an agent is acted on, without moving the agent's ticket.
    fill_in(desk, moved, {"Related RT Link": "https://rt.example/T-77"})
    notify(api, zd, moved, clock())
    assert desk.group(moved) == "Customer Support"
    record = decisions(api, moved)[0]
    assert record["outcome"] == "applied"
    assert record["facts"]["related_rt_link"] == "https://rt.example/T-77"
    notes = outcome_notes(desk, moved)  # decided afresh on day +8: no longer Client Retention
    assert len(notes) == 2 and notes[-1].startswith("[TRIAGE] Not eligible for Mediation")


def test_a_filled_in_agent_field_re_triggers_the_decision(
    zd: httpx.Client, api: httpx.Client, clock: MovableClock
) -> None:
    """The directory says the account was not suspended by Mediation; the agent knows
    better (the field wins), then is asked for the exact field still missing."""
    desk = Desk(zd)
    cid = "C-O3"
    Contract(cid, extra={"account": {"suspended_by_mediation": False}}).seed(zd, clock.today())
    fields = {"Contract ID": cid, "Requester Role": "client", "Inquiry Type": "account_suspended"}
    tid = int(
        open_ticket(desk, "My account is on hold", fields, requester_id=end_user(zd, "Sus"))["id"]
    )
    notify(api, zd, tid, clock())
    assert decisions(api, tid)[0]["decision"]["path"] == "suspended_account_not_mediation"

    fill_in(desk, tid, {"AE Suspended by Mediation": "Yes"})
    notify(api, zd, tid, clock())
    record = decisions(api, tid)[0]
    assert record["facts"]["account"] == {"suspended_by_mediation": True}
    assert record["decision"]["path"] == "needs_info"
    asking = outcome_notes(desk, tid)[-1]
    assert 'fill in the ticket field "Dispute Closed"' in asking

    fill_in(desk, tid, {"Dispute Closed": "Yes"})
    notify(api, zd, tid, clock())
    assert decisions(api, tid)[0]["decision"]["path"] == "suspended_account_review"
    assert desk.group(tid) == "Mediation_Tier_1_CX420"
    assert len(outcome_notes(desk, tid)) == 3
