"""Serve the API from settings (``puhui serve``): build the platform, wire, run uvicorn."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import uvicorn
from fastapi import FastAPI

from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.logging import configure_logging
from puhui.services.origination.placeholders import (
    NoDataSource,
    ReferEveryApplication,
    ServicingNotWired,
)
from puhui.services.security.otp import LoggingOtpSender
from puhui.services.security.rate_limit import RateLimit
from puhui.web.app import create_app
from puhui.web.wiring import ApiKeys, ApiLimits, build_api_dependencies

logger = logging.getLogger(__name__)


def app_from_settings(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    platform = build_platform(settings)
    keys = ApiKeys(
        audit_key=platform.audit_key,
        data_key=settings.data_key.get_secret_value().encode(),
        jwt_secret=settings.jwt_secret.get_secret_value().encode(),
        # Any length of secret text becomes the 32-byte Ed25519 seed.
        signing_key_seed=hashlib.sha256(settings.signing_key.get_secret_value().encode()).digest(),
    )
    limits = ApiLimits(
        token_lifetime=timedelta(minutes=settings.token_lifetime_minutes),
        login=RateLimit(
            settings.login_max_attempts, timedelta(minutes=settings.login_window_minutes)
        ),
        otp_send=RateLimit(settings.otp_max_sends, timedelta(minutes=settings.otp_window_minutes)),
    )
    deps = build_api_dependencies(
        engine=platform.database.engine,
        clock=platform.clock,
        keys=keys,
        assessor=ReferEveryApplication(),
        data_source=NoDataSource(),
        line_opener=ServicingNotWired(),
        otp_sender=LoggingOtpSender(),
        limits=limits,
    )
    return create_app(deps)


def run(host: str = "127.0.0.1", port: int = 8000) -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    app = app_from_settings(settings)
    logger.info("serving the Puhui API on http://%s:%d/api/v1/docs", host, port)
    uvicorn.run(app, host=host, port=port, log_config=None)
