"""Stopping a run cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading


class StopRequests:
    """Turns SIGINT/SIGTERM into a flag the loop checks after each step (main thread only)."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self._previous: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._previous[number] = signal.signal(number, self._request)

    def _request(self, number: int, _frame: object) -> None:
        if self.signal is not None:  # a second Ctrl-C: stop now, without a checkpoint
            raise KeyboardInterrupt
        self.signal = signal.Signals(number)

    def restore(self) -> None:
        """Put the previous handlers back."""
        for number, handler in self._previous.items():
            signal.signal(number, handler)
