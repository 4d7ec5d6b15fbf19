"""The marketplace directory under /marketplace, seeded over HTTP or from Python."""

from __future__ import annotations

import httpx

from app.sandbox import SandboxServer

CONTRACT = {
    "id": "C-1",
    "type": "hourly",
    "status": "active",
    "client_username": "acme",
    "freelancer_username": "jo",
    "payments": [{"date": "2024-05-13", "kind": "hourly", "amount": "250.00"}],
}


def test_contract_seeded_over_http(zd: httpx.Client) -> None:
    assert zd.post("/_sandbox/marketplace/contracts", json=CONTRACT).status_code == 201
    response = zd.get("/marketplace/contracts/C-1")
    assert response.status_code == 200
    contract = response.json()
    assert {k: contract[k] for k in CONTRACT} == CONTRACT
    assert (
        contract["funds_in_escrow"],
        contract["refund_request"],
        contract["payment_past_due_days"],
    ) == ("0.00", None, 0)


def test_users_seeded_over_http_and_python(sandbox: SandboxServer, zd: httpx.Client) -> None:
    users = [
        {"username": "acme", "role": "client", "segment": "VSB"},
        {"username": "jo", "role": "freelancer", "badge": "Top Rated"},
    ]
    assert zd.post("/_sandbox/marketplace/users", json=users).status_code == 201
    sandbox.state.marketplace.add_user({"username": "kim", "role": "freelancer"})
    acme = zd.get("/marketplace/users/acme").json()
    assert (acme["role"], acme["segment"], acme["ndf"]) == ("client", "VSB", False)
    assert acme["profile_url"]
    kim = zd.get("/marketplace/users/kim").json()
    assert (kim["badge"], kim["ndf"]) == ("none", False)


def test_unknown_records_are_404_not_found(zd: httpx.Client) -> None:
    for path in ("/marketplace/contracts/nope", "/marketplace/users/nobody"):
        response = zd.get(path)
        assert (response.status_code, response.json()) == (404, {"error": "not_found"})


def test_python_seeding_and_invalid_records(sandbox: SandboxServer, zd: httpx.Client) -> None:
    sandbox.state.marketplace.add_contract({**CONTRACT, "id": "C-2"})
    assert zd.get("/marketplace/contracts/C-2").json()["id"] == "C-2"
    assert zd.post("/_sandbox/marketplace/users", json={"username": "x"}).status_code == 400
    assert zd.post("/_sandbox/marketplace/contracts", json={"type": "hourly"}).status_code == 400


def test_marketplace_needs_no_zendesk_credentials(sandbox: SandboxServer) -> None:
    sandbox.state.marketplace.add_contract(CONTRACT)
    with httpx.Client(base_url=sandbox.url) as anonymous:
        assert anonymous.get("/marketplace/contracts/C-1").status_code == 200
