"""Two stages of a batch on two threads: the caller prepares and uses each chunk while a
helper thread runs the middle step of the next one.

The middle step (scoring) runs mostly in C with the GIL released, so the caller's
Python (normalising, the policy checks, the results) goes on meanwhile and a batch
keeps two cores busy without a second process: nothing is pickled or copied. CPython
hands the GIL to a thread that waits for it only after its switch interval (5 ms by
default), longer than the helper's C calls on a chunk; while a batch overlaps, the
interval is a tenth of a millisecond, so that the helper gets the GIL back as soon as
its C call returns. The interval is the process's: it is restored when the last
overlapping batch ends.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["overlapped"]

T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")

SWITCH_INTERVAL = 1e-4  # seconds (sys.setswitchinterval) while a batch overlaps
_STOP = object()

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


def _serve(tasks: queue.SimpleQueue[Any], done: queue.SimpleQueue[Any],
           work: Callable[[Any], Any]) -> None:
    while (task := tasks.get()) is not _STOP:
        try:
            done.put((True, work(task)))
        except BaseException as exc:  # handed to the caller, who raises it
            done.put((False, exc))


def overlapped(items: Iterable[T], prepare: Callable[[T], U], work: Callable[[U], V]
               ) -> Iterator[tuple[U, V]]:
    """``(prepare(item), work(prepared))`` for each item, in order. ``prepare`` runs on the
    calling thread, ``work`` on a helper thread one item ahead: while the caller uses
    what this yields, the helper works on the next item. An exception in ``work`` is
    raised here; the helper stops when the caller does."""
    tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
    done: queue.SimpleQueue[Any] = queue.SimpleQueue()
    helper = threading.Thread(target=_serve, args=(tasks, done, work), daemon=True,
                              name="moderation-overlap")
    with _switching_often():
        helper.start()
        try:
            waiting = None  # the prepared item whose work the helper is doing
            for item in items:
                prepared = prepare(item)
                tasks.put(prepared)
                if waiting is not None:
                    yield waiting, _result(done)
                waiting = prepared
            if waiting is not None:
                yield waiting, _result(done)
        finally:
            tasks.put(_STOP)
            helper.join()


def _result(done: queue.SimpleQueue[Any]) -> Any:
    ok, value = done.get()
    if not ok:
        raise value
    return value
