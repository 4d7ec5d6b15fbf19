"""install-zendesk against the sandbox Zendesk over real HTTP: the installer
functions with `ZendeskClient` + `ApiTokenAuth`, and the CLI command."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest
from typer.testing import CliRunner, Result

from app.cli.main import cli
from app.routing import default_policy_path, load_policy
from app.zendesk.setup import TRIGGER_BODY, InstallNames, InstallResult, get_me, install
from app.zendesk.setup.install import Change
from tests.integration.setup.install_helpers import (
    INQUIRY_FIELD_ID,
    SERVICE_USER_ID,
    Run,
    Sandbox,
    clear_requests,
    writes,
)

URL = "https://triage.example.com"
POLICY = load_policy(default_policy_path())
FIELDS = len(POLICY.agent_fields)  # the sandbox account has them all (seeded)


def hooks(changes: list[Change]) -> list[Change]:
    """The webhook and trigger changes (agent fields are planned first)."""
    return [c for c in changes if c.kind != "field"]


def do_install(
    run: Run, *, url: str = URL, dry_run: bool = False, names: InstallNames | None = None
) -> InstallResult:
    return run(
        lambda client, auth: install(
            client,
            POLICY,
            service_url=url,
            service_user_id=SERVICE_USER_ID,
            names=names,
            dry_run=dry_run,
        )
    )


def test_get_me_is_the_service_user(run: Run) -> None:
    user = run(lambda client, auth: get_me(client, auth))
    assert (user["id"], user["email"]) == (SERVICE_USER_ID, "triage@example.com")


def test_first_run_creates_the_webhook_and_trigger_and_reveals_the_secret(
    run: Run, zd: httpx.Client
) -> None:
    result = do_install(run)
    assert [(c.kind, c.action) for c in result.applied] == [
        ("webhook", "create"),
        ("trigger", "create"),
    ]

    [webhook] = zd.get("/api/v2/webhooks").json()["webhooks"]
    assert webhook["id"] == result.webhook_id
    assert (
        webhook["name"],
        webhook["endpoint"],
        webhook["http_method"],
        webhook["request_format"],
        webhook["status"],
        webhook["subscriptions"],
    ) == (
        "Dispute triage",
        f"{URL}/webhooks/zendesk",
        "POST",
        "json",
        "active",
        ["conditional_ticket_events"],
    )
    secret = zd.get(f"/api/v2/webhooks/{webhook['id']}/signing_secret").json()
    assert result.signing_secret == secret["signing_secret"]["secret"]

    [trigger] = zd.get("/api/v2/triggers").json()["triggers"]
    assert (str(trigger["id"]), trigger["title"], trigger["active"]) == (
        result.trigger_id,
        "Dispute triage: notify the service",
        True,
    )
    conditions = trigger["conditions"]["all"]
    assert {
        "field": "current_user",
        "operator": "is_not",
        "value": str(SERVICE_USER_ID),
    } in conditions
    assert {
        "field": f"custom_fields_{INQUIRY_FIELD_ID}",
        "operator": "present",
        "value": None,
    } in conditions
    [action] = trigger["actions"]
    assert action["field"] == "notification_webhook"
    assert action["value"][0] == webhook["id"]
    assert json.loads(action["value"][1]) == TRIGGER_BODY

    assert writes(zd) == [("POST", "/api/v2/webhooks"), ("POST", "/api/v2/triggers")]


def test_second_run_changes_nothing(run: Run, zd: httpx.Client) -> None:
    first = do_install(run)
    clear_requests(zd)
    second = do_install(run)
    assert second.applied == []
    assert [(c.action, c.id) for c in hooks(second.changes)] == [
        ("unchanged", first.webhook_id),
        ("unchanged", first.trigger_id),
    ]
    assert second.signing_secret is None
    assert writes(zd) == []


def test_dry_run_writes_nothing(run: Run, zd: httpx.Client) -> None:
    result = do_install(run, dry_run=True)
    assert [(c.kind, c.action) for c in hooks(result.changes)] == [
        ("webhook", "create"),
        ("trigger", "create"),
    ]
    assert result.applied == [] and result.signing_secret is None
    assert writes(zd) == []
    assert zd.get("/api/v2/webhooks").json()["webhooks"] == []
    assert zd.get("/api/v2/triggers").json()["triggers"] == []


def test_dry_run_of_a_change_writes_nothing(run: Run, zd: httpx.Client) -> None:
    do_install(run)
    clear_requests(zd)
    result = do_install(run, url="https://moved.example.com", dry_run=True)
    assert [c.action for c in hooks(result.changes)] == ["update", "unchanged"]
    assert writes(zd) == []


def test_a_changed_service_url_updates_the_webhook(run: Run, zd: httpx.Client) -> None:
    first = do_install(run)
    clear_requests(zd)
    moved = do_install(run, url="https://moved.example.com/")
    assert [(c.kind, c.action) for c in moved.applied] == [("webhook", "update")]
    assert moved.signing_secret is None  # the secret did not change: nothing to reveal
    assert writes(zd) == [("PUT", f"/api/v2/webhooks/{first.webhook_id}")]
    webhook = zd.get(f"/api/v2/webhooks/{first.webhook_id}").json()["webhook"]
    assert webhook["endpoint"] == "https://moved.example.com/webhooks/zendesk"
    assert webhook["subscriptions"] == ["conditional_ticket_events"]
    assert len(zd.get("/api/v2/triggers").json()["triggers"]) == 1
    clear_requests(zd)
    assert do_install(run, url="https://moved.example.com").applied == []
    assert writes(zd) == []


def test_a_deleted_webhook_is_recreated_and_the_trigger_repointed(
    run: Run, zd: httpx.Client
) -> None:
    first = do_install(run)
    assert zd.delete(f"/api/v2/webhooks/{first.webhook_id}").status_code == 204
    again = do_install(run)
    assert [(c.kind, c.action) for c in again.applied] == [
        ("webhook", "create"),
        ("trigger", "update"),
    ]
    assert again.signing_secret
    [trigger] = zd.get("/api/v2/triggers").json()["triggers"]
    assert trigger["actions"][0]["value"][0] == again.webhook_id != first.webhook_id


def test_two_names_are_two_installs(run: Run, zd: httpx.Client) -> None:
    do_install(run)
    staging = do_install(
        run,
        url="https://staging.example.com",
        names=InstallNames.for_webhook("Dispute triage (staging)"),
    )
    assert [c.action for c in staging.applied] == ["create", "create"]
    endpoints = {w["name"]: w["endpoint"] for w in zd.get("/api/v2/webhooks").json()["webhooks"]}
    assert endpoints == {
        "Dispute triage": f"{URL}/webhooks/zendesk",
        "Dispute triage (staging)": "https://staging.example.com/webhooks/zendesk",
    }


# -- the command -------------------------------------------------------------------------


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["install-zendesk", "--service-url", URL, *args], env=env)


def test_cli_installs_once_and_shows_the_secret_once(
    cli_env: dict[str, str], zd: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = invoke(cli_env)
    assert first.exit_code == 0, first.output
    [webhook] = zd.get("/api/v2/webhooks").json()["webhooks"]
    secret = zd.get(f"/api/v2/webhooks/{webhook['id']}/signing_secret").json()["signing_secret"][
        "secret"
    ]
    assert first.stdout.count(secret) == 1
    assert "WEBHOOK_SECRETS" in first.stdout
    assert re.search(r"create\s+webhook\s+Dispute triage", first.stdout)
    assert f"created 2, updated 0, unchanged {FIELDS}" in first.stdout
    assert f"user {SERVICE_USER_ID} (Triage Service, triage@example.com)" in first.stdout
    assert all(secret not in r.getMessage() for r in caplog.records)

    clear_requests(zd)
    second = invoke(cli_env)
    assert second.exit_code == 0, second.output
    assert "nothing to change" in second.stdout
    assert secret not in second.stdout
    assert writes(zd) == []


def test_cli_dry_run_writes_nothing(cli_env: dict[str, str], zd: httpx.Client) -> None:
    result = invoke(cli_env, "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        f"dry run: 2 to create, 0 to update, {FIELDS} unchanged; nothing was written"
        in result.stdout
    )
    assert f"+ endpoint        {URL}/webhooks/zendesk" in result.stdout
    assert writes(zd) == []


def test_cli_dry_run_lists_the_agent_fields_and_install_creates_a_missing_one(
    cli_env: dict[str, str], zd: httpx.Client
) -> None:
    """Every agent field of the policy is in the plan; one missing from the account is
    planned for creation with its options, and created by the real run."""
    fields = zd.get("/api/v2/ticket_fields").json()["ticket_fields"]
    gone = next(f for f in fields if f["title"] == "Dispute Closed")
    zd.delete(f"/api/v2/ticket_fields/{gone['id']}").raise_for_status()
    clear_requests(zd)
    dry = invoke(cli_env, "--dry-run")
    assert dry.exit_code == 0, dry.output
    for spec in POLICY.agent_fields.values():
        action = "create" if spec.title == "Dispute Closed" else "unchanged"
        assert re.search(rf"{action}\s+field\s+{re.escape(spec.title)}", dry.stdout), spec.title
    assert "+ field" in dry.stdout and "option Yes" in dry.stdout
    assert f"dry run: 3 to create, 0 to update, {FIELDS - 1} unchanged" in dry.stdout
    assert writes(zd) == []
    done = invoke(cli_env)
    assert done.exit_code == 0, done.output
    titles = {f["title"]: f for f in zd.get("/api/v2/ticket_fields").json()["ticket_fields"]}
    created = titles["Dispute Closed"]
    assert created["type"] == "tagger"
    assert [o["name"] for o in created["custom_field_options"]] == ["Yes", "No"]


def test_cli_does_not_need_webhook_secrets_yet_but_keeps_other_checks(
    cli_env: dict[str, str],
) -> None:
    assert "WEBHOOK_SECRETS" not in cli_env
    missing_credentials = {k: v for k, v in cli_env.items() if k != "ZENDESK_API_TOKEN"}
    result = invoke(missing_credentials, "--dry-run")
    assert result.exit_code == 2
    assert "ZENDESK_API_TOKEN" in result.output


def test_cli_refuses_a_bad_service_url(cli_env: dict[str, str], zd: httpx.Client) -> None:
    result = CliRunner().invoke(
        cli, ["install-zendesk", "--service-url", "triage.example.com"], env=cli_env
    )
    assert result.exit_code == 2
    assert "service URL" in result.output
    assert zd.get("/_sandbox/requests").json() == []


def test_cli_reports_a_conflict_and_writes_nothing(
    cli_env: dict[str, str], zd: httpx.Client
) -> None:
    created = zd.post(
        "/api/v2/webhooks",
        json={
            "webhook": {
                "name": "Dispute triage",
                "endpoint": "https://elsewhere.example.com/hook",
                "subscriptions": ["zen:event-type:ticket.created"],
            }
        },
    )
    assert created.status_code == 201
    clear_requests(zd)
    result = invoke(cli_env)
    assert result.exit_code == 1
    assert "cannot connect it to a trigger" in result.output
    assert "nothing was written" in result.stdout
    assert writes(zd) == []


def test_cli_with_oauth_uses_one_token(
    cli_env: dict[str, str], sandbox: Sandbox, zd: httpx.Client
) -> None:
    env = {
        "ZENDESK_BASE_URL": cli_env["ZENDESK_BASE_URL"],
        "ZENDESK_OAUTH_CLIENT_ID": "triage",
        "ZENDESK_OAUTH_CLIENT_SECRET": "oauth-s3cret",
    }
    result = invoke(env, "--webhook-name", "Dispute triage (oauth)")
    assert result.exit_code == 0, result.output
    assert len(sandbox.state.issued_tokens) == 1
    assert [w["name"] for w in zd.get("/api/v2/webhooks").json()["webhooks"]] == [
        "Dispute triage (oauth)"
    ]


def test_cli_service_user_id_overrides_users_me(cli_env: dict[str, str], zd: httpx.Client) -> None:
    result = invoke(cli_env, "--service-user-id", "42")
    assert result.exit_code == 0, result.output
    [trigger] = zd.get("/api/v2/triggers").json()["triggers"]
    assert {"field": "current_user", "operator": "is_not", "value": "42"} in (
        trigger["conditions"]["all"]
    )
    log = zd.get("/_sandbox/requests").json()
    assert not any(r["path"].endswith("/users/me") for r in log)


@pytest.mark.parametrize("bad", ["--webhook-name=  "])
def test_cli_refuses_a_blank_webhook_name(cli_env: dict[str, str], bad: str) -> None:
    result = invoke(cli_env, bad)
    assert result.exit_code == 2


def test_cli_as_an_agent_is_refused_by_zendesk_and_says_why(
    cli_env: dict[str, str], zd: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.state.service_user_role = "agent"  # Zendesk's webhooks API needs an admin
    result = invoke(cli_env)
    assert result.exit_code != 0
    assert "need an admin" in result.output
    sandbox.state.service_user_role = "admin"
    assert zd.get("/api/v2/webhooks").json()["webhooks"] == []
