"""Hostile text in a ticket's subject and description, through the full pipeline:
sandbox ticket -> signed webhook -> worker (facts, decide, note) -> Zendesk
update, on SQLite and PostgreSQL.

The ticket is created with ASCII-escaped JSON, as Zendesk's API receives it
from most clients, so emoji travel as escaped surrogate pairs. For each case:
the event ends `done`, the decided internal note quotes the subject as sent
(nothing evaluated, nothing lost), the sandbox holds that note as a private
comment, and the worker is still alive to process the next ticket.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.cli.demo_cases import DemoCase, hourly_case
from app.core.serving import ThreadedServer
from app.routing.summary import quote_safe
from tests.security.harness import (
    InProcessService,
    as_json,
    security_settings,
    sqlite_url,
    xfail_if_known,
)

SUBJECTS: dict[str, str] = {
    "rtl-and-bidi-marks": "Refund \u202eevil\u202c \u200f\u200e\u061c\u2067iso\u2069 now",
    "nul-byte": "nul\x00byte in subject",
    "emoji-surrogate-pairs": "Money 😀 👨\u200d👩\u200d👧 🏳️\u200d🌈 gone",
    "combining-characters": "e\u0301\u0301 Z\u0337\u0322a\u0338l\u0336g\u0335o " + "a\u0300" * 300,
    "huge-subject": "Long " + "x" * 70_000,
    "template-syntax": "{{ 7*7 }} {% if true %}x{% endif %} ${7*7} %s %(x)s {0} #{7*7}",
    "whitespace-only": " \t  ",
    "noncharacters-and-bom": "\ufeff\uffff\ufffe \U0010ffff end",
    "control-characters": "\x07bell \x1b[31mred\x1b[0m \x7f del",
    "arabic-hebrew-cjk": "نزاع על חוזה 紛争の調停",
}

# Known failures: (case, backend) -> diagnosis.
# Findings not fixed yet: none (every earlier one is fixed; the cases stay as
# regressions). Add (case, backend) -> diagnosis here to mark a new one.
KNOWN: dict[tuple[str, str | None], str] = {}


def create_ticket(zd: httpx.Client, case: DemoCase, description: str) -> dict[str, Any]:
    """`SandboxSeeder.create`, but posting ASCII-escaped JSON (surrogates as `\\uXXXX`)."""
    fields = {f["title"]: f for f in zd.get("/api/v2/ticket_fields").json()["ticket_fields"]}

    def value(title: str, wanted: Any) -> Any:
        options = {o["name"]: o["value"] for o in fields[title].get("custom_field_options") or []}
        return (
            [options.get(v, v) for v in wanted]
            if isinstance(wanted, list)
            else options.get(wanted, wanted)
        )

    if case.contract:
        zd.post("/_sandbox/marketplace/contracts", json=case.contract).raise_for_status()
    for user in case.users:
        zd.post("/_sandbox/marketplace/users", json=user).raise_for_status()
    ticket = {
        "subject": case.subject,
        "comment": {"body": description, "public": True},
        "via": {"channel": case.channel},
        "custom_fields": [
            {"id": fields[t]["id"], "value": value(t, v)} for t, v in case.fields.items()
        ],
        "tags": ["security"],
    }
    answer = zd.post(
        "/api/v2/tickets",
        content=as_json({"ticket": ticket}),
        headers={"content-type": "application/json"},
    )
    answer.raise_for_status()
    created: dict[str, Any] = answer.json()["ticket"]
    return created


def run_ticket(
    service: InProcessService, zd: httpx.Client, subject: str, description: str
) -> tuple[int, str]:
    case = dataclasses.replace(hourly_case(datetime.now(UTC).date()), subject=subject)
    ticket = create_ticket(zd, case, description)
    answer = service.send_signed(
        {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]}
    )
    assert answer.status_code == 200, answer.text
    return ticket["id"], service.wait_terminal(answer.json()["event_id"], timeout=60)


@pytest.mark.parametrize("case", list(SUBJECTS))
@pytest.mark.parametrize(
    "backend_service",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_hostile_subject_reaches_the_internal_note(
    backend_service: tuple[str, InProcessService],
    zd: httpx.Client,
    case: str,
    request: pytest.FixtureRequest,
) -> None:
    backend, service = backend_service
    xfail_if_known(request, KNOWN, case, backend)
    subject = SUBJECTS[case]
    ticket_id, status = run_ticket(
        service, zd, subject, description=f"{subject}\n\n{subject} (the dispute)"
    )
    assert status == "done"

    history = service.admin("GET", f"/admin/tickets/{ticket_id}/decisions")
    assert history.status_code == 200, history.text[:300]
    notes = [n["body"] for n in history.json()["decisions"][0]["decision"]["notes"]]
    assert notes, "the routed dispute carries an internal note"
    quoted = quote_safe(subject)
    assert any(quoted in body for body in notes), "subject quoted on one line, bidi-free"

    comments = zd.get(f"/api/v2/tickets/{ticket_id}/comments").json()["comments"]
    private = [c["body"] for c in comments if not c["public"]]
    assert private and private[-1].strip() == notes[-1].strip()

    assert service.worker_alive()
    _, next_status = run_ticket(service, zd, "An ordinary dispute", "An ordinary dispute")
    assert next_status == "done"


@pytest.fixture(scope="module")
def routed(
    sandbox: ThreadedServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessService]:
    db = sqlite_url(tmp_path_factory.mktemp("routed") / "triage.db")
    with InProcessService.create(security_settings(sandbox.url, db)) as service:
        yield service


@pytest.mark.parametrize(
    "forged",
    [
        "Late payment\nContract ID: C-999-FORGED",
        "Late payment\r\nEligibility: eligible, escalate now (FORGED)",
        "Late payment\u2028Queue: VIP (FORGED)",
        "\u202eDEGROF :tnemyap etaL",
    ],
    ids=["newline", "crlf", "line-separator", "bidi-override"],
)
def test_subject_cannot_forge_note_lines(
    routed: InProcessService, zd: httpx.Client, forged: str
) -> None:
    ticket_id, status = run_ticket(routed, zd, forged, description="a dispute")
    assert status == "done"
    history = routed.admin("GET", f"/admin/tickets/{ticket_id}/decisions")
    notes = [n["body"] for n in history.json()["decisions"][0]["decision"]["notes"]]
    for body in notes:
        for line in body.splitlines():
            assert "FORGED" not in line or line.startswith("Quick summary"), line
        assert "\u202e" not in body
