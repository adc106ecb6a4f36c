"""What the CSV importers share: finding their columns in the header, and rejecting a cell."""
from __future__ import annotations

from typing import ClassVar

from apps.collections.importers.detect import Profile, detect_profile, normalise_header, profile_for_chosen
from apps.collections.importers.limits import Limits
from apps.collections.importers.records import PostRecord, RejectedRecord


class CsvImporter:
    """A CSV format: built from the header (which it checks), then `parse_row` per data row."""

    format: ClassVar[str]
    label: ClassVar[str]
    kind: ClassVar[str] = "csv"
    merge_rows: ClassVar[bool] = False  # True: rows repeating a post add entities to it (co-share tables)
    profiles: ClassVar[tuple[Profile, ...]] = ()

    def __init__(
        self, header: list[str], *, name: str, limits: Limits = Limits(), chosen: bool = False, **_options
    ) -> None:
        self.name, self.header, self.limits = name, header, limits
        self.profile = (profile_for_chosen if chosen else detect_profile)(header, list(self.profiles), name)
        self._index: dict[str, int] = {}
        for i, column in enumerate(normalise_header(header)):
            self._index.setdefault(column, i)  # a repeated column: the first one counts

    def col(self, column: str) -> int | None:
        """The position of a column (case-insensitive), or None where the header lacks it."""
        return self._index.get(column.lower())

    def parse_row(self, line: int, row: list[str]) -> PostRecord | RejectedRecord:
        raise NotImplementedError

    def notes(self) -> dict:
        """Facts about the whole file for the import summary (called once the rows are read)."""
        return {}


def cell(row: list[str], index: int | None) -> str:
    """The stripped value of an optional column ('' where the header lacks it)."""
    return row[index].strip() if index is not None else ""
