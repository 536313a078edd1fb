"""Writing a chunk: one statement run for each of its rows by the driver's executemany.

``Connection.execute(statement, [dict, ...])`` processes every row's parameters in
Python, about 5 µs a row and statement; re-scoring writes two rows per comment
(its decision and its history), which made that a tenth of the writer's time.
Here each statement is compiled once per database dialect and the driver gets
the rows as they are, so each value must already be one the driver takes:
strings, numbers, ``None``, and datetimes passed through :func:`driver_value`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.dml import UpdateBase

__all__ = ["executemany", "driver_value"]


def executemany(conn: Connection, statement: UpdateBase, names: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Run ``statement``, whose bind parameters are ``names``, once per row of
    values given in that order."""
    if not rows:
        return
    sql, order = _compiled(statement, conn.dialect)
    if order is None:  # a named paramstyle (psycopg): dicts
        params: Sequence[Any] = [dict(zip(names, row, strict=True)) for row in rows]
    elif list(order) == list(names):
        params = rows
    else:
        at = [names.index(name) for name in order]
        params = [tuple(row[i] for i in at) for row in rows]
    conn.exec_driver_sql(sql, params)


@functools.lru_cache(maxsize=64)
def _compiled(statement: UpdateBase, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    # Compiling takes about a millisecond: once per statement and database, not per chunk.
    # for_executemany: no RETURNING of generated keys, which nobody reads here.
    compiled = statement.compile(dialect=dialect, for_executemany=True)
    order = compiled.positiontup
    return compiled.string, None if order is None else tuple(order)


def driver_value(conn: Connection, column: Column[Any], value: Any) -> Any:
    """``value`` as SQLAlchemy would hand it to the driver for ``column`` (a datetime
    is text on SQLite, for instance)."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return value if process is None else process(value)
