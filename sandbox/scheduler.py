"""A single background thread that runs callbacks at their due time (the call life cycles)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("sandbox.scheduler")


class Timer:
    """A scheduled callback; `cancel()` makes it a no-op."""

    __slots__ = ("args", "callback", "cancelled", "due")

    def __init__(self, due: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.due = due
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """Runs callbacks on one daemon thread, in due-time order.

    Callbacks run without any scheduler lock held, so they may schedule more callbacks.
    Exceptions are logged and never stop the thread.
    """

    def __init__(self, name: str = "sandbox-scheduler") -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._sequence = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Timer:
        timer = Timer(time.monotonic() + max(0.0, delay), callback, args)
        with self._cond:
            heapq.heappush(self._heap, (timer.due, next(self._sequence), timer))
            self._cond.notify_all()
        return timer

    def clear(self) -> None:
        """Drop every pending callback."""
        with self._cond:
            for _, _, timer in self._heap:
                timer.cancel()
            self._heap.clear()

    def _run(self) -> None:
        while True:
            with self._cond:
                timer = self._next_due()
                if timer is None:
                    return
            if timer.cancelled:
                continue
            try:
                timer.callback(*timer.args)
            except Exception:
                logger.exception("scheduled callback %r failed", timer.callback)

    def _next_due(self) -> Timer | None:
        """Wait (holding the condition) for the next due timer; None once stopped."""
        while not self._stopped:
            if not self._heap:
                self._cond.wait()
                continue
            wait = self._heap[0][0] - time.monotonic()
            if wait <= 0:
                return heapq.heappop(self._heap)[2]
            self._cond.wait(timeout=wait)
        return None
