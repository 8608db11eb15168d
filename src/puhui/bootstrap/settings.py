"""All configuration, read from ``PUHUI_``-prefixed environment variables (and ``.env``)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from puhui.adapters.db.encryption import DEFAULT_KEY_ID, KEY_ID_PATTERN, FieldCipher
from puhui.domain.lending import suspense

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
_DEV_SECRET_VALUES = frozenset(_DEV_SECRETS.values())
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
        description="encrypts personal data at rest (and roots blind indexes without an index key)",
    )
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEV_JWT_SECRET), description="signs staff access tokens (HS256)"
    )
    signing_key: SecretStr = Field(
        default=SecretStr(DEV_SIGNING_KEY),
        description="seed of the platform's Ed25519 contract-signing key",
    )
    token_lifetime_minutes: int = Field(default=15, ge=1, le=24 * 60)
    cookie_secure: bool = Field(
        default=True,
        description=(
            "mark the console's and H5 pages' cookies Secure (browsers keep them over https and "
            "on localhost); false only to try the pages over plain http on another address"
        ),
    )
    login_max_attempts: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    otp_max_sends: int = Field(default=3, ge=1)
    otp_window_minutes: int = Field(default=10, ge=1)

    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where people reach the web app: the address branch QR codes open",
    )
    contract_font: Path | None = Field(
        default=None,
        description="a TrueType font with Chinese glyphs for contract PDFs (default: the one "
        "scripts/ensure-fonts.sh installs)",
    )
    market_dir: Path | None = Field(
        default=None,
        description="a generated market: origination pulls enterprise data from its tables",
    )
    behaviour_model_dir: Path | None = Field(
        default=None,
        description=(
            "a behavioural model saved by `puhui monitor train-model`: the PD of existing "
            "customers in the post-loan monitoring run"
        ),
    )
    need_model_dir: Path | None = Field(
        default=None,
        description=(
            "a need model saved by `NeedModel.save` (puhui.risk.need): feeds the strategy input "
            "need_estimate_fen; without one that input stays missing"
        ),
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
    graph_dir: Path | None = Field(
        default=None,
        description="the relationship graph's snapshots (<graph_dir>/<YYYY-MM>/, written by "
        "`puhui graph build`): the online check uses the newest complete one",
    )
    prosperity_index_dir: Path | None = Field(
        default=None,
        description="a folder `puhui prosperity build` writes into: feeds the strategy input "
        "industry_prosperity_index, the post-loan prosperity signals and the console's charts "
        "(docs/prosperity.md); unset: <data_dir>/prosperity, and without a build there the "
        "input is missing",
    )
    green_screen_dir: Path | None = Field(
        default=None,
        description="a folder `puhui green screen --out` wrote: feeds the strategy inputs "
        "green_label and green_category (docs/green.md); unset: the inputs are missing",
    )
    graph_max_age_days: int = Field(
        default=45,
        ge=0,
        description="a graph whose as-of month ended longer ago than this is stale: not served "
        "(the graph inputs are missing and the health check says so)",
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
    suspense_max_days: int = Field(
        default=suspense.DEFAULT_MAX_DAYS,
        ge=1,
        le=suspense.MAX_DAYS_LIMIT,
        description="a repayment held in suspense (挂账) longer than this many days is overdue: "
        "the suspense page and `puhui ledger suspense-tie-out` count it",
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
    data_key_id: str = Field(
        default=DEFAULT_KEY_ID,
        pattern=r"^[A-Za-z0-9_-]{1,16}$",
        description="the id stored with every value PUHUI_DATA_KEY encrypts",
    )
    retired_data_keys: SecretStr | None = Field(
        default=None,
        description=(
            "older data keys that still decrypt, as 'id:key,id:key', until "
            "`puhui keys rotate` has re-encrypted everything under the current key"
        ),
    )
    index_key: SecretStr | None = Field(
        default=None,
        description=(
            "root of the blind indexes (equality lookups on encrypted columns) and of the "
            "graph-identifier key (graph snapshots hashed under another root are refused); "
            "does not rotate with the data key. Unset: derived from PUHUI_DATA_KEY, so set it "
            "to the old data key before retiring that key"
        ),
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="a request body over this many bytes is refused with 413 before parsing",
    )
    api_service_calls: Literal["auto", "inline", "threads"] = Field(
        default="auto",
        description="where a server process runs a request's service call: on its event loop "
        "(inline) or on a few handler threads; auto: inline on SQLite and on a PostgreSQL on "
        "this machine, threads on a PostgreSQL elsewhere, whose round trips threads overlap",
    )

    sms_gateway_url: str | None = Field(
        default=None,
        description="the bank's SMS platform (短信平台) the outbox posts messages to (https; "
        "http only to this machine); unset: `puhui outbox dispatch` writes them to the log",
    )
    sms_gateway_key_id: str = Field(
        default="puhui",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="names the shared secret in each request (X-Puhui-Key-Id)",
    )
    sms_gateway_secret: SecretStr | None = Field(
        default=None,
        description="the secret shared with the SMS platform that signs each request "
        "(HMAC-SHA256), at least 32 characters",
    )
    sms_gateway_timeout_seconds: float = Field(
        default=5.0, ge=0.1, le=60, description="how long a delivery waits for the platform"
    )

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        problems: list[str] = _gateway_problems(self)
        if self.retired_data_keys is not None and self.index_key is None:
            problems.append(
                "PUHUI_INDEX_KEY must be set (to the data key the blind indexes were built "
                "under) before a data key is retired"
            )
        try:
            retired = self.retired_keys()
        except ValueError as error:
            problems.append(str(error))
            retired = {}
        if self.environment == "production":
            secrets = {name: getattr(self, name) for name in _DEV_SECRETS}
            if self.index_key is not None:
                secrets["index_key"] = self.index_key
            for name, value in secrets.items():
                secret = value.get_secret_value()
                if secret in _DEV_SECRET_VALUES:
                    problems.append(
                        f"PUHUI_{name.upper()} is the published development secret and must "
                        f"be replaced by a secret of at least {MIN_SECRET_LENGTH} characters "
                        "in production"
                    )
                elif len(secret) < MIN_SECRET_LENGTH:
                    problems.append(
                        f"PUHUI_{name.upper()} must be a secret of at least "
                        f"{MIN_SECRET_LENGTH} characters in production"
                    )
            for key_id, secret_bytes in retired.items():
                if len(secret_bytes) < MIN_SECRET_LENGTH:
                    problems.append(f"retired data key {key_id!r} is shorter than 32 bytes")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def retired_keys(self) -> dict[str, bytes]:
        """PUHUI_RETIRED_DATA_KEYS parsed: key id to key."""
        if self.retired_data_keys is None:
            return {}
        keys: dict[str, bytes] = {}
        for item in self.retired_data_keys.get_secret_value().split(","):
            key_id, sep, secret = item.strip().partition(":")
            if not sep or not secret or not KEY_ID_PATTERN.match(key_id):
                raise ValueError("PUHUI_RETIRED_DATA_KEYS must read 'id:key,id:key'")
            if key_id == self.data_key_id or key_id in keys:
                raise ValueError(f"PUHUI_RETIRED_DATA_KEYS repeats the key id {key_id!r}")
            keys[key_id] = secret.encode()
        return keys

    def development_secrets(self) -> list[str]:
        """The variables still holding a published development secret (never for real use)."""
        names = [
            f"PUHUI_{name.upper()}"
            for name, placeholder in _DEV_SECRETS.items()
            if getattr(self, name).get_secret_value() == placeholder
        ]
        if self.index_key is not None and self.index_key.get_secret_value() in _DEV_SECRET_VALUES:
            names.append("PUHUI_INDEX_KEY")
        return names

    def field_cipher(self) -> FieldCipher:
        """The cipher of personal data at rest: current key, retired keys, blind-index key."""
        return FieldCipher(
            self.data_key.get_secret_value().encode(),
            key_id=self.data_key_id,
            retired=self.retired_keys(),
            index_key=None
            if self.index_key is None
            else self.index_key.get_secret_value().encode(),
        )

    def graph_identifier_key(self) -> bytes:
        """The key of the relationship graph's hashed identifiers (HMAC-SHA256 node ids).

        Derived from the blind-index root (PUHUI_INDEX_KEY, else PUHUI_DATA_KEY) under its
        own purpose, so it never equals another sub-key and survives a data-key rotation;
        never written to a snapshot (the report names only its id)."""
        return self.field_cipher().derive("graph-identifiers")

    @property
    def prosperity_folder(self) -> Path:
        """Where the platform's prosperity indices are built and read (docs/prosperity.md)."""
        return self.prosperity_index_dir or self.data_dir / "prosperity"

    @property
    def effective_log_format(self) -> Literal["text", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"


def _gateway_problems(settings: Settings) -> list[str]:
    """What is wrong with the SMS platform's settings (nothing when it is not configured)."""
    if not settings.sms_gateway_url:
        return []
    problems: list[str] = []
    address = urlsplit(settings.sms_gateway_url)
    if not address.hostname or address.scheme not in {"https", "http"}:
        problems.append("PUHUI_SMS_GATEWAY_URL must be an https:// address")
    elif address.scheme == "http" and not is_loopback(address.hostname):
        problems.append(
            "PUHUI_SMS_GATEWAY_URL must use https: plain http is allowed only to this machine "
            "(it carries customers' phone numbers)"
        )
    secret = settings.sms_gateway_secret
    if secret is None or not secret.get_secret_value():
        problems.append("PUHUI_SMS_GATEWAY_SECRET must be set with PUHUI_SMS_GATEWAY_URL")
    elif len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
        problems.append(f"PUHUI_SMS_GATEWAY_SECRET must be at least {MIN_SECRET_LENGTH} characters")
    return problems


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def start_up_refusal(settings: Settings, host: str) -> str | None:
    """Why the API must not serve on ``host`` with these settings; None when it may.

    The development secrets are published in the source: with any of them, anyone can sign
    an administrator's token or read the encrypted personal data. They are tolerated only
    in the ``dev`` environment on a loopback interface.
    """
    names = settings.development_secrets()
    if not names or (settings.environment == "dev" and is_loopback(host)):
        return None
    return (
        f"refusing to serve: {', '.join(names)} still hold the published development "
        f"secret(s), allowed only with PUHUI_ENVIRONMENT=dev on a loopback host "
        f"(environment is {settings.environment}, host is {host}); set real secrets."
    )
