"""GET /admin/policy (policy in force + check-config) and POST /admin/policy/diff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.routing import default_policy_path, load_policy
from app.store import DecisionRecord
from tests.integration.admin.admin_helpers import (
    TestClient,
    hourly_facts,
    policy_text_with_mediation_window,
    services_of,
)

DEFAULT = load_policy(default_policy_path())


def test_get_policy_shows_the_policy_and_check_config(client: TestClient) -> None:
    answer = client.get("/admin/policy")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["name"], body["version"]) == (DEFAULT.name, DEFAULT.version)
    assert body["file"] == str(default_policy_path())
    assert body["content"]["windows"]["mediation"] == 30
    assert body["content"]["version"] == DEFAULT.version
    check = body["check_config"]
    assert check["status"] == "ok" and check["error"] is None
    assert check["missing"] == 0 and check["found"] == check["total"] == len(check["rows"])
    kinds = {row["kind"] for row in check["rows"]}
    assert {"groups", "macros", "forms", "brands", "fields"} <= kinds
    groups = {row["name"] for row in check["rows"] if row["kind"] == "groups"}
    assert "Mediation_Tier_1_CX420" in groups
    assert all(row["id"] for row in check["rows"] if row["kind"] == "groups")


def test_check_config_rows_filter_and_page(client: TestClient) -> None:
    everything = client.get("/admin/policy").json()["check_config"]
    groups = client.get("/admin/policy", params={"kind": "groups"}).json()["check_config"]
    assert {r["kind"] for r in groups["rows"]} == {"groups"}
    assert groups["total"] == everything["total"]  # totals are the whole check
    assert (
        client.get("/admin/policy", params={"found": "false"}).json()["check_config"]["rows"] == []
    )
    first = client.get("/admin/policy", params={"limit": 5}).json()["check_config"]
    second = client.get("/admin/policy", params={"limit": 5, "offset": 5}).json()["check_config"]
    assert first["rows"] + second["rows"] == everything["rows"][:10]
    assert first["next_offset"] == 5
    assert client.get("/admin/policy", params={"kind": "nonsense"}).status_code == 422


def test_get_policy_says_when_zendesk_cannot_be_reached(
    client: TestClient, zd: httpx.Client
) -> None:
    zd.post(
        "/_sandbox/faults",
        json={"rules": [{"path_prefix": "/api/v2/groups", "timeout": True, "hold_seconds": 5}]},
    ).raise_for_status()
    try:
        answer = client.get("/admin/policy", params={"timeout": 0.5})
    finally:
        zd.delete("/_sandbox/faults")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == DEFAULT.version
    assert body["check_config"]["status"] == "unavailable"
    assert "did not answer" in body["check_config"]["error"]
    assert "rows" not in body["check_config"]


def test_get_policy_reports_zendesk_errors(client: TestClient, zd: httpx.Client) -> None:
    zd.post(
        "/_sandbox/faults", json={"rules": [{"path_prefix": "/api/v2/macros", "status": 403}]}
    ).raise_for_status()
    check = client.get("/admin/policy").json()["check_config"]
    assert check["status"] == "unavailable" and "Forbidden" in check["error"]


# --- diff --------------------------------------------------------------------------


def record(client: TestClient, ticket_id: int, days: int, at: datetime | None = None) -> int:
    services = services_of(client)
    at = at or datetime.now(UTC)
    decision_record = DecisionRecord(
        ticket_id=ticket_id,
        event_id=None,
        policy_version=DEFAULT.version,
        facts=hourly_facts(ticket_id, at.date(), days),
        decision={},
        decided_at=at,
    )
    assert client.portal is not None
    decision_id: int = client.portal.call(services.store.record_decision, decision_record)
    return decision_id


def diff(client: TestClient, body: dict[str, Any], **params: Any) -> dict[str, Any]:
    answer = client.post("/admin/policy/diff", json=body, params=params)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


@pytest.fixture
def window_20() -> str:
    return policy_text_with_mediation_window(20)


def test_diff_reports_the_ticket_the_shorter_window_moves(
    client: TestClient, window_20: str
) -> None:
    record(client, 1, days=40)  # older decision of ticket 1: superseded by the next
    moved = record(client, 1, days=25)
    record(client, 2, days=10)
    result = diff(client, {"policy_yaml": window_20, "last": 100})
    assert result["current"]["version"] == DEFAULT.version
    assert result["candidate"]["version"] != DEFAULT.version
    assert (result["scanned"], result["compared"], result["problems"]) == (3, 2, [])
    by_ticket = {c["ticket_id"]: c for c in result["changes"]}
    assert by_ticket[1]["decision_id"] == moved
    assert by_ticket[1]["diff"]["queue"] == {
        "before": "Mediation_Tier_1_CX420",
        "after": "Client Retention Tier 2",
    }
    assert by_ticket[1]["before"]["eligible"] is True and by_ticket[1]["after"]["eligible"] is False
    assert by_ticket[2]["changed"] == ["eligibility", "notes"]  # wording only: same queue

    material = diff(client, {"policy_yaml": window_20}, aspect=["queue", "status", "macro"])
    assert [c["ticket_id"] for c in material["changes"]] == [1]
    assert material["changed_count"] == 1
    only_two = diff(client, {"policy_yaml": window_20}, ticket_id=2)
    assert [c["ticket_id"] for c in only_two["changes"]] == [2]
    page = diff(client, {"policy_yaml": window_20}, limit=1)
    assert len(page["changes"]) == 1 and page["next_offset"] == 1
    rest = diff(client, {"policy_yaml": window_20}, limit=1, offset=1)
    assert rest["next_offset"] is None
    assert {page["changes"][0]["ticket_id"], rest["changes"][0]["ticket_id"]} == {1, 2}


def test_diff_of_the_policy_in_force_is_empty(client: TestClient) -> None:
    record(client, 1, days=25)
    same = diff(client, {"policy_yaml": default_policy_path().read_text()})
    assert same["candidate"] == same["current"]
    assert (same["compared"], same["changes"], same["unchanged"]) == (1, [], 1)


def test_diff_window_last_range_and_as_of(client: TestClient, window_20: str) -> None:
    now = datetime.now(UTC)
    record(client, 1, days=25, at=now - timedelta(days=3))
    record(client, 2, days=25)
    last_one = diff(client, {"policy_yaml": window_20, "last": 1})
    assert [c["ticket_id"] for c in last_one["changes"]] == [2]
    ranged = diff(
        client,
        {
            "policy_yaml": window_20,
            "start": (now - timedelta(days=4)).isoformat(),
            "end": (now - timedelta(days=2)).isoformat(),
        },
    )
    assert [c["ticket_id"] for c in ranged["changes"]] == [1]
    assert ranged["changes"][0]["decided_as_of"] == (now - timedelta(days=3)).date().isoformat()
    # Decided as of 40 days after the payment, both policies say "past the window":
    # no queue moves.
    later = (now + timedelta(days=15)).date().isoformat()
    pinned = diff(client, {"policy_yaml": window_20, "as_of": later}, aspect=["queue"])
    assert pinned["as_of"] == later and pinned["changes"] == []


def test_stored_facts_that_no_longer_validate_are_reported(
    client: TestClient, window_20: str
) -> None:
    services = services_of(client)
    assert client.portal is not None
    client.portal.call(
        services.store.record_decision,
        DecisionRecord(ticket_id=7, event_id=None, policy_version="x", facts={}, decision={}),
    )
    result = diff(client, {"policy_yaml": window_20})
    assert [p["ticket_id"] for p in result["problems"]] == [7]
    assert result["compared"] == 0


@pytest.mark.parametrize(
    ("yaml_text", "line", "fragment"),
    [
        ("name: [unclosed\n", 2, "not valid YAML"),
        ("- just\n- a list\n", 1, "must be a YAML mapping"),
    ],
)
def test_invalid_candidate_is_422_with_file_line_and_problem(
    client: TestClient, yaml_text: str, line: int, fragment: str
) -> None:
    answer = client.post(
        "/admin/policy/diff", json={"policy_yaml": yaml_text, "file_name": "mine.yaml"}
    )
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["detail"]
    assert error["type"] == "invalid_policy" and error["loc"] == ["body", "policy_yaml"]
    assert error["ctx"]["file"] == "mine.yaml" and error["ctx"]["line"] == line
    assert fragment in error["ctx"]["message"]
    assert error["msg"].startswith(f"mine.yaml:{line}: ")


def invalid_policy(client: TestClient, text: str) -> dict[str, Any]:
    answer = client.post("/admin/policy/diff", json={"policy_yaml": text})
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["detail"]
    assert error["type"] == "invalid_policy"
    ctx: dict[str, Any] = error["ctx"]
    return ctx


def test_yaml_that_would_hang_or_crash_the_loader_is_refused(client: TestClient) -> None:
    bomb = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    assert "expands to more than" in invalid_policy(client, "\n".join(bomb))["message"]
    assert "recursive alias" in invalid_policy(client, "a: &a [*a]\n")["message"]
    deep = "name: " + "[" * 5000 + "]" * 5000
    assert "nested too deeply" in invalid_policy(client, deep)["message"]


def test_invalid_value_names_its_line(client: TestClient) -> None:
    text = policy_text_with_mediation_window(0)
    line = 1 + next(
        i for i, row in enumerate(text.splitlines()) if row.strip().startswith("mediation: 0")
    )
    ctx = invalid_policy(client, text)
    assert ctx["file"] == "candidate.yaml" and ctx["line"] == line
    assert "windows.mediation" in ctx["message"]


def test_diff_request_validation(client: TestClient, window_20: str) -> None:
    for body, params in [
        ({}, {}),
        ({"policy_yaml": ""}, {}),
        ({"policy_yaml": window_20, "last": 0}, {}),
        ({"policy_yaml": window_20, "last": 5000}, {}),
        ({"policy_yaml": window_20, "start": "2024-06-02T00:00:00Z", "end": "2024-06-01"}, {}),
        ({"policy_yaml": window_20}, {"aspect": "colour"}),
    ]:
        answer = client.post("/admin/policy/diff", json=body, params=params)
        assert answer.status_code == 422, (body, params, answer.text)
