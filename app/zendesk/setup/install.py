"""`install-zendesk`: the webhook and the trigger that connect Zendesk to this service.

    changes = plan_install(webhooks, triggers, service_url, service_user_id, policy, names)
    result = await apply_plan(client, changes)      # or: await install(client, policy, ...)

`plan_install` is pure: what exists in the account and what should exist ->
a list of `Change`s (create, update, unchanged, conflict), each with the
fields that differ. Objects are found by name (webhook name, trigger title),
so a second run plans nothing. `apply_plan` executes a plan with the Zendesk
client: the webhook first, then the trigger that posts to it. A new webhook's
signing secret is read back once into `InstallResult.signing_secret`, which
is never logged and never in a repr.

The trigger (docs/zendesk-setup.md):
- all: status < solved; the policy's Inquiry Type field is present; the
  current user is not the service's user (without a known user id: the
  ticket's tags do not include the policy's routed marker instead);
- any: the ticket is created, or changed;
- action: notify the webhook with the README's JSON body (`TRIGGER_BODY`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from app.core.settings import Settings, load_settings
from app.routing import Policy
from app.zendesk import Forbidden, ZendeskAuth, ZendeskClient, ZendeskError, build_auth

WEBHOOK_PATH = "/webhooks/zendesk"
DEFAULT_WEBHOOK_NAME = "Dispute triage"
TRIGGER_CONNECTED = "conditional_ticket_events"
NEW_WEBHOOK = "<new webhook>"  # a planned trigger's webhook id until the webhook exists
INQUIRY_FIELD_KEY = "inquiry"  # policy.ticket_fields key of the field that marks triage tickets
MANAGED = "Managed by `python -m app install-zendesk` (docs/zendesk-setup.md): edits are reverted."
ME_PATH = "/api/v2/users/me"

# The README's trigger body ("Connecting Zendesk"); a test keeps the two equal.
TRIGGER_BODY: dict[str, str] = {
    "ticket_id": "{{ticket.id}}",
    "updated_at": "{{ticket.updated_at_with_timestamp}}",
    "status": "{{ticket.status}}",
    "group": "{{ticket.group.name}}",
    "tags": "{{ticket.tags}}",
    "current_user_id": "{{current_user.id}}",
}

WEBHOOK_FIELDS = ("endpoint", "http_method", "request_format", "status", "subscriptions")

Kind = Literal["field", "webhook", "trigger"]
APPLY_ORDER: dict[str, int] = {"field": 0, "webhook": 1, "trigger": 2}
Action = Literal["create", "update", "unchanged", "conflict"]


class InstallError(Exception):
    """The install stopped; `result` holds what was done before (e.g. a new webhook's
    signing secret, which must still be shown)."""

    def __init__(self, message: str, result: InstallResult | None = None) -> None:
        super().__init__(message)
        self.result = result


# -- the plan ---------------------------------------------------------------------


@dataclass(frozen=True)
class InstallNames:
    """How the installer finds its objects again: the webhook's name, the trigger's title."""

    webhook: str = DEFAULT_WEBHOOK_NAME
    trigger: str = f"{DEFAULT_WEBHOOK_NAME}: notify the service"

    @classmethod
    def for_webhook(cls, name: str | None) -> InstallNames:
        """The trigger's title follows the webhook's name, so two installs (staging and
        production, say) in one account do not share a trigger."""
        name = (name or DEFAULT_WEBHOOK_NAME).strip()
        if not name:
            raise ValueError("the webhook name must not be blank")
        return cls(name, f"{name}: notify the service")


@dataclass(frozen=True)
class FieldChange:
    """One field of a change, rendered as lines: `old` lines go, `new` lines come."""

    field: str
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    kind: Kind
    action: Action
    name: str
    id: str | None = None  # the existing object's id (None when created)
    payload: Mapping[str, Any] = field(default_factory=dict)  # the body to send
    fields: tuple[FieldChange, ...] = ()
    reason: str = ""  # why a conflict cannot be resolved by the installer

    @property
    def writes(self) -> bool:
        return self.action in ("create", "update")


def webhook_endpoint(service_url: str) -> str:
    """`https://triage.example.com` -> `https://triage.example.com/webhooks/zendesk`."""
    url = service_url.strip().rstrip("/")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"the service URL must be http(s)://host[/path], got {service_url!r}")
    if parsed.query or parsed.fragment:
        raise ValueError(f"the service URL must have no query or fragment: {service_url!r}")
    return url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH


def trigger_body() -> str:
    """The JSON body the trigger sends (placeholders filled in by Zendesk)."""
    return json.dumps(TRIGGER_BODY, indent=2)


def desired_webhook(service_url: str, names: InstallNames) -> dict[str, Any]:
    return {
        "name": names.webhook,
        "description": MANAGED,
        "status": "active",
        "endpoint": webhook_endpoint(service_url),
        "http_method": "POST",
        "request_format": "json",
        "subscriptions": [TRIGGER_CONNECTED],
    }


def trigger_conditions(
    policy: Policy, service_user_id: int | None, inquiry_field_id: int | None
) -> dict[str, list[dict[str, Any]]]:
    """Which ticket changes notify the service (see the module docstring)."""
    every: list[dict[str, Any]] = [{"field": "status", "operator": "less_than", "value": "solved"}]
    if inquiry_field_id is not None:
        field_key = f"custom_fields_{int(inquiry_field_id)}"
        every.append({"field": field_key, "operator": "present", "value": None})
    if service_user_id is not None:
        every.append(
            {"field": "current_user", "operator": "is_not", "value": str(int(service_user_id))}
        )
    else:  # weaker: a routed ticket then never notifies again, even when an agent adds facts
        every.append(  # Zendesk's condition field for tags is `current_tags`
            {"field": "current_tags", "operator": "not_includes", "value": policy.tag_roles.routed}
        )
    either = [
        {"field": "update_type", "operator": "is", "value": "Create"},
        {"field": "update_type", "operator": "is", "value": "Change"},
    ]
    return {"all": every, "any": either}


def desired_trigger(
    names: InstallNames,
    webhook_id: str,
    policy: Policy,
    service_user_id: int | None,
    inquiry_field_id: int | None,
) -> dict[str, Any]:
    return {
        "title": names.trigger,
        "description": MANAGED,
        "active": True,
        "conditions": trigger_conditions(policy, service_user_id, inquiry_field_id),
        "actions": [{"field": "notification_webhook", "value": [webhook_id, trigger_body()]}],
    }


def plan_install(
    existing_webhooks: Sequence[Mapping[str, Any]],
    existing_triggers: Sequence[Mapping[str, Any]],
    service_url: str,
    service_user_id: int | None,
    policy: Policy,
    names: InstallNames,
    *,
    inquiry_field_id: int | None = None,
) -> list[Change]:
    """What to create or update so that the account has the webhook and the trigger.

    Pure. Always two changes, the webhook's first. Raises ValueError for a bad
    service URL. `inquiry_field_id`: the id of the policy's Inquiry Type field,
    which limits the trigger to triage tickets (None: no field condition).
    """
    webhook = _plan_webhook(existing_webhooks, desired_webhook(service_url, names))
    webhook_id = webhook.id if webhook.id is not None else NEW_WEBHOOK
    trigger = _plan_trigger(
        existing_triggers,
        desired_trigger(names, webhook_id, policy, service_user_id, inquiry_field_id),
    )
    return [webhook, trigger]


def plan_fields(existing: Sequence[Mapping[str, Any]], policy: Policy) -> list[Change]:
    """The policy's agent fields (facts only an agent can establish): each created when no
    field has its title; one of another type is a conflict the installer does not resolve.

    Pure. An agent filling one in is a ticket change, so the trigger above notifies the
    service, which decides again on the new fact.
    """
    changes = []
    for key, spec in policy.agent_fields.items():
        found = [f for f in existing if f.get("title") == spec.title]
        if not found:
            changes.append(_new_field(key, spec.title, spec.type, list(spec.options)))
            continue
        ident = str(found[0].get("id"))
        if found[0].get("type") != spec.type:
            reason = (
                f"ticket field {spec.title!r} (#{ident}) is a {found[0].get('type')} field; "
                f"the policy's agent_fields.{key} needs {spec.type}: rename one of them"
            )
            changes.append(Change("field", "conflict", spec.title, ident, reason=reason))
        else:
            changes.append(Change("field", "unchanged", spec.title, ident))
    return changes


def _new_field(key: str, title: str, kind: str, options: list[str]) -> Change:
    payload: dict[str, Any] = {"type": kind, "title": title, "description": MANAGED}
    lines = [f"type {kind}"]
    if options:
        payload["custom_field_options"] = [
            {"name": name, "value": f"{key}__{_tag_part(name)}"} for name in options
        ]
        lines += [f"option {name}" for name in options]
    diff = (FieldChange("field", (), tuple(lines)),)
    return Change("field", "create", title, payload=payload, fields=diff)


def _tag_part(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower())


def _plan_webhook(existing: Sequence[Mapping[str, Any]], desired: dict[str, Any]) -> Change:
    name = str(desired["name"])
    matches = [w for w in existing if w.get("name") == name]
    if len(matches) > 1:
        ids = ", ".join(str(w.get("id")) for w in matches)
        return Change(
            "webhook",
            "conflict",
            name,
            reason=(
                f"{len(matches)} webhooks are named {name!r} ({ids}): delete the extra ones "
                "or choose another --webhook-name"
            ),
        )
    if not matches:
        return Change(
            "webhook",
            "create",
            name,
            payload=desired,
            fields=tuple(FieldChange(key, (), _lines(desired[key])) for key in WEBHOOK_FIELDS),
        )
    current = matches[0]
    ident = str(current.get("id"))
    if TRIGGER_CONNECTED not in (current.get("subscriptions") or []):
        return Change(
            "webhook",
            "conflict",
            name,
            ident,
            reason=(
                f"webhook {name!r} ({ident}) subscribes to Zendesk events and Zendesk cannot "
                "connect it to a trigger: delete it or choose another --webhook-name"
            ),
        )
    diffs = _diff(current, desired, WEBHOOK_FIELDS)
    if not diffs:
        return Change("webhook", "unchanged", name, ident)
    # PUT replaces the webhook: send every managed field, keep the admin's description.
    payload = {**desired, "description": current.get("description") or desired["description"]}
    return Change("webhook", "update", name, ident, payload=payload, fields=diffs)


def _plan_trigger(existing: Sequence[Mapping[str, Any]], desired: dict[str, Any]) -> Change:
    title = str(desired["title"])
    matches = [t for t in existing if t.get("title") == title]
    if len(matches) > 1:
        ids = ", ".join(str(t.get("id")) for t in matches)
        return Change(
            "trigger",
            "conflict",
            title,
            reason=(f"{len(matches)} triggers are titled {title!r} ({ids}): delete the extra ones"),
        )
    wanted = _trigger_view(desired)
    if not matches:
        return Change(
            "trigger",
            "create",
            title,
            payload=desired,
            fields=tuple(FieldChange(key, (), lines) for key, lines in wanted.items()),
        )
    current = matches[0]
    ident = str(current.get("id"))
    have = _trigger_view(current)
    diffs = tuple(
        FieldChange(key, have[key], wanted[key]) for key in wanted if have[key] != wanted[key]
    )
    if not diffs:
        return Change("trigger", "unchanged", title, ident)
    payload = {key: desired[key] for key in ("active", "conditions", "actions")}
    return Change("trigger", "update", title, ident, payload=payload, fields=diffs)


def _diff(
    current: Mapping[str, Any], desired: Mapping[str, Any], keys: Iterable[str]
) -> tuple[FieldChange, ...]:
    out = []
    for key in keys:
        old, new = _lines(current.get(key)), _lines(desired[key])
        if old != new:
            out.append(FieldChange(key, old, new))
    return tuple(out)


def _lines(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(_scalar(v) for v in value)
    return (_scalar(value),)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _trigger_view(trigger: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """A trigger's managed parts as sorted lines, insensitive to the order Zendesk
    returns conditions in and to ids or nulls coming back as strings."""
    conditions = trigger.get("conditions") or {}
    return {
        "active": (_scalar(trigger.get("active", True) is not False),),
        "conditions.all": _condition_lines(conditions.get("all")),
        "conditions.any": _condition_lines(conditions.get("any")),
        "actions": tuple(sorted(_action_line(a) for a in trigger.get("actions") or [])),
    }


def _condition_lines(conditions: Any) -> tuple[str, ...]:
    lines = []
    for condition in conditions or []:
        if isinstance(condition, Mapping):
            parts = (condition.get("field"), condition.get("operator"), condition.get("value"))
            lines.append(" ".join(_scalar(p) for p in parts).strip())
    return tuple(sorted(lines))


def _action_line(action: Any) -> str:
    if not isinstance(action, Mapping):
        return _scalar(action)
    value = action.get("value")
    if action.get("field") == "notification_webhook" and isinstance(value, list | tuple):
        parts = [_scalar(v) for v in value]
        if len(parts) == 2:
            parts[1] = _compact_json(parts[1])
        return f"notification_webhook {' '.join(parts)}"
    return f"{_scalar(action.get('field'))} {json.dumps(value, sort_keys=True)}"


def _compact_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text.strip()


# -- applying it ------------------------------------------------------------------


class InstallTarget(Protocol):
    """What the installer needs from Zendesk; `ZendeskClient` is one."""

    async def list_webhooks(self) -> list[dict[str, Any]]: ...
    async def create_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]: ...
    async def update_webhook(self, webhook_id: str, webhook: dict[str, Any]) -> None: ...
    async def get_webhook_signing_secret(self, webhook_id: str) -> str: ...
    async def list_triggers(self) -> list[dict[str, Any]]: ...
    async def create_trigger(self, trigger: dict[str, Any]) -> dict[str, Any]: ...
    async def update_trigger(self, trigger_id: int, trigger: dict[str, Any]) -> dict[str, Any]: ...
    async def list_ticket_fields(self) -> list[dict[str, Any]]: ...
    async def create_ticket_field(self, ticket_field: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class InstallResult:
    changes: list[Change]
    dry_run: bool = False
    webhook_id: str | None = None
    trigger_id: str | None = None
    applied: list[Change] = field(default_factory=list)
    service_user: Mapping[str, Any] | None = None
    # Shown once to the operator, never logged: kept out of the repr.
    signing_secret: str | None = field(default=None, repr=False)

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.action == "conflict"]


async def apply_plan(client: InstallTarget, changes: Sequence[Change]) -> InstallResult:
    """Execute `changes`: webhooks before triggers; nothing at all if any is a conflict.

    Raises `InstallError` (with the partial `result`) when a Zendesk call fails.
    """
    result = InstallResult(list(changes))
    if result.conflicts:
        raise InstallError("; ".join(c.reason for c in result.conflicts), result)
    ordered = sorted(changes, key=lambda c: APPLY_ORDER[c.kind])
    for change in ordered:
        try:
            await _apply(client, change, result)
        except ZendeskError as exc:
            raise InstallError(
                f"{change.action} {change.kind} {change.name!r}: {exc}{_hint(exc)}", result
            ) from exc
        if change.writes:
            result.applied.append(change)
    return result


async def _apply(client: InstallTarget, change: Change, result: InstallResult) -> None:
    payload = dict(change.payload)
    if change.kind == "field":
        if change.action == "create":
            await client.create_ticket_field(payload)
        return
    if change.kind == "webhook":
        if change.action == "create":
            created = await client.create_webhook(payload)
            result.webhook_id = str(created["id"])
            result.signing_secret = await client.get_webhook_signing_secret(result.webhook_id)
            return
        result.webhook_id = change.id
        if change.action == "update" and change.id is not None:
            await client.update_webhook(change.id, payload)
        return
    if change.writes:
        payload["actions"] = _resolve_webhook(payload.get("actions"), result.webhook_id)
    if change.action == "create":
        created = await client.create_trigger(payload)
        result.trigger_id = str(created.get("id"))
    elif change.action == "update" and change.id is not None:
        await client.update_trigger(int(change.id), payload)
        result.trigger_id = change.id
    else:
        result.trigger_id = change.id


def _resolve_webhook(actions: Any, webhook_id: str | None) -> list[Any]:
    resolved = []
    for action in actions or []:
        value = action.get("value") if isinstance(action, Mapping) else None
        if isinstance(value, list) and value and value[0] == NEW_WEBHOOK:
            if webhook_id is None:
                raise InstallError("the trigger refers to a webhook that was not created")
            action = {**action, "value": [webhook_id, *value[1:]]}
        resolved.append(action)
    return resolved


def _hint(exc: ZendeskError) -> str:
    if isinstance(exc, Forbidden):
        return (
            " (webhooks and triggers need an admin: run with an admin's credentials and "
            "--service-user-id set to the service's user)"
        )
    return ""


def field_id(fields: Iterable[Mapping[str, Any]], title: str) -> int | None:
    """The id of the ticket field titled `title`: an active one first, then the lowest id."""
    found = [f for f in fields if f.get("title") == title and isinstance(f.get("id"), int)]
    found.sort(key=lambda f: (f.get("active") is False, f["id"]))
    return int(found[0]["id"]) if found else None


async def install(
    client: InstallTarget,
    policy: Policy,
    *,
    service_url: str,
    service_user_id: int | None,
    names: InstallNames | None = None,
    dry_run: bool = False,
) -> InstallResult:
    """Read the account, plan, and (unless `dry_run`) apply. Raises `InstallError`."""
    names = names or InstallNames()
    title = policy.ticket_fields.get(INQUIRY_FIELD_KEY)
    if not title:
        raise InstallError(
            f"the policy has no ticket_fields.{INQUIRY_FIELD_KEY}: the trigger "
            "needs it to select triage tickets"
        )
    try:
        webhooks = await client.list_webhooks()
        triggers = await client.list_triggers()
        fields = await client.list_ticket_fields()
    except ZendeskError as exc:
        raise InstallError(
            f"cannot read the account's webhooks and triggers: {exc}{_hint(exc)}"
        ) from exc
    inquiry_id = field_id(fields, title)
    if inquiry_id is None:
        raise InstallError(
            f"ticket field {title!r} (policy ticket_fields.{INQUIRY_FIELD_KEY}) "
            "is not in the account: run check-config"
        )
    try:
        changes = plan_fields(fields, policy) + plan_install(
            webhooks,
            triggers,
            service_url,
            service_user_id,
            policy,
            names,
            inquiry_field_id=inquiry_id,
        )
    except ValueError as exc:
        raise InstallError(str(exc)) from exc
    if dry_run:
        return InstallResult(changes, dry_run=True)
    return await apply_plan(client, changes)


# -- the service's user -------------------------------------------------------------


async def get_me(
    client: ZendeskClient,
    auth: ZendeskAuth | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """`GET /api/v2/users/me` through the one Zendesk client (`auth` and
    `transport` are the client's own; kept for callers that pass them)."""
    return await client.get_me()


# -- the command -------------------------------------------------------------------


_UNUSED = {
    "WEBHOOK_SECRETS": ["unused-by-install-zendesk"],
    "MARKETPLACE_URL": "http://unused.invalid",
}


def load_install_settings() -> Settings:
    """The environment's settings, as for the other commands, except that the two the
    installer does not use may be missing: WEBHOOK_SECRETS is what it produces."""
    present = {key.upper() for key, value in os.environ.items() if value.strip()}
    overrides = {key.lower(): value for key, value in _UNUSED.items() if key not in present}
    return load_settings(**overrides)


async def run_install(
    settings: Settings,
    policy: Policy,
    *,
    service_url: str,
    names: InstallNames,
    dry_run: bool,
    service_user_id: int | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> InstallResult:
    """`install-zendesk`: connect with the settings' credentials, find the service's
    user (`GET /users/me` unless `service_user_id` is given), then `install`."""
    try:
        webhook_endpoint(service_url)  # a bad URL fails before any call
    except ValueError as exc:
        raise InstallError(str(exc)) from exc
    auth = build_auth(settings)
    timeout = httpx.Timeout(settings.zendesk_timeout_seconds, connect=5.0)
    async with ZendeskClient(
        settings.zendesk_url, auth, transport=transport, timeout=timeout
    ) as client:
        me: Mapping[str, Any] | None = None
        if service_user_id is None:
            try:
                me = await get_me(client, auth, transport=transport)
            except ZendeskError as exc:
                raise InstallError(f"cannot read the service's user ({ME_PATH}): {exc}") from exc
            service_user_id = int(me["id"])
        user: Mapping[str, Any] = me or {"id": service_user_id}
        try:
            result = await install(
                client,
                policy,
                service_url=service_url,
                service_user_id=service_user_id,
                names=names,
                dry_run=dry_run,
            )
        except InstallError as exc:
            if exc.result is not None:
                exc.result.service_user = user
            raise
        result.service_user = user
        return result


# -- output ------------------------------------------------------------------------


def render_plan(result: InstallResult) -> str:
    """A diff-like table of the plan (and what was done), for the terminal."""
    header = ("action", "kind", "name", "id")
    rows = [(c.action, c.kind, c.name, c.id or "-") for c in result.changes]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    width = max((len(f.field) for c in result.changes for f in c.fields), default=0)
    lines = ["  ".join(x.ljust(w) for x, w in zip(header, widths, strict=True)).rstrip()]
    for change, row in zip(result.changes, rows, strict=True):
        lines.append("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())
        if change.reason:
            lines.append(f"    ! {change.reason}")
        for diff in change.fields:
            for sign, item in _diff_lines(diff):
                lines.append(f"    {sign} {diff.field.ljust(width)}  {item}".rstrip())
    lines.append("")
    lines.append(_summary(result))
    return "\n".join(lines)


def _diff_lines(diff: FieldChange) -> list[tuple[str, str]]:
    """`-` for what goes, `+` for what comes; a list field shows only the lines that differ."""
    if len(diff.old) <= 1 and len(diff.new) <= 1:
        return [("-", i or "(empty)") for i in diff.old] + [("+", i or "(empty)") for i in diff.new]
    return [("-", i) for i in diff.old if i not in diff.new] + [
        ("+", i) for i in diff.new if i not in diff.old
    ]


def _summary(result: InstallResult) -> str:
    count = {
        a: sum(1 for c in result.changes if c.action == a)
        for a in ("create", "update", "unchanged", "conflict")
    }
    user = result.service_user or {}
    who = f"loop guard: the trigger ignores changes made by user {user.get('id')}" + (
        f" ({user.get('name')}, {user.get('email')})" if user.get("name") else ""
    )
    if count["conflict"]:
        return f"{count['conflict']} conflict(s): nothing was written\n{who}"
    if result.dry_run:
        return (
            f"dry run: {count['create']} to create, {count['update']} to update, "
            f"{count['unchanged']} unchanged; nothing was written\n{who}"
        )
    if not result.applied:
        return (
            "nothing to change: the agent fields, the webhook and the trigger are installed "
            f"as planned\n{who}"
        )
    return (
        f"created {count['create']}, updated {count['update']}, "
        f"unchanged {count['unchanged']}\n{who}"
    )


def render_secret(result: InstallResult) -> str:
    """The one place the new webhook's signing secret is shown ("" when there is none)."""
    if not result.signing_secret:
        return ""
    return "\n".join(
        [
            "",
            f"Signing secret of the new webhook {result.webhook_id}"
            " (shown this once, never logged):",
            "",
            f"    {result.signing_secret}",
            "",
            "Put it first in WEBHOOK_SECRETS (comma-separated: current, previous) and restart the",
            "service; until then it answers this webhook with 401 bad_signature.",
        ]
    )
