"""The pure planner (`plan_install`), its rendering, and the applier against a fake."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.routing import Policy, default_policy_path, load_policy
from app.zendesk import Forbidden, Unprocessable
from app.zendesk.setup import (
    NEW_WEBHOOK,
    TRIGGER_BODY,
    Change,
    InstallError,
    InstallNames,
    InstallResult,
    apply_plan,
    plan_install,
    render_plan,
    render_secret,
    webhook_endpoint,
)
from app.zendesk.setup.install import plan_fields

URL = "https://triage.example.com"
ENDPOINT = f"{URL}/webhooks/zendesk"
USER = 361000001
FIELD = 900000008
NAMES = InstallNames()
README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(default_policy_path())


def plan(
    policy: Policy,
    webhooks: list[dict[str, Any]] | None = None,
    triggers: list[dict[str, Any]] | None = None,
    *,
    url: str = URL,
    user: int | None = USER,
    names: InstallNames = NAMES,
) -> list[Change]:
    return plan_install(
        webhooks or [], triggers or [], url, user, policy, names, inquiry_field_id=FIELD
    )


def installed(
    policy: Policy, webhook_id: str = "01WEBHOOK0000000000000001", trigger_id: int = 7
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What Zendesk holds after an install: the planned payloads with ids, as Zendesk
    returns them (extra keys, ids as given)."""
    webhook_plan, trigger_plan = plan(policy)
    webhook = {
        **copy.deepcopy(dict(webhook_plan.payload)),
        "id": webhook_id,
        "created_at": "2026-01-01T00:00:00Z",
        "signing_secret": None,
    }
    trigger = {
        **copy.deepcopy(dict(trigger_plan.payload)),
        "id": trigger_id,
        "url": f"https://x.zendesk.com/api/v2/triggers/{trigger_id}.json",
        "position": 3,
        "category_id": "99",
        "raw_title": NAMES.trigger,
    }
    trigger["actions"][0]["value"][0] = webhook_id
    return webhook, trigger


def by_kind(changes: list[Change]) -> dict[str, Change]:
    return {c.kind: c for c in changes}


# -- planning ------------------------------------------------------------------------


def test_an_empty_account_gets_a_webhook_and_a_trigger(policy: Policy) -> None:
    webhook, trigger = plan(policy)
    assert (webhook.kind, webhook.action, webhook.name, webhook.id) == (
        "webhook",
        "create",
        "Dispute triage",
        None,
    )
    assert {
        k: webhook.payload[k]
        for k in ("endpoint", "http_method", "request_format", "status", "subscriptions")
    } == {
        "endpoint": ENDPOINT,
        "http_method": "POST",
        "request_format": "json",
        "status": "active",
        "subscriptions": ["conditional_ticket_events"],
    }
    assert (trigger.kind, trigger.action, trigger.name) == (
        "trigger",
        "create",
        "Dispute triage: notify the service",
    )
    payload = trigger.payload
    assert payload["active"] is True
    assert {"field": "current_user", "operator": "is_not", "value": str(USER)} in (
        payload["conditions"]["all"]
    )
    assert {"field": f"custom_fields_{FIELD}", "operator": "present", "value": None} in (
        payload["conditions"]["all"]
    )
    assert {"field": "status", "operator": "less_than", "value": "solved"} in (
        payload["conditions"]["all"]
    )
    assert {c["value"] for c in payload["conditions"]["any"]} == {"Create", "Change"}
    [action] = payload["actions"]
    assert action["field"] == "notification_webhook"
    webhook_ref, body = action["value"]
    assert webhook_ref == NEW_WEBHOOK
    assert json.loads(body) == TRIGGER_BODY


def test_the_trigger_body_is_the_readme_template() -> None:
    blocks = re.findall(r"```json\n(.*?)```", README.read_text(), re.S)
    assert any(json.loads(block) == TRIGGER_BODY for block in blocks)


