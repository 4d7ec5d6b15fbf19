"""The structure's promises, through the running app and a real sandbox Zendesk:
one error body everywhere, and a guarded merge that leaves no guard key behind
when Zendesk fails the merge."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from app.core.settings import Settings, SettingsError, load_settings
from app.merges.service import GUARDED_KEY
from tests.integration.admin.admin_helpers import TestClient, services_of
from tests.integration.sandbox.sandbox_helpers import create_ticket


def _is_error_body(answer: httpx.Response, code: str) -> None:
    body = answer.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"].strip(), body


def test_every_error_has_the_one_body(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory()
    anonymous = client.get("/admin/events", headers={"authorization": ""})
    assert anonymous.status_code == 401
    _is_error_body(anonymous, "unauthorized")
    wrong = client.get("/admin/events", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 403
    _is_error_body(wrong, "forbidden")
    missing = client.post("/admin/dead-letters/424242/retry")
    assert missing.status_code == 404
    _is_error_body(missing, "not_found")
    assert "424242" in missing.json()["message"]
    invalid = client.get("/admin/events", params={"limit": 0})
    assert invalid.status_code == 422
    _is_error_body(invalid, "invalid_request")
    assert invalid.json()["message"].startswith("query.limit:")
    no_replay = client.get("/admin/replays/nope")
    assert no_replay.status_code == 404
    _is_error_body(no_replay, "not_found")


def test_a_failed_merge_clears_its_guard_keys(
    client_factory: Callable[..., TestClient], zd: httpx.Client
) -> None:
    client = client_factory()
    target, source = create_ticket(zd), create_ticket(zd)
    rule = {"method": "POST", "path_prefix": f"/api/v2/tickets/{target['id']}/merge"}
    # 422: an answer the client does not retry (a 5xx would be retried with backoff)
    assert zd.post("/_sandbox/faults", json={"rules": [rule | {"status": 422}]}).status_code == 201
    answer = client.post("/merges", json={"target_id": target["id"], "source_ids": [source["id"]]})
    assert answer.status_code == 502, answer.text
    _is_error_body(answer, "zendesk")
    services = services_of(client)
    assert client.portal is not None
    key = GUARDED_KEY.format(source_id=source["id"])
    assert not client.portal.call(services.store.get_kv, key)
    logged = client.get("/admin/merges", params={"kind": "failed"}).json()["merges"]
    assert [entry["source_ids"] for entry in logged] == [[source["id"]]]


def test_a_merge_that_went_through_keeps_its_guard_key(
    client_factory: Callable[..., TestClient], zd: httpx.Client
) -> None:
    client = client_factory()
    target, source = create_ticket(zd), create_ticket(zd)
    answer = client.post("/merges", json={"target_id": target["id"], "source_ids": [source["id"]]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["merged"] is True
    services = services_of(client)
    assert client.portal is not None
    key = GUARDED_KEY.format(source_id=source["id"])
    assert client.portal.call(services.store.get_kv, key) == str(target["id"])


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"ZENDESK_SUBDOMAIN": "evil.example/x?"}, "ZENDESK_SUBDOMAIN"),
        ({"ZENDESK_SUBDOMAIN": "acme.zendesk.com"}, "ZENDESK_SUBDOMAIN"),
        ({"ZENDESK_BASE_URL": "ftp://acme.example"}, "ZENDESK_BASE_URL"),
        ({"ZENDESK_BASE_URL": "https://acme.example/?next=evil"}, "ZENDESK_BASE_URL"),
    ],
)
def test_a_zendesk_target_that_could_name_another_host_is_refused(
    variables: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ZENDESK_SUBDOMAIN", "ZENDESK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZENDESK_EMAIL", "triage@example.com")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "t")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert named in str(refused.value)


def test_the_account_url_is_built_from_the_subdomain() -> None:
    settings = Settings(
        zendesk_subdomain="acme-2", zendesk_email="a@example.com", zendesk_api_token="t"
    )
    assert settings.zendesk_url == "https://acme-2.zendesk.com"
