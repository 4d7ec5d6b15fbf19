"""Failed console logins per client address: after too many, the address waits.

A console token is long and random, so guessing it online is hopeless anyway;
the cap makes a guessing run visible and slow, and keeps it from filling the
audit log at network speed. State lives in the process (each replica counts its
own) and is pure: every call takes the time, so tests need no clock.
"""

from __future__ import annotations

from collections import OrderedDict, deque

WINDOW_SECONDS = 15 * 60
MAX_ADDRESSES = 10_000  # addresses tracked at once; the oldest is forgotten first


class LoginThrottle:
    def __init__(self, max_failures: int, window_seconds: float = WINDOW_SECONDS) -> None:
        self.max_failures = max_failures  # 0: no cap
        self.window = window_seconds
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def wait_seconds(self, address: str, now: float) -> int:
        """0 when `address` may try a login now; else how long until it may."""
        if self.max_failures <= 0:
            return 0
        recent = self._recent(address, now)
        if len(recent) < self.max_failures:
            return 0
        return max(1, int(recent[0] + self.window - now) + 1)

    def failed(self, address: str, now: float) -> None:
        if self.max_failures <= 0:
            return
        recent = self._recent(address, now)
        recent.append(now)
        while len(recent) > self.max_failures:
            recent.popleft()
        self._failures[address] = recent
        self._failures.move_to_end(address)
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)

    def _recent(self, address: str, now: float) -> deque[float]:
        recent = self._failures.get(address, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if not recent:
            self._failures.pop(address, None)
        return recent
