"""The repository stands alone: no tracked file points at a path outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

OUTSIDE = re.compile(
    r"(?<![\w.-])/wo"
    r"rk/"  # the workplace's absolute paths (split: this line is scanned too)
    r"|\.\./shared\b"  # the folder beside the checkout that a user's clone does not have
    r"|(?<![\w-])shared/(?:reference|data|DESIGN\.md|STYLE\.md)"
)
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def tracked_files() -> list[Path]:
    """Every file git tracks (the test runs in a clone, as CI does)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [REPO_ROOT / name for name in listing.split("\0") if name]


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError):
        return None


def test_no_tracked_file_refers_to_a_path_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "paths outside the repository:\n" + "\n".join(offenders)


def test_relative_links_in_docs_stay_inside_the_repository_and_exist() -> None:
    broken = []
    for path in tracked_files():
        if path.suffix != ".md":
            continue
        text = text_of(path) or ""
        for target in MARKDOWN_LINK.findall(text):
            if re.match(r"^[a-z]+:|^#", target):
                continue  # a URL or an anchor in the same page
            resolved = (path.parent / target.split("#", 1)[0]).resolve()
            inside = resolved == REPO_ROOT or REPO_ROOT in resolved.parents
            if not inside or not resolved.exists():
                broken.append(f"{path.relative_to(REPO_ROOT)}: ({target})")
    assert not broken, "links that leave the repository or lead nowhere:\n" + "\n".join(broken)


# Assembled from pieces, so that this file does not itself name a path outside the repository.
SHARED = "sha" + "red"
OUTSIDE_EXAMPLES = [
    f"VECTORS = Path('/wo{'rk'}/{SHARED}/data/schedule-vectors.json')",
    f"see ../{SHARED}/reference/loan-servicing.md",
    f"targets: `{SHARED}/reference/market-facts.md`",
]


@pytest.mark.parametrize("line", OUTSIDE_EXAMPLES)
def test_the_check_catches_outside_references(line: str) -> None:
    assert OUTSIDE.search(line)


def test_the_check_leaves_ordinary_words_alone() -> None:
    for line in ("a shared/exclusive advisory lock", "shared_contacts", "tests/data/x.json"):
        assert not OUTSIDE.search(line)
