"""check-config against the sandbox Zendesk over real HTTP: every name the policy
uses is found (exit 0); a group the account lacks is named (exit 1)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli.main import cli
from app.routing import default_policy_path, load_policy
from app.zendesk.permissions import Access, permissions_of
from app.zendesk.setup.checks import check_config, render_rows
from tests.integration.setup.install_helpers import Run

POLICY = load_policy(default_policy_path())
RENAMED_QUEUE = "Hourly Job Abuse Queue: {group: Hourly Job Abuse Queue}"
MISSING_GROUP = "Hourly Job Abuse Queue (retired)"


def policy_names() -> set[tuple[str, str]]:
    names = POLICY.zendesk_names()
    expected = {
        (kind, name) for kind in ("groups", "macros", "forms", "brands") for name in names[kind]
    }
    for title, options in names["fields"]:
        expected.add(("fields", title))
        expected.update(("field_options", f"{title} > {option}") for option in options)
    return expected


def test_check_config_finds_every_policy_name(run: Run) -> None:
    rows = run(lambda client, auth: check_config(client, POLICY))
    assert {(r.kind, r.name) for r in rows} == policy_names()
    assert [r for r in rows if not r.found] == []
    assert all(r.id is not None for r in rows if r.kind != "field_options")
    assert render_rows(rows).endswith(f"{len(rows)} found, 0 missing")


def cli_env_for(cli_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **cli_env,
        "WEBHOOK_SECRETS": "unused",
        "MARKETPLACE_URL": "http://127.0.0.1:9",
        **extra,
    }


def test_cli_check_config_exits_0_when_every_name_is_found(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["check-config"], env=cli_env_for(cli_env))
    assert result.exit_code == 0, result.output
    for kind, name in policy_names():
        assert re.search(rf"^{kind}\s+{re.escape(name)}\s+yes\s", result.stdout, re.M), name
    assert f"{len(policy_names())} found, 0 missing" in result.stdout
    assert "MISSING" not in result.stdout


def test_cli_check_config_names_a_missing_group_and_exits_1(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    text = default_policy_path().read_text()
    assert RENAMED_QUEUE in text
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(
        text.replace(RENAMED_QUEUE, f"Hourly Job Abuse Queue: {{group: {MISSING_GROUP}}}")
    )
    env = cli_env_for(cli_env, POLICY_FILE=str(policy_file))
    result = CliRunner().invoke(cli, ["check-config"], env=env)
    assert result.exit_code == 1, result.output
    missing = [line for line in result.stdout.splitlines() if "MISSING" in line]
    assert len(missing) == 1
    assert re.match(rf"groups\s+{re.escape(MISSING_GROUP)}\s+MISSING", missing[0])
    assert f"{len(policy_names()) - 1} found, 1 missing" in result.stdout


def test_cli_check_config_fails_when_an_agent_field_is_missing(
    cli_env: dict[str, str], zd: Any
) -> None:
    """The policy's agent fields are checked like every other name: one deleted from the
    account (install-zendesk not run since) is named, with its options, and exits 1."""
    fields = zd.get("/api/v2/ticket_fields").json()["ticket_fields"]
    gone = next(f for f in fields if f["title"] == "In-product Dispute Filed On")
    zd.delete(f"/api/v2/ticket_fields/{gone['id']}").raise_for_status()
    result = CliRunner().invoke(cli, ["check-config"], env=cli_env_for(cli_env))
    assert result.exit_code == 1, result.output
    missing = [line for line in result.stdout.splitlines() if "MISSING" in line]
    assert len(missing) == 1
    assert re.match(r"fields\s+In-product Dispute Filed On\s+MISSING", missing[0])


def test_cli_check_config_reports_an_agents_role_and_what_it_cannot_do(
    cli_env: dict[str, str], sandbox: Any
) -> None:
    sandbox.state.service_user_role = "agent"
    result = CliRunner().invoke(cli, ["check-config"], env=cli_env_for(cli_env))
    assert result.exit_code == 0, result.output  # an agent is the documented set-up
    assert re.search(r"^service user: user \d+ \(agent\)$", result.stdout, re.M)
    lines = {line.split("  ")[-1].strip(): line for line in result.stdout.splitlines()}
    assert "no" in lines["incremental ticket export (replay, reconciliation) (needs admin)"]
    assert "no" in lines["create and update webhooks (install-zendesk) (needs admin)"]
    assert "no" in lines["create and update triggers (install-zendesk) (needs admin)"]
    assert "yes" in lines["read and update tickets, apply macros, bulk jobs (needs agent)"]
    assert "use the Search API instead of the incremental export" in result.stdout


def test_cli_check_config_reports_an_admin_can_do_everything(
    cli_env: dict[str, str], sandbox: Any
) -> None:
    result = CliRunner().invoke(cli, ["check-config"], env=cli_env_for(cli_env))
    assert re.search(r"^service user: user \d+ \(admin\)$", result.stdout, re.M)
    assert " no " not in result.stdout and "Search API instead" not in result.stdout


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"id": 1, "role": "admin", "role_type": 4}, {"incremental_export": Access.YES}),
        ({"id": 2, "role": "agent", "role_type": None}, {"incremental_export": Access.NO}),
        (
            {"id": 3, "role": "agent", "role_type": 0, "custom_role_id": 360002},
            {"incremental_export": Access.NO, "triggers": Access.MAYBE, "webhooks": Access.MAYBE},
        ),
        ({"id": "4", "role": "end-user"}, {"tickets": Access.NO}),
    ],
)
def test_permissions_follow_the_role(user: dict[str, Any], expected: dict[str, Access]) -> None:
    permissions = permissions_of(user)
    access = {c.key: a for c, a in permissions.rows()}
    assert {key: access[key] for key in expected} == expected
