"""Reading CSV from a stream with caps enforced while reading, before the rest is in memory.

`capped_stream` stops a (zip member's) byte stream past a shared budget; `records` parses CSV
text a line at a time, refusing a line or a row over `max_row_chars` and more than `max_lines`
lines. bot/history_import.py reads exports with them (issue 24: a 6 KB zip of 3 M tiny rows
took 1.4 GB when it was read whole first).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import IO, Any


class CapExceeded(Exception):
    """The stream or the CSV went past a cap."""


class _Capped(io.RawIOBase):
    """A byte stream that raises CapExceeded once more than `budget[0]` bytes came out of it,
    taking what it reads off the budget (shared by the streams of one file)."""

    def __init__(self, stream: IO[bytes], budget: list[int]) -> None:
        self._stream, self._budget = stream, budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._stream.read(min(len(buffer), self._budget[0] + 1))
        self._budget[0] -= len(chunk)
        if self._budget[0] < 0:
            raise CapExceeded("more bytes than the budget")
        buffer[: len(chunk)] = chunk
        return len(chunk)


def capped_stream(stream: IO[bytes], budget: list[int], chunk: int = 2**16) -> io.BufferedReader:
    """`stream`, read `chunk` bytes at a time, raising CapExceeded past `budget[0]` bytes."""
    return io.BufferedReader(_Capped(stream, budget), chunk)


def records(
    stream: IO[bytes], max_row_chars: int, max_lines: int, refuse: Callable[[str], Exception]
) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each CSV record in the UTF-8 `stream` (a BOM is skipped),
    parsed as the lines come; raises `refuse(why)` at a line or record over `max_row_chars`,
    past `max_lines` lines, or at a NUL character. UnicodeDecodeError and csv.Error pass."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    taken = [0]  # characters read since the parser last gave a record

    def lines() -> Iterator[str]:
        for count, line in enumerate(iter(lambda: text.readline(max_row_chars), "")):
            taken[0] += len(line)
            cut = len(line) == max_row_chars and not line.endswith(("\n", "\r"))
            if cut or taken[0] > max_row_chars:
                raise refuse("a row too long")
            if count >= max_lines:
                raise refuse("too many lines")
            if "\x00" in line:
                raise refuse("a NUL character")
            yield line

    for line, cells in enumerate(csv.reader(lines()), start=1):
        taken[0] = 0
        yield line, cells