def test_what_is_installed_plans_nothing(policy: Policy) -> None:
    webhook, trigger = installed(policy)
    changes = plan(policy, [webhook], [trigger])
    assert [(c.action, c.id) for c in changes] == [("unchanged", webhook["id"]), ("unchanged", "7")]
    assert not any(c.writes or c.fields for c in changes)


def test_zendesk_shape_differences_are_not_changes(policy: Policy) -> None:
    """Conditions in another order, ids and nulls as strings, the body re-indented."""
    webhook, trigger = installed(policy)
    conditions = trigger["conditions"]
    conditions["all"] = [
        {**c, "value": int(c["value"]) if c["field"] == "current_user" else c["value"]}
        for c in reversed(conditions["all"])
    ]
    conditions["any"].reverse()
    trigger["actions"][0]["value"][1] = json.dumps(TRIGGER_BODY)
    assert [c.action for c in plan(policy, [webhook], [trigger])] == ["unchanged", "unchanged"]


def test_a_new_service_url_updates_only_the_webhook(policy: Policy) -> None:
    webhook, trigger = installed(policy)
    webhook["description"] = "an admin's note"
    changes = by_kind(plan(policy, [webhook], [trigger], url="https://new.example.com/"))
    update = changes["webhook"]
    assert (update.action, update.id) == ("update", webhook["id"])
    assert [(f.field, f.old, f.new) for f in update.fields] == [
        ("endpoint", (ENDPOINT,), ("https://new.example.com/webhooks/zendesk",))
    ]
    assert update.payload["endpoint"] == "https://new.example.com/webhooks/zendesk"
    assert update.payload["name"] == "Dispute triage"
    assert update.payload["description"] == "an admin's note"  # PUT replaces: keep it
    assert changes["trigger"].action == "unchanged"


def test_an_inactive_webhook_and_trigger_are_reactivated(policy: Policy) -> None:
    webhook, trigger = installed(policy)
    webhook["status"], trigger["active"] = "inactive", False
    changes = by_kind(plan(policy, [webhook], [trigger]))
    assert [(f.field, f.old, f.new) for f in changes["webhook"].fields] == [
        ("status", ("inactive",), ("active",))
    ]
    assert [(f.field, f.old, f.new) for f in changes["trigger"].fields] == [
        ("active", ("false",), ("true",))
    ]
    assert changes["trigger"].payload["active"] is True


def test_an_edited_trigger_is_put_back(policy: Policy) -> None:
    webhook, trigger = installed(policy)
    trigger["conditions"]["all"] = [
        c for c in trigger["conditions"]["all"] if c["field"] != "current_user"
    ]
    trigger["actions"][0]["value"][0] = "01SOMEOTHERWEBHOOK00000001"
    change = by_kind(plan(policy, [webhook], [trigger]))["trigger"]
    assert change.action == "update" and change.id == "7"
    assert [f.field for f in change.fields] == ["conditions.all", "actions"]
    assert change.payload["actions"][0]["value"][0] == webhook["id"]
    assert set(change.payload) == {"active", "conditions", "actions"}


def test_a_new_webhook_is_referenced_by_an_existing_trigger(policy: Policy) -> None:
    _, trigger = installed(policy)
    changes = by_kind(plan(policy, [], [trigger]))
    assert changes["webhook"].action == "create"
    assert changes["trigger"].action == "update"
    assert changes["trigger"].payload["actions"][0]["value"][0] == NEW_WEBHOOK


def test_without_the_service_user_the_routed_tag_guards_against_loops(policy: Policy) -> None:
    _, trigger = plan(policy, user=None)
    guards = [
        c
        for c in trigger.payload["conditions"]["all"]
        if c["field"] in ("current_user", "current_tags")
    ]
    assert guards == [
        {"field": "current_tags", "operator": "not_includes", "value": "triage_routed"}
    ]


