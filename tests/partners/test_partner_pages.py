"""The console's partners page: agreements with each partner's position, zh-CN and English."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "web"))
sys.path.insert(0, str(Path(__file__).parent.parent / "web" / "pages"))
sys.path.insert(0, str(Path(__file__).parent.parent / "origination"))

from api_support import Api, build_servicing_api
from console_support import staff
from partner_support import joint

from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Role


@pytest.fixture
def api(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[Api]:
    built, engine = build_servicing_api(database_url, clock, tmp_path)
    try:
        yield built
    finally:
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def test_staff_see_agreements_and_positions_in_both_languages(api: Api) -> None:
    partners = api.deps.partners
    assert partners is not None
    partners.service.create_agreement(joint("0.3"), actor="risk")
    browser = staff(api, "ops1", Role.OPERATIONS)
    chinese = browser.get("/console/partners?lang=zh-CN")
    assert chinese.status_code == 200
    assert "联合贷款" in chinese.text
    assert "AG-JL-1" in chinese.text
    assert "30%" in chinese.text
    english = browser.get("/console/partners?lang=en")
    assert "Joint lending" in english.text
    assert "Principal outstanding (yuan)" in english.text


def test_the_page_needs_a_signed_in_staff_user(api: Api) -> None:
    anonymous = api.client.get("/console/partners", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)


def test_staff_download_an_agreements_settlement_file_of_a_day(api: Api) -> None:
    partners = api.deps.partners
    assert partners is not None
    partners.service.create_agreement(joint("0.3"), actor="risk")
    browser = staff(api, "ops1", Role.OPERATIONS)
    page = browser.get("/console/partners?lang=zh-CN")
    assert 'action="/console/partners/AG-JL-1/settlement-file"' in page.text
    assert "下载 CSV" in page.text
    got = browser.get("/console/partners/AG-JL-1/settlement-file?on=2026-03-02")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"] == (
        'attachment; filename="settlement-AG-JL-1-2026-03-02.csv"'
    )
    # The partner's own file of that day, byte for byte.
    assert got.text == partners.service.settlement_file("AG-JL-1", date(2026, 3, 2))
    assert got.text.startswith("settled_on,agreement_id,loan_id,component,")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/console/partners/AG-JL-1/settlement-file", 422),
        ("/console/partners/AG-JL-1/settlement-file?on=2026-02-30", 422),
        ("/console/partners/AG-NONE/settlement-file?on=2026-03-02", 404),
    ],
)
def test_a_file_without_a_valid_date_or_of_an_unknown_agreement_is_refused(
    api: Api, path: str, status: int
) -> None:
    partners = api.deps.partners
    assert partners is not None
    partners.service.create_agreement(joint("0.3"), actor="risk")
    browser = staff(api, "ops1", Role.OPERATIONS)
    refused = browser.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert refused.status_code == status
    assert "settled_on,agreement_id" not in refused.text
