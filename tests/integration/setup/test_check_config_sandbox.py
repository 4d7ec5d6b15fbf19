"""check-config against the sandbox Zendesk over real HTTP: every name the policy
uses is found (exit 0); a group the account lacks is named (exit 1)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from app.cli.main import cli
from app.routing import default_policy_path, load_policy
from app.zendesk.setup.checks import check_config, render_rows

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


def test_check_config_finds_every_policy_name(run):
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


def test_cli_check_config_exits_0_when_every_name_is_found(cli_env):
    result = CliRunner().invoke(cli, ["check-config"], env=cli_env_for(cli_env))
    assert result.exit_code == 0, result.output
    for kind, name in policy_names():
        assert re.search(rf"^{kind}\s+{re.escape(name)}\s+yes\s", result.stdout, re.M), name
    assert f"{len(policy_names())} found, 0 missing" in result.stdout
    assert "MISSING" not in result.stdout


def test_cli_check_config_names_a_missing_group_and_exits_1(cli_env, tmp_path: Path):
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
