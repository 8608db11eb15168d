"""The API's wiring lives in the composition root (``puhui.bootstrap.api``).

These names stay importable from here for the tests and benches that wire an API by hand.
"""

from puhui.bootstrap.api import ApiKeys, ApiLimits, build_api_dependencies

__all__ = ["ApiKeys", "ApiLimits", "build_api_dependencies"]
