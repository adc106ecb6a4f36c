"""A columnar table store on Parquet (pyarrow): parts written under a temporary name and made visible by a
rename, read back as one Arrow table with only the columns asked for. No Django: the folder layout and what a
part means (an import file, the rows written before the store existed) belong to ``apps.collections.store``.

    folder/
      posts/<part>.parquet
      interactions/<part>.parquet

1. ``Part(folder, name)`` opens nothing until rows come; ``add(table, columns)`` appends one row group to
   ``<table>/.tmp-<name>-<random>.parquet``.
2. ``commit()`` closes the writers and renames every table's file to ``<table>/<name>.parquet`` (interactions
   before posts: a reader counts a part as present only when every table has it, see ``parts_present``); a
   table with no rows gets an empty file, so a part always covers both tables.
3. ``abort()`` removes the temporary files: nothing of a failed part is ever visible.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

UTC_TIME = pa.timestamp("us", tz="UTC")
SCHEMAS = {
    "posts": pa.schema(
        [
            ("id", pa.int64()),
            ("account", pa.int64()),
            ("time", UTC_TIME),
            ("kind", pa.string()),
            ("platform_id", pa.string()),
            ("ref_post", pa.string()),
            ("ref_account", pa.int64()),
            ("placeholder", pa.bool_()),
            ("labels", pa.string()),  # JSON, "{}" for none
            ("text", pa.string()),
        ]
    ),
    "interactions": pa.schema(
        [
            ("post", pa.int64()),
            ("account", pa.int64()),
            ("action", pa.string()),
            ("target", pa.string()),  # the entity's value (hashtag, url, domain, mention, image), else null
            ("target_post", pa.string()),  # the original's platform id (repost, quote, reply), else ""
            ("target_account", pa.int64()),
            ("time", UTC_TIME),
        ]
    ),
}
TABLES = tuple(SCHEMAS)
# Text compresses about 4x with zstd; the numeric columns barely need it and read faster without a codec's work.
COMPRESSION = "zstd"
TMP_PREFIX = ".tmp-"


def times_utc(values) -> pa.Array:
    """Datetimes as an Arrow UTC timestamp array: datetime objects, or text as the databases store it
    (naive UTC "2016-01-01 12:00:00" from SQLite, "...+00:00" from PostgreSQL)."""
    array = values if isinstance(values, pa.Array) else pa.array(values)
    if pa.types.is_timestamp(array.type):
        return array.cast(UTC_TIME) if array.type.tz else array.cast(pa.timestamp("us")).cast(UTC_TIME)
    try:
        return array.cast(UTC_TIME)
    except pa.ArrowInvalid:  # no offset: naive UTC
        return array.cast(pa.timestamp("us")).cast(UTC_TIME)


def table_of(name: str, columns: dict) -> pa.Table:
    """A table of the store's schema from {column: values} (lists, numpy or Arrow arrays)."""
    schema = SCHEMAS[name]
    arrays = []
    for field in schema:
        values = columns[field.name]
        arrays.append(times_utc(values) if field.type == UTC_TIME else pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class Part:
    """One part of a store: a row group per ``add``, visible only after ``commit`` (see the module doc)."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = Path(folder), name
        self.rows = dict.fromkeys(TABLES, 0)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._tmp: dict[str, Path] = {}
        self._tag = uuid.uuid4().hex[:12]

    def add(self, table: str, columns: dict | pa.Table) -> None:
        data = columns if isinstance(columns, pa.Table) else table_of(table, columns)
        if not data.num_rows:
            return
        self._writer(table).write_table(data)
        self.rows[table] += data.num_rows

    def _writer(self, table: str) -> pq.ParquetWriter:
        if table not in self._writers:
            path = self.folder / table / f"{TMP_PREFIX}{self.name}-{self._tag}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp[table] = path
            self._writers[table] = pq.ParquetWriter(path, SCHEMAS[table], compression=COMPRESSION)
        return self._writers[table]

    def commit(self) -> None:
        for table in ("interactions", "posts"):
            self._writer(table).close()  # a table that got no rows: an empty file, so the part is whole
            os.replace(self._tmp[table], self.folder / table / f"{self.name}.parquet")
        self._writers.clear()

    def abort(self) -> None:
        for writer in self._writers.values():
            try:
                writer.close()
            except OSError:
                pass
        for path in self._tmp.values():
            path.unlink(missing_ok=True)
        self._writers.clear()


def parts_present(folder: Path) -> set[str]:
    """The names of the parts every table of ``folder`` holds (committed, not temporary)."""
    found = None
    for table in TABLES:
        names = {p.stem for p in (Path(folder) / table).glob("*.parquet") if not p.name.startswith(TMP_PREFIX)}
        found = names if found is None else found & names
    return found or set()


def part_remove(folder: Path, name: str) -> None:
    for table in ("posts", "interactions"):  # posts first: the part stops counting as present at once
        (Path(folder) / table / f"{name}.parquet").unlink(missing_ok=True)


def temporary_remove(folder: Path, prefix: str = "") -> int:
    """Remove temporary files (of parts whose name starts with ``prefix``) a dead writer left; returns how many."""
    removed = 0
    for table in TABLES:
        for path in (Path(folder) / table).glob(f"{TMP_PREFIX}{prefix}*.parquet"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def folder_remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def read(folder: Path, table: str, parts, columns: list[str], where: pc.Expression | None = None) -> pa.Table:
    """``columns`` of ``table`` over ``parts`` as one Arrow table (rows matching ``where``), read on every core."""
    import pyarrow.dataset as ds  # a second to import: only readers pay it, not every import job

    paths = [str(Path(folder) / table / f"{name}.parquet") for name in sorted(parts)]
    schema = SCHEMAS[table]
    if not paths:
        return schema.empty_table().select(columns)
    dataset = ds.dataset(paths, schema=schema, format="parquet")
    return dataset.to_table(columns=columns, filter=where)


def bounded(table: pa.Table, limit: int, *, keep: str = "latest") -> tuple[pa.Table, dict]:
    """At most ``limit`` rows of ``table``, the latest (or ``keep="earliest"``) by its ``time`` column, and what
    was left out: {"rows_left_out", "left_out_before"} (the earliest kept time, ISO, when the latest are kept;
    "left_out_after" with the latest kept time otherwise)."""
    if table.num_rows <= limit:
        return table, {"rows_left_out": 0, "left_out_before": None}
    latest = keep == "latest"
    order = pc.sort_indices(table, sort_keys=[("time", "descending" if latest else "ascending")])
    kept = table.take(order[:limit])
    edge = (pc.min if latest else pc.max)(kept["time"]).as_py()
    key = "left_out_before" if latest else "left_out_after"
    return kept, {"rows_left_out": table.num_rows - limit, key: edge.isoformat() if edge else None}


def frame(table: pa.Table, columns: dict[str, str], **extra):
    """A pandas frame of ``table``: ``columns`` maps each frame column to a table column (numbers zero-copy, text
    as pandas' Arrow-backed strings); each of ``extra`` is a callable of the table, an Arrow array or a constant."""
    import pandas as pd

    data = {name: table[source].to_pandas() for name, source in columns.items()}
    for name, value in extra.items():
        if callable(value):
            value = value(table)
        data[name] = value.to_pandas() if isinstance(value, (pa.Array, pa.ChunkedArray)) else value
    return pd.DataFrame(data, index=pd.RangeIndex(table.num_rows))
