"""Errors of the prosperity indices, each with a stable code."""

from __future__ import annotations

from puhui.domain.errors import InvalidInput, NotFound


class InvalidMinimumCell(InvalidInput):
    """The minimum number of enterprises of a shown cell is below one."""

    code = "invalid_min_cell"


class NoProsperityData(InvalidInput):
    """The market (or the chosen month range) has no month with a year-earlier comparison."""

    code = "no_prosperity_data"


class ProsperityIndexNotFound(NotFound):
    """A folder holds no built prosperity index (or not the cell asked for)."""

    code = "prosperity_index_not_found"
