"""One-line progress on stderr for long imports and fits; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class ProgressBar:
    """Call with (stage, done, total); redraws at most once per percent."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._last = -1
        self._enabled = stream.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self._enabled or total <= 0:
            return
        percent = min(100, done * 100 // total)
        if percent == self._last:
            return
        self._last = percent
        filled = self._width * percent // 100
        bar = "#" * filled + "." * (self._width - filled)
        self._stream.write(f"\r{stage:<8} [{bar}] {percent:3d}% ({done:,}/{total:,})")
        if percent == 100:
            self._stream.write("\n")
        self._stream.flush()


class FitProgress:
    """A progress line for a model fit, which reports no steps of its own: elapsed seconds
    against the time a fit of this size usually takes, redrawn twice a second on a terminal.

        with FitProgress(n_ratings, expected_seconds):
            train(...)

    The bar stops at 99 % until the fit is done (the estimate is an estimate); off a terminal
    it prints nothing (the caller's own line says what is happening).
    """

    def __init__(
        self, n_ratings: int, expected_seconds: float, stream: TextIO = sys.stderr
    ) -> None:
        self._n_ratings = n_ratings
        self._expected = max(1.0, expected_seconds)
        self._stream = stream
        self._enabled = stream.isatty()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0

    def __enter__(self) -> FitProgress:
        self._started = time.monotonic()
        if self._enabled:
            self._thread = threading.Thread(target=self._draw_until_done, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._stream.write("\n")
            self._stream.flush()

    def _draw_until_done(self) -> None:
        while not self._done.wait(0.5):
            self._draw(min(99, int(100 * self.elapsed() / self._expected)))
        self._draw(100)

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _draw(self, percent: int) -> None:
        filled = 30 * percent // 100
        bar = "#" * filled + "." * (30 - filled)
        self._stream.write(
            f"\rfitting  [{bar}] {self.elapsed():4.0f} s of ~{self._expected:.0f} s "
            f"({self._n_ratings:,} ratings)"
        )
        self._stream.flush()


class Elapsed(FitProgress):
    """A progress line for work with no estimate (`moviebot evaluate` fits every model):
    the seconds spent so far, redrawn twice a second on a terminal, nothing off one."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        super().__init__(0, 1.0, stream)
        self._label = label

    def _draw(self, percent: int) -> None:
        self._stream.write(f"\r{self._label} {self.elapsed():4.0f} s")
        self._stream.flush()
