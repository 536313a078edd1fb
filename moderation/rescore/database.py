"""Re-scoring stored comments in a database, in committed chunks that survive a crash.

Each chunk's new decisions, its history rows and the run's cursor are written in
one transaction. A run killed at any point and started again with the same
selection, model and policy finds its unfinished run and continues after the
last committed id: every selected comment is re-scored exactly once per run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from ..moderator import Moderator
from ..policy import Check
from ..store import (
    DECISIONS,
    decision_history,
    migrate,
    rescore_runs,
    stored_values,
    utcnow,
)
from .bulk import driver_value, executemany
from .pool import score_batches
from .sources import Selection, Source, StoredRow, recorded_checks

__all__ = ["Run", "RunReport", "rescore_database", "start_run", "commit_chunk", "jobs_for",
           "OLD_STATES", "EXAMPLES_PER_CELL"]

OLD_STATES = ("none", *DECISIONS)  # "none": never scored before (foreign tables)
EXAMPLES_PER_CELL = 3
_HISTORY_COLUMNS = ("run_id", "source", "comment_id", "old_decision", "new_decision",
                    "old_model_version", "old_policy_version", "model_version",
                    "policy_version", "changed_at")  # the table's order: no reordering
_INSERT_HISTORY = insert(decision_history).values({c: bindparam(c) for c in _HISTORY_COLUMNS})
_NEVER = {"decision": None, "model_version": None, "policy_version": None}
# Built once: SQLAlchemy then finds it compiled, instead of keying a new statement per chunk.
_ADVANCE = update(rescore_runs).where(rescore_runs.c.id == bindparam("b_run")).values(
    cursor=bindparam("cursor"), rows_done=rescore_runs.c.rows_done + bindparam("rows"))


@dataclass
class Run:
    """A run's identity and where it stands."""

    id: str
    snapshot: Any
    cursor: Any = None
    rows_done: int = 0
    resumed: bool = False


