"""`ZendeskCatalog`: the account's names -> ids (groups, macros, forms, brands,
ticket fields with their options, user and organization fields).

The policy speaks in names (docs/contracts.md); Zendesk wants ids. Load once
(`await ZendeskCatalog.load(client)`), look up without I/O, and `refresh()`
when Zendesk says an id is unknown (`refresh_if_stale(exc)` does both).
Where names collide, an active item wins over an inactive one, then the
lowest id.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, cast

from app.zendesk.errors import NotFound, UnknownName, Unprocessable, ZendeskAPIError
from app.zendesk.models import CheckRow, FieldInfo, MacroInfo


class CatalogSource(Protocol):
    """What the catalog needs; `ZendeskClient` is one."""

    async def list_groups(self) -> list[dict[str, Any]]: ...
    async def list_macros(self) -> list[dict[str, Any]]: ...
    async def list_ticket_fields(self) -> list[dict[str, Any]]: ...
    async def list_ticket_forms(self) -> list[dict[str, Any]]: ...
    async def list_brands(self) -> list[dict[str, Any]]: ...
    async def list_user_fields(self) -> list[dict[str, Any]]: ...
    async def list_organization_fields(self) -> list[dict[str, Any]]: ...


def _ranked(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    usable = [i for i in items if isinstance(i, dict) and isinstance(i.get("id"), int)]
    return sorted(usable, key=lambda i: (i.get("active") is False, i["id"]))


class _Index:
    """Names <-> ids of one kind."""

    def __init__(self, kind: str, items: Iterable[dict[str, Any]], name_key: str) -> None:
        self.kind = kind
        self.by_name: dict[str, int] = {}
        self.by_id: dict[int, str] = {}
        for item in _ranked(items):
            name = item.get(name_key)
            if isinstance(name, str):
                self.by_name.setdefault(name, item["id"])
                self.by_id[item["id"]] = name

    def id(self, name: str) -> int:
        try:
            return self.by_name[name]
        except KeyError:
            raise UnknownName(self.kind, name) from None

    def name(self, ident: int) -> str:
        try:
            return self.by_id[int(ident)]
        except (KeyError, TypeError, ValueError):
            raise UnknownName(self.kind, ident) from None


def _field_info(item: dict[str, Any]) -> FieldInfo:
    options = {
        str(o["name"]): str(o["value"])
        for o in item.get("custom_field_options") or []
        if isinstance(o, dict) and "name" in o and "value" in o
    }
    return FieldInfo(
        id=item["id"],
        title=str(item.get("title", "")),
        type=str(item.get("type", "")),
        options=options,
        active=item.get("active") is not False,
    )


def _macro_info(item: dict[str, Any]) -> MacroInfo:
    actions = tuple(
        (str(a.get("field")), a.get("value"))
        for a in item.get("actions") or []
        if isinstance(a, dict) and a.get("field")
    )
    return MacroInfo(id=item["id"], title=str(item.get("title", "")), actions=actions)


class ZendeskCatalog:
    """Names of the account's configuration mapped to ids (see the module docstring)."""

    def __init__(self, source: CatalogSource) -> None:
        """An empty catalog; prefer `await ZendeskCatalog.load(client)`."""
        self._source = source
        self._lock = asyncio.Lock()
        self._groups = _Index("group", [], "name")
        self._macros = _Index("macro", [], "title")
        self._forms = _Index("form", [], "name")
        self._brands = _Index("brand", [], "name")
        self._user_fields = _Index("user_field", [], "key")
        self._organization_fields = _Index("organization_field", [], "key")
        self._fields: dict[str, FieldInfo] = {}
        self._fields_by_id: dict[int, FieldInfo] = {}
        self._macro_defs: dict[int, MacroInfo] = {}

    @classmethod
    async def load(cls, source: CatalogSource) -> ZendeskCatalog:
        catalog = cls(source)
        await catalog.refresh()
        return catalog

    async def refresh(self) -> None:
        """Reload everything from Zendesk; lookups see the old or the new state, never a mix."""
        async with self._lock:
            loaded = await asyncio.gather(
                self._source.list_groups(),
                self._source.list_macros(),
                self._source.list_ticket_fields(),
                self._source.list_ticket_forms(),
                self._source.list_brands(),
                self._source.list_user_fields(),
                self._source.list_organization_fields(),
                return_exceptions=True,  # let every list finish; no orphaned requests
            )
            for outcome in loaded:
                if isinstance(outcome, BaseException):
                    raise outcome
            groups, macros, fields, forms, brands, user_fields, org_fields = cast(
                "list[list[dict[str, Any]]]", loaded
            )
            infos = [_field_info(item) for item in _ranked(fields)]
            by_title: dict[str, FieldInfo] = {}
            for info in infos:
                by_title.setdefault(info.title, info)
            self._groups = _Index("group", groups, "name")
            self._macros = _Index("macro", macros, "title")
            # Definitions (actions) come with the list: tag-only macros need no apply read.
            self._macro_defs = {item["id"]: _macro_info(item) for item in _ranked(macros)}
            self._forms = _Index("form", forms, "name")
            self._brands = _Index("brand", brands, "name")
            # User and organization fields are addressed by their key in
            # `user_fields` / `organization_fields` values.
            self._user_fields = _Index("user_field", user_fields, "key")
            self._organization_fields = _Index("organization_field", org_fields, "key")
            self._fields = by_title
            self._fields_by_id = {info.id: info for info in infos}

    async def refresh_if_stale(self, exc: BaseException) -> bool:
        """Refresh when `exc` is a 404/422 whose path or body mentions an id this
        catalog holds (e.g. a deleted group or macro); True if it refreshed."""
        if not isinstance(exc, NotFound | Unprocessable) or not self._mentions_known_id(exc):
            return False
        await self.refresh()
        return True

    def _mentions_known_id(self, exc: ZendeskAPIError) -> bool:
        text = f"{exc.request_path} {json.dumps(exc.body, default=str)}"
        mentioned = {int(n) for n in re.findall(r"\d+", text)}
        known = (
            self._groups.by_id.keys()
            | self._macros.by_id.keys()
            | self._forms.by_id.keys()
            | self._brands.by_id.keys()
            | self._fields_by_id.keys()
        )
        return bool(mentioned & known)

    # -- lookups (no I/O) ------------------------------------------------------

    def group_id(self, name: str) -> int:
        return self._groups.id(name)

    def group_name(self, group_id: int) -> str:
        return self._groups.name(group_id)

    def macro_id(self, title: str) -> int:
        return self._macros.id(title)

    def macro_title(self, macro_id: int) -> str:
        return self._macros.name(macro_id)

    def macro(self, title: str) -> MacroInfo:
        """The macro's definition (id, actions) as loaded with the catalog."""
        ident = self._macros.id(title)
        return self._macro_defs.get(ident) or MacroInfo(ident, title)

    def form_id(self, name: str) -> int:
        return self._forms.id(name)

    def form_name(self, form_id: int) -> str:
        return self._forms.name(form_id)

    def brand_id(self, name: str) -> int:
        return self._brands.id(name)

    def brand_name(self, brand_id: int) -> str:
        return self._brands.name(brand_id)

    def user_field_id(self, key: str) -> int:
        return self._user_fields.id(key)

    def organization_field_id(self, key: str) -> int:
        return self._organization_fields.id(key)

    def field(self, title: str) -> FieldInfo:
        try:
            return self._fields[title]
        except KeyError:
            raise UnknownName("field", title) from None

    def field_by_id(self, field_id: int) -> FieldInfo:
        try:
            return self._fields_by_id[int(field_id)]
        except (KeyError, TypeError, ValueError):
            raise UnknownName("field", field_id) from None

    # -- check-config ----------------------------------------------------------

    def check(self, names: Mapping[str, Sequence[Any]]) -> list[CheckRow]:
        """One row per name (and per field option) of `Policy.zendesk_names()`.

        Kinds: groups, macros, forms, brands (lists of names) and fields (each
        `(title, [option names])`, or a bare title). Unknown kinds raise ValueError.
        """
        indexes = {
            "groups": self._groups,
            "macros": self._macros,
            "forms": self._forms,
            "brands": self._brands,
            "user_fields": self._user_fields,
            "organization_fields": self._organization_fields,
        }
        rows: list[CheckRow] = []
        for kind, entries in names.items():
            if kind == "fields":
                for entry in entries:
                    rows.extend(self._check_field(entry))
            elif kind in indexes:
                for name in entries:
                    ident = indexes[kind].by_name.get(name)
                    rows.append(CheckRow(kind, str(name), ident is not None, ident))
            else:
                raise ValueError(f"unknown kind {kind!r}; expected fields or {sorted(indexes)}")
        return rows

    def _check_field(self, entry: Any) -> list[CheckRow]:
        if isinstance(entry, str):
            title, options = entry, []
        else:
            title, options = str(entry[0]), list(entry[1] or [])
        info = self._fields.get(title)
        rows = [CheckRow("fields", title, info is not None, info.id if info else None)]
        for option in options:
            value = info.options.get(option) if info else None
            rows.append(
                CheckRow("field_options", f"{title} > {option}", value is not None, None, value)
            )
        return rows
