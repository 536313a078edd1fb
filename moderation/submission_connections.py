"""The DB-API connections of live submissions, kept open from one submission to the next.

Checking a connection out of SQLAlchemy's pool and back in (events, reset on
return, bookkeeping) cost a submission tens of microseconds, as much as some of
its statements. So each process keeps the connections its submissions used,
detached from the pool (the engine opened them, so they are set up like every
other), and hands them out again, one to each submission in flight: threads never
share one at the same time. They are closed by ``engine.dispose()``, as the
pool's are.

- A connection found lost is discarded, and the next submission opens another.
- A process never uses or closes a connection it inherited through ``fork()``:
  closing one would end the parent's session too (the PostgreSQL and MySQL drivers
  say goodbye on the shared socket).
- On a SQLite file, automatic checkpoints are off on these connections and a
  :class:`~moderation.wal_checkpoints.Checkpointer` does them in the background.
- An in-memory SQLite database lives in one connection per thread, the pool's: it is
  checked out for each submission as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import QueuePool

from .wal_checkpoints import Checkpointer

__all__ = ["SubmissionConnections", "KeptConnection"]

# Connections inherited from a parent process: held, so that garbage collection
# does not close them under the parent, and never used.
_INHERITED: list[Any] = []


class KeptConnection:
    """A driver connection with its cursor, and what decides whether it may be reused."""

    __slots__ = ("dbapi", "cursor", "pid", "generation", "reused", "_fairy")

    def __init__(self, dbapi: Any, pid: int, generation: int, fairy: Any = None) -> None:
        self.dbapi = dbapi
        self.cursor = dbapi.cursor()
        self.pid = pid
        self.generation = generation
        self.reused = False  # True once it served an earlier submission
        self._fairy = fairy  # the pool's wrapper, when the pool keeps the connection


class SubmissionConnections:
    """Connections for the live submissions of one engine, reused across them.

    ``setup`` is called with the cursor of each new connection (session settings).
    """

    def __init__(self, engine: Engine, setup: Callable[[Any], None] | None = None) -> None:
        self.engine = engine
        self._errors = engine.dialect.loaded_dbapi.Error
        self._keep = isinstance(engine.pool, QueuePool)
        self._setup = setup
        database = engine.url.database
        self._wal = (self._keep and engine.dialect.name == "sqlite"
                     and database not in (None, "", ":memory:"))
        self._path = database or ""
        self.checkpointer = Checkpointer(self._path) if self._wal else None
        self._idle: list[KeptConnection] = []
        self._pid = os.getpid()
        self._generation = 0
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", self._disposed)

    def acquire(self) -> KeptConnection:
        """A connection for one submission: an idle one, or a new one."""
        if self._pid != os.getpid():
            self._forked()
        try:
            return self._idle.pop()
        except IndexError:
            return self._open()

    def release(self, kept: KeptConnection, committed: bool) -> None:
        """Take back a connection whose transaction has ended (committed or rolled back)."""
        if committed and self.checkpointer is not None:
            self.checkpointer.committed()
        if kept._fairy is not None:
            kept._fairy.close()  # back to the pool that keeps it
            return
        with self._lock:  # against a concurrent dispose(): reused only if still current
            if kept.pid == self._pid and kept.generation == self._generation:
                kept.reused = True
                self._idle.append(kept)
                return
        self._close(kept)

    def discard(self, kept: KeptConnection, exc: BaseException | None = None) -> None:
        """Close a connection that is lost or could not end its transaction."""
        if kept._fairy is not None:
            kept._fairy.invalidate(exc)
            kept._fairy.close()
        else:
            self._close(kept)

    def dispose(self) -> None:
        """Close the idle connections; those in use are closed when they come back."""
        with self._lock:
            self._generation += 1
            idle, self._idle = self._idle, []
        for kept in idle:
            self._close(kept)
        if self.checkpointer is not None:
            self.checkpointer.close()

    def close(self) -> None:
        """:meth:`dispose`, and stop following the engine's."""
        self.dispose()
        event.remove(self.engine, "engine_disposed", self._disposed)

    def _disposed(self, engine: Engine) -> None:
        self.dispose()

    def _open(self) -> KeptConnection:
        fairy = self.engine.raw_connection()
        dbapi: Any = fairy.dbapi_connection
        if not self._keep:
            try:
                return KeptConnection(dbapi, self._pid, self._generation, fairy)
            except BaseException:
                fairy.close()
                raise
        fairy.detach()  # ours now: closing it really closes it
        try:
            kept = KeptConnection(dbapi, self._pid, self._generation)
            if self._wal:
                kept.cursor.execute("PRAGMA wal_autocheckpoint = 0")
            if self._setup is not None:
                self._setup(kept.cursor)
        except BaseException:
            dbapi.close()
            raise
        return kept

    def _close(self, kept: KeptConnection) -> None:
        if kept.pid != os.getpid():
            _INHERITED.append(kept)
            return
        try:
            kept.dbapi.close()
        except (self._errors, OSError):
            pass  # already lost: there is nothing left to close

    def _forked(self) -> None:
        # This process's own set: the parent's connections and checkpoint thread stay its.
        self._lock = threading.Lock()  # the parent's may have been held when it forked
        _INHERITED.extend(self._idle)
        self._idle = []
        if self._wal:
            _INHERITED.append(self.checkpointer)  # and its connection
            self.checkpointer = Checkpointer(self._path)
        self._pid = os.getpid()
