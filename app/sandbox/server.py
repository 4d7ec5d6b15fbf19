"""Serve the sandbox over real HTTP: in a background thread, or blocking for the CLI."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType

import httpx
import uvicorn

from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxState


class SandboxServer:
    """`with SandboxServer() as sandbox:` (or `async with`) -> uvicorn on `sandbox.url`.

    Binds `host:port` (port 0 = a free one) when entered, serves from a daemon
    thread, and returns only once `/_sandbox/health` answers. On exit, requests
    held by timeout faults are released and the server stops.
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
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.state.base_url = self.url
        config = uvicorn.Config(
            create_sandbox_app(self.state),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            sock.close()
            raise
        return self

    def stop(self) -> None:
        self.state.faults.release()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def _wait_until_answering(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError(f"the sandbox on {self.url} failed to start")
            if self._server.started and _answers(f"{self.url}/_sandbox/health"):
                return
            time.sleep(0.01)
        raise TimeoutError(f"the sandbox on {self.url} did not answer in {self.startup_timeout}s")

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def run_sandbox(
    host: str = "127.0.0.1", port: int = 8081, state: SandboxState | None = None
) -> None:
    """Serve the sandbox until interrupted (`python -m app sandbox --port N`)."""
    state = state if state is not None else SandboxState()
    state.base_url = f"http://{host}:{port}"
    uvicorn.run(create_sandbox_app(state), host=host, port=port, lifespan="off", ws="none")
