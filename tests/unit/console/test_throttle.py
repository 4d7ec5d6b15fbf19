"""Failed console logins per address: the cap, the window, a success, no cap."""

from __future__ import annotations

import pytest

from app.console.throttle import MAX_ADDRESSES, WINDOW_SECONDS, LoginThrottle

A, B = "10.0.0.1", "10.0.0.2"


def fail(throttle: LoginThrottle, address: str, times: int, at: float = 0.0) -> None:
    for _ in range(times):
        throttle.failed(address, at)


@pytest.mark.parametrize(
    ("failures", "waits"),
    [(0, False), (1, False), (9, False), (10, True), (25, True)],
)
def test_an_address_waits_once_it_reaches_the_cap(failures: int, waits: bool) -> None:
    throttle = LoginThrottle(10)
    fail(throttle, A, failures)
    assert (throttle.wait_seconds(A, 1.0) > 0) is waits
    assert throttle.wait_seconds(B, 1.0) == 0, "other addresses are not held"


def test_the_wait_ends_when_the_oldest_failure_leaves_the_window() -> None:
    throttle = LoginThrottle(3)
    throttle.failed(A, 0.0)
    throttle.failed(A, 100.0)
    throttle.failed(A, 200.0)
    assert throttle.wait_seconds(A, 200.0) == WINDOW_SECONDS + 1 - 200
    assert throttle.wait_seconds(A, WINDOW_SECONDS - 1) == 2
    assert throttle.wait_seconds(A, WINDOW_SECONDS) == 0  # the first one is out
    throttle.failed(A, WINDOW_SECONDS)
    assert throttle.wait_seconds(A, WINDOW_SECONDS) > 0


def test_a_success_clears_the_address() -> None:
    throttle = LoginThrottle(3)
    fail(throttle, A, 2)
    throttle.succeeded(A)
    fail(throttle, A, 2)
    assert throttle.wait_seconds(A, 0.0) == 0


def test_zero_means_no_cap() -> None:
    throttle = LoginThrottle(0)
    fail(throttle, A, 1000)
    assert throttle.wait_seconds(A, 0.0) == 0


def test_memory_is_bounded_by_the_addresses_tracked() -> None:
    throttle = LoginThrottle(2)
    fail(throttle, "first", 2)
    for n in range(MAX_ADDRESSES):
        throttle.failed(f"192.0.2.{n}", 0.0)
    assert throttle.wait_seconds("first", 0.0) == 0, "the oldest address was forgotten"
    fail(throttle, "last", 2)
    assert throttle.wait_seconds("last", 0.0) > 0
