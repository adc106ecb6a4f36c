"""From an uploaded file to sources: what each importable unit is, and its stream of records.

``open_sources`` does everything that can refuse a file before a row is stored: archive checks, the
encoding, the header and the format. ``Source.records()`` then streams; what only shows mid-file
(a truncated gzip, expansion past the limit) raises ImportFileError from there.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import zipfile
from pathlib import Path
from typing import Callable, Iterator

from apps.collections.importers.coshare import CoshareImporter
from apps.collections.importers.csvrows import CsvRows, detect_delimiter, detect_quoting, positional_names, read_header
from apps.collections.importers.detect import UnrecognisedHeader, detect_profile
from apps.collections.importers.encoding import SAMPLE_BYTES, Encoding, sniff_encoding
from apps.collections.importers.generic import GenericCsvImporter, guess_mapping
from apps.collections.importers.ira import IraImporter
from apps.collections.importers.limits import Limits
from apps.collections.importers.preview import csv_preview, records_preview
from apps.collections.importers.records import ImportFileError, PostRecord, RejectedRecord, nul_field
from apps.collections.importers.streams import Budget, StreamError, Unit, data_members, is_zip, open_zip, read_sample
from apps.collections.importers.twitter_tree import TwitterTreeImporter, is_tree_zip
from apps.collections.importers.twitter_v2 import TwitterV2Importer, json_layout
from apps.collections.importers.x_io import XioImporter

FORMATS: dict[str, type] = {
    cls.format: cls
    for cls in (IraImporter, XioImporter, TwitterV2Importer, GenericCsvImporter, TwitterTreeImporter, CoshareImporter)
}
FORMAT_LABELS: dict[str, str] = {name: cls.label for name, cls in FORMATS.items()}
AUTO_CSV = (IraImporter, XioImporter, CoshareImporter)  # the generic CSV is never chosen without being asked
PREVIEW_LINE_CHARS = SAMPLE_BYTES  # a preview reads a bounded prefix: no line, nor JSON document, past these
PREVIEW_DOCUMENT_CHARS = 16 * SAMPLE_BYTES


class Source:
    """One importable unit of an upload, and the records it yields (one per physical row or tweet)."""

    def __init__(self, *, name: str, format: str, size_bytes: int, produce: Callable[[], Iterator],
                 progress: Callable[[], float], labels: dict | None = None, notes: Callable[[], dict] = dict,
                 checks_nul: bool = False) -> None:
        self.name, self.format, self.size_bytes = name, format, size_bytes
        self.rows_read = 0
        self._produce, self._progress, self._labels, self._notes = produce, progress, labels or {}, notes
        self._checks_nul = checks_nul  # CSV rows are checked cell by cell (csvrows); other formats here
        self._finished = False

    def records(self) -> Iterator[PostRecord | RejectedRecord]:
        self.rows_read, self._finished = 0, False
        labels, checks_nul = self._labels, self._checks_nul
        for record in self._produce():
            self.rows_read += 1
            if type(record) is PostRecord:
                if labels:
                    record.labels = {**labels, **record.labels}
                if checks_nul:
                    record = _nul_checked(record)
            yield record
        self._finished = True

    def notes(self) -> dict:
        """What the importer found worth telling about the whole file (e.g. shared author ids)."""
        return self._notes()

    def fraction_done(self) -> float:
        return 1.0 if self._finished else max(0.0, min(1.0, self._progress()))

    def __repr__(self) -> str:
        return f"<Source {self.name} ({self.format}, {self.size_bytes:,} bytes)>"


class _Sniffed:
    """What the first megabyte of a unit tells: encoding, decoded text, and for CSV the delimiter, the
    quoting and the header (without a header row: the names col1, col2, ... of the first row's fields)."""

    def __init__(self, unit: Unit, limits: Limits, header: bool = True) -> None:
        sample = read_sample(unit, limits.max_unzipped_bytes, SAMPLE_BYTES)
        if not sample.strip():
            raise ImportFileError(f"{unit.name}: the file is empty")
        self.encoding = sniff_encoding(sample)
        decoder = codecs.getincrementaldecoder(self.encoding.name)(self.encoding.errors)
        final = len(sample) < SAMPLE_BYTES
        self.text = decoder.decode(sample, final=final)
        stripped = self.text.lstrip("\ufeff \t\r\n")
        self.is_json = stripped.startswith(("{", "["))
        self.has_header = header
        self.delimiter = self.quoting = None
        self.header: list[str] = []
        if not self.is_json:
            self.delimiter = detect_delimiter(stripped.split("\n", 1)[0])
            self.quoting = detect_quoting(self.text, self.delimiter, final)
            first = read_header(self.text, self.delimiter, self.quoting)
            self.header = first if header else positional_names(len(first))


def open_sources(
    path: Path,
    *,
    name: str | None = None,
    format: str | None = None,
    mapping: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    limits: Limits = Limits(),
    header: bool = True,
) -> Iterator[Source]:
    """One Source per importable unit of an uploaded file (see the module docstring).

    A plain or gzipped file is one source; a zip of CSV/JSON files one per member
    ("upload.zip/member.csv"); a Twitter15/16 zip one source. `format=None` detects the format from
    the header or content; a chosen format is still checked. `labels` are added to every post.
    `header=False`: the CSV files have no header row, so only the generic CSV can read them, with a
    mapping that names columns by position (col1, col2, ...).
    All units are checked before the first is yielded, so a bad member refuses the upload whole.
    """
    name = name or path.name
    if format is not None and format not in FORMATS:
        raise ImportFileError(f"{name}: unknown format '{format}'; choose one of {', '.join(FORMATS)}")
    if not header and format not in (None, GenericCsvImporter.format):
        raise ImportFileError(f"{name}: a file without a header row can only be read as {GenericCsvImporter.label}")
    _readable(path, name)
    if is_zip(path):
        sources = _zip_sources(path, name, format, mapping, labels, limits, header)
    else:
        sources = [_source(Unit(name, path, path.stat().st_size), format, mapping, labels, limits, header)]
    yield from sources


def _readable(path: Path, name: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ImportFileError(f"{name}: cannot be read ({exc.strerror or exc})") from exc


def _zip_sources(
    path: Path, name: str, format: str | None, mapping, labels, limits: Limits, header: bool = True
) -> list[Source]:
    with open_zip(path, name, limits.max_unzipped_bytes) as archive:
        names = archive.namelist()
        members = data_members(archive)
    if format == "twitter_tree_zip" or (format is None and header and is_tree_zip(names)):
        if not is_tree_zip(names):
            raise ImportFileError(
                f"{name}: not a Twitter15/16 zip (it needs tree/<id>.txt files and label.txt or source_tweets.txt)"
            )
        importer = TwitterTreeImporter(path, name=name, limit=limits.max_unzipped_bytes, limits=limits)
        return [
            Source(
                name=name,
                format=importer.format,
                size_bytes=path.stat().st_size,
                produce=importer.records,
                progress=lambda: importer.progress,
                labels=labels,
                checks_nul=True,
            )
        ]
    if not members:
        raise ImportFileError(f"{name}: the archive holds no CSV or JSON files")
    budget = Budget(name, limits.max_unzipped_bytes)  # the members together expand at most this far
    units = [Unit(f"{name}/{m.filename}", path, m.compress_size, member=m, shared_budget=budget) for m in members]
    return [_source(unit, format, mapping, labels, limits, header) for unit in units]


def _source(unit: Unit, format: str | None, mapping, labels, limits: Limits, header: bool = True) -> Source:
    if format == "twitter_tree_zip":
        raise ImportFileError(f"{unit.name}: the Twitter15/16 format takes the zip of trees as uploaded")
    sniffed = _Sniffed(unit, limits, header)
    importer = _importer(sniffed, unit.name, format, mapping, limits)
    produce = (
        (lambda: _json_records(unit, sniffed.encoding, importer, limits))
        if importer.kind == "json"
        else (lambda: _csv_records(unit, sniffed, importer, limits))
    )
    return Source(
        name=unit.name,
        format=importer.format,
        size_bytes=unit.size_bytes,
        produce=produce,
        progress=unit.fraction_done,
        labels=labels,
        notes=getattr(importer, "notes", dict),
        checks_nul=importer.kind != "csv",
    )


def _nul_checked(record: PostRecord) -> PostRecord | RejectedRecord:
    field = nul_field(record)
    if field is None:
        return record
    return RejectedRecord(record.line, field, "holds a NUL character, which no text field may store")


def _importer(sniffed: _Sniffed, name: str, format: str | None, mapping, limits: Limits):
    """The importer for a unit: detected, or the chosen one checked against the content."""
    options = {"name": name, "limits": limits, "mapping": mapping}
    if sniffed.is_json:
        if not sniffed.has_header:
            raise ImportFileError(f"{name}: the file is JSON; only a CSV file can be read without a header row")
        if format not in (None, "twitter_v2_json"):
            raise ImportFileError(f"{name}: the file is JSON, not {FORMAT_LABELS[format]}")
        if json_layout(sniffed.text) is None:
            raise ImportFileError(
                f"{name}: JSON, but not {TwitterV2Importer.label} (expected an object with 'data', or "
                "one tweet or page per line)"
            )
        return TwitterV2Importer(sniffed.text, **options)
    if format == "twitter_v2_json":
        raise ImportFileError(f"{name}: not JSON; {TwitterV2Importer.label} expected")
    if not sniffed.has_header:  # nothing but a mapping by position can read it (open_sources checked the format)
        return GenericCsvImporter(sniffed.header, **options)
    if format is not None:
        return FORMATS[format](sniffed.header, chosen=True, **options)
    profile = detect_profile(sniffed.header, [p for cls in AUTO_CSV for p in cls.profiles], name)
    return FORMATS[profile.format](sniffed.header, **options)


def _csv_records(unit: Unit, sniffed: _Sniffed, importer, limits: Limits) -> Iterator[PostRecord | RejectedRecord]:
    encoding: Encoding = sniffed.encoding
    with unit.open(limits.max_unzipped_bytes) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding.name, errors=encoding.errors, newline="")
        rows = CsvRows(
            text,
            name=unit.name,
            delimiter=sniffed.delimiter,
            encoding=encoding,
            limits=limits,
            quoting=sniffed.quoting,
            names=None if sniffed.has_header else sniffed.header,
        )
        yield from rows.records(importer.parse_row)


def _json_records(unit: Unit, encoding: Encoding, importer, limits: Limits) -> Iterator[PostRecord | RejectedRecord]:
    with unit.open(limits.max_unzipped_bytes) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding.name, errors=encoding.errors)
        yield from importer.records(text)


