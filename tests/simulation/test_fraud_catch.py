"""What anti-fraud flagged against the truth: layer 1 alone, with the graph, risk apart."""

from __future__ import annotations

import polars as pl

from puhui.pipelines.fraud_catch import anti_fraud_catch


def test_layers_are_read_off_the_same_decisions_and_risk_referrals_count_apart() -> None:
    truth = pl.DataFrame(
        {
            "application_id": ["ring", "packaged", "missed", "genuine", "stressed", "clean"],
            "is_fraud": [True, False, True, False, False, False],
            "is_packaged": [False, True, False, False, False, False],
        }
    )
    screened = {
        "ring": ("AF05_VELOCITY_DEVICE", "AF10_FRAUD_RING"),
        "packaged": ("AF11_PACKAGED_APPLICATION",),
        "missed": ("RISK_TOO_HIGH",),
        "genuine": ("FRAUD_CHECK_CONTACTS",),
        "stressed": ("AF14_CONTAGION", "RISK_CONTAGION"),
        "clean": (),
    }
    catch = anti_fraud_catch(screened, truth)
    assert (catch.suspicious, catch.suspicious_layer_one, catch.suspicious_with_graph) == (3, 1, 2)
    assert (catch.genuine, catch.genuine_layer_one, catch.genuine_with_graph) == (3, 0, 1)
    assert catch.genuine_graph_risk == 1
    assert (catch.genuine_inflated, catch.own_data, catch.own_data_flagged) == (0, 3, 1)
    assert catch.share(1, 0) is None


def test_the_executed_person_list_and_inflated_data_are_counted_apart() -> None:
    truth = pl.DataFrame(
        {
            "application_id": ["listed", "pumped", "pumped_clean", "own", "own_flagged"],
            "is_fraud": [False] * 5,
            "is_packaged": [False] * 5,
            "on_inflated_data": [False, True, True, False, False],
        }
    )
    screened = {
        "listed": ("AF03_EXECUTED_PERSON",),  # a court's list: policy, not a fraud flag
        "pumped": ("AF11_PACKAGED_APPLICATION",),
        "pumped_clean": (),
        "own": (),
        "own_flagged": ("AF04_VELOCITY_PHONE",),
    }
    catch = anti_fraud_catch(screened, truth)
    assert (catch.genuine, catch.genuine_layer_one, catch.genuine_with_graph) == (5, 1, 2)
    assert catch.genuine_policy_list == 1
    assert (catch.genuine_inflated, catch.genuine_inflated_flagged) == (2, 1)
    assert (catch.own_data, catch.own_data_flagged) == (3, 1)
