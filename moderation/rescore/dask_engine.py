"""The same re-scoring on a Dask cluster: the model goes to every worker once, the
selected ids are cut into ranges, and each worker reads, scores and commits its
own ranges (decisions, history and a partition marker in one transaction).

A partition already marked done is skipped, both when a killed run is started
again and when Dask retries a task whose worker died after committing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from ..errors import ConfigError
from ..moderator import Moderator
from ..store import migrate, open_engine, rescore_partitions, stored_values, utcnow
from .database import (
    EXAMPLES_PER_CELL,
    Run,
    RunReport,
    commit_chunk,
    finish_run,
    history_matrix,
    jobs_for,
    start_run,
)
from .sources import Selection, Source

__all__ = ["rescore_database_dask", "connect_client", "partition_ids"]

_ENGINES: dict[str, Engine] = {}  # one engine per database per worker process


def connect_client(scheduler: Any) -> Any:
    """A ``distributed.Client`` for an address, or the client given."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("--engine dask needs Dask: pip install 'moderation[dask]'") from None
    return scheduler if isinstance(scheduler, Client) else Client(scheduler)


def partition_ids(ids: Any, size: int) -> list[list[Any]]:
    """``[after, upto, rows]`` ranges of at most ``size`` ids from ids in order."""
    parts: list[list[Any]] = []
    after, last, count = None, None, 0
    for (value,) in ids:
        last, count = value, count + 1
        if count == size:
            parts.append([after, last, count])
            after, count = last, 0
    if count:
        parts.append([after, last, count])
    return parts


def _score_partition(url: str, source: Source, selection: Selection, run: Run,
                     versions: tuple[str, str], number: int, after: Any, upto: Any,
                     batch_size: int, dry_run: bool, moderator: Moderator) -> RunReport:
    engine = _ENGINES.get(url) or _ENGINES.setdefault(url, open_engine(url))
    report = RunReport(run.id, dry_run)
    chunks = []
    with engine.connect() as conn:
        with conn.begin():
            source.bind(conn)
            if not dry_run and conn.execute(select(rescore_partitions.c.partition).where(
                    rescore_partitions.c.run_id == run.id,
                    rescore_partitions.c.partition == number)).first():
                return report  # committed by an earlier attempt
        for rows, comments, recorded in jobs_for(conn, source, selection, run, versions,
                                                  batch_size, after, upto):
            results = [stored_values(r) for r in moderator.moderate_many(comments, recorded)]
            report.tally(rows, results, count=True)
            report.rows += len(rows)
            chunks.append((rows, results))
        if dry_run:
            return report
        try:
            with conn.begin():
                for rows, results in chunks:
                    commit_chunk(conn, source, run.id, rows, results)
                conn.execute(insert(rescore_partitions).values(
                    run_id=run.id, partition=number, rows_done=report.rows,
                    finished_at=utcnow()))
        except IntegrityError:  # another attempt committed it meanwhile: keep theirs
            return RunReport(run.id, dry_run)
    return report


def rescore_database_dask(url: str, moderator: Moderator, source: Source,
                          selection: Selection, *, scheduler: Any, partition_rows: int = 20_000,
                          batch_size: int = 1000, dry_run: bool = False,
                          on_total: Callable[[int], None] = lambda n: None,
                          progress: Callable[[int], None] = lambda n: None) -> RunReport:
    """Re-score the selected stored comments on the Dask cluster at ``scheduler``."""
    client = connect_client(scheduler)
    from distributed import as_completed

    engine = open_engine(url)
    migrate(engine)
    versions = moderator.model_version, moderator.policy_version
    try:
        with engine.connect() as conn:
            with conn.begin():
                source.bind(conn)

            def partitions(until: Any) -> dict[str, Any]:
                ids = source.ids(conn, selection, until, versions)
                return {"partitions": partition_ids(ids, partition_rows)}

            run = start_run(conn, source, selection, moderator, engine_name="dask",
                            dry_run=dry_run, snapshot_extra=partitions)
            with conn.begin():
                done = {n for (n,) in conn.execute(select(rescore_partitions.c.partition).where(
                    rescore_partitions.c.run_id == run.id))}
        todo = [(n, part) for n, part in enumerate(run.snapshot["partitions"]) if n not in done]
        on_total(sum(part[2] for _, part in todo))
        report = RunReport(None if dry_run else run.id, dry_run, run.resumed)
        model = client.scatter(moderator, broadcast=True)  # sent once, reused by every task
        futures = [client.submit(_score_partition, url, source, selection, run, versions, n,
                                 part[0], part[1], batch_size, dry_run, model, pure=False)
                   for n, part in todo]
        for future in as_completed(futures):
            part_report = future.result()
            report.rows += part_report.rows
            if dry_run:  # a real run's matrix is read from its history at the end
                for old, row in part_report.matrix.items():
                    for new, count in row.items():
                        report.matrix[old][new] += count
            for cell, examples in part_report.examples.items():
                mine = report.examples.setdefault(cell, [])
                mine.extend(examples[:EXAMPLES_PER_CELL - len(mine)])
            progress(part_report.rows)
        if not dry_run:
            with engine.connect() as conn:
                finish_run(conn, run.id)
                history_matrix(conn, run.id, report)
    finally:
        engine.dispose()
        if client is not scheduler:
            client.close()
    return report
