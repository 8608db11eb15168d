"""All configuration, read from ``PUHUI_``-prefixed environment variables (and ``.env``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_AUDIT_KEY = "puhui-dev-audit-key-not-for-production"
DEV_DATA_KEY = "puhui-dev-data-key-not-for-production-0000"
DEV_JWT_SECRET = "puhui-dev-jwt-secret-not-for-production-00"  # noqa: S105 (dev only; refused in production)
DEV_SIGNING_KEY = "puhui-dev-signing-key-not-for-production-0"
_DEV_SECRETS = {
    "audit_key": DEV_AUDIT_KEY,
    "data_key": DEV_DATA_KEY,
    "jwt_secret": DEV_JWT_SECRET,
    "signing_key": DEV_SIGNING_KEY,
}
MIN_SECRET_LENGTH = 32


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

    data_key: SecretStr = Field(
        default=SecretStr(DEV_DATA_KEY),
        description="encrypts ID numbers and phones at rest; derives blind-index and OTP keys",
    )
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEV_JWT_SECRET), description="signs staff access tokens (HS256)"
    )
    signing_key: SecretStr = Field(
        default=SecretStr(DEV_SIGNING_KEY),
        description="seed of the platform's Ed25519 contract-signing key",
    )
    token_lifetime_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_max_attempts: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    otp_max_sends: int = Field(default=3, ge=1)
    otp_window_minutes: int = Field(default=10, ge=1)

    market_dir: Path | None = Field(
        default=None,
        description="a generated market: origination pulls enterprise data from its tables",
    )
    model_name: str = Field(
        default="mse_pd",
        description="the registry name whose champion model decides applications",
    )
    feature_max_age_days: int = Field(
        default=45,
        ge=0,
        description="a stored feature row older than this is recomputed online at decision time",
    )
    model_registry_dir: Path = Field(
        default=Path("./var/models"),
        description="the model registry (candidate, approved, champion artefacts)",
    )
    strategy: str = Field(
        default="mse-online-credit", description="the shipped decision strategy to apply"
    )
    licence_type: str = Field(
        default="bank", description="the lender's licence type: sets the strategy's legal cap"
    )

    # Security hardening: key rotation, client addresses, login delays, code allowances.
    jwt_previous_secrets: SecretStr = Field(
        default=SecretStr(""),
        description="retired JWT secrets, comma-separated: their tokens verify until removed",
    )
    trusted_proxies: str = Field(
        default="",
        description="CIDRs of proxies whose X-Forwarded-For names the client (default none)",
    )
    login_delay_base_seconds: int = Field(
        default=30,
        ge=1,
        description="first delay after login_max_attempts failures on one account from one "
        "address; it doubles per failure up to login_window_minutes",
    )
    otp_client_max_sends: int = Field(
        default=600,
        ge=1,
        description="one-time codes per client address per otp window (carrier NATs share one)",
    )

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        for name, placeholder in _DEV_SECRETS.items():
            value: SecretStr = getattr(self, name)
            secret = value.get_secret_value()
            if secret == placeholder or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"PUHUI_{name.upper()} must be a secret of at least "
                    f"{MIN_SECRET_LENGTH} characters in production"
                )
        return self

    @property
    def effective_log_format(self) -> Literal["text", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"
