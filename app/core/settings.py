"""Settings from plain environment variables, built once and passed down.

Nothing reads the environment at import time: `load_settings()` is called by the
CLI (or a test builds `Settings(...)` directly) and the result is handed to
`create_app()` and the worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.urls import check_base_url, check_subdomain, zendesk_account_url

DEFAULT_DATABASE_URL = "sqlite:///./data/triage.db"


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming the variable."""


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
    database_url: str = DEFAULT_DATABASE_URL
    policy_file: Path | None = None
    marketplace_url: str | None = None
    worker_concurrency: int = Field(default=4, ge=1, le=256)
    webhook_max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    lease_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
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
        if not (self.zendesk_subdomain or self.zendesk_base_url):
            raise ValueError("ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL) is required")
        if self.zendesk_api_token and not self.zendesk_email:
            raise ValueError("ZENDESK_EMAIL is required with ZENDESK_API_TOKEN")
        if not (self.zendesk_api_token or self.zendesk_oauth_client_id):
            raise ValueError(
                "ZENDESK_API_TOKEN (with ZENDESK_EMAIL) or ZENDESK_OAUTH_CLIENT_ID is required"
            )
        if self.zendesk_oauth_client_id and not self.zendesk_oauth_client_secret:
            raise ValueError("ZENDESK_OAUTH_CLIENT_SECRET is required with ZENDESK_OAUTH_CLIENT_ID")
        return self

    def require(self, *names: str) -> None:
        """Settings only some commands need (the installer runs before a webhook
        secret exists); each command states what it needs."""
        hints = {
            "webhook_secrets": "WEBHOOK_SECRETS is required (comma-separated: current, previous)",
            "marketplace_url": "MARKETPLACE_URL is required",
        }
        for name in names:
            if not getattr(self, name):
                raise SettingsError(f"invalid settings: {hints.get(name, name.upper())}")

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


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; one clear line on failure."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]).upper()
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "invalid settings: " + "; ".join(parts)
