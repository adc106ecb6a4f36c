"""Collections: create, import (as a job), and the overview's aggregates."""
from __future__ import annotations

import json
import logging
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path, PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.collections import importers
from apps.collections.ingest import IngestWriter, bulk_tables_analyze, import_file_purge, rejected_store
from apps.collections.models import Collection, ImportFile
from apps.collections.pipeline import Parsed, ParsedBatches
from apps.collections.selectors import import_file_list
from apps.collections.stats import collection_stats_refresh
from apps.collections.store import StoreSink, import_file_parts_remove
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.jobs.registry import job_kind_register
from apps.jobs.services import JobError, Progress, job_create, job_text

log = logging.getLogger(__name__)

IMPORT_KIND = "import"
GENERIC_FORMAT = "generic_csv"  # the format that reads a column mapping (and files without a header row)
# What the upload page and the API accept (the page's file chooser and upload.js read this list too).
UPLOAD_EXTENSIONS = (".csv", ".tsv", ".json", ".jsonl", ".gz", ".zip")


def collection_get_or_create(*, investigation: Investigation, name: str, user=None) -> Collection:
    name = name.strip()
    if not name:
        raise ValidationError({"collection": "A collection needs a name."})
    collection, _ = Collection.objects.get_or_create(
        investigation=investigation, name=name, defaults={"created_by": user}
    )
    return collection


def upload_save(*, files) -> list[dict]:
    """Keep uploaded files under MEDIA_ROOT/uploads/<uuid>/, where the import job (and a retry) reads them.
    A copy that fails half-way (a full disk, a dropped connection) removes the folder."""
    folder = Path(settings.MEDIA_ROOT) / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    try:
        for f in files:
            name = Path(f.name).name or "upload"
            target = folder / name
            with target.open("wb") as out:
                for chunk in f.chunks():
                    out.write(chunk)
            saved.append({"path": str(target), "name": name})
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return saved


def upload_import_start(
    *,
    investigation: Investigation,
    user,
    files: list,
    collection_name: str = "",
    format: str | None = None,
    mapping: dict | None = None,
    labels: dict | None = None,
    no_header: bool = False,
    enqueue: bool = True,
) -> Job:
    """The upload page's and the API's import of uploaded files (Django ``UploadedFile``s):

    1. refuse names outside ``UPLOAD_EXTENSIONS`` before anything is written;
    2. keep the files under MEDIA_ROOT/uploads (``upload_save``);
    3. start the import job (``import_start``), into the first file's name when no collection is named.
    When step 3 refuses (a ``ValidationError``) or fails in any way, the kept copies are removed, so a
    refused upload leaves nothing on disk."""
    if not files:
        raise ValidationError({"files": "Choose at least one file."})
    upload_names_check(names=[f.name for f in files])
    saved = upload_save(files=files)
    try:
        return import_start(
            investigation=investigation,
            user=user,
            files=saved,
            collection_name=collection_name or collection_name_from_file(saved[0]["name"]),
            format=format or None,
            mapping=mapping,
            labels=labels,
            no_header=no_header,
            enqueue=enqueue,
        )
    except BaseException:
        uploads_remove(files=saved)
        raise


def upload_names_check(*, names: list[str]) -> None:
    bad = [name for name in names if not name.lower().endswith(UPLOAD_EXTENSIONS)]
    if bad:
        raise ValidationError(
            {"files": f"Not a supported file type: {', '.join(bad)} (use {', '.join(UPLOAD_EXTENSIONS)})."}
        )


def collection_name_from_file(name: str) -> str:
    """``ira_tweets_2018.csv.gz`` -> ``ira_tweets_2018`` (the default collection name)."""
    path = PurePath(name)
    while path.suffix.lower() in UPLOAD_EXTENSIONS:
        path = path.with_suffix("")
    return path.name or name


