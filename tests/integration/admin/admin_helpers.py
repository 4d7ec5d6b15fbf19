"""Helpers of the admin integration tests (imported by name, like `sandbox_helpers`)."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from app.cli.demo import demo_settings
from app.core.settings import Settings
from app.routing import default_policy_path
from app.runtime.container import Services

with warnings.catch_warnings():
    # Starlette warns at import that it runs on httpx rather than httpx2.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = [
    "ADMIN",
    "SECRET",
    "ZD_AUTH",
    "TestClient",
    "admin_settings",
    "hourly_facts",
    "policy_text_with_mediation_window",
    "poll",
    "services_of",
]

ADMIN = "admin-test-token"
SECRET = "admin-test-secret"
ZD_AUTH = ("triage@example.com/token", "demo-token")


def admin_settings(sandbox_url: str, db: Path | str, **overrides: Any) -> Settings:
    return demo_settings(sandbox_url, f"sqlite:///{db}", secret=SECRET, admin=ADMIN, **overrides)


def services_of(client: TestClient) -> Services:
    """The running app's `Services` (call its async methods with `client.portal.call`)."""
    return cast(Services, client.app.state.services)  # type: ignore[attr-defined]


def poll(
    fetch: Callable[[], dict[str, Any]],
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 15.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s; last value: {value}")
        time.sleep(0.05)


def hourly_facts(ticket_id: int, today: date, days_since_payment: int) -> dict[str, Any]:
    """Ticket facts (docs/design.md) of a plain hourly dispute, paid `days_since_payment` ago."""
    paid = (today - timedelta(days=days_since_payment)).isoformat()
    return {
        "ticket": {"id": ticket_id, "channel": "web", "status": "new"},
        "requester_role": "client",
        "inquiry": "dispute",
        "contract": {
            "id": f"C-{ticket_id}",
            "type": "hourly",
            "status": "closed",
            "payments": [{"date": paid, "kind": "hourly", "amount": "100.00"}],
        },
        "client": {"username": "acme", "segment": "VSB"},
        "freelancer": {"username": "jo", "badge": "none"},
        "dispute": {"reasons": ["Manual Time"]},
    }


def policy_text_with_mediation_window(days: int) -> str:
    """The shipped policy file with only `windows.mediation` changed."""
    text = default_policy_path().read_text()
    changed, count = re.subn(
        r"^(\s+mediation:\s+)30\b", rf"\g<1>{days}", text, count=1, flags=re.MULTILINE
    )
    assert count == 1, "the shipped policy no longer has `mediation: 30` under windows"
    return changed