def test_objects_are_found_by_their_names(policy: Policy) -> None:
    webhook, trigger = installed(policy)
    names = InstallNames.for_webhook("Dispute triage (staging)")
    assert names.trigger == "Dispute triage (staging): notify the service"
    changes = plan(policy, [webhook], [trigger], names=names)
    assert [(c.action, c.name) for c in changes] == [
        ("create", "Dispute triage (staging)"),
        ("create", "Dispute triage (staging): notify the service"),
    ]
    with pytest.raises(ValueError):
        InstallNames.for_webhook("  ")


def test_an_event_subscription_webhook_of_that_name_is_a_conflict(policy: Policy) -> None:
    webhook, _ = installed(policy)
    webhook["subscriptions"] = ["zen:event-type:ticket.created"]
    change = by_kind(plan(policy, [webhook]))["webhook"]
    assert change.action == "conflict"
    assert "cannot connect it to a trigger" in change.reason


def test_duplicate_names_are_conflicts(policy: Policy) -> None:
    webhook, trigger = installed(policy)
    other_webhook = {**webhook, "id": "01WEBHOOK0000000000000002"}
    other_trigger = {**trigger, "id": 8}
    changes = by_kind(plan(policy, [webhook, other_webhook], [trigger, other_trigger]))
    assert changes["webhook"].action == changes["trigger"].action == "conflict"
    assert "2 webhooks are named 'Dispute triage'" in changes["webhook"].reason
    assert "2 triggers are titled" in changes["trigger"].reason


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://triage.example.com", ENDPOINT),
        ("https://triage.example.com/", ENDPOINT),
        (" https://triage.example.com/webhooks/zendesk ", ENDPOINT),
        ("https://example.com/triage", "https://example.com/triage/webhooks/zendesk"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/webhooks/zendesk"),
    ],
)
def test_webhook_endpoint(url: str, endpoint: str) -> None:
    assert webhook_endpoint(url) == endpoint


@pytest.mark.parametrize(
    "url",
    [
        "triage.example.com",
        "ftp://triage.example.com",
        "https://",
        "https://x.test/?a=1",
        "",
    ],
)
def test_bad_service_urls_are_refused(policy: Policy, url: str) -> None:
    with pytest.raises(ValueError, match="service URL"):
        plan(policy, url=url)


# -- rendering -------------------------------------------------------------------------


def test_the_plan_renders_as_a_diff_like_table(policy: Policy) -> None:
    webhook, trigger = installed(policy)
    changes = plan(policy, [webhook], [trigger], url="https://new.example.com")
    text = render_plan(InstallResult(changes, dry_run=True))
    assert re.search(r"update\s+webhook\s+Dispute triage\s+01WEBHOOK", text)
    assert re.search(r"unchanged\s+trigger\s+Dispute triage: notify the service\s+7", text)
    assert f"- endpoint  {ENDPOINT}" in text
    assert "+ endpoint  https://new.example.com/webhooks/zendesk" in text
    assert "dry run: 0 to create, 1 to update, 1 unchanged; nothing was written" in text


def test_a_created_object_shows_only_additions(policy: Policy) -> None:
    text = render_plan(InstallResult(plan(policy), dry_run=True))
    assert re.search(r"\+ conditions\.all\s+current_user is_not 361000001", text)
    assert "\n    - " not in text
    assert "2 to create" in text


# -- applying, against a fake ----------------------------------------------------------


