"""The snapshot contract: identifiers keyed so a copied folder gives nothing back, and a
month rebuilt in place swapped in whole."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from puhui.bootstrap.settings import Settings
from puhui.graph.snapshot import (
    FORMAT_VERSION,
    TABLES,
    Anomalies,
    BuildReport,
    GraphKeyError,
    SnapshotError,
    identifier_key,
    key_id,
    read_report,
    read_table,
    write_snapshot,
)

KEY_A = b"graph-identifier-key-number-one-0001"
KEY_B = b"graph-identifier-key-number-two-0002"


def test_the_same_value_hashes_differently_under_two_keys() -> None:
    phone = "13800000001"
    assert identifier_key("phone", phone, KEY_A) != identifier_key("phone", phone, KEY_B)
    assert identifier_key("phone", phone, KEY_A) == identifier_key("phone", f" {phone} ", KEY_A)
    assert key_id(KEY_A) != key_id(KEY_B)
    with pytest.raises(GraphKeyError, match="at least 32 bytes"):
        identifier_key("phone", phone, b"short")


def test_a_copied_snapshot_does_not_give_a_phone_node_back(
    small_market: Path, small_graph: Path, graph_key: bytes
) -> None:
    """Everything in the folder, tried as a key or a salt, misses the phone's node id."""
    phone = pl.read_parquet(f"{small_market}/tables/enterprises/*.parquet")["phone"][0]
    node = identifier_key("phone", phone, graph_key)
    assert node in read_table(small_graph, "nodes")["node"].to_list()
    report_text = (small_graph / "report.json").read_text(encoding="utf-8")
    report = json.loads(report_text)
    assert "salt" not in report
    assert report["key_id"] == key_id(graph_key)
    for path in small_graph.iterdir():
        content = path.read_bytes()
        assert graph_key not in content
        assert graph_key.hex().encode() not in content
    candidates = [str(v) for v in _leaves(report)]
    for candidate in candidates:
        as_key = candidate.encode().ljust(32, b"\0")
        assert identifier_key("phone", phone, as_key) != node
        salted = hashlib.sha256(f"{candidate}\x1fphone\x1f{phone}".encode()).hexdigest()[:24]
        assert f"phone:{salted}" != node


def _leaves(data: object) -> list[object]:
    if isinstance(data, dict):
        return [leaf for value in data.values() for leaf in _leaves(value)]
    return [data]


def _report(as_of: date, enterprises: int) -> BuildReport:
    return BuildReport(
        format_version=FORMAT_VERSION,
        as_of=as_of,
        built_at=datetime(2026, 1, 1, tzinfo=UTC),
        key_id=key_id(KEY_A),
        counts={"enterprises": enterprises},
        anomalies=Anomalies(),
        seconds=0.0,
    )


def _frames(usccs: list[str]) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    frames: dict[str, pl.DataFrame | pl.LazyFrame] = {
        name: pl.DataFrame(schema=schema) for name, schema in TABLES.items()
    }
    frames["enterprise_facts"] = pl.DataFrame({"uscc": usccs}).with_columns(
        [
            pl.lit(None, dtype=t).alias(c)
            for c, t in TABLES["enterprise_facts"].items()
            if c != "uscc"
        ]
    )
    return frames


def _watched(frame: pl.DataFrame, seen: Callable[[], None]) -> pl.LazyFrame:
    """``frame`` as a lazy table that calls ``seen`` while the snapshot is being written."""

    def look(batch: pl.DataFrame) -> pl.DataFrame:
        seen()
        return batch

    return frame.lazy().map_batches(look, schema=frame.schema)


def test_a_month_rebuilt_in_place_is_swapped_in_whole(tmp_path: Path) -> None:
    folder = tmp_path / "graph" / "2026-03"
    write_snapshot(folder, _report(date(2026, 3, 1), 1), _frames(["OLD"]))
    mid_write: list[tuple[int, list[str]]] = []

    def reader() -> None:
        report = read_report(folder)
        mid_write.append(
            (report.counts["enterprises"], read_table(folder, "enterprise_facts")["uscc"].to_list())
        )

    frames = _frames(["NEW-1", "NEW-2"])
    frames["round_trips"] = _watched(pl.DataFrame(schema=TABLES["round_trips"]), reader)
    write_snapshot(folder, _report(date(2026, 3, 1), 2), frames)
    assert mid_write
    assert all(seen == (1, ["OLD"]) for seen in mid_write)
    assert read_report(folder).counts["enterprises"] == 2
    assert read_table(folder, "enterprise_facts")["uscc"].to_list() == ["NEW-1", "NEW-2"]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["2026-03"]


def test_a_failed_write_leaves_the_old_snapshot_whole(tmp_path: Path) -> None:
    folder = tmp_path / "2026-03"
    write_snapshot(folder, _report(date(2026, 3, 1), 1), _frames(["OLD"]))
    frames = _frames(["NEW"])
    frames["edges"] = pl.DataFrame({"amount_fen": ["not a number"]}).with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in TABLES["edges"].items() if c != "amount_fen"]
    )
    with pytest.raises(pl.exceptions.InvalidOperationError):
        write_snapshot(folder, _report(date(2026, 3, 1), 1), frames)
    assert read_table(folder, "enterprise_facts")["uscc"].to_list() == ["OLD"]
    assert read_report(folder).counts["enterprises"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-03"]


def test_a_folder_that_is_not_a_snapshot_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"notes\.txt\): refusing to replace it"):
        write_snapshot(tmp_path, _report(date(2026, 3, 1), 1), _frames(["X"]))
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (tmp_path / "report.json").exists()


def test_a_salted_snapshot_of_format_1_is_refused_in_one_sentence(tmp_path: Path) -> None:
    write_snapshot(tmp_path, _report(date(2026, 3, 1), 1), _frames(["X"]))
    old = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    old["format_version"] = "1"
    old["salt"] = old.pop("key_id")
    (tmp_path / "report.json").write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(SnapshotError, match="graph format 1; this version reads 2: build it"):
        read_report(tmp_path)


def test_the_graph_key_is_its_own_sub_key_of_the_blind_index_root() -> None:
    """Every process with the platform's secrets derives the same key; a data-key rotation
    (the index root kept) does not change it; it is no other purpose's key."""
    root = "blind-index-root-of-the-test-000000001"
    settings = Settings(data_key="data-key-of-the-test-00000000000000001", index_key=root)
    rotated = Settings(data_key="data-key-of-the-test-00000000000000002", index_key=root)
    other = Settings(data_key="data-key-of-the-test-00000000000000001", index_key=root + "x")
    key = settings.graph_identifier_key()
    assert len(key) == 32
    assert rotated.graph_identifier_key() == key
    assert other.graph_identifier_key() != key
    assert settings.field_cipher().derive("request-hash") != key
