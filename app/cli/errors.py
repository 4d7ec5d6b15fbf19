"""One line for the failures a command cannot fix by itself: Zendesk or the marketplace
directory unreachable or refusing the credentials, the database unavailable.

    error: cannot reach https://acme.zendesk.com: name not resolved

`python -m app -v <command>` prints the traceback (and the client's retry lines) too.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from app.core.failures import chain, network_cause, origin_of
from app.core.settings import SettingsError, load_settings
from app.marketplace.client import MarketplaceError
from app.store import StoreUnavailable
from app.zendesk import (
    Forbidden,
    Unauthorized,
    ZendeskAPIError,
    ZendeskError,
    ZendeskTransportError,
)

_VERBOSE = {"on": False}  # set by the root command's -v (configure_cli_logging)


def _zendesk_url() -> str:
    try:
        return load_settings().zendesk_url
    except SettingsError:
        return "Zendesk"


def _zendesk_line(exc: ZendeskError) -> str:
    if isinstance(exc, ZendeskTransportError):
        host = origin_of(exc) or _zendesk_url()
        return f"cannot reach {host}: {network_cause(exc) or exc}"
    if isinstance(exc, Unauthorized | Forbidden):
        reason = f" ({exc.error_code})" if exc.error_code else ""
        return (
            f"{_zendesk_url()} refused the credentials: {exc.status} "
            f"{type(exc).__name__}{reason} on {exc.request_method} {exc.request_path}"
        )
    if isinstance(exc, ZendeskAPIError):
        return f"{_zendesk_url()}: {exc}"
    return f"Zendesk ({_zendesk_url()}): {exc}"


def _marketplace_line(exc: MarketplaceError) -> str:
    cause = network_cause(exc)
    if cause is not None:
        return f"cannot reach the marketplace directory {exc.url}: {cause}"
    return f"the marketplace directory {exc.url} failed: GET {exc.path}: {exc.cause}"


def one_line(exc: BaseException) -> str | None:
    """The message for a known outside failure anywhere in `exc`'s chain, else None."""
    for link in chain(exc):
        if isinstance(link, ZendeskError):
            return _zendesk_line(link)
        if isinstance(link, MarketplaceError):
            return _marketplace_line(link)
        if isinstance(link, StoreUnavailable):
            return f"the database is unavailable: {link}"
    return None


def report(exc: BaseException) -> str:
    """The line for `exc` (its own message when it is no outside failure); with `-v` the
    traceback is printed first."""
    if _VERBOSE["on"]:
        traceback.print_exception(exc, file=sys.stderr)
    return one_line(exc) or str(exc)


def configure_cli_logging(verbose: bool) -> None:
    """Plain lines on stderr: errors only, or warnings (the retries) with -v. `serve` and
    `worker` replace this with their JSON logs. A host that set up logging (a test
    runner calling the CLI in-process) keeps its own."""
    _VERBOSE["on"] = verbose
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if verbose else logging.ERROR)


class OneLineErrors(TyperGroup):
    """Runs a command; a known outside failure becomes `error: ...` and exit 1."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except typer.Exit:
            raise
        except Exception as exc:
            if one_line(exc) is None:
                raise
            typer.echo(f"error: {report(exc)}", err=True)
            raise typer.Exit(1) from None
