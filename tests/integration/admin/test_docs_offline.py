"""/docs and /redoc load everything from the service itself: they work without internet."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.core.settings import Settings

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")
ANY_HOST = re.compile(r"""["'(]\s*(?:https?:)?//[a-z0-9.-]+""", re.IGNORECASE)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = Settings(
        zendesk_base_url="http://127.0.0.1:9",  # not contacted: no lifespan here
        zendesk_email="a@b",
        zendesk_api_token="t",
        webhook_secrets=["s"],
        marketplace_url="http://127.0.0.1:9",
        database_url=f"sqlite:///{tmp_path / 't.db'}",
    )
    return TestClient(create_app(settings, run_worker=False))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_reference_no_external_host(client: TestClient, page: str) -> None:
    answer = client.get(page)
    assert answer.status_code == 200
    html = answer.text
    assert ANY_HOST.search(html) is None, ANY_HOST.search(html)
    assets = [a or b for a, b in ASSET.findall(html)]
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts, html  # the UI's bundle is there, and served here
    for asset in assets:
        assert urlsplit(asset).netloc == "", asset
        if asset != "/openapi.json":
            fetched = client.get(urljoin(page, asset))
            assert fetched.status_code == 200 and len(fetched.content) > 1000, asset