def preview(
    path: Path, *, name: str | None = None, rows: int = 5, limits: Limits = Limits(), header: bool = True
) -> dict:
    """What the upload page shows: the detected format, the first rows, a guessed generic mapping.

    Never raises for bad content: the message goes into "error". A header no format recognises is
    no error here (format None): the page then asks for a column mapping. ``header=False``: the first
    row is data and the columns are named col1, col2, ... (the generic CSV is the format).
    """
    name = name or path.name
    limits = dataclasses.replace(
        limits,
        max_line_chars=min(limits.line_limit, PREVIEW_LINE_CHARS),
        max_document_chars=min(limits.document_limit, PREVIEW_DOCUMENT_CHARS),
    )
    result = {
        "name": name,
        "format": None,
        "format_label": None,
        "columns": [],
        "rows": [],
        "guessed_mapping": {},
        "encoding": None,
        "delimiter": None,
        "quoting": None,
        "header": header,
        "error": None,
    }
    try:
        _preview_fill(result, path, name, rows, limits, header)
    except ImportFileError as exc:
        result["error"] = str(exc)
    except (OSError, zipfile.BadZipFile, EOFError, UnicodeError, ValueError, csv.Error, StreamError) as exc:
        result["error"] = f"{name}: cannot be read ({exc})"
    return result


