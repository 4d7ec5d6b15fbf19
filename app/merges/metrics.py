"""Counters for merges, repairs and ping-pong, on the app's own registry.

`app/core/metrics.py` builds one registry per app instance; these counters are
registered on it once (`merge_metrics(services.metrics)`), so they appear on
`GET /metrics` next to the others.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from prometheus_client import Counter

from app.core.metrics import Metrics


@dataclass(frozen=True, slots=True)
class MergeMetrics:
    merges: Counter  # triage_merges_total{outcome=blocked|performed|failed|detected}
    repairs: Counter  # triage_merge_repairs_total{kind=merged_into_mediation|mediation_restored}
    pingpong: Counter  # triage_pingpong_stopped_total


_BY_METRICS: weakref.WeakKeyDictionary[Metrics, MergeMetrics] = weakref.WeakKeyDictionary()


def merge_metrics(metrics: Metrics) -> MergeMetrics:
    found = _BY_METRICS.get(metrics)
    if found is not None:
        return found
    registry = metrics.registry
    created = MergeMetrics(
        merges=Counter(
            "triage_merges_total",
            "Merges through the guard and merges detected in Zendesk, by outcome",
            ["outcome"],
            registry=registry,
        ),
        repairs=Counter(
            "triage_merge_repairs_total",
            "Repairs of merges that involved a Mediation ticket, by kind (an alert)",
            ["kind"],
            registry=registry,
        ),
        pingpong=Counter(
            "triage_pingpong_stopped_total",
            "Tickets the service stopped moving after a group ping-pong",
            registry=registry,
        ),
    )
    _BY_METRICS[metrics] = created
    return created
