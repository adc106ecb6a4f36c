"""The ingest writer: stores importers' records in batches, each batch atomic.

Importers (``apps.collections.importers``) parse; this module writes. Per batch:

1. lock the collection row (PostgreSQL), so concurrent imports into one collection take turns and the
   existence checks below stay exact;
2. resolve accounts (posting accounts and the accounts of originals) to ids, inserting new ones;
3. drop posts already stored or repeated in the batch (they count as duplicates), insert the rest;
4. resolve entities, insert the interactions of the new posts.

Rows are inserted with ``executemany`` on SQLite and ``COPY`` on PostgreSQL; every row carries its
``ImportFile`` so a failed file can be removed whole (``import_file_purge``).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterable

from django.db import connection, transaction

from apps.collections.importers.records import AccountRecord, PostRecord, RejectedRecord
from apps.collections.models import Account, Collection, Entity, ImportFile, Interaction, Post, RejectedRow

ENTITY_FIELDS = (("hashtag", "hashtags"), ("url", "urls"), ("domain", "domains"), ("mention", "mentions"), ("image", "images"))
CHUNK = 900  # ids per IN (...) query: well under SQLite's variable limit


def _db_time(value: datetime | None):
    """Datetimes as each backend stores them: aware for psycopg, naive-UTC text for SQLite."""
    if value is None:
        return None
    if connection.vendor == "postgresql":
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(sep=" ")


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rows_insert(model, columns: list[str], rows: list[tuple]) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _ids_by(model, collection_id: int, key_column: str, keys: list[str], extra: str = "", extra_params=()) -> dict:
    table = model._meta.db_table
    found: dict = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(keys):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {key_column}, id FROM {table} WHERE collection_id = %s {extra} AND {key_column} IN ({marks})",
                [collection_id, *extra_params, *chunk],
            )
            found.update(cursor.fetchall())
    return found


class IngestWriter:
    """Writes one import file's records into a collection; keeps id caches across batches."""

    def __init__(self, *, collection: Collection, import_file: ImportFile, merge_rows: bool = False, labels: dict | None = None):
        self.collection = collection
        self.import_file = import_file
        self.merge_rows = merge_rows
        self.labels = labels or {}
        self.account_ids: dict[str, int] = {}
        self.stub_ids: set[int] = set()
        self.entity_ids: dict[tuple[str, str], int] = {}

    def write_batch(self, records: list[PostRecord]) -> tuple[int, int]:
        """Store a batch atomically; returns (stored, duplicates)."""
        with transaction.atomic():
            if connection.vendor == "postgresql":
                Collection.objects.select_for_update().filter(pk=self.collection.pk).values_list("pk").first()
            self._accounts_resolve(records)
            new, existing, duplicates = self._posts_partition(records)
            post_ids = self._posts_insert(new)
            interactions = self._interactions_for(new, post_ids)
            merged = 0
            if self.merge_rows and existing:
                extra = self._merge_interactions(existing, pending=interactions)
                merged = len({id(r) for r, _ in extra})
                interactions.extend(row for _, row in extra)
                duplicates += len(existing) - merged
            elif existing:
                duplicates += len(existing)
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
        found = _ids_by(Account, self.collection.pk, "platform_id", unknown)
        stubs = _ids_by(Account, self.collection.pk, "platform_id", list(found), "AND observed = %s", [False]) if found else {}
        self.account_ids.update(found)
        self.stub_ids.update(stubs.values())
        self._stubs_promote([posting[pid] for pid in stubs if pid in posting])
        missing = [pid for pid in unknown if pid not in found]
        rows = [self._account_row(posting.get(pid) or referenced[pid], observed=pid in posting) for pid in missing]
        rows_insert(Account, ACCOUNT_COLUMNS, rows)
        inserted = _ids_by(Account, self.collection.pk, "platform_id", missing)
        self.account_ids.update(inserted)
        self.stub_ids.update(inserted[pid] for pid in missing if pid not in posting)

    def _account_row(self, account: AccountRecord, *, observed: bool) -> tuple:
        labels = {**account.labels, **self.labels} if observed else {}
        return (
            self.collection.pk,
            account.platform_id,
            account.handle[:200],
            account.display_name[:500],
            account.followers,
            account.following,
            _db_time(account.created),
            json.dumps(labels),
            observed,
            self.import_file.pk,
        )

    def _stubs_promote(self, accounts: list[AccountRecord]) -> None:
        """An account first seen as an original's author, now seen posting: fill in what we know."""
        for account in accounts:
            account_id = self.account_ids[account.platform_id]
            Account.objects.filter(pk=account_id).update(
                handle=account.handle[:200],
                display_name=account.display_name[:500],
                followers=account.followers,
                following=account.following,
                created=account.created,
                labels={**account.labels, **self.labels},
                observed=True,
            )
            self.stub_ids.discard(account_id)

    # -- posts ----------------------------------------------------------------------------------
    def _posts_partition(self, records: list[PostRecord]):
        """Split into new posts, rows for posts already stored (or earlier in the batch), and duplicates."""
        first: dict[str, PostRecord] = {}
        repeats: list[PostRecord] = []
        for record in records:
            if record.platform_id in first:
                repeats.append(record)
            else:
                first[record.platform_id] = record
        stored = _ids_by(Post, self.collection.pk, "platform_id", list(first))
        new = [r for pid, r in first.items() if pid not in stored]
        existing = [(r, stored[pid]) for pid, r in first.items() if pid in stored]
        if self.merge_rows:
            existing += [(r, None) for r in repeats]  # resolved after the batch's new posts are in
            return new, existing, 0
        return new, existing, len(repeats)

    def _posts_insert(self, records: list[PostRecord]) -> dict[str, int]:
        rows = [self._post_row(r) for r in records]
        rows_insert(Post, POST_COLUMNS, rows)
        return _ids_by(Post, self.collection.pk, "platform_id", [r.platform_id for r in records])

    def _post_row(self, r: PostRecord) -> tuple:
        ref_account = self.account_ids.get(r.ref_account.platform_id) if r.ref_account else None
        labels = {**r.labels, **self.labels}
        return (
            self.collection.pk,
            r.platform_id,
            self.account_ids[r.account.platform_id],
            r.text,
            _db_time(r.time),
            r.language[:20],
            r.kind,
            r.ref_post_id[:200],
            ref_account,
            json.dumps(labels) if labels else "{}",
            self.import_file.pk,
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
            found = _ids_by(Entity, self.collection.pk, "value", values, "AND kind = %s", [kind])
            self.entity_ids.update({(kind, v): i for v, i in found.items()})
            missing += [(kind, v) for v in values if v not in found]
        rows_insert(Entity, ["collection_id", "kind", "value"], [(self.collection.pk, k, v) for k, v in missing])
        for kind in {k for k, _ in missing}:
            values = [v for k, v in missing if k == kind]
            found = _ids_by(Entity, self.collection.pk, "value", values, "AND kind = %s", [kind])
            self.entity_ids.update({(kind, v): i for v, i in found.items()})

    def _interaction_rows(self, r: PostRecord, post_id: int) -> list[tuple]:
        source = self.account_ids[r.account.platform_id]
        time = _db_time(r.time)
        base = (self.collection.pk, post_id, source)
        rows = [
            (*base, kind, None, self.entity_ids[(kind, v[:1000])], "", time, self.import_file.pk)
            for kind, attr in ENTITY_FIELDS
            for v in dict.fromkeys(getattr(r, attr))
        ]
        if r.kind != Post.Kind.POST and (r.ref_account or r.ref_post_id):
            target = self.account_ids.get(r.ref_account.platform_id) if r.ref_account else None
            rows.append((*base, r.kind, target, None, r.ref_post_id[:200], time, self.import_file.pk))
        return rows

    def _interactions_for(self, records: list[PostRecord], post_ids: dict[str, int]) -> list[tuple]:
        self._entities_resolve(records)
        return [row for r in records for row in self._interaction_rows(r, post_ids[r.platform_id])]

    def _merge_interactions(self, existing, *, pending: list[tuple]) -> list[tuple[PostRecord, tuple]]:
        """Rows of a co-share table that repeat a post add that post's new entities."""
        ids = _ids_by(Post, self.collection.pk, "platform_id", list({r.platform_id for r, _ in existing}))
        self._entities_resolve(r for r, _ in existing)
        have = self._entity_links(list(ids.values()))
        have.update((row[1], row[3], row[5]) for row in pending if row[5] is not None)
        out = []
        for record, _ in existing:
            post_id = ids[record.platform_id]
            for row in self._interaction_rows(record, post_id):
                key = (post_id, row[3], row[5])
                if row[5] is not None and key not in have:
                    have.add(key)
                    out.append((record, row))
        return out

    def _entity_links(self, post_ids: list[int]) -> set[tuple[int, str, int]]:
        links = set()
        for chunk in _chunks(post_ids):
            links.update(
                Interaction.objects.filter(post_id__in=chunk, target_entity__isnull=False).values_list(
                    "post_id", "action", "target_entity_id"
                )
            )
        return links


ACCOUNT_COLUMNS = [
    "collection_id", "platform_id", "handle", "display_name", "followers", "following", "created", "labels",
    "observed", "import_file_id",
]
POST_COLUMNS = [
    "collection_id", "platform_id", "account_id", "text", "time", "language", "kind", "ref_post_id",
    "ref_account_id", "labels", "import_file_id",
]
INTERACTION_COLUMNS = [
    "collection_id", "post_id", "source_account_id", "action", "target_account_id", "target_entity_id",
    "target_post_id", "time", "import_file_id",
]


def rejected_store(*, import_file: ImportFile, rejected: list[RejectedRecord], kept_so_far: int, limit: int) -> int:
    """Keep the first ``limit`` rejected rows of a file (all are counted elsewhere); returns how many kept now."""
    room = max(limit - kept_so_far, 0)
    keep = rejected[:room]
    RejectedRow.objects.bulk_create(
        [RejectedRow(import_file=import_file, line=r.line, field=r.field[:200], reason=r.reason[:2000]) for r in keep]
    )
    return len(keep)


def import_file_purge(*, import_file: ImportFile) -> None:
    """Remove every row an import file wrote (it failed, was cancelled, or its worker died)."""
    with transaction.atomic():
        file_id = import_file.pk
        post_ids = Post.objects.filter(import_file_id=file_id).values("id")
        Interaction.objects.filter(post_id__in=post_ids)._raw_delete(Interaction.objects.db)
        Interaction.objects.filter(import_file_id=file_id)._raw_delete(Interaction.objects.db)
        Post.objects.filter(import_file_id=file_id)._raw_delete(Post.objects.db)
        orphans = Account.objects.filter(import_file_id=file_id).exclude(
            id__in=Post.objects.filter(collection_id=import_file.collection_id).values("account_id")
        ).exclude(
            id__in=Post.objects.filter(collection_id=import_file.collection_id, ref_account__isnull=False).values("ref_account_id")
        ).exclude(
            id__in=Interaction.objects.filter(collection_id=import_file.collection_id, target_account__isnull=False).values(
                "target_account_id"
            )
        )
        orphans._raw_delete(Account.objects.db)
        Entity.objects.filter(collection_id=import_file.collection_id).exclude(
            id__in=Interaction.objects.filter(collection_id=import_file.collection_id, target_entity__isnull=False).values("target_entity_id")
        )._raw_delete(Entity.objects.db)
