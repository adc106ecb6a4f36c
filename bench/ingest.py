"""Ingest speed: the IRA dev file into SQLite and into PostgreSQL, against pandas.read_csv as the floor.

    .venv/bin/python bench/ingest.py [--rows N] [--no-postgres]

Each import runs as `manage.py import_collection` in its own process on a fresh database (the same
service the upload page uses); its rows/s excludes Django's start-up. Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "ira" / "ira_dev_en.csv.gz"
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/murmuration_bench")


def head_copy(rows: int, folder: Path) -> Path:
    """The first ``rows`` data rows, gzipped, in a temp folder (never in the repo)."""
    out = folder / f"ira_head_{rows}.csv.gz"
    import csv

    with (
        gzip.open(DATA, "rt", newline="", encoding="utf-8") as src,
        gzip.open(out, "wt", newline="", encoding="utf-8", compresslevel=1) as dst,
    ):
        reader, writer = csv.reader(src), csv.writer(dst)
        writer.writerow(next(reader))
        for i, row in enumerate(reader):
            if i >= rows:
                break
            writer.writerow(row)
    return out


def pandas_floor(path: Path) -> float:
    import pandas as pd

    started = time.perf_counter()
    rows = 0
    for chunk in pd.read_csv(path, chunksize=200_000, dtype=str, keep_default_na=False):
        rows += len(chunk)
    return rows / (time.perf_counter() - started)


def run_import(path: Path, env: dict) -> dict:
    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )

    manage("migrate", "--no-input", "-v", "0")
    manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "User.objects.create_superuser('bench', password='bench-pass-123')",
    )
    out = manage("import_collection", str(path), "--investigation", "bench", "--user", "bench", "--collection", "ira")
    return json.loads(out.stdout.strip().splitlines()[-1])


def pg_recreate(url: str) -> None:
    from urllib.parse import urlparse

    import psycopg

    p = urlparse(url)
    name = p.path.lstrip("/")
    with psycopg.connect(
        host=p.hostname, port=p.port or 5432, user=p.username, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=0, help="take the first N rows (default: the whole file)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is missing: the benchmark needs ../shared/data beside the checkout")
    work = Path(tempfile.mkdtemp(prefix="murmuration-bench-"))
    try:
        path = head_copy(args.rows, work) if args.rows else DATA
        floor = pandas_floor(path)
        print(f"pandas.read_csv: {floor:,.0f} rows/s", file=sys.stderr)
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        sqlite = run_import(path, {**base, "MURMURATION_VAR_DIR": str(work / "sqlite")})
        print(f"sqlite: {json.dumps(sqlite)}", file=sys.stderr)
        postgres = {}
        if not args.no_postgres:
            pg_recreate(PG_URL)
            postgres = run_import(path, {**base, "MURMURATION_VAR_DIR": str(work / "pg"), "DATABASE_URL": PG_URL})
            print(f"postgres: {json.dumps(postgres)}", file=sys.stderr)
        print(
            json.dumps(
                {
                    "bench": "ingest",
                    "rows": sqlite["rows_read"],
                    "stored": sqlite["stored"],
                    "duplicates": sqlite["duplicates"],
                    "rejected": sqlite["rejected"],
                    "sqlite_rows_per_s": sqlite["rows_per_s"],
                    "postgres_rows_per_s": postgres.get("rows_per_s"),
                    "pandas_rows_per_s": round(floor, 1),
                    "peak_rss_mb": max(sqlite["peak_rss_mb"], postgres.get("peak_rss_mb") or 0),
                    "sqlite_peak_rss_mb": sqlite["peak_rss_mb"],
                    "postgres_peak_rss_mb": postgres.get("peak_rss_mb"),
                    "machine": f"{platform.machine()} {os.cpu_count()} cores, "
                            "{platform.python_implementation()} {platform.python_version()}",
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
