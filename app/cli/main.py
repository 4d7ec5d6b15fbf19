"""`python -m app <command>`: serve, worker, demo, sandbox, simulate, check-config, replay,
dead-letters, install-zendesk. `-v` before the command: tracebacks and retry lines too."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from app.cli.errors import OneLineErrors, configure_cli_logging, report
from app.core.settings import Settings, SettingsError, load_settings

cli = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, cls=OneLineErrors)


@cli.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Show tracebacks and retry lines")
    ] = False,
) -> None:
    configure_cli_logging(verbose)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="API only")] = False,
) -> None:
    """Run the service (webhooks, admin API and the worker) on the configured Zendesk."""
    import uvicorn

    from app.api.app import create_app
    from app.core.logging_setup import configure_logging

    settings = _settings_or_exit("webhook_secrets", "marketplace_url")
    configure_logging(settings.log_level)
    app = create_app(settings, run_worker=not no_worker, freeze_heap=True)
    uvicorn.run(
        app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=30
    )


@cli.command()
def worker() -> None:
    """Run only the worker (no HTTP server); any number of them may share one database."""
    from app.core.logging_setup import configure_logging
    from app.worker.standalone import run_worker

    settings = _settings_or_exit("marketplace_url")
    configure_logging(settings.log_level)
    asyncio.run(run_worker(settings))


@cli.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8081,
) -> None:
    """Run the built-in fake Zendesk (and marketplace directory) alone."""
    from app.sandbox.server import run_sandbox

    run_sandbox(host, port)


@cli.command()
def demo(
    keep_running: Annotated[
        bool, typer.Option(help="Keep the service and sandbox running after the table")
    ] = False,
    port: Annotated[
        int, typer.Option(help="The service's port (0: any free one)", min=0, max=65535)
    ] = 0,
    sandbox_port: Annotated[
        int,
        typer.Option(help="The sandbox's port (0: --port + 1, or any free one)", min=0, max=65535),
    ] = 0,
) -> None:
    """Run service + sandbox on embedded defaults, send signed sample webhooks, print results;
    with --keep-running, the URLs, the tokens and an `export` block for the CLI."""
    from app.cli.demo import run_demo

    raise typer.Exit(run_demo(keep_running=keep_running, port=port, sandbox_port=sandbox_port))


@cli.command()
def simulate(
    source: Annotated[str, typer.Argument(help="Facts JSON file (object or JSON Lines), or -")],
    now: Annotated[
        str | None, typer.Option(help="Decide as on this day, YYYY-MM-DD (default: today UTC)")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option(envvar="POLICY_FILE", help="Policy YAML (default: shipped)")
    ] = None,
) -> None:
    """Print the decision for each ticket-facts object, one JSON line per input."""
    from pydantic import ValidationError

    from app.routing import PolicyError, TicketFacts, decide, default_policy_path, load_policy
    from app.routing.unknown_keys import describe_unknown, unknown_keys, with_unknown_keys

    try:
        today = date.fromisoformat(now) if now else datetime.now(UTC).date()
    except ValueError:
        _fail(f"--now must be YYYY-MM-DD, got {now!r}")
        return
    try:
        policy = load_policy(policy_file or default_policy_path())
    except PolicyError as exc:
        _fail(str(exc))
        return
    text = sys.stdin.read() if source == "-" else _read(source)
    failed = False
    for number, item in enumerate(_json_items(text), start=1):
        try:
            facts = TicketFacts.model_validate(item)
        except ValidationError as exc:
            typer.echo(
                json.dumps({"input": number, "error": exc.errors(include_url=False)}, default=str)
            )
            failed = True
            continue
        unknown = unknown_keys(item, TicketFacts)
        if unknown:
            typer.echo(
                f"warning: input {number}: {describe_unknown(unknown, TicketFacts)}", err=True
            )
        decision = with_unknown_keys(decide(facts, policy, today), unknown, TicketFacts)
        typer.echo(json.dumps(decision.model_dump(mode="json")))
    if failed:
        raise typer.Exit(1)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")
        return ""


def _json_items(text: str) -> list[object]:
    stripped = text.strip()
    if not stripped:
        _fail("no input")
    try:
        whole = json.loads(stripped)
        return whole if isinstance(whole, list) else [whole]
    except json.JSONDecodeError:
        pass
    items = []
    for number, line in enumerate(stripped.splitlines(), start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                _fail(f"line {number} is not JSON: {exc.msg}")
    return items


def _settings_or_exit(*required: str) -> Settings:
    try:
        settings = load_settings(*required)
    except SettingsError as exc:
        _fail(str(exc))
    return settings


@cli.command("check-config")
def check_config_command() -> None:
    """Check every name in the policy against the Zendesk account, and say what the
    service user's role allows; non-zero if a name is missing."""
    from app.core.metrics import Metrics
    from app.runtime.lifespan import build_zendesk, load_configured_policy
    from app.zendesk.permissions import Permissions, render_permissions
    from app.zendesk.setup.checks import check_config, render_rows, service_permissions

    settings = _settings_or_exit()
    policy = load_configured_policy(settings)

    async def run() -> tuple[list[Any], Permissions]:
        async with build_zendesk(settings, Metrics()) as client:
            return await check_config(client, policy), await service_permissions(client)

    rows, permissions = asyncio.run(run())
    typer.echo(render_rows(rows))
    typer.echo(render_permissions(permissions))
    if any(not r.found for r in rows):
        raise typer.Exit(1)


