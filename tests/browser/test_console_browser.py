"""The ops console in a real headless Chromium (the distribution's `chromium`, driven
by Playwright's Python API), against the service and the sandbox Zendesk on loopback.

Skips with the reason when no Chromium or no Playwright is installed
(`.ci/install-browser` installs the distribution's package). With
CONSOLE_SCREENSHOTS=1 the walk-through also writes docs/img/console-*.png.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli.demo_cases import hourly_case
from app.core.serving import ThreadedServer
from app.routing import default_policy_path
from tests.browser.conftest import VIEWER
from tests.e2e.conftest import ADMIN, create_case, event_status, send, ticket_writes, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright's Python package is not installed"
)
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"no Chromium at {CHROMIUM} (run .ci/install-browser, or set CHROMIUM_PATH)",
        allow_module_level=True,
    )

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
TODAY = datetime.now(UTC).date()
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def shot(page: Any, name: str) -> None:
    if os.environ.get("CONSOLE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


def log_in(page: Any, base: str, token: str, name: str | None = None) -> None:
    page.goto(f"{base}/console/inbox")
    assert "/console/login" in page.url  # no session: the login
    page.fill("#token", token)
    if name:
        shot(page, name)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/inbox$"))


def webhook(api: httpx.Client, ticket: dict[str, Any]) -> int:
    answer = send(api, {"ticket_id": str(ticket["id"]), "updated_at": ticket["updated_at"]})
    assert answer.status_code == 200, answer.text
    event_id: int = answer.json()["event_id"]
    return event_id


def window_policy(days: int) -> str:
    text = default_policy_path().read_text()
    changed, count = re.subn(
        r"^(\s+mediation:\s+)30\b", rf"\g<1>{days}", text, count=1, flags=re.MULTILINE
    )
    assert count == 1
    return changed


def expect(locator: Any) -> Any:
    return playwright_api.expect(locator)


playwright_api.expect.set_options(timeout=WAIT_MS)


def test_log_in_find_a_ticket_read_its_reasons_and_dry_run_a_replay(
    page: Any, service: ThreadedServer, api: httpx.Client, zd: httpx.Client
) -> None:
    decided = create_case(zd, hourly_case(TODAY, "C-10", days_since_payment=10))
    event_id = webhook(api, decided)
    wait_for(lambda: event_status(api, event_id) == "done", what="event done")
    later = create_case(zd, hourly_case(TODAY, "C-11", days_since_payment=12))
    fresh = create_case(zd, hourly_case(TODAY, "C-12", days_since_payment=14))  # no webhook

    log_in(page, service.url, ADMIN, "login")
    expect(page.locator("#events")).to_contain_text(str(decided["id"]))
    expect(page.locator("#events tr[data-event]")).to_have_count(1)
    page.evaluate("window.stillThisPage = true")
    late = webhook(api, later)  # the inbox refreshes itself: the new event shows up
    expect(page.locator(f"#events tr[data-event='{late}']")).to_be_visible()
    assert page.evaluate("window.stillThisPage") is True  # no reload: the live refresh
    shot(page, "inbox")

    page.fill("header input[name=ticket_id]", str(decided["id"]))
    page.press("header input[name=ticket_id]", "Enter")
    page.wait_for_url(re.compile(rf".*/console/tickets/{decided['id']}$"))
    decision = page.locator(".decision").first
    expect(decision).to_contain_text("Mediation_Tier_1_CX420")
    reasons = decision.locator("ol.reasons li")
    assert reasons.count() >= 3
    assert any("Eligibility" in text for text in reasons.all_inner_texts())
    assert decision.locator("pre.note").first.inner_text().strip()
    zendesk = page.get_by_text("open in Zendesk")
    assert zendesk.get_attribute("href", timeout=WAIT_MS) == (
        f"{zd.base_url}/agent/tickets/{decided['id']}".replace("//agent", "/agent")
    )
    shot(page, "ticket")

    wait_for(lambda: event_status(api, late) == "done", what="second event done")
    zd.delete("/_sandbox/requests").raise_for_status()
    page.goto(f"{service.url}/console/tickets/{fresh['id']}")
    page.click("#dry-run")
    result = page.locator("#dry-run-result")
    expect(result).to_contain_text("write(s) would be made")
    expect(result).to_contain_text("safe_update")
    shot(page, "dry-run")
    assert ticket_writes(zd, fresh["id"]) == 0  # the dry run wrote nothing


def test_retry_a_dead_letter_after_seeing_the_count(
    page: Any, service: ThreadedServer, api: httpx.Client, zd: httpx.Client
) -> None:
    ticket = create_case(zd, hourly_case(TODAY))
    zd.post(
        "/_sandbox/faults",
        json={"rules": [{"method": "PUT", "path_prefix": "/api/v2/tickets", "status": 422}]},
    ).raise_for_status()
    event_id = webhook(api, ticket)
    wait_for(lambda: event_status(api, event_id) == "dead", what="dead letter")
    zd.delete("/_sandbox/faults").raise_for_status()

    log_in(page, service.url, ADMIN)
    page.goto(f"{service.url}/console/dead-letters")
    row = page.locator("#dead-letters tbody tr", has_text=str(ticket["id"]))
    expect(row.locator(".reason")).to_contain_text("permanent")
    row.locator("input[name=ids]").check()
    expect(page.locator("#selected-count")).to_have_text("1")
    shot(page, "dead-letters")
    page.get_by_role("button", name="Retry selected").click()
    expect(page.locator("h1")).to_have_text("Retry 1 dead letter?")
    assert event_status(api, event_id) == "dead"  # nothing happened before the confirmation
    shot(page, "dead-letters-confirm")
    page.click("#confirm")
    expect(page.get_by_role("status")).to_have_text("Retried 1 of 1 dead letters.")
    wait_for(lambda: event_status(api, event_id) == "done", what="retried event done")


def test_run_a_policy_diff(
    page: Any, service: ThreadedServer, api: httpx.Client, zd: httpx.Client
) -> None:
    paid_25 = create_case(zd, hourly_case(TODAY, "C-25", days_since_payment=25))
    paid_10 = create_case(zd, hourly_case(TODAY, "C-10", days_since_payment=10))
    events = [webhook(api, paid_25), webhook(api, paid_10)]
    wait_for(lambda: all(event_status(api, e) == "done" for e in events), what="both done")

    log_in(page, service.url, ADMIN)
    page.goto(f"{service.url}/console/policy")
    expect(page.locator("#check-config")).to_contain_text("names found in Zendesk")
    candidate = window_policy(20)
    page.set_input_files(
        "#policy-file",
        files=[{"name": "candidate.yaml", "mimeType": "text/yaml", "buffer": candidate.encode()}],
    )
    expect(page.locator("#policy-yaml")).to_have_value(candidate)  # the upload, read in
    page.get_by_role("button", name="Show the shadow diff").click()
    table = page.locator("#diff-table")
    # the queue row of the ticket paid 25 days ago (its notes row names both queues too)
    moved = table.get_by_role("row", name=f"{paid_25['id']} queue")
    expect(moved).to_contain_text("Client Retention Tier 2")
    expect(moved).to_contain_text("Mediation_Tier_1_CX420")
    expect(table).to_contain_text(str(paid_25["id"]))
    shot(page, "policy")


def test_replay_progress_updates_itself_and_health_and_audit_show(
    page: Any, service: ThreadedServer, api: httpx.Client, zd: httpx.Client
) -> None:
    tickets = [create_case(zd, hourly_case(TODAY, f"C-{n}")) for n in (31, 32)]
    log_in(page, service.url, ADMIN)
    page.goto(f"{service.url}/console/replays")
    expect(page.locator("#replays")).to_contain_text("No replays yet")
    page.fill("input[name=ticket_ids]", ", ".join(str(t["id"]) for t in tickets))
    page.get_by_role("button", name="Start replay").click()
    page.wait_for_url(re.compile(r".*/console/replays$"))
    bar = page.locator("#replays [role=progressbar]").first
    expect(bar).to_have_attribute("aria-valuenow", "100")
    page.evaluate("window.stillThisPage = true")
    started = api.post("/admin/replay", json={"ticket_ids": [tickets[0]["id"]]})
    assert started.status_code == 202, started.text
    # started elsewhere: the page shows it without a reload
    expect(page.locator(f"#replays tr[data-replay='{started.json()['id']}']")).to_be_visible()
    assert page.evaluate("window.stillThisPage") is True
    shot(page, "replays")

    page.goto(f"{service.url}/console/health")
    expect(page.locator("#budget")).to_contain_text("account")
    expect(page.locator("#workers")).to_contain_text("this process")
    shot(page, "health")

    page.goto(f"{service.url}/console/audit")
    expect(page.locator("#audit")).to_contain_text("replay.start")
    expect(page.locator("#audit")).to_contain_text("login")
    shot(page, "audit")


def test_a_viewer_cannot_act(page: Any, service: ThreadedServer, api: httpx.Client) -> None:
    log_in(page, service.url, VIEWER)
    expect(page.locator("header")).to_contain_text("viewer (read-only)")
    page.goto(f"{service.url}/console/tickets/424242")
    button = page.locator("#replay-form button")
    expect(button).to_be_disabled()
    page.eval_on_selector("#replay-form button", "b => { b.disabled = false; }")
    with page.expect_response(re.compile(r".*/tickets/424242/replay$")) as answer:
        button.click()
    assert answer.value.status == 403
    expect(page.locator("[role=alert]")).to_contain_text("read_only")
    page.goto(f"{service.url}/console/dead-letters")
    expect(page.get_by_role("button", name="Retry selected")).to_be_disabled()
    assert api.get("/admin/events").json()["events"] == []  # nothing was queued


def test_a_form_without_its_csrf_token_is_refused(
    page: Any, service: ThreadedServer, api: httpx.Client
) -> None:
    log_in(page, service.url, ADMIN)
    page.goto(f"{service.url}/console/tickets/424242")
    page.eval_on_selector("#replay-form input[name=csrf]", "field => field.remove()")
    with page.expect_response(re.compile(r".*/tickets/424242/replay$")) as answer:
        page.locator("#replay-form button").click()
    assert answer.value.status == 403
    expect(page.locator("[role=alert]")).to_contain_text("csrf_failed")
    assert api.get("/admin/events").json()["events"] == []
