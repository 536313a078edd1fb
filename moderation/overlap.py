"""A batch's chunks scored on two threads while the caller uses them in order.

Scoring a chunk has a part in Python (finding cached results, rounding, merging), which
the caller does, and a heavier part that runs in C with the GIL released (normalising,
finding n-grams, summing weights), which a helper thread does a few chunks ahead: the
caller's Python (the policy checks, the results) goes on meanwhile, and a batch keeps
two cores busy without a second process: nothing is pickled or copied. When the chunk
the caller needs next is not ready, the caller does the heavy part of one nobody has
started rather than wait, so neither thread idles whichever is the longer.

CPython hands the GIL to a thread that waits for it only after its switch interval
(5 ms by default), longer than a C call on a chunk; while a batch overlaps, the
interval is a tenth of a millisecond, so that a thread whose C call returns gets the
GIL back soon. The interval is the process's: it is restored when the last
overlapping batch ends.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

__all__ = ["overlapped"]

T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")

SWITCH_INTERVAL = 1e-4  # seconds (sys.setswitchinterval) while a batch overlaps
AHEAD = 3  # chunks prepared ahead of the one the caller uses: memory stays flat

_lock = threading.Lock()
_running = 0
_saved_interval = 0.0


@contextmanager
def _switching_often() -> Iterator[None]:
    global _running, _saved_interval
    with _lock:
        if not _running:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH_INTERVAL, _saved_interval))
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if not _running:
                sys.setswitchinterval(_saved_interval)


class _Chunks(Generic[U, V]):
    """The prepared items, who works on which, and what each gave (or raised)."""

    def __init__(self, count: int, work: Callable[[U], V]) -> None:
        self.count, self.work = count, work
        self.prepared: list[Any] = []  # each U, and None once the caller has used it
        self.done: dict[int, tuple[bool, Any]] = {}
        self.next = 0  # the first prepared item nobody has started
        self.stopped = False
        self.changed = threading.Condition(threading.Lock())

    def add(self, prepared: U) -> None:
        with self.changed:
            self.prepared.append(prepared)
            self.changed.notify_all()

    def take(self) -> int | None:
        """A prepared item nobody has started (lock held)."""
        if self.stopped or self.next >= len(self.prepared):
            return None
        self.next += 1
        return self.next - 1

    def run(self, i: int) -> None:
        """Work on item ``i`` (lock not held) and publish the outcome."""
        try:
            outcome: tuple[bool, Any] = (True, self.work(self.prepared[i]))
        except BaseException as exc:  # raised to the caller when it reaches item i
            outcome = (False, exc)
        with self.changed:
            self.done[i] = outcome
            self.changed.notify_all()

    def help(self) -> None:
        """The helper thread: prepared items in order, until the caller stops."""
        while True:
            with self.changed:
                while (i := self.take()) is None:
                    if self.stopped or self.next >= self.count:
                        return
                    self.changed.wait()
            self.run(i)

    def result(self, k: int) -> V:
        """Item ``k``'s work, working on others while it is not ready."""
        while True:
            with self.changed:
                while k not in self.done:
                    i = self.take()
                    if i is not None:
                        break
                    self.changed.wait()
                else:
                    ok, value = self.done.pop(k)
                    if not ok:
                        raise value
                    return value  # type: ignore[no-any-return]
            self.run(i)

    def stop(self) -> None:
        with self.changed:
            self.stopped = True
            self.changed.notify_all()


def overlapped(items: Sequence[T], prepare: Callable[[T], U], work: Callable[[U], V]
               ) -> Iterator[tuple[U, V]]:
    """``(prepare(item), work(prepared))`` for each item, in order. ``prepare`` runs on the
    calling thread, up to AHEAD items ahead of the one it yields; ``work`` on a helper
    thread, or on the caller when the next result is not ready and an item is waiting.
    An exception in ``work`` is raised when the caller reaches its item; the helper
    stops when the caller does."""
    chunks: _Chunks[U, V] = _Chunks(len(items), work)
    helper = threading.Thread(target=chunks.help, daemon=True, name="moderation-overlap")
    with _switching_often():
        helper.start()
        try:
            for k in range(len(items)):
                while len(chunks.prepared) < min(len(items), k + AHEAD + 1):
                    chunks.add(prepare(items[len(chunks.prepared)]))
                worked = chunks.result(k)
                yield chunks.prepared[k], worked
                chunks.prepared[k] = None  # used: let it go
        finally:
            chunks.stop()
            helper.join()
