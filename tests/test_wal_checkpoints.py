"""SQLite checkpoints off the request path: live submissions never checkpoint, a
background thread does, and the write-ahead log stays bounded."""

import logging
import sqlite3

import pytest

from moderation.policy_state import PolicyState
from moderation.store import migrate, open_engine
from moderation.wal_checkpoints import Checkpointer


@pytest.fixture
def state(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    migrate(engine)
    state = PolicyState(engine)
    yield state
    engine.dispose()


def _claims(state, count, start=0):
    for number in range(start, start + count):
        assert state.claim([f"key-{number}"], 60) == []


def test_submission_connections_leave_checkpoints_to_the_background(state):
    kept = state.connections.acquire()
    assert kept.cursor.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    state.connections.release(kept, committed=False)
    assert state.connections.checkpointer is not None


def test_every_nth_commit_checkpoints_in_the_background(state, tmp_path):
    checkpointer = state.connections.checkpointer
    checkpointer.every = 4
    database = tmp_path / "wal.db"
    _claims(state, 3)
    checkpointer.wait()
    assert checkpointer.last is None
    size = database.stat().st_size  # pages reach the database file only by a checkpoint
    _claims(state, 1, start=3)
    checkpointer.wait()
    mode, busy, pages, copied = checkpointer.last
    assert (mode, busy) == ("PASSIVE", 0) and pages == copied > 0
    assert database.stat().st_size > size


@pytest.mark.parametrize("every", [8, 10**9])
def test_the_log_stays_bounded_only_with_the_checkpoints(state, tmp_path, every):
    state.connections.checkpointer.every = every
    sizes = []
    for start in range(0, 400, 8):
        _claims(state, 8, start)
        state.connections.checkpointer.wait()  # as if no other writer came in between
        sizes.append((tmp_path / "wal.db-wal").stat().st_size)
    if every == 8:
        assert max(sizes[10:]) == max(sizes[:10])  # the log starts again: it does not grow
    else:
        assert sizes[-1] > 2 * sizes[10]  # without them, it grows with every commit


def test_a_log_that_stays_long_gets_a_restart_checkpoint(state):
    checkpointer = state.connections.checkpointer
    checkpointer.every, checkpointer.restart_at = 2, 1
    _claims(state, 2)
    checkpointer.wait()
    assert checkpointer.last[:2] == ("RESTART", 0)
    checkpointer.restart_at = 10**6
    _claims(state, 2, start=2)
    checkpointer.wait()
    assert checkpointer.last[0] == "PASSIVE"


def test_a_deleted_database_is_not_created_again(tmp_path, caplog):
    path = tmp_path / "gone.db"
    sqlite3.connect(path).close()
    path.unlink()
    checkpointer = Checkpointer(str(path), every=1)
    with caplog.at_level(logging.WARNING, logger="moderation.wal_checkpoints"):
        checkpointer.committed()
        checkpointer.wait()
    assert not path.exists()
    assert "background WAL checkpoint failed: unable to open database file" in caplog.text


def test_the_checkpoint_connection_is_kept_between_rounds_and_closed_by_dispose(state):
    checkpointer = state.connections.checkpointer
    checkpointer.every = 2
    _claims(state, 2)
    checkpointer.wait()
    first = checkpointer._conn
    _claims(state, 2, start=2)
    checkpointer.wait()
    assert checkpointer._conn is first is not None
    state.engine.dispose()
    assert checkpointer._conn is None
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        first.execute("SELECT 1")
