"""Stored comments to re-score: our own ``comments`` table, or a foreign table that
is only read (its new decisions go to ``rescore_results``, keyed by its id).

A source reads rows in id order after a cursor (keyset paging, so a chunk costs
the same at the end of a huge table as at the start) and writes one chunk's
new decisions inside the caller's transaction.
"""

from __future__ import annotations

import datetime as _dt
import json
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    cast,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.sql import Select

from ..comment import FIELDS
from ..errors import ConfigError
from ..policy import SUBMISSION_CHECKS, Check
from ..store import DECISION_COLUMNS, DECISIONS, comments, rescore_results, utcnow
from .bulk import driver_value, executemany

__all__ = ["Selection", "StoredRow", "Source", "OwnSource", "ForeignSource", "recorded_checks"]

# Request fields the comments table keeps; the site and the form's timestamps are
# not stored, so stored comments are re-scored under the top-level policy.
_STORED_FIELDS = tuple(f for f in FIELDS if f in comments.c)
# The columns of a stored row's last decision (StoredRow.old).
_OLD_COLUMNS = ("decision", "model_version", "policy_version", "checks", "reasons")
_OLD_AT = 1 + len(_STORED_FIELDS)  # where they start in an OwnSource row
_decision_values = operator.itemgetter(*DECISION_COLUMNS)  # stored_values() -> a tuple
_UPDATE_COMMENT = update(comments).where(comments.c.id == bindparam("b_id")).values(
    {c: bindparam(c) for c in DECISION_COLUMNS})
_RESULT_COLUMNS = ("source", "source_id", *DECISION_COLUMNS, "scored_at")
_INSERT_RESULT = insert(rescore_results).values({c: bindparam(c) for c in _RESULT_COLUMNS})
_UPDATE_RESULT = update(rescore_results).where(
    rescore_results.c.source == bindparam("b_source"),
    rescore_results.c.source_id == bindparam("b_id")).values(
    {c: bindparam(c) for c in (*DECISION_COLUMNS, "scored_at")})


@dataclass(frozen=True)
class Selection:
    """Which stored comments a run re-scores, and how."""

    since: _dt.datetime | None = None
    only_stale: bool = False
    statuses: tuple[str, ...] = ()
    recheck_submission: bool = False

    def __post_init__(self) -> None:
        bad = sorted(set(self.statuses) - set(DECISIONS))
        if bad:
            raise ConfigError(f"unknown status(es) {', '.join(bad)}; use {', '.join(DECISIONS)}")

    def key(self) -> str:
        """Canonical JSON, used to recognise an interrupted run of the same selection."""
        return json.dumps({"since": self.since.isoformat() if self.since else None,
                           "only_stale": self.only_stale, "statuses": sorted(self.statuses),
                           "recheck_submission": self.recheck_submission}, sort_keys=True)


@dataclass
class StoredRow:
    """One stored comment and what was last decided about it (``None``: never)."""

    id: Any
    comment: dict[str, Any]
    old: dict[str, Any] | None = field(default=None)

    @property
    def key(self) -> str:
        """The id as stored in history and results tables."""
        return str(self.id)


def recorded_checks(old: Mapping[str, Any] | None) -> list[Check]:
    """The submission-time check outcomes recorded with a stored decision."""
    if not old:
        return []
    try:
        checks = orjson.loads(old.get("checks") or "[]")
        items = [item for item in checks if isinstance(item, dict)
                 and item.get("name") in SUBMISSION_CHECKS] if isinstance(checks, list) else []
        # Only a failed check's code comes from the reasons: most records skip that parse.
        failed = any(not item.get("passed", True) for item in items)
        reasons = orjson.loads(old.get("reasons") or "[]") if failed else []
    except (TypeError, orjson.JSONDecodeError):
        return []  # an unreadable record carries nothing; the fresh checks still run
    codes = {str(r.get("message", "")).split(":", 1)[0]: r.get("code", "")
             for r in reasons if isinstance(r, dict)}
    carried = []
    for item in items:
        name = str(item["name"])
        passed = bool(item.get("passed", True))
        carried.append(Check(name, passed, str(item.get("action", "none")),
                             str(item.get("detail", "")),
                             "" if passed else str(codes.get(name) or f"policy.{name}")))
    return carried


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):  # BLOB/VARBINARY columns of foreign schemas
        return value.decode("utf-8", errors="replace")
    return str(value)


