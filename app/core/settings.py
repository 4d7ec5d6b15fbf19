"""Settings from plain environment variables, built once and passed down.

Nothing reads the environment at import time: `load_settings()` is called by the
CLI (or a test builds `Settings(...)` directly) and the result is handed to
`create_app()` and the worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict

from app.core.urls import check_base_url, check_subdomain, zendesk_account_url

DEFAULT_DATABASE_URL = "sqlite:///./data/triage.db"


class SettingsError(Exception):
    """Settings are missing or invalid; the message is one line naming every variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every variable is documented in the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    zendesk_subdomain: str | None = None
    zendesk_base_url: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None
    zendesk_oauth_client_id: str | None = None
    zendesk_oauth_client_secret: SecretStr | None = None
    webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    admin_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    console_viewer_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    console_session_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    console_login_max_failures: int = Field(default=10, ge=0)  # per address, 15 min; 0: no cap
    database_url: str = DEFAULT_DATABASE_URL
    policy_file: Path | None = None
    marketplace_url: str | None = None
    worker_concurrency: int = Field(default=4, ge=1, le=256)
    webhook_max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    # slow bodies (docs/security.md): Zendesk sends a body at once and gives up after 12 s
    webhook_body_timeout_seconds: float = Field(default=15.0, gt=0)
    webhook_max_unfinished_bodies_per_client: int = Field(default=64, ge=0)  # 0: no cap
    lease_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    # a worker that dies every time it holds one event (a poison event) would
    # otherwise take it again forever and block its ticket
    max_lease_expiries: int = Field(default=5, ge=1)
    poll_interval_seconds: float = Field(default=0.5, gt=0)
    batch_size: int = Field(default=100, ge=1, le=100)
    batch_min_events: int = Field(default=10, ge=2)
    zendesk_rate_limit_per_minute: int = Field(default=700, ge=1)
    zendesk_timeout_seconds: float = Field(default=10.0, gt=0)
    reconcile_interval_seconds: float = Field(default=300.0, ge=0)  # 0: no sweep
    log_level: str = "INFO"

    @field_validator("webhook_secrets", "admin_tokens", "console_viewer_tokens", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("zendesk_subdomain")
    @classmethod
    def _subdomain(cls, value: str | None) -> str | None:
        return check_subdomain(value) if value else value

    @field_validator("zendesk_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return check_base_url(value) if value else value

    @model_validator(mode="after")
    def _zendesk_target(self) -> Settings:
        problems = target_problems(self.model_dump())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def require(self, *names: str) -> None:
        """Settings only some commands need (the installer runs before a webhook
        secret exists); each command states what it needs."""
        problems = required_problems(self.model_dump(), names)
        if problems:
            raise SettingsError("invalid settings: " + "; ".join(problems))

    @property
    def zendesk_url(self) -> str:
        return zendesk_account_url(self.zendesk_subdomain, self.zendesk_base_url)

    def secret_values(self) -> list[str]:
        """Every secret this process holds; used to prove none reaches a log line."""
        tokens = (*self.webhook_secrets, *self.admin_tokens, *self.console_viewer_tokens)
        values = [s.get_secret_value() for s in tokens]
        for secret in (self.zendesk_api_token, self.zendesk_oauth_client_secret):
            if secret is not None:
                values.append(secret.get_secret_value())
        return [v for v in values if v]


_REQUIRED_HINTS = {
    "webhook_secrets": "WEBHOOK_SECRETS is required (comma-separated: current, previous)",
    "marketplace_url": "MARKETPLACE_URL is required",
}


def target_problems(values: Mapping[str, Any]) -> list[str]:
    """Every missing piece of the Zendesk target and credentials, not just the first."""
    problems = []
    if not (values.get("zendesk_subdomain") or values.get("zendesk_base_url")):
        problems.append("ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL) is required")
    if values.get("zendesk_api_token") and not values.get("zendesk_email"):
        problems.append("ZENDESK_EMAIL is required with ZENDESK_API_TOKEN")
    if not (values.get("zendesk_api_token") or values.get("zendesk_oauth_client_id")):
        problems.append(
            "ZENDESK_API_TOKEN (with ZENDESK_EMAIL) or ZENDESK_OAUTH_CLIENT_ID is required"
        )
    if values.get("zendesk_oauth_client_id") and not values.get("zendesk_oauth_client_secret"):
        problems.append("ZENDESK_OAUTH_CLIENT_SECRET is required with ZENDESK_OAUTH_CLIENT_ID")
    return problems


def required_problems(values: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    return [_REQUIRED_HINTS.get(n, f"{n.upper()} is required") for n in names if not values.get(n)]


def load_settings(*required: str, **overrides: object) -> Settings:
    """Build settings from the environment. On failure one line lists every missing
    or invalid variable at once (including the `required` ones a command needs)."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raw = {k.lower(): v for k, v in EnvSettingsSource(Settings)().items()} | overrides
        problems = _problems(exc)
        if not any(not err["loc"] for err in exc.errors()):  # the model check did not run
            problems += target_problems(raw)
        problems += required_problems(raw, required)
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
    settings.require(*required)
    return settings


def _problems(exc: ValidationError) -> list[str]:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]).upper()
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return parts
