"""Real processes for end-to-end tests and benchmarks: a migrated database, the ASGI server and a django-q2 worker.

pytest-django's test database lives inside the test process; a worker process cannot see it. These
tests therefore run the portal as it runs for an analyst: its own SQLite file (or the PostgreSQL and
Redis given in ``env``), ``daphne`` serving ASGI, and ``manage.py qcluster``.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, var_dir: Path, env: dict):
        self.var_dir = var_dir
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and out.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out

    def shell(self, code: str, timeout: float = 120) -> str:
        """Run Python in a Django shell against this stack's database; returns stdout."""
        return self.manage("shell", "-v", "0", "-c", code, timeout=timeout).stdout

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read this stack's database directly (no Django in between)."""
        url = self.env.get("DATABASE_URL")
        if url:
            import psycopg

            with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
                return conn.execute(sql.replace("?", "%s"), params).fetchall()
        import sqlite3

        conn = sqlite3.connect(self.var_dir / SQLITE_NAME, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def start_worker(self) -> subprocess.Popen:
        log = open(self.var_dir / "worker.log", "ab")
        proc = subprocess.Popen(
            [PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs["worker"] = proc
        return proc

    def kill_worker(self) -> None:
        """SIGKILL the whole worker process group, as a crash or an OOM kill would."""
        proc = self.procs.pop("worker")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def start_server(self, processes: int = 1) -> None:
        """daphne on a free loopback port; with ``processes`` > 1, that many daphne processes accepting on one
        listening socket they inherit (``--fd``), as a process supervisor runs them in production: one process
        serves one core at most (Python's GIL), so HTTP scales by processes."""
        log = open(self.var_dir / "server.log", "ab")
        app = "analyst_portal.asgi:application"
        if processes > 1:
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(1024)
            listener.set_inheritable(True)
            self.port = listener.getsockname()[1]
            commands = [[PYTHON, "-m", "daphne", "--fd", str(listener.fileno()), app]] * processes
            pass_fds = (listener.fileno(),)
        else:
            self.port = free_port()
            listener, pass_fds = None, ()
            commands = [[PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), app]]
        for n, command in enumerate(commands):
            self.procs["server" if n == 0 else f"server-{n + 1}"] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                pass_fds=pass_fds)
        if listener is not None:
            listener.close()  # the servers hold their own copies
        servers = [p for name, p in self.procs.items() if name.startswith("server")]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/login/", timeout=2)
                return
            except OSError:
                if any(proc.poll() is not None for proc in servers):
                    raise AssertionError(f"server exited: {(self.var_dir / 'server.log').read_text()}")
                time.sleep(0.2)
        raise AssertionError("server did not answer within 60 s")

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM every process group at once, SIGKILL what is still alive after `grace` seconds (the test is
        over: nothing needs a graceful shutdown, and the worker's own takes about 10 s)."""
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.procs.clear()


@contextmanager
def portal_stack(tmp_path: Path, *, server: bool = True, worker: bool = True, env: dict | None = None,
                 pg_name: str | None = None, server_processes: int = 1):
    """The portal as an analyst runs it. In the services pass (DATABASE_URL and REDIS_URL set) it gets a
    fresh PostgreSQL database of its own (named ``pg_name``, dropped first if it exists; a unique name by
    default), dropped afterwards, and a flushed Redis database; otherwise a SQLite file in tmp."""
    var_dir = tmp_path / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "analyst_portal.settings",
        "MURMURATION_VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    database = None
    if full_env.get("DATABASE_URL"):
        database = _pg_database_create(full_env["DATABASE_URL"], name=pg_name)
        full_env["DATABASE_URL"] = database
    if full_env.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(full_env["REDIS_URL"]).flushdb()
    stack = Stack(var_dir, full_env)
    try:
        if database is None:
            shutil.copyfile(_sqlite_migrated(full_env), var_dir / SQLITE_NAME)
        else:
            stack.manage("migrate", "--no-input", "-v", "0")
        if worker:
            stack.start_worker()
        if server:
            stack.start_server(server_processes)
        yield stack
    finally:
        stack.stop()
        if database:
            _pg_database_drop(database)


SQLITE_NAME = "murmuration.sqlite3"  # settings: MURMURATION_VAR_DIR / this, when no DATABASE_URL is set
_migrated_sqlite: list[Path] = []  # this process's migrated SQLite file, made on first use


def _sqlite_migrated(env: dict) -> Path:
    """A freshly migrated SQLite database, made once per process and copied into each stack's folder: ``migrate``
    in a new process takes about 4 s, which a dozen browser stacks paid each. The code, and so its migrations,
    cannot change under a running process, so one copy serves all of them."""
    if not _migrated_sqlite:
        folder = Path(tempfile.mkdtemp(prefix="murmuration-migrated-"))
        out = subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                             env={**env, "MURMURATION_VAR_DIR": str(folder)}, capture_output=True, text=True,
                             timeout=300)
        if out.returncode != 0:
            raise AssertionError(f"manage.py migrate failed:\n{out.stdout}\n{out.stderr}")
        atexit.register(shutil.rmtree, folder, True)
        _migrated_sqlite.append(folder / SQLITE_NAME)
    return _migrated_sqlite[0]


def _pg_admin(url: str):
    import psycopg

    p = urlparse(url)
    return psycopg.connect(host=p.hostname, port=p.port or 5432, user=p.username, password=p.password,
                           dbname="postgres", autocommit=True)


def _pg_database_create(url: str, *, name: str | None = None) -> str:
    """A new database on the server of ``url``: ``name`` (a leftover of that name is dropped first) or a
    unique one."""
    name = name or f"murmuration_e2e_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    with _pg_admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def _pg_database_drop(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    with _pg_admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until(predicate, *, timeout: float, every: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (returned); AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not met within {timeout} s")


