"""Payment codes read by a camera: zxing-cpp over frames from picamera2 (Pi camera) or a V4L2 webcam (OpenCV).

All three libraries are optional at install (`pip install kioskpos[camera]`; picamera2 comes with Raspberry Pi OS
as python3-picamera2): they are imported only when a camera is configured, and a missing one is one clear line.
The decode step works on any frame array a camera gives (grey, or 3 channels).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from app.qr.errors import QrError
from app.qr.payment_code import PaymentCode, recognise

Frame = Any  # a numpy array (height x width, or height x width x 3): numpy is optional too

SOURCES = ("picamera2", "v4l2")
_PACKAGES = {
    "zxingcpp": "zxing-cpp (pip install 'kioskpos[camera]')",
    "picamera2": "picamera2 (apt install python3-picamera2)",
    "cv2": "OpenCV (pip install 'kioskpos[camera-v4l2]')",
}


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        package = _PACKAGES[module]
        raise QrError(
            f"the camera scanner needs {package}, which is not installed",
            f"摄像头扫码需要 {package}，尚未安装",
        ) from None


def decode_frame(frame: Frame) -> str | None:
    """The text of the first QR code in a frame; None if there is none that reads."""
    zxingcpp = _require("zxingcpp")
    for barcode in zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode):
        if barcode.valid and barcode.text:
            return str(barcode.text)
    return None


class FrameSource(Protocol):
    def frames(self) -> Iterator[Frame]:
        """Frames as the camera takes them, for as long as the caller keeps asking."""
        ...

    def close(self) -> None: ...


class CameraScanner:
    """A CodeScanner on a camera. A code stays in view for many frames, and a phone may still be held up when the
    next sale starts: a text already taken (or refused) is not taken again until a frame without it has been seen,
    so one scan is one payment attempt, as with the wedge scanner."""

    def __init__(self, source: FrameSource, name: str = "camera") -> None:
        self.name = name
        self._source = source
        self._frames = source.frames()
        self._in_view: str | None = None  # the text last taken, while it stays in front of the camera

    def wait_for_code(self, timeout_s: float, cancel: threading.Event | None = None) -> PaymentCode | None:
        deadline = time.monotonic() + timeout_s
        pause = cancel or threading.Event()
        while not pause.is_set() and time.monotonic() < deadline:
            frame = next(self._frames, None)
            if frame is None:
                return None
            text = decode_frame(frame)
            if text == self._in_view:
                continue
            self._in_view = text
            if text is not None:
                return recognise(text)
        return None

    def discard_pending(self) -> None:
        """A camera keeps nothing between frames: whatever it sees from now on is what counts."""

    def close(self) -> None:
        self._source.close()


class Picamera2Frames:
    """Frames from the Raspberry Pi camera."""

    def __init__(self, size: tuple[int, int] = (1280, 720)) -> None:
        picamera2 = _require("picamera2")
        self._camera = picamera2.Picamera2()
        self._camera.configure(self._camera.create_video_configuration(main={"format": "RGB888", "size": size}))
        self._camera.start()

    def frames(self) -> Iterator[Frame]:
        while True:
            yield self._camera.capture_array()

    def close(self) -> None:
        self._camera.close()


class V4l2Frames:
    """Frames from a V4L2 webcam (/dev/videoN) through OpenCV."""

    def __init__(self, device: str) -> None:
        cv2 = _require("cv2")
        self._capture = cv2.VideoCapture(device, cv2.CAP_V4L2)
        if not self._capture.isOpened():
            raise QrError(f"camera {device!r} cannot be opened", f"无法打开摄像头 {device!r}")

    def frames(self) -> Iterator[Frame]:
        while True:
            ok, frame = self._capture.read()
            if not ok:
                return
            yield frame

    def close(self) -> None:
        self._capture.release()


class PictureFrames:
    """Frames from pictures already taken (demo, training, tests): each array once, then the camera is dark."""

    def __init__(self, pictures: Iterable[Frame]) -> None:
        self._pictures = list(pictures)

    def frames(self) -> Iterator[Frame]:
        yield from self._pictures

    def close(self) -> None:
        self._pictures.clear()


def open_camera(source: str, device: str | None = None) -> CameraScanner:
    """The camera scanner `[qr] camera = "picamera2" | "v4l2"` asks for; fails with one line if it cannot be."""
    _require("zxingcpp")
    if source == "picamera2":
        return CameraScanner(Picamera2Frames(), name="Pi camera")
    if source == "v4l2":
        return CameraScanner(V4l2Frames(device or "/dev/video0"), name=device or "/dev/video0")
    raise QrError(
        f"unknown camera {source!r}: use one of {', '.join(SOURCES)}",
        f"未知的摄像头 {source!r}：可选 {', '.join(SOURCES)}",
    )
