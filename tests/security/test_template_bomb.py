"""Runaway policy templates (issue 16.3): refused at load, naming the template.

An admin token holder sent `POST /admin/policy/diff` a candidate policy whose
note template loops 10^10 times; the request never answered and the service
burned CPU long after the client left. Every render now runs under a hard
budget (`app/routing/bounded.py`), so such a template is refused when the
policy is loaded, before it can be used: at service start, in simulate and in
the diff. The timing bounds below are generous (refusals take milliseconds;
the bounds are seconds) so that a loaded 2-core machine cannot flake them;
the webhook p50 figure during an attempt is measured by bench/template_bomb.py.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import pytest

from app.routing import default_policy_path
from app.routing.policy import PolicyError
from app.routing.policy_loader import parse_policy
from tests.security.harness import InProcessService

NESTED_10_10 = "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"
BOMBS = {
    # the attack as reported: two nested loops of 10^5, 10^10 iterations
    "nested-loops-10^10": NESTED_10_10,
    # the same work with ranges under the range limit: 10^12 iterations
    "four-nested-loops": "{% for a in range(1000) %}" * 4 + "x" + "{% endfor %}" * 4,
    "exponential-macro": (
        "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(60) }}"
    ),
    "recursive-loop": "{% for i in range(3) recursive %}{{ loop(range(3)) }}{% endfor %}",
    "string-times-10^10": "{{ 'x' * 10000000000 }}",
    "huge-power": "{{ 9 ** 99999999 }}",
    "center-1e9": "{{ team|center(1000000000) }}",
    "ljust-1e9": "{{ team.ljust(1000000000) }}",
    "percent-width": "{{ '%999999999d' % 1 }}",
    "format-width": "{{ '{:>999999999}'.format(team) }}",
    "doubling-sets": "{% set a = team ~ team %}"
    + "".join(
        f"{{% set {n} = {p} ~ {p} ~ {p} ~ {p} ~ {p} ~ {p} ~ {p} ~ {p} ~ {p} ~ {p} %}}"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "{{ i }}",
    "replace-growth": "{{ ('x' * 10000)|replace('x', 'xxxxxxxxxx') }}",
    "join-growth": "{{ range(1000)|join('x' * 20000) }}",
    "output-flood": "{% for a in range(1000) %}{{ 'x' * 10000 }}{% endfor %}",
}
TEMPLATE = "notes.mediation_update"


def candidate(template: str) -> str:
    """The shipped policy with the `mediation_update` note replaced by `template`."""
    text = default_policy_path().read_text()
    start = text.index("  mediation_update: |\n")
    end = text.index("  # ", start + 1)
    body = f"  mediation_update: |\n    {template}\n"
    return text[:start] + body + text[end:]


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_bomb_refused_at_load_naming_the_template(bomb: str) -> None:
    started = time.monotonic()
    with pytest.raises(PolicyError) as refused:
        parse_policy(candidate(BOMBS[bomb]).encode(), "candidate.yaml")
    took = time.monotonic() - started
    assert TEMPLATE in str(refused.value)
    assert "template refused" in str(refused.value) or "template fails" in str(refused.value)
    assert refused.value.line is not None  # the file line of the template
    assert took < 5.0, f"{bomb} took {took:.1f} s to refuse"


def test_the_shipped_policy_and_ordinary_loops_stay_within_budget(tmp_path: Path) -> None:
    loop = "{% for word in details.split() %}{{ loop.index }}:{{ word }} {% endfor %}"
    policy = parse_policy(candidate(loop).encode(), "candidate.yaml")
    note = policy.render(("notes", "mediation_update"), _SAMPLE | {"details": "a b c"})
    assert note == "1:a 2:b 3:c"


_SAMPLE: dict[str, object] = {"team": "T", "contract_id": "C-1", "ticket_url": "u"}


def _cpu_seconds() -> float:
    return time.process_time()


def test_diff_with_the_bomb_answers_at_once_and_leaves_nothing_running(
    intake: InProcessService,
) -> None:
    """The reported attack over HTTP: 422 naming the template within seconds, then
    the service process is idle (no render left burning CPU), and webhooks were
    answered all along."""
    stop = threading.Event()
    latencies: list[float] = []

    def webhooks() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            sent = time.perf_counter()
            answer = intake.send_signed({"ticket_id": str(5_300_000 + n)})
            latencies.append(time.perf_counter() - sent)
            assert answer.status_code == 200

    sender = threading.Thread(target=webhooks, daemon=True)
    sender.start()
    try:
        started = time.monotonic()
        answer = intake.admin(
            "POST",
            "/admin/policy/diff",
            json={"policy_yaml": candidate(NESTED_10_10), "file_name": "bomb.yaml"},
        )
        took = time.monotonic() - started
    finally:
        stop.set()
        sender.join(timeout=30)
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["detail"]
    assert error["type"] == "invalid_policy" and TEMPLATE in error["msg"]
    assert "template refused" in answer.json()["message"]
    assert took < 5.0, f"the refusal took {took:.1f} s"
    assert latencies, "webhooks were answered while the candidate was checked"
    # idle afterwards: over 2 s, this whole process (service, sandbox, test) uses
    # far less than the 2 CPU-seconds a render still running would burn
    before = _cpu_seconds()
    time.sleep(2.0)
    assert _cpu_seconds() - before < 1.0
    print(
        f"refused in {took * 1000:.0f} ms; webhook p50 {statistics.median(latencies) * 1000:.1f} ms"
    )
