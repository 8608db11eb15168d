"""Identifiers of the generated market are valid and consistent."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from puhui.domain.identity import (
    birth_date_of,
    validate_id_number,
    validate_mobile,
    validate_uscc,
)
from puhui.market import store


def test_every_uscc_is_valid_and_unique(small_market: Path) -> None:
    ent = store.read(small_market, "enterprises")
    codes = ent.get_column("uscc").to_list()
    assert len(codes) > 1_900
    assert [validate_uscc(c) for c in codes] == codes
    assert len(set(codes)) == len(codes)


def test_uscc_encodes_legal_form_and_region(small_market: Path) -> None:
    ent = store.read(small_market, "enterprises")
    for row in ent.iter_rows(named=True):
        assert row["uscc"][1] == ("1" if row["legal_form"] == "company" else "2")
        assert row["uscc"][2:8] == row["region_code"]


def test_every_owner_id_number_is_valid_unique_and_matches_birth_and_gender(
    small_market: Path,
) -> None:
    owners = store.read(small_market, "owners")
    ids = owners.get_column("id_number").to_list()
    assert len(set(ids)) == len(ids)
    for row in owners.iter_rows(named=True):
        assert validate_id_number(row["id_number"]) == row["id_number"]
        assert birth_date_of(row["id_number"]) == row["birth_date"]
        assert row["gender"] == ("M" if int(row["id_number"][16]) % 2 == 1 else "F")
        assert 18 <= row["age_years"] <= 70


def test_every_legal_representative_is_an_owner(small_market: Path) -> None:
    ent = store.read(small_market, "enterprises")
    owners = store.read(small_market, "owners")
    missing = ent.join(owners, left_on="legal_rep_id_number", right_on="id_number", how="anti")
    assert missing.is_empty()
    counts = ent.group_by("legal_rep_id_number").len()
    joined = owners.join(counts, left_on="id_number", right_on="legal_rep_id_number")
    assert (joined["len"] == joined["enterprises_represented"]).all()


def test_phones_are_mainland_mobiles(small_market: Path) -> None:
    phones = pl.concat(
        [
            store.read(small_market, "enterprises").get_column("phone"),
            store.read(small_market, "owners").get_column("phone"),
            store.read(small_market, "applications").get_column("phone"),
        ]
    )
    assert all(validate_mobile(p) == p for p in phones.to_list())
