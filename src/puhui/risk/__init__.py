"""Credit risk models: tabular data, scorecard, gradient boosting, metrics, artefacts, scoring."""

import logging


def _not_an_optional_solver_import(record: logging.LogRecord) -> bool:
    # CVXPY (under optbinning) warns on stderr when an optional solver fails to import; the
    # HiGHS wheel pulled in beside it may not match its library. The scorecard never uses
    # HiGHS, and a warning on every CLI run would only teach users to ignore stderr.
    return "importing solver" not in record.getMessage()


logging.getLogger("__cvxpy__").addFilter(_not_an_optional_solver_import)
