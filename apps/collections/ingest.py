"""The ingest writer: stores importers' records in batches, each batch atomic.

Importers (``apps.collections.importers``) parse; this module writes, in two halves:

1. ``IngestWriter.encode`` needs no database, so it runs in the parser's process (``pipeline``): a
   batch of records becomes plain tuples holding values as the backend stores them (cheap to pickle),
   with the rows that repeat a post of the batch set apart and each account's first record picked.
2. ``IngestWriter.write`` stores an encoded batch in one transaction:
   a. take the write lock: the collection row on PostgreSQL, the database on SQLite (its transactions
      begin IMMEDIATE), so concurrent imports into a collection take turns and the checks below stay exact;
   b. resolve accounts (posting accounts and the accounts of originals) to ids, inserting new ones;
   c. drop posts already stored (duplicates), insert the rest;
   d. resolve entities, insert the interactions of the new posts.

New rows get their ids before they are inserted (a PostgreSQL sequence, or past the table's maximum
under SQLite's write lock), so nothing is read back. Statements go through the driver's own cursor
(``Store``): Django's wrapper costs microseconds a statement and, with DEBUG on, quotes every key of a
5,000-key lookup for its query log. Every row carries its ``ImportFile`` so a failed file can be removed
whole. The id caches are bounded (cleared when full): a file with millions of distinct URLs must not
grow the worker by their size, and a miss costs one indexed lookup among thousands in a batch.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator

from django.db import DatabaseError, connection, transaction

from apps.collections.importers.records import AccountRecord, PostRecord, RejectedRecord
from apps.collections.models import Account, Collection, Entity, ImportFile, Interaction, Post, RejectedRow
from apps.collections.pipeline import gc_paused

SQLITE_CHUNK = 5000  # keys per IN (...): under SQLite's 32,766-variable limit
# While an import writes, SQLite gets a page cache that holds the indexes it inserts into at random (post
# and entity keys are hashes and URLs), and checkpoints its WAL every 64 MB instead of every 4 MB:
# every commit writes each page it dirtied to the WAL, and every checkpoint copies them back.
SQLITE_IMPORT_PRAGMAS = {"cache_size": -256 * 1024, "wal_autocheckpoint": 65536}
ACCOUNT_CACHE_MAX = 200_000
ENTITY_CACHE_MAX = 200_000

ACCOUNT_COLUMNS = [
    "id", "collection_id", "platform_id", "handle", "display_name", "followers", "following", "created", "labels",
    "placeholder", "observed", "import_file_id",
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
    """Datetimes as text each backend takes: ISO with offset for PostgreSQL, naive-UTC for SQLite (as Django stores)."""
    def db_time(v: datetime | None):
        if v is None:
            return None
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        elif v.utcoffset():
            v = v.astimezone(timezone.utc)
        return v.isoformat(sep=" ") if postgres else v.replace(tzinfo=None).isoformat(sep=" ")

    return db_time


# -- the database, through the driver's cursor -------------------------------------------------------
class Store:
    """The few statements the writer needs, on one backend; used inside the writer's transaction."""

    def __init__(self) -> None:
        self.cursor = connection.connection.cursor()

    def lock(self, collection_id: int) -> None:
        """Serialise writers of one collection (see the module doc, step 2a)."""

    def ids_by_key(
        self, model, collection_id: int, column: str, keys: list[str], kind: str | None = None, where: str = ""
    ) -> dict:
        """{key: id} of the rows ``t`` of a collection (and entity kind, and ``where``) whose ``column`` is among
        ``keys``."""
        raise NotImplementedError

    def ids_allocate(self, model, n: int) -> list[int]:
        """``n`` fresh primary keys for ``model``; the caller holds the write lock."""
        raise NotImplementedError

    def insert(self, model, columns: list[str], rows: Iterable[tuple]) -> None:
        raise NotImplementedError

    def execute_many(self, sql: str, rows: list[tuple]) -> None:
        """``sql`` with %s placeholders, once per row."""
        raise NotImplementedError


