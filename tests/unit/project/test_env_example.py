""".env.example names only real settings, and every required one."""

from __future__ import annotations

import re
from pathlib import Path

from app.core.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}


def test_env_example_names_real_settings_and_every_required_one() -> None:
    text = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert named - COMPOSE_ONLY <= fields, named - COMPOSE_ONLY - fields
    assert {"ZENDESK_SUBDOMAIN", "WEBHOOK_SECRETS", "MARKETPLACE_URL", "ADMIN_TOKENS"} <= named


def test_the_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [n.upper() for n in Settings.model_fields if f"`{n.upper()}`" not in readme]
    assert missing == []
