"""Storage of moderated comments and their decisions, through SQLAlchemy Core.

SQLite (WAL mode) is the embedded default; PostgreSQL and MariaDB/MySQL work
with the same code. The schema is built by migrations: registered functions,
each applied in its own transaction and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from .errors import ConfigError

__all__ = ["open_engine", "migrate", "get_decision", "stored_values", "utcnow",
           "metadata", "comments", "schema_migrations", "policy_marks", "author_history",
           "decision_history", "rescore_runs", "rescore_partitions", "rescore_results",
           "MIGRATIONS", "DECISIONS", "DECISION_COLUMNS", "COMMENT_COLUMNS", "BUSY_SECONDS",
           "while_locked"]

metadata = MetaData()
schema_migrations = Table(
    "schema_migrations", metadata,
    Column("name", String(100), primary_key=True),
    Column("applied_at", DateTime, nullable=False),
)
comments = Table(
    "comments", metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime, nullable=False, index=True),
    Column("content", Text, nullable=False),
    Column("author_name", Text), Column("author_email", Text), Column("author_url", Text),
    Column("author_ip", String(64)), Column("user_agent", Text),
    Column("post_id", String(255)), Column("parent_id", String(255)), Column("permalink", Text),
    Column("decision", String(10), nullable=False, index=True),
    Column("scores", Text, nullable=False), Column("reasons", Text, nullable=False),
    Column("checks", Text, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("policy_version", String(64), nullable=False),
)
# Microseconds on MySQL/MariaDB too (their DATETIME drops them by default).
_PRECISE_TIME = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# Flood and duplicate windows: one row per hashed key (never a raw e-mail or IP),
# claimable again once ``expires_at`` has passed.
policy_marks = Table(
    "policy_marks", metadata,
    Column("key", String(64), primary_key=True),
    Column("expires_at", _PRECISE_TIME, nullable=False, index=True),
)
# Accepted and rejected comments per hashed author e-mail, for the trust check.
author_history = Table(
    "author_history", metadata,
    Column("key", String(64), primary_key=True),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
# Every re-score appends here: the comments table and rescore_results hold only
# the latest decision, so this is the audit trail. (run_id, source, comment_id)
# is unique: a comment is re-scored at most once per run, whatever crashes.
decision_history = Table(
    "decision_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("source", String(128), nullable=False),
    Column("comment_id", String(191), nullable=False),
    Column("old_decision", String(10)), Column("new_decision", String(10), nullable=False),
    Column("old_model_version", String(64)), Column("old_policy_version", String(64)),
    Column("model_version", String(64), nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("changed_at", DateTime, nullable=False),
    UniqueConstraint("run_id", "source", "comment_id", name="uq_history_run_comment"),
    Index("ix_history_comment", "source", "comment_id"),
)
# One row per re-scoring run; ``cursor`` (the JSON of the last committed id) is
# updated in the same transaction as each chunk, which is what makes resuming exact.
rescore_runs = Table(
    "rescore_runs", metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("selection", Text, nullable=False),
    Column("snapshot", Text, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("cursor", Text),
    Column("rows_done", Integer, nullable=False, default=0),
)
# Partitions committed by the Dask engine, which finishes them out of order.
rescore_partitions = Table(
    "rescore_partitions", metadata,
    Column("run_id", String(32), primary_key=True),
    Column("partition", Integer, primary_key=True, autoincrement=False),
    Column("rows_done", Integer, nullable=False),
    Column("finished_at", DateTime, nullable=False),
)
# Latest decision for comments of a foreign table (one we only read).
rescore_results = Table(
    "rescore_results", metadata,
    Column("source", String(128), primary_key=True),
    Column("source_id", String(191), primary_key=True),
    Column("decision", String(10), nullable=False),
    Column("scores", Text, nullable=False), Column("reasons", Text, nullable=False),
    Column("checks", Text, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("scored_at", DateTime, nullable=False),
)
DECISIONS = ("accept", "flag", "reject")
# What stored_values fills, in ``comments`` and ``rescore_results`` alike, in this order.
DECISION_COLUMNS = ("decision", "scores", "reasons", "checks", "model_version", "policy_version")

MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = []


def _migration(func: Callable[[Connection], None]) -> Callable[[Connection], None]:
    MIGRATIONS.append((func.__name__, func))
    return func


@_migration
def m001_comments(conn: Connection) -> None:
    comments.create(conn)


@_migration
def m010_policy_marks(conn: Connection) -> None:
    policy_marks.create(conn)


@_migration
def m011_author_history(conn: Connection) -> None:
    author_history.create(conn)


@_migration
def m020_decision_history(conn: Connection) -> None:
    decision_history.create(conn)


@_migration
def m021_rescore_runs(conn: Connection) -> None:
    rescore_runs.create(conn)
    rescore_partitions.create(conn)


@_migration
def m022_rescore_results(conn: Connection) -> None:
    rescore_results.create(conn)


def utcnow() -> _dt.datetime:
    """Now in UTC, without tzinfo (stored the same way on every database)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


