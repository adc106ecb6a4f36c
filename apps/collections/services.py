"""Collections: create, import (as a job), and the overview's aggregates."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.collections import importers
from apps.collections.ingest import IngestWriter, bulk_tables_analyze, import_file_purge, rejected_store
from apps.collections.models import Collection, ImportFile
from apps.collections.pipeline import Parsed, ParsedBatches
from apps.collections.stats import collection_stats_refresh
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.jobs.registry import job_kind_register
from apps.jobs.services import JobError, Progress, job_create

IMPORT_KIND = "import"


def collection_get_or_create(*, investigation: Investigation, name: str, user=None) -> Collection:
    name = name.strip()
    if not name:
        raise ValidationError({"collection": "A collection needs a name."})
    collection, _ = Collection.objects.get_or_create(investigation=investigation, name=name, defaults={"created_by": user})
    return collection


def upload_save(*, files) -> list[dict]:
    """Keep uploaded files under MEDIA_ROOT/uploads/<uuid>/, where the import job (and a retry) reads them."""
    folder = Path(settings.MEDIA_ROOT) / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for f in files:
        name = Path(f.name).name or "upload"
        target = folder / name
        with target.open("wb") as out:
            for chunk in f.chunks():
                out.write(chunk)
        saved.append({"path": str(target), "name": name})
    return saved


def import_params_check(*, format: str | None, mapping: dict | None, labels: dict | None) -> None:
    if format and format not in importers.FORMATS:
        raise ValidationError({"format": f"Unknown format {format!r}; choose one of {', '.join(sorted(importers.FORMATS))}."})
    for key in mapping or {}:
        if key not in importers.GENERIC_FIELDS and not key.startswith("label:"):
            raise ValidationError({"mapping": f"Unknown field {key!r}; map one of {', '.join(importers.GENERIC_FIELDS)} or label:<key>."})
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
    enqueue: bool = True,
) -> Job:
    """Start an import job of ``files`` ([{"path", "name"}]) into a collection (created if new)."""
    if not files:
        raise ValidationError({"files": "Choose at least one file."})
    for f in files:
        if not Path(f["path"]).is_file():
            raise ValidationError({"files": f"{f['path']}: no such file."})
    import_params_check(format=format, mapping=mapping, labels=labels)
    with transaction.atomic():
        collection = collection_get_or_create(investigation=investigation, name=collection_name, user=user)
        params = {
            "collection_id": collection.pk,
            "files": files,
            "format": format or None,
            "mapping": mapping or {},
            "labels": labels or {},
        }
        return job_create(investigation=investigation, kind=IMPORT_KIND, params=params, user=user, enqueue=enqueue)


def import_run(job: Job, progress: Progress) -> dict:
    """The import job: every source of every file, in batches, with accounting per file."""
    params = job.params
    collection = Collection.objects.get(pk=params["collection_id"], investigation=job.investigation)
    files = params["files"]
    sizes = [max(Path(f["path"]).stat().st_size, 1) for f in files]
    total, done = float(sum(sizes)), 0.0
    limits = _limits()
    summaries = []
    for f, size in zip(files, sizes):
        sources = importers.open_sources(
            Path(f["path"]), name=f["name"], format=params.get("format"), mapping=params.get("mapping") or None, limits=limits
        )
        try:
            for source in sources:
                share = size * max(source.size_bytes, 1) / max(size, 1)
                base = done
                report = lambda frac, stage: progress((base + frac * share) / total, stage)  # noqa: E731
                summaries.append(_source_import(job, collection, source, params.get("labels") or {}, report))
                done = base + share
        except importers.ImportFileError as exc:
            raise JobError(str(exc)) from exc
        done = sum(sizes[: files.index(f) + 1])
    progress(0.99, "Updating the collection overview", force=True)
    bulk_tables_analyze()
    collection_stats_refresh(collection=collection)
    totals = {k: sum(s[k] for s in summaries) for k in ("rows_read", "stored", "duplicates", "rejected")}
    progress.provenance(inputs=[{"collection": collection.pk, "name": collection.name, "posts": collection.stats.get("posts", 0)}])
    return {"collection_id": collection.pk, "collection": collection.name, **totals, "files": summaries}


def _limits() -> "importers.Limits":
    conf = settings.MURMURATION
    return importers.Limits(
        max_field_chars=conf["MAX_FIELD_CHARS"], max_unzipped_bytes=conf["MAX_UNZIPPED_BYTES"], batch_hint=conf["INGEST_BATCH_ROWS"]
    )


def _source_import(job: Job, collection: Collection, source, labels: dict, report) -> dict:
    """Import one source, parsed in a child process (see ``pipeline``) while this one writes; on an
    unreadable file remove what it wrote and re-raise."""
    import_file = ImportFile.objects.create(
        collection=collection, job=job, name=source.name, format=source.format, status=ImportFile.Status.IMPORTING,
        started_at=timezone.now(),
    )
    merge = getattr(importers.FORMATS[source.format], "merge_rows", False)
    writer = IngestWriter(collection=collection, import_file=import_file, merge_rows=merge, labels=labels)
    counts = {"stored": 0, "duplicates": 0, "rejected": 0, "kept": 0}
    batches = ParsedBatches(source, encode=writer.encode, batch_rows=settings.MURMURATION["INGEST_BATCH_ROWS"])
    try:
        with writer, batches:
            for batch in batches:
                _flush(writer, import_file, batch, counts)
                if not batch.last:
                    report(batch.fraction, f"Importing {source.name}: {batch.rows_read:,} rows read")
    except importers.ImportFileError as exc:
        _file_fail(import_file, str(exc), batches.rows_read)
        raise
    except BaseException as exc:
        _file_fail(import_file, f"{type(exc).__name__}: {exc}", batches.rows_read)
        raise
    ImportFile.objects.filter(pk=import_file.pk).update(status=ImportFile.Status.DONE, finished_at=timezone.now())
    return {
        "file": source.name, "format": source.format, "rows_read": batches.rows_read,
        "stored": counts["stored"], "duplicates": counts["duplicates"], "rejected": counts["rejected"],
    }


def _flush(writer: IngestWriter, import_file: ImportFile, batch: Parsed, counts: dict) -> None:
    stored, duplicates = writer.write(batch.records) if batch.records else (0, 0)
    counts["stored"] += stored
    counts["duplicates"] += duplicates
    counts["rejected"] += len(batch.rejected)
    if batch.rejected:
        counts["kept"] += rejected_store(
            import_file=import_file, rejected=batch.rejected, kept_so_far=counts["kept"], limit=settings.MURMURATION["MAX_REJECTED_KEPT"]
        )
    ImportFile.objects.filter(pk=import_file.pk).update(
        rows_read=batch.rows_read, stored=counts["stored"], duplicates=counts["duplicates"], rejected=counts["rejected"]
    )


def _file_fail(import_file: ImportFile, error: str, rows_read: int) -> None:
    import_file_purge(import_file=import_file)
    ImportFile.objects.filter(pk=import_file.pk).update(
        status=ImportFile.Status.FAILED, error=error, stored=0, finished_at=timezone.now(), rows_read=rows_read
    )


def import_cleanup(job: Job) -> None:
    """A failed, cancelled or dead import keeps the files it finished and removes the rest whole."""
    for import_file in ImportFile.objects.filter(job=job).exclude(status=ImportFile.Status.DONE):
        import_file_purge(import_file=import_file)
        fields = {"status": ImportFile.Status.FAILED, "stored": 0, "finished_at": timezone.now()}
        if not import_file.error:
            fields["error"] = "The import stopped before this file was complete; nothing of it was kept."
        ImportFile.objects.filter(pk=import_file.pk).update(**fields)
    collection_id = (job.params or {}).get("collection_id")
    collection = Collection.objects.filter(pk=collection_id).first()
    if collection is not None:
        collection_stats_refresh(collection=collection)


job_kind_register(name=IMPORT_KIND, run=import_run, cleanup=import_cleanup, label="Import")


def collection_delete(*, collection: Collection) -> None:
    collection.delete()


def uploads_remove(*, files: list[dict]) -> None:
    """Delete the stored copies of uploaded files (not paths given on the command line)."""
    root = (Path(settings.MEDIA_ROOT) / "uploads").resolve()
    for f in files:
        path = Path(f["path"]).resolve()
        if root in path.parents:
            shutil.rmtree(path.parent, ignore_errors=True)
