"""Loading the modelling stack prints nothing: a CLI's stderr is for the user's errors."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_scorecard_writes_nothing_to_stderr() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import puhui.risk.scorecard"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == ""
