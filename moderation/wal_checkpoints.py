"""SQLite's WAL checkpoints, moved off the request path.

By default the connection whose commit leaves the write-ahead log at 1000 pages or
more copies it back into the database file (a checkpoint, with two fsyncs) before
its statement returns: a live submission writes about 20 pages, so every fiftieth
request paid milliseconds. Worse, a log starts again from its beginning only when a
writer finds it fully copied, which two busy workers seldom allow: the log then
stays over 1000 pages and every commit checkpoints again.

The connections of live submissions therefore turn automatic checkpoints off
(``wal_autocheckpoint=0``), and every ``every`` commits a short-lived daemon
thread checkpoints on a connection of its own (kept for the next round: opening and
closing one cost a fifth as much as the checkpoint). PASSIVE neither waits for nor
blocks writers, and the sqlite3 module releases the GIL while SQLite copies and
syncs. If the log still holds ``restart_at`` pages or more (writers kept it from
starting again), a RESTART checkpoint holds writers off while it copies what is
left, so that the next writer starts the log again: the file stays bounded. It
waits at most ``RESTART_WAIT`` for a writer or reader, then leaves it to the next
round. Every process checkpoints for all of them (SQLite runs one checkpoint at a
time; the others return at once).

The copying itself is not saved, only moved: about 20 µs of CPU a submission, now in
this thread. And on a real disk a RESTART's fsyncs, once every ``restart_at`` pages,
are a pause for whichever submissions wait for the write lock meanwhile.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from urllib.parse import quote

__all__ = ["Checkpointer", "EVERY", "RESTART_AT"]

log = logging.getLogger(__name__)

EVERY = 32  # commits between checkpoints: ~640 pages of log per process
# Log pages (4 MiB at 4 KiB; SQLite's own automatic threshold) left after a checkpoint.
# With two busy workers the file then peaks at about 10 MiB (20 MiB at 2000 pages).
RESTART_AT = 1000
RESTART_WAIT = 0.01  # seconds a RESTART may hold writers off waiting for a lock


class Checkpointer:
    """Checkpoints one SQLite file's write-ahead log in the background, every
    ``every`` commits that :meth:`committed` counts. One per process."""

    def __init__(self, path: str, every: int = EVERY, restart_at: int = RESTART_AT) -> None:
        # mode=rw: a database file deleted under the service is not created again here.
        self._uri = f"file:{quote(path)}?mode=rw"
        self.every = every
        self.restart_at = restart_at
        self._commits = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None  # used by one round at a time
        # The last checkpoint's mode and SQLite's answer (busy, log pages, pages copied),
        # for tests and for a look from a debugger.
        self.last: tuple[str, int, int, int] | None = None

    def committed(self) -> None:
        """Count one commit; start a checkpoint when enough have gone by and none runs."""
        self._commits += 1  # threads may lose a count now and then: it only shifts a round
        if self._commits < self.every:
            return
        with self._lock:
            if self._commits < self.every or self.running:
                return
            self._commits = 0
            self._thread = threading.Thread(target=self._checkpoint, name="wal-checkpoint",
                                            daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        """Whether a checkpoint thread is at work."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self) -> None:
        """Return once the running checkpoint, if any, has finished."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def close(self) -> None:
        """Wait for a running checkpoint and close the connection (a later round opens
        another)."""
        self.wait()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _checkpoint(self) -> None:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self._uri, uri=True, timeout=RESTART_WAIT,
                                             isolation_level=None, check_same_thread=False)
            conn = self._conn
            mode = "PASSIVE"
            busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if pages >= self.restart_at:
                mode = "RESTART"
                busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self.last = (mode, busy, pages, copied)
        except sqlite3.Error as exc:  # the next round tries again; requests are unaffected
            log.warning("background WAL checkpoint failed: %s", exc)
            conn, self._conn = self._conn, None  # and on a new connection
            if conn is not None:
                conn.close()