class SqliteStore(Store):
    def ids_by_key(self, model, collection_id, column, keys, kind=None, where="") -> dict:
        test = f"t.collection_id = ? {'AND t.kind = ?' if kind else ''} {where} AND t.{column} IN"
        fixed = [collection_id, kind] if kind else [collection_id]
        found: dict = {}
        for start in range(0, len(keys), SQLITE_CHUNK):
            chunk = keys[start : start + SQLITE_CHUNK]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT t.{column}, t.id FROM {model._meta.db_table} t WHERE {test} ({marks})"
            found.update(self.cursor.execute(sql, [*fixed, *chunk]))
        return found

    def ids_allocate(self, model, n) -> list[int]:
        top = self.cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}").fetchone()[0]
        return list(range(top + 1, top + n + 1))

    def insert(self, model, columns, rows) -> None:
        marks = ", ".join("?" * len(columns))
        self.cursor.executemany(f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def execute_many(self, sql, rows) -> None:
        self.cursor.executemany(sql.replace("%s", "?"), rows)


class PostgresStore(Store):
    def lock(self, collection_id: int) -> None:
        # Asynchronous commit is safe here: a batch lost in a crash belongs to a file that never reached
        # "done" (a later synchronous commit flushes every earlier one), so the reaper purges it whole.
        # No JIT: it compiles for the planner's guess of a big table, for queries that touch 5,000 rows.
        self.cursor.execute("SET LOCAL synchronous_commit = off; SET LOCAL jit = off")
        self.cursor.execute(f"SELECT 1 FROM {Collection._meta.db_table} WHERE id = %s FOR UPDATE", [collection_id])

    def ids_by_key(self, model, collection_id, column, keys, kind=None, where="") -> dict:
        # One index probe per key, whatever the statistics say: `column = ANY(array)` lets the planner
        # scan a whole collection's keys and test each against the array when the table was never analysed.
        if not keys:
            return {}
        kind_test = "AND t.kind = %s" if kind else ""
        params = [collection_id, kind, list(keys)] if kind else [collection_id, list(keys)]
        probe = (
            f"SELECT t.id FROM {model._meta.db_table} t WHERE t.collection_id = %s {kind_test} "
            f"{where} AND t.{column} = k.key"
        )
        self.cursor.execute(
            f"SELECT * FROM (SELECT k.key, ({probe}) AS id FROM unnest(%s::text[]) AS k(key)) found "
            "WHERE id IS NOT NULL",
            params,
        )
        return dict(self.cursor.fetchall())

    def ids_allocate(self, model, n) -> list[int]:
        # The sequence is looked up once (as nextval's argument, pg_get_serial_sequence would run per id)
        # and the ids come back as one array: a row sent to the client costs more than the nextval in it.
        self.cursor.execute(
            "SELECT array_agg(nextval(s.seq)) "
            "FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) s, generate_series(1, %s)",
            [model._meta.db_table, n],
        )
        return self.cursor.fetchone()[0]

    def insert(self, model, columns, rows) -> None:
        with self.cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def execute_many(self, sql, rows) -> None:
        self.cursor.executemany(sql, rows)


# -- encoded batches ---------------------------------------------------------------------------------
# An encoded post: (platform_id, account_id, text, time, language, kind, ref_post_id, ref_account_id,
# labels, links, acts): account ids are platform ids, time is the backend's text (None: no time), labels
# are JSON, links are the (kind, value) entities the post names, once each, and `acts` says whether the
# post also has an account interaction (repost, quote, reply) with its original. A post without a time
# or with a placeholder author has neither: an interaction is an account's act at a time, and every
# reader of interactions (coordination, co-action, networks, timelines) takes it as one.
# An encoded account: (handle, display_name, followers, following, created, labels, placeholder).
@dataclass(slots=True)
class EncodedBatch:
    posts: list[tuple]  # the first row of each post in the batch
    repeats: list[tuple]  # later rows of a post the batch already holds
    accounts: dict[str, tuple]  # posting accounts by platform id, from their first row
    referenced: dict[str, tuple]  # accounts of originals that do not post in the batch

    def __len__(self) -> int:
        return len(self.posts) + len(self.repeats)


class IngestWriter:
    """Writes one import file's records into a collection; keeps id caches across batches."""

    def __init__(
        self, *, collection: Collection, import_file: ImportFile, merge_rows: bool = False, labels: dict | None = None
    ):
        self.collection_id = collection.pk
        self.file_id = import_file.pk
        self.merge_rows = merge_rows
        self.labels = labels or {}
        self.labels_json = json.dumps(self.labels) if self.labels else "{}"
        self.postgres = is_postgres()
        self.db_time = time_formatter(self.postgres)
        self._last_time, self._last_text = None, None
        self.account_ids: dict[str, int] = {}
        self.stub_ids: set[int] = set()
        self.entity_ids: dict[tuple[str, str], int] = {}
        self._pragmas_before: dict[str, int] = {}
        # The analysis store's part of this file (``apps.collections.store.StoreSink``): given each batch's new
        # rows once they commit. None: the rows go to the database only.
        self.sink = None

    def __enter__(self) -> IngestWriter:
        """Tune the connection for bulk writes while an import runs (SQLite; see SQLITE_IMPORT_PRAGMAS)."""
        if not self.postgres:
            self._pragmas_before = {name: _pragma(name) for name in SQLITE_IMPORT_PRAGMAS}
            for name, value in SQLITE_IMPORT_PRAGMAS.items():
                _pragma(name, value)
        return self

    def __exit__(self, *exc_info) -> None:
        if not self._pragmas_before:
            return
        try:
            for name, value in self._pragmas_before.items():
                _pragma(name, value)
            _pragma("shrink_memory")  # give the import's page cache back
        except DatabaseError:
            pass  # the connection is gone, and its settings with it; the import's own error matters more

    def write_batch(self, records: list[PostRecord]) -> tuple[int, int]:
        """Store a batch of records atomically; returns (stored, duplicates)."""
        return self.write(self.encode(records))

    # -- step 1: encode (no database) ------------------------------------------------------------------
    def encode(self, records: list[PostRecord]) -> EncodedBatch:
        batch = EncodedBatch([], [], {}, {})
        seen: set[str] = set()
        for r in records:
            (batch.repeats if r.platform_id in seen else batch.posts).append(self._post_encoded(r))
            seen.add(r.platform_id)
            if r.account.platform_id not in batch.accounts:
                batch.accounts[r.account.platform_id] = self._account_encoded(r.account, observed=True)
            ref = r.ref_account
            if ref is not None and ref.platform_id and ref.platform_id not in batch.referenced:
                batch.referenced[ref.platform_id] = self._account_encoded(ref, observed=False)
        for platform_id in batch.accounts:
            batch.referenced.pop(platform_id, None)  # an account seen posting is stored as observed
        return batch

    def _post_encoded(self, r: PostRecord) -> tuple:
        if r.time is not self._last_time:  # an account's posts come in bursts with the same time object
            self._last_time, self._last_text = r.time, self.db_time(r.time)
        ref = r.ref_account
        acting = r.time is not None and not r.account.placeholder
        return (
            r.platform_id,
            r.account.platform_id,
            r.text,
            self._last_text,
            r.language[:20],
            r.kind,
            r.ref_post_id[:200],
            ref.platform_id if ref is not None else None,
            json.dumps({**r.labels, **self.labels}) if r.labels else self.labels_json,
            _links(r) if acting else (),
            acting and r.kind != "post" and (ref is not None or bool(r.ref_post_id)),
        )

    def _account_encoded(self, account: AccountRecord, *, observed: bool) -> tuple:
        labels = json.dumps({**account.labels, **self.labels}) if observed else "{}"
        return (
            account.handle[:200],
            account.display_name[:500],
            account.followers,
            account.following,
            self.db_time(account.created),
            labels,
            account.placeholder,
        )

    # -- step 2: write (one transaction) --------------------------------------------------------------
    def write(self, batch: EncodedBatch) -> tuple[int, int]:
        """Store an encoded batch atomically; returns (stored, duplicates)."""
        with gc_paused(), transaction.atomic():
            db = PostgresStore() if self.postgres else SqliteStore()
            db.lock(self.collection_id)
            self._caches_bound()
            self._accounts_resolve(db, batch)
            stored = db.ids_by_key(Post, self.collection_id, "platform_id", [p[0] for p in batch.posts])
            new = [p for p in batch.posts if p[0] not in stored]
            existing = [p for p in batch.posts if p[0] in stored]
            post_ids = self._posts_insert(db, new)
            self._entities_resolve(db, new)
            interactions = self._interactions_for(new, post_ids)
            duplicates, merged, extra = len(existing) + len(batch.repeats), 0, []
            if self.merge_rows and duplicates:  # a co-share row repeating a post may add entities to it
                interactions = list(interactions)
                extra = self._merge_interactions(db, existing + batch.repeats, pending=interactions)
                merged = len({id(p) for p, _ in extra})
                interactions.extend(row for _, row in extra)
            db.insert(Interaction, INTERACTION_COLUMNS, interactions)
        if self.sink is not None:  # after the commit: the store never holds a row the database lost
            self.sink.add(posts=new, post_ids=post_ids, accounts=batch.accounts, account_ids=self.account_ids,
                          merged=extra, entity_ids=self.entity_ids)
        return len(new) + merged, duplicates - merged

    def _caches_bound(self) -> None:
        """Start the id caches afresh when full; only between batches, as a batch's rows need its ids."""
        if len(self.account_ids) > ACCOUNT_CACHE_MAX:
            self.account_ids.clear()
            self.stub_ids.clear()
        if len(self.entity_ids) > ENTITY_CACHE_MAX:
            self.entity_ids.clear()

    # -- accounts -------------------------------------------------------------------------------------
    def _accounts_resolve(self, db: Store, batch: EncodedBatch) -> None:
        posting, cache = batch.accounts, self.account_ids
        self._stubs_promote(db, {pid: a for pid, a in posting.items() if cache.get(pid) in self.stub_ids})
        unknown = [pid for pid in (*posting, *batch.referenced) if pid not in cache]
        if not unknown:
            return
        found = db.ids_by_key(Account, self.collection_id, "platform_id", unknown)
        stubs = db.ids_by_key(Account, self.collection_id, "platform_id", list(found), where="AND NOT t.observed")
        cache.update(found)
        self.stub_ids.update(stubs.values())
        self._stubs_promote(db, {pid: posting[pid] for pid in stubs if pid in posting})
        missing = [pid for pid in unknown if pid not in found]
        if missing:
            ids = db.ids_allocate(Account, len(missing))
            db.insert(
                Account,
                ACCOUNT_COLUMNS,
                [
                    self._account_row(i, pid, posting.get(pid) or batch.referenced[pid], pid in posting)
                    for i, pid in zip(ids, missing)
                ],
            )
            cache.update(zip(missing, ids))
            self.stub_ids.update(i for i, pid in zip(ids, missing) if pid not in posting)

    def _account_row(self, account_id: int, platform_id: str, account: tuple, observed: bool) -> tuple:
        return (account_id, self.collection_id, platform_id, *account, observed, self.file_id)

    def _stubs_promote(self, db: Store, accounts: dict[str, tuple]) -> None:
        """Accounts first seen as an original's author, now seen posting: fill in what we know."""
        if not accounts:
            return
        db.execute_many(
            f"UPDATE {Account._meta.db_table} SET handle = %s, display_name = %s, followers = %s, following = %s, "
            "created = %s, labels = %s, placeholder = %s, observed = %s WHERE id = %s",
            [(*account, True, self.account_ids[pid]) for pid, account in accounts.items()],
        )
        self.stub_ids.difference_update(self.account_ids[pid] for pid in accounts)

    # -- posts ----------------------------------------------------------------------------------------
    def _posts_insert(self, db: Store, posts: list[tuple]) -> list[int]:
        if not posts:
            return []
        ids = db.ids_allocate(Post, len(posts))
        accounts, coll, file_id = self.account_ids, self.collection_id, self.file_id
        db.insert(
            Post,
            POST_COLUMNS,
            (
                (
                    i,
                    coll,
                    pid,
                    accounts[account],
                    text,
                    time,
                    language,
                    kind,
                    ref_post,
                    None if ref_account is None else accounts.get(ref_account),
                    labels,
                    file_id,
                )
                for i, (pid, account, text, time, language, kind, ref_post, ref_account, labels, _, _) in zip(
                    ids, posts
                )
            ),
        )
        return ids

    # -- entities and interactions --------------------------------------------------------------------
    def _entities_resolve(self, db: Store, posts: list[tuple]) -> None:
        cache = self.entity_ids
        unknown = {link for p in posts for link in p[9] if link not in cache}
        if not unknown:
            return
        by_kind: dict[str, list[str]] = {}
        for kind, value in unknown:
            by_kind.setdefault(kind, []).append(value)
        missing = []
        for kind, values in by_kind.items():
            found = db.ids_by_key(Entity, self.collection_id, "value", values, kind)
            cache.update(((kind, v), i) for v, i in found.items())
            missing += [(kind, v) for v in values if v not in found]
        if missing:
            ids = db.ids_allocate(Entity, len(missing))
            db.insert(Entity, ENTITY_COLUMNS, [(i, self.collection_id, k, v) for i, (k, v) in zip(ids, missing)])
            cache.update(zip(missing, ids))

    def _interaction_rows(self, post: tuple, post_id: int) -> list[tuple]:
        _, account, _, time, _, kind, ref_post, ref_account, _, links, acts = post
        coll, file_id, source, entities = self.collection_id, self.file_id, self.account_ids[account], self.entity_ids
        rows = [(coll, post_id, source, link[0], None, entities[link], "", time, file_id) for link in links]
        if acts:
            target = None if ref_account is None else self.account_ids.get(ref_account)
            rows.append((coll, post_id, source, kind, target, None, ref_post, time, file_id))
        return rows

    def _interactions_for(self, posts: list[tuple], post_ids: list[int]) -> Iterator[tuple]:
        """Made while they are sent: PostgreSQL inserts the first rows while Python makes the rest."""
        for post, post_id in zip(posts, post_ids):
            yield from self._interaction_rows(post, post_id)

    def _merge_interactions(
        self, db: Store, existing: list[tuple], *, pending: list[tuple]
    ) -> list[tuple[tuple, tuple]]:
        """Rows of a co-share table that repeat a post add that post's new entities, once each."""
        ids = db.ids_by_key(Post, self.collection_id, "platform_id", list({p[0] for p in existing}))
        self._entities_resolve(db, existing)
        have = self._entity_links(list(ids.values()))
        have.update((row[1], row[3], row[5]) for row in pending if row[5] is not None)
        out = []
        for post in existing:
            post_id = ids[post[0]]
            for row in self._interaction_rows(post, post_id):
                key = (post_id, row[3], row[5])
                if row[5] is not None and key not in have:
                    have.add(key)
                    out.append((post, row))
        return out

    def _entity_links(self, post_ids: list[int]) -> set[tuple[int, str, int]]:
        links = set()
        for start in range(0, len(post_ids), SQLITE_CHUNK):
            chunk = post_ids[start : start + SQLITE_CHUNK]
            links.update(
                Interaction.objects.filter(post_id__in=chunk, target_entity__isnull=False).values_list(
                    "post_id", "action", "target_entity_id"
                )
            )
        return links


def _pragma(name: str, value: int | None = None):
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}" if value is None else f"PRAGMA {name} = {int(value)}")
        row = cursor.fetchone()
    return row[0] if row else None


