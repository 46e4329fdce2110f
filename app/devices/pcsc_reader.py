"""A contact chip reader through PC/SC (pcscd), with pyscard's low-level `smartcard.scard` API.

The low-level API returns PC/SC result codes instead of raising, which lets the reader tell the three cases that
matter apart: the card left (CardRemoved), the service or the reader went away (re-establish and keep waiting),
and everything else (CardError naming the reader).

Resilience: pcscd may be restarted (package upgrade, crash, USB reset) while the terminal waits for a card. A
context established before the restart is dead for good (SCARD_E_NO_SERVICE / SCARD_E_INVALID_HANDLE ...), so the
reader releases it, sleeps a short while (never spins) and establishes a new one, until the deadline.
"""

from __future__ import annotations

import logging
import threading
import time

from smartcard import scard

from app.devices.card import CardError, CardRemoved

log = logging.getLogger(__name__)

SLICE_S = 0.25  # longest blocking PC/SC call: bounds how late cancel and the deadline are noticed
RETRY_S = 0.2  # pause before re-establishing a context after pcscd went away
READER_GRACE_S = 1.0  # a reader never seen during a wait is reported missing after this long
REMOVAL_CHECK_S = 1.0  # pcscd polls presence every 0.4 s: how long a failed exchange waits to learn if the card left

# The context (or the whole service) is gone: release it and establish a new one.
_SERVICE_GONE = frozenset(
    code & 0xFFFFFFFF
    for code in (
        scard.SCARD_E_NO_SERVICE,
        scard.SCARD_E_SERVICE_STOPPED,
        scard.SCARD_E_INVALID_HANDLE,
        scard.SCARD_F_COMM_ERROR,
    )
)
# The reader itself is gone (unplugged) or not there yet.
_READER_GONE = frozenset(
    code & 0xFFFFFFFF
    for code in (
        scard.SCARD_E_UNKNOWN_READER,
        scard.SCARD_E_READER_UNAVAILABLE,
        scard.SCARD_E_NO_READERS_AVAILABLE,
    )
)
_CARD_GONE = frozenset(
    code & 0xFFFFFFFF
    for code in (
        scard.SCARD_W_REMOVED_CARD,
        scard.SCARD_W_RESET_CARD,
        scard.SCARD_W_UNPOWERED_CARD,
        scard.SCARD_E_NO_SMARTCARD,
    )
)
# The exchange failed; whether the card left is known only after pcscd's next presence poll.
_EXCHANGE_FAILED = frozenset(
    code & 0xFFFFFFFF
    for code in (
        scard.SCARD_E_NOT_TRANSACTED,
        scard.SCARD_E_COMM_DATA_LOST,
        scard.SCARD_W_UNRESPONSIVE_CARD,
    )
)
_SUCCESS = scard.SCARD_S_SUCCESS
_TIMEOUT = scard.SCARD_E_TIMEOUT & 0xFFFFFFFF


class _ServiceGone(Exception):
    """Internal: pcscd stopped or restarted under an established context."""


class _ReaderGone(Exception):
    """Internal: the reader is listed no more (unplugged, or pcscd is still enumerating readers)."""


def _code(rv: int) -> int:
    return rv & 0xFFFFFFFF  # pyscard hands back signed or unsigned values depending on the call


def _describe(rv: int) -> str:
    text = str(scard.SCardGetErrorMessage(rv)).strip().rstrip(".")
    return f"{text} (0x{_code(rv):08X})"


def list_readers() -> list[str]:
    """The PC/SC readers pcscd knows, for diagnostics. Raises CardError if the service is not running."""
    rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rv != _SUCCESS:
        raise CardError(f"PC/SC service not available: {_describe(rv)}")
    try:
        rv, readers = scard.SCardListReaders(context, [])
        if _code(rv) in _READER_GONE:
            return []
        if rv != _SUCCESS:
            raise CardError(f"could not list PC/SC readers: {_describe(rv)}")
        return [str(r) for r in readers]
    finally:
        scard.SCardReleaseContext(context)


