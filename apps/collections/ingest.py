"""The ingest writer: stores importers' records in batches, each batch atomic.

Importers (``apps.collections.importers``) parse; this module writes. Per batch, in one transaction:

1. take the write lock: the collection row on PostgreSQL, the database on SQLite (its transactions
   begin IMMEDIATE), so concurrent imports into a collection take turns and the checks below stay exact;
2. resolve accounts (posting accounts and the accounts of originals) to ids, inserting new ones;
3. drop posts already stored or repeated in the batch (duplicates), insert the rest;
4. resolve entities, insert the interactions of the new posts.

New rows get their ids before they are inserted (a PostgreSQL sequence, or past the table's maximum
under SQLite's write lock), so nothing is read back. Rows go in with ``COPY`` on PostgreSQL and
``executemany`` on SQLite; every row carries its ``ImportFile`` so a failed file can be removed whole.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterable

from django.db import connection, transaction

from apps.collections.importers.records import AccountRecord, PostRecord, RejectedRecord
from apps.collections.models import Account, Collection, Entity, ImportFile, Interaction, Post, RejectedRow

ENTITY_FIELDS = (("hashtag", "hashtags"), ("url", "urls"), ("domain", "domains"), ("mention", "mentions"), ("image", "images"))
SQLITE_CHUNK = 5000  # keys per IN (...): under SQLite's 32,766-variable limit

ACCOUNT_COLUMNS = [
    "id", "collection_id", "platform_id", "handle", "display_name", "followers", "following", "created", "labels",
    "observed", "import_file_id",
]
POST_COLUMNS = [
    "id", "collection_id", "platform_id", "account_id", "text", "time", "language", "kind", "ref_post_id",
    "ref_account_id", "labels", "import_file_id",
]
ENTITY_COLUMNS = ["id", "collection_id", "kind", "value"]
INTERACTION_COLUMNS = [
    "collection_id", "post_id", "source_account_id", "action", "target_account_id", "target_entity_id",
    "target_post_id", "time", "import_file_id",
]


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def time_formatter(postgres: bool):
    """Datetimes as each backend takes them: aware for psycopg, naive-UTC text for SQLite (as Django stores)."""
    if postgres:
        return lambda v: v if v is None or v.tzinfo else v.replace(tzinfo=timezone.utc)

    def sqlite_time(v: datetime | None):
        if v is None:
            return None
        if v.tzinfo is not None and v.utcoffset():
            v = v.astimezone(timezone.utc)
        return v.replace(tzinfo=None).isoformat(sep=" ")

    return sqlite_time


def rows_insert(model, columns: list[str], rows: list[tuple]) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if is_postgres():
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def ids_by_key(model, collection_id: int, key_column: str, keys: list[str], extra: str = "", extra_params=()) -> dict:
    """{key: id} of the rows of a collection whose ``key_column`` is among ``keys``."""
    if not keys:
        return {}
    table = model._meta.db_table
    found: dict = {}
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(
                f"SELECT {key_column}, id FROM {table} WHERE collection_id = %s {extra} AND {key_column} = ANY(%s)",
                [collection_id, *extra_params, list(keys)],
            )
            return dict(cursor.fetchall())
        for start in range(0, len(keys), SQLITE_CHUNK):
            chunk = keys[start : start + SQLITE_CHUNK]
            cursor.execute(
                f"SELECT {key_column}, id FROM {table} WHERE collection_id = %s {extra} AND {key_column} IN ({', '.join(['%s'] * len(chunk))})",
                [collection_id, *extra_params, *chunk],
            )
            found.update(cursor.fetchall())
    return found


def ids_allocate(model, n: int) -> list[int]:
    """``n`` fresh primary keys for ``model``; the caller holds the write lock (see the module doc)."""
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [n])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        top = cursor.fetchone()[0]
        return list(range(top + 1, top + n + 1))


class IngestWriter:
    """Writes one import file's records into a collection; keeps id caches across batches."""

    def __init__(self, *, collection: Collection, import_file: ImportFile, merge_rows: bool = False, labels: dict | None = None):
        self.collection_id = collection.pk
        self.file_id = import_file.pk
        self.merge_rows = merge_rows
        self.labels = labels or {}
        self.labels_json = json.dumps(self.labels) if self.labels else "{}"
        self.postgres = is_postgres()
        self.db_time = time_formatter(self.postgres)
        self.account_ids: dict[str, int] = {}
        self.stub_ids: set[int] = set()
        self.entity_ids: dict[tuple[str, str], int] = {}

    def write_batch(self, records: list[PostRecord]) -> tuple[int, int]:
        """Store a batch atomically; returns (stored, duplicates)."""
        with transaction.atomic():
            if self.postgres:
                Collection.objects.select_for_update().filter(pk=self.collection_id).values_list("pk").first()
            self._accounts_resolve(records)
            new, existing, duplicates = self._posts_partition(records)
            post_ids = self._posts_insert(new)
            interactions = self._interactions_for(new, post_ids)
            merged = 0
            if existing and self.merge_rows:
                extra = self._merge_interactions(existing, pending=interactions)
                merged = len({id(r) for r, _ in extra})
                interactions.extend(row for _, row in extra)
            duplicates += len(existing) - merged
            rows_insert(Interaction, INTERACTION_COLUMNS, interactions)
        return len(new) + merged, duplicates

    # -- accounts -------------------------------------------------------------------------------
    def _accounts_resolve(self, records: list[PostRecord]) -> None:
        posting: dict[str, AccountRecord] = {}
        referenced: dict[str, AccountRecord] = {}
        for record in records:
            posting.setdefault(record.account.platform_id, record.account)
            if record.ref_account is not None and record.ref_account.platform_id:
                referenced.setdefault(record.ref_account.platform_id, record.ref_account)
        self._stubs_promote([a for pid, a in posting.items() if self.account_ids.get(pid) in self.stub_ids])
        unknown = [pid for pid in {*posting, *referenced} if pid not in self.account_ids]
        if not unknown:
            return
        found = ids_by_key(Account, self.collection_id, "platform_id", unknown)
        stubs = ids_by_key(Account, self.collection_id, "platform_id", list(found), "AND observed = %s", [False])
        self.account_ids.update(found)
        self.stub_ids.update(stubs.values())
        self._stubs_promote([posting[pid] for pid in stubs if pid in posting])
        missing = [pid for pid in unknown if pid not in found]
        ids = ids_allocate(Account, len(missing))
        rows = [self._account_row(i, posting.get(pid) or referenced[pid], pid in posting) for i, pid in zip(ids, missing)]
        rows_insert(Account, ACCOUNT_COLUMNS, rows)
        self.account_ids.update(zip(missing, ids))
        self.stub_ids.update(i for i, pid in zip(ids, missing) if pid not in posting)

    def _account_row(self, account_id: int, account: AccountRecord, observed: bool) -> tuple:
        labels = {**account.labels, **self.labels} if observed else {}
        return (
            account_id, self.collection_id, account.platform_id, account.handle[:200], account.display_name[:500],
            account.followers, account.following, self.db_time(account.created), json.dumps(labels), observed, self.file_id,
        )

    def _stubs_promote(self, accounts: list[AccountRecord]) -> None:
        """An account first seen as an original's author, now seen posting: fill in what we know."""
        for account in accounts:
            account_id = self.account_ids[account.platform_id]
            Account.objects.filter(pk=account_id).update(
                handle=account.handle[:200], display_name=account.display_name[:500], followers=account.followers,
                following=account.following, created=account.created, labels={**account.labels, **self.labels}, observed=True,
            )
            self.stub_ids.discard(account_id)

    # -- posts ----------------------------------------------------------------------------------
    def _posts_partition(self, records: list[PostRecord]):
        """Split into new posts, rows whose post is already stored (or earlier in the batch), and repeats."""
        first: dict[str, PostRecord] = {}
        repeats: list[PostRecord] = []
        for record in records:
            if record.platform_id in first:
                repeats.append(record)
            else:
                first[record.platform_id] = record
        stored = ids_by_key(Post, self.collection_id, "platform_id", list(first))
        new = [r for pid, r in first.items() if pid not in stored]
        existing = [r for pid, r in first.items() if pid in stored]
        if self.merge_rows:
            return new, existing + repeats, 0
        return new, existing, len(repeats)

    def _posts_insert(self, records: list[PostRecord]) -> dict[str, int]:
        ids = ids_allocate(Post, len(records))
        rows_insert(Post, POST_COLUMNS, [self._post_row(i, r) for i, r in zip(ids, records)])
        return {r.platform_id: i for i, r in zip(ids, records)}

    def _post_row(self, post_id: int, r: PostRecord) -> tuple:
        ref_account = self.account_ids.get(r.ref_account.platform_id) if r.ref_account else None
        labels = json.dumps({**r.labels, **self.labels}) if r.labels else self.labels_json
        return (
            post_id, self.collection_id, r.platform_id, self.account_ids[r.account.platform_id], r.text,
            self.db_time(r.time), r.language[:20], r.kind, r.ref_post_id[:200], ref_account, labels, self.file_id,
        )

    # -- entities and interactions ---------------------------------------------------------------
    def _entities_resolve(self, records: Iterable[PostRecord]) -> None:
        wanted = {(kind, v[:1000]) for r in records for kind, attr in ENTITY_FIELDS for v in getattr(r, attr)}
        unknown = [key for key in wanted if key not in self.entity_ids]
        if not unknown:
            return
        by_kind: dict[str, list[str]] = {}
        for kind, value in unknown:
            by_kind.setdefault(kind, []).append(value)
        missing = []
        for kind, values in by_kind.items():
            found = ids_by_key(Entity, self.collection_id, "value", values, "AND kind = %s", [kind])
            self.entity_ids.update({(kind, v): i for v, i in found.items()})
            missing += [(kind, v) for v in values if v not in found]
        ids = ids_allocate(Entity, len(missing))
        rows_insert(Entity, ENTITY_COLUMNS, [(i, self.collection_id, k, v) for i, (k, v) in zip(ids, missing)])
        self.entity_ids.update(zip(missing, ids))

    def _interaction_rows(self, r: PostRecord, post_id: int) -> list[tuple]:
        source = self.account_ids[r.account.platform_id]
        time = self.db_time(r.time)
        entity_ids = self.entity_ids
        rows = []
        for kind, attr in ENTITY_FIELDS:
            values = getattr(r, attr)
            if values:
                rows.extend(
                    (self.collection_id, post_id, source, kind, None, entity_ids[(kind, v[:1000])], "", time, self.file_id)
                    for v in dict.fromkeys(values)
                )
        if r.kind != "post" and (r.ref_account or r.ref_post_id):
            target = self.account_ids.get(r.ref_account.platform_id) if r.ref_account else None
            rows.append((self.collection_id, post_id, source, r.kind, target, None, r.ref_post_id[:200], time, self.file_id))
        return rows

    def _interactions_for(self, records: list[PostRecord], post_ids: dict[str, int]) -> list[tuple]:
        self._entities_resolve(records)
        return [row for r in records for row in self._interaction_rows(r, post_ids[r.platform_id])]

    def _merge_interactions(self, existing: list[PostRecord], *, pending: list[tuple]) -> list[tuple[PostRecord, tuple]]:
        """Rows of a co-share table that repeat a post add that post's new entities, once each."""
        ids = ids_by_key(Post, self.collection_id, "platform_id", list({r.platform_id for r in existing}))
        self._entities_resolve(existing)
        have = self._entity_links(list(ids.values()))
        have.update((row[1], row[3], row[5]) for row in pending if row[5] is not None)
        out = []
        for record in existing:
            post_id = ids[record.platform_id]
            for row in self._interaction_rows(record, post_id):
                key = (post_id, row[3], row[5])
                if row[5] is not None and key not in have:
                    have.add(key)
                    out.append((record, row))
        return out

    def _entity_links(self, post_ids: list[int]) -> set[tuple[int, str, int]]:
        links = set()
        for start in range(0, len(post_ids), SQLITE_CHUNK):
            chunk = post_ids[start : start + SQLITE_CHUNK]
            links.update(
                Interaction.objects.filter(post_id__in=chunk, target_entity__isnull=False).values_list("post_id", "action", "target_entity_id")
            )
        return links


