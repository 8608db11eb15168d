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
    assert catch.share(1, 0) is None
