"""The Zendesk account URL, built in one place from `ZENDESK_SUBDOMAIN` or
`ZENDESK_BASE_URL` (settings validate both with these same rules)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# A DNS label: letters, digits, hyphen; no dots, slashes or anything that could
# turn `{subdomain}.zendesk.com` into another host.
SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


def check_subdomain(subdomain: str) -> str:
    if not SUBDOMAIN.match(subdomain):
        raise ValueError(
            f"{subdomain!r} is not a Zendesk subdomain (letters, digits and '-' only, "
            "e.g. acme for https://acme.zendesk.com)"
        )
    return subdomain


def check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{base_url!r} is not an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{base_url!r}: no query, fragment or credentials in the base URL")
    return base_url.rstrip("/")


def zendesk_account_url(subdomain: str | None, base_url: str | None) -> str:
    """`base_url` when given (sandbox, proxy), else `https://{subdomain}.zendesk.com`."""
    if base_url:
        return check_base_url(base_url)
    if subdomain:
        return f"https://{check_subdomain(subdomain)}.zendesk.com"
    raise ValueError("a Zendesk subdomain (letters, digits, '-') or a base URL is required")
