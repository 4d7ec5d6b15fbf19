"""Serve the sandbox over real HTTP: in a background thread, or blocking for the CLI."""

from __future__ import annotations

from typing import Self

import uvicorn

from app.core.serving import StartStop, ThreadedServer
from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxState


class SandboxServer(StartStop):
    """`with SandboxServer() as sandbox:` (or `async with`) -> uvicorn on `sandbox.url`.

    Binds `host:port` (port 0 = a free one) when entered, serves from a daemon
    thread (the one threaded runner, `app/core/serving.py`), and returns only once
    `/_sandbox/health` answers. On exit, requests held by timeout faults are
    released and the server stops.
    """

    def __init__(
        self,
        state: SandboxState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
    ) -> None:
        self.state = state if state is not None else SandboxState()
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self._server: ThreadedServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        server = ThreadedServer(
            create_sandbox_app(self.state),
            host=self.host,
            port=self.port,
            startup_timeout=self.startup_timeout,
            lifespan="off",
            ready_path="/_sandbox/health",
            name="sandbox",
            log_level="warning",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self.port = server.port
        self.state.base_url = self.url
        self._server = server.start()
        return self

    def stop(self) -> None:
        self.state.faults.release()
        if self._server is not None:
            self._server.stop()
        self._server = None


def run_sandbox(
    host: str = "127.0.0.1", port: int = 8081, state: SandboxState | None = None
) -> None:
    """Serve the sandbox until interrupted (`python -m app sandbox --port N`)."""
    state = state if state is not None else SandboxState()
    state.base_url = f"http://{host}:{port}"
    uvicorn.run(create_sandbox_app(state), host=host, port=port, lifespan="off", ws="none")
