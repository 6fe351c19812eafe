"""Progress reporting and cancellation shared by the CLI and the desktop app.

A run reports progress through a callback; the same call is where cancellation is
noticed, so cancel is as fine as one batch. The flag is a threading.Event so that the
GUI thread can set it directly while the worker is busy (a queued signal would only
arrive after the run ended).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

ProgressCallback = Callable[[float, str], None]


def ignore_progress(fraction: float, message: str) -> None:
    """The default callback: progress goes nowhere."""


class Cancelled(Exception):
    """The user asked the run to stop; work already finished is kept."""


class CancelToken:
    """Thread-safe stop flag, set by the GUI thread or by Ctrl-C, read by the run."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class Progress:
    """Progress over one slice [start, end] of the whole run, plus the cancel check."""

    def __init__(
        self,
        callback: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
        start: float = 0.0,
        end: float = 1.0,
        label: str = "",
    ) -> None:
        self._callback = callback
        self._cancel = cancel or CancelToken()
        self._start = start
        self._end = end
        self._label = label
        self._last = start

    def advance(self, fraction: float, message: str = "") -> None:
        """Report `fraction` (0..1) of this slice done; raises Cancelled when asked to stop."""
        if self._cancel.cancelled:
            raise Cancelled()
        fraction = min(max(fraction, 0.0), 1.0)
        # Never go backwards: a probe that restarts its count must not jolt the bar.
        value = max(self._last, self._start + (self._end - self._start) * fraction)
        self._last = value
        text = f"{self._label}: {message}" if self._label and message else (message or self._label)
        self._callback(value, text)

    def check(self) -> None:
        """Raise Cancelled if the user asked to stop (for loops that report nothing)."""
        if self._cancel.cancelled:
            raise Cancelled()

    def silent(self) -> Progress:
        """A Progress that reports nothing but still stops on this one's cancel (work timed
        for an estimate, whose own progress the caller reports)."""
        return Progress(cancel=self._cancel)

    def slice(self, start: float, end: float, label: str | None = None) -> Progress:
        """A child Progress covering [start, end] of this slice."""
        span = self._end - self._start
        return Progress(
            self._callback,
            self._cancel,
            self._start + span * start,
            self._start + span * end,
            self._label if label is None else label,
        )

    def iterate(self, items: Sequence[T], message: str = "") -> Iterator[T]:
        """Yield items, advancing after each one."""
        total = max(len(items), 1)
        self.advance(0.0, message)
        for index, item in enumerate(items):
            yield item
            self.advance((index + 1) / total, message)