def _preview_fill(result: dict, path: Path, name: str, rows: int, limits: Limits, header: bool = True) -> None:
    unit = _first_unit(path, name, limits)
    if unit is None:  # a Twitter15/16 zip: its first records are the preview
        records_preview(
            result, next(open_sources(path, name=name, limits=limits)), rows, FORMAT_LABELS["twitter_tree_zip"]
        )
        return
    sniffed = _Sniffed(unit, limits, header)
    result.update(name=unit.name, encoding=sniffed.encoding.label)
    if sniffed.is_json:
        records_preview(result, _source(unit, None, None, None, limits), rows, TwitterV2Importer.label)
        return
    csv_preview(
        result,
        sniffed.text,
        sniffed.delimiter,
        sniffed.encoding,
        rows,
        sniffed.quoting,
        names=None if header else sniffed.header,
    )
    result["quoting"] = "none" if sniffed.quoting == csv.QUOTE_NONE else "csv"
    if not header:
        result.update(format=GenericCsvImporter.format, format_label=GenericCsvImporter.label)
        return
    result["guessed_mapping"] = guess_mapping(sniffed.header)
    try:
        importer = _importer(sniffed, unit.name, None, None, limits)
    except UnrecognisedHeader:
        return  # no error here: the page asks for a column mapping
    result.update(format=importer.format, format_label=importer.label)


def _first_unit(path: Path, name: str, limits: Limits) -> Unit | None:
    """The unit a preview shows: the file, or a zip's first data member (None for a tree zip)."""
    _readable(path, name)
    if not is_zip(path):
        return Unit(name, path, path.stat().st_size)
    with open_zip(path, name, limits.max_unzipped_bytes) as archive:
        names, members = archive.namelist(), data_members(archive)
    if is_tree_zip(names):
        return None
    if not members:
        raise ImportFileError(f"{name}: the archive holds no CSV or JSON files")
    return Unit(f"{name}/{members[0].filename}", path, members[0].compress_size, member=members[0])
