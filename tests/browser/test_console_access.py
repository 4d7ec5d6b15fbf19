"""Who reaches the console: a session is needed for every page, a bad or expired
cookie gets nothing, forms need their CSRF token, a viewer changes nothing, and
every action is in the audit log. Real HTTP against the service on loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.console import session as sessions
from app.core.serving import ThreadedServer
from tests.browser.conftest import VIEWER, csrf_of, login
from tests.e2e.conftest import ADMIN, send


def send_webhook(base_url: str, payload: dict[str, Any]) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        return send(client, payload)


PAGES = [
    "/console",
    "/console/inbox",
    "/console/inbox?fragment=1",
    "/console/tickets/1",
    "/console/tickets?ticket_id=1",
    "/console/dead-letters",
    "/console/replays",
    "/console/replays?fragment=1",
    "/console/policy",
    "/console/health",
    "/console/health?fragment=1",
    "/console/audit",
    "/console/static/console.js",
]
FORMS = [
    "/console/logout",
    "/console/tickets/1/dry-run",
    "/console/tickets/1/replay",
    "/console/dead-letters/retry",
    "/console/dead-letters/discard",
    "/console/replays",
    "/console/replays/x/resume",
    "/console/replays/x/cancel",
    "/console/policy/diff",
]
TOKENS = sessions.tokens_from([ADMIN], [VIEWER])


def bad_cookies() -> dict[str, str]:
    now = time.time()
    admin = sessions.fingerprint(ADMIN)
    good = sessions.issue(TOKENS, "admin", admin, now=now, minutes=5)
    other_key = sessions.tokens_from(["another-admin"], [])
    return {
        "garbage": "not-a-session",
        "expired": sessions.issue(TOKENS, "admin", admin, now=now - 3600, minutes=5),
        "forged": sessions.issue(other_key, "admin", admin, now=now, minutes=5),
        "tampered": good[:-2] + ("00" if not good.endswith("00") else "11"),
        "promoted viewer": sessions.issue(
            TOKENS, "viewer", sessions.fingerprint(VIEWER), now=now, minutes=5
        ).replace("viewer.", "admin.", 1),
        "unknown token": sessions.issue(
            TOKENS, "admin", sessions.fingerprint("gone"), now=now, minutes=5
        ),
    }


def test_every_page_redirects_to_the_login_and_every_form_answers_401(
    service: ThreadedServer,
) -> None:
    with httpx.Client(base_url=service.url, timeout=10) as client:
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/console/login"), path
        for path in FORMS:
            answer = client.post(path, data={"csrf": "x"})
            assert answer.status_code == 401, path
            assert answer.json()["error"] == "login_required"


@pytest.mark.parametrize("kind", sorted(bad_cookies()))
def test_nothing_is_reachable_with_a_bad_or_expired_cookie(
    service: ThreadedServer, kind: str
) -> None:
    cookie = bad_cookies()[kind]
    with httpx.Client(
        base_url=service.url, timeout=10, cookies={"console_session": cookie}
    ) as client:
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 303 and "/console/login" in answer.headers["location"]
        for path in FORMS:
            assert client.post(path, data={"csrf": "x"}).status_code == 401, path


def test_a_good_session_cookie_is_httponly_strict_and_expiring(service: ThreadedServer) -> None:
    with httpx.Client(base_url=service.url, timeout=10) as client:
        form = client.get("/console/login")
        answer = client.post("/console/login", data={"token": ADMIN, "csrf": csrf_of(form.text)})
    assert answer.status_code == 303
    header = next(
        h for h in answer.headers.get_list("set-cookie") if h.startswith("console_session=")
    )
    lowered = header.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "max-age=" in lowered
    assert "secure" not in lowered  # plain HTTP on loopback; set when served over HTTPS


def test_login_refuses_a_wrong_token_and_a_missing_login_csrf(service: ThreadedServer) -> None:
    with httpx.Client(base_url=service.url, timeout=10) as client:
        form = client.get("/console/login")
        wrong = client.post("/console/login", data={"token": "nope", "csrf": csrf_of(form.text)})
        assert wrong.status_code == 401 and "console_session" not in client.cookies
        no_csrf = client.post("/console/login", data={"token": ADMIN})
        assert no_csrf.status_code == 403 and no_csrf.json()["error"] == "csrf_failed"
        assert "console_session" not in client.cookies


def test_logging_out_revokes_the_cookie_for_every_copy_of_it(service: ThreadedServer) -> None:
    with login(service.url, ADMIN) as kept, login(service.url, ADMIN) as other:
        copy = kept.cookies["console_session"]
        page = kept.get("/console/inbox")
        assert page.status_code == 200
        out = kept.post("/console/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303
        with httpx.Client(
            base_url=service.url, timeout=10, cookies={"console_session": copy}
        ) as thief:
            stale = thief.get("/console/inbox")
            assert stale.status_code == 303 and "/console/login" in stale.headers["location"]
            assert thief.get("/console/login").status_code == 200, "the form, not a loop"
            assert thief.post("/console/dead-letters/retry", data={"csrf": "x"}).status_code == 401
        # another session of the same token lives on
        assert other.get("/console/inbox").status_code == 200


def test_an_address_with_ten_failed_logins_waits_and_others_do_not(
    service: ThreadedServer,
) -> None:
    with httpx.Client(base_url=service.url, timeout=10) as client:
        csrf = csrf_of(client.get("/console/login").text)
        wrong = [
            client.post("/console/login", data={"token": f"guess-{n}", "csrf": csrf}).status_code
            for n in range(10)
        ]
        assert wrong == [401] * 10
        # from now on even the right token is refused: a guess that hits is not told apart
        held = client.post("/console/login", data={"token": ADMIN, "csrf": csrf})
        assert held.status_code == 429 and held.json()["error"] == "too_many_failed_logins"
        assert 0 < int(held.headers["retry-after"]) <= 15 * 60 + 1
        assert "console_session" not in client.cookies
    # another address logs in as before (a loopback alias stands in for it)
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=service.url, timeout=10, transport=other) as client:
        csrf = csrf_of(client.get("/console/login").text)
        ok = client.post("/console/login", data={"token": ADMIN, "csrf": csrf})
        assert ok.status_code == 303 and "console_session" in client.cookies
        audit = client.get("/console/audit").text
    assert "too many failed logins" in audit and "unknown token" in audit


def test_forms_without_their_csrf_token_are_refused(service: ThreadedServer) -> None:
    with login(service.url, ADMIN) as client:
        for path in FORMS:
            answer = client.post(path, data={"token": "x"})
            assert answer.status_code == 403, path
            assert "csrf_failed" in answer.text
        other = client.post("/console/tickets/1/replay", data={"csrf": "0" * 40})
        assert other.status_code == 403


def test_a_viewer_sees_everything_and_changes_nothing(
    service: ThreadedServer, api: httpx.Client
) -> None:
    with login(service.url, VIEWER) as client:
        for path in PAGES:
            answer = client.get(path, follow_redirects=True)
            assert answer.status_code == 200 and "/login" not in str(answer.url), path
        page = client.get("/console/tickets/1")
        assert "read-only session" in page.text
        csrf = csrf_of(page.text)
        actions = ("/console/tickets/1/replay", "/console/dead-letters/retry", "/console/replays")
        for path in actions:
            answer = client.post(path, data={"csrf": csrf, "ids": "1", "confirmed": "yes"})
            assert answer.status_code == 403 and "read_only" in answer.text, path
    assert api.get("/admin/events").json()["events"] == []  # no replay was queued


def test_actions_are_audited_with_who_and_what(service: ThreadedServer) -> None:
    with login(service.url, VIEWER) as viewer:
        csrf = csrf_of(viewer.get("/console/inbox").text)
        assert viewer.post("/console/tickets/77/replay", data={"csrf": csrf}).status_code == 403
    with login(service.url, ADMIN) as admin:
        csrf = csrf_of(admin.get("/console/inbox").text)
        assert admin.post("/console/tickets/77/replay", data={"csrf": csrf}).status_code == 200
        audit = admin.get("/console/audit").text
    assert sessions.fingerprint(VIEWER) in audit and sessions.fingerprint(ADMIN) in audit
    assert "ticket 77" in audit and "ticket.replay" in audit and "refused" in audit
    assert ADMIN not in audit and VIEWER not in audit  # fingerprints, never the tokens


def test_reflected_values_are_escaped(service: ThreadedServer) -> None:
    with httpx.Client(base_url=service.url, timeout=10) as client:
        page = client.get("/console/login", params={"next": '/console/"><script>x()</script>'})
    assert page.status_code == 200
    assert "<script>x()" not in page.text and "&lt;script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self'
    assert page.headers["cache-control"] == "no-store"


def test_the_cookie_is_secure_when_served_over_https(service: ThreadedServer) -> None:
    # uvicorn takes the scheme from a TLS proxy on loopback (X-Forwarded-Proto)
    https = {"x-forwarded-proto": "https"}
    with httpx.Client(base_url=service.url, timeout=10, headers=https) as client:
        form = client.get("/console/login")
        # a Secure cookie: this client (plain HTTP underneath) would not send it back
        client.cookies.set("console_login", form.cookies["console_login"])
        answer = client.post("/console/login", data={"token": ADMIN, "csrf": csrf_of(form.text)})
    assert answer.status_code == 303, answer.text
    header = next(
        h for h in answer.headers.get_list("set-cookie") if h.startswith("console_session=")
    )
    assert "secure" in header.lower() and "samesite=strict" in header.lower()


def test_inbox_filters_by_time_range_status_and_ticket(service: ThreadedServer) -> None:
    answer = send_webhook(service.url, {"ticket_id": "987654"})
    assert answer.status_code == 200, answer.text
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    with login(service.url, VIEWER) as client:

        def rows(**params: str) -> str:
            page = client.get("/console/inbox", params=params)
            assert page.status_code == 200
            return page.text

        assert "/console/tickets/987654" in rows(since=f"{now - hour:%Y-%m-%dT%H:%M}")
        assert "/console/tickets/987654" not in rows(since=f"{now + hour:%Y-%m-%dT%H:%M}")
        assert "/console/tickets/987654" not in rows(until=f"{now - hour:%Y-%m-%dT%H:%M}")
        assert "/console/tickets/987654" in rows(ticket_id="987654")
        assert "/console/tickets/987654" not in rows(ticket_id="987655")
        assert "/console/tickets/987654" not in rows(status="discarded")
        assert client.get("/console/inbox", params={"since": "yesterday"}).status_code == 400


def test_replay_resume_or_cancel_when_not_possible_says_why(service: ThreadedServer) -> None:
    with login(service.url, ADMIN) as client:
        csrf = csrf_of(client.get("/console/replays").text)
        missing = client.post("/console/replays/nope-1/resume", data={"csrf": csrf})
        assert missing.status_code == 404 and "no replay nope-1" in missing.text
        idle = client.post("/console/replays/nope-1/cancel", data={"csrf": csrf})
        assert idle.status_code == 409 and "not running in this process" in idle.text
        future = client.post(
            "/console/replays", data={"csrf": csrf, "start": "2999-01-01T00:00", "end": ""}
        )
        assert future.status_code == 422 and "start is in the future" in future.text
        audit = client.get("/console/audit").text
    assert "replay.resume" in audit and "replay.cancel" in audit and "replay.start" in audit