@dataclass
class RunReport:
    """What a run did: the transition matrix, examples of changes, counts."""

    run_id: str | None
    dry_run: bool
    resumed: bool = False
    rows: int = 0  # rows scored by this invocation
    matrix: dict[str, dict[str, int]] = field(default_factory=lambda: {
        old: dict.fromkeys(DECISIONS, 0) for old in OLD_STATES})
    examples: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows in the matrix (the whole run, resumed parts included)."""
        return sum(sum(row.values()) for row in self.matrix.values())

    @property
    def changed(self) -> int:
        """Rows whose decision changed (first decisions of foreign rows included)."""
        return sum(n for old, row in self.matrix.items() for new, n in row.items() if old != new)

    def tally(self, rows: Sequence[StoredRow], results: Sequence[Mapping[str, Any]],
              count: bool) -> None:
        """Record examples of changes (and counts, when ``count``) for one chunk."""
        for row, result in zip(rows, results, strict=True):
            old = row.old["decision"] if row.old else "none"
            new = result["decision"]
            if count:
                self.matrix[old][new] += 1
            cell = self.examples.setdefault((old, new), [])
            if old != new and len(cell) < EXAMPLES_PER_CELL:
                snippet = " ".join(str(row.comment.get("content") or "").split())
                cell.append((row.key, snippet[:70] + ("…" if len(snippet) > 70 else "")))


def _versions(moderator: Moderator) -> tuple[str, str]:
    return moderator.model_version, moderator.policy_version


def _run_key(source: Source, selection: Selection, engine_name: str) -> str:
    return json.dumps({"engine": engine_name, "selection": json.loads(selection.key())},
                      sort_keys=True)


def start_run(conn: Connection, source: Source, selection: Selection, moderator: Moderator, *,
              engine_name: str = "local", dry_run: bool = False,
              snapshot_extra: Callable[[Any], dict[str, Any]] | None = None) -> Run:
    """Resume the unfinished run of the same selection and versions, or start one."""
    key = _run_key(source, selection, engine_name)
    model_version, policy_version = _versions(moderator)
    r = rescore_runs.c
    with conn.begin():
        row = None if dry_run else conn.execute(select(
            r.id, r.snapshot, r.cursor, r.rows_done).where(
            r.source == source.name, r.selection == key, r.model_version == model_version,
            r.policy_version == policy_version, r.finished_at.is_(None)).order_by(
            r.started_at.desc()).limit(1)).first()
        if row is not None:
            return Run(row.id, json.loads(row.snapshot),
                       json.loads(row.cursor) if row.cursor else None, row.rows_done,
                       resumed=True)
        snapshot: Any = {"until": source.snapshot(conn)}
        if snapshot_extra is not None:
            snapshot.update(snapshot_extra(snapshot["until"]))
        run = Run(uuid.uuid4().hex, snapshot)
        if not dry_run:
            conn.execute(insert(rescore_runs).values(
                id=run.id, source=source.name, selection=key, snapshot=json.dumps(snapshot),
                model_version=model_version, policy_version=policy_version,
                started_at=utcnow(), rows_done=0))
    return run


def jobs_for(conn: Connection, source: Source, selection: Selection, run: Run,
             versions: tuple[str, str], batch_size: int, after: Any = None,
             upto: Any = None) -> Iterator[tuple[list[StoredRow], list[dict[str, Any]],
                                                 list[list[Check]] | None]]:
    """Chunks of selected rows after ``after``, ready for scoring."""
    while True:
        with conn.begin():
            rows = source.read(conn, selection, run.snapshot["until"], versions, after,
                               batch_size, upto)
        if not rows:
            return
        after = rows[-1].id
        recorded = None if selection.recheck_submission else [
            recorded_checks(row.old) for row in rows]
        yield rows, [row.comment for row in rows], recorded


def commit_chunk(conn: Connection, source: Source, run_id: str, rows: Sequence[StoredRow],
                 results: Sequence[Mapping[str, Any]]) -> None:
    """New decisions and their history rows (inside the caller's transaction); ``results``
    are in :func:`~moderation.store.stored_values` form."""
    source.write(conn, rows, results)
    now = driver_value(conn, decision_history.c.changed_at, utcnow())
    history = []
    for row, result in zip(rows, results, strict=True):
        old = row.old or _NEVER
        history.append((run_id, source.name, row.key, old["decision"], result["decision"],
                        old["model_version"], old["policy_version"], result["model_version"],
                        result["policy_version"], now))
    executemany(conn, _INSERT_HISTORY, _HISTORY_COLUMNS, history)


def history_matrix(conn: Connection, run_id: str, report: RunReport) -> None:
    """Fill the report's matrix from the run's history (covers resumed parts too)."""
    h = decision_history.c
    with conn.begin():
        for old, new, count in conn.execute(select(h.old_decision, h.new_decision, func.count())
                                            .where(h.run_id == run_id)
                                            .group_by(h.old_decision, h.new_decision)):
            report.matrix[old or "none"][new] = int(count)


def finish_run(conn: Connection, run_id: str) -> None:
    """Mark a run complete, so the next invocation starts a fresh one."""
    with conn.begin():
        conn.execute(update(rescore_runs).where(rescore_runs.c.id == run_id).values(
            finished_at=utcnow()))


def rescore_database(engine: Engine, moderator: Moderator, source: Source,
                     selection: Selection, *, batch_size: int = 1000, workers: int = 1,
                     dry_run: bool = False, on_total: Callable[[int], None] = lambda n: None,
                     progress: Callable[[int], None] = lambda n: None) -> RunReport:
    """Re-score the selected stored comments with ``moderator`` on this machine."""
    migrate(engine)
    versions = _versions(moderator)
    with engine.connect() as conn, engine.connect() as writer:
        with conn.begin():
            source.bind(conn)
        run = start_run(conn, source, selection, moderator, dry_run=dry_run)
        report = RunReport(None if dry_run else run.id, dry_run, run.resumed)
        with conn.begin():
            on_total(source.count(conn, selection, run.snapshot["until"], versions,
                                  run.cursor))
        chunks = jobs_for(conn, source, selection, run, versions, batch_size, run.cursor)
        for rows, results in score_batches(moderator, chunks, workers, stored_values):
            report.tally(rows, results, count=dry_run)
            if not dry_run:
                with writer.begin():
                    commit_chunk(writer, source, run.id, rows, results)
                    writer.execute(_ADVANCE, {"b_run": run.id, "cursor": json.dumps(rows[-1].id),
                                              "rows": len(rows)})
            report.rows += len(rows)
            progress(len(rows))
        if not dry_run:
            finish_run(writer, run.id)
            history_matrix(writer, run.id, report)
    return report
