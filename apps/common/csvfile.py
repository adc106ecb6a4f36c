"""The one CSV writer for everything the portal lets people download.

Handles, hashtags, post texts and file names come from untrusted files. A spreadsheet opens a cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula
(``=HYPERLINK(...)`` phones home, ``=1+1`` computes), so every text cell that starts with one of
them is written with a leading ``'`` (OWASP's advice). Numbers are written as they are: a negative
delay stays a number.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` with every cell passed through :func:`safe_cell`; ``writerow`` returns what it wrote."""

    def __init__(self, out):
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable):
        return self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    SafeWriter(out).writerows(rows)
    return out.getvalue()


def csv_bytes(rows: Iterable[Iterable]) -> bytes:
    return csv_text(rows).encode()


class _Echo:
    def write(self, value):
        return value


def csv_streaming_response(rows: Iterable[Iterable], *, filename: str) -> StreamingHttpResponse:
    """A download of ``rows`` (the header first) written line by line as the iterable yields them."""
    writer = SafeWriter(_Echo())
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", filename)[:120] or "export.csv"
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}"'
    return response
