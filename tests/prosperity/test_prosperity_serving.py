"""The platform reads its own built indices without an environment variable: the default
folder under the data directory, re-read when a new monthly build replaces it; a missing,
suppressed or damaged index is a missing input, never a crash."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.wiring import build_assessor
from puhui.cli.main import app
from puhui.pipelines.prosperity.build import ProsperityIndex, write_index
from puhui.pipelines.prosperity.errors import ProsperityIndexNotFound
from puhui.pipelines.prosperity.serving import IndustryIndexFile

runner = CliRunner()


def _index(value: float | None) -> ProsperityIndex:
    frame = pl.DataFrame(
        {
            "dimension": ["industry", "region"],
            "cell": ["manufacturing", "330100"],
            "month": [date(2025, 3, 1)] * 2,
            "component": ["composite"] * 2,
            "enterprises": [40, 4],
            "index": [value, None],
            "suppressed": [value is None, True],
        }
    )
    return ProsperityIndex(frame, None, 10)


def test_a_default_folder_without_a_build_gives_missing_and_picks_up_a_new_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "prosperity"
    served = IndustryIndexFile(folder, required=False)
    assert served.latest_index("C33", date(2025, 4, 9)) is None
    write_index(_index(42.5), folder)
    assert served.latest_index("C33", date(2025, 4, 9)) == 42.5  # no restart
    assert served.latest_region_index("330100", date(2025, 4, 9)) is None  # suppressed
    write_index(_index(37.0), folder)
    assert served.latest_index("C33", date(2025, 4, 9)) == 37.0
    (folder / "indices.parquet").write_bytes(b"half written")
    with caplog.at_level(logging.ERROR):
        assert served.latest_index("C33", date(2025, 4, 9)) == 37.0  # the last good build
    assert "not reloaded" in caplog.text
    (folder / "indices.parquet").unlink()
    assert served.latest_index("C33", date(2025, 4, 9)) is None


def test_an_explicitly_configured_folder_without_an_index_stops_the_start_up(
    tmp_path: Path,
) -> None:
    with pytest.raises(ProsperityIndexNotFound, match="holds no prosperity index"):
        IndustryIndexFile(tmp_path / "nothing")


def test_the_platform_reads_the_build_under_its_data_directory(
    prosperity_market: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("PUHUI_PROSPERITY_INDEX_DIR", raising=False)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'p.db'}", environment="test", _env_file=None
    )  # type: ignore[call-arg]
    assert settings.prosperity_folder == tmp_path / "var" / "prosperity"
    platform = build_platform(settings)
    try:
        assessor = build_assessor(platform)  # no build yet: starts, the input is missing
        assert assessor.prosperity is not None
        assert assessor.prosperity.latest_index("C33", date(2025, 4, 9)) is None
        built = runner.invoke(
            app, ["prosperity", "build", "--market", str(prosperity_market), "--json"]
        )
        assert built.exit_code == 0, built.output
        written = json.loads(built.stdout)["written"]
        assert str(settings.prosperity_folder / "indices.parquet") in written
        assert assessor.prosperity.latest_index("C33", date(2025, 4, 9)) is not None
        shown = runner.invoke(app, ["prosperity", "show", "--industry", "manufacturing"])
        assert shown.exit_code == 0, shown.output
        assert "manufacturing" in shown.stdout
    finally:
        platform.close()
