"""A live submission's state and stored comment: one transaction, on every backend."""

import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from moderation.artefact import load_model
from moderation.config import load_settings
from moderation.moderator import Moderator
from moderation.policy_state import PolicyState, hash_key
from moderation.store import comments, open_engine, policy_marks
from moderation.submission_sql import open_connections, submission_sql
from moderation.submission_statements import statements

GOOD = {"content": "A perfectly fine comment about the garden.", "author_name": "Bea",
        "author_email": "bea@example.org", "author_ip": "192.0.2.9", "post_id": "3"}


def _moderator(models_dir, engine):
    moderator = Moderator(load_model(models_dir), load_settings({}, environ={}))
    moderator.state = PolicyState(engine)
    return moderator


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_a_comment_that_cannot_be_stored_takes_its_claims_and_history_with_it(
        models_dir, engine):
    moderator = _moderator(models_dir, engine)
    first = moderator.moderate({**GOOD, "author_email": "amy@example.org", "author_ip":
                                "192.0.2.1", "author_name": "Amy", "content": "Nice tulips."},
                               save_as="same-id")
    assert first["decision"] == "accept"
    marks = _count(engine, policy_marks)
    with pytest.raises(IntegrityError):  # the id is taken: the insert fails last
        moderator.moderate(GOOD, save_as="same-id")
    assert _count(engine, policy_marks) == marks and _count(engine, comments) == 1
    assert moderator.state.history(hash_key("", "history", "bea@example.org")) == (0, 0)
    # Told to retry, the author is not then refused as a flood or a duplicate.
    again = moderator.moderate(GOOD, save_as="new-id")
    checks = {c["name"]: c["passed"] for c in again["checks"]}
    assert checks["flood"] and checks["duplicate"] and again["decision"] == "accept"
    assert moderator.state.history(hash_key("", "history", "bea@example.org")) == (1, 0)


def test_an_error_inside_the_transaction_writes_nothing(engine):
    state = PolicyState(engine)
    with pytest.raises(RuntimeError, match="boom"), state.transaction() as tx:
        assert tx.claim(["k1", "k2"], 60) == []
        tx.record("author", "accept")
        raise RuntimeError("boom")
    assert _count(engine, policy_marks) == 0
    assert state.history("author") == (0, 0)


def test_a_held_claim_claims_none_of_the_keys_and_the_rest_of_the_work_stands(engine):
    state = PolicyState(engine)
    assert state.claim(["b"], 60) == []
    with state.transaction() as tx:
        assert tx.claim(["a", "b", "c"], 60) == ["b"]
        tx.record("author", "reject")
    assert _count(engine, policy_marks) == 1
    assert state.history("author") == (0, 1)


def test_a_submission_that_writes_nothing_takes_no_connection(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'never.db'}")
    connections = open_connections(engine)
    with submission_sql(connections):
        pass
    assert engine.pool.checkedout() == 0 and not (tmp_path / "never.db").exists()
    assert connections._idle == []
    engine.dispose()


def test_sqlite_waits_briefly_for_a_writer_with_pauses_of_its_own(tmp_path):
    from moderation.store import migrate

    path = tmp_path / "busy.db"
    engine = open_engine(f"sqlite:///{path}")
    migrate(engine)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another worker in the middle of its submission
    release = threading.Timer(0.2, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    with PolicyState(engine).transaction() as tx:
        assert tx.claim(["k"], 60) == []
        waited = time.monotonic() - started
        timeout = tx._sql._cursor.execute("PRAGMA busy_timeout").fetchone()[0]
    release.join()
    holder.close()
    assert waited >= 0.19  # it waited for the lock instead of failing at once
    assert timeout == 0  # not SQLite's wait, which sleeps a millisecond or more at a time
    assert _count(engine, policy_marks) == 1
    engine.dispose()


@pytest.mark.parametrize(("mode", "timeout"), [("wal", 0), ("delete", 30000)])
def test_sqlite_keeps_its_busy_timeout_unless_in_wal_mode(tmp_path, mode, timeout):
    # Without WAL, COMMIT waits for readers: only SQLite's own wait covers that.
    connection = sqlite3.connect(tmp_path / "mode.db", timeout=30)
    connection.execute(f"PRAGMA journal_mode = {mode}")
    cursor = connection.cursor()
    statements("sqlite", "qmark").setup(cursor)
    assert cursor.execute("PRAGMA busy_timeout").fetchone() == (timeout,)
    connection.close()


def test_a_failed_submission_releases_its_redis_claims(tmp_path):
    import os
    import uuid

    from moderation.store import migrate

    url = os.environ.get("MODERATION_TEST_REDIS_URL")
    if not url:
        pytest.skip("MODERATION_TEST_REDIS_URL is not set")
    engine = open_engine(f"sqlite:///{tmp_path / 'redis.db'}")
    migrate(engine)
    prefix = f"moderation-test:{uuid.uuid4().hex}:"
    state = PolicyState(engine, url, redis_prefix=prefix)
    try:
        assert state.claim(["kept"], 60) == []
        with pytest.raises(RuntimeError, match="store failed"), state.transaction() as tx:
            assert tx.claim(["a", "b"], 60) == []
            assert tx.claim(["kept", "c"], 60) == ["kept"]  # held: claims nothing
            raise RuntimeError("store failed")
        assert state.claim(["a", "b", "c"], 60) == []  # released, free again
        assert state.claim(["kept"], 60) == ["kept"]  # not this submission's to release
    finally:
        state.redis.delete(*state.redis.scan_iter(match=prefix + "*"))
        state.redis.close()
        engine.dispose()


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_a_connection_lost_mid_submission_is_an_outage_and_the_next_one_reconnects(
        kind, tmp_path):
    from sqlalchemy.exc import OperationalError

    from moderation.store import migrate

    from .conftest import drop_server_connection, fresh_database, server_connection_id

    with fresh_database(kind, tmp_path) as url:
        engine = open_engine(url)
        migrate(engine)
        state = PolicyState(engine)
        try:
            with pytest.raises(OperationalError) as caught, state.transaction() as tx:
                assert tx.claim(["k1"], 60) == []
                # the submission's own connection, dropped by the server mid-submission
                server_id = server_connection_id(tx._sql._cursor, kind)
                drop_server_connection(url, server_id, kind)
                tx.history("author")
            # An outage (the API answers 503), not a bug; the dead connection is discarded.
            assert caught.value.connection_invalidated
            assert state.claim(["k1"], 60) == []  # the lost claim was never committed
        finally:
            engine.dispose()
