"""State the submission-time checks share across workers and processes.

Flood and duplicate windows are *claims* on hashed keys: claiming succeeds when
no unexpired claim holds the key, atomically, so two workers racing with the
same e-mail cannot both get through. Claims live in the database
(``policy_marks``) or, when ``redis_url`` is set, in Redis. Author history for
the trust check always lives in the database.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from .errors import ConfigError
from .store import author_history, policy_marks, utcnow

__all__ = ["PolicyState", "hash_key"]

# INSERT ... ON CONFLICT, where the backend has it (MySQL's ON DUPLICATE KEY
# cannot report whether a conditional update happened).
_UPSERTS: dict[str, Any] = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}
_PURGE_EVERY = 1000  # claims between deletions of expired marks
# Atomic multi-key claim in Redis: every key is free (absent or expired by the
# caller's clock), then all are set; otherwise nothing changes.
_CLAIM_SCRIPT = """
local held = {}
for i, key in ipairs(KEYS) do
  local expires = redis.call('GET', key)
  if expires and tonumber(expires) > tonumber(ARGV[1]) then table.insert(held, key) end
end
if #held > 0 then return held end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[2], 'PX', ARGV[3])
end
return held
"""


def hash_key(*parts: str) -> str:
    """A fixed-length key for state tables, so they hold no e-mail or IP in clear."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _epoch(moment: _dt.datetime) -> float:
    return moment.replace(tzinfo=_dt.timezone.utc).timestamp()


class PolicyState:
    """Flood and duplicate claims plus author history, over a database engine."""

    def __init__(self, engine: Engine, redis_url: str = "", redis_prefix: str = "moderation:"
                 ) -> None:
        self.engine = engine
        self.redis: Any = None
        self.redis_prefix = redis_prefix
        self._claims = 0
        if redis_url:
            try:
                import redis
            except ImportError:
                raise ConfigError("redis_url is set but the redis package is not installed "
                                  "(pip install -e '.[redis]')") from None
            try:
                self.redis = redis.Redis.from_url(redis_url, socket_timeout=5)
                self.redis.ping()  # fail at start-up, not on the first comment
            except ValueError as exc:
                raise ConfigError(f"redis_url: {exc}") from None
            except redis.RedisError as exc:
                raise ConfigError(f"redis_url: cannot reach Redis ({exc})") from None
            self._script = self.redis.register_script(_CLAIM_SCRIPT)

    def claim(self, keys: Sequence[str], seconds: int, now: _dt.datetime | None = None
              ) -> list[str]:
        """Claim every key for ``seconds``; returns the keys already held (then nothing
        is claimed, so a rejected attempt does not extend the window)."""
        now = now or utcnow()
        keys = list(dict.fromkeys(keys))
        if not keys:
            return []
        if self.redis is not None:
            names = [self.redis_prefix + key for key in keys]
            expires = _epoch(now) + seconds
            held = self._script(keys=names, args=[_epoch(now), expires, seconds * 1000])
            prefix = len(self.redis_prefix)
            return [name.decode()[prefix:] for name in held]
        expires_at = now + _dt.timedelta(seconds=seconds)
        with self.engine.connect() as conn:
            if conn.dialect.name in ("mysql", "mariadb"):
                # InnoDB's default REPEATABLE READ gap-locks the missing row on
                # UPDATE, so two workers inserting the same new key deadlock.
                conn = conn.execution_options(isolation_level="READ COMMITTED")
            with conn.begin() as transaction:
                held = _claim_rows(conn, sorted(keys), now, expires_at)
                if held:
                    transaction.rollback()
            self._claims += 1
            if self._claims % _PURGE_EVERY == 0:
                with conn.begin():
                    conn.execute(delete(policy_marks).where(policy_marks.c.expires_at < now))
        return held

    def history(self, key: str) -> tuple[int, int]:
        """Accepted and rejected comments recorded for ``key``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(author_history.c.accepted, author_history.c.rejected)
                               .where(author_history.c.key == key)).first()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def record(self, key: str, decision: str) -> None:
        """Count an accepted or rejected comment for ``key`` (flags await a human)."""
        if decision not in ("accept", "reject"):
            return
        now = utcnow()
        row = {"key": key, "accepted": int(decision == "accept"),
               "rejected": int(decision == "reject"), "updated_at": now}
        # One atomic upsert on each backend: two workers counting the same
        # author at once neither lose a count nor deadlock.
        with self.engine.begin() as conn:
            conn.execute(_record_upsert(conn.dialect.name, decision + "ed"), row)


@functools.cache
def _record_upsert(dialect: str, column_name: str) -> Any:
    """The counting upsert for one backend and column, built once (compiled once)."""
    column = author_history.c[column_name]
    values = {c: bindparam(c) for c in ("key", "accepted", "rejected", "updated_at")}
    bump = {column_name: column + 1, "updated_at": bindparam("updated_at")}
    if dialect in ("mysql", "mariadb"):
        return mysql_insert(author_history).values(values).on_duplicate_key_update(bump)
    return _UPSERTS[dialect](author_history).values(values).on_conflict_do_update(
        index_elements=[author_history.c.key], set_=bump)


def _claim_upsert(upsert: Any) -> Any:
    # Insert, or take over an expired claim; a live claim leaves its row alone and
    # returns nothing (RETURNING, since psycopg reports no rowcount for an upsert).
    # Built once with bound parameters, so SQLAlchemy compiles it once.
    statement = upsert(policy_marks).values(key=bindparam("key"),
                                            expires_at=bindparam("expires_at"))
    return statement.on_conflict_do_update(
        index_elements=[policy_marks.c.key], set_={"expires_at": statement.excluded.expires_at},
        where=policy_marks.c.expires_at <= bindparam("now")).returning(policy_marks.c.key)


_CLAIM_UPSERTS = {name: _claim_upsert(upsert) for name, upsert in _UPSERTS.items()}


def _claim_rows(conn: Connection, keys: list[str], now: _dt.datetime,
                expires_at: _dt.datetime) -> list[str]:
    """Claim each key inside the caller's transaction; returns the keys held already."""
    statement = _CLAIM_UPSERTS.get(conn.dialect.name)
    if statement is not None:
        params = {"expires_at": expires_at, "now": now}
        return [key for key in keys
                if conn.execute(statement, {"key": key, **params}).first() is None]
    return [key for key in keys if not _claim_row(conn, key, now, expires_at)]


def _claim_row(conn: Connection, key: str, now: _dt.datetime, expires_at: _dt.datetime
               ) -> bool:
    """MySQL/MariaDB: take over an expired claim, or insert a new one."""
    renewed = conn.execute(update(policy_marks).where(
        policy_marks.c.key == key, policy_marks.c.expires_at <= now).values(
        expires_at=expires_at)).rowcount
    if renewed:
        return True
    try:
        with conn.begin_nested():
            conn.execute(insert(policy_marks).values(key=key, expires_at=expires_at))
    except IntegrityError:  # held by an unexpired claim, possibly another worker's
        return False
    return True
