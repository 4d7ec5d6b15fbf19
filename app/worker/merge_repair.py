"""Repair merges made anyway, in Zendesk's own UI, that involve a Mediation ticket.

Detection (`MergeRepair.on_event` / `check_ticket`):
- a `zen:event-type:ticket.merged` event: the source is the event's ticket,
  the target `event.target_ticket_id`;
- a trigger webhook (or any ticket event) for a ticket closed with the tag
  `closed_by_merge`: its merge audit (via `merge`) names the target;
- an event for a Mediation ticket whose audits show a merge into it (via
  `merge`, `source.from.ticket_ids`).

Repairs (each once: a marker on the repaired ticket, written in the same
update as the note, or the restored ticket's `external_id`):
(a) a ticket merged *into* a Mediation ticket: an internal note on the
    Mediation ticket flagging the merge, naming the source's requester and
    summarizing its content, with the follow-up note the playbook asks for
    ([TEAM] [CONTRACT #] [DETAILS] [ZD TICKET #], decided by the routing as if
    the tag-only macro had been used on the source); a solved Mediation ticket
    is reopened (the source, closed by the merge, cannot be assigned to
    Mediation as the playbook's solved path would); tag
    `triage_merged_into_mediation` for reporting.
(b) a Mediation ticket merged *away* (closed as a source): a new ticket that
    restores it (requester, group, form, fields, tags, brand, priority; a note
    linking both tickets and quoting its last comments; `external_id`
    `triage-restore-<id>`, `via_followup_source_id`), tag `triage_merge_alert`
    on it and a note on the merge target; metric `triage_merge_repairs_total`.

Everything is logged in the merge log (`GET /admin/merges`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.marketplace.client import MarketplaceClient
from app.merges.kinds import closed_by_merge, mediation_kind
from app.merges.log import MergeLog
from app.merges.metrics import MergeMetrics
from app.merges.service import GUARDED_KEY
from app.routing import Policy, TicketFacts, decide
from app.runtime.container import CatalogHolder
from app.store import EventStore, StoredEvent
from app.worker.facts import gather
from app.worker.pingpong import LoopGuard
from app.worker.ticket_view import field_value
from app.zendesk import Conflict, Priority, ZendeskCatalog, ZendeskClient, ZendeskError

log = logging.getLogger("app.worker.merges")

MERGED_EVENT = "zen:event-type:ticket.merged"
INTO_MARKER = "triage_mrgin_{source_id}"
AWAY_MARKER = "triage_mrgaway_{source_id}"
INTO_TAG = "triage_merged_into_mediation"
ALERT_TAG = "triage_merge_alert"
RESTORED_TAG = "triage_restored_mediation"
RESTORE_EXTERNAL_ID = "triage-restore-{source_id}"
RESTORED_KEY = "merges:restored:{source_id}"
DONE_KEY = "merges:done:{source_id}:{target_id}"
MAX_ATTEMPTS = 3
QUOTED_COMMENTS = 3
EXCERPT = 600
_MERGED_INTO = re.compile(r"merged into (?:request|ticket) #(\d+)", re.IGNORECASE)
# Keys of a ticket copied to the restored ticket as they are.
_COPIED = ("requester_id", "group_id", "ticket_form_id", "brand_id", "priority", "type")


@dataclass
class RepairOutcome:
    detected: list[tuple[int, int]] = field(default_factory=list)  # (source, target)
    writes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def wrote(self) -> bool:
        return bool(self.writes)


def is_merge_event(event: StoredEvent) -> bool:
    return event.event_type == MERGED_EVENT


def target_of_event(payload: dict[str, Any]) -> int | None:
    inner = payload.get("event")
    raw = inner.get("target_ticket_id") if isinstance(inner, dict) else None
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def is_merge_via(via: Any) -> bool:
    if not isinstance(via, dict):
        return False
    source = via.get("source")
    rel = source.get("rel") if isinstance(source, dict) else None
    return str(via.get("channel") or "").lower() == "merge" or rel == "merge"


def merge_target_from_audits(audits: list[dict[str, Any]]) -> int | None:
    """The ticket a closed source was merged into, from its merge audit (or comment)."""
    for audit in reversed(audits):
        via = audit.get("via")
        if isinstance(via, dict) and is_merge_via(via):
            to = (via.get("source") or {}).get("to") or {}
            if isinstance(to, dict) and to.get("ticket_id"):
                return int(to["ticket_id"])
        for event in audit.get("events") or []:
            match = _MERGED_INTO.search(str(event.get("body") or ""))
            if event.get("type") == "Comment" and match:
                return int(match.group(1))
    return None


def merge_sources_from_audits(audits: list[dict[str, Any]]) -> list[int]:
    """Tickets merged into this one, from its merge audits."""
    sources: list[int] = []
    for audit in audits:
        via = audit.get("via")
        if not isinstance(via, dict) or not is_merge_via(via):
            continue
        origin = (via.get("source") or {}).get("from") or {}
        ids = origin.get("ticket_ids") if isinstance(origin, dict) else None
        for raw in ids or []:
            if int(raw) not in sources:
                sources.append(int(raw))
    return sources


def excerpt(text: str | None, limit: int = EXCERPT) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def quote(comments: list[dict[str, Any]], count: int = QUOTED_COMMENTS) -> str:
    lines = []
    for comment in comments[-count:]:
        kind = "public reply" if comment.get("public") else "internal note"
        body = excerpt(comment.get("plain_body") or comment.get("body"))
        lines.append(f"> [{comment.get('created_at', '')}, {kind}] {body}")
    return "\n".join(lines) or "> (no comments)"


@dataclass
class MergeRepair:
    zendesk: ZendeskClient
    catalog: CatalogHolder
    marketplace: MarketplaceClient
    policy: Policy
    store: EventStore
    log: MergeLog
    loops: LoopGuard
    metrics: MergeMetrics | None = None
    link: Callable[[int], str] | None = None
    zendesk_subdomain: str | None = None  # agent links in the notes

    # -- detection -------------------------------------------------------------

    async def on_event(
        self, event: StoredEvent, today: dt.date, priority: Priority = Priority.LIVE
    ) -> RepairOutcome:
        """A `ticket.merged` event: its ticket was merged into `event.target_ticket_id`."""
        outcome = RepairOutcome()
        source_id = int(event.ticket_id or 0)
        target_id = target_of_event(event.payload)
        if target_id is None:
            audits = await self.zendesk.list_audits(source_id, priority=priority)
            target_id = merge_target_from_audits(audits)
        if not source_id or target_id is None:
            log.warning("merge event without a target", extra={"event_id": event.id})
            return outcome
        await self.repair(source_id, target_id, f"event {MERGED_EVENT}", today, outcome, priority)
        return outcome

    async def check_ticket(
        self, ticket: dict[str, Any], today: dt.date, priority: Priority = Priority.LIVE
    ) -> RepairOutcome:
        """Merge signs on a ticket read for any other event (trigger webhook)."""
        outcome = RepairOutcome()
        ticket_id = int(ticket["id"])
        if closed_by_merge(ticket):
            audits = await self.zendesk.list_audits(ticket_id, priority=priority)
            target_id = merge_target_from_audits(audits)
            if target_id is not None:
                await self.repair(
                    ticket_id, target_id, "trigger: tag closed_by_merge", today, outcome, priority
                )
            return outcome
        catalog = await self.catalog.get()
        why, _ = mediation_kind(ticket, self.policy, catalog)
        if why is None or await self.loops.is_echo(ticket):
            return outcome
        audits = await self.zendesk.list_audits(ticket_id, priority=priority)
        for source_id in merge_sources_from_audits(audits):
            await self.repair(
                source_id,
                ticket_id,
                "trigger: merge audit on the target",
                today,
                outcome,
                priority,
            )
        return outcome

    # -- repairs -----------------------------------------------------------------

    async def repair(
        self,
        source_id: int,
        target_id: int,
        detected_by: str,
        today: dt.date,
        outcome: RepairOutcome,
        priority: Priority,
    ) -> None:
        done_key = DONE_KEY.format(source_id=source_id, target_id=target_id)
        if await self.store.get_kv(done_key):
            return  # detected and repaired before: a redelivery or a later event
        catalog = await self.catalog.get()
        source = (await self.zendesk.get_ticket(source_id, priority=priority))["ticket"]
        target = (await self.zendesk.get_ticket(target_id, priority=priority))["ticket"]
        source_kind, _ = mediation_kind(source, self.policy, catalog)
        target_kind, _ = mediation_kind(target, self.policy, catalog)
        guarded = await self.store.get_kv(GUARDED_KEY.format(source_id=source_id))
        outcome.detected.append((source_id, target_id))
        entry = await self.log.append(
            "detected",
            key=f"detected:{source_id}:{target_id}",
            source_id=source_id,
            target_id=target_id,
            detected_by=detected_by,
            guarded=bool(guarded) and guarded == str(target_id),
            source_mediation=source_kind,
            target_mediation=target_kind,
        )
        if entry is not None and self.metrics is not None:
            self.metrics.merges.labels("detected").inc()
        if target_kind is not None:
            await self.into_mediation(source, target, today, outcome, priority)
        if source_kind is not None:
            await self.restore(source, target, outcome, priority)
        await self.store.set_kv(done_key, "1")

    async def into_mediation(
        self,
        source: dict[str, Any],
        target: dict[str, Any],
        today: dt.date,
        outcome: RepairOutcome,
        priority: Priority,
    ) -> None:
        """(a) A ticket merged into a Mediation ticket: note, follow-up flow, tag."""
        source_id, target_id = int(source["id"]), int(target["id"])
        marker = INTO_MARKER.format(source_id=source_id)
        for _ in range(MAX_ATTEMPTS):
            if marker in (target.get("tags") or []):
                return
            if str(target.get("status") or "").lower() == "closed":
                log.warning("merge target #%s is closed: cannot note it", target_id)
                return
            body, path = await self._follow_up_note(source, target, today)
            requester = await self._requester(source, priority)
            reopen = str(target.get("status") or "").lower() == "solved"
            note = self._into_note(source, requester, body, reopen)
            changes: dict[str, Any] = {
                "comment": {"body": note, "public": False},
                "tags": sorted(set(target.get("tags") or []) | {marker, INTO_TAG}),
            }
            summary = ["merge repair: note on the Mediation ticket", f"tags +[{INTO_TAG}]"]
            if reopen:
                changes["status"] = "open"
                summary.append("status -> open (the Mediation ticket was solved)")
            try:
                written = await self._write(target, changes, summary, outcome, priority)
            except Conflict:
                target = (await self.zendesk.get_ticket(target_id, priority=priority))["ticket"]
                continue
            await self.log.append(
                "repaired",
                key=f"repaired:into:{source_id}:{target_id}",
                repair="merged_into_mediation",
                source_id=source_id,
                target_id=target_id,
                follow_up_path=path,
                reopened="status" in changes,
                write=written,
            )
            if self.metrics is not None:
                self.metrics.repairs.labels("merged_into_mediation").inc()
            return
        raise Conflict(409, {"error": "DatabaseConflict"}, None, "PUT", f"/tickets/{target_id}")

    async def restore(
        self,
        source: dict[str, Any],
        target: dict[str, Any],
        outcome: RepairOutcome,
        priority: Priority,
    ) -> None:
        """(b) A Mediation ticket merged away: restore it as a new ticket, alert."""
        source_id, target_id = int(source["id"]), int(target["id"])
        key = RESTORED_KEY.format(source_id=source_id)
        known = await self.store.get_kv(key)
        restored_id = int(known) if known and known.isdigit() else None
        if restored_id is None:
            restored_id = await self._existing_restore(source_id, priority)
        created = False
        if restored_id is None:
            restored_id = await self._create_restore(source, target, priority)
            created = True
            outcome.writes.append(
                {
                    "ticket_id": restored_id,
                    "method": "POST",
                    "path": "/tickets",
                    "summary": [f"restored Mediation ticket #{source_id}"],
                }
            )
        await self.store.set_kv(key, str(restored_id))
        await self._note_target(source, target, restored_id, outcome, priority)
        entry = await self.log.append(
            "repaired",
            key=f"repaired:away:{source_id}",
            repair="mediation_restored",
            source_id=source_id,
            target_id=target_id,
            restored_id=restored_id,
            created=created,
        )
        if entry is not None and self.metrics is not None:
            self.metrics.repairs.labels("mediation_restored").inc()
            log.warning(
                "Mediation ticket #%s was merged into #%s; restored as #%s",
                source_id,
                target_id,
                restored_id,
            )

    # -- helpers -----------------------------------------------------------------

    def _url(self, ticket_id: int) -> str:
        if self.link is not None:
            return self.link(ticket_id)
        return f"#{ticket_id}"

    async def _write(
        self,
        ticket: dict[str, Any],
        changes: dict[str, Any],
        summary: list[str],
        outcome: RepairOutcome,
        priority: Priority,
    ) -> dict[str, Any]:
        ticket_id = int(ticket["id"])
        answer = await self.zendesk.update_ticket(
            ticket_id, changes, updated_stamp=ticket["updated_at"], priority=priority
        )
        await self.loops.remember_write(ticket_id, (answer.get("ticket") or {}).get("updated_at"))
        written = {
            "ticket_id": ticket_id,
            "method": "PUT",
            "path": f"/api/v2/tickets/{ticket_id}",
            "summary": summary,
            "result": "ok",
        }
        outcome.writes.append(written)
        return written

    async def _follow_up_note(
        self, source: dict[str, Any], target: dict[str, Any], today: dt.date
    ) -> tuple[str, str]:
        """The routing's follow-up decision for the source, as if the macro had been used."""
        catalog = await self.catalog.get()
        as_open = dict(source) | {"status": "open"}
        if not field_value(source, "contract_id", self.policy, catalog):
            as_open = self._with_contract_of(as_open, target, catalog)
        try:
            facts = await gather(as_open, self.policy, catalog, self.marketplace)
        except Exception as exc:  # the directory is down: the note still goes out
            log.warning("merge repair: directory unavailable (%s); ticket facts only", exc)
            facts = TicketFacts.model_validate({"ticket": {"id": int(source["id"])}})
        data = facts.model_dump(mode="json")
        data["ticket"]["status"] = "open"
        inquiry = data.get("inquiry")
        if inquiry not in ("follow_up", "change_terms", "payment_refusal", "chargeback_threat"):
            data["inquiry"] = "follow_up"
        data["linked_mediation_ticket"] = {"id": int(target["id"]), "status": target.get("status")}
        data["merge"] = None
        data["zendesk_subdomain"] = self.zendesk_subdomain
        decision = decide(TicketFacts.model_validate(data), self.policy, today)
        notes = [n.body for n in decision.notes if n.ticket_id == int(target["id"])]
        if not notes and decision.path == "with_mediation_reassign":
            notes = [n.body for n in decision.notes]
        return "\n\n".join(notes), decision.path

    def _with_contract_of(
        self, ticket: dict[str, Any], other: dict[str, Any], catalog: ZendeskCatalog
    ) -> dict[str, Any]:
        title = self.policy.ticket_fields.get("contract_id")
        value = field_value(other, "contract_id", self.policy, catalog)
        if not title or not value:
            return ticket
        field_id = catalog.field(title).id
        fields = [f for f in ticket.get("custom_fields") or [] if int(f["id"]) != field_id]
        return ticket | {"custom_fields": [*fields, {"id": field_id, "value": value}]}

    async def _requester(self, ticket: dict[str, Any], priority: Priority) -> str:
        requester_id = ticket.get("requester_id")
        if not requester_id:
            return "unknown"
        try:
            user = await self.zendesk.get_user(int(requester_id), priority=priority)
        except ZendeskError:
            return f"user #{requester_id}"
        email = f", {user['email']}" if user.get("email") else ""  # no <>: notes may be HTML
        return f"{user.get('name') or 'unnamed'}{email} (user #{requester_id})"

    def _into_note(
        self, source: dict[str, Any], requester: str, follow_up: str, reopen: bool
    ) -> str:
        source_id = int(source["id"])
        macro = self.policy.macros["default"]
        lines = [
            f"MERGE REPAIR: ticket #{source_id} ({self._url(source_id)}) was merged into this "
            "Mediation ticket in Zendesk. Merging into Dispute / Mediation tickets is not "
            f'allowed (the tag-only macro "{macro}" should have been used), and a merge cannot '
            "be undone, so Triage applied the follow-up flow here instead.",
            f"Requester of #{source_id}: {requester}",
            f"Subject: {excerpt(source.get('subject'), 200) or '(none)'}",
            f"Content: {excerpt(source.get('description'))}",
        ]
        if reopen:  # the merge put the user's update on it: it must be seen
            lines.append("This Mediation ticket was solved: it is reopened for the update.")
        if follow_up:
            lines += ["", follow_up]
        return "\n".join(lines)

    async def _existing_restore(self, source_id: int, priority: Priority) -> int | None:
        external_id = RESTORE_EXTERNAL_ID.format(source_id=source_id)
        async for ticket in self.zendesk.paginate(
            "/tickets", "tickets", {"external_id": external_id}, priority=priority
        ):
            if ticket.get("external_id") == external_id:
                return int(ticket["id"])
        return None

    async def _create_restore(
        self, source: dict[str, Any], target: dict[str, Any], priority: Priority
    ) -> int:
        source_id, target_id = int(source["id"]), int(target["id"])
        comments = await self.zendesk.list_comments(source_id, priority=priority)
        note = "\n".join(
            [
                f"RESTORED MEDIATION TICKET: #{source_id} ({self._url(source_id)}) was merged "
                f"into #{target_id} ({self._url(target_id)}) in Zendesk, which closed it. A "
                "merge cannot be undone, so Triage created this ticket to carry the mediation "
                f"case on: same requester, group, form, fields and tags as #{source_id}.",
                "Do not merge Dispute / Mediation tickets; use the tag-only macro instead.",
                f"Last comments of #{source_id}:",
                quote(comments),
            ]
        )
        tags = set(source.get("tags") or []) - {"closed_by_merge"}
        ticket: dict[str, Any] = {k: source[k] for k in _COPIED if source.get(k) is not None}
        ticket |= {
            "subject": f"{source.get('subject') or 'Mediation case'} (restored #{source_id})",
            "comment": {"body": note, "public": False},
            "status": "open",
            "tags": sorted(tags | {RESTORED_TAG, ALERT_TAG}),
            "custom_fields": [
                {"id": f["id"], "value": f.get("value")}
                for f in source.get("custom_fields") or []
                if f.get("value") not in (None, "", [])
            ],
            "external_id": RESTORE_EXTERNAL_ID.format(source_id=source_id),
            "via_followup_source_id": source_id,
        }
        body = await self.zendesk.create_ticket(ticket, priority=priority)
        created = body["ticket"]
        await self.loops.remember_write(int(created["id"]), created.get("updated_at"))
        return int(created["id"])

    async def _note_target(
        self,
        source: dict[str, Any],
        target: dict[str, Any],
        restored_id: int,
        outcome: RepairOutcome,
        priority: Priority,
    ) -> None:
        """Tell the agents on the merge target where the mediation case went."""
        source_id, target_id = int(source["id"]), int(target["id"])
        marker = AWAY_MARKER.format(source_id=source_id)
        for _ in range(MAX_ATTEMPTS):
            if marker in (target.get("tags") or []):
                return
            if str(target.get("status") or "").lower() == "closed":
                return
            note = (
                f"MERGE REPAIR: Mediation ticket #{source_id} was merged into this ticket, "
                "which closed it. Triage restored it as "
                f"#{restored_id} ({self._url(restored_id)}); the mediation case continues "
                "there. Do not merge Dispute / Mediation tickets; use the tag-only macro instead."
            )
            changes = {
                "comment": {"body": note, "public": False},
                "tags": sorted(set(target.get("tags") or []) | {marker, ALERT_TAG}),
            }
            try:
                await self._write(
                    target, changes, ["merge repair: note on the merge target"], outcome, priority
                )
                return
            except Conflict:
                target = (await self.zendesk.get_ticket(target_id, priority=priority))["ticket"]
        raise Conflict(409, {"error": "DatabaseConflict"}, None, "PUT", f"/tickets/{target_id}")
