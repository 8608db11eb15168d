"""The owner scores an applicant only under its authorisation, within its limit a minute, and
records every id it scored; a model's own held-out intersection is validated without one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from tests.federated.parties import TEST_KEY_BITS, make_parties
from typer.testing import CliRunner

from puhui.cli.main import app
from puhui.domain.clock import FixedClock
from puhui.risk.federated.bank import TrainingConfig, train
from puhui.risk.federated.data import read_party
from puhui.risk.federated.errors import (
    FederatedConsentExpired,
    FederatedConsentMissing,
    FederatedRateLimited,
    FederatedRecordUnknown,
    FederatedSessionUnknown,
    InvalidFederatedData,
)
from puhui.risk.federated.model import load_model
from puhui.risk.federated.owner import OwnerParty, read_queries
from puhui.risk.federated.peer import InProcessOwner
from puhui.risk.federated.scoring import ScoringConsent, ScoringQuota

runner = CliRunner()
# 23:30 UTC on 31 May is 1 June in Shanghai: the record is filed under the bank's date.
NOW = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
TODAY = date(2026, 6, 1)


class Ticker:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[str]]:
    root = tmp_path_factory.mktemp("owner-scoring")
    bank_dir, owner_dir = make_parties(root)
    report = train(
        read_party(bank_dir, with_labels=True),
        InProcessOwner(OwnerParty(owner_dir)),
        root / "model",
        owner_url="local",
        config=TrainingConfig(epochs=1, batch_size=64, key_bits=TEST_KEY_BITS, seed=3),
    )
    model = load_model(root / "model")
    assert model.model_id == report.model.model_id
    shared = sorted(
        set(read_party(bank_dir, with_labels=False).ids) & set(OwnerParty(owner_dir).data.ids)
    )
    return owner_dir, model.model_id, shared


def _owner(folder: Path, limit: int = 10, ticker: Ticker | None = None) -> OwnerParty:
    return OwnerParty(
        folder, clock=FixedClock(NOW), quota=ScoringQuota(limit, ticker=ticker or Ticker())
    )


def _consent(enterprise: str, expires_on: date = date(2026, 12, 31)) -> ScoringConsent:
    return ScoringConsent(enterprise, f"AUTH-{enterprise}", expires_on)


def test_an_applicant_scored_under_its_authorisation_is_on_record(
    trained: tuple[Path, str, list[str]], tmp_path: Path
) -> None:
    folder, model_id, shared = trained
    owner = _owner(folder)
    before = len(read_queries(folder, TODAY))
    # Any id the owner holds can be an applicant, not only the training intersection.
    ids = [shared[0], "E000230"]
    assessed = owner.assessment_scores(model_id, [_consent(i) for i in ids])
    validated = owner.validation_scores(model_id, [shared[0]])
    assert assessed[0] == pytest.approx(validated[0], abs=1e-12)
    assert len(assessed) == 2
    assert assessed[0] != assessed[1]
    records = read_queries(folder, TODAY)[before:]
    assert records == [
        {
            "at": NOW.isoformat(),
            "purpose": "assessment",
            "model_id": model_id,
            "id": i,
            "consent_ref": f"AUTH-{i}",
            "consent_expires_on": "2026-12-31",
        }
        for i in ids
    ] + [{"at": NOW.isoformat(), "purpose": "validation", "model_id": model_id, "ids": 1}]
    assert read_queries(folder, date(2026, 5, 1)) == []  # the UTC month holds nothing

    listed = runner.invoke(
        app, ["federated", "queries", "--data", str(folder), "--month", "2026-06"]
    )
    assert listed.exit_code == 0, listed.output
    assert f"assessment  model {model_id}  E000230  consent AUTH-E000230 until 2026-12-31" in (
        listed.output
    )
    assert f"validation  model {model_id}  1 ids" in listed.output
    as_json = runner.invoke(
        app, ["federated", "queries", "--data", str(folder), "--month", "2026-06", "--json"]
    )
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == read_queries(folder, TODAY)
    bad_month = runner.invoke(
        app, ["federated", "queries", "--data", str(folder), "--month", "2026-13"]
    )
    assert bad_month.exit_code != 0
    assert "YYYY-MM" in bad_month.output


def test_a_missing_or_expired_authorisation_scores_nothing_and_takes_no_quota(
    trained: tuple[Path, str, list[str]],
) -> None:
    folder, model_id, shared = trained
    owner = _owner(folder, limit=2)
    before = read_queries(folder, TODAY)
    with pytest.raises(FederatedConsentMissing):
        owner.assessment_scores(model_id, [])
    # Expired yesterday (the bank's date); one bad authorisation refuses the whole request.
    with pytest.raises(FederatedConsentExpired) as expired:
        owner.assessment_scores(
            model_id, [_consent(shared[0]), _consent(shared[1], date(2026, 5, 31))]
        )
    assert expired.value.details == {
        "consent_ref": f"AUTH-{shared[1]}",
        "expired_on": "2026-05-31",
    }
    with pytest.raises(InvalidFederatedData, match="named twice"):
        owner.assessment_scores(model_id, [_consent(shared[0]), _consent(shared[0])])
    with pytest.raises(InvalidFederatedData, match="consent reference"):
        ScoringConsent(shared[0], "x y", date(2026, 12, 31))
    assert read_queries(folder, TODAY) == before
    # The refusals took nothing from the limit: two applicants still pass this minute.
    assert len(owner.assessment_scores(model_id, [_consent(i) for i in shared[:2]])) == 2
    # Valid on its last day.
    owner = _owner(folder)
    assert len(owner.assessment_scores(model_id, [_consent(shared[2], TODAY)])) == 1


def test_the_limit_a_minute_refuses_whole_requests_and_refills_evenly(
    trained: tuple[Path, str, list[str]],
) -> None:
    folder, model_id, shared = trained
    ticker = Ticker()
    owner = _owner(folder, limit=4, ticker=ticker)
    owner.assessment_scores(model_id, [_consent(i) for i in shared[:3]])
    with pytest.raises(FederatedRateLimited) as limited:
        owner.assessment_scores(model_id, [_consent(i) for i in shared[3:5]])
    # One id is left and a second comes back after 15 s (4 a minute).
    assert limited.value.details == {"retry_after_seconds": 15, "limit_per_minute": 4}
    ticker.seconds += 14
    with pytest.raises(FederatedRateLimited):
        owner.assessment_scores(model_id, [_consent(i) for i in shared[3:5]])
    ticker.seconds += 1
    assert len(owner.assessment_scores(model_id, [_consent(i) for i in shared[3:5]])) == 2
    # Idle time refills up to the limit and no further.
    ticker.seconds += 3600
    owner.assessment_scores(model_id, [_consent(i) for i in shared[:4]])
    with pytest.raises(FederatedRateLimited):
        owner.assessment_scores(model_id, [_consent(shared[4])])
    with pytest.raises(InvalidFederatedData, match="at most 4 ids"):
        owner.assessment_scores(model_id, [_consent(i) for i in shared[:5]])
    # A request for an id the owner does not hold counts against the limit (no probing).
    ticker.seconds += 3600
    with pytest.raises(FederatedRecordUnknown):
        owner.assessment_scores(model_id, [_consent(f"X{i:07d}") for i in range(4)])
    with pytest.raises(FederatedRateLimited):
        owner.assessment_scores(model_id, [_consent(shared[0])])


def test_validation_covers_only_the_models_own_intersection(
    trained: tuple[Path, str, list[str]],
) -> None:
    folder, model_id, shared = trained
    owner = _owner(folder)
    assert len(owner.validation_scores(model_id, shared)) == len(shared)
    owner_only = sorted(set(owner.data.ids) - set(shared))
    with pytest.raises(FederatedRecordUnknown, match="intersection"):
        owner.validation_scores(model_id, [shared[0], owner_only[0]])
    # A model committed before models named their session cannot be validated this way.
    path = folder / "models" / f"{model_id}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    older = {k: v for k, v in document.items() if k != "session_id"}
    (folder / "models" / "older-model.json").write_text(json.dumps(older), encoding="utf-8")
    with pytest.raises(FederatedSessionUnknown, match="older owner"):
        owner.validation_scores("older-model", shared[:1])
    assert len(owner.assessment_scores("older-model", [_consent(shared[0])])) == 1


def test_the_score_command_refuses_a_malformed_authorisation_before_dialling(
    tmp_path: Path,
) -> None:
    (tmp_path / "secret").write_bytes(b"s" * 40)
    common = ["federated", "score", "--model", str(tmp_path / "m"), "--bank", str(tmp_path / "b")]
    common += ["--uscc", "E000100", "--secret-file", str(tmp_path / "secret")]
    bad_date = runner.invoke(
        app, [*common, "--consent-ref", "AUTH-0001", "--consent-expires", "31/12/2026"]
    )
    assert bad_date.exit_code != 0
    assert "--consent-expires is not an ISO date" in bad_date.output
    bad_ref = runner.invoke(
        app, [*common, "--consent-ref", "no spaces", "--consent-expires", "2026-12-31"]
    )
    assert bad_ref.exit_code != 0
    assert "consent reference" in bad_ref.output
    missing = runner.invoke(app, common)
    assert missing.exit_code == 2
    assert "--consent-ref" in missing.output
    assert not (tmp_path / "m").exists()


def test_the_limit_is_at_least_one(tmp_path: Path) -> None:
    with pytest.raises(InvalidFederatedData):
        ScoringQuota(0)
