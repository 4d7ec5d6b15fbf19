"""What the pages show, computed from stored records: pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.store import DecisionRecord

STEP_OUTCOMES = {"skip": "skipped", "pass": "passed", "fail": "failed"}


@dataclass(frozen=True, slots=True)
class Reason:
    step: str
    outcome: str
    why: str

    @property
    def sentence(self) -> str:
        """`Contract check passed: the contract is active.`"""
        step = self.step.replace("_", " ").strip().capitalize() or "Step"
        outcome = STEP_OUTCOMES.get(self.outcome, self.outcome.replace("_", " "))
        why = self.why.strip()
        return f"{step} {outcome}" + (f": {why}" if why else ".")


def reasons(decision: dict[str, Any]) -> list[Reason]:
    """The decision's trace as readable reasons, in the order they were taken."""
    steps = decision.get("trace") or []
    return [
        Reason(str(s.get("step", "")), str(s.get("outcome", "")), str(s.get("why", "")))
        for s in steps
        if isinstance(s, dict)
    ]


def notes(decision: dict[str, Any]) -> list[str]:
    """The internal notes' bodies, as the agent reads them in Zendesk."""
    return [str(n.get("body", "")) for n in decision.get("notes") or [] if isinstance(n, dict)]


def deadlines(record: DecisionRecord) -> list[tuple[str, str]]:
    """Running deadlines recorded with the decision (name, when), if any."""
    found: list[tuple[str, str]] = []
    for source in (record.decision, record.facts):
        for key, value in source.items():
            if "deadline" not in key.lower() or value in (None, "", [], {}):
                continue
            if isinstance(value, dict):
                found.extend((f"{key}.{k}", str(v)) for k, v in value.items() if v)
            elif isinstance(value, list):
                found.extend((key, str(v)) for v in value)
            else:
                found.append((key, str(value)))
    return found


COUNT_CAP = 100_000  # counting further costs a walk of the whole index per page view


def count_labels(counts: dict[str, int], cap: int = COUNT_CAP) -> dict[str, str]:
    """`{"done": "100,000+", "dead": "12"}` for counts made with `cap`."""
    return {k: f"{cap:,}+" if n > cap else f"{n:,}" for k, n in counts.items()}


def write_lines(writes: list[dict[str, Any]]) -> list[str]:
    """One line per change of every write (planned and made)."""
    lines: list[str] = []
    for write in writes:
        summary = write.get("summary")
        if isinstance(summary, list) and summary:
            lines.extend(str(line) for line in summary)
    return lines


def zendesk_ticket_url(zendesk_url: str, ticket_id: int) -> str:
    return f"{zendesk_url.rstrip('/')}/agent/tickets/{ticket_id}"


def replay_percent(progress: dict[str, Any], now: datetime) -> int | None:
    """How far a replay got: ids handled, or time covered; None when unknown."""
    if progress.get("status") == "done":
        return 100
    total = progress.get("ticket_ids")
    if progress.get("mode") == "ticket_ids" and isinstance(total, int) and total > 0:
        return min(100, int(100 * int(progress.get("position") or 0) / total))
    start, end, reached = (_moment(progress.get(k)) for k in ("start", "end", "reached"))
    if start is None:
        return None
    end = end or now
    if reached is None or end <= start:
        return 0
    covered = (min(reached, end) - start).total_seconds() / (end - start).total_seconds()
    return max(0, min(99, int(100 * covered)))


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def parse_local(value: str) -> datetime | None:
    """A `datetime-local` form value (read as UTC), or None when empty."""
    value = value.strip()
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def ids_of(values: list[str], limit: int = 500) -> list[int]:
    """Positive integer ids from form values; junk is dropped."""
    ids: list[int] = []
    for value in values:
        for part in value.replace(",", " ").split():
            if part.isdigit() and 0 < int(part) < 2**63 and int(part) not in ids:
                ids.append(int(part))
    return ids[:limit]
