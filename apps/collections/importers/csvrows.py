"""CSV rows with their line numbers, checked for what every format needs before parsing.

Per row, in this order: blank lines are skipped; a physical line over the line limit (see ``lines``),
a row with the wrong number of fields, a field over the size limit, a field holding a NUL (PostgreSQL
text cannot store one, so no database gets it), or a field with bytes that are not UTF-8 becomes a
RejectedRecord; other rows go to the format's ``parse_row(line, fields)``. The size, NUL and UTF-8
checks share one join of the row, and the UTF-8 one looks only at rows that are not ASCII.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Callable, Iterator

from apps.collections.importers.encoding import Encoding, first_bad_byte, undo_mojibake
from apps.collections.importers.limits import Limits
from apps.collections.importers.lines import BoundedLines
from apps.collections.importers.records import ImportFileError, PostRecord, RejectedRecord
from apps.collections.importers.streams import StreamError

DELIMITERS = (",", "\t", ";", "|")
ALL_BAD_AFTER = 1000  # this many rows in a row with the wrong field count: the delimiter is wrong
ALL_BAD_MIN = 20  # a shorter file is refused only if it has at least this many rows, all wrong


def detect_delimiter(header_line: str) -> str:
    """The candidate that occurs most often outside quotes in the header line (',' on a tie or none)."""
    counts = Counter()
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in DELIMITERS:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_header(text: str, delimiter: str, quoting: int = csv.QUOTE_MINIMAL) -> list[str]:
    """The first row of a decoded sample."""
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))  # a sample's field cannot be longer
    # newline='': a file whose lines end in CR alone (old Mac exports) is read as lines, not as one bad field
    row = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting), [])
    return [cell.strip().lstrip("\ufeff") for cell in row]


def positional_names(n: int) -> list[str]:
    """The column names of a file without a header row: col1, col2, ... (what a mapping names them by)."""
    return [f"col{i}" for i in range(1, n + 1)]


def detect_quoting(text: str, delimiter: str, final: bool) -> int:
    """QUOTE_NONE for a tab-separated sample in which a quotation mark is text, else QUOTE_MINIMAL.

    A quotation mark is text when every line of the sample splits on tabs alone into the same number
    of fields (so no field needs quoting: none holds a tab or a line break) and no field is quoted
    the way a CSV writer quotes (a doubled quotation mark inside, or every field quoted). LIAR's TSV is
    such a file: read with CSV quoting, statements that open with a quotation mark lose it, and one
    that does not close it swallows the lines after it (two of train.tsv's rows in one)."""
    if delimiter != "\t" or '"' not in text:
        return csv.QUOTE_MINIMAL
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if not final:
        lines = lines[:-1]  # the sample ends mid-line
    counts = {line.count("\t") for line in lines if line}
    if len(counts) != 1:
        return csv.QUOTE_MINIMAL
    fields = [f for line in lines if line for f in line.split("\t") if f]
    quoted = [f for f in fields if len(f) > 1 and f[0] == '"' and f[-1] == '"']
    if (fields and len(quoted) == len(fields)) or any('""' in f[1:-1] for f in quoted):
        return csv.QUOTE_MINIMAL
    return csv.QUOTE_NONE


def delimiter_name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else f"'{delimiter}'"


def row_delimiter(row: list[str], delimiter: str, n_fields: int) -> str | None:
    """Another candidate delimiter that would split this row into the header's field count."""
    raw = delimiter.join(row)
    for other in DELIMITERS:
        if other != delimiter and raw.count(other) >= n_fields - 1 > 0:
            return other
    return None


class CsvRows:
    """The data rows of a decoded CSV stream as records; the header is read on construction."""

    def __init__(self, text: io.TextIOBase, *, name: str, delimiter: str, encoding: Encoding, limits: Limits,
                 quoting: int = csv.QUOTE_MINIMAL, names: list[str] | None = None) -> None:
        """``names``: the column names of a file without a header row (its first line is data)."""
        csv.field_size_limit(limits.csv_field_hard_limit)  # process-wide; every CSV reader here sets its own
        self.name, self.delimiter, self.encoding, self.limits = name, delimiter, encoding, limits
        self._lines = BoundedLines(text, limits.line_limit)
        self._reader = csv.reader(self._lines, delimiter=delimiter, quoting=quoting)
        self.header = list(names) if names is not None else [h.strip().lstrip("\ufeff") for h in self._header_row()]
        self._row_delimiters: Counter = Counter()  # what rejected rows seem split by
        self._n_fields, self._max_chars, self._checks_utf8 = (
            len(self.header),
            limits.max_field_chars,
            encoding.checks_utf8,
        )

    def records(
        self, parse: Callable[[int, list[str]], PostRecord | RejectedRecord]
    ) -> Iterator[PostRecord | RejectedRecord]:
        """`parse(line, fields)` for each row that passes the checks, a RejectedRecord for each that fails.

        1. Until the first row with the header's field count, field-count rejects are held back: if all
           of the first 1,000 rows (or of a file of 20 or more) are such, the delimiter is wrong and the
           file is refused before anything of it is stored.
        2. Then every row in turn. The line of a row is the physical line where it starts (header = 1;
           in a file without a header the first row is line 1).
        One loop, no nested generators: this runs 1.35 million times for one IRA file.
        """
        reader, check, n_fields = self._reader, self._check, self._n_fields
        fix = self._repaired if self.encoding.mojibake_layers else None
        overlong = self._lines.overlong
        held: list[RejectedRecord] = []
        start = reader.line_num + 1
        try:
            for row in reader:
                line, start = start, reader.line_num + 1
                if overlong:
                    yield from self._overlong()
                if not row:
                    continue  # a blank line is no row
                problem = check(line, row)
                if problem is not None and len(row) != n_fields:
                    held.append(problem)
                    if len(held) >= ALL_BAD_AFTER:
                        raise self._refuse(held)
                    continue
                yield from held
                yield problem if problem is not None else parse(line, fix(row) if fix else row)
                break
            else:
                if len(held) >= ALL_BAD_MIN:
                    raise self._refuse(held)
                yield from held
                yield from self._overlong()
                return
            for row in reader:
                line, start = start, reader.line_num + 1
                if overlong:
                    yield from self._overlong()
                if row:
                    problem = check(line, row)
                    yield problem if problem is not None else parse(line, fix(row) if fix else row)
            yield from self._overlong()
        except csv.Error as exc:
            raise ImportFileError(
                f"{self.name}: line {start:,}: {exc}; the file cannot be read past this line"
            ) from exc
        except StreamError as exc:
            raise ImportFileError(exc.message(self.name, reader.line_num)) from exc

    def _header_row(self) -> list[str]:
        try:
            return next(self._reader, [])
        except csv.Error as exc:
            raise ImportFileError(f"{self.name}: line 1: {exc}; the file cannot be read past this line") from exc
        except StreamError as exc:
            raise ImportFileError(exc.message(self.name, 0)) from exc

    def _check(self, line: int, row: list[str]) -> RejectedRecord | None:
        if len(row) != self._n_fields:
            return self._field_count_problem(line, row)
        joined = "".join(row)
        if len(joined) > self._max_chars:
            problem = self._size_problem(line, row)
            if problem is not None:
                return problem
        if "\x00" in joined:
            return self._nul_problem(line, row)
        if self._checks_utf8 and not joined.isascii() and first_bad_byte(joined) is not None:
            return self._utf8_problem(line, row)
        return None

    def _field_count_problem(self, line: int, row: list[str]) -> RejectedRecord:
        n = len(self.header)
        reason = f"expected {n} fields, found {len(row)}"
        other = row_delimiter(row, self.delimiter, n)
        if other:
            self._row_delimiters[other] += 1
            reason += f" (is the delimiter {delimiter_name(other)}?)"
        return RejectedRecord(line, "", reason)

    def _size_problem(self, line: int, row: list[str]) -> RejectedRecord | None:
        limit = self.limits.max_field_chars
        for column, value in zip(self.header, row):
            if len(value) > limit:
                return RejectedRecord(line, column, f"field is {len(value):,} characters; the limit is {limit:,}")
        return None

    def _overlong(self) -> Iterator[RejectedRecord]:
        lines = self._lines
        for line, length, head in lines.overlong:
            at = lines.field_at_cut(head, self.delimiter)
            yield RejectedRecord(line, self.header[at] if at < len(self.header) else "", lines.reason(length))
        lines.overlong.clear()

    def _nul_problem(self, line: int, row: list[str]) -> RejectedRecord:
        column = next(column for column, value in zip(self.header, row) if "\x00" in value)
        return RejectedRecord(line, column, "holds a NUL byte (0x00), which no text field may store")

    def _utf8_problem(self, line: int, row: list[str]) -> RejectedRecord | None:
        for column, value in zip(self.header, row):
            bad = first_bad_byte(value)
            if bad is not None:
                return RejectedRecord(line, column, f"not valid UTF-8 (byte 0x{bad:02X}); the file was read as UTF-8")
        return None

    def _repaired(self, row: list[str]) -> list[str]:
        layers = self.encoding.mojibake_layers
        return [value if value.isascii() else undo_mojibake(value, layers) for value in row]

    def _refuse(self, held: list[RejectedRecord]) -> ImportFileError:
        n, hd = len(self.header), self.delimiter
        head = f"{self.name}: none of the first {len(held):,} rows has the header's {n} fields"
        if self._row_delimiters:
            guess = delimiter_name(self._row_delimiters.most_common(1)[0][0])
            return ImportFileError(
                f"{head}; the rows look {guess}-delimited but the header is {delimiter_name(hd)}-delimited"
            )
        return ImportFileError(f"{head}; check the delimiter and the quoting")
