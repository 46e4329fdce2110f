"""The camera scanner's decode step (zxing-cpp) on photographed-looking pictures of real codes drawn with segno:
scaled, rotated, noisy, blurred, JPEG-compressed, read back from PNG and JPEG files as a camera's frame arrays."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import segno
from PIL import Image, ImageFilter

from app.devices.camera_scanner import CameraScanner, PictureFrames, decode_frame, open_camera
from app.qr import mpm
from app.qr.errors import QrError
from app.qr.payment_code import Wallet
from tests.rigs.qr_codes import order

WECHAT = "134567890123456789"
ALIPAY = "2888776655443322110"
UNIONPAY = "6299887766554433221"
ROOT = Path(__file__).resolve().parents[2]


def photograph(text: str, *, size: int, angle: float, noise: float, seed: int, blur: float = 0.8) -> Image.Image:
    """A code as a phone screen looks to a counter camera: drawn by segno, resized to an odd size, turned, on a
    grey shaded background, a little out of focus, with sensor noise."""
    drawn = io.BytesIO()
    segno.make_qr(text, error="m").save(drawn, kind="png", scale=10, border=4)
    code = Image.open(drawn).convert("L").resize((size, size), Image.Resampling.BILINEAR)
    code = code.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=235)
    height, width = code.height + 160, code.width + 220
    shade = np.linspace(110, 190, width, dtype=np.float64)[None, :].repeat(height, axis=0)
    scene = Image.fromarray(shade.astype(np.uint8))
    scene.paste(code, (130, 60))
    scene = scene.filter(ImageFilter.GaussianBlur(blur))
    rng = np.random.default_rng(seed)
    noisy = np.asarray(scene, dtype=np.float64) + rng.normal(0.0, noise, (height, width))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def as_file(picture: Image.Image, directory: Path, kind: str) -> Path:
    path = directory / f"frame.{kind}"
    picture.save(path, quality=55) if kind == "jpg" else picture.save(path)
    return path


def frame_from(path: Path, *, colour: bool) -> np.ndarray:
    """The array a camera driver gives: grey, or 3 channels in BGR order (OpenCV, picamera2's RGB888)."""
    picture = Image.open(path)
    if not colour:
        return np.asarray(picture.convert("L"))
    return np.ascontiguousarray(np.asarray(picture.convert("RGB"))[:, :, ::-1])


@pytest.mark.parametrize(
    ("text", "size", "angle", "noise", "kind", "colour"),
    [
        pytest.param(WECHAT, 180, 0, 6, "png", False, id="wechat-straight-png"),
        pytest.param(WECHAT, 230, 17, 12, "jpg", True, id="wechat-turned-noisy-jpeg-bgr"),
        pytest.param(ALIPAY, 150, -33, 10, "jpg", False, id="alipay-small-turned-jpeg"),
        pytest.param(UNIONPAY, 310, 95, 14, "png", True, id="unionpay-upside-ish-png-bgr"),
        pytest.param(mpm.build(order()), 330, 8, 8, "jpg", False, id="merchant-payload-jpeg"),
    ],
)
def test_the_decode_step_reads_photographed_codes(
    text: str, size: int, angle: float, noise: float, kind: str, colour: bool, tmp_path: Path
) -> None:
    picture = photograph(text, size=size, angle=angle, noise=noise, seed=size)
    frame = frame_from(as_file(picture, tmp_path, kind), colour=colour)
    assert decode_frame(frame) == text


def test_a_frame_without_a_code_reads_as_nothing(tmp_path: Path) -> None:
    blank = photograph(WECHAT, size=200, angle=0, noise=10, seed=1).crop((0, 0, 120, 120))
    assert decode_frame(frame_from(as_file(blank, tmp_path, "png"), colour=False)) is None


def test_the_camera_scanner_waits_through_empty_frames_for_a_payment_code() -> None:
    empty = np.full((480, 640), 128, dtype=np.uint8)
    code = np.asarray(photograph(WECHAT, size=220, angle=-12, noise=9, seed=7))
    scanner = CameraScanner(PictureFrames([empty, empty, code]))
    found = scanner.wait_for_code(30.0)
    assert found is not None and (found.wallet, found.code) == (Wallet.WECHAT, WECHAT)
    assert scanner.wait_for_code(30.0) is None, "the camera has gone dark: no code, no error"


def test_a_code_still_in_view_is_taken_once_until_it_leaves_the_picture() -> None:
    code = np.asarray(photograph(WECHAT, size=220, angle=3, noise=9, seed=11))
    other = np.asarray(photograph(UNIONPAY, size=220, angle=-3, noise=9, seed=12))
    empty = np.full((480, 640), 128, dtype=np.uint8)
    scanner = CameraScanner(PictureFrames([code, code, code, other, code, empty, code]))
    taken = [scanner.wait_for_code(30.0) for _ in range(4)]
    assert [found.code if found else None for found in taken] == [WECHAT, UNIONPAY, WECHAT, WECHAT]
    held = CameraScanner(PictureFrames([code, code, code]))
    assert held.wait_for_code(30.0) is not None
    assert held.wait_for_code(30.0) is None, "the same phone held up for the next sale is not a second payment"


def test_a_qr_code_that_is_no_payment_code_is_one_clear_line() -> None:
    shop_link = np.asarray(photograph("https://example.com/menu", size=220, angle=5, noise=8, seed=3))
    with pytest.raises(QrError, match=r"^not a WeChat Pay, Alipay or UnionPay payment code") as caught:
        CameraScanner(PictureFrames([shop_link])).wait_for_code(30.0)
    assert "example.com" not in str(caught.value)


def test_the_camera_libraries_are_imported_only_when_a_camera_is_opened() -> None:
    probe = "import sys, app.devices.camera_scanner; print(sorted({'zxingcpp', 'cv2', 'picamera2'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


@pytest.mark.skipif(importlib.util.find_spec("picamera2") is not None, reason="picamera2 is installed here")
def test_a_missing_camera_library_is_one_clear_line() -> None:
    with pytest.raises(QrError) as caught:
        open_camera("picamera2")
    assert (
        str(caught.value)
        == "the camera scanner needs picamera2 (apt install python3-picamera2), which is not installed"
    )
    assert caught.value.zh.startswith("摄像头扫码需要 picamera2")


def test_missing_zxing_cpp_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)  # what an install without the [camera] extra looks like
    with pytest.raises(QrError, match=r"needs zxing-cpp \(pip install 'kioskpos\[camera\]'\), which is not installed"):
        decode_frame(np.zeros((10, 10), dtype=np.uint8))


def test_an_unknown_camera_is_one_clear_line() -> None:
    with pytest.raises(QrError, match=r"^unknown camera 'webcam': use one of picamera2, v4l2$"):
        open_camera("webcam")
