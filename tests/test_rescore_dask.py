"""The Dask engine on a real two-worker LocalCluster equals the single-process run."""

import json

import pytest
from sqlalchemy import func, select

from moderation.errors import InputFileError
from moderation.rescore import OwnSource, Selection, rescore_database, rescore_file
from moderation.rescore.dask_engine import (
    _score_partition,
    partition_ids,
    rescore_database_dask,
)
from moderation.rescore.dask_files import rescore_file_dask
from moderation.rescore.database import start_run
from moderation.store import decision_history, migrate, open_engine, rescore_partitions

from .rescore_helpers import TEXTS, seed, stored

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


@pytest.mark.parametrize(("name", "output"), [("in.jsonl", "out.jsonl"),
                                              ("in.parquet", "out.parquet")])
def test_dask_files_equal_the_local_run(tmp_path, moderator, cluster, name, output):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [{"id": i, "content": TEXTS[i % len(TEXTS)], "author_name": "Al",
             "author_email": "al@example.org"} for i in range(23)]
    src = tmp_path / name
    if name.endswith(".jsonl"):
        src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        pq.write_table(pa.Table.from_pylist(rows), src, row_group_size=4)
    local = rescore_file(moderator, src, tmp_path / f"local-{output}", batch_size=3)
    remote = rescore_file_dask(moderator, src, tmp_path / output,
                               scheduler=cluster.scheduler_address, partition_rows=5,
                               batch_size=3)
    assert (local.rows, local.decisions) == (remote.rows, remote.decisions) == (23,
                                                                                local.decisions)
    assert (tmp_path / output).read_bytes() == (tmp_path / f"local-{output}").read_bytes() or (
        pq.read_table(tmp_path / output).to_pylist()
        == pq.read_table(tmp_path / f"local-{output}").to_pylist())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, output,
                                                                f"local-{output}"])


def test_dask_files_stop_on_a_bad_line_and_refuse_csv(tmp_path, moderator, cluster):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "content": "fine"}\n' * 6 + '{"id": 7, "content": 5}\n')
    with pytest.raises(InputFileError, match="line 7: field 'content' must be a string"):
        rescore_file_dask(moderator, src, tmp_path / "o.jsonl",
                          scheduler=cluster.scheduler_address, partition_rows=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
    (tmp_path / "in.csv").write_text("id,content\n1,hello\n")
    with pytest.raises(InputFileError, match="the Dask engine reads JSONL or Parquet"):
        rescore_file_dask(moderator, tmp_path / "in.csv", tmp_path / "o.jsonl",
                          scheduler=cluster.scheduler_address)


def test_an_interrupted_dask_run_skips_committed_partitions(tmp_path, moderator, cluster):
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    engine = open_engine(url)
    migrate(engine)
    seed(engine, 25)
    source, selection = OwnSource(), Selection()
    versions = moderator.model_version, moderator.policy_version
    # what a killed run leaves behind: its run row, and partition 1 committed by a worker
    with engine.connect() as conn:
        run = start_run(conn, source, selection, moderator, engine_name="dask",
                        snapshot_extra=lambda until: {"partitions": partition_ids(
                            source.ids(conn, selection, until, versions), 10)})
    after, upto, _ = run.snapshot["partitions"][1]
    done = _score_partition(url, source, selection, run, versions, 1, after, upto, 4, False,
                            moderator)
    assert done.rows == 10
    again = _score_partition(url, source, selection, run, versions, 1, after, upto, 4, False,
                             moderator)  # a retried task finds its marker and does nothing
    assert again.rows == 0
    report = rescore_database_dask(url, moderator, source, selection,
                                   scheduler=cluster.scheduler_address, partition_rows=10)
    assert report.resumed and report.run_id == run.id
    assert report.rows == 15 and report.total == 25
    h = decision_history.c
    with engine.connect() as conn:
        counts = conn.execute(select(h.comment_id, func.count()).group_by(h.comment_id)).all()
    assert len(counts) == 25 and {n for _, n in counts} == {1}
    engine.dispose()