class PcscCard:
    """The CardTransport of a card connected through PcscReader."""

    def __init__(self, reader: PcscReader, reader_name: str, handle: int, protocol: int) -> None:
        self._reader = reader
        self._reader_name = reader_name
        self._handle: int | None = handle
        self._pci = scard.SCARD_PCI_T1 if protocol == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PCI_T0
        self.protocol = "T=1" if protocol == scard.SCARD_PROTOCOL_T1 else "T=0"

    def transmit(self, command: bytes) -> bytes:
        # No GET RESPONSE / Le fix-up for T=0 61xx and 6Cxx here: the EMV kernel does it, and must see exactly
        # what the card said.
        if self._handle is None:
            raise CardError(f"card reader {self._reader_name!r}: the card connection is closed")
        rv, response = scard.SCardTransmit(self._handle, self._pci, list(command))
        if rv != _SUCCESS:
            raise self._error(rv)
        answer = bytes(response)
        if len(answer) < 2:
            # vpcd reports a card that vanished mid-command as success with an empty answer; any reader can
            # return a torn one. Either way the card may be on its way out.
            if self._reader.wait_for_removal(REMOVAL_CHECK_S):
                raise CardRemoved()
            raise CardError(f"card reader {self._reader_name!r}: the card sent no status word")
        return answer

    def close(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            scard.SCardDisconnect(handle, scard.SCARD_UNPOWER_CARD)

    def __enter__(self) -> PcscCard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self, rv: int) -> CardError:
        code = _code(rv)
        if code in _CARD_GONE:
            return CardRemoved()
        if code in _EXCHANGE_FAILED and self._reader.wait_for_removal(REMOVAL_CHECK_S):
            return CardRemoved()
        if code in _SERVICE_GONE:
            self._reader.invalidate()
            return CardError(f"card reader {self._reader_name!r}: the PC/SC service stopped")
        return CardError(f"card reader {self._reader_name!r}: {_describe(rv)}")


