"""Errors of the risk models, each named after the rule it guards."""

from __future__ import annotations

from puhui.domain.errors import Conflict, InvalidInput, NotFound, PuhuiError


class InvalidTrainingData(InvalidInput):
    """The file or frame offered for modelling cannot give a binary credit model."""

    code = "invalid_training_data"


class InvalidApplicantData(InvalidInput):
    """A feature value of one applicant has the wrong type for its characteristic."""

    code = "invalid_applicant_data"


class UnsupportedModel(PuhuiError):
    """A model uses a construct the scorer does not compile (e.g. categorical tree splits)."""

    code = "unsupported_model"


class ModelArtefactInvalid(PuhuiError):
    """A saved model directory is missing files or was written by an unknown format."""

    code = "model_artefact_invalid"


class ModelVersionNotFound(NotFound):
    code = "model_version_not_found"


class ApproverIsBuilder(Conflict):
    """Four-eyes rule: the person who built a model may not approve it."""

    code = "approver_is_builder"


class InvalidModelTransition(Conflict):
    """Model statuses only move candidate → approved → champion (→ retired)."""

    code = "invalid_model_transition"
