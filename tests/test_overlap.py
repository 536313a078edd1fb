"""Batches whose scoring runs on a helper thread: the same results as on one thread, in
order, errors raised where the caller sees them, and nothing left running."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from pathlib import Path

import pytest

from moderation.artefact import load_model
from moderation.config import load_settings
from moderation.moderator import Moderator
from moderation.overlap import AHEAD, SWITCH_INTERVAL, overlapped
from moderation.policy_state import PolicyState
from moderation.store import migrate, open_engine

from .conftest import HAM, SPAM, TOXIC

T0 = dt.datetime(2026, 12, 1, 12, 0, 0)


def _moderator(settings_overrides: dict, **overrides: object) -> Moderator:
    settings = load_settings({**settings_overrides, **overrides}, environ={})
    return Moderator(load_model(Path(settings["models_dir"])), settings)


def _comments(n: int) -> list[dict[str, str]]:
    texts = HAM + SPAM + TOXIC
    # Distinct contents, with exact repeats inside a chunk and across chunks.
    return [{"content": f"{texts[i % len(texts)]} {i // 3}", "author_name": "Ann",
             "author_email": "ann@example.org"} for i in range(n)]


@pytest.mark.parametrize("cache", [0, 50])
def test_overlapped_batches_match_one_thread(settings_overrides, cache):
    comments = _comments(1100)  # five chunks, the last one short
    alone = _moderator(settings_overrides, batch_overlap=False, score_cache_size=cache)
    both = _moderator(settings_overrides, batch_overlap=True, score_cache_size=cache)
    expected = alone.moderate_many(comments)
    assert both.moderate_many(comments) == expected
    assert both.moderate_many(comments) == expected  # cached this time, where cache is on
    recorded = [[]] * len(comments)
    assert both.moderate_many(comments, recorded) == alone.moderate_many(comments, recorded)


def test_overlapped_live_submissions_match_one_thread(settings_overrides, tmp_path):
    # Submitted in a batch, the flood and duplicate state refuses most of these (one
    # author, repeated contents): the refusals depend on the order comments are checked.
    comments = _comments(600)
    runs = []
    for overlap in (False, True):
        engine = open_engine(f"sqlite:///{tmp_path / f'{overlap}.db'}")
        migrate(engine)
        moderator = Moderator(load_model(Path(settings_overrides["models_dir"])),
                              load_settings({**settings_overrides, "batch_overlap": overlap},
                                            environ={}), PolicyState(engine))
        runs.append(moderator.moderate_many(comments, submitted=True, now=T0))
        engine.dispose()
    assert runs[0] == runs[1]
    assert {c["name"]: c["passed"] for c in runs[1][1]["checks"]}["flood"] is False


def test_results_come_in_order_and_the_switch_interval_is_restored():
    before = sys.getswitchinterval()
    seen, workers = [], set()

    def work(item: int) -> int:
        workers.add(threading.current_thread().name)
        time.sleep(0.001)  # long enough that both threads take items
        return item * 10

    for prepared, result in overlapped(range(60), lambda i: i, work):
        assert result == prepared * 10
        assert sys.getswitchinterval() == pytest.approx(min(before, SWITCH_INTERVAL))
        seen.append(result)
    assert seen == [i * 10 for i in range(60)]
    assert workers == {"moderation-overlap", threading.current_thread().name}
    assert sys.getswitchinterval() == before


def test_the_helper_works_at_most_a_few_chunks_ahead_of_the_caller():
    started = []

    def work(item: int) -> int:
        started.append(item)
        return item

    batches = overlapped(range(100), lambda i: i, work)
    assert next(batches) == (0, 0)
    time.sleep(0.2)  # the helper runs on while the caller does not ask for more
    assert max(started) <= AHEAD + 1
    batches.close()


def test_an_error_in_work_is_raised_when_the_caller_reaches_its_item():
    threads = threading.active_count()

    def work(item: int) -> int:
        if item == 3:
            raise ValueError("item 3 cannot be scored")
        return item

    got = []
    with pytest.raises(ValueError, match="item 3"):
        for _, worked in overlapped(range(10), lambda i: i, work):
            got.append(worked)
    assert got == [0, 1, 2]  # everything before the failing item, nothing after
    assert threading.active_count() == threads


def test_a_caller_that_stops_early_leaves_no_thread_running():
    threads, before = threading.active_count(), sys.getswitchinterval()
    batches = overlapped(range(100), lambda i: i, lambda p: p)
    assert next(batches) == (0, 0)
    batches.close()
    assert threading.active_count() == threads
    assert sys.getswitchinterval() == before


def test_nested_and_concurrent_batches_restore_the_interval_once_all_end():
    before = sys.getswitchinterval()
    outer = overlapped(range(3), lambda i: i, lambda p: p)
    next(outer)
    assert [w for _, w in overlapped(range(3), lambda i: i, lambda p: p)] == [0, 1, 2]
    # the outer batch still runs
    assert sys.getswitchinterval() == pytest.approx(min(before, SWITCH_INTERVAL))
    assert [w for _, w in outer] == [1, 2]
    assert sys.getswitchinterval() == before
