"""The limits an import runs under; the caller passes them in (the importers read no settings)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_field_chars: int = 1_000_000  # a longer field rejects its row (the field is named), never a crash
    max_unzipped_bytes: int = 20 * 1024**3  # a zip (all members) or gzip expanding past this is refused
    batch_hint: int = 5000  # records the writer stores per batch (the importers stream regardless)
    max_line_chars: int | None = None  # a longer physical line rejects its row; None: from max_field_chars
    max_document_chars: int | None = None  # a single JSON document is loaded whole up to this; None: 64 MiB

    @property
    def line_limit(self) -> int:
        """The longest physical line read: what is past it is skipped to the next newline, never held."""
        return self.max_line_chars or 4 * self.max_field_chars + 65536

    @property
    def document_limit(self) -> int:
        return self.max_document_chars or max(64 * 1024**2, self.line_limit)

    @property
    def csv_field_hard_limit(self) -> int:
        """Where the csv module itself gives up (a quoted field spanning lines): the line limit."""
        return self.line_limit