def _links(r: PostRecord) -> tuple[tuple[str, str], ...]:
    """The entities a post names as (kind, value), each once, in a fixed kind order. (Spelled out: a loop
    over (kind, values) pairs costs twice as much, and this runs once per row.)"""
    links: list[tuple[str, str]] = []
    if r.hashtags:
        links += [("hashtag", v[:1000]) for v in dict.fromkeys(r.hashtags)]
    if r.urls:
        links += [("url", v[:1000]) for v in dict.fromkeys(r.urls)]
    if r.domains:
        links += [("domain", v[:1000]) for v in dict.fromkeys(r.domains)]
    if r.mentions:
        links += [("mention", v[:1000]) for v in dict.fromkeys(r.mentions)]
    if r.images:
        links += [("image", v[:1000]) for v in dict.fromkeys(r.images)]
    return tuple(links)  # a tuple of str tuples: the garbage collector stops tracking it after one look


def rejected_store(*, import_file: ImportFile, rejected: list[RejectedRecord], kept_so_far: int, limit: int) -> int:
    """Keep the first ``limit`` rejected rows of a file (all are counted elsewhere); returns how many kept now."""
    keep = rejected[: max(limit - kept_so_far, 0)]
    RejectedRow.objects.bulk_create(
        [
            RejectedRow(
                import_file=import_file, line=r.line, field=_no_nul(r.field)[:200], reason=_no_nul(r.reason)[:2000]
            )
            for r in keep
        ]
    )
    return len(keep)


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold a NUL, and no database a lone surrogate (an undecodable byte kept by
    surrogateescape): a header cell naming the field, or a value a reason quotes, may have either."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def bulk_tables_analyze() -> None:
    """Refresh PostgreSQL's statistics of the bulk tables after an import: the overview's aggregates run
    next and plan far better on them (a third faster on 200,000 rows), and autovacuum may come much later.
    ANALYZE samples a fixed number of rows, so it costs about the same on any size. (SQLite's planner
    gains nothing measurable here.)"""
    if is_postgres():
        tables = ", ".join(model._meta.db_table for model in (Account, Post, Entity, Interaction))
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")