def rejected_store(*, import_file: ImportFile, rejected: list[RejectedRecord], kept_so_far: int, limit: int) -> int:
    """Keep the first ``limit`` rejected rows of a file (all are counted elsewhere); returns how many kept now."""
    keep = rejected[: max(limit - kept_so_far, 0)]
    RejectedRow.objects.bulk_create(
        [RejectedRow(import_file=import_file, line=r.line, field=r.field[:200], reason=r.reason[:2000]) for r in keep]
    )
    return len(keep)


def import_file_purge(*, import_file: ImportFile) -> None:
    """Remove every row an import file wrote (it failed, was cancelled, or its worker died)."""
    collection_id, file_id = import_file.collection_id, import_file.pk
    with transaction.atomic():
        post_ids = Post.objects.filter(import_file_id=file_id).values("id")
        Interaction.objects.filter(post_id__in=post_ids)._raw_delete(Interaction.objects.db)
        Interaction.objects.filter(collection_id=collection_id, import_file_id=file_id)._raw_delete(Interaction.objects.db)
        Post.objects.filter(import_file_id=file_id)._raw_delete(Post.objects.db)
        in_use = (
            Post.objects.filter(collection_id=collection_id).values("account_id"),
            Post.objects.filter(collection_id=collection_id, ref_account__isnull=False).values("ref_account_id"),
            Interaction.objects.filter(collection_id=collection_id, target_account__isnull=False).values("target_account_id"),
        )
        orphans = Account.objects.filter(collection_id=collection_id, import_file_id=file_id)
        for used in in_use:
            orphans = orphans.exclude(id__in=used)
        orphans._raw_delete(Account.objects.db)
        Entity.objects.filter(collection_id=collection_id).exclude(
            id__in=Interaction.objects.filter(collection_id=collection_id, target_entity__isnull=False).values("target_entity_id")
        )._raw_delete(Entity.objects.db)


def collection_purge(*, collection_id: int) -> None:
    """Remove a collection's bulk rows set-wise (called before the collection row is deleted)."""
    with transaction.atomic():
        for model in (Interaction, Post, Entity, Account):
            model.objects.filter(collection_id=collection_id)._raw_delete(model.objects.db)
