"""A fake Zendesk (and marketplace directory) over real HTTP, for demos and tests.

    from app.sandbox import create_sandbox_app, SandboxState, SandboxServer

    with SandboxServer() as sandbox:          # uvicorn on 127.0.0.1, a free port
        httpx.get(f"{sandbox.url}/api/v2/groups", auth=("me@x/token", "t"))
        sandbox.state.ticket(5100001)         # the stored ticket, for assertions

Never used by production code paths.
"""

from app.sandbox.app import create_sandbox_app
from app.sandbox.server import SandboxServer, run_sandbox
from app.sandbox.state import SandboxState

__all__ = ["SandboxServer", "SandboxState", "create_sandbox_app", "run_sandbox"]
