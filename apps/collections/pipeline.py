"""Parsing in a child process, so that the parser and the writer each get a core.

    with ParsedBatches(source, encode=writer.encode, batch_rows=5000) as batches:
        for batch in batches:   # Parsed: encoded records, rejected rows, rows read, fraction done
            writer.write(batch.records)

1. ``__enter__`` forks. The child inherits the opened source and reads it; it never touches the
   database (the connection the fork copied belongs to the parent) and always ends with ``os._exit``,
   so no exit hook or finaliser of the parent's objects runs twice.
2. The child batches records as the import did in-process (a batch goes when it holds ``batch_rows``
   posts or ``batch_rows`` rejected rows), encodes each batch (plain tuples pickle several times faster
   than the records) and sends it through a pipe. A send blocks while the parent still has the previous
   batch to read, so a slow writer holds the parser back and memory stays flat.
3. The last message says how the file ended: read through (with the tail batch and the source's notes), unreadable
   (``ImportFileError`` with its message, raised again in the parent) or a crash (its traceback).
4. ``__exit__`` kills and reaps the child however the parent leaves: the end, an error, or
   ``JobCancelled`` from a progress report. A child never outlives its import, nor stays a zombie.

Why ``os.fork`` and not ``multiprocessing``: django-q2 runs jobs in daemonic processes, which
multiprocessing forbids to have children. The child stays in the worker's process group, so what kills
the group (an OOM kill, the worker test) kills it too; a parent that dies alone closes the pipe, and the
child's next send fails and ends it.
"""
from __future__ import annotations

import gc
import os
import pickle
import signal
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from typing import Any, Callable, Iterator, NoReturn

from apps.collections.importers import ImportFileError, RejectedRecord


class ParserCrashed(Exception):
    """The parser process failed with something other than an unreadable file, or died."""


@dataclass(slots=True)
class Parsed:
    records: Any  # what ``encode`` made of the batch's records
    rejected: list[RejectedRecord]
    rows_read: int  # of the whole source so far
    fraction: float  # of the source read so far
    last: bool = False
    notes: dict | None = None  # the last batch: the source's notes on the whole file (see Source.notes)


class ParsedBatches:
    """The batches of a source, parsed and encoded in a child process (see the module doc)."""

    def __init__(self, source, *, encode: Callable[[list], Any], batch_rows: int) -> None:
        self.source, self.encode, self.batch_rows = source, encode, batch_rows
        self.rows_read = 0
        self._pid = 0
        self._conn: Connection | None = None

    def __enter__(self) -> ParsedBatches:
        reader, writer = Pipe(duplex=False)
        pid = os.fork()
        if pid == 0:
            reader.close()
            _child_run(self.source, self.encode, self.batch_rows, writer)
        writer.close()
        self._pid, self._conn = pid, reader
        return self

    def __iter__(self) -> Iterator[Parsed]:
        while True:
            kind, *payload = self._receive()
            if kind == "batch":
                batch = Parsed(*payload)
                self.rows_read = batch.rows_read
                yield batch
                if batch.last:
                    return
            elif kind == "unreadable":
                message, self.rows_read = payload
                raise ImportFileError(message)
            else:
                self._crashed(*payload)

    def __exit__(self, *exc_info) -> None:
        self._conn.close()
        self._child_stop()

    def _receive(self) -> tuple:
        try:
            with gc_paused():
                return pickle.loads(self._conn.recv_bytes())
        except EOFError:
            raise ParserCrashed(f"{self.source.name}: the parser process died ({self._child_stop()})") from None

    def _child_stop(self) -> str:
        """Kill (if still running) and reap the child, once; returns how it ended, in words."""
        pid, self._pid = self._pid, 0
        if not pid:
            return "stopped"
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by someone else's wait(): nothing left of it
            return "gone"
        if os.WIFSIGNALED(status):
            return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
        return f"exit status {os.WEXITSTATUS(status)}"

    def _crashed(self, error: str, child_traceback: str, rows_read: int) -> NoReturn:
        self.rows_read = rows_read
        exc = ParserCrashed(f"{self.source.name}: {error}")
        exc.add_note(f"In the parser process:\n{child_traceback}")
        raise exc


def _child_run(source, encode: Callable[[list], Any], batch_rows: int, conn: Connection) -> NoReturn:
    # Signals end the child at once: the parent's handlers (a worker's) are not the child's business.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc.freeze()  # what the fork copied stays: collections need only look at what the parser makes
    try:
        _child_send_batches(source, encode, batch_rows, conn)
    except ImportFileError as exc:
        _send_if_heard(conn, ("unreadable", str(exc), source.rows_read))
    except BrokenPipeError:
        pass  # the parent stopped listening; it has its own reason to end
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the parent must hear of it
        _send_if_heard(conn, ("crash", f"{type(exc).__name__}: {exc}", traceback.format_exc(), source.rows_read))
    finally:
        os._exit(0)


def _child_send_batches(source, encode: Callable[[list], Any], batch_rows: int, conn: Connection) -> None:
    batch: list = []
    rejected: list = []
    for record in source.records():
        (rejected if isinstance(record, RejectedRecord) else batch).append(record)
        if len(batch) >= batch_rows or len(rejected) >= batch_rows:
            _send(conn, ("batch", encode(batch), rejected, source.rows_read, source.fraction_done()))
            batch, rejected = [], []
    notes = getattr(source, "notes", dict)()
    _send(conn, ("batch", encode(batch), rejected, source.rows_read, 1.0, True, notes))


def _send(conn: Connection, message: tuple) -> None:
    conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def _send_if_heard(conn: Connection, message: tuple) -> None:
    try:
        _send(conn, message)
    except OSError:
        pass  # the parent is gone


@contextmanager
def gc_paused():
    """No cyclic garbage collection inside: for code that makes ~100,000 tuples and lists that hold no
    cycles (a batch), where collections triggered every 700 allocations are pure cost (5x on unpickling)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
