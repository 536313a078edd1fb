"""Scoring batches on worker processes: results come back in input order, with a
bounded number of batches in flight so memory stays flat on any input size."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from ..moderator import Moderator
from ..policy import Check

__all__ = ["Job", "score_batches"]

T = TypeVar("T")
# (caller's tag, comments, recorded submission checks or None)
Job = tuple[T, Sequence[Mapping[str, Any]], Sequence[Sequence[Check]] | None]

# Applied to each result where it was scored (a module-level function: it is pickled).
Finish = Callable[[dict[str, Any]], Any]

_MODERATOR: Moderator | None = None


def _init(moderator: Moderator) -> None:
    global _MODERATOR
    # The pool's processes keep every core busy already: a helper thread per worker
    # would only contend with them (measured: 20,400 rows/s with one, 21,700 without).
    moderator.overlap = False
    _MODERATOR = moderator


def _score(comments: Sequence[Mapping[str, Any]], recorded: Sequence[Sequence[Check]] | None,
           finish: Finish | None = None, moderator: Moderator | None = None) -> list[Any]:
    moderator = moderator or _MODERATOR
    assert moderator is not None, "worker started without a moderator"
    results = moderator.moderate_many(comments, recorded)
    return results if finish is None else [finish(r) for r in results]


def _context() -> Any:
    # fork hands the loaded model to the workers for free (pickling it takes
    # seconds per worker), but is only safe while this process has one thread.
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def score_batches(moderator: Moderator, jobs: Iterable[Job[T]], workers: int = 1,
                  finish: Finish | None = None) -> Iterator[tuple[T, list[Any]]]:
    """``(tag, results)`` per job, in order; ``workers`` > 1 scores on that many processes.

    ``finish``, when given, turns each result into what the caller keeps, on the
    worker that scored it.
    """
    jobs = iter(jobs)
    # The loaded model is a large heap that no cycle collection here can free: out
    # of the collector's sight, a full collection costs milliseconds, not a tenth of a
    # second. Forked workers inherit that, which also keeps the collector's bookkeeping
    # writes off the pages they share with this process (they would be copied).
    gc.freeze()
    try:
        yield from _batches(moderator, jobs, workers, finish)
    finally:
        gc.unfreeze()


def _batches(moderator: Moderator, jobs: Iterator[Job[T]], workers: int,
             finish: Finish | None) -> Iterator[tuple[T, list[Any]]]:
    head = list(itertools.islice(jobs, 2))
    if workers <= 1 or len(head) < 2:  # one batch is not worth starting processes for
        for tag, comments, recorded in itertools.chain(head, jobs):
            yield tag, _score(comments, recorded, finish, moderator)
        return
    with _context().Pool(workers, initializer=_init, initargs=(moderator,)) as pool:
        pending: deque[tuple[T, Any]] = deque()
        for tag, comments, recorded in itertools.chain(head, jobs):
            pending.append((tag, pool.apply_async(_score, (comments, recorded, finish))))
            if len(pending) >= 2 * workers:
                first, result = pending.popleft()
                yield first, result.get()
        while pending:
            first, result = pending.popleft()
            yield first, result.get()
