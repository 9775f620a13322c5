"""Stopping a sync from another thread, as signing out or closing the app must, in seconds.

Made on the UI thread and handed to the sync on the network worker: once `cancel()` is called,
no new request starts, a wait between retries ends at once, and a request waiting for its
answer is cut off (the transport registers how). Imports nothing heavy, so the UI can make one
before the sync engine is loaded.
"""

import threading
from typing import Callable

from fieldapp.errors import TandemError


class Cancelled(TandemError):
    """The sync was stopped on purpose; what it had committed stays, the rest goes next time."""


class Cancel:
    def __init__(self):
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._aborts: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            aborts, self._aborts = self._aborts, []
        for abort in aborts:
            abort()

    def on_cancel(self, abort: Callable[[], None]) -> None:
        """Call `abort` (from the cancelling thread) when cancelled; at once if already."""
        with self._lock:
            if not self._event.is_set():
                self._aborts.append(abort)
                return
        abort()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("the sync was stopped")

    def sleep(self, seconds: float) -> None:
        """Wait between retries, ending at once (Cancelled) if cancelled meanwhile."""
        if self._event.wait(seconds):
            raise Cancelled("the sync was stopped")
