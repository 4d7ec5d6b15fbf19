"""Keep the garbage collector off the request path of a long-running process.

Everything built at start-up (routes, policy, Zendesk catalog, SQLAlchemy and
pydantic caches: hundreds of thousands of objects) lives as long as the
process, yet every full collection walks it again: on a busy webhook endpoint
that showed as 60-70 ms stalls and a third of the throughput (bench/ack.py).
`gc.freeze()` moves them to a generation the collector ignores; garbage made
later is collected as usual.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    gc.collect()  # do not freeze garbage that start-up left behind
    gc.freeze()