def labels_parse(pairs: str | Iterable[str] | None) -> dict[str, str]:
    """``key=value`` labels to a dict: the upload page's box and the API's ``labels`` field (text, one per
    line) and ``import_collection --label`` (one per option) all come through here, so all three accept
    and refuse the same things. Blank lines and ``#`` comments are skipped."""
    lines = pairs.splitlines() if isinstance(pairs, str) else list(pairs or [])
    labels = {}
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"Write each label as key=value (got {line!r}).", code="labels")
        labels[key.strip()] = value.strip()
    return labels


def mapping_parse(raw: str | None) -> dict[str, str]:
    """The generic-CSV column mapping as the page and the API send it: JSON ``{field: column}``; fields
    left unmapped (an empty column) are dropped. Which fields exist is ``import_params_check``'s concern."""
    raw = (raw or "").strip()
    if not raw:
        return {}
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise ValidationError("The column mapping is not valid JSON.", code="mapping") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise ValidationError("The column mapping must map field names to column names.", code="mapping")
    return {k: v for k, v in mapping.items() if v}


def import_params_check(
    *, format: str | None, mapping: dict | None, labels: dict | None, no_header: bool = False
) -> None:
    if format and format not in importers.FORMATS:
        raise ValidationError(
            {"format": f"Unknown format {format!r}; choose one of {', '.join(sorted(importers.FORMATS))}."}
        )
    if no_header and format and format != GENERIC_FORMAT:
        generic = importers.FORMAT_LABELS[GENERIC_FORMAT]
        raise ValidationError({"format": f"A file without a header row can only be read as {generic}."})
    if no_header and not mapping:
        raise ValidationError(
            {"mapping": "A file without a header row needs a column mapping by position: col1 is the first column."}
        )
    for key in mapping or {}:
        if key not in importers.GENERIC_FIELDS and not key.startswith("label:"):
            raise ValidationError(
                {"mapping": f"Unknown field {key!r}; map one of {', '.join(importers.GENERIC_FIELDS)} or label:<key>."}
            )
    for key in labels or {}:
        if not key or not isinstance(key, str):
            raise ValidationError({"labels": "Label keys must be non-empty text."})


def import_start(
    *,
    investigation: Investigation,
    user,
    collection_name: str,
    files: list[dict],
    format: str | None = None,
    mapping: dict | None = None,
    labels: dict | None = None,
    no_header: bool = False,
    enqueue: bool = True,
) -> Job:
    """Start an import job of ``files`` ([{"path", "name"}]) into a collection (created if new).
    ``no_header``: the files' first row is data; the mapping names columns by position (col1, ...)."""
    if not files:
        raise ValidationError({"files": "Choose at least one file."})
    for f in files:
        if not Path(f["path"]).is_file():
            raise ValidationError({"files": f"{f['path']}: no such file."})
    import_params_check(format=format, mapping=mapping, labels=labels, no_header=no_header)
    if no_header:
        format = GENERIC_FORMAT
    with transaction.atomic():
        # A collection this import creates does not outlive the import's failure (see import_cleanup).
        created = not Collection.objects.filter(investigation=investigation, name=collection_name.strip()).exists()
        collection = collection_get_or_create(investigation=investigation, name=collection_name, user=user)
        params = {
            "collection_id": collection.pk,
            "collection_name": collection.name,
            "collection_created": created,
            "files": files,
            "format": format or None,
            "mapping": mapping or {},
            "labels": labels or {},
            "no_header": bool(no_header),
        }
        job = job_create(investigation=investigation, kind=IMPORT_KIND, params=params, user=user, enqueue=enqueue)
        names = [PurePath(f.get("name") or f["path"]).name for f in files]
        audit_record(investigation=investigation, user=user, action="import.start", obj=job,
                     summary=f"Started importing {len(names)} file(s) into the collection “{collection.name}”.",
                     detail={"collection_id": collection.pk, "files": names, "format": format or None})
        return job


