"""Opening uploaded files: plain, gzip, or zip members, each as a metered binary stream.

A stream counts the bytes it hands out, so a gzip that expands past the limit stops there (the
gzip header's size field is modulo 4 GiB and a zip's declared sizes can lie, so only counting is
safe), and so that progress can be reported cheaply.
"""
from __future__ import annotations

import gzip
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from apps.collections.importers.records import ImportFileError, clip

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson")
_DRIVE = re.compile(r"^[A-Za-z]:")
# What opening or reading a damaged zip member raises besides BadZipFile: zlib's and EOF errors from its
# data, NotImplementedError for an unknown compression method, OSError for an offset before the file's start.
MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError)


class StreamError(Exception):
    """The compressed stream broke mid-file; the reader adds the line it reached."""

    def __init__(self, problem: str, detail: str = "") -> None:
        super().__init__(problem)
        self.problem, self.detail = problem, detail

    def message(self, name: str, line: int | None) -> str:
        """The ImportFileError text: line 0 means within the first line, None a place not known."""
        if self.problem == "truncated":
            where = (
                ""
                if line is None
                else f" (it ends after line {line:,})"
                if line
                else " (it ends within the first line)"
            )
            return f"{name}: the gzip stream is truncated{where}; the file is incomplete"
        where = f" after line {line:,}" if line else ""
        return f"{name}: the {self.problem}{where} ({clip(self.detail)}); the file cannot be read"


def expansion_error(name: str, limit: int) -> ImportFileError:
    return ImportFileError(f"{name}: expands past the {limit:,}-byte limit (MAX_UNZIPPED_BYTES)")


@dataclass
class Budget:
    """Decompressed bytes allowed to one uploaded file (a zip's members share one)."""

    name: str
    limit: int
    used: int = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise expansion_error(self.name, self.limit)


class MeteredStream(io.BufferedIOBase):
    """A read-only binary stream that counts what it returns and turns codec failures into StreamError."""

    def __init__(self, inner: BinaryIO, budget: Budget | None, closers: tuple = ()) -> None:
        self._inner, self._budget, self._closers = inner, budget, closers
        self.bytes_out = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._count(self._guard(self._inner.read, size))

    def read1(self, size: int = -1) -> bytes:
        return self._count(self._guard(getattr(self._inner, "read1", self._inner.read), size))

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            for c in (self._inner, *self._closers):
                c.close()
        super().close()

    def _count(self, data: bytes) -> bytes:
        self.bytes_out += len(data)
        if self._budget is not None:
            self._budget.spend(len(data))
        return data

    @staticmethod
    def _guard(read: Callable, size) -> bytes:
        try:
            return read(size if size is not None else -1)
        except EOFError as exc:
            raise StreamError("truncated") from exc
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise StreamError("gzip stream is corrupt", str(exc)) from exc
        except zipfile.BadZipFile as exc:
            raise StreamError("zip member is corrupt", str(exc)) from exc


@dataclass
class Unit:
    """One importable stream of an upload: a file on disk, or a member of a zip."""

    name: str
    path: Path
    size_bytes: int
    member: zipfile.ZipInfo | None = None
    shared_budget: Budget | None = None
    _progress: Callable[[], float] = field(default=lambda: 0.0, repr=False)

    def open(self, limit: int, *, for_sample: bool = False) -> MeteredStream:
        """A fresh binary stream of the (decompressed) content; samples do not spend the shared budget."""
        budget = Budget(self.name, limit) if for_sample or self.shared_budget is None else self.shared_budget
        stream = self._open_file(budget) if self.member is None else self._open_member(budget)
        if for_sample:
            self._progress = lambda: 0.0  # progress is that of the records' stream, not of the sample's
        return stream

    def fraction_done(self) -> float:
        return min(1.0, self._progress())

    def _open_file(self, budget: Budget) -> MeteredStream:
        raw = open(self.path, "rb")
        size = max(self.size_bytes, 1)
        self._progress = lambda: 1.0 if raw.closed else raw.tell() / size
        if raw.read(2) == GZIP_MAGIC:
            raw.seek(0)
            return MeteredStream(gzip.GzipFile(fileobj=raw, mode="rb"), budget, closers=(raw,))
        raw.seek(0)
        return MeteredStream(raw, budget)

    def _open_member(self, budget: Budget) -> MeteredStream:
        archive = zipfile.ZipFile(self.path)
        try:  # a corrupt member fails here already: its local header, or its CRC where the probe reads it all
            with archive.open(self.member) as probe:
                gzipped = probe.read(2) == GZIP_MAGIC  # a .csv.gz inside the zip
            member = archive.open(self.member)
        except MEMBER_ERRORS as exc:
            archive.close()
            raise ImportFileError(StreamError("zip member is corrupt", str(exc)).message(self.name, None)) from exc
        size = max(self.member.file_size, 1)
        self._progress = lambda: 1.0 if member.closed else member.tell() / size
        if gzipped:
            return MeteredStream(gzip.GzipFile(fileobj=member, mode="rb"), budget, closers=(member, archive))
        return MeteredStream(member, budget, closers=(archive,))


def read_sample(unit: Unit, limit: int, size: int) -> bytes:
    """The first `size` decompressed bytes (fewer at the end, or where the stream breaks early)."""
    with unit.open(limit, for_sample=True) as stream:
        chunks, got = [], 0
        try:
            while got < size:
                chunk = stream.read(min(65536, size - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        except StreamError as exc:
            if not chunks:
                raise ImportFileError(exc.message(unit.name, 0)) from exc
            # else the reader meets it again, and then knows the line
        return b"".join(chunks)


def is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in ZIP_MAGICS


def open_zip(path: Path, name: str, limit: int) -> zipfile.ZipFile:
    """A zip whose member names stay inside it and whose declared sizes fit the limit, or ImportFileError."""
    # Besides BadZipFile, zipfile raises ValueError for a member name flagged UTF-8 that is not, and
    # NotImplementedError for a zip version it cannot read.
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise ImportFileError(f"{name}: not a readable zip archive ({exc})") from exc
    infos = archive.infolist()
    for info in infos:
        if escapes(info.filename):
            archive.close()
            raise ImportFileError(
                f"{name}: member '{clip(info.filename)}' escapes the archive folder; the archive was refused"
            )
    if sum(info.file_size for info in infos) > limit:
        archive.close()
        raise expansion_error(name, limit)
    encrypted = next((i.filename for i in infos if i.flag_bits & 0x1), None)
    if encrypted:
        archive.close()
        raise ImportFileError(f"{name}: member '{clip(encrypted)}' is encrypted; upload an archive without a password")
    return archive


def escapes(member_name: str) -> bool:
    """Absolute paths, drive letters and '..' components would write or read outside the folder."""
    parts = member_name.replace("\\", "/").split("/")
    return member_name.startswith(("/", "\\")) or bool(_DRIVE.match(member_name)) or ".." in parts


def data_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Members worth importing: CSV/JSON/text files (also gzipped), not folders or macOS resource forks."""
    keep = []
    for info in archive.infolist():
        base = info.filename.rsplit("/", 1)[-1].lower()
        if info.is_dir() or info.filename.startswith("__MACOSX/") or base.startswith("."):
            continue
        if base.removesuffix(".gz").endswith(DATA_SUFFIXES):
            keep.append(info)
    return keep