class _Wait:
    """What one wait_for_card call has learnt so far."""

    def __init__(self, timeout_s: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + timeout_s
        self.reader: str | None = None
        self.state = scard.SCARD_STATE_UNAWARE
        self.seen_reader = False
        self.service_since: float | None = None  # when the service was last seen up during this wait

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class PcscReader:
    """ChipReader over PC/SC. `name` is the exact PC/SC reader name; None means the first reader listed."""

    def __init__(self, name: str | None = None, *, exclusive: bool = True) -> None:
        self._wanted = name
        self.name = name or "first PC/SC reader"
        self._share = scard.SCARD_SHARE_EXCLUSIVE if exclusive else scard.SCARD_SHARE_SHARED
        self._context: int | None = None
        self._lock = threading.RLock()

    # -- ChipReader ------------------------------------------------------------------------------------------

    def wait_for_card(self, timeout_s: float, cancel: threading.Event | None = None) -> PcscCard | None:
        wait = _Wait(timeout_s)
        pause = cancel or threading.Event()  # an Event to sleep on, so a cancel wakes every pause at once
        while not pause.is_set() and wait.remaining() > 0:
            try:
                card = self._poll(wait, pause)
            except _ServiceGone:
                if self._context is not None:
                    log.warning("PC/SC service lost; waiting for it to come back")
                self.invalidate()
                wait.state, wait.service_since = scard.SCARD_STATE_UNAWARE, None
                pause.wait(min(RETRY_S, max(wait.remaining(), 0)))
                continue
            except _ReaderGone:
                wait.state = scard.SCARD_STATE_UNAWARE
                pause.wait(min(SLICE_S, max(wait.remaining(), 0)))
                continue
            if card is not None:
                return card
        return None

    def check(self) -> None:
        """Raise CardError if PC/SC answers but has no reader by this name (a typo, not a reader unplugged for a
        moment): better said at once than after a whole wait for a card."""
        try:
            readers = self._list(self._ensure_context())
        except _ServiceGone:
            return  # pcscd may be restarting: the wait copes with that
        if self._pick_reader(readers) is None:
            known = ", ".join(repr(r) for r in readers) or "none"
            raise CardError(f"no card reader called {self.name!r} (readers: {known})")

    def card_present(self) -> bool:
        try:
            context = self._ensure_context()
            reader = self._pick_reader(self._list(context))
            if reader is None:
                return False
            state = self._status(context, reader, scard.SCARD_STATE_UNAWARE, 0)
        except _ReaderGone:
            return False
        except _ServiceGone:
            self.invalidate()
            return False
        return state is not None and bool(state & scard.SCARD_STATE_PRESENT)

    # -- lifecycle -------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the PC/SC context (cards connected through it are released too)."""
        self.invalidate()

    def __enter__(self) -> PcscReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def invalidate(self) -> None:
        with self._lock:
            if self._context is not None:
                context, self._context = self._context, None
                scard.SCardReleaseContext(context)  # fails harmlessly when the service is already gone

    def wait_for_removal(self, timeout_s: float) -> bool:
        """True if the card leaves (or has left) the reader within timeout_s."""
        deadline = time.monotonic() + timeout_s
        try:
            context = self._ensure_context()
            reader = self._pick_reader(self._list(context))
            known = scard.SCARD_STATE_UNAWARE
            while reader is not None:
                timeout = 0 if known == scard.SCARD_STATE_UNAWARE else min(SLICE_S, deadline - time.monotonic())
                changed = self._status(context, reader, known, max(timeout, 0))
                if changed is not None:
                    if not changed & scard.SCARD_STATE_PRESENT:
                        return True
                    known = changed
                if time.monotonic() >= deadline:
                    return False
        except _ServiceGone:
            self.invalidate()
        except _ReaderGone:
            pass
        return True  # gone, or no service / no reader: either way the card is not usable any more

    # -- one slice of waiting --------------------------------------------------------------------------------

    def _poll(self, wait: _Wait, pause: threading.Event) -> PcscCard | None:
        context = self._ensure_context()
        if wait.service_since is None:
            wait.service_since = time.monotonic()
        reader = self._pick_reader(self._list(context))
        if reader is None or (wait.reader is not None and reader != wait.reader):
            self._reader_missing(wait)
            raise _ReaderGone
        wait.reader, wait.seen_reader = reader, True
        # The first look (UNAWARE) returns at once with the current state; later ones block for a slice.
        timeout = 0 if wait.state == scard.SCARD_STATE_UNAWARE else min(SLICE_S, max(wait.remaining(), 0))
        state = self._status(context, reader, wait.state, timeout)
        if state is None:  # no change in this slice
            return None
        wait.state = state
        if not state & scard.SCARD_STATE_PRESENT:
            return None
        if state & scard.SCARD_STATE_MUTE:
            raise CardError(f"card reader {reader!r}: the card does not answer: insert it chip first")
        return self._connect(context, reader)

    def _reader_missing(self, wait: _Wait) -> None:
        if wait.seen_reader:
            return  # it was there during this wait: unplugged, keep waiting for it to come back
        # A (re)started pcscd may still be enumerating its readers: allow it a moment before blaming the cable.
        assert wait.service_since is not None
        if time.monotonic() - wait.service_since >= READER_GRACE_S:
            if self._wanted is None:
                raise CardError("no PC/SC card reader found: check that it is plugged in")
            raise CardError(f"card reader {self._wanted!r} not found: check that it is plugged in")

    def _connect(self, context: int, reader: str) -> PcscCard | None:
        rv, handle, protocol = scard.SCardConnect(
            context, reader, self._share, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        code = _code(rv)
        if rv == _SUCCESS:
            self.name = reader
            return PcscCard(self, reader, handle, protocol)
        if code in _SERVICE_GONE:
            raise _ServiceGone
        if code in _CARD_GONE or code in _READER_GONE:
            return None  # pulled out again before we could power it: keep waiting
        if code == _code(scard.SCARD_E_SHARING_VIOLATION):
            raise CardError(f"card reader {reader!r} is in use by another program")
        raise CardError(f"card reader {reader!r}: could not power the card: {_describe(rv)}")

    # -- PC/SC calls that turn service loss into _ServiceGone ------------------------------------------------

    def _ensure_context(self) -> int:
        with self._lock:
            if self._context is None:
                rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
                if rv != _SUCCESS:
                    raise _ServiceGone  # "Service not available": pcscd not (yet) running
                self._context = context
            return self._context

    def _list(self, context: int) -> list[str]:
        rv, readers = scard.SCardListReaders(context, [])
        code = _code(rv)
        if rv == _SUCCESS:
            return [str(r) for r in readers]
        if code in _READER_GONE:
            return []
        if code in _SERVICE_GONE:
            raise _ServiceGone
        raise CardError(f"could not list PC/SC readers: {_describe(rv)}")

    def _pick_reader(self, readers: list[str]) -> str | None:
        if self._wanted is None:
            return readers[0] if readers else None
        return self._wanted if self._wanted in readers else None

    def _status(self, context: int, reader: str, known: int, timeout_s: float) -> int | None:
        """The reader's state once it differs from `known`; None if it did not change within timeout_s."""
        rv, states = scard.SCardGetStatusChange(context, int(timeout_s * 1000), [(reader, known)])
        code = _code(rv)
        if rv == _SUCCESS:
            _, event_state, _ = states[0]
            if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                raise _ReaderGone
            # Keep the event counter (high 16 bits) but not CHANGED, so the next call blocks until a new event.
            return int(event_state) & ~int(scard.SCARD_STATE_CHANGED)
        if code == _TIMEOUT or code == _code(scard.SCARD_E_CANCELLED):
            return None
        if code in _READER_GONE:
            raise _ReaderGone
        if code in _SERVICE_GONE:
            raise _ServiceGone
        raise CardError(f"card reader {reader!r}: {_describe(rv)}")
