"""The atheris harness in fuzz/: a bounded coverage-guided run (slow), its seed
corpus, and the pinned crashers of known findings. Skipped without atheris."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "fuzz" / "fuzz_webhook.py"
CORPUS = ROOT / "fuzz" / "corpus"
CRASHERS = ROOT / "fuzz" / "crashers"
FINDING = {
    "int-conversion-superscript": (
        "envelope.ticket_id_from: '²'.isdigit() but int('²') raises ValueError (-> 500)"
    ),
    "int-conversion-5000-digits": (
        "envelope._load_object: json.loads raises a plain ValueError past 4300 digits (-> 500)"
    ),
    "ticket-id-past-int64": "envelope.ticket_id_from: integer ids are not bounded below 2**63",
    "lone-surrogate-in-dedupe-key": (
        "envelope._trigger_dedupe_key: `updated_at` with a lone surrogate makes a key that "
        "cannot be encoded for the database"
    ),
}


def run_harness(
    *args: str | Path, tmp_path: Path, allow_known: bool, timeout: float = 100
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FUZZ_ALLOW_KNOWN"}
    if allow_known:
        env["FUZZ_ALLOW_KNOWN"] = "1"
    command = [sys.executable, str(HARNESS), f"-artifact_prefix={tmp_path}/", *map(str, args)]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_seed_corpus_runs_clean(tmp_path: Path) -> None:
    seeds = sorted(CORPUS.iterdir())
    assert len(seeds) >= 4
    result = run_harness(*seeds, tmp_path=tmp_path, allow_known=False)
    assert result.returncode == 0, result.stderr[-3000:]


def test_known_crashers_are_recognised(tmp_path: Path) -> None:
    crashers = sorted(CRASHERS.iterdir())
    assert {c.name for c in crashers} == set(FINDING)
    result = run_harness(*crashers, tmp_path=tmp_path, allow_known=True)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize(
    "name",
    [pytest.param(n) for n, r in FINDING.items()],
)
def test_known_crasher_fixed(tmp_path: Path, name: str) -> None:
    """Strict: each pinned input is still a crash; when it stops being one, drop it."""
    result = run_harness(CRASHERS / name, tmp_path=tmp_path, allow_known=False)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow
def test_bounded_fuzz_run_finds_nothing_new(tmp_path: Path) -> None:
    """200k coverage-guided executions (about 10-20 s), fixed seed, known findings tolerated."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)  # libFuzzer adds to its first corpus folder
    result = run_harness(
        "-runs=200000",
        "-seed=20250108",
        "-max_len=4096",
        "-max_total_time=80",
        "-timeout=10",
        corpus,
        tmp_path=tmp_path,
        allow_known=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Done " in result.stderr
