"""The cause of a network failure in a few words, for one-line errors and /readyz.

Walks an exception's chain (`__cause__`, `__context__`) down to what the operating system
said: `name not resolved`, `connection refused`, `timed out`, `TLS: ...`. Standard library
only: the HTTP libraries' errors are recognised by the OS errors they wrap.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__  # suppressed ones too: the OS's


def network_cause(exc: BaseException) -> str | None:
    """What the OS or the TLS layer said, in a few words; None when it was not the network."""
    for link in chain(exc):
        if isinstance(link, socket.gaierror):
            return "name not resolved"
        if isinstance(link, ConnectionRefusedError):
            return "connection refused"
        if isinstance(link, ConnectionResetError):
            return "connection reset"
        if isinstance(link, ssl.SSLError):
            return f"TLS: {link.reason or link}"
        if isinstance(link, TimeoutError) or type(link).__name__.endswith("Timeout"):
            return "timed out"
    for link in chain(exc):
        if isinstance(link, OSError) and link.strerror:
            return link.strerror.lower()
    return None


def origin_of(exc: BaseException) -> str | None:
    """`scheme://host[:port]` of the HTTP request that failed, when the chain carries it."""
    for link in chain(exc):
        try:
            request = getattr(link, "request", None)  # httpx: RuntimeError when unset
        except RuntimeError:
            continue
        url = getattr(request, "url", None)
        if url is not None:
            parts = urlsplit(str(url))
            return f"{parts.scheme}://{parts.netloc}"
    return None