def import_run(job: Job, progress: Progress) -> dict:
    """The import job: every source of every file, in batches, with accounting per file."""
    params = job.params
    collection = Collection.objects.filter(pk=params["collection_id"], investigation=job.investigation).first()
    if collection is None and params.get("collection_created"):  # a retry of a failed import that created it
        collection = collection_get_or_create(
            investigation=job.investigation, name=params["collection_name"], user=job.created_by
        )
    elif collection is None:
        raise JobError("The collection of this import was deleted.")
    files = params["files"]
    sizes = [max(Path(f["path"]).stat().st_size, 1) for f in files]
    total, done = float(sum(sizes)), 0.0
    limits = _limits()
    summaries = []
    for f, size in zip(files, sizes):
        sources = importers.open_sources(
            Path(f["path"]),
            name=f["name"],
            format=params.get("format"),
            mapping=params.get("mapping") or None,
            limits=limits,
            header=not params.get("no_header"),
        )
        try:
            for source in sources:
                share = size * max(source.size_bytes, 1) / max(size, 1)
                base = done
                def report(frac, stage, base=base, share=share):
                    # reading takes the bar to 98 %; the overview that follows reports 99 %: it never goes back
                    progress(0.98 * (base + frac * share) / total, stage)

                summaries.append(_source_import(job, collection, source, params.get("labels") or {}, report))
                done = base + share
        except importers.ImportFileError as exc:
            raise JobError(str(exc)) from exc
        done = sum(sizes[: files.index(f) + 1])
    progress(0.99, "Updating the collection overview", force=True)
    bulk_tables_analyze()
    collection_stats_refresh(collection=collection)
    totals = {k: sum(s[k] for s in summaries) for k in ("rows_read", "stored", "duplicates", "rejected")}
    progress.provenance(
        inputs=[{"collection": collection.pk, "name": collection.name, "posts": collection.stats.get("posts", 0)}]
    )
    return {"collection_id": collection.pk, "collection": collection.name, **totals, "files": summaries}


def _limits() -> "importers.Limits":
    conf = settings.MURMURATION
    return importers.Limits(
        max_field_chars=conf["MAX_FIELD_CHARS"],
        max_unzipped_bytes=conf["MAX_UNZIPPED_BYTES"],
        batch_hint=conf["INGEST_BATCH_ROWS"],
    )


def _source_import(job: Job, collection: Collection, source, labels: dict, report) -> dict:
    """Import one source, parsed in a child process (see ``pipeline``) while this one writes; on an
    unreadable file remove what it wrote and re-raise."""
    import_file = ImportFile.objects.create(
        collection=collection,
        job=job,
        name=source.name,
        format=source.format,
        status=ImportFile.Status.IMPORTING,
        started_at=timezone.now(),
    )
    merge = getattr(importers.FORMATS[source.format], "merge_rows", False)
    writer = IngestWriter(collection=collection, import_file=import_file, merge_rows=merge, labels=labels)
    writer.sink = StoreSink(collection_id=collection.pk, import_file_id=import_file.pk)
    counts = {"stored": 0, "duplicates": 0, "rejected": 0, "kept": 0}
    notes: dict = {}
    batches = ParsedBatches(source, encode=writer.encode, batch_rows=settings.MURMURATION["INGEST_BATCH_ROWS"])
    try:
        with writer, batches:
            for batch in batches:
                _flush(writer, import_file, batch, counts)
                notes = batch.notes or {}
                if not batch.last:
                    report(batch.fraction, f"Importing {source.name}: {batch.rows_read:,} rows read")
    except importers.ImportFileError as exc:
        writer.sink.abort()
        _file_fail(import_file, str(exc), batches.rows_read)
        raise
    except BaseException as exc:
        writer.sink.abort()
        _file_fail(import_file, f"{type(exc).__name__}: {exc}", batches.rows_read)
        raise
    ImportFile.objects.filter(pk=import_file.pk).update(status=ImportFile.Status.DONE, finished_at=timezone.now())
    transaction.on_commit(lambda: _store_commit(writer.sink))
    return {
        "file": source.name,
        "format": source.format,
        "rows_read": batches.rows_read,
        "stored": counts["stored"],
        "duplicates": counts["duplicates"],
        "rejected": counts["rejected"],
        **({"notes": notes} if notes else {}),
    }