class Source:
    """Base of the two sources; subclasses say which table and columns."""

    name: str

    def bind(self, conn: Connection) -> None:
        """Resolve tables and columns on a connection (once per process)."""

    def snapshot(self, conn: Connection) -> Any:
        """A bound that keeps comments added during the run out of it."""
        raise NotImplementedError

    def _select(self, selection: Selection, snapshot: Any, model_version: str,
                policy_version: str) -> tuple[Select[Any], ColumnElement[Any]]:
        raise NotImplementedError

    def count(self, conn: Connection, selection: Selection, snapshot: Any, versions: tuple[
            str, str], after: Any = None) -> int:
        """How many selected comments come after ``after``."""
        query, id_col = self._select(selection, snapshot, *versions)
        if after is not None:
            query = query.where(id_col > after)
        return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())

    def ids(self, conn: Connection, selection: Selection, snapshot: Any,
            versions: tuple[str, str]) -> Any:
        """The selected ids in order, streamed (for partitioning)."""
        query, id_col = self._select(selection, snapshot, *versions)
        query = query.with_only_columns(id_col).order_by(id_col)
        return conn.execution_options(stream_results=True, yield_per=10_000).execute(query)

    def read(self, conn: Connection, selection: Selection, snapshot: Any,
             versions: tuple[str, str], after: Any, limit: int,
             upto: Any = None) -> list[StoredRow]:
        """Up to ``limit`` selected rows with ids after ``after`` (and at most ``upto``)."""
        query, id_col = self._select(selection, snapshot, *versions)
        if after is not None:
            query = query.where(id_col > after)
        if upto is not None:
            query = query.where(id_col <= upto)
        return [self._row(r) for r in conn.execute(query.order_by(id_col).limit(limit)).all()]

    def _row(self, row: Row[Any]) -> StoredRow:
        raise NotImplementedError

    def write(self, conn: Connection, rows: Sequence[StoredRow],
              results: Sequence[Mapping[str, Any]]) -> None:
        """Store the new decisions of one chunk (inside the caller's transaction);
        ``results`` are in :func:`~moderation.store.stored_values` form."""
        raise NotImplementedError


def _stale(model_col: Any, policy_col: Any, model_version: str,
           policy_version: str) -> ColumnElement[bool]:
    return or_(model_col.is_(None), model_col != model_version, policy_col != policy_version)


class OwnSource(Source):
    """The ``comments`` table the service writes."""

    name = "comments"

    def snapshot(self, conn: Connection) -> Any:
        return utcnow().isoformat()

    def _select(self, selection: Selection, snapshot: Any, model_version: str,
                policy_version: str) -> tuple[Select[Any], ColumnElement[Any]]:
        c = comments.c
        query = select(c.id, *(c[f] for f in _STORED_FIELDS), *(c[k] for k in _OLD_COLUMNS))
        query = query.where(c.created_at <= _dt.datetime.fromisoformat(snapshot))
        if selection.since:
            query = query.where(c.created_at >= selection.since)
        if selection.statuses:
            query = query.where(c.decision.in_(selection.statuses))
        if selection.only_stale:
            query = query.where(_stale(c.model_version, c.policy_version, model_version,
                                       policy_version))
        return query, c.id

    def _row(self, row: Row[Any]) -> StoredRow:
        # by position (the order _select gives): a third of the cost of row mappings
        return StoredRow(row[0], dict(zip(_STORED_FIELDS, row[1:_OLD_AT], strict=True)),
                         dict(zip(_OLD_COLUMNS, row[_OLD_AT:], strict=True)))

    def write(self, conn: Connection, rows: Sequence[StoredRow],
              results: Sequence[Mapping[str, Any]]) -> None:
        executemany(conn, _UPDATE_COMMENT, (*DECISION_COLUMNS, "b_id"), [
            (*_decision_values(values), row.id) for row, values in zip(rows, results,
                                                                        strict=True)])


