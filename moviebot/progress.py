"""A one-line progress bar on stderr for long imports; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
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
