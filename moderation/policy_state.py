"""State the submission-time checks share across workers and processes.

Flood and duplicate windows are *claims* on hashed keys: claiming succeeds when
no unexpired claim holds the key, atomically, so two workers racing with the
same e-mail cannot both get through. Claims live in the database
(``policy_marks``) or, when ``redis_url`` is set, in Redis. Author history for
the trust check always lives in the database.

A live submission works in one :meth:`PolicyState.transaction`: its claims, the
history it reads and counts and (see ``Moderator.moderate``) the stored comment
are committed together or not at all. Claims made in Redis are released when the
transaction fails.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

from .errors import ConfigError
from .store import utcnow
from .submission_sql import SubmissionSql, open_connections, submission_sql

__all__ = ["PolicyState", "StateTransaction", "hash_key"]

log = logging.getLogger(__name__)

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
        self.connections = open_connections(engine)  # checks the driver first
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

    @contextmanager
    def transaction(self) -> Iterator[StateTransaction]:
        """One live submission's claims, history and stored comment, committed when the
        block ends (nothing of it if the block raises: claims made in Redis are then
        released)."""
        state = None
        try:
            with submission_sql(self.connections) as sql:
                state = StateTransaction(self, sql)
                yield state
        except BaseException:
            if state is not None and state.redis_claims:
                self._release_redis(state.redis_claims)
            raise

    def claim(self, keys: Sequence[str], seconds: int, now: _dt.datetime | None = None
              ) -> list[str]:
        """:meth:`StateTransaction.claim` in a transaction of its own."""
        with self.transaction() as state:
            return state.claim(keys, seconds, now)

    def claim_groups(self, groups: Sequence[tuple[Sequence[str], int]],
                     now: _dt.datetime | None = None) -> list[list[str]]:
        """:meth:`StateTransaction.claim_groups` in a transaction of its own."""
        with self.transaction() as state:
            return state.claim_groups(groups, now)

    def history(self, key: str) -> tuple[int, int]:
        """:meth:`StateTransaction.history` in a transaction of its own."""
        with self.transaction() as state:
            return state.history(key)

    def record(self, key: str, decision: str) -> None:
        """:meth:`StateTransaction.record` in a transaction of its own."""
        with self.transaction() as state:
            state.record(key, decision)

    def _claim_redis(self, keys: list[str], seconds: int, now: _dt.datetime) -> list[str]:
        names = [self.redis_prefix + key for key in keys]
        expires = _epoch(now) + seconds
        held = self._script(keys=names, args=[_epoch(now), expires, seconds * 1000])
        prefix = len(self.redis_prefix)
        return [name.decode()[prefix:] for name in held]

    def _release_redis(self, keys: list[str]) -> None:
        # Ours until they expire, so no other submission holds them now. If Redis is
        # what failed, they cannot be released: they then expire as usual.
        import redis

        try:
            self.redis.delete(*(self.redis_prefix + key for key in keys))
        except redis.RedisError as exc:
            log.warning("could not release the flood and duplicate claims of a failed "
                        "submission (%s); they expire as usual", type(exc).__name__)


class StateTransaction:
    """The shared state as one live submission sees it, inside its transaction."""

    def __init__(self, state: PolicyState, sql: SubmissionSql) -> None:
        self._state = state
        self._sql = sql
        self.redis_claims: list[str] = []  # released if the submission fails

    def claim(self, keys: Sequence[str], seconds: int, now: _dt.datetime | None = None
              ) -> list[str]:
        """Claim every key for ``seconds``; returns the keys already held (then nothing
        is claimed, so a rejected attempt does not extend the window)."""
        return self.claim_groups([(keys, seconds)], now)[0]

    def claim_groups(self, groups: Sequence[tuple[Sequence[str], int]],
                     now: _dt.datetime | None = None) -> list[list[str]]:
        """:meth:`claim` for several groups of keys at once (a flood check's and a
        duplicate check's), each for its own seconds and each all or nothing; returns,
        per group, the keys already held. Groups share no key."""
        now = now or utcnow()
        unique = [(list(dict.fromkeys(keys)), seconds) for keys, seconds in groups]
        state = self._state
        if state.redis is not None:
            results = []
            for keys, seconds in unique:
                held = state._claim_redis(keys, seconds, now) if keys else []
                if keys and not held:
                    self.redis_claims += keys
                results.append(held)
            return results
        # Sorted, so that two workers claiming overlapping keys lock them in one order.
        todo = [(sorted(keys), now + _dt.timedelta(seconds=seconds))
                for keys, seconds in unique if keys]
        claimed = iter(self._sql.claim(todo, now) if todo else ())
        results = [next(claimed) if keys else [] for keys, _ in unique]
        for _ in todo:
            state._claims += 1
            if state._claims % _PURGE_EVERY == 0:
                self._sql.purge(now)
        return results

    def history(self, key: str) -> tuple[int, int]:
        """Accepted and rejected comments recorded for ``key``."""
        return self._sql.history(key)

    def record(self, key: str, decision: str) -> None:
        """Count an accepted or rejected comment for ``key`` (flags await a human)."""
        if decision in ("accept", "reject"):
            self._sql.record(key, decision + "ed", utcnow())

    def save(self, comment_id: str, comment: Mapping[str, Any], result: Mapping[str, Any]
             ) -> None:
        """Store the comment and its decision with the rest of the submission."""
        self._sql.save(comment_id, comment, result)
