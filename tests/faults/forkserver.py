"""A fork server for the kill loop: imports the service once, then forks a fresh
service process (`python -m app serve`, as far as the service can tell) per
request, so 20 incarnations do not pay 20 interpreter starts and imports.

Run as a script by `harness.ForkServer`. Protocol, one JSON line each way:
`{"args": [...], "env": {...}, "log": "/path"}` -> `{"pid": N}`. Children are
reaped by the kernel (SIGCHLD ignored), so a killed child vanishes at once.
Nothing here starts a thread or an event loop before forking.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any


def _child(request: dict[str, Any]) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 2)
        os.close(log)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.close(devnull)
        os.environ.update(request["env"])
        sys.argv = ["app", *request["args"]]
        from app.cli.main import main

        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os._exit(code)


def _warm_up() -> None:
    """What every start does that can be done once: imports (also those `serve`
    and uvicorn make lazily) and the first, slow, load of the shipped policy."""
    import uvicorn.lifespan.on
    import uvicorn.loops.auto
    import uvicorn.protocols.http.auto  # noqa: F401

    from app.routing import default_policy_path, load_policy

    load_policy(default_policy_path())


def serve() -> None:
    _warm_up()

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