def _store_commit(sink: StoreSink) -> None:
    """The file's part of the analysis store becomes visible once its "done" commits. Should the rename fail
    (a full disk), the part is dropped: the store builds it from the rows when an analysis first reads them."""
    try:
        sink.commit()
    except OSError:
        log.exception("the analysis store part of an import file could not be written; it will be rebuilt")
        sink.abort()


def _flush(writer: IngestWriter, import_file: ImportFile, batch: Parsed, counts: dict) -> None:
    stored, duplicates = writer.write(batch.records) if batch.records else (0, 0)
    counts["stored"] += stored
    counts["duplicates"] += duplicates
    counts["rejected"] += len(batch.rejected)
    if batch.rejected:
        counts["kept"] += rejected_store(
            import_file=import_file,
            rejected=batch.rejected,
            kept_so_far=counts["kept"],
            limit=settings.MURMURATION["MAX_REJECTED_KEPT"],
        )
    ImportFile.objects.filter(pk=import_file.pk).update(
        rows_read=batch.rows_read, stored=counts["stored"], duplicates=counts["duplicates"], rejected=counts["rejected"]
    )


def _file_fail(import_file: ImportFile, error: str, rows_read: int) -> None:
    import_file_purge(import_file=import_file)
    ImportFile.objects.filter(pk=import_file.pk).update(
        status=ImportFile.Status.FAILED,
        error=job_text(error),
        stored=0,
        finished_at=timezone.now(),
        rows_read=rows_read,
    )


def import_cleanup(job: Job) -> None:
    """A failed, cancelled or dead import keeps the files it finished and removes the rest whole."""
    for import_file in ImportFile.objects.filter(job=job).exclude(status=ImportFile.Status.DONE):
        import_file_purge(import_file=import_file)
        import_file_parts_remove(collection_id=import_file.collection_id, import_file_id=import_file.pk)
        fields = {"status": ImportFile.Status.FAILED, "stored": 0, "finished_at": timezone.now()}
        if not import_file.error:
            fields["error"] = "The import stopped before this file was complete; nothing of it was kept."
        ImportFile.objects.filter(pk=import_file.pk).update(**fields)
    collection_id = (job.params or {}).get("collection_id")
    collection = Collection.objects.filter(pk=collection_id).first()
    if collection is not None and _created_by_failed_import(job, collection):
        collection.delete()
    elif collection is not None:
        collection_stats_refresh(collection=collection)


def _created_by_failed_import(job: Job, collection: Collection) -> bool:
    """The import created the collection, kept none of its files, and no other import uses it."""
    files = ImportFile.objects.filter(collection=collection)
    return bool((job.params or {}).get("collection_created")) and not (
        files.exclude(job=job).exists() or files.filter(status=ImportFile.Status.DONE).exists()
    )


def import_page_context(job) -> dict:
    """The job page of an import lists its files with their rows read, stored and rejected."""
    return {"import_files": import_file_list(job=job)}


job_kind_register(
    name=IMPORT_KIND, run=import_run, cleanup=import_cleanup, label="Import", page_context=import_page_context
)


@transaction.atomic
def collection_delete(*, collection: Collection, user=None) -> None:
    audit_record(investigation=collection.investigation, user=user, action="collection.delete", obj=collection,
                 summary=f"Deleted the collection “{collection.name}”.", detail={"name": collection.name})
    collection.delete()


def uploads_remove(*, files: list[dict]) -> None:
    """Delete the stored copies of uploaded files (not paths given on the command line)."""
    root = (Path(settings.MEDIA_ROOT) / "uploads").resolve()
    for f in files:
        path = Path(f["path"]).resolve()
        if root in path.parents:
            shutil.rmtree(path.parent, ignore_errors=True)
