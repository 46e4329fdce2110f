"""The 8583 unpacker against mutated answers: whatever arrives, it returns the true answer or raises
BadAnswer (the unknown outcome, reversed) — never another exception, never a changed approval.

Deterministic (derandomised) and bounded: the suite runs ISO8583_FUZZ_EXAMPLES examples (default 1,000 each, a
few seconds here); `make fuzz-iso8583` runs the issue's 100,000.
"""

from __future__ import annotations

import contextlib
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.transaction import TxnKind
from app.host.iso8583 import codec, framing
from app.host.iso8583.codec import BadAnswer
from app.host.iso8583.messages import FinancialAnswer, FinancialRequest
from tests.unit.iso8583_rig import CHIP_PIN, DIALECT, MAC_KEY, SALE, answer_frame

EXAMPLES = int(os.environ.get("ISO8583_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

BALANCE_REQ = FinancialRequest(TxnKind.BALANCE, 0, 9, 1, CHIP_PIN)
ANSWERS = [
    (SALE, answer_frame(DIALECT.pack(SALE, MAC_KEY))),
    (SALE, answer_frame(DIALECT.pack(SALE, MAC_KEY), code="51")),
    (BALANCE_REQ, answer_frame(DIALECT.pack(BALANCE_REQ, MAC_KEY))),
]
TRUE = [DIALECT.unpack(req, frame, MAC_KEY) for req, frame in ANSWERS]


def _mutation(size: int) -> st.SearchStrategy[tuple[str, int, int, bytes]]:
    index = st.integers(0, size)
    return st.tuples(
        st.sampled_from(["flip", "set", "insert", "delete", "truncate"]),
        index,
        st.integers(1, 255),
        st.binary(min_size=1, max_size=6),
    )


def _apply(frame: bytes, op: str, i: int, value: int, data: bytes) -> bytes:
    i = min(i, len(frame))
    if op == "flip" and i < len(frame):
        return frame[:i] + bytes([frame[i] ^ value]) + frame[i + 1 :]
    if op == "set" and i < len(frame):
        return frame[:i] + bytes([value]) + frame[i + 1 :]
    if op == "insert":
        return frame[:i] + data + frame[i:]
    if op == "delete":
        return frame[:i] + frame[i + value % 8 + 1 :]
    return frame[:i]


@FUZZ
@given(
    which=st.integers(0, len(ANSWERS) - 1),
    ops=st.lists(_mutation(120), min_size=1, max_size=3),
    fix_length=st.booleans(),
)
def test_a_mutated_answer_is_the_true_answer_or_a_bad_answer(
    which: int, ops: list[tuple[str, int, int, bytes]], fix_length: bool
) -> None:
    req, frame = ANSWERS[which]
    for op in ops:
        frame = _apply(frame, *op)
    if fix_length and len(frame) >= 2:
        # Keep the length prefix true so most mutations get past the framing into pyiso8583 and the checks.
        frame = (len(frame) - 2).to_bytes(2, "big") + frame[2:]
    try:
        answer = DIALECT.unpack(req, frame, MAC_KEY)
    except BadAnswer as exc:
        refusal = str(exc)
    else:
        refusal = ""
    if refusal:
        assert "\n" not in refusal
        return
    # Only the application header is outside the MAC and the echo checks: its changes leave the answer as it was.
    assert answer == TRUE[which]
    if isinstance(answer, FinancialAnswer) and answer.approved:
        assert ANSWERS[which][1][:7] == frame[:7] and ANSWERS[which][1][13:] == frame[13:]


@FUZZ
@given(message=st.binary(max_size=300))
def test_random_bytes_never_escape_the_unpacker(message: bytes) -> None:
    with contextlib.suppress(BadAnswer):
        codec.unpack(message, codec.MacKey(DIALECT.mac_algorithm, MAC_KEY))
    with contextlib.suppress(framing.FramingError):
        framing.parse(message)
