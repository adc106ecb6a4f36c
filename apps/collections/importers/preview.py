"""The upload page's preview tables: the first rows of a CSV as they are, or the first records of other formats."""
from __future__ import annotations

import csv
import io
from itertools import islice

from apps.collections.importers.encoding import Encoding, undo_mojibake
from apps.collections.importers.records import PostRecord

CELL_CHARS = 300  # a preview cell is for the eye: a 10 MB field must not travel to the browser
RECORD_COLUMNS = ["line", "platform_id", "account", "time", "kind", "text"]


def csv_preview(result: dict, text: str, delimiter: str, encoding: Encoding, rows: int,
                quoting: int = csv.QUOTE_MINIMAL, names: list[str] | None = None) -> None:
    """Header and first `rows` data rows of a decoded sample, as strings (``names``: a file without a
    header row, whose first row is data)."""
    csv.field_size_limit(max(len(text) + 1, 1 << 20))  # the sample is ~1 MB: any field of it fits
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quoting=quoting)
    if names is not None:
        header = list(names)
    else:
        header = [_cell(h.strip().lstrip("\ufeff"), encoding) for h in next(reader, [])]
    data = [[_cell(v, encoding) for v in row] for row in islice((r for r in reader if r), rows)]
    result.update(columns=header, rows=data, delimiter=delimiter)


def records_preview(result: dict, source, rows: int, label: str) -> None:
    """The first records of a JSON or tree source, one line each."""
    data = []
    for record in islice(source.records(), rows):
        if isinstance(record, PostRecord):
            data.append([str(record.line), record.platform_id, record.account.handle or record.account.platform_id,
                         record.time.isoformat() if record.time else "", record.kind, record.text[:CELL_CHARS]])
        else:
            data.append([str(record.line), "", "", "", "rejected", f"{record.field}: {record.reason}"])
    result.update(name=source.name, format=source.format, format_label=label, columns=RECORD_COLUMNS, rows=data)


def _cell(value: str, encoding: Encoding) -> str:
    if value.isascii():
        return value[:CELL_CHARS]
    if encoding.mojibake_layers:
        value = undo_mojibake(value, encoding.mojibake_layers)
    return value[:CELL_CHARS].encode("utf-8", "replace").decode("utf-8")  # bad bytes (surrogates) become '?'
