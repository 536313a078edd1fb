"""A live submission's database work: plain SQL in one transaction on one connection.

A submission claims its flood and duplicate keys, reads and counts its author's
history and stores the comment: a handful of one-row statements. Through
SQLAlchemy's execution layer, in five transactions, they cost about 1.4 ms a
request, more than moderating the comment; as 13 driver statements in one
transaction on a pooled connection, about 0.3 ms. Now 8 statements (both claims in
one upsert) on a connection kept from one submission to the next
(``submission_connections.py``), with SQLite's checkpoints in the background
(``wal_checkpoints.py``): about 0.16 ms of CPU in one process on SQLite, 60 µs of it
the commit (the WAL frames of the ~18 pages a submission changes). The schema, the
migrations and every other read and write stay with SQLAlchemy (``store.py``); the
rows written here use the column formats SQLAlchemy writes and reads back (on
SQLite, text timestamps).

One transaction is also the right unit: when the comment cannot be stored, its
claims and history count are rolled back with it, so a client told to retry is
not then refused as a flood.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from .store import COMMENT_COLUMNS, DECISION_COLUMNS, DECISIONS, stored_values, utcnow, while_locked
from .submission_connections import KeptConnection, SubmissionConnections
from .submission_statements import check_driver, statements

__all__ = ["SubmissionSql", "submission_sql", "save_decision", "check_driver",
           "open_connections"]

def open_connections(engine: Engine) -> SubmissionConnections:
    """The connections the live submissions on ``engine`` will share and reuse."""
    check_driver(engine)
    sql = statements(engine.dialect.name, engine.dialect.paramstyle)
    return SubmissionConnections(engine, sql.setup)


class SubmissionSql:
    """The statements of one live submission, on one connection in one transaction.

    The connection is taken at the first statement, so a submission that writes
    nothing costs nothing.
    """

    def __init__(self, connections: SubmissionConnections) -> None:
        self._connections = connections
        self._dialect = dialect = connections.engine.dialect
        self._sql = statements(dialect.name, dialect.paramstyle)
        self._kept: KeptConnection | None = None
        self._cursor: Any = None

    def _execute(self, statement: str, params: Sequence[Any]) -> Any:
        if self._cursor is None:
            kept = self._begin()
            if kept.reused:
                return self._first(kept, statement, params)
        self._cursor.execute(statement, params)
        return self._cursor

    def _begin(self) -> KeptConnection:
        self._kept = kept = self._connections.acquire()
        self._cursor = kept.cursor
        if self._sql.sqlite:
            self._begin_sqlite(kept.cursor)
        return kept

    def _first(self, kept: KeptConnection, statement: str, params: Sequence[Any]) -> Any:
        """The transaction's first statement on a connection kept from an earlier
        submission. If the server dropped it meanwhile (a restart, an idle timeout),
        nothing of this transaction took effect: it starts again on a new connection,
        as the pool's pre-ping did, without a round trip to ask."""
        try:
            kept.cursor.execute(statement, params)
        except self._dialect.loaded_dbapi.Error as exc:
            if not self._dialect.is_disconnect(exc, kept.dbapi, kept.cursor):
                raise
            self._kept = self._cursor = None
            self._connections.discard(kept, exc)
            self._begin().cursor.execute(statement, params)
        return self._cursor

    @staticmethod
    def _begin_sqlite(cursor: Any) -> None:
        # The write lock up front (as store.py's transactions take it), so two workers
        # never deadlock upgrading read locks. SQLite's own wait for a busy lock
        # sleeps a millisecond or more at a time, while a submission holds it for a
        # fraction of that: with two workers one request in twelve slept that long.
        # Shorter pauses of our own (the connection's busy timeout is 0: see setup).
        while_locked(lambda: cursor.execute("BEGIN IMMEDIATE"), 0.00005, 0.005)

    def claim(self, groups: Sequence[tuple[Sequence[str], _dt.datetime]], now: _dt.datetime
              ) -> list[list[str]]:
        """Claim each group's keys until the group's expiry time, all of a group or none
        of it; returns, per group, the keys held already. Groups share no key, and each
        group's keys come sorted.

        One upsert claims every group (a flood check's keys and a duplicate check's);
        only when some key is held are the groups claimed again one by one.
        """
        if self._sql.mysql or len(groups) == 1:
            return [self._claim(keys, now, expires_at) for keys, expires_at in groups]
        self._execute("SAVEPOINT claim", ())
        moment = self._sql.moment
        rows = sorted((key, expires) for keys, expires in
                      ((keys, moment(expires_at)) for keys, expires_at in groups)
                      for key in keys)
        taken = self._upsert(rows, now)
        held = [[key for key in keys if key not in taken] for keys, _ in groups]
        if not any(held):
            self._execute("RELEASE SAVEPOINT claim", ())
            return held
        self._execute("ROLLBACK TO SAVEPOINT claim", ())
        # On their own, the groups with no key held (on PostgreSQL another worker may
        # have taken one since: then that group is held too).
        return [group_held or self._claim(keys, now, expires_at)
                for (keys, expires_at), group_held in zip(groups, held, strict=True)]

    def _claim(self, keys: Sequence[str], now: _dt.datetime, expires_at: _dt.datetime
               ) -> list[str]:
        """One group's claim: every key or none; the keys held already."""
        self._execute("SAVEPOINT claim", ())
        if self._sql.mysql:
            held = [key for key in keys if not self._claim_mysql(key, now, expires_at)]
        else:
            expires = self._sql.moment(expires_at)
            taken = self._upsert([(key, expires) for key in keys], now)
            held = [key for key in keys if key not in taken]
        self._execute("ROLLBACK TO SAVEPOINT claim" if held else "RELEASE SAVEPOINT claim", ())
        return held

    def _upsert(self, rows: Sequence[tuple[str, Any]], now: _dt.datetime) -> set[str]:
        """Claim each ``(key, expiry as stored)`` not held at ``now``, in the order given
        (the order rows are locked in); the keys taken."""
        sql = self._sql
        params = [value for row in rows for value in row]
        params.append(sql.moment(now))
        return {row[0] for row in self._execute(sql.claim(len(rows)), params).fetchall()}

    def _claim_mysql(self, key: str, now: _dt.datetime, expires_at: _dt.datetime) -> bool:
        sql = self._sql
        if self._execute(sql.renew, (expires_at, key, now)).rowcount:
            return True
        self._execute("SAVEPOINT mark", ())
        try:
            self._execute(sql.insert_mark, (key, expires_at))
        except self._dialect.loaded_dbapi.IntegrityError:
            self._execute("ROLLBACK TO SAVEPOINT mark", ())
            return False  # held by an unexpired claim, possibly another worker's
        self._execute("RELEASE SAVEPOINT mark", ())
        return True

    def purge(self, now: _dt.datetime) -> None:
        """Delete the claims that expired before ``now``."""
        self._execute(self._sql.purge, (self._sql.moment(now),))

    def history(self, key: str) -> tuple[int, int]:
        """Accepted and rejected comments recorded for ``key``."""
        row = self._execute(self._sql.history, (key,)).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def record(self, key: str, column: str, now: _dt.datetime) -> None:
        """Count one more comment in ``column`` ("accepted" or "rejected") for ``key``."""
        moment = self._sql.moment(now)
        self._execute(self._sql.record[column], (
            key, int(column == "accepted"), int(column == "rejected"), moment, moment))

    def save(self, comment_id: str, comment: Mapping[str, Any], result: Mapping[str, Any]
             ) -> None:
        """Store a comment and its decision."""
        if result["decision"] not in DECISIONS:
            raise ValueError(f"invalid decision {result['decision']!r}")
        values = stored_values(result)
        self._execute(self._sql.insert_comment, (
            comment_id, self._sql.moment(utcnow()), *(comment.get(c) for c in COMMENT_COLUMNS),
            *(values[c] for c in DECISION_COLUMNS)))

    def _end(self, commit: bool) -> None:
        """Commit or roll back, and hand the connection back for the next submission."""
        kept, cursor = self._kept, self._cursor
        if kept is None:
            return
        if self._sql.sqlite:  # pysqlite is in autocommit mode: we said BEGIN
            cursor.execute("COMMIT" if commit else "ROLLBACK")
        elif commit:
            kept.dbapi.commit()
        else:
            kept.dbapi.rollback()
        self._kept = self._cursor = None
        self._connections.release(kept, committed=commit)

    def _abort(self, exc: BaseException) -> bool:
        """Roll back after ``exc``; whether the connection was lost (then, as when
        it cannot roll back, it is discarded and the next submission opens another)."""
        kept, dialect = self._kept, self._dialect
        if kept is None:
            return False
        lost = isinstance(exc, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
            exc, kept.dbapi, self._cursor)
        if not lost:
            try:
                self._end(commit=False)
                return False
            except dialect.loaded_dbapi.Error:
                pass
        self._kept = self._cursor = None
        self._connections.discard(kept, exc)
        return lost


@contextmanager
def submission_sql(connections: SubmissionConnections) -> Iterator[SubmissionSql]:
    """One submission's statements, committed together when the block ends and rolled
    back if it raises. Driver errors come out as SQLAlchemy's, as from any query, so
    an outage is told from a bug the same way everywhere."""
    session = SubmissionSql(connections)
    dialect = connections.engine.dialect
    dbapi = dialect.loaded_dbapi
    try:
        yield session
        session._end(commit=True)
    except BaseException as exc:
        lost = session._abort(exc)
        if isinstance(exc, dbapi.Error):
            raise DBAPIError.instance(None, None, exc, dbapi.Error, connection_invalidated=lost,
                                      dialect=dialect) from exc
        raise


def save_decision(engine: Engine, comment_id: str, comment: Mapping[str, Any],
                  result: Mapping[str, Any]) -> None:
    """Store a comment and its decision in one transaction (all or nothing)."""
    connections = open_connections(engine)
    try:
        with submission_sql(connections) as sql:
            sql.save(comment_id, comment, result)
    finally:
        connections.close()
