"""The follow-up flow, instead of merging, through the sandbox Zendesk.

"If a client comes back in inquiring about an issue that has already been
handed off to Mediation": the service finds the Mediation ticket of the same
contract, notes it there ([TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #]), links
it on the agent's ticket and solves that; when the Mediation ticket is solved,
the notes go on the agent's ticket, which is assigned to Mediation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import event_status, send, ticket_writes, wait_for

DISPUTE_FORM = "Dispute Ticket Form - Escalate from CS"
AGENT_LINK = "https://acme.zendesk.com/agent/tickets/"
PUBLIC_REPLY_START = "Thank you for following up. Your case is with our Mediation team"


def today() -> date:
    return datetime.now(UTC).date()


class Desk:
    """Ids of the sandbox's groups, forms and fields, and ticket helpers for the tests."""

    def __init__(self, zd: httpx.Client) -> None:
        self.zd = zd
        self.groups = {g["name"]: g["id"] for g in zd.get("/api/v2/groups").json()["groups"]}
        self.group_names = {v: k for k, v in self.groups.items()}
        forms = zd.get("/api/v2/ticket_forms").json()["ticket_forms"]
        self.forms = {f["name"]: f["id"] for f in forms}
        fields = zd.get("/api/v2/ticket_fields").json()["ticket_fields"]
        self.fields = {f["title"]: f for f in fields}

    def value(self, title: str, value: Any) -> Any:
        options = {
            o["name"]: o["value"] for o in self.fields[title].get("custom_field_options") or []
        }
        if isinstance(value, list):  # a multiselect
            return [options.get(v, v) for v in value]
        return options.get(value, value)

    def market(
        self,
        contract_id: str,
        kind: str = "hourly",
        segment: str = "VSB",
        days: int = 10,
        dispute: dict[str, Any] | None = None,
    ) -> None:
        paid = (today() - timedelta(days=days)).isoformat()
        payment_kind = "hourly" if kind == "hourly" else "milestone"
        contract: dict[str, Any] = {
            "id": contract_id,
            "type": kind,
            "status": "closed",
            "client_username": f"cl-{contract_id}",
            "freelancer_username": f"fl-{contract_id}",
            "funds_in_escrow": "0.00",
            "payments": [{"date": paid, "kind": payment_kind, "amount": "100.00"}],
        }
        if dispute is not None:
            contract["dispute"] = dispute
        users = [
            {
                "username": f"cl-{contract_id}",
                "role": "client",
                "segment": segment,
                "profile_url": f"https://obo.example/users/cl-{contract_id}",
            },
            {
                "username": f"fl-{contract_id}",
                "role": "freelancer",
                "badge": "none",
                "ndf": False,
                "profile_url": f"https://obo.example/users/fl-{contract_id}",
            },
        ]
        self.zd.post("/_sandbox/marketplace/contracts", json=contract).raise_for_status()
        self.zd.post("/_sandbox/marketplace/users", json=users).raise_for_status()

    def create(
        self,
        subject: str,
        fields: dict[str, Any],
        *,
        group: str | None = None,
        form: str | None = None,
        status: str | None = None,
        tags: list[str] | None = None,
        channel: str = "web",
        requester: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        ticket: dict[str, Any] = {
            "subject": subject,
            "comment": {"body": f"{subject}: please help.", "public": True},
            "via": {"channel": channel},
            "custom_fields": [
                {"id": self.fields[t]["id"], "value": self.value(t, v)} for t, v in fields.items()
            ],
            "tags": tags or ["demo"],
        }
        if group:
            ticket["group_id"] = self.groups[group]
        if form:
            ticket["ticket_form_id"] = self.forms[form]
        if status:
            ticket["status"] = status
        if requester:
            ticket["requester"] = requester
        answer = self.zd.post("/api/v2/tickets", json={"ticket": ticket})
        answer.raise_for_status()
        created: dict[str, Any] = answer.json()["ticket"]
        return created

    def mediation_ticket(
        self, contract_id: str, status: str = "open", group: str = "Mediation_Tier_1_CX420"
    ) -> dict[str, Any]:
        """A Mediation ticket as an agent escalated it: group, dispute form, macro tags."""
        return self.create(
            f"Dispute on {contract_id}",
            {"Contract ID": contract_id, "Inquiry Type": "dispute", "Requester Role": "client"},
            group=group,
            form=DISPUTE_FORM,
            status=status,
            tags=["cs_mediation_ticket"],
        )

    def follow_up(
        self,
        contract_id: str,
        inquiry: str | None = "follow_up",
        tags: list[str] | None = None,
        requester: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {"Contract ID": contract_id, "Requester Role": "client"}
        if inquiry:
            fields["Inquiry Type"] = inquiry
        return self.create(
            f"Any news on my dispute {contract_id}?",
            fields,
            group="Customer Support",
            tags=tags,
            requester=requester,
        )

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        found: dict[str, Any] = self.zd.get(f"/api/v2/tickets/{ticket_id}").json()["ticket"]
        return found

    def notes(self, ticket_id: int) -> list[str]:
        comments = self.zd.get(f"/api/v2/tickets/{ticket_id}/comments").json()["comments"]
        return [c["body"] for c in comments if not c["public"]]

    def public_replies(self, ticket_id: int) -> list[str]:
        """The public comments after the ticket's first (its description)."""
        comments = self.zd.get(f"/api/v2/tickets/{ticket_id}/comments").json()["comments"]
        return [str(c["body"]) for c in comments if c["public"]][1:]

    def group(self, ticket_id: int) -> str | None:
        return self.group_names.get(self.ticket(ticket_id)["group_id"])


def process(api: httpx.Client, zd: httpx.Client, ticket_id: int) -> int:
    """Post the trigger webhook for the ticket's current state; wait until it is done."""
    ticket = zd.get(f"/api/v2/tickets/{ticket_id}").json()["ticket"]
    answer = send(api, {"ticket_id": str(ticket_id), "updated_at": ticket["updated_at"]})
    assert answer.status_code == 200, answer.text
    event_id: int = answer.json()["event_id"]
    wait_for(lambda: event_status(api, event_id) == "done", what=f"event {event_id} done")
    return event_id


def decisions(api: httpx.Client, ticket_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.get(f"/admin/tickets/{ticket_id}/decisions").json()[
        "decisions"
    ]
    return found


def test_follow_up_with_open_mediation_ticket(zd: httpx.Client, api: httpx.Client) -> None:
    desk = Desk(zd)
    desk.market("C-FU1")
    mediation = desk.mediation_ticket("C-FU1")
    follow_up = desk.follow_up("C-FU1")
    process(api, zd, follow_up["id"])

    on_mediation = desk.notes(mediation["id"])
    assert len(on_mediation) == 1
    note = on_mediation[0]
    assert note.startswith("[TEAM] Customer Support\n")
    assert "\n[CONTRACT #] C-FU1\n" in note
    assert "\n[DETAILS] Client follows up on the dispute" in note
    assert note.endswith(f"\n[ZD TICKET #] {AGENT_LINK}{follow_up['id']}")
    on_follow_up = desk.notes(follow_up["id"])
    assert len(on_follow_up) == 1
    assert f"Mediation ticket: {AGENT_LINK}{mediation['id']}" in on_follow_up[0]
    assert 'Contract ID "C-FU1"' in on_follow_up[0]  # how it was found
    assert f"found Mediation ticket #{mediation['id']}" in on_follow_up[0]
    after = desk.ticket(follow_up["id"])
    assert after["status"] == "solved"
    # solved only with an answer: the public reply from the policy's template
    replies = desk.public_replies(follow_up["id"])
    assert len(replies) == 1 and replies[0].startswith(PUBLIC_REPLY_START)
    assert "triage_path_with_mediation_note" in after["tags"]
    record = decisions(api, follow_up["id"])[0]
    assert record["decision"]["path"] == "with_mediation_note"
    assert record["facts"]["linked_mediation_ticket"] == {
        "id": mediation["id"],
        "status": "open",
        "opened_on": mediation["created_at"][:10],  # the case's start, from Zendesk
    }
    search = record["facts"]["linked_mediation_search"]
    assert search["outcome"] == "found" and search["chosen"] == mediation["id"]
    # The Mediation ticket itself is left where it is.
    assert desk.group(mediation["id"]) == "Mediation_Tier_1_CX420"


def test_follow_up_with_solved_mediation_ticket_goes_to_hv_mediation(
    zd: httpx.Client, api: httpx.Client
) -> None:
    desk = Desk(zd)
    # a high-value client bringing new information (an agent-known fact) on a case
    # whose Mediation ticket was created today: Mediation "needs to be notified"
    desk.market("C-FU2", segment="SB", dispute={"new_information": True})
    mediation = desk.mediation_ticket("C-FU2", status="solved")
    follow_up = desk.follow_up("C-FU2")
    process(api, zd, follow_up["id"])

    assert desk.notes(mediation["id"]) == []  # "do not do the above process"
    notes = desk.notes(follow_up["id"])
    assert len(notes) == 1
    assert "\n[TEAM] Customer Support\n" in notes[0]
    assert f"[ZD TICKET #] {AGENT_LINK}{follow_up['id']}" in notes[0]
    assert f"#{mediation['id']} (solved" in notes[0]
    after = desk.ticket(follow_up["id"])
    assert desk.group(follow_up["id"]) == "HV Mediation Tier 1"
    assert after["status"] == "open"
    assert decisions(api, follow_up["id"])[0]["decision"]["path"] == "with_mediation_reassign"


def test_tag_only_macro_makes_a_follow_up(zd: httpx.Client, api: httpx.Client) -> None:
    """The agent applies "CS > Mediation Ticket" on a ticket without an Inquiry Type."""
    desk = Desk(zd)
    desk.market("C-FU3")
    mediation = desk.mediation_ticket("C-FU3")
    ticket = desk.follow_up("C-FU3", inquiry=None)
    macros = {m["title"]: m["id"] for m in zd.get("/api/v2/macros").json()["macros"]}
    applied = zd.get(
        f"/api/v2/tickets/{ticket['id']}/macros/{macros['CS > Mediation Ticket']}/apply"
    ).json()["result"]["ticket"]
    zd.put(
        f"/api/v2/tickets/{ticket['id']}", json={"ticket": {"tags": applied["tags"]}}
    ).raise_for_status()
    process(api, zd, ticket["id"])

    assert len(desk.notes(mediation["id"])) == 1
    assert desk.ticket(ticket["id"])["status"] == "solved"
    record = decisions(api, ticket["id"])[0]
    assert record["facts"]["inquiry"] == "follow_up"
    assert record["facts"]["linked_mediation_search"]["inferred_inquiry"] == "follow_up"


def test_duplicate_deliveries_and_echoes_write_once(zd: httpx.Client, api: httpx.Client) -> None:
    """The same follow-up delivered again (same and new invocation), and the echoes of
    both of our writes, write nothing more."""
    desk = Desk(zd)
    desk.market("C-FU4")
    mediation = desk.mediation_ticket("C-FU4")
    follow_up = desk.follow_up("C-FU4")
    payload = {"ticket_id": str(follow_up["id"]), "updated_at": follow_up["updated_at"]}
    answers = [send(api, payload) for _ in range(3)]
    assert [a.json()["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    wait_for(lambda: event_status(api, answers[0].json()["event_id"]) == "done", what="done")
    # The same ticket state again as an event-subscription event (a new dedupe key).
    event = {
        "type": "zen:event-type:ticket.tags_changed",
        "id": "01FOLLOWUPREDELIVERY",
        "subject": f"zen:ticket:{follow_up['id']}",
        "detail": {"id": str(follow_up["id"]), "status": "NEW"},
        "event": {"tags_added": [], "tags_removed": []},
    }
    again = send(api, event).json()["event_id"]
    wait_for(lambda: event_status(api, again) == "done", what="redelivery done")
    # The echoes of our own two writes.
    process(api, zd, mediation["id"])
    process(api, zd, follow_up["id"])

    assert len(desk.notes(mediation["id"])) == 1
    assert len(desk.notes(follow_up["id"])) == 1
    assert ticket_writes(zd, mediation["id"]) == 1
    assert ticket_writes(zd, follow_up["id"]) == 2  # the public reply, then the decision
    assert [d["outcome"] for d in decisions(api, follow_up["id"])] == ["noop", "noop", "applied"]
    assert [d["outcome"] for d in decisions(api, mediation["id"])] == ["noop"]


def test_crash_between_the_two_writes_is_finished_by_the_retry(
    zd: httpx.Client, api: httpx.Client
) -> None:
    """The note lands on the Mediation ticket, then Zendesk fails the agent's ticket
    until the attempt gives up; the retry writes only the agent's ticket and records
    both writes."""
    desk = Desk(zd)
    desk.market("C-FU5")
    mediation = desk.mediation_ticket("C-FU5")
    follow_up = desk.follow_up("C-FU5")
    rule = {
        "method": "PUT",
        "path_prefix": f"/api/v2/tickets/{follow_up['id']}",
        "status": 500,
        "times": 4,  # every attempt of the Zendesk client's own retries
    }
    zd.post("/_sandbox/faults", json={"rules": [rule]}).raise_for_status()
    payload = {"ticket_id": str(follow_up["id"]), "updated_at": follow_up["updated_at"]}
    event_id = send(api, payload).json()["event_id"]

    def failed_once() -> bool:
        events = api.get("/admin/events", params={"ticket_id": follow_up["id"]}).json()["events"]
        return any(e["id"] == event_id and e["attempts"] >= 1 for e in events)

    wait_for(failed_once, timeout=30, what="first attempt failed")
    assert len(desk.notes(mediation["id"])) == 1  # the first write was made
    assert desk.notes(follow_up["id"]) == []
    wait_for(lambda: event_status(api, event_id) == "done", timeout=30, what="retry done")

    assert len(desk.notes(mediation["id"])) == 1  # not duplicated by the retry
    assert len(desk.notes(follow_up["id"])) == 1
    assert desk.ticket(follow_up["id"])["status"] == "solved"
    requests = zd.get("/_sandbox/requests").json()
    puts = [r for r in requests if r["method"] == "PUT"]
    assert [r["status"] for r in puts if r["path"].endswith(f"/{mediation['id']}")] == [200]
    record = decisions(api, follow_up["id"])[0]
    # the first attempt's note is recorded with the retry's writes (its write intent); the
    # retry sends the public reply, then the decision's own update
    ids = [w["ticket_id"] for w in record["writes"]]
    assert ids == [mediation["id"], follow_up["id"], follow_up["id"]]
    assert [bool(w.get("recovered")) for w in record["writes"]] == [True, False, False]
    assert len(desk.public_replies(follow_up["id"])) == 1


def test_several_open_mediation_tickets_ask_the_agent(zd: httpx.Client, api: httpx.Client) -> None:
    desk = Desk(zd)
    desk.market("C-FU6")
    first = desk.mediation_ticket("C-FU6")
    second = desk.mediation_ticket("C-FU6", group="HV Mediation Tier 1")
    desk.mediation_ticket("C-OTHER")  # another contract: not a candidate
    follow_up = desk.follow_up("C-FU6")
    process(api, zd, follow_up["id"])

    assert desk.notes(first["id"]) == [] and desk.notes(second["id"]) == []
    notes = desk.notes(follow_up["id"])
    assert len(notes) == 1
    assert "the Mediation ticket of this case" in notes[0]
    assert f"#{first['id']} (open" in notes[0] and f"#{second['id']} (open" in notes[0]
    assert "Which one is this case's Mediation ticket?" in notes[0]
    record = decisions(api, follow_up["id"])[0]
    assert record["decision"]["path"] == "needs_info"
    assert record["facts"]["linked_mediation_search"]["outcome"] == "several"
    assert "linked_mediation_ticket" not in record["facts"]


def test_no_mediation_ticket_asks_the_agent(zd: httpx.Client, api: httpx.Client) -> None:
    desk = Desk(zd)
    desk.market("C-FU7")
    follow_up = desk.follow_up("C-FU7")
    process(api, zd, follow_up["id"])
    notes = desk.notes(follow_up["id"])
    assert len(notes) == 1 and "found none" in notes[0]
    assert decisions(api, follow_up["id"])[0]["decision"]["missing"] == ["mediation_ticket"]


def test_change_of_terms_fixed_price_notes_mediation_hourly_replies(
    zd: httpx.Client, api: httpx.Client
) -> None:
    desk = Desk(zd)
    desk.market("C-FP", kind="fixed_price")
    desk.market("C-HR", kind="hourly")
    fp_mediation = desk.mediation_ticket("C-FP")
    hourly_mediation = desk.mediation_ticket("C-HR")
    fp = desk.follow_up("C-FP", inquiry="change_terms")
    hourly = desk.follow_up("C-HR", inquiry="change_terms")
    process(api, zd, fp["id"])
    process(api, zd, hourly["id"])

    fp_notes = desk.notes(fp_mediation["id"])
    assert len(fp_notes) == 1 and "asks to change the terms" in fp_notes[0]
    assert desk.ticket(fp["id"])["status"] == "solved"
    assert desk.notes(hourly_mediation["id"]) == []
    hourly_decision = decisions(api, hourly["id"])[0]["decision"]
    assert hourly_decision["path"] == "change_terms_hourly"
    guidance = hourly_decision["reply_guidance"]
    assert any("Dispute itself within the Site" in line for line in guidance)
