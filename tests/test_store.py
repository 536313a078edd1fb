import multiprocessing

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from moderation.errors import ConfigError
from moderation.store import (
    DECISION_COLUMNS,
    MIGRATIONS,
    comments,
    get_decision,
    migrate,
    open_engine,
    schema_migrations,
    stored_values,
)
from moderation.submission_sql import save_decision

RESULT = {"decision": "flag", "scores": {"spam": 0.7}, "reasons": [{"code": "model.spam"}],
          "checks": [], "model_version": "m1", "policy_version": "p1"}
# The JSON columns hold raw UTF-8 (not \u escapes): astral characters need utf8mb4 on MariaDB.
UNICODE_CHECKS = [{"name": "block_words", "passed": False, "action": "reject",
                   "detail": "found «дурак» 🤬"}]


def test_migrations_apply_once_and_are_recorded(database_url):
    engine = open_engine(database_url)
    assert migrate(engine) == [name for name, _ in MIGRATIONS]
    assert migrate(engine) == []
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(select(schema_migrations.c.name))]
    assert names == [name for name, _ in MIGRATIONS]
    assert {"comments", "schema_migrations"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'sub' / 'm.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_save_and_read_back(engine):
    comment = {"content": "hello ünïcode ✓", "author_email": "a@b.org", "post_id": "7"}
    save_decision(engine, "abc", comment, RESULT)
    row = get_decision(engine, "abc")
    assert row["content"] == "hello ünïcode ✓" and row["decision"] == "flag"
    assert row["scores"] == {"spam": 0.7} and row["reasons"] == [{"code": "model.spam"}]
    assert row["post_id"] == "7" and row["created_at"] is not None
    assert get_decision(engine, "missing") is None
    save_decision(engine, "uni", comment, {**RESULT, "checks": UNICODE_CHECKS})
    assert get_decision(engine, "uni")["checks"] == UNICODE_CHECKS


def test_decision_columns_are_what_stored_values_fills():
    # re-scoring writes exactly these columns, in this order, from stored_values()
    assert tuple(stored_values(RESULT)) == DECISION_COLUMNS


def test_a_failed_write_leaves_no_row(engine):
    with pytest.raises(ValueError, match="invalid decision"):
        save_decision(engine, "bad", {"content": "x"}, {**RESULT, "decision": "maybe"})
    save_decision(engine, "dup", {"content": "x"}, RESULT)
    with pytest.raises(IntegrityError):
        save_decision(engine, "dup", {"content": "y"}, RESULT)
    with pytest.raises(IntegrityError):  # NOT NULL content: the insert fails as a whole
        save_decision(engine, "null", {"content": None}, RESULT)
    with engine.connect() as conn:
        rows = conn.execute(select(comments.c.id, comments.c.content)).all()
    assert [tuple(r) for r in rows] == [("dup", "x")]


def _migrate_in_child(url: str, queue: multiprocessing.Queue) -> None:
    engine = open_engine(url)
    queue.put(migrate(engine))
    engine.dispose()


def _together(context, target, args, count):
    """``target(*args, queue)`` in ``count`` processes at once: what each put in the queue."""
    queue = context.Queue()
    workers = [context.Process(target=target, args=(*args, queue)) for _ in range(count)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return results


def test_concurrent_migrators_apply_each_migration_once(database_url):
    results = _together(multiprocessing.get_context("spawn"), _migrate_in_child,
                        (database_url,), 3)
    applied = [name for result in results for name in result]
    assert sorted(applied) == sorted(name for name, _ in MIGRATIONS)


@pytest.mark.parametrize(("url", "message"), [
    ("not a url", "is not a database URL"),
    ("oracle+nosuchdriver://x/y", "no driver installed"),
])
def test_bad_database_urls_are_config_errors(url, message):
    with pytest.raises(ConfigError, match=message):
        open_engine(url)


def _open_fresh(path, barrier, results):
    barrier.wait(timeout=60)
    try:
        with open_engine(f"sqlite:///{path}").connect() as conn:
            results.put(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
    except Exception as exc:  # reported to the test, which shows it
        results.put(repr(exc))


def test_processes_opening_a_new_sqlite_file_together_all_get_wal(tmp_path):
    # gunicorn's workers open a new database at the same moment; switching it to WAL
    # needs the file to itself, and SQLite answered "database is locked" at once to
    # the losers (about one round in fifteen before the retry).
    context = multiprocessing.get_context("fork")
    for round_ in range(25):
        modes = _together(context, _open_fresh,
                          (tmp_path / f"new{round_}.db", context.Barrier(4)), 4)
        assert modes == ["wal"] * 4, modes
