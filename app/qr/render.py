"""The merchant-presented payload as a QR picture for the screen or the slip (segno).

Byte mode in UTF-8, always: left to choose, segno picks Kanji mode (Shift JIS) for text that is all Han
characters and ISO 8859-1 where that fits, and the CRC was taken over UTF-8 bytes. A payload is mostly ASCII,
so today it would come out the same; fixing the mode keeps it so for every payload.
"""

from __future__ import annotations

import io

import segno

# Error correction M: a phone held at the counter, a scuffed slip; more costs size, less costs reads.
ERROR = "m"
QUIET_ZONE = 4  # modules of white border: the QR specification's minimum


def qr_png(payload: str, *, scale: int = 8) -> bytes:
    """A PNG of the payload (or of the code URL an acquirer gave for the order), `scale` pixels per module."""
    code = segno.make_qr(payload, error=ERROR, mode="byte", encoding="utf-8", boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=QUIET_ZONE)
    return out.getvalue()
