"""Storage of moderated comments and their decisions (SQLite, WAL mode).

The schema is built by migrations: registered functions, each applied in its
own transaction and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["connect", "migrate", "save_decision", "get_decision", "sqlite_path", "MIGRATIONS"]

MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = []


def _migration(func: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    MIGRATIONS.append((func.__name__, func))
    return func


@_migration
def m001_comments(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE comments (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            content TEXT NOT NULL,
            author_name TEXT, author_email TEXT, author_url TEXT, author_ip TEXT,
            user_agent TEXT, post_id TEXT, parent_id TEXT, permalink TEXT,
            decision TEXT NOT NULL CHECK (decision IN ('accept', 'flag', 'reject')),
            scores TEXT NOT NULL, reasons TEXT NOT NULL, checks TEXT NOT NULL,
            model_version TEXT NOT NULL, policy_version TEXT NOT NULL
        )""")
    conn.execute("CREATE INDEX comments_created_at ON comments (created_at)")
    conn.execute("CREATE INDEX comments_decision ON comments (decision)")


def sqlite_path(url: str) -> str:
    """The file path in a ``sqlite:///path`` URL (four slashes for an absolute path)."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        return ":memory:"
    if not url.startswith("sqlite:///"):
        raise ConfigError(f"database_url {url!r}: only sqlite:///path URLs are supported")
    return url[len("sqlite:///"):]


def connect(url: str) -> sqlite3.Connection:
    """Open the database with WAL journaling and a busy timeout for concurrent writers."""
    path = sqlite_path(url)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                 "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = []
    for name, func in MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")  # serialises concurrent starters
        try:
            done = conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?",
                                (name,)).fetchone()
            if not done:
                func(conn)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, _now()))
                applied.append(name)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return applied


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


_COMMENT_COLUMNS = ("content", "author_name", "author_email", "author_url", "author_ip",
                    "user_agent", "post_id", "parent_id", "permalink")


def save_decision(conn: sqlite3.Connection, comment_id: str, comment: Mapping[str, Any],
                  result: Mapping[str, Any]) -> None:
    """Store a comment and its decision in one transaction (all or nothing)."""
    row = {
        "id": comment_id, "created_at": _now(),
        **{c: comment.get(c) for c in _COMMENT_COLUMNS},
        "decision": result["decision"],
        "scores": json.dumps(result["scores"]), "reasons": json.dumps(result["reasons"]),
        "checks": json.dumps(result["checks"]),
        "model_version": result["model_version"], "policy_version": result["policy_version"],
    }
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    with conn:
        conn.execute("BEGIN")
        conn.execute(f"INSERT INTO comments ({columns}) VALUES ({marks})", list(row.values()))


def get_decision(conn: sqlite3.Connection, comment_id: str) -> dict[str, Any] | None:
    """A stored comment and its decision, or ``None``."""
    row = conn.execute("SELECT * FROM comments WHERE id = ?", (comment_id,)).fetchone()
    if row is None:
        return None
    data = dict(row)
    for key in ("scores", "reasons", "checks"):
        data[key] = json.loads(data[key])
    return data
