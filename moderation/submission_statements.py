"""The SQL text of a live submission's statements, per backend, built once per process,
and the session settings of the connections that run them (``submission_sql.py``)."""

from __future__ import annotations

import datetime as _dt
import functools
from typing import Any

from sqlalchemy import Engine

from .errors import ConfigError
from .store import COMMENT_COLUMNS, DECISION_COLUMNS

__all__ = ["Statements", "statements", "check_driver"]

_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_ROW_COLUMNS = ("id", "created_at", *COMMENT_COLUMNS, *DECISION_COLUMNS)


def check_driver(engine: Engine) -> None:
    """Refuse, at start-up, a driver whose parameter style these statements do not use."""
    if engine.dialect.paramstyle not in _PLACEHOLDERS:
        raise ConfigError(f"database_url: the {engine.dialect.driver} driver's parameter style "
                          f"{engine.dialect.paramstyle!r} is not supported; use the default "
                          "driver of SQLite, PostgreSQL (psycopg) or MySQL/MariaDB (PyMySQL)")


class Statements:
    """The SQL text of one backend, built once per process."""

    def __init__(self, dialect: str, paramstyle: str) -> None:
        self.mysql = dialect in ("mysql", "mariadb")
        self.sqlite = dialect == "sqlite"
        self.placeholder = p = _PLACEHOLDERS[paramstyle]
        self.key = key = "`key`" if self.mysql else '"key"'  # a reserved word in MySQL
        columns = ", ".join(key if c == "key" else c for c in _ROW_COLUMNS)
        self.history = f"SELECT accepted, rejected FROM author_history WHERE {key} = {p}"
        self.purge = f"DELETE FROM policy_marks WHERE expires_at < {p}"
        self.insert_comment = (f"INSERT INTO comments ({columns}) "
                               f"VALUES ({', '.join([p] * len(_ROW_COLUMNS))})")
        # MySQL/MariaDB have no upsert that reports a conditional update: take over
        # an expired claim, else insert (a duplicate key means a live claim).
        self.renew = (f"UPDATE policy_marks SET expires_at = {p} WHERE {key} = {p} "
                      f"AND expires_at <= {p}")
        self.insert_mark = f"INSERT INTO policy_marks ({key}, expires_at) VALUES ({p}, {p})"
        self.record = {column: self._record(column) for column in ("accepted", "rejected")}
        self._claims: dict[int, str] = {}

    def setup(self, cursor: Any) -> None:
        """Session settings, once per connection (they are kept from one submission to
        the next)."""
        if self.mysql:
            # InnoDB's default REPEATABLE READ gap-locks a missing row on UPDATE, so
            # two workers inserting the same new key would deadlock.
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        elif self.sqlite:
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0] == "wal":
                # A WAL transaction that holds the write lock (BEGIN IMMEDIATE) waits
                # for nothing else, and that lock we wait for ourselves (SubmissionSql).
                cursor.execute("PRAGMA busy_timeout = 0")

    def claim(self, count: int) -> str:
        """One upsert claiming ``count`` keys; RETURNING names the keys it took (psycopg
        reports no rowcount for an upsert)."""
        statement = self._claims.get(count)
        if statement is None:
            p, key = self.placeholder, self.key
            rows = ", ".join([f"({p}, {p})"] * count)
            statement = self._claims[count] = (
                f"INSERT INTO policy_marks ({key}, expires_at) VALUES {rows} "
                f"ON CONFLICT ({key}) DO UPDATE SET expires_at = excluded.expires_at "
                f"WHERE policy_marks.expires_at <= {p} RETURNING {key}")
        return statement

    def _record(self, column: str) -> str:
        p, key = self.placeholder, self.key
        insert = (f"INSERT INTO author_history ({key}, accepted, rejected, updated_at) "
                  f"VALUES ({p}, {p}, {p}, {p}) ")
        if self.mysql:
            return insert + f"ON DUPLICATE KEY UPDATE {column} = {column} + 1, updated_at = {p}"
        return insert + (f"ON CONFLICT ({key}) DO UPDATE SET {column} = author_history.{column}"
                         f" + 1, updated_at = {p}")

    def moment(self, value: _dt.datetime) -> Any:
        """A naive UTC datetime as the column holds it (SQLite: SQLAlchemy's text form)."""
        return value.isoformat(" ", "microseconds") if self.sqlite else value


@functools.cache
def statements(dialect: str, paramstyle: str) -> Statements:
    """The statements of backend ``dialect`` for a driver of ``paramstyle``."""
    return Statements(dialect, paramstyle)
