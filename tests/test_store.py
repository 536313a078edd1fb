import sqlite3

import pytest

from moderation.errors import ConfigError
from moderation.store import MIGRATIONS, connect, get_decision, migrate, save_decision, sqlite_path

RESULT = {"decision": "flag", "scores": {"spam": 0.7}, "reasons": [{"code": "model.spam"}],
          "checks": [], "model_version": "m1", "policy_version": "p1"}


@pytest.fixture
def conn(tmp_path):
    conn = connect(f"sqlite:///{tmp_path / 'sub' / 'm.db'}")
    migrate(conn)
    yield conn
    conn.close()


def test_migrations_apply_once_and_are_recorded(tmp_path):
    conn = connect(f"sqlite:///{tmp_path / 'm.db'}")
    assert migrate(conn) == [name for name, _ in MIGRATIONS]
    assert migrate(conn) == []
    names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations")]
    assert names == [name for name, _ in MIGRATIONS]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_save_and_read_back(conn):
    save_decision(conn, "abc", {"content": "hello", "author_email": "a@b.org"}, RESULT)
    row = get_decision(conn, "abc")
    assert row["content"] == "hello" and row["decision"] == "flag"
    assert row["scores"] == {"spam": 0.7} and row["reasons"] == [{"code": "model.spam"}]
    assert get_decision(conn, "missing") is None


def test_a_failed_write_leaves_no_row(conn):
    with pytest.raises(sqlite3.IntegrityError):
        save_decision(conn, "bad", {"content": "x"}, {**RESULT, "decision": "maybe"})
    save_decision(conn, "dup", {"content": "x"}, RESULT)
    with pytest.raises(sqlite3.IntegrityError):
        save_decision(conn, "dup", {"content": "y"}, RESULT)
    rows = conn.execute("SELECT id, content FROM comments").fetchall()
    assert [tuple(r) for r in rows] == [("dup", "x")]
    assert not conn.in_transaction


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///moderation.db", "moderation.db"),
    ("sqlite:////var/lib/m.db", "/var/lib/m.db"),
    ("sqlite://", ":memory:"),
])
def test_sqlite_urls(url, path):
    assert sqlite_path(url) == path


def test_other_databases_are_a_clear_config_error():
    with pytest.raises(ConfigError, match="only sqlite"):
        sqlite_path("postgresql://localhost/test")