@cli.command()
def replay(
    ticket_id: Annotated[int | None, typer.Argument(help="Zendesk ticket id")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run/--enqueue", help="Print decision and writes / queue it")
    ] = True,
    since: Annotated[
        datetime | None,
        typer.Option(help="Instead of one ticket: every ticket updated since (ISO 8601, UTC)"),
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="...and up to (default: now)")] = None,
) -> None:
    """Decide a ticket again, fresh from Zendesk (dry run by default), or queue a time
    range from the incremental export with a progress display (--since)."""
    from app.replays import ticket as replay_ticket
    from app.runtime.lifespan import services_lifespan

    settings = _settings_or_exit("marketplace_url")
    if since is not None:
        from app.replays.progress_cli import run_time_range

        raise typer.Exit(asyncio.run(run_time_range(settings, since, until)))
    if ticket_id is None:
        _fail("give a TICKET_ID, or --since for a time range")

    async def run() -> dict[str, Any]:
        async with services_lifespan(settings) as services:
            if dry_run:
                return await replay_ticket.dry_run(services, ticket_id)
            result = await replay_ticket.enqueue(services, ticket_id, requested_by="cli", via="cli")
            return {"event_id": result.event_id, "status": "queued"}

    typer.echo(json.dumps(asyncio.run(run()), indent=2, default=str))


@cli.command("dead-letters")
def dead_letters(
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 50,
) -> None:
    """List dead letters with their reasons."""
    from app.store import EventStatus, open_store

    settings = _settings_or_exit()

    async def run() -> list[Any]:
        store = await open_store(settings.database_url)
        try:
            return await store.list_events(status=EventStatus.DEAD, limit=limit)
        finally:
            await store.close()

    events = asyncio.run(run())
    for event in events:
        typer.echo(
            f"{event.id}\tticket {event.ticket_id}\tattempts {event.attempts}\t{event.last_error}"
        )
    typer.echo(f"{len(events)} dead letter(s)")


@cli.command("install-zendesk")
def install_zendesk_command(
    service_url: Annotated[
        str, typer.Option(help="The service's public base URL, e.g. https://triage.example.com")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; write nothing")
    ] = False,
    webhook_name: Annotated[
        str | None,
        typer.Option(
            help="Webhook name; the trigger's title follows it", show_default="Dispute triage"
        ),
    ] = None,
    service_user_id: Annotated[
        int | None,
        typer.Option(
            help="The service's Zendesk user, when these credentials are another's",
            show_default="the user of GET /users/me",
        ),
    ] = None,
) -> None:
    """Create or update the Zendesk webhook and trigger that notify this service (idempotent)."""
    from app.routing import PolicyError
    from app.runtime.lifespan import load_configured_policy
    from app.zendesk.setup import (
        InstallError,
        InstallNames,
        load_install_settings,
        run_install,
        webhook_endpoint,
    )

    try:
        settings = load_install_settings()
        policy = load_configured_policy(settings)
        names = InstallNames.for_webhook(webhook_name)
        webhook_endpoint(service_url)
    except (SettingsError, PolicyError, ValueError) as exc:
        _fail(str(exc))

    try:
        result = asyncio.run(
            run_install(
                settings,
                policy,
                service_url=service_url,
                names=names,
                dry_run=dry_run,
                service_user_id=service_user_id,
            )
        )
    except InstallError as exc:
        _show_install(exc.result)
        typer.echo(f"error: {report(exc)}", err=True)
        raise typer.Exit(1) from None
    _show_install(result)
    if result.conflicts:
        raise typer.Exit(1)


def _show_install(result: Any) -> None:
    """The plan (or what was done) and, once, a new webhook's signing secret."""
    from app.zendesk.setup import render_plan, render_secret

    if result is not None:
        typer.echo(render_plan(result))
        if secret := render_secret(result):
            typer.echo(secret)


def main() -> None:
    cli()
