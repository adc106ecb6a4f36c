"""The columnar analysis store: each collection's posts and interactions as Parquet (``ml.columnar``), which
the detectors read instead of the ORM (docs/architecture.md, "The analysis store").

One folder per collection, ``<ANALYSIS_STORE_DIR or MEDIA_ROOT/store>/collection-<id>/``, holding parts:

- ``file-<import file id>``: what one import file stored, written by ingest while it writes the rows
  (``StoreSink``) and renamed into place once the file is done and committed, so an append writes new files
  only, and a failed, cancelled or dead import leaves no part (its temporary files are removed with its rows);
- ``loose-<posts>-<max post id>``: rows that no import wrote (fixtures written straight into the tables).

The database stays the truth. ``store_ready`` compares the parts with the collection's finished import files
(and its loose posts) and builds what is missing from the database in one streaming pass: collections
imported before the store existed, a part whose rename a crash prevented, fixtures. Deleting a collection
removes its folder once the deletion commits (``store_remove_on_commit``).
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from apps.collections.models import Account, Collection, ImportFile, Interaction, Post
from apps.jobs.services import JobError

BUILD_CHUNK_ROWS = 50_000
IDENTITY = "collection.json"


class CollectionGone(JobError):
    """The collection was deleted while an analysis read it."""


def store_root() -> Path:
    return Path(settings.ANALYSIS_STORE_DIR or Path(settings.MEDIA_ROOT) / "store")


def store_dir(collection_id: int) -> Path:
    return store_root() / f"collection-{int(collection_id)}"


def file_part(import_file_id: int) -> str:
    return f"file-{int(import_file_id)}"


# -- ingest: written beside the rows ---------------------------------------------------------------
class StoreSink:
    """The store part of one import file, fed by ``IngestWriter.write`` after each batch commits.

    ``commit`` (called on the database's commit of the file's "done") makes the part visible; ``abort`` removes
    it. Encoded posts are read as ``apps.collections.ingest`` lays them out (see ``EncodedBatch``)."""

    def __init__(self, *, collection_id: int, import_file_id: int) -> None:
        from ml import columnar

        self.part = columnar.Part(store_dir(collection_id), file_part(import_file_id))

    def add(self, *, posts: list[tuple], post_ids: list[int], accounts: dict, account_ids: dict,
            merged: list[tuple] = (), entity_ids: dict | None = None) -> None:
        from ml import columnar

        if posts:
            times = columnar.times_utc([p[3] for p in posts])  # parsed once: interactions take their post's time
            self.part.add("posts", _posts_columns(posts, post_ids, accounts, account_ids, times))
            self.part.add("interactions", _interactions_columns(posts, post_ids, account_ids, times))
        if merged:
            self.part.add("interactions", _merged_columns(merged, entity_ids or {}))

    def commit(self) -> None:
        self.part.commit()

    def abort(self) -> None:
        self.part.abort()


def _posts_columns(posts, post_ids, accounts, account_ids, times) -> dict:
    # encoded post: (platform_id, account, text, time, language, kind, ref_post, ref_account, labels, links, acts)
    return {
        "id": post_ids,
        "account": [account_ids[p[1]] for p in posts],
        "time": times,
        "kind": [p[5] for p in posts],
        "platform_id": [p[0] for p in posts],
        "ref_post": [p[6] for p in posts],
        "ref_account": [None if p[7] is None else account_ids.get(p[7]) for p in posts],
        "placeholder": [bool(accounts[p[1]][6]) for p in posts],
        "labels": [p[8] for p in posts],
        "text": [p[2] for p in posts],
    }


def _interactions_columns(posts, post_ids, account_ids, times) -> dict:
    """The rows ``IngestWriter._interaction_rows`` stores, with the entity's value instead of its id and the time
    taken from the post's by its place in the batch: the entity rows, then the account actions (repost, quote,
    reply). Column by column: a comprehension per column costs a third of building and transposing tuples."""
    import pyarrow as pa

    sources = [account_ids[p[1]] for p in posts]
    linked = [(i, link) for i, p in enumerate(posts) for link in p[9]]
    acting = [i for i, p in enumerate(posts) if p[10]]
    n = len(linked)
    index = [i for i, _ in linked] + acting
    return {
        "post": [post_ids[i] for i in index],
        "account": [sources[i] for i in index],
        "action": [link[0] for _, link in linked] + [posts[i][5] for i in acting],
        "target": [link[1] for _, link in linked] + [None] * len(acting),
        "target_post": [""] * n + [posts[i][6] for i in acting],
        "target_account": [None] * n + [
            None if posts[i][7] is None else account_ids.get(posts[i][7]) for i in acting
        ],
        "time": times.take(pa.array(index, pa.int64())),
    }


def _merged_columns(merged, entity_ids: dict) -> dict:
    """Co-share rows that add an entity to a post stored earlier: (encoded post, interaction row)."""
    rows = []
    for post, row in merged:
        value = next(v for (k, v) in post[9] if entity_ids.get((k, v)) == row[5])
        rows.append((row[1], row[2], row[3], value, "", None, row[7]))
    return _rows_columns(rows)


INTERACTION_FIELDS = ("post", "account", "action", "target", "target_post", "target_account", "time")


def _rows_columns(rows: list[tuple]) -> dict:
    columns = list(zip(*rows)) if rows else [()] * len(INTERACTION_FIELDS)
    return dict(zip(INTERACTION_FIELDS, (list(c) for c in columns)))


# -- the parts a collection should have, built where missing ----------------------------------------
def store_ready(collection: Collection) -> tuple[Path, list[str]]:
    """The collection's store folder and its parts, after building the missing ones from the database.

    1. the collection must still exist (else ``CollectionGone``); a folder left by another collection of the same
       id (a database restored or recreated) is removed;
    2. wanted: a ``file-<id>`` part per finished import file, a ``loose-...`` part for rows no import wrote;
    3. missing parts are built in one streaming pass over the collection's rows, parts no longer wanted removed."""
    from ml import columnar

    _exists_or_gone(collection)
    folder = store_dir(collection.pk)
    _identity_check(collection, folder)
    done = set(ImportFile.objects.filter(collection=collection, status=ImportFile.Status.DONE).values_list(
        "id", flat=True))
    wanted = {file_part(i) for i in done}
    loose_name = _loose_name(collection)
    if loose_name:
        wanted.add(loose_name)
    present = columnar.parts_present(folder)
    for stale in present - wanted:
        if stale.startswith("loose-"):
            columnar.part_remove(folder, stale)
    missing = wanted - present
    if missing:
        try:
            _parts_build(collection, folder, {i for i in done if file_part(i) in missing},
                         loose_name if loose_name in missing else None)
        except FileNotFoundError:
            _exists_or_gone(collection)
            raise
        _exists_or_gone(collection)
    return folder, sorted(wanted)


