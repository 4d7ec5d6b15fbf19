"""`python -m app simulate` and `POST /admin/simulate`: decisions from facts, no Zendesk."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.api.app import create_app
from app.cli.demo import demo_settings
from app.cli.main import cli

ELIGIBLE = {
    "ticket": {"id": 11, "channel": "chat"},
    "requester_role": "client",
    "inquiry": "dispute",
    "contract": {
        "id": "C-1",
        "type": "hourly",
        "status": "closed",
        "payments": [{"date": "2024-05-13", "kind": "hourly", "amount": "250.00"}],
    },
    "client": {"username": "acme", "segment": "VSB"},
    "freelancer": {"username": "jo", "badge": "none"},
    "dispute": {"reasons": ["Manual Time"]},  # required for an escalation
}
PAST_WINDOW = ELIGIBLE | {"ticket": {"id": 12, "channel": "email"}}


def run(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "simulate", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_simulate_json_lines_in_input_order_with_fixed_now() -> None:
    lines = "\n".join(json.dumps(f) for f in (ELIGIBLE, PAST_WINDOW)) + "\n"
    done = run(["-", "--now", "2024-06-12"], lines)
    assert done.returncode == 0, done.stderr
    decisions = [json.loads(line) for line in done.stdout.splitlines()]
    assert [d["ticket_id"] for d in decisions] == [11, 12]
    assert decisions[0]["queue"] == "Mediation_Tier_1_CX420"  # payment 30 days before now
    late = run(["-", "--now", "2024-06-13"], json.dumps(ELIGIBLE))
    assert json.loads(late.stdout)["queue"] == "Client Retention Tier 2"  # 31 days


def test_simulate_file_argument_and_single_object(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(ELIGIBLE))
    result = CliRunner().invoke(cli, ["simulate", str(path), "--now", "2024-06-12"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["policy"]["version"].startswith("sha256:")


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (["-", "--now", "12/06/2024"], "{}", "--now must be YYYY-MM-DD"),
        (["-"], "", "no input"),
        (["-"], '{"ticket": {"id": 1}}\n[', "line 2 is not JSON"),
        (["missing.json"], "", "cannot read missing.json"),
    ],
    ids=["bad-date", "empty", "broken-json-lines", "missing-file"],
)
def test_simulate_bad_input_exits_2_with_message(
    args: list[str], stdin: str, fragment: str
) -> None:
    result = CliRunner().invoke(cli, ["simulate", *args], input=stdin)
    assert result.exit_code == 2
    assert fragment in result.output


def test_simulate_invalid_facts_reported_per_line() -> None:
    result = CliRunner().invoke(cli, ["simulate", "-"], input=json.dumps({"ticket": {}}))
    assert result.exit_code == 1
    assert json.loads(result.output.splitlines()[0])["input"] == 1


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from app.core.serving import ThreadedServer
    from app.sandbox import create_sandbox_app

    with ThreadedServer(create_sandbox_app()) as sandbox:
        settings = demo_settings(sandbox.url, f"sqlite:///{tmp_path / 't.db'}", admin="adm")
        with TestClient(create_app(settings, run_worker=False)) as test_client:
            yield test_client


def test_admin_simulate_returns_decision(client: TestClient) -> None:
    answer = client.post(
        "/admin/simulate",
        json={"facts": ELIGIBLE, "now": "2024-06-12"},
        headers={"authorization": "Bearer adm"},
    )
    assert answer.status_code == 200
    assert (
        answer.json()["eligibility"]["code"] and answer.json()["queue"] == "Mediation_Tier_1_CX420"
    )


def test_admin_simulate_malformed_facts_field_errors(client: TestClient) -> None:
    answer = client.post(
        "/admin/simulate",
        json={"facts": {"ticket": {"id": "x"}}},
        headers={"authorization": "Bearer adm"},
    )
    assert answer.status_code == 422
    assert any(err["loc"][:3] == ["body", "facts", "ticket"] for err in answer.json()["detail"])


def _warnings(trace: list[dict[str, str]]) -> list[str]:
    return [s["why"] for s in trace if (s["step"], s["outcome"]) == ("facts", "unknown_keys")]


def test_admin_simulate_warns_of_today_for_now_and_a_misspelt_key(client: TestClient) -> None:
    typo = {k: v for k, v in ELIGIBLE.items() if k != "contract"} | {
        "contracts": ELIGIBLE["contract"]
    }
    answer = client.post(
        "/admin/simulate",
        json={"facts": typo, "today": "2024-06-12"},
        headers={"authorization": "Bearer adm"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = (
        'ignored unknown keys: "facts.contracts" (did you mean "facts.contract"?), '
        '"today" (known here: facts, now)'
    )
    assert body["warnings"] == [expected]
    assert _warnings(body["trace"]) == [expected]


def test_admin_simulate_without_unknown_keys_has_no_warning(client: TestClient) -> None:
    answer = client.post(
        "/admin/simulate",
        json={"facts": ELIGIBLE, "now": "2024-06-12"},
        headers={"authorization": "Bearer adm"},
    )
    assert answer.json()["warnings"] == [] and _warnings(answer.json()["trace"]) == []


def test_cli_simulate_warns_of_unknown_keys_on_stderr_and_in_the_trace() -> None:
    typo = ELIGIBLE | {"ticket": {"id": 11, "chanel": "chat"}}
    result = CliRunner().invoke(
        cli, ["simulate", "-", "--now", "2024-06-12"], input=json.dumps(typo)
    )
    assert result.exit_code == 0, result.output
    warning = 'ignored unknown keys: "ticket.chanel" (did you mean "ticket.channel"?)'
    assert f"warning: input 1: {warning}" in result.stderr
    decision = json.loads(result.stdout.strip().splitlines()[-1])
    assert _warnings(decision["trace"]) == [warning]
