"""Errors of the green pre-screen."""

from __future__ import annotations

from puhui.domain.errors import InvalidInput, NotFound, PuhuiError


class UnknownCatalogueVersion(NotFound):
    code = "unknown_green_catalogue_version"


class GreenCatalogueInvalid(PuhuiError):
    """A catalogue file breaks the catalogue's format (a packaging error, not user input)."""

    code = "green_catalogue_invalid"


class InvalidGreenScreen(InvalidInput):
    """A screen was asked for a month or on data it cannot use."""

    code = "invalid_green_screen"


class EnterpriseNotScreened(NotFound):
    code = "enterprise_not_screened"
