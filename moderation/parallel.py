"""Moderating batches on several cores: forked workers share the loaded model.

Scoring is pure Python and NumPy under the GIL, so threads do not help; worker
processes do. They are forked from the process that already holds the model,
so no worker unpickles it again and its pages are shared until written. Batches
go out in order and at most ``2 * jobs`` are in flight, so a file of millions of
rows streams through in bounded memory.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from multiprocessing.pool import AsyncResult, Pool
from types import TracebackType
from typing import Any, TypeVar

from .moderator import Moderator

__all__ = ["BatchModerator", "resolve_jobs"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Comments = Sequence[Mapping[str, Any]]
_worker_moderator: Moderator | None = None  # set in each forked worker


def resolve_jobs(jobs: int) -> int:
    """``jobs`` worker processes; 0 means one per core."""
    if jobs < 0:
        raise ValueError("jobs must be 0 (one per core) or more")
    return jobs or os.cpu_count() or 1


def _init_worker(moderator: Moderator) -> None:
    global _worker_moderator
    _worker_moderator = moderator


def _moderate(comments: Comments) -> list[dict[str, Any]]:
    assert _worker_moderator is not None
    return _worker_moderator.moderate_many(comments)


class BatchModerator:
    """``moderate_many`` over a stream of batches, on ``jobs`` processes (1: in process)."""

    def __init__(self, moderator: Moderator, jobs: int = 1) -> None:
        self.moderator = moderator
        self.jobs = resolve_jobs(jobs)
        self._pool: Pool | None = None
        if self.jobs > 1:
            if "fork" not in multiprocessing.get_all_start_methods():
                log.warning("this platform cannot fork: scoring on one core")
                self.jobs = 1
            else:
                # Forked (not spawned) so that workers inherit the loaded model.
                context = multiprocessing.get_context("fork")
                self._pool = context.Pool(self.jobs, _init_worker, (moderator,))

    def run(self, batches: Iterable[tuple[T, Comments]]
            ) -> Iterator[tuple[T, list[dict[str, Any]]]]:
        """``(tag, results)`` for each ``(tag, comments)`` batch, in input order."""
        if self._pool is None:
            for tag, comments in batches:
                yield tag, self.moderator.moderate_many(comments)
            return
        pending: deque[tuple[T, AsyncResult[list[dict[str, Any]]]]] = deque()
        for tag, comments in batches:
            pending.append((tag, self._pool.apply_async(_moderate, (comments,))))
            if len(pending) >= 2 * self.jobs:
                done_tag, result = pending.popleft()
                yield done_tag, result.get()
        while pending:
            done_tag, result = pending.popleft()
            yield done_tag, result.get()

    def close(self) -> None:
        """Stop the workers (waiting for none of their work)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> BatchModerator:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