def _loose_name(collection: Collection) -> str | None:
    """The loose part's name: counts and newest ids of the rows no import wrote (None when there are none, as in
    every imported collection).

    ``+collection_id`` keeps SQLite off the collection's index: it cannot tell that rows without an import file are
    rare, so it walked all of a collection's rows through it (2.9 s for the whole IRA file) where the import-file
    index finds the few loose ones at once. PostgreSQL plans by its statistics either way."""
    counts = []
    for model in (Post, Interaction):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(id), MAX(id) FROM {model._meta.db_table} "  # noqa: S608 (table names from models)
                "WHERE import_file_id IS NULL AND +collection_id = %s", [collection.pk])
            counts.append(cursor.fetchone())
        if not counts[0][0]:
            return None
    (posts, top_post), (acts, top_act) = counts
    return f"loose-{posts}-{top_post}-{acts or 0}-{top_act}"


def _exists_or_gone(collection: Collection) -> None:
    if not Collection.objects.filter(pk=collection.pk).exists():
        store_remove(collection.pk)
        raise CollectionGone(
            f"The collection “{collection.name}” was deleted while the analysis ran; nothing was saved."
        )


def _identity_check(collection: Collection, folder: Path) -> None:
    from ml import columnar

    identity = {"collection": collection.pk, "created_at": collection.created_at.isoformat()}
    path = folder / IDENTITY
    try:
        if json.loads(path.read_text()) == identity:
            return
        columnar.folder_remove(folder)
    except (OSError, ValueError):
        pass
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{IDENTITY}.tmp"
    tmp.write_text(json.dumps(identity))
    tmp.replace(path)


