"""Branch QR codes: the landing address they encode, as PNG for print and SVG for pages."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import segno
from PIL import Image
from typer.testing import CliRunner

from puhui.cli.main import app
from puhui.domain.origination.channel import Channel, InvalidBranchCode, InvalidChannel
from puhui.services.documents.branch_qr import (
    PNG_SCALE,
    QUIET_ZONE,
    InvalidBaseUrl,
    branch_code_qr,
)

BASE = "http://127.0.0.1:8000"
URL = f"{BASE}/h5/?branch=TZ-JY01&channel=h5_qr"
runner = CliRunner()


def _modules(png: bytes) -> list[list[bool]]:
    """The dark modules of a PNG symbol, sampled at each module's centre."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    assert width == height
    assert width % PNG_SCALE == 0
    size = width // PNG_SCALE - 2 * QUIET_ZONE
    half = PNG_SCALE // 2
    return [
        [
            image.getpixel(
                ((QUIET_ZONE + x) * PNG_SCALE + half, (QUIET_ZONE + y) * PNG_SCALE + half)
            )
            == 0
            for x in range(size)
        ]
        for y in range(size)
    ]


def test_the_code_encodes_the_h5_landing_address_with_branch_and_channel() -> None:
    code = branch_code_qr(base_url=BASE + "/", branch_code=" tz-jy01 ")
    assert code.url == URL
    assert (code.branch_code, code.channel) == ("TZ-JY01", Channel.H5_QR)
    under_a_path = branch_code_qr(base_url="https://bank.example/puhui", branch_code="V-0427")
    assert under_a_path.url == "https://bank.example/puhui/h5/?branch=V-0427&channel=h5_qr"


def test_the_png_is_the_qr_symbol_of_the_address() -> None:
    png = branch_code_qr(base_url=BASE, branch_code="TZ-JY01").png()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert 200 < len(png) < 20_000
    expected = segno.make(URL, error="m", micro=False)
    assert expected.is_micro is False
    assert _modules(png) == [[bool(bit) for bit in row] for row in expected.matrix]


def test_the_svg_is_inline_and_titled_for_screen_readers() -> None:
    svg = branch_code_qr(base_url=BASE, branch_code="TZ-JY01").svg()
    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    assert (
        "<title>TZ-JY01 http://127.0.0.1:8000/h5/?branch=TZ-JY01&amp;channel=h5_qr</title>" in svg
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"branch_code": "X"}, InvalidBranchCode),
        ({"branch_code": "TZ_JY01"}, InvalidBranchCode),
        ({"branch_code": "TZ01", "channel": "wechat"}, InvalidChannel),
        ({"branch_code": "TZ01", "base_url": "ftp://bank.example"}, InvalidBaseUrl),
        ({"branch_code": "TZ01", "base_url": "https://bank.example/?x=1"}, InvalidBaseUrl),
        ({"branch_code": "TZ01", "base_url": "bank.example"}, InvalidBaseUrl),
    ],
)
def test_bad_branch_channel_or_base_url_is_refused(
    kwargs: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        branch_code_qr(**{"base_url": BASE, **kwargs})


def test_the_command_writes_the_png_and_prints_the_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_PUBLIC_BASE_URL", "https://puhui.bank.example")
    out = tmp_path / "codes" / "tz-jy01.png"
    result = runner.invoke(app, ["qr", "--branch", "tz-jy01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    url = "https://puhui.bank.example/h5/?branch=TZ-JY01&channel=h5_qr"
    assert result.stdout.strip() == f"{out}: {url}"
    expected = segno.make(url, error="m", micro=False)
    assert _modules(out.read_bytes()) == [[bool(b) for b in row] for row in expected.matrix]


def test_a_bad_branch_code_is_one_clear_error_and_a_failing_exit(tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    result = runner.invoke(app, ["qr", "--branch", "台州", "--base-url", BASE, "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error [invalid_branch_code]: a branch code is")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
