"""Platform tests of supply-chain finance import their helpers (``scf_support``) as modules."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
