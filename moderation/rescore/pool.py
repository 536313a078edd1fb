"""Scoring batches on worker processes: results come back in input order, with a
bounded number of batches in flight so memory stays flat on any input size."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from ..moderator import Moderator
from ..policy import Check

__all__ = ["Job", "score_batches"]

T = TypeVar("T")
# (caller's tag, comments, recorded submission checks or None)
Job = tuple[T, Sequence[Mapping[str, Any]], Sequence[Sequence[Check]] | None]

_MODERATOR: Moderator | None = None


def _init(moderator: Moderator) -> None:
    global _MODERATOR
    _MODERATOR = moderator


def _score(comments: Sequence[Mapping[str, Any]],
           recorded: Sequence[Sequence[Check]] | None) -> list[dict[str, Any]]:
    assert _MODERATOR is not None, "worker started without a moderator"
    return _MODERATOR.moderate_many(comments, recorded)


def _context() -> Any:
    # fork hands the loaded model to the workers for free (pickling it takes
    # seconds per worker), but is only safe while this process has one thread.
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def score_batches(moderator: Moderator, jobs: Iterable[Job[T]],
                  workers: int = 1) -> Iterator[tuple[T, list[dict[str, Any]]]]:
    """``(tag, results)`` per job, in order; ``workers`` > 1 scores on that many processes."""
    jobs = iter(jobs)
    head = list(itertools.islice(jobs, 2))
    if workers <= 1 or len(head) < 2:  # one batch is not worth starting processes for
        for tag, comments, recorded in itertools.chain(head, jobs):
            yield tag, moderator.moderate_many(comments, recorded)
        return
    context = _context()
    if context.get_start_method() == "fork":
        # Keep the collector in the workers off the inherited model's objects: its
        # bookkeeping writes would copy the shared pages into every worker.
        gc.freeze()
    try:
        pool = context.Pool(workers, initializer=_init, initargs=(moderator,))
    finally:
        gc.unfreeze()
    with pool:
        pending: deque[tuple[T, Any]] = deque()
        for tag, comments, recorded in itertools.chain(head, jobs):
            pending.append((tag, pool.apply_async(_score, (comments, recorded))))
            if len(pending) >= 2 * workers:
                first, result = pending.popleft()
                yield first, result.get()
        while pending:
            first, result = pending.popleft()
            yield first, result.get()
