"""Regenerate requirements/lock.txt, the pinned versions every install uses.

    .venv/bin/python scripts/lock.py            # after changing a dependency in pyproject.toml
    .venv/bin/python scripts/lock.py --upgrade  # move every pin to the newest allowed release

The lock is compiled by uv (a dev dependency) for every platform and Python >= 3.11
(`--universal`), from the runtime and the `dev` dependencies of pyproject.toml. The Makefile
and the Dockerfile install with `pip install -c requirements/lock.txt ...`, so a fresh
machine gets the versions the suite last passed with. tests/unit/project/test_lock.py fails
when pyproject.toml names a dependency the lock does not pin, or pins outside its range.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"


def main(argv: list[str]) -> int:
    command = [
        sys.executable, "-m", "uv", "pip", "compile", "pyproject.toml",
        "--extra", "dev", "--universal", "--python-version", "3.11",
        "--custom-compile-command", "python scripts/lock.py",
        "--quiet", "-o", str(LOCK.relative_to(ROOT)),
    ]  # fmt: skip
    if "--upgrade" in argv:
        command.append("--upgrade")
    return subprocess.run(command, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