class FakeZendesk:
    def __init__(self, fail_trigger: bool = False) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_trigger = fail_trigger

    async def list_webhooks(self) -> list[dict[str, Any]]:
        return []

    async def create_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create_webhook", webhook))
        return {**webhook, "id": "01NEWWEBHOOK00000000000001"}

    async def update_webhook(self, webhook_id: str, webhook: dict[str, Any]) -> None:
        self.calls.append(("update_webhook", (webhook_id, webhook)))

    async def get_webhook_signing_secret(self, webhook_id: str) -> str:
        self.calls.append(("signing_secret", webhook_id))
        return "s3cret-signing-value"

    async def list_triggers(self) -> list[dict[str, Any]]:
        return []

    async def create_trigger(self, trigger: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create_trigger", trigger))
        if self.fail_trigger:
            raise Unprocessable(422, {"error": "RecordInvalid"}, None, "POST", "/api/v2/triggers")
        return {**trigger, "id": 11}

    async def update_trigger(self, trigger_id: int, trigger: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("update_trigger", (trigger_id, trigger)))
        return {**trigger, "id": trigger_id}

    async def list_ticket_fields(self) -> list[dict[str, Any]]:
        return []

    async def create_ticket_field(self, ticket_field: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create_ticket_field", ticket_field))
        return {**ticket_field, "id": 900}


def test_plan_fields_creates_missing_agent_fields_and_flags_a_type_clash(policy: Policy) -> None:
    """Every policy agent field is planned: missing -> create (with its options as
    name + tag), present -> unchanged, present with another type -> conflict."""
    existing = [
        {"id": 1, "title": "Dispute Closed", "type": "tagger"},
        {"id": 2, "title": "Related RT Link", "type": "checkbox"},
    ]
    changes = {c.name: c for c in plan_fields(existing, policy)}
    assert set(changes) == {spec.title for spec in policy.agent_fields.values()}
    assert (changes["Dispute Closed"].action, changes["Dispute Closed"].id) == ("unchanged", "1")
    assert changes["Related RT Link"].action == "conflict"
    assert "needs text" in changes["Related RT Link"].reason
    created = changes["AE Suspended by Mediation"]
    assert created.action == "create" and created.payload["type"] == "tagger"
    assert created.payload["custom_field_options"] == [
        {"name": "Yes", "value": "suspended_by_mediation__yes"},
        {"name": "No", "value": "suspended_by_mediation__no"},
    ]


def test_apply_creates_the_webhook_first_and_points_the_trigger_at_it(policy: Policy) -> None:
    fake = FakeZendesk()
    result = asyncio.run(apply_plan(fake, list(reversed(plan(policy)))))
    assert [name for name, _ in fake.calls] == [
        "create_webhook",
        "signing_secret",
        "create_trigger",
    ]
    trigger = fake.calls[2][1]
    assert trigger["actions"][0]["value"][0] == "01NEWWEBHOOK00000000000001"
    assert (result.webhook_id, result.trigger_id) == ("01NEWWEBHOOK00000000000001", "11")
    assert result.signing_secret == "s3cret-signing-value"
    assert "s3cret" not in repr(result)
    assert "s3cret-signing-value" in render_secret(result)
    assert "WEBHOOK_SECRETS" in render_secret(result)


def test_a_conflict_writes_nothing(policy: Policy) -> None:
    webhook, _ = installed(policy)
    webhook["subscriptions"] = ["zen:event-type:ticket.created"]
    fake = FakeZendesk()
    with pytest.raises(InstallError, match="cannot connect it to a trigger") as caught:
        asyncio.run(apply_plan(fake, plan(policy, [webhook])))
    assert fake.calls == []
    assert caught.value.result is not None and caught.value.result.applied == []


def test_a_failure_after_the_webhook_keeps_its_secret_for_the_operator(policy: Policy) -> None:
    fake = FakeZendesk(fail_trigger=True)
    with pytest.raises(InstallError, match="create trigger") as caught:
        asyncio.run(apply_plan(fake, plan(policy)))
    result = caught.value.result
    assert result is not None
    assert result.signing_secret == "s3cret-signing-value"
    assert [c.kind for c in result.applied] == ["webhook"]


def test_forbidden_says_an_admin_is_needed(policy: Policy) -> None:
    class NotAdmin(FakeZendesk):
        async def create_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
            raise Forbidden(403, {"error": "Forbidden"}, None, "POST", "/api/v2/webhooks")

    with pytest.raises(InstallError, match="need an admin"):
        asyncio.run(apply_plan(NotAdmin(), plan(policy)))
