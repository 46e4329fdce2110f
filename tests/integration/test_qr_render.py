"""The code the terminal draws, read back by decoders that are not ours: zbarimg (apt zbar-tools) and zxing-cpp."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from app.qr import mpm
from app.qr.render import qr_png
from tests.rigs.qr_codes import SPEC_EXAMPLE, order


def zbarimg(picture: Path) -> str:
    """What zbarimg reads. --raw prints the text and one newline; its stderr chatter (D-Bus) is not the code.
    Missing zbarimg fails the test rather than skipping it: `make setup` installs zbar-tools."""
    program = shutil.which("zbarimg")
    assert program is not None, "zbarimg is missing: run make setup (apt zbar-tools)"
    done = subprocess.run([program, "-q", "--raw", str(picture)], capture_output=True, check=True)
    text = done.stdout.decode("utf-8")
    assert text.endswith("\n") and text.count("\n") == 1, "exactly one code in the picture"
    return text[:-1]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(mpm.build(order()), id="our-dynamic-order"),
        pytest.param(SPEC_EXAMPLE, id="spec-example-with-chinese"),
        pytest.param(mpm.build(order(amount_minor=99999999999, merchant_name="N" * 25)), id="long-values"),
        pytest.param("https://qr.example-acquirer.cn/pay/ord/T0001B000123V0042?sig=Zk9v", id="acquirer-code-url"),
    ],
)
def test_zbarimg_reads_back_exactly_what_was_drawn(payload: str, tmp_path: Path) -> None:
    picture = tmp_path / "code.png"
    picture.write_bytes(qr_png(payload))
    read = zbarimg(picture)
    assert read == payload


def test_zxing_cpp_reads_it_too() -> None:
    payload = SPEC_EXAMPLE
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(payload))))
    assert [code.text for code in found] == [payload]


def test_the_picture_is_a_png_with_a_quiet_zone() -> None:
    picture = Image.open(io.BytesIO(qr_png(mpm.build(order()), scale=4)))
    assert picture.format == "PNG"
    grey = picture.convert("L")
    border = [grey.getpixel((x, y)) for x in range(16) for y in range(grey.height)]
    assert set(border) == {255}, "4 modules of white on the left"
