"""Which format a header belongs to: each format lists the columns it knows and those it requires."""
from __future__ import annotations

from dataclasses import dataclass

from apps.collections.importers.records import ImportFileError, clip

SHOWN_COLUMNS = 30  # an error lists at most this many of a header's columns, each clipped


class UnrecognisedHeader(ImportFileError):
    """No format knows the header: an error for an import, the cue for a column mapping in a preview."""


@dataclass(frozen=True)
class Profile:
    """One header layout of a format (a format may have several, e.g. the IRA full and sample files)."""

    format: str
    label: str
    columns: tuple[str, ...]
    required: tuple[str, ...]

    def matched(self, header: set[str]) -> int:
        return len(header.intersection(self.columns))

    def score(self, header: set[str]) -> float:
        """Jaccard overlap: the full IRA header beats the sample layout although both share 7 columns."""
        return self.matched(header) / len(header.union(self.columns))

    def is_clear_match(self, header: set[str]) -> bool:
        """Half of its known columns (and at least two): enough to say "this is that format"."""
        return self.matched(header) >= max(2, len(self.columns) / 2)

    def missing(self, header: set[str]) -> list[str]:
        return [c for c in self.required if c not in header]


def normalise_header(header: list[str]) -> list[str]:
    return [h.strip().lstrip("\ufeff").strip().lower() for h in header]


def detect_profile(header: list[str], profiles: list[Profile], name: str) -> Profile:
    """The best-matching profile with all its required columns, or ImportFileError saying what is wrong."""
    columns = set(normalise_header(header))
    ranked = sorted((p for p in profiles if p.is_clear_match(columns)), key=lambda p: p.score(columns), reverse=True)
    complete = [p for p in ranked if not p.missing(columns)]
    if complete:
        return complete[0]
    if ranked:
        raise missing_columns_error(name, ranked[0], columns)
    shown = ", ".join(clip(h.strip()) for h in header[:SHOWN_COLUMNS])
    if len(header) > SHOWN_COLUMNS:
        shown += f", … ({len(header):,} columns)"
    raise UnrecognisedHeader(
        f"{name}: no importer recognises the header (columns: {shown}); choose a format, or the generic "
        "CSV with a column mapping"
    )


def profile_for_chosen(header: list[str], profiles: list[Profile], name: str) -> Profile:
    """The profile of an explicitly chosen format that fits the header best; still checked."""
    columns = set(normalise_header(header))
    best = max(profiles, key=lambda p: (not p.missing(columns), p.score(columns)))
    if best.missing(columns):
        raise missing_columns_error(name, best, columns, chosen=True)
    return best


def missing_columns_error(name: str, profile: Profile, columns: set[str], *, chosen: bool = False) -> ImportFileError:
    missing = ", ".join(profile.missing(columns))
    if chosen:
        return ImportFileError(f"{name}: lacks the column(s) that {profile.label} requires: {missing}")
    return ImportFileError(f"{name}: looks like {profile.label} but lacks required column(s): {missing}")
