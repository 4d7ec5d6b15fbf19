"""Groups, ticket fields, forms, brands, users, organizations and their field definitions."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

from app.sandbox.context import Context, Json, iso, synchronized
from app.sandbox.errors import not_found, record_invalid
from app.sandbox.seed import Seed, new_user

# plural (list key and path) -> singular (show key) -> id sequence
KINDS: dict[str, str] = {
    "groups": "group",
    "ticket_fields": "ticket_field",
    "ticket_forms": "ticket_form",
    "brands": "brand",
    "users": "user",
    "organizations": "organization",
    "user_fields": "user_field",
    "organization_fields": "organization_field",
}

USER_ROLES = ("end-user", "agent", "admin")
TICKET_FIELD_TYPES = (
    "text",
    "textarea",
    "checkbox",
    "date",
    "integer",
    "decimal",
    "regexp",
    "tagger",
    "multiselect",
    "partialcreditcard",
    "lookup",
)


@dataclass(frozen=True)
class FieldDef:
    """What ticket validation needs to know about a custom ticket field."""

    id: int
    title: str
    type: str
    options: tuple[str, ...]  # option tag values, in order

    @property
    def has_options(self) -> bool:
        return self.type in ("tagger", "multiselect")


class Directory:
    """The account's lookup records, keyed by kind and id."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._records: dict[str, dict[int, Json]] = {kind: {} for kind in KINDS}
        self._field_defs: dict[int, FieldDef] = {}

    @property
    def lock(self) -> threading.RLock:
        return self.ctx.lock

    @synchronized
    def load(self, seed: Seed) -> None:
        self._records = {kind: {r["id"]: r for r in seed.records.get(kind, [])} for kind in KINDS}
        self._field_defs = {
            f["id"]: FieldDef(
                f["id"],
                f["title"],
                f["type"],
                tuple(o["value"] for o in f.get("custom_field_options") or []),
            )
            for _, f in sorted(self._records["ticket_fields"].items())
        }

    @synchronized
    def records(self, kind: str) -> list[Json]:
        return [self._render(kind, r) for _, r in sorted(self._records[kind].items())]

    @synchronized
    def get(self, kind: str, record_id: int) -> Json:
        record = self._records[kind].get(record_id)
        if record is None:
            raise not_found()
        return self._render(kind, record)

    @synchronized
    def show_many(self, kind: str, ids: list[int]) -> list[Json]:
        return [self._render(kind, self._records[kind][i]) for i in ids if i in self._records[kind]]

    @synchronized
    def exists(self, kind: str, record_id: int) -> bool:
        return record_id in self._records[kind]

    @synchronized
    def is_agent(self, user_id: int) -> bool:
        user = self._records["users"].get(user_id)
        return user is not None and user["role"] in ("agent", "admin")

    @synchronized
    def field_defs(self) -> dict[int, FieldDef]:
        """Custom ticket fields by id, in position order (read-only: do not change)."""
        return self._field_defs

    @synchronized
    def create_user(self, data: Json) -> Json:
        name = data.get("name")
        email = data.get("email")
        role = data.get("role", "end-user")
        if not isinstance(name, str) or not name.strip():
            raise record_invalid("name", "Name: cannot be blank", "BlankValue")
        if role not in USER_ROLES:
            raise record_invalid("role", f"Role: {role} is not valid")
        if email is not None and self._user_by_email(str(email)) is not None:
            raise record_invalid(
                "email", f"Email: {email} is already being used by another user", "DuplicateValue"
            )
        org_id = data.get("organization_id")
        if org_id is not None and org_id not in self._records["organizations"]:
            raise record_invalid("organization_id", "Organization: is invalid")
        now = iso(self.ctx.stamps.next())
        user = new_user(
            self.ctx.ids.next("user"),
            name,
            email,
            str(role),
            {"created_at": now, "updated_at": now},
        )
        for key in ("external_id", "phone", "time_zone", "locale"):
            if key in data:
                user[key] = data[key]
        user["organization_id"] = org_id
        user["tags"] = list(data.get("tags") or [])
        user["user_fields"] = dict(data.get("user_fields") or {})
        self._records["users"][user["id"]] = user
        return self._render("users", user)

    @synchronized
    def requester_id(self, requester: Json) -> int:
        """The id of the user with the requester's email, created as an end-user if new."""
        email = requester.get("email")
        existing = self._user_by_email(str(email)) if email else None
        if existing is not None:
            return int(existing["id"])
        name = requester.get("name") or (str(email).split("@")[0] if email else "")
        created = self.create_user({"name": name, "email": email, "role": "end-user"})
        return int(created["id"])

    @synchronized
    def create_organization(self, data: Json) -> Json:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise record_invalid("name", "Name: cannot be blank", "BlankValue")
        orgs = self._records["organizations"].values()
        if any(o["name"].lower() == name.lower() for o in orgs):
            raise record_invalid("name", "Name: has already been taken", "DuplicateValue")
        external_id = data.get("external_id")
        if external_id is not None and any(
            str(o.get("external_id") or "").lower() == str(external_id).lower() for o in orgs
        ):
            raise record_invalid(
                "external_id", "External ID: has already been taken", "DuplicateValue"
            )
        now = iso(self.ctx.stamps.next())
        org: Json = {
            "id": self.ctx.ids.next("organization"),
            "name": name,
            "external_id": external_id,
            "domain_names": list(data.get("domain_names") or []),
            "details": "",
            "notes": "",
            "group_id": data.get("group_id"),
            "shared_tickets": False,
            "shared_comments": False,
            "tags": list(data.get("tags") or []),
            "organization_fields": dict(data.get("organization_fields") or {}),
            "created_at": now,
            "updated_at": now,
        }
        self._records["organizations"][org["id"]] = org
        return self._render("organizations", org)

    @synchronized
    def create_ticket_field(self, data: Json) -> Json:
        """`POST /ticket_fields`: a custom ticket field; tagger and multiselect need options
        with a name and a unique tag value (Zendesk answers 422 otherwise)."""
        title, kind = data.get("title"), data.get("type")
        if not isinstance(title, str) or not title.strip():
            raise record_invalid("title", "Title: cannot be blank", "BlankValue")
        if kind not in TICKET_FIELD_TYPES:
            raise record_invalid("type", f"Type: {kind} is not valid")
        options = data.get("custom_field_options") or []
        if kind in ("tagger", "multiselect") and not options:
            raise record_invalid("custom_field_options", "Field options: cannot be blank")
        tags = [str(o.get("value") or "") for o in options if isinstance(o, dict)]
        if len(tags) != len(options) or "" in tags or len(set(tags)) != len(tags):
            raise record_invalid("custom_field_options", "Field options: are invalid")
        now = iso(self.ctx.stamps.next())
        record: Json = {
            "id": self.ctx.ids.next("ticket_field"),
            "type": kind,
            "title": title,
            "raw_title": title,
            "description": str(data.get("description") or ""),
            "position": len(self._records["ticket_fields"]) + 1,
            "active": True,
            "required": False,
            "created_at": now,
            "updated_at": now,
        }
        if options:
            record["custom_field_options"] = [
                {
                    "id": self.ctx.ids.next("field_option"),
                    "name": str(o.get("name")),
                    "raw_name": str(o.get("name")),
                    "value": tag,
                    "default": False,
                }
                for o, tag in zip(options, tags, strict=True)
            ]
        self._records["ticket_fields"][record["id"]] = record
        self._field_defs[record["id"]] = FieldDef(record["id"], title, str(kind), tuple(tags))
        return self._render("ticket_fields", record)

    @synchronized
    def delete_ticket_field(self, field_id: int) -> None:
        if field_id not in self._records["ticket_fields"]:
            raise not_found()
        del self._records["ticket_fields"][field_id]
        self._field_defs.pop(field_id, None)

    @synchronized
    def add_custom_field(self, kind: str, key: str, title: str, field_type: str = "text") -> Json:
        """Define a user or organization field (`kind` is `user_fields`/`organization_fields`)."""
        now = iso(self.ctx.stamps.next())
        record: Json = {
            "id": self.ctx.ids.next(KINDS[kind]),
            "key": key,
            "type": field_type,
            "title": title,
            "raw_title": title,
            "description": "",
            "active": True,
            "position": len(self._records[kind]) + 1,
            "created_at": now,
            "updated_at": now,
        }
        self._records[kind][record["id"]] = record
        return self._render(kind, record)

    def _user_by_email(self, email: str) -> Json | None:
        wanted = email.lower()
        return next(
            (
                u
                for u in self._records["users"].values()
                if str(u.get("email") or "").lower() == wanted
            ),
            None,
        )

    def _render(self, kind: str, record: Json) -> Json:
        return {"url": self.ctx.api_url(f"{kind}/{record['id']}"), **copy.deepcopy(record)}
