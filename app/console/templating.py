"""The console's Jinja2 templates (autoescaped) and their filters."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES))


def _when(value: datetime | str | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _file_name(value: str) -> str:
    """A file's name without the directories of the machine it runs on."""
    return Path(value).name


templates.env.filters["when"] = _when
templates.env.filters["file_name"] = _file_name
templates.env.filters["pretty"] = _pretty