def _parts_build(collection: Collection, folder: Path, files: set[int], loose_name: str | None) -> None:
    """Build the parts of ``files`` (and the loose part) from the database: one pass over the posts, one over
    the interactions, each routed by its import file. Raw cursor reads in chunks: no model or per-row converter."""
    from ml import columnar

    parts = {i: columnar.Part(folder, file_part(i)) for i in files}
    if loose_name:
        parts[None] = columnar.Part(folder, loose_name)
    which = Q(import_file_id__in=list(files))
    if loose_name:
        which |= Q(import_file__isnull=True)
    placeholders = set(Account.objects.filter(collection=collection, placeholder=True).values_list("id", flat=True))
    try:
        posts = Post.objects.filter(Q(collection=collection) & which).values_list(
            "import_file_id", "id", "account_id", "time", "kind", "platform_id", "ref_post_id", "ref_account_id",
            "labels", "text")
        for file_id, rows in _routed(posts):
            ids = rows[1]
            parts[file_id].add("posts", {
                "id": ids, "account": rows[2], "time": rows[3], "kind": rows[4], "platform_id": rows[5],
                "ref_post": rows[6], "ref_account": rows[7], "placeholder": [a in placeholders for a in rows[2]],
                "labels": [_labels_text(v) for v in rows[8]], "text": rows[9],
            })
        interactions = Interaction.objects.filter(Q(collection=collection) & which).values_list(
            "import_file_id", "post_id", "source_account_id", "action", "target_entity__value", "target_post_id",
            "target_account_id", "time")
        for file_id, rows in _routed(interactions):
            parts[file_id].add("interactions", dict(zip(INTERACTION_FIELDS, rows[1:])))
        for part in parts.values():
            part.commit()
    except BaseException:
        for part in parts.values():
            part.abort()
        raise


def _labels_text(value) -> str:
    """A labels cell as the raw cursor returns it: JSON text (SQLite), or decoded (PostgreSQL's jsonb)."""
    if value is None:
        return "{}"
    return value if isinstance(value, str) else json.dumps(value)


def _routed(queryset):
    """(import file id, columns) per import file per chunk of ``BUILD_CHUNK_ROWS`` rows of ``queryset``, read
    through the driver's cursor (the first selected column is the import file id)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            chunk = cursor.fetchmany(BUILD_CHUNK_ROWS)
            if not chunk:
                return
            groups: dict = defaultdict(list)
            for row in chunk:
                groups[row[0]].append(row)
            for file_id, rows in groups.items():
                yield file_id, [list(c) for c in zip(*rows)]


# -- reads ------------------------------------------------------------------------------------------
def store_read(collection: Collection, table: str, columns: list[str], where=None):
    """``columns`` of the collection's ``table`` ("posts" or "interactions") as an Arrow table, optionally only
    the rows matching the ``pyarrow.compute`` expression ``where``. A collection deleted during the read ends
    the job with ``CollectionGone``."""
    from ml import columnar

    folder, parts = store_ready(collection)
    try:
        found = columnar.read(folder, table, parts, columns, where)
    except (FileNotFoundError, OSError):
        _exists_or_gone(collection)
        raise
    _exists_or_gone(collection)
    return found


def rows_max() -> int:
    """The most rows one analysis holds (``ANALYSIS_ROWS_MAX``): over it the latest are kept and the run says so."""
    return settings.MURMURATION["ANALYSIS_ROWS_MAX"]


# -- removal ----------------------------------------------------------------------------------------
def store_remove(collection_id: int) -> None:
    from ml import columnar

    columnar.folder_remove(store_dir(collection_id))


def store_remove_on_commit(collection_id: int) -> None:
    """Remove the collection's store once its deletion commits (a rolled-back deletion keeps it)."""
    transaction.on_commit(lambda: store_remove(collection_id))


def import_file_parts_remove(*, collection_id: int, import_file_id: int) -> None:
    """What a failed or dead import file left in the store: its temporary files (and a part, were there one)."""
    from ml import columnar

    folder = store_dir(collection_id)
    columnar.temporary_remove(folder, prefix=f"{file_part(import_file_id)}-")
    columnar.part_remove(folder, file_part(import_file_id))