@dataclass
class ForeignSource(Source):
    """A comments table that is not ours (WordPress, Django...): read, never written."""

    table: str
    id_column: str
    content_column: str
    author_column: str | None = None
    email_column: str | None = None
    date_column: str | None = None

    def __post_init__(self) -> None:
        if self.table in {t.name for t in comments.metadata.sorted_tables}:
            raise ConfigError(f"--table {self.table}: that is one of our own tables")
        self.name = self.table
        self._table: Table | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_table": None}  # reflected again where it is unpickled

    def bind(self, conn: Connection) -> None:
        if self._table is not None:
            return
        try:
            table = Table(self.table, MetaData(), autoload_with=conn)
        except NoSuchTableError:
            raise ConfigError(f"no table {self.table!r} in the database") from None
        for option, column in (("--id-column", self.id_column),
                               ("--content-column", self.content_column),
                               ("--author-column", self.author_column),
                               ("--email-column", self.email_column),
                               ("--date-column", self.date_column)):
            if column is not None and column not in table.c:
                raise ConfigError(f"{option} {column}: table {self.table!r} has no such column "
                                  f"(it has {', '.join(table.c.keys())})")
        self._table = table

    @property
    def _t(self) -> Table:
        if self._table is None:
            raise RuntimeError("ForeignSource used before bind()")
        return self._table

    def snapshot(self, conn: Connection) -> Any:
        return conn.execute(select(func.max(self._t.c[self.id_column]))).scalar()

    def _select(self, selection: Selection, snapshot: Any, model_version: str,
                policy_version: str) -> tuple[Select[Any], ColumnElement[Any]]:
        t, r = self._t, rescore_results.c
        id_col = t.c[self.id_column]
        columns = [id_col.label("id"), t.c[self.content_column].label("content")]
        for label, name in (("author_name", self.author_column),
                            ("author_email", self.email_column)):
            if name is not None:
                columns.append(t.c[name].label(label))
        joined = t.outerjoin(rescore_results, and_(r.source == self.table,
                                                   r.source_id == cast(id_col, String)))
        query = select(*columns, *(r[k] for k in _OLD_COLUMNS)).select_from(joined)
        # snapshot None: the table was empty when the run started, and stays so for it
        query = query.where(id_col <= snapshot if snapshot is not None else false())
        if selection.since:
            if self.date_column is None:
                raise ConfigError("--since on a foreign table needs --date-column")
            query = query.where(t.c[self.date_column] >= selection.since)
        if selection.statuses:
            query = query.where(r.decision.in_(selection.statuses))
        if selection.only_stale:
            query = query.where(_stale(r.model_version, r.policy_version, model_version,
                                       policy_version))
        return query, id_col

    def _row(self, row: Row[Any]) -> StoredRow:
        values = row._mapping
        comment = {f: _text(values.get(f)) for f in FIELDS}
        comment["content"] = comment["content"] or ""
        old = None if values["decision"] is None else {k: values[k] for k in _OLD_COLUMNS}
        return StoredRow(values["id"], comment, old)

    def write(self, conn: Connection, rows: Sequence[StoredRow],
              results: Sequence[Mapping[str, Any]]) -> None:
        now = driver_value(conn, rescore_results.c.scored_at, utcnow())
        new, seen = [], []
        for row, result in zip(rows, results, strict=True):
            values = _decision_values(result)
            if row.old is None:
                new.append((self.table, row.key, *values, now))
            else:
                seen.append((*values, now, self.table, row.key))
        executemany(conn, _INSERT_RESULT, _RESULT_COLUMNS, new)
        executemany(conn, _UPDATE_RESULT, (*DECISION_COLUMNS, "scored_at", "b_source", "b_id"),
                    seen)
