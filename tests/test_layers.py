"""The layer rules of DESIGN.md are enforced: a forbidden import makes the check fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def run_lint_imports(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract(tree_copy: Path) -> None:
    result = run_lint_imports(tree_copy / "src", tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "bad_import", "broken_contract"),
    [
        ("domain/money.py", "import puhui.services.audit", "Layers of DESIGN.md"),
        ("domain/money.py", "import sqlalchemy", "Domain is pure"),
        ("services/audit.py", "import sqlalchemy", "SQLAlchemy and Alembic only in adapters"),
        ("codegen/__init__.py", "import puhui.decision", "Layers of DESIGN.md"),
        ("codegen/__init__.py", "import numpy", "Codegen is standard library only"),
        ("decision/tables.py", "import puhui.risk", "Layers of DESIGN.md"),
        # services.strategies imports services.audit: the reverse closes a cycle.
        ("services/audit.py", "import puhui.services.strategies", "No import cycles"),
        # decision.engine imports decision.tables: the reverse closes a cycle.
        ("decision/tables.py", "import puhui.decision.engine", "No import cycles"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tree_copy: Path, module: str, bad_import: str, broken_contract: str
) -> None:
    target = tree_copy / "src" / "puhui" / module
    target.write_text(target.read_text() + f"\n{bad_import}  # deliberately breaks a layer rule\n")
    result = run_lint_imports(tree_copy / "src", tree_copy)
    assert result.returncode != 0
    assert f"{broken_contract}" in result.stdout
    assert "BROKEN" in result.stdout
