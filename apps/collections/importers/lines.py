"""Physical lines of a decoded stream, each read into a bounded buffer.

A file's iterator (what ``csv.reader`` would pull) reads a whole line however long it is: a 1 MB gzip
holding one 1 GiB line grew the parser past 2.5 GB. ``BoundedLines`` reads at most ``limit`` characters
of a line; a longer one is skipped to its newline chunk by chunk, noted in ``overlong`` (line, length
read, and the first ``limit`` characters, for naming the field) and stands as an empty line
in its place, so the line numbers of what follows stay right.
"""
from __future__ import annotations

import csv
import io
from typing import Iterator

_ENDINGS = ("\n", "\r")


class BoundedLines:
    def __init__(self, text: io.TextIOBase, limit: int) -> None:
        self._readline, self.limit = text.readline, limit
        self.line = 0  # physical lines handed out
        self.overlong: list[tuple[int, int, str]] = []

    def __iter__(self) -> Iterator[str]:
        readline, limit, overlong = self._readline, self.limit, self.overlong
        while True:
            line = readline(limit)
            if not line:
                return
            self.line += 1
            if len(line) == limit and not line.endswith(_ENDINGS):
                overlong.append((self.line, self._skip(limit), line))
                line = "\n"
            yield line

    def _skip(self, read: int) -> int:
        """Read the rest of an over-long line in bounded pieces; returns how long it was (a lower bound at EOF)."""
        while True:
            piece = self._readline(self.limit)
            read += len(piece)
            if not piece or piece.endswith(_ENDINGS):
                return read

    def reason(self, length: int) -> str:
        return f"line is longer than {self.limit:,} characters ({length:,} read); skipped to the next line"

    @staticmethod
    def field_at_cut(head: str, delimiter: str) -> int:
        """The position of the field an over-long CSV line was cut in (from the line's first ``limit`` characters)."""
        return max(len(next(csv.reader([head], delimiter=delimiter), [""])) - 1, 0)
