"""The engine on its own thread: the UI never waits for a card, a PIN pad or the acquirer.

Jobs run one at a time on a worker thread that owns the Terminal (and its journal connection). Their results,
errors and progress lines come back to the UI thread through Kivy's Clock. When the engine needs a person (a
PIN, an application choice, "tear off the merchant copy"), the worker asks the UI and waits for the answer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from kivy.clock import Clock

from app.errors import UserFacingError
from app.services.health import UNREADABLE, is_damage
from app.services.terminal import Terminal

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Terminal], Any]
# Errors whose message is written for the person at the counter: shown as they are.
SPOKEN = UserFacingError
IDLE_S = 20.0  # no job for this long: the counter is quiet, and the terminal may do its own checks


def on_ui(fn: Callable[..., Any], *args: Any) -> None:
    Clock.schedule_once(lambda _dt: fn(*args), 0)


class Bridge:
    def __init__(self, make_terminal: Callable[[], Terminal], idle_s: float = IDLE_S) -> None:
        self._make_terminal = make_terminal
        self._idle_s = idle_s
        self._jobs: queue.Queue[tuple[Job, Callable[[Any], None], Callable[[str], None]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="engine", daemon=True)
        self._busy = threading.Event()

    @property
    def busy(self) -> bool:
        return self._busy.is_set() or not self._jobs.empty()

    @property
    def alive(self) -> bool:
        """The worker thread is running (the systemd watchdog is fed only while it is)."""
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)

    def submit(self, job: Callable[[Terminal], T], done: Callable[[T], None], failed: Callable[[str], None]) -> None:
        """Run `job(terminal)` on the worker; `done(result)` or `failed(message)` then run on the UI thread."""
        self._jobs.put((job, done, failed))

    def _loop(self) -> None:
        terminal: Terminal | None = None
        try:
            terminal = self._make_terminal()
        except SPOKEN as exc:
            self._fail_all(str(exc))
            return
        while True:
            try:
                item = self._jobs.get(timeout=self._idle_s)
            except queue.Empty:
                terminal.at_idle()
                continue
            if item is None:
                break
            job, done, failed = item
            self._busy.set()
            try:
                result = job(terminal)
            except SPOKEN as exc:
                on_ui(failed, str(exc))
            except Exception as exc:  # a bug must not take the counter down; the log has it
                log.exception("job failed")
                on_ui(failed, UNREADABLE if is_damage(exc) else f"internal error ({type(exc).__name__}); see the log")
            else:
                on_ui(done, result)
            finally:
                self._busy.clear()
        terminal.close()

    def _fail_all(self, message: str) -> None:
        """The terminal could not start: every job, now and later, fails with why."""
        log.error("terminal did not start: %s", message)
        while True:
            item = self._jobs.get()
            if item is None:
                return
            on_ui(item[2], message)


class Question:
    """The worker asks the UI something and waits for the answer; a cancel ends the wait with None."""

    def __init__(self, show: Callable[[Callable[[Any], None]], None]) -> None:
        self._show = show
        self._answered = threading.Event()
        self._answer: Any = None

    def ask(self, cancel: threading.Event | None = None) -> Any:
        on_ui(self._show, self._reply)
        while not self._answered.wait(0.1):
            if cancel is not None and cancel.is_set():
                return None
        return self._answer

    def _reply(self, value: Any) -> None:
        self._answer = value
        self._answered.set()
