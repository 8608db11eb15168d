"""Errors of the decision engine, each named after the rule it guards.

Those that callers have long caught as ``ValueError`` (a cell, an expression, an LPR table,
an experiment) stay ``ValueError`` subclasses too, so that ``except ValueError`` keeps working.
"""

from __future__ import annotations

from puhui.domain.errors import ConfigurationError, InvalidInput


class InvalidCell(InvalidInput, ValueError):
    """A table cell does not follow the cell syntax."""

    code = "invalid_cell"


class InvalidExpression(InvalidInput, ValueError):
    """An expression does not parse, or names something unknown."""

    code = "invalid_expression"


class InvalidDocumentValue(InvalidInput, ValueError):
    """A value of a strategy document has the wrong kind (pydantic reports it with its path)."""

    code = "invalid_document_value"


class InvalidRateTable(InvalidInput, ValueError):
    """A dated rate table (LPR) is empty, ragged or not in date order."""

    code = "invalid_rate_table"


class InvalidExperiment(ConfigurationError, ValueError):
    """A champion/challenger experiment whose arms cannot split traffic as declared."""

    code = "invalid_experiment"
