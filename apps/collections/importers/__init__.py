"""Collection ingest, the parsing half: uploaded files in, normalised records out (no database here).

    for source in open_sources(path, name="upload.zip", limits=Limits(max_field_chars=...)):
        for record in source.records():   # PostRecord or RejectedRecord, streamed
            ...                           # source.rows_read, source.fraction_done() for progress

A file that cannot be read at all raises ImportFileError (from open_sources, or from records() for
what only shows mid-file, such as a truncated gzip); a bad row is a RejectedRecord with its line,
field and reason. See the modules for each format.
"""
from apps.collections.importers.generic import GENERIC_FIELDS, guess_mapping
from apps.collections.importers.limits import Limits
from apps.collections.importers.records import AccountRecord, ImportFileError, PostRecord, RejectedRecord
from apps.collections.importers.sources import FORMAT_LABELS, FORMATS, Source, open_sources, preview
from ml.entities import extract_hashtags, extract_mentions, extract_urls, normalize_url, url_domain

__all__ = [
    "FORMATS", "FORMAT_LABELS", "GENERIC_FIELDS", "AccountRecord", "ImportFileError", "Limits", "PostRecord",
    "RejectedRecord", "Source", "extract_hashtags", "extract_mentions", "extract_urls", "guess_mapping",
    "normalize_url", "open_sources", "preview", "url_domain",
]