BUSY_SECONDS = 30  # how long a SQLite statement waits for another process's lock


def while_locked(call: Callable[[], object], first_pause: float = 0.01,
                 max_pause: float = 0.5) -> None:
    """Run ``call`` (one SQLite statement), retrying while another connection holds the
    lock it needs, with growing pauses, for up to ``BUSY_SECONDS``."""
    deadline = time.monotonic() + BUSY_SECONDS
    pause = first_pause
    while True:
        try:
            call()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, max_pause)


def _wal(cursor: Any) -> None:
    """Switch the database file to WAL (a no-op once it is)."""
    # The switch needs the file to itself, and SQLite answers "locked" at once rather
    # than waiting when another process is switching or reading it: gunicorn's workers
    # opening a new database together hit this.
    while_locked(lambda: cursor.execute("PRAGMA journal_mode=WAL"))


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy, not pysqlite, starts transactions
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        _wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front, so two processes never deadlock
        # upgrading read locks; WAL keeps readers unblocked.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def open_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and their folder created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database_url {url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"database_url {url!r}: no driver installed ({exc})") from None
    if parsed.get_backend_name() == "sqlite":
        _sqlite_setup(engine)
    return engine


_LOCKS = {  # session-level locks that serialise concurrent migrators (several workers)
    "postgresql": ("SELECT pg_advisory_lock(724130)", "SELECT pg_advisory_unlock(724130)"),
    "mysql": ("SELECT GET_LOCK('moderation_migrate', 60)",
              "SELECT RELEASE_LOCK('moderation_migrate')"),
    "mariadb": ("SELECT GET_LOCK('moderation_migrate', 60)",
                "SELECT RELEASE_LOCK('moderation_migrate')"),
}


def migrate(engine: Engine) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied."""
    applied = []
    # SQLite needs no extra lock: each transaction starts with BEGIN IMMEDIATE.
    lock, unlock = _LOCKS.get(engine.dialect.name, (None, None))
    with engine.connect() as conn:
        if lock:
            conn.execute(text(lock))
            conn.commit()
        try:
            with conn.begin():
                schema_migrations.create(conn, checkfirst=True)
            for name, func in MIGRATIONS:
                with conn.begin():
                    done = conn.execute(select(schema_migrations.c.name).where(
                        schema_migrations.c.name == name)).first()
                    if done is None:
                        func(conn)
                        conn.execute(insert(schema_migrations).values(name=name,
                                                                      applied_at=utcnow()))
                        applied.append(name)
        finally:
            if unlock:
                conn.rollback()
                conn.execute(text(unlock))
                conn.commit()
    return applied


# What a live comment's row holds besides its id, time and decision columns.
COMMENT_COLUMNS = ("content", "author_name", "author_email", "author_url", "author_ip",
                   "user_agent", "post_id", "parent_id", "permalink")


def stored_values(result: Mapping[str, Any]) -> dict[str, Any]:
    """A result as the decision columns store it (JSON text for the structured parts),
    in ``comments`` and ``rescore_results`` alike.

    Re-scoring builds it where the comment was scored, so a worker hands the
    writer a few strings per comment instead of nested dicts to unpickle. orjson
    writes them (compact UTF-8 JSON, read back by any JSON parser) about six times
    faster than ``json.dumps``: at re-scoring rates that is ~9 µs a comment.
    """
    return {"decision": result["decision"], "scores": _json(result["scores"]),
            "reasons": _json(result["reasons"]), "checks": _json(result["checks"]),
            "model_version": result["model_version"],
            "policy_version": result["policy_version"]}


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def get_decision(engine: Engine, comment_id: str) -> dict[str, Any] | None:
    """A stored comment and its decision, or ``None``."""
    with engine.connect() as conn:
        row = conn.execute(select(comments).where(comments.c.id == comment_id)).mappings().first()
    if row is None:
        return None
    data = dict(row)
    for key in ("scores", "reasons", "checks"):
        data[key] = json.loads(data[key])
    return data
