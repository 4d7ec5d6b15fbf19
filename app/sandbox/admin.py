"""Webhooks and triggers, as an installer creates them (no delivery is simulated)."""

from __future__ import annotations

import copy
import secrets
import threading

from app.sandbox.context import Context, Json, iso, synchronized
from app.sandbox.errors import ZendeskError, not_found, record_invalid

WEBHOOK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WEBHOOK_FORMATS = ("json", "xml", "form_encoded")
WEBHOOK_STATUSES = ("active", "inactive")
_WEBHOOK_KEYS = (
    "name",
    "description",
    "endpoint",
    "http_method",
    "request_format",
    "status",
    "subscriptions",
    "authentication",
    "custom_headers",
)
_TRIGGER_KEYS = (
    "title",
    "description",
    "active",
    "position",
    "conditions",
    "actions",
    "category_id",
)


def webhook_invalid(field: str, detail: str) -> ZendeskError:
    """The webhooks API answers errors as a JSON:API-style `errors` list."""
    return ZendeskError(
        400,
        {
            "errors": [
                {
                    "code": "InvalidInput",
                    "title": "Invalid input",
                    "detail": detail,
                    "source": {"pointer": f"/webhook/{field}"},
                }
            ]
        },
    )


class AdminStore:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._webhooks: dict[str, Json] = {}
        self._secrets: dict[str, str] = {}
        self._triggers: dict[int, Json] = {}

    @property
    def lock(self) -> threading.RLock:
        return self.ctx.lock

    @synchronized
    def clear(self) -> None:
        self._webhooks, self._secrets, self._triggers = {}, {}, {}

    # -- webhooks ------------------------------------------------------------

    @synchronized
    def webhooks(self) -> list[Json]:
        return [copy.deepcopy(w) for _, w in sorted(self._webhooks.items())]

    @synchronized
    def webhook(self, webhook_id: str) -> Json:
        return copy.deepcopy(self._webhook(webhook_id))

    @synchronized
    def create_webhook(self, data: Json) -> Json:
        now = iso(self.ctx.stamps.next())
        webhook_id = f"01SBXWEBHOOK{self.ctx.ids.next('webhook'):014d}"
        record: Json = {
            "id": webhook_id,
            "name": None,
            "description": None,
            "endpoint": None,
            "http_method": "POST",
            "request_format": "json",
            "status": "active",
            "subscriptions": ["conditional_ticket_events"],
            "created_at": now,
            "created_by": None,
            "updated_at": now,
            "updated_by": None,
        }
        record.update({k: copy.deepcopy(data[k]) for k in _WEBHOOK_KEYS if k in data})
        _check_webhook(record)
        secret = (data.get("signing_secret") or {}).get("secret") or secrets.token_urlsafe(32)
        self._webhooks[webhook_id] = record
        self._secrets[webhook_id] = str(secret)
        return copy.deepcopy(record)

    @synchronized
    def update_webhook(self, webhook_id: str, data: Json) -> None:
        """PUT and PATCH: the given keys replace the stored ones."""
        record = {
            **self._webhook(webhook_id),
            **{k: copy.deepcopy(data[k]) for k in _WEBHOOK_KEYS if k in data},
        }
        _check_webhook(record)
        record["updated_at"] = iso(self.ctx.stamps.next())
        self._webhooks[webhook_id] = record

    @synchronized
    def delete_webhook(self, webhook_id: str) -> None:
        self._webhook(webhook_id)
        del self._webhooks[webhook_id]
        self._secrets.pop(webhook_id, None)

    @synchronized
    def signing_secret(self, webhook_id: str, *, reset: bool = False) -> Json:
        self._webhook(webhook_id)
        if reset:
            self._secrets[webhook_id] = secrets.token_urlsafe(32)
        return {"algorithm": "SHA256", "secret": self._secrets[webhook_id]}

    def _webhook(self, webhook_id: str) -> Json:
        record = self._webhooks.get(webhook_id)
        if record is None:
            raise not_found()
        return record

    # -- triggers ------------------------------------------------------------

    @synchronized
    def triggers(self) -> list[Json]:
        return [self._render_trigger(t) for _, t in sorted(self._triggers.items())]

    @synchronized
    def trigger(self, trigger_id: int) -> Json:
        return self._render_trigger(self._trigger(trigger_id))

    @synchronized
    def create_trigger(self, data: Json) -> Json:
        now = iso(self.ctx.stamps.next())
        record: Json = {
            "id": self.ctx.ids.next("trigger"),
            "title": None,
            "raw_title": None,
            "description": None,
            "active": True,
            "position": len(self._triggers) + 1,
            "conditions": {"all": [], "any": []},
            "actions": [],
            "category_id": None,
            "default": False,
            "created_at": now,
            "updated_at": now,
        }
        record.update({k: copy.deepcopy(data[k]) for k in _TRIGGER_KEYS if k in data})
        _check_trigger(record)
        self._triggers[record["id"]] = record
        return self._render_trigger(record)

    @synchronized
    def update_trigger(self, trigger_id: int, data: Json) -> Json:
        record = {
            **self._trigger(trigger_id),
            **{k: copy.deepcopy(data[k]) for k in _TRIGGER_KEYS if k in data},
        }
        _check_trigger(record)
        record["updated_at"] = iso(self.ctx.stamps.next())
        self._triggers[trigger_id] = record
        return self._render_trigger(record)

    @synchronized
    def delete_trigger(self, trigger_id: int) -> None:
        self._trigger(trigger_id)
        del self._triggers[trigger_id]

    def _trigger(self, trigger_id: int) -> Json:
        record = self._triggers.get(trigger_id)
        if record is None:
            raise not_found()
        return record

    def _render_trigger(self, record: Json) -> Json:
        rendered = copy.deepcopy(record)
        rendered["raw_title"] = rendered["title"]
        return {"url": self.ctx.api_url(f"triggers/{record['id']}"), **rendered}


def _check_webhook(record: Json) -> None:
    for key in ("name", "endpoint"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise webhook_invalid(key, f"{key} is required")
    allowed = {
        "http_method": WEBHOOK_METHODS,
        "request_format": WEBHOOK_FORMATS,
        "status": WEBHOOK_STATUSES,
    }
    for key, values in allowed.items():
        if record.get(key) not in values:
            raise webhook_invalid(key, f"{key} must be one of {', '.join(values)}")
    if not isinstance(record.get("subscriptions"), list):
        raise webhook_invalid("subscriptions", "subscriptions must be a list")


def _check_trigger(record: Json) -> None:
    if not isinstance(record.get("title"), str) or not record["title"].strip():
        raise record_invalid("title", "Title: cannot be blank", "BlankValue")
    if not isinstance(record.get("actions"), list) or not record["actions"]:
        raise record_invalid("actions", "Actions: cannot be blank", "BlankValue")
    conditions = record.get("conditions")
    if not isinstance(conditions, dict) or not (conditions.get("all") or conditions.get("any")):
        raise record_invalid("conditions", "Conditions: cannot be blank", "BlankValue")