# Throwaway servers, for tests that restart PostgreSQL or Redis under a running portal: the machine's own
# services are shared and never restarted; these live in a temp folder on free loopback ports.

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_OS_USER = "postgres"  # PostgreSQL refuses to run as root: as root, its programs run as this OS user


def throwaway_postgres_missing() -> str:
    """Why a throwaway PostgreSQL cluster cannot be started here; '' when it can."""
    for program in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / program).is_file():
            return f"{PG_BIN / program} is absent (PostgreSQL's server programs; set PG_BIN to their folder)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser: PostgreSQL refuses to run as root"
        try:
            pwd.getpwnam(PG_OS_USER)
        except KeyError:
            return f"running as root and there is no OS user {PG_OS_USER!r} to run PostgreSQL as"
    return ""


def throwaway_redis_missing() -> str:
    return "" if shutil.which("redis-server") else "redis-server is not on PATH"


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own: ``initdb`` into a temp folder, trust auth for ``postgres``, on a free
    loopback port. ``restart()`` is a real server restart: every open connection is cut. fsync is off (a
    throwaway cluster; a fast or smart restart loses nothing committed even so)."""

    def __init__(self):
        self.port = free_port()
        # Under /tmp itself (pytest's tmp_path is private to root): the postgres OS user must reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="murmuration-pg-"))
        self.data = self.folder / "data"
        try:
            if os.geteuid() == 0:
                user = pwd.getpwnam(PG_OS_USER)
                os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
                      "--locale=C")
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PG_OS_USER, "--", *command]
        out = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if out.returncode != 0:
            raise AssertionError(f"{program} {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")

    def _pg_ctl(self, action: str, *args: str) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
        self._run("pg_ctl", action, "-w", "-t", "60", "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-o", options, *args)

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self, mode: str = "fast") -> None:
        """``fast``: what a service restart does (backends are terminated, then a checkpoint);
        ``immediate``: as a crash (no checkpoint; recovery from the WAL on start)."""
        self._pg_ctl("restart", "-m", mode)

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))
        shutil.rmtree(self.folder, ignore_errors=True)


class ThrowawayRedis:
    """A redis-server of its own on a free loopback port, keeping nothing on disk (as the machine's):
    ``restart()`` loses everything it held, queued tasks included."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)

        def answers() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited: {(self.folder / 'redis.log').read_text()}")
            with contextlib.suppress(redis.ConnectionError):
                return client.ping()
            return False

        wait_until(answers, timeout=30, every=0.05, what="redis-server answers")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: redis-server shuts down (saving nothing: --save "")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def last_json_line(text: str) -> dict:
    lines = [line for line in text.strip().splitlines() if line.startswith("{")]
    assert lines, f"no JSON line in output:\n{text}"
    return json.loads(lines[-1])
