"""Prometheus metrics, one registry per app instance (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


def timer_metrics(registry: CollectorRegistry) -> tuple[Counter, Gauge]:
    """The case clock's: deadlines fired, and timers due whose re-decision is not done."""
    fired = Counter(
        "triage_timers_fired_total", "Deadlines whose timer fired a re-decision", registry=registry
    )
    overdue = Gauge(
        "triage_timers_overdue",
        "Timers due whose re-decision has not finished (none fired, or still queued)",
        registry=registry,
    )
    return fired, overdue


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "triage_webhook_events_total", "Webhook requests by outcome", ["outcome"], registry=r
        )
        self.rejected = Counter(
            "triage_webhook_rejected_total",
            "Webhook requests refused, by reason",
            ["reason"],
            registry=r,
        )
        self.decisions = Counter(
            "triage_decisions_total",
            "Decisions by queue and eligibility code",
            ["queue", "eligibility"],
            registry=r,
        )
        self.processed = Counter(
            "triage_events_processed_total", "Worker results by outcome", ["outcome"], registry=r
        )
        self.dead_letters = Counter(
            "triage_dead_letters_total", "Events dead-lettered", ["reason"], registry=r
        )
        self.zendesk_calls = Counter(
            "triage_zendesk_calls_total",
            "Zendesk API calls",
            ["endpoint", "method", "status"],
            registry=r,
        )
        self.zendesk_seconds = Histogram(
            "triage_zendesk_call_seconds", "Zendesk API call latency", ["endpoint"], registry=r
        )
        self.latency = Histogram(
            "triage_processing_seconds",
            "Time from webhook receipt to done",
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.queue_depth = Gauge(
            "triage_queue_depth", "Events by status in the store", ["status"], registry=r
        )
        self.oldest_age = Gauge(
            "triage_queue_oldest_pending_seconds", "Age of the oldest pending event", registry=r
        )
        self.timers_fired, self.timers_overdue = timer_metrics(r)
        self.reconcile_sweeps = Counter(
            "triage_reconcile_sweeps_total", "Reconciliation sweeps started", registry=r
        )
        self.reconcile_queued = Counter(
            "triage_reconcile_queued_total",
            "Tickets the reconciliation sweep queued (no webhook had brought them)",
            registry=r,
        )
        # bound once: `labels()` validates and locks on every call (the webhook's hot path)
        self._accepted = self.events.labels("accepted")
        self._duplicate = self.events.labels("duplicate")

    def webhook_accepted(self, *, duplicate: bool) -> None:
        (self._duplicate if duplicate else self._accepted).inc()

    def webhook_rejected(self, reason: str) -> None:
        self.events.labels("rejected").inc()
        self.rejected.labels(reason).inc()

    def zendesk_call(self, endpoint: str, method: str, status: int | None, seconds: float) -> None:
        self.zendesk_calls.labels(endpoint, method, str(status or "error")).inc()
        self.zendesk_seconds.labels(endpoint).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
