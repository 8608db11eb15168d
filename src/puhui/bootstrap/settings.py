"""All configuration, read from ``PUHUI_``-prefixed environment variables (and ``.env``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_AUDIT_KEY = "puhui-dev-audit-key-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PUHUI_", env_file=".env", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite:///./var/puhui.db"
    data_dir: Path = Path("./var")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] | None = Field(
        default=None, description="text in dev and test, json in production unless set"
    )
    audit_key: SecretStr = Field(
        default=SecretStr(DEV_AUDIT_KEY),
        description="HMAC key of the audit hash chain; keep it outside the database",
    )

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment == "production":
            key = self.audit_key.get_secret_value()
            if key == DEV_AUDIT_KEY or len(key) < 32:
                raise ValueError(
                    "PUHUI_AUDIT_KEY must be a secret of at least 32 characters in production"
                )
        return self

    @property
    def effective_log_format(self) -> Literal["text", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"
