"""Each detector on hand-made frames whose answer is known."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.graph.circles import MAX_CYCLE_LENGTH, MAX_CYCLES_PER_CIRCLE, detect_circles
from puhui.graph.contagion import contagion, exposure_edges
from puhui.graph.packaging import footprints
from puhui.graph.rings import detect_rings
from puhui.graph.round_trips import detect_round_trips

AS_OF = date(2024, 12, 1)


def _index(n: int, registered: date = date(2024, 6, 1)) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "eid": pl.Series(range(n), dtype=pl.UInt32),
            "uscc": [f"91330000000000{i:04d}" for i in range(n)],
            "registration_date": [registered] * n,
        }
    )


def _links(rows: list[tuple[int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "eid": pl.Series([r[0] for r in rows], dtype=pl.UInt32),
            "kind": [r[1] for r in rows],
            "value": [r[2] for r in rows],
        }
    )


def _apps(rows: list[tuple[int, date]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "eid": pl.Series([r[0] for r in rows], dtype=pl.UInt32),
            "application_date": [r[1] for r in rows],
        },
        schema={"eid": pl.UInt32, "application_date": pl.Date},
    )


def test_five_shells_sharing_phone_address_and_person_are_one_ring_with_evidence() -> None:
    ring = [
        (i, kind, value)
        for i in range(5)
        for kind, value in (
            ("phone", "13800001111"),
            ("address", "杭州市某某路88号1001室"),
            ("person", "330102198001010011"),
        )
    ]
    own = [(i, "phone", f"1390000{i:04d}") for i in range(5, 12)]
    applied = _apps([(i, date(2024, 10, 1 + i)) for i in range(5)])
    found = detect_rings(_links(ring + own), _index(12), applied, AS_OF)
    assert found.rings.height == 1
    row = found.rings.row(0, named=True)
    assert row["members"] == [f"91330000000000{i:04d}" for i in range(5)]
    assert row["ring_id"] == "R" + row["members"][0]
    assert 0.62 <= row["score"] <= 1.0
    text = " ".join(row["evidence"])
    assert "5 of 5 members share the phone 138****1111." in text
    assert "13800001111" not in text
    assert "330102198001010011" not in text
    assert "5 members applied 5 times" in text


def test_an_owner_with_two_businesses_is_not_a_ring() -> None:
    pair = [
        (i, kind, value)
        for i in (0, 1)
        for kind, value in (
            ("person", "330102198001010011"),
            ("phone", "13800001111"),
        )
    ]
    found = detect_rings(_links(pair), _index(2, date(2015, 1, 1)), _apps([]), AS_OF)
    assert found.rings.is_empty()


def test_an_agents_device_alone_does_not_make_a_ring() -> None:
    clients = [(i, "device", "DVAGENT0001") for i in range(6)] + [
        (i, "ip", "10.1.2.3") for i in range(6)
    ]
    apps = _apps([(i, date(2024, 11, 1 + i)) for i in range(6)])
    found = detect_rings(_links(clients), _index(6, date(2016, 1, 1)), apps, AS_OF)
    assert found.rings.is_empty()


def _invoices(rows: list[tuple[int, int, date, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "src": pl.Series([r[0] for r in rows], dtype=pl.UInt32),
            "dst": pl.Series([r[1] for r in rows], dtype=pl.UInt32),
            "month": [r[2] for r in rows],
            "amount_fen": [r[3] for r in rows],
        }
    )


def test_a_three_firm_cycle_of_near_equal_amounts_is_a_round_trip() -> None:
    m, n = date(2024, 9, 1), date(2024, 10, 1)
    rows = [(0, 1, m, 1_000_000), (1, 2, m, 990_000), (2, 0, n, 980_000)]
    rows += [(0, 1, n, 1_010_000), (1, 2, n, 1_000_000)]  # it comes round again in October
    rows.append((0, 3, m, 2_010_000))  # firms 0 and 3 trade both ways, unequal amounts
    rows.append((3, 0, m, 5_000_000))
    found = detect_round_trips(_invoices(rows), _index(4), AS_OF)
    assert found.trips.height == 1
    trip = found.trips.row(0, named=True)
    assert trip["members"] == ["913300000000000000", "913300000000000001", "913300000000000002"]
    assert trip["amount_fen"] == 980_000
    assert trip["month"] == date(2024, 10, 1)
    facts = {r["eid"]: r for r in found.facts.iter_rows(named=True)}
    assert facts[0]["round_trip"]
    assert facts[1]["round_trip"]
    assert facts[2]["round_trip"]
    assert facts[0]["invoice_round_trip_ratio"] == 0.5  # 2.01 of 4.02 million came back
    assert facts[1]["invoice_round_trip_ratio"] == 1.0
    assert not facts[3]["round_trip"]
    assert facts[3]["invoice_round_trip_ratio"] == 0.0


def test_a_cycle_of_unequal_amounts_is_ordinary_trade() -> None:
    m = date(2024, 9, 1)
    rows = [(0, 1, m, 1_000_000), (1, 2, m, 400_000), (2, 0, m, 2_500_000)]
    found = detect_round_trips(_invoices(rows), _index(3), AS_OF)
    assert found.trips.is_empty()
    assert found.facts["invoice_round_trip_ratio"].max() == 0.0


def test_a_near_equal_pair_that_never_comes_back_is_chance() -> None:
    m = date(2024, 9, 1)
    rows = [(0, 1, m, 1_000_000), (1, 0, m, 990_000), (0, 1, date(2024, 10, 1), 700_000)]
    rows.append((1, 0, date(2024, 10, 1), 1_300_000))
    assert detect_round_trips(_invoices(rows), _index(2), AS_OF).trips.is_empty()


def test_a_cycle_spread_over_half_a_year_is_not_a_round_trip() -> None:
    rows = [(0, 1, date(2024, 2, 1), 1_000_000), (1, 0, date(2024, 9, 1), 1_000_000)]
    assert detect_round_trips(_invoices(rows), _index(2), AS_OF).trips.is_empty()


def _guarantees(rows: list[tuple[int, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "src": pl.Series([r[0] for r in rows], dtype=pl.UInt32),
            "dst": pl.Series([r[1] for r in rows], dtype=pl.UInt32),
            "month": [date(2024, 1, 1)] * len(rows),
            "amount_fen": [r[2] for r in rows],
        }
    )


def test_a_guarantee_cycle_is_a_circle_with_exact_exposure_and_a_chain_is_not() -> None:
    circle = [(0, 1, 100_000_001), (1, 2, 200_000_002), (2, 0, 300_000_003), (1, 0, 7)]
    chain = [(3, 4, 5_000), (4, 5, 6_000), (2, 3, 9_999)]
    distressed = pl.DataFrame({"eid": pl.Series([1], dtype=pl.UInt32)})
    found = detect_circles(_guarantees(circle + chain), _index(6), distressed)
    assert found.circles.height == 1
    row = found.circles.row(0, named=True)
    assert row["circle_id"] == "913300000000000000"
    assert row["members"] == [f"91330000000000{i:04d}" for i in range(3)]
    assert row["exposure_fen"] == 100_000_001 + 200_000_002 + 300_000_003 + 7
    assert row["members_distressed"] == 1
    assert ["913300000000000000", "913300000000000001"] in row["cycles"]
    assert sorted(found.members["eid"].to_list()) == [0, 1, 2]


def test_a_dense_circle_keeps_exact_exposure_and_a_capped_handful_of_cycles() -> None:
    # Every one of 30 firms guarantees every other: billions of short cycles, one circle.
    n = 30
    rows = [(a, b, 1_000 * a + b + 1) for a in range(n) for b in range(n) if a != b]
    found = detect_circles(
        _guarantees(rows), _index(n), pl.DataFrame({"eid": pl.Series([], dtype=pl.UInt32)})
    )
    assert found.circles.height == 1
    row = found.circles.row(0, named=True)
    assert len(row["members"]) == n
    assert row["exposure_fen"] == sum(amount for _, _, amount in rows)
    assert len(row["cycles"]) == MAX_CYCLES_PER_CIRCLE
    members = set(row["members"])
    for cycle in row["cycles"]:
        assert 2 <= len(cycle) <= MAX_CYCLE_LENGTH
        assert len(set(cycle)) == len(cycle)
        assert set(cycle) <= members
        assert cycle[0] == min(cycle)
    assert len({tuple(c) for c in row["cycles"]}) == MAX_CYCLES_PER_CIRCLE


def test_each_circle_gets_its_own_cycles() -> None:
    # Two separate circles: the first one's cycles must not use up the second one's share.
    first = [(a, b, 10) for a in range(8) for b in range(8) if a != b]
    second = [(8, 9, 5), (9, 8, 6)]
    found = detect_circles(
        _guarantees(first + second),
        _index(10),
        pl.DataFrame({"eid": pl.Series([], dtype=pl.UInt32)}),
    )
    by_id = {r["circle_id"]: r for r in found.circles.iter_rows(named=True)}
    assert len(by_id) == 2
    assert len(by_id["913300000000000000"]["cycles"]) == MAX_CYCLES_PER_CIRCLE
    assert by_id["913300000000000008"]["cycles"] == [["913300000000000008", "913300000000000009"]]
    assert by_id["913300000000000008"]["exposure_fen"] == 11


def test_distress_reaches_the_guarantor_more_than_the_borrower() -> None:
    # 0 guarantees 1 and 2 guarantees 3: in the first pair the borrower is distressed, in
    # the second the guarantor; each guarantee equals the guarantor's sales.
    guarantees = _guarantees([(0, 1, 1_000_000), (2, 3, 1_000_000)])
    sales = _invoices([(0, 4, date(2024, 11, 1), 1_000_000), (2, 5, date(2024, 11, 1), 1_000_000)])
    edges = exposure_edges(sales, guarantees, date(2024, 1, 1))
    distress = pl.DataFrame({"eid": pl.Series([1, 2], dtype=pl.UInt32)})
    spread = {r["eid"]: r for r in contagion(edges, distress, guarantees).iter_rows(named=True)}
    assert spread[0]["contagion_score"] > spread[3]["contagion_score"] > 0.0
    assert spread[3]["guarantors_in_distress"] == 1
    assert spread[0]["guarantors_in_distress"] is None
    assert spread[1]["distressed"]
    assert spread[2]["distressed"]


def test_a_seller_feels_its_main_buyers_distress_and_it_fades_with_distance() -> None:
    rows = [(0, 1, date(2024, 11, 1), 900_000), (0, 2, date(2024, 11, 1), 100_000)]
    rows.append((3, 0, date(2024, 11, 1), 500_000))  # 3 sells to 0: two steps from 1
    invoices = _invoices(rows)
    empty = _guarantees([])
    edges = exposure_edges(invoices, empty, date(2024, 1, 1))
    distress = pl.DataFrame({"eid": pl.Series([1], dtype=pl.UInt32)})
    spread = {r["eid"]: r for r in contagion(edges, distress, empty).iter_rows(named=True)}
    assert spread[0]["contagion_score"] > spread[3]["contagion_score"] > 0.0
    assert (
        2 not in spread
        or spread[2]["contagion_score"] is None
        or spread[2]["contagion_score"] < spread[0]["contagion_score"]
    )


def test_an_agents_device_on_unrelated_firms_is_a_footprint() -> None:
    apps = pl.DataFrame(
        {
            "application_id": ["A1", "A2", "A3", "A4"],
            "eid": pl.Series([0, 1, 2, 3], dtype=pl.UInt32),
            "application_date": [
                date(2024, 11, 1),
                date(2024, 11, 10),
                date(2024, 11, 20),
                date(2024, 3, 1),
            ],
            "device_id": ["DVAGENT", "DVAGENT", "DVAGENT", "DVAGENT"],
            "ip_address": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"],
            "phone": ["13800000001", "13800000002", "13800000003", "13800000004"],
        }
    )
    related = pl.DataFrame(
        {"eid": pl.Series([1, 2], dtype=pl.UInt32), "community": pl.Series([7, 7], dtype=pl.Int64)}
    )
    found = dict(footprints(apps, related).iter_rows())
    assert found["A1"] == 2  # firms 1 and 2, unrelated to firm 0, within 30 days
    assert found["A2"] == 1  # firm 2 is related to firm 1: only firm 0 counts
    assert "A4" not in found  # eight months apart
