"""The Dask engine on a real two-worker LocalCluster equals the single-process run."""

import pytest
from sqlalchemy import func, select

from moderation.rescore import OwnSource, Selection, rescore_database
from moderation.rescore.dask_engine import partition_ids, rescore_database_dask
from moderation.store import decision_history, migrate, open_engine, rescore_partitions

from .rescore_helpers import seed, stored

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    # Processes, not threads: the model really travels to the workers by pickle,
    # as it does on a remote cluster. No dashboard, so no port is taken.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, scheduler_port=0) as cluster:
        yield cluster


def _decisions(engine):
    return {i: {k: r[k] for k in ("decision", "scores", "reasons", "checks", "model_version",
                                  "policy_version")} for i, r in stored(engine).items()}


def test_dask_equals_single_process_row_for_row(tmp_path, moderator, cluster):
    urls = [f"sqlite:///{tmp_path / name}" for name in ("local.db", "dask.db")]
    engines = [open_engine(url) for url in urls]
    for engine in engines:
        migrate(engine)
        seed(engine, 57)
    local = rescore_database(engines[0], moderator, OwnSource(), Selection(), batch_size=8)
    before = stored(engines[1])
    dry = rescore_database_dask(urls[1], moderator, OwnSource(), Selection(),
                                scheduler=cluster.scheduler_address, partition_rows=10,
                                batch_size=4, dry_run=True)
    assert stored(engines[1]) == before and dry.matrix == local.matrix
    remote = rescore_database_dask(urls[1], moderator, OwnSource(), Selection(),
                                   scheduler=cluster.scheduler_address, partition_rows=10,
                                   batch_size=4)
    assert _decisions(engines[1]) == _decisions(engines[0])
    assert remote.matrix == local.matrix and remote.rows == 57
    with engines[1].connect() as conn:
        assert conn.execute(select(func.count()).select_from(decision_history)).scalar() == 57
        assert conn.execute(select(func.count()).select_from(rescore_partitions)).scalar() == 6
    # started again after it finished: a new run, which finds the table up to date
    again = rescore_database_dask(urls[1], moderator, OwnSource(), Selection(only_stale=True),
                                  scheduler=cluster.scheduler_address)
    assert again.total == 0 and again.rows == 0
    for engine in engines:
        engine.dispose()


@pytest.mark.parametrize(("ids", "size", "expected"), [
    ([], 3, []),
    ([1, 2, 3], 3, [[None, 3, 3]]),
    ([1, 2, 3, 4, 5, 6, 7], 3, [[None, 3, 3], [3, 6, 3], [6, 7, 1]]),
    (["a", "b"], 5, [[None, "b", 2]]),
])
def test_partition_ids(ids, size, expected):
    assert partition_ids([(i,) for i in ids], size) == expected
