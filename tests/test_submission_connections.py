"""Connections kept from one live submission to the next: reused, never shared between
submissions in flight or between processes, replaced when lost, closed by dispose()."""

import gc
import multiprocessing
import sqlite3

import pytest

from moderation.policy_state import PolicyState
from moderation.store import migrate, open_engine

from .conftest import drop_server_connection, fresh_database, server_connection_id


def _connection_of(state):
    """The DB-API connection the state's next submission will use."""
    kept = state.connections.acquire()
    state.connections.release(kept, committed=False)
    return kept.dbapi


def test_submissions_reuse_one_connection_outside_the_pool(engine):
    state = PolicyState(engine)
    assert state.claim(["k1"], 60) == []
    first = _connection_of(state)
    assert state.claim(["k2"], 60) == [] and state.history("author") == (0, 0)
    assert _connection_of(state) is first
    assert engine.pool.checkedout() == 0


def test_submissions_in_flight_get_their_own_connections(engine):
    connections = PolicyState(engine).connections
    one, two = connections.acquire(), connections.acquire()
    assert one.dbapi is not two.dbapi
    connections.release(one, committed=True)
    connections.release(two, committed=True)
    again = [connections.acquire(), connections.acquire()]
    assert {id(kept.dbapi) for kept in again} == {id(one.dbapi), id(two.dbapi)}
    for kept in again:
        connections.release(kept, committed=True)


def test_dispose_closes_kept_connections_and_the_next_submission_opens_one(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'd.db'}")
    migrate(engine)
    state = PolicyState(engine)
    assert state.claim(["k1"], 60) == []
    busy = state.connections.acquire()  # a submission in flight when dispose() runs
    idle = _connection_of(state)
    engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        idle.execute("SELECT 1")
    state.connections.release(busy, committed=True)
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        busy.dbapi.execute("SELECT 1")
    assert state.claim(["k1"], 60) == ["k1"]  # a new connection, the same database
    assert _connection_of(state) not in (idle, busy.dbapi)
    engine.dispose()


def test_an_in_memory_database_is_the_pools_one_connection():
    engine = open_engine("sqlite://")
    migrate(engine)
    state = PolicyState(engine)
    assert state.claim(["k"], 60) == []
    assert state.claim(["k"], 60) == ["k"]  # the same database, so the same connection
    assert state.connections._idle == []
    engine.dispose()


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_a_connection_dropped_while_idle_is_replaced_without_an_error(kind, tmp_path):
    with fresh_database(kind, tmp_path) as url:
        engine = open_engine(url)
        migrate(engine)
        state = PolicyState(engine)
        try:
            assert state.claim(["k1"], 60) == []
            idle = _connection_of(state)
            server_id = server_connection_id(idle.cursor(), kind)
            idle.rollback()
            drop_server_connection(url, server_id, kind)  # a restart or an idle timeout
            assert state.claim(["k1"], 60) == ["k1"]  # no error, and the claim stood
            assert state.claim(["k2"], 60) == []
            assert _connection_of(state) is not idle
        finally:
            engine.dispose()


def _submit_in_child(state, inherited, checkpointer, results):
    assert state.claim(["child"], 60) == []
    results.put((_connection_of(state) is not inherited,
                 state.connections.checkpointer is not checkpointer))
    state.connections.dispose()  # closes the child's own connection only
    gc.collect()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_forked_child_neither_uses_nor_closes_its_parents_connection(kind, tmp_path):
    with fresh_database(kind, tmp_path) as url:
        engine = open_engine(url)
        migrate(engine)
        state = PolicyState(engine)
        try:
            assert state.claim(["parent"], 60) == []
            inherited = _connection_of(state)
            checkpointer = state.connections.checkpointer
            context = multiprocessing.get_context("fork")
            results = context.Queue()
            child = context.Process(target=_submit_in_child,
                                    args=(state, inherited, checkpointer, results))
            child.start()
            own_connection, own_checkpointer = results.get(timeout=60)
            child.join(timeout=60)
            assert child.exitcode == 0 and own_connection
            assert own_checkpointer or checkpointer is None
            # The parent's connection is still open and still the one it uses.
            assert state.claim(["child", "parent2"], 60) == ["child"]
            assert _connection_of(state) is inherited
        finally:
            engine.dispose()


def test_mariadb_connections_read_committed_from_the_start(tmp_path):
    # Set once per connection: InnoDB's REPEATABLE READ would deadlock two new claims.
    with fresh_database("mariadb", tmp_path) as url:
        engine = open_engine(url)
        migrate(engine)
        state = PolicyState(engine)
        try:
            assert state.claim(["k"], 60) == []
            connection = _connection_of(state)
            cursor = connection.cursor()
            cursor.execute("SELECT @@SESSION.tx_isolation")  # MariaDB's name for it
            assert cursor.fetchone()[0] == "READ-COMMITTED"
            connection.rollback()
        finally:
            engine.dispose()
