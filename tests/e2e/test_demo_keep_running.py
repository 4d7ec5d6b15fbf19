"""`demo --keep-running --port N`: the URLs, the tokens and an `export` block that points the
CLI at the running demo, its Zendesk, its directory and its database file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.serving import free_port
from app.store import open_store

ROOT = Path(__file__).resolve().parents[2]
CLEARED = ("ZENDESK_", "WEBHOOK_SECRETS", "ADMIN_TOKENS", "MARKETPLACE_URL", "DATABASE_URL")


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    return env | {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 90) -> list[str]:
    """The demo's stdout lines up to `marker` (a thread reads: no buffering surprises)."""
    assert process.stdout is not None
    stdout, lines, seen = process.stdout, list[str](), threading.Event()

    def read() -> None:
        for line in stdout:
            lines.append(line.rstrip("\n"))
            if marker in line:
                seen.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not seen.wait(timeout):
        raise AssertionError(f"no {marker!r} in the demo's output: {lines}")
    return list(lines)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    port, sandbox_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "demo", "--keep-running", "--port", str(port)]
        + ["--sandbox-port", str(sandbox_port)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield port, read_until(process, "Ctrl-C to stop.")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def exports(lines: list[str]) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in lines)
    return {name: value for name, value in (p for p in pairs if len(p) == 2) if name.isupper()}


def test_the_demo_prints_what_it_takes_to_poke_at_it(
    demo: tuple[int, list[str]], tmp_path: Path
) -> None:
    port, lines = demo
    text = "\n".join(lines)
    service = f"http://127.0.0.1:{port}"
    assert f"service:        {service}" in text
    assert "admin token:    demo-admin-token" in text
    assert "webhook secret: demo-webhook-secret" in text
    env = exports(lines)
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path / 'data' / 'demo.db'}"
    assert set(env) == {
        "ZENDESK_BASE_URL",
        "ZENDESK_EMAIL",
        "ZENDESK_API_TOKEN",
        "MARKETPLACE_URL",
        "WEBHOOK_SECRETS",
        "ADMIN_TOKENS",
        "DATABASE_URL",
    }
    table = lines[: next(i for i, line in enumerate(lines) if "events processed" in line)]
    assert len(table) > 20 and all(len(line) <= 100 for line in table), max(table, key=len)

    headers = {"authorization": f"Bearer {env['ADMIN_TOKENS']}"}
    events = httpx.get(f"{service}/admin/events", headers=headers, timeout=10).json()["events"]
    assert events and all(e["status"] == "done" for e in events)


def test_the_cli_with_the_export_block_sees_the_demos_data(
    demo: tuple[int, list[str]], tmp_path: Path
) -> None:
    _, lines = demo
    env = clean_env() | exports(lines)

    async def stored_tickets() -> set[int]:
        store = await open_store(env["DATABASE_URL"])
        try:
            return {e.ticket_id for e in await store.list_events(limit=100) if e.ticket_id}
        finally:
            await store.close()

    tickets = asyncio.run(stored_tickets())  # the demo's own database file
    assert len(tickets) == 10

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            env=env,
            cwd=ROOT,  # elsewhere than the demo: the block alone finds its data
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    dead = run("dead-letters")
    assert (dead.returncode, dead.stdout.strip()) == (0, "0 dead letter(s)"), dead.stderr
    replay = run("replay", str(min(tickets)))  # a dry run: read from the demo's Zendesk
    assert replay.returncode == 0, replay.stderr
    answer = json.loads(replay.stdout)
    assert answer["decision"]["ticket_id"] == min(tickets) and answer["writes"] == []
