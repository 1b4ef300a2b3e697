"""Every environment variable the advisor reads, in one place (INTERFACES.md section 5)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN", repr=False)
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET", repr=False)
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN", repr=False)
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    advisor_store: str = Field(default="sqlite:///var/advisor.sqlite3", alias="ADVISOR_STORE")
    advisor_knowledge: Path | None = Field(default=None, alias="ADVISOR_KNOWLEDGE")
    port: int = Field(default=3000, alias="PORT", ge=1, le=65535)
    # /metrics is served on this port only (default: PORT + 1), never on the public one.
    metrics_port: int | None = Field(default=None, alias="ADVISOR_METRICS_PORT", ge=1, le=65535)
    # HTTP worker processes (bot/adapters/slack/workers.py); unset: one per CPU, at most 4.
    workers: int | None = Field(default=None, alias="ADVISOR_WORKERS", ge=1, le=64)
    # Operability: JSON log lines by default; message text only when opted in.
    log_format: str = Field(default="json", alias="ADVISOR_LOG_FORMAT", pattern="^(json|text)$")
    log_text: bool = Field(default=False, alias="ADVISOR_LOG_TEXT")
    # Seconds before a Slack Web API call counts as timed out (it is then retried).
    slack_timeout: int = Field(default=10, alias="ADVISOR_SLACK_TIMEOUT", ge=1, le=60)
    # Messages a user may send per minute, across all replicas (0: no limit).
    rate_limit: int = Field(default=30, alias="ADVISOR_RATE_LIMIT", ge=0)
    # The usage record: question text only on opt-in; events kept this many days.
    record_questions: bool = Field(default=False, alias="ADVISOR_RECORD_QUESTIONS")
    retention_days: int = Field(default=30, alias="ADVISOR_RETENTION_DAYS", ge=1, le=3650)
    # Salt of the user-id hashes; replicas must share it. Default: the signing secret.
    hash_salt: str | None = Field(default=None, alias="ADVISOR_HASH_SALT", repr=False)
    # Slack user ids allowed to run `/advisor stats`, separated by commas or spaces.
    admins: str = Field(default="", alias="ADVISOR_ADMINS")

    def admin_ids(self) -> frozenset[str]:
        return frozenset(self.admins.replace(",", " ").split())
