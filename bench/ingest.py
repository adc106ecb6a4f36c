"""Ingest speed: the IRA dev file into SQLite and into PostgreSQL, against pandas.read_csv as the floor.

    .venv/bin/python bench/ingest.py [--rows N] [--no-postgres]
    .venv/bin/python bench/ingest.py --cpu [--rows 200000] [--rounds 2] [--arms default,no-trigram] [--no-sqlite]

Each import runs as `manage.py import_collection` in its own process on a fresh database (the same
service the upload page uses); its rows/s excludes Django's start-up. Ends with one JSON line.

``--cpu`` measures CPU seconds instead of wall time (wall-clock rows/s is noise on a shared machine): each
import runs the same command in-process in a fresh interpreter, which reports its own CPU (getrusage), its
parser child's (RUSAGE_CHILDREN: the child is reaped before the import returns) and, on PostgreSQL, the CPU of
the server backend that serves its connection (/proc/<pid>/stat of ``pg_backend_pid()``). Arms run interleaved
(A B A B ...) on the same slice: ``default`` as migrated, ``no-trigram`` without the posts' trigram index,
``no-secondary`` without any index of posts and interactions that backs no constraint, ``drop:NAME+NAME``.
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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (any user's: /proc/<pid>/stat is world-readable)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_child(path: str, arm: str) -> None:
    """One import in this process on a fresh database; prints one JSON line of CPU seconds."""
    import io
    import resource

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "analyst_portal.settings")
    os.chdir(ROOT)
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--no-input", verbosity=0)
    User.objects.create_superuser("bench", password="bench-pass-123")
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            for index in _arm_indexes(cursor, arm):
                cursor.execute(f'DROP INDEX "{index}"')
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    backend_before = _cpu_seconds(backend) if postgres else 0.0
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = io.StringIO()
    call_command("import_collection", path, "--investigation", "bench", "--user", "bench", "--collection", "ira",
                 stdout=out)
    wall = time.perf_counter() - started
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    backend_cpu = None
    if postgres:
        backend_cpu = _cpu_seconds(backend) - backend_before
        with connection.cursor() as cursor:  # the import used this very connection throughout
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] == backend, "the import's connection changed: backend CPU would be wrong"
    summary = json.loads(out.getvalue().strip().splitlines()[-1])

    def used(after, before):
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    print(json.dumps({
        "arm": arm, "backend": connection.vendor, "rows": summary["rows_read"], "stored": summary["stored"],
        "wall_s": round(wall, 2), "writer_cpu_s": round(used(self_after, self_before), 2),
        "parser_cpu_s": round(used(children_after, children_before), 2),
        "backend_cpu_s": None if backend_cpu is None else round(backend_cpu, 2),
    }))


def _arm_indexes(cursor, arm: str) -> list[str]:
    """The PostgreSQL indexes an arm drops before its import: none (``default``), the posts' trigram index
    (``no-trigram``), every index of posts and interactions that backs no constraint (``no-secondary``: what a
    deferred-index first load would skip), or the named ones (``drop:NAME+NAME``)."""
    if arm == "default":
        return []
    if arm == "no-trigram":
        return ["post_text_upper_trgm_idx"]
    if arm.startswith("drop:"):
        return arm[len("drop:"):].split("+")
    if arm == "no-secondary":
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('collections_post', 'collections_interaction') "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
        )
        return [name for (name,) in cursor.fetchall()]
    raise SystemExit(f"unknown arm {arm!r}: default, no-trigram, no-secondary or drop:NAME+NAME")


def cpu_run(path: Path, env: dict, arm: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--cpu-child", str(path), "--arm", arm],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_main(args, path: Path, work: Path, base: dict) -> None:
    """Arms interleaved, rounds times, per backend; figures per 100,000 rows (median over rounds)."""
    import statistics

    arms = args.arms.split(",")
    runs: list[dict] = []
    backends = ([] if args.no_sqlite else ["sqlite"]) + ([] if args.no_postgres else ["postgresql"])
    for round_no in range(args.rounds):
        for backend in backends:
            for arm in arms:
                if backend == "sqlite" and arm != "default":
                    continue  # the arms drop PostgreSQL indexes
                n = len(runs)
                env = {**base, "MURMURATION_VAR_DIR": str(work / f"cpu-{n}")}
                if backend == "postgresql":
                    pg_recreate(PG_URL)
                    env["DATABASE_URL"] = PG_URL
                run = cpu_run(path, env, arm)
                runs.append(run)
                print(f"round {round_no + 1} {backend} {arm}: {json.dumps(run)}", file=sys.stderr)
                shutil.rmtree(work / f"cpu-{n}", ignore_errors=True)
    figures = {}
    for backend in backends:
        for arm in arms:
            mine = [r for r in runs if r["backend"] == backend and r["arm"] == arm]
            if not mine:
                continue
            per = 100_000 / mine[0]["rows"]
            key = f"{backend}_{arm}".replace("-", "_").replace(":", "_").replace("+", "_")
            for part in ("writer_cpu_s", "parser_cpu_s", "backend_cpu_s"):
                values = [r[part] for r in mine if r[part] is not None]
                if values:
                    figures[f"{key}_{part}_per_100k"] = round(statistics.median(values) * per, 2)
            total = [r["writer_cpu_s"] + r["parser_cpu_s"] + (r["backend_cpu_s"] or 0) for r in mine]
            figures[f"{key}_total_cpu_s_per_100k"] = round(statistics.median(total) * per, 2)
            # The parser does the same work in every arm, so the other parts in its units stay comparable when
            # the machine's load changes what a CPU second buys (seen: the same parse 1.4x dearer one run later).
            for part in ("writer_cpu_s", "backend_cpu_s"):
                ratios = [r[part] / r["parser_cpu_s"] for r in mine if r[part] is not None and r["parser_cpu_s"]]
                if ratios:
                    figures[f"{key}_{part[:-6]}_per_parser"] = round(statistics.median(ratios), 2)
    print(json.dumps({"bench": "ingest", "mode": "cpu", "rows": runs[0]["rows"], "rounds": args.rounds, **figures,
                      "runs": runs}))


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
    parser.add_argument("--no-sqlite", action="store_true", help="--cpu: PostgreSQL only")
    parser.add_argument("--cpu", action="store_true", help="CPU seconds per 100,000 rows, arms interleaved")
    parser.add_argument("--rounds", type=int, default=2, help="--cpu: rounds of the arms (A B A B ...)")
    parser.add_argument(
        "--arms",
        default="default,no-trigram",
        help="--cpu: comma-separated: default, no-trigram, no-secondary, drop:INDEX+INDEX",
    )
    parser.add_argument("--cpu-child", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--arm", default="default", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cpu_child:
        cpu_child(args.cpu_child, args.arm)
        return
    if args.cpu and not args.rows:
        args.rows = 200_000
    if not DATA.exists():
        sys.exit(f"{DATA} is missing: the benchmark needs ../shared/data beside the checkout")
    work = Path(tempfile.mkdtemp(prefix="murmuration-bench-"))
    try:
        path = head_copy(args.rows, work) if args.rows else DATA
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        if args.cpu:
            cpu_main(args, path, work, base)
            return
        floor = pandas_floor(path)
        print(f"pandas.read_csv: {floor:,.0f} rows/s", file=sys.stderr)
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
                    f"{platform.python_implementation()} {platform.python_version()}",
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
