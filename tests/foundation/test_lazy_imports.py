"""Heavy libraries load when first used: a ``puhui`` command that needs none of them does not
import them (they were 2.5 s of every command's start-up), and a server loads them before
its first request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from puhui.lazy import lazy_module, warm

SRC = Path(__file__).resolve().parents[2] / "src"
HEAVY = ("lightgbm", "sklearn", "igraph", "optbinning", "matplotlib", "reportlab", "scipy.stats")


def _loaded_after(code: str) -> list[str]:
    listed = f"[m for m in {list(HEAVY)!r} if m in sys.modules]"
    probe = f"{code}\nimport json, sys\nprint(json.dumps({listed}))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_the_command_line_and_the_platform_import_no_heavy_library() -> None:
    assert _loaded_after("import puhui.cli.main") == []
    assert _loaded_after("import puhui.bootstrap, puhui.web.app") == []
    # Every command module, the demo's included (all of them import the bootstrap).
    every_command = (
        "import pkgutil, importlib, puhui.cli\n"
        "for info in pkgutil.iter_modules(puhui.cli.__path__):\n"
        "    importlib.import_module('puhui.cli.' + info.name)"
    )
    assert _loaded_after(every_command) == []


def test_a_lazy_module_loads_on_first_attribute_and_is_then_the_module() -> None:
    code = (
        "from puhui.lazy import lazy_module\n"
        "import sys\n"
        "lgb = lazy_module('lightgbm')\n"
        "assert 'lightgbm' not in sys.modules, 'imported before use'\n"
        "assert lazy_module('lightgbm') is lgb\n"
        "assert 'not loaded yet' in repr(lgb)\n"
        "booster = lgb.Booster\n"
        "import lightgbm\n"
        "assert booster is lightgbm.Booster and 'loaded' in repr(lgb)\n"
    )
    loaded = _loaded_after(code)
    assert "lightgbm" in loaded
    assert "igraph" not in loaded


def test_a_server_warms_the_libraries_its_requests_use() -> None:
    code = "from puhui.web.server import settle_heap\nsettle_heap()"
    assert set(_loaded_after(code)) >= {"lightgbm", "igraph", "scipy.stats"}


def test_a_missing_module_fails_on_use_with_the_import_error() -> None:
    absent = lazy_module("puhui_no_such_library")
    with pytest.raises(ModuleNotFoundError, match="puhui_no_such_library"):
        warm("puhui_no_such_library")
    with pytest.raises(ModuleNotFoundError):
        _ = absent.anything


def test_a_stand_in_pickles_as_its_module_by_name() -> None:
    # Spark ships nested functions by value with the globals they use (cloudpickle).
    code = (
        "import pickle, sys\n"
        "from pyspark import cloudpickle\n"
        "from puhui.lazy import lazy_module\n"
        "stats = lazy_module('scipy.stats')\n"
        "def ranks(values):\n"
        "    return list(stats.rankdata(values))\n"
        "shipped = cloudpickle.dumps(ranks)\n"
        "assert 'scipy.stats' not in sys.modules\n"
        "assert pickle.loads(shipped)([3, 1, 2]) == [3.0, 1.0, 2.0]\n"
        "assert pickle.loads(pickle.dumps(stats)) is sys.modules['scipy.stats']\n"
    )
    assert "scipy.stats" in _loaded_after(code)
