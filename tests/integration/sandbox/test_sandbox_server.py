"""SandboxServer: sync and async context managers, free ports, shared state."""

from __future__ import annotations

import threading

import httpx
import pytest

from app.sandbox import SandboxServer, SandboxState, create_sandbox_app
from tests.integration.sandbox.sandbox_helpers import AUTH, create_ticket


def test_sync_server_picks_a_free_port_and_answers() -> None:
    state = SandboxState()
    with SandboxServer(state) as sandbox:
        assert sandbox.url.startswith("http://127.0.0.1:") and sandbox.port > 0
        assert sandbox.state is state
        with httpx.Client(base_url=sandbox.url, auth=AUTH) as zd:
            ticket = create_ticket(zd)
        assert ticket["url"] == f"{sandbox.url}/api/v2/tickets/{ticket['id']}.json"
        assert state.ticket(ticket["id"])["subject"] == "Help"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sandbox.url}/_sandbox/health")


@pytest.mark.anyio
async def test_async_server_and_asgi_transport_answer_alike() -> None:
    async with SandboxServer() as sandbox:
        async with httpx.AsyncClient(base_url=sandbox.url, auth=AUTH) as zd:
            over_http = (await zd.get("/api/v2/ticket_forms.json")).json()
    transport = httpx.ASGITransport(app=create_sandbox_app())
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", auth=AUTH
    ) as zd:
        in_process = (await zd.get("/api/v2/ticket_forms")).json()
    names = [[f["name"] for f in body["ticket_forms"]] for body in (over_http, in_process)]
    assert names[0] == names[1] == ["Default Ticket Form", "Dispute Ticket Form - Escalate from CS"]


def test_state_is_readable_from_another_thread_while_serving() -> None:
    with SandboxServer() as sandbox, httpx.Client(base_url=sandbox.url, auth=AUTH) as zd:
        ticket = create_ticket(zd)
        stop = threading.Event()
        errors: list[Exception] = []

        def read() -> None:
            while not stop.is_set():
                try:
                    sandbox.state.ticket(ticket["id"])
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)
                    return

        reader = threading.Thread(target=read)
        reader.start()
        for i in range(30):
            zd.put(
                f"/api/v2/tickets/{ticket['id']}",
                json={"ticket": {"comment": {"body": f"n{i}", "public": False}}},
            )
        stop.set()
        reader.join()
        assert errors == []
        assert len(sandbox.state.ticket(ticket["id"])["comments"]) == 31


def test_servers_are_independent() -> None:
    with SandboxServer() as one, SandboxServer() as two:
        assert one.port != two.port
        with httpx.Client(base_url=one.url, auth=AUTH) as zd:
            create_ticket(zd)
        assert one.state.tickets.records() and not two.state.tickets.records()
