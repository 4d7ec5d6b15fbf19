"""Run an ASGI app under uvicorn in a background thread on loopback.

The one threaded runner: the demo, the sandbox server and the end-to-end tests
need real HTTP servers (the service and the sandbox) inside one Python process.
The socket is bound when the object is made, so `url` is known (and the port
held) before the server starts.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any, Literal, Self

import httpx
import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class StartStop:
    """`with` and `async with` for a server with blocking `start()` and `stop()`."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


class ThreadedServer(StartStop):
    """`with ThreadedServer(app) as server:` -> `server.url` answers until exit.

    `ready_path`: also wait until a GET of this path answers 200 (an app without
    a lifespan has no other sign of being ready). Other keyword arguments go to
    `uvicorn.Config`.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 30.0,
        lifespan: Literal["auto", "on", "off"] = "on",
        ready_path: str | None = None,
        name: str = "server",
        **uvicorn_options: Any,
    ) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        options: dict[str, Any] = {
            "log_config": None,
            "access_log": False,
            "timeout_graceful_shutdown": 5,
        } | uvicorn_options
        config = uvicorn.Config(app, lifespan=lifespan, **options)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"{name}-{self.port}",
            daemon=True,
        )
        self._ready_path = ready_path
        self._startup_timeout = startup_timeout

    def start(self) -> Self:
        self._thread.start()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while not (self._server.started and self._answers()):
            if not self._thread.is_alive():
                raise RuntimeError(f"server on {self.url} failed to start")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server on {self.url} did not start")
            time.sleep(0.02)

    def _answers(self) -> bool:
        if self._ready_path is None:
            return True
        try:
            return httpx.get(self.url + self._ready_path, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self._sock.close()