def import_file_purge(*, import_file: ImportFile) -> None:
    """Remove every row an import file wrote (it failed, was cancelled, or its worker died)."""
    collection_id, file_id = import_file.collection_id, import_file.pk
    with transaction.atomic():
        post_ids = Post.objects.filter(import_file_id=file_id).values("id")
        Interaction.objects.filter(post_id__in=post_ids)._raw_delete(Interaction.objects.db)
        Interaction.objects.filter(collection_id=collection_id, import_file_id=file_id)._raw_delete(
            Interaction.objects.db
        )
        Post.objects.filter(import_file_id=file_id)._raw_delete(Post.objects.db)
        in_use = (
            Post.objects.filter(collection_id=collection_id).values("account_id"),
            Post.objects.filter(collection_id=collection_id, ref_account__isnull=False).values("ref_account_id"),
            Interaction.objects.filter(collection_id=collection_id, target_account__isnull=False).values(
                "target_account_id"
            ),
        )
        orphans = Account.objects.filter(collection_id=collection_id, import_file_id=file_id)
        for used in in_use:
            orphans = orphans.exclude(id__in=used)
        orphans._raw_delete(Account.objects.db)
        Entity.objects.filter(collection_id=collection_id).exclude(
            id__in=Interaction.objects.filter(collection_id=collection_id, target_entity__isnull=False).values(
                "target_entity_id"
            )
        )._raw_delete(Entity.objects.db)


def collection_purge(*, collection_id: int) -> None:
    """Remove a collection's bulk rows set-wise (called before the collection row is deleted)."""
    with transaction.atomic():
        for model in (Interaction, Post, Entity, Account):
            model.objects.filter(collection_id=collection_id)._raw_delete(model.objects.db)
