"""The limits an import runs under; the caller passes them in (the importers read no settings)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_field_chars: int = 1_000_000  # a longer field rejects its row (the field is named), never a crash
    max_unzipped_bytes: int = 20 * 1024**3  # a zip (all members) or gzip expanding past this is refused
    batch_hint: int = 5000  # records the writer stores per batch (the importers stream regardless)

    @property
    def csv_field_hard_limit(self) -> int:
        """Where the csv module itself gives up: past this one field would hold the rest of the file."""
        return max(64 * 1024**2, 4 * self.max_field_chars)
