"""Pure policy comparison: re-decide stored facts under two policies, report what moves.

    samples, problems = samples_from_records(store_records, as_of=None)
    report = diff_policies(samples, current=policy, candidate=candidate)
    report.changed  # one TicketDiff per ticket whose outcome differs

Both sides are decided here, on the same facts and the same day, so the report
shows what the *policy* changes (not what changed in the world since the
stored decision was made). No I/O, no clock, no settings: the admin endpoint
reads the store and the candidate file and hands them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args

from pydantic import ValidationError

from app.routing import Decision, Policy, TicketFacts, decide
from app.store.base import DecisionRecord

# The parts of a decision an agent would see differ, in report order.
Aspect = Literal[
    "queue",
    "status",
    "eligible",
    "eligibility",
    "macro",
    "form",
    "fields",
    "tags",
    "notes",
    "merge",
    "deadlines",
]
ASPECTS: tuple[Aspect, ...] = get_args(Aspect)


@dataclass(frozen=True, slots=True)
class Sample:
    """Stored facts of one ticket and the day to decide them as of."""

    ticket_id: int
    facts: TicketFacts
    on: date
    decision_id: int | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A stored decision that could not be compared, and why."""

    ticket_id: int
    decision_id: int | None
    error: str

    def as_json(self) -> dict[str, Any]:
        return {"ticket_id": self.ticket_id, "decision_id": self.decision_id, "error": self.error}


@dataclass(frozen=True, slots=True)
class Change:
    aspect: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class TicketDiff:
    ticket_id: int
    decision_id: int | None
    on: date
    changes: tuple[Change, ...]
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def aspects(self) -> list[str]:
        return [c.aspect for c in self.changes]

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "decision_id": self.decision_id,
            "decided_as_of": self.on.isoformat(),
            "changed": self.aspects,
            "diff": {c.aspect: {"before": c.before, "after": c.after} for c in self.changes},
            "deadlines_moved": deadline_moves(self.before, self.after),
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True, slots=True)
class DiffReport:
    current: dict[str, str]
    candidate: dict[str, str]
    compared: int
    changed: list[TicketDiff] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return self.compared - len(self.changed)


def outcome(decision: Decision) -> dict[str, Any]:
    """What of a decision reaches the ticket, as plain JSON values, one key per aspect."""
    return {
        "queue": decision.queue,
        "status": decision.status,
        "eligible": decision.eligible,
        "eligibility": decision.eligibility.code,
        "macro": decision.macro,
        "form": decision.form,
        "fields": dict(sorted(decision.fields.items())),
        "tags": {"add": sorted(decision.tags.add), "remove": sorted(decision.tags.remove)},
        "notes": [{"ticket_id": n.ticket_id, "body": n.body} for n in decision.notes],
        "merge": decision.merge,
        "deadlines": {
            d.kind: {"due": d.due.isoformat(), "over": d.over} for d in decision.deadlines
        },
    }


def deadline_moves(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The clocks a candidate policy would move, start or stop (the timers it would re-arm)."""
    old, new = before.get("deadlines") or {}, after.get("deadlines") or {}
    moves = []
    for kind in sorted(set(old) | set(new)):
        was, will = old.get(kind), new.get(kind)
        if was != will:
            moves.append(
                {
                    "kind": kind,
                    "due_before": was and was["due"],
                    "due_after": will and will["due"],
                    "over_before": was and was["over"],
                    "over_after": will and will["over"],
                }
            )
    return moves


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Change, ...]:
    """The aspects (in `ASPECTS` order) whose values differ between two outcomes."""
    return tuple(
        Change(aspect, before.get(aspect), after.get(aspect))
        for aspect in ASPECTS
        if before.get(aspect) != after.get(aspect)
    )


def latest_per_ticket(records: Iterable[DecisionRecord]) -> list[DecisionRecord]:
    """The first record of each ticket, in the given (newest-first) order."""
    seen: set[int] = set()
    latest: list[DecisionRecord] = []
    for record in records:
        if record.ticket_id not in seen:
            seen.add(record.ticket_id)
            latest.append(record)
    return latest


def samples_from_records(
    records: Iterable[DecisionRecord], *, as_of: date | None, fallback_day: date
) -> tuple[list[Sample], list[Problem]]:
    """Stored facts -> samples, each decided as of `as_of`, else the day of its
    original decision (else `fallback_day`). Facts that no longer validate are problems."""
    samples: list[Sample] = []
    problems: list[Problem] = []
    for record in latest_per_ticket(records):
        day = as_of or (record.decided_at.date() if record.decided_at else fallback_day)
        try:
            facts = TicketFacts.model_validate(record.facts)
        except ValidationError as error:
            message = f"stored facts do not validate: {error.error_count()} error(s)"
            problems.append(Problem(record.ticket_id, record.id, message))
            continue
        samples.append(Sample(record.ticket_id, facts, day, record.id))
    return samples, problems


def diff_policies(samples: Sequence[Sample], *, current: Policy, candidate: Policy) -> DiffReport:
    """Decide every sample under both policies; keep the tickets whose outcome differs."""
    changed: list[TicketDiff] = []
    problems: list[Problem] = []
    for sample in samples:
        try:
            before = outcome(decide(sample.facts, current, sample.on))
            after = outcome(decide(sample.facts, candidate, sample.on))
        except Exception as error:  # one odd ticket must not hide the rest of the report
            problems.append(
                Problem(sample.ticket_id, sample.decision_id, f"{type(error).__name__}: {error}")
            )
            continue
        changes = compare(before, after)
        if changes:
            changed.append(
                TicketDiff(sample.ticket_id, sample.decision_id, sample.on, changes, before, after)
            )
    return DiffReport(
        current=_stamp(current),
        candidate=_stamp(candidate),
        compared=len(samples) - len(problems),
        changed=changed,
        problems=problems,
    )


def _stamp(policy: Policy) -> dict[str, str]:
    return {"name": policy.name, "version": policy.version}
