"""Batch scoring from several threads: the C look-ups and sums run with the GIL released,
so threads overlap there; each must still get exactly what one thread alone gets."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from moderation import char_ngrams, word_ngrams
from moderation.cache import LRUCache
from moderation.datasets import load_training_data
from moderation.normalize import normalize_many

from .conftest import tiny_corpus

ROOT = Path(__file__).resolve().parent.parent


def _comments() -> list[dict[str, str]]:
    texts = [row.text for row in load_training_data(ROOT / "training_data")] + tiny_corpus()[0]
    return [{"content": t, "author_name": "Ann", "author_email": "ann@example.org"}
            for t in texts * 3]


def test_moderate_many_from_four_threads_at_once_matches_one_thread(moderator):
    moderator.score_cache = LRUCache(0)  # every call scores: no thread reads another's
    comments = _comments()
    expected = moderator.moderate_many(comments)
    start = threading.Barrier(4)

    def run(_: int) -> list[dict]:
        start.wait()  # all four score at once, not one after another
        return moderator.moderate_many(comments)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))
    assert all(r == expected for r in results)


def test_batch_scores_from_threads_are_bit_identical(moderator):
    model = moderator.loaded.model
    texts = normalize_many([c["content"] for c in _comments()])
    expected = model.predict_proba_normalized(texts)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(model.predict_proba_normalized, [texts] * 3))
    for scores in results:
        np.testing.assert_array_equal(scores, expected)


def _busy_while(lookup, table_init) -> list[BaseException]:
    """Call ``table_init`` again and again while ``lookup`` runs on another thread (the
    GIL released); the errors it raised."""
    done = threading.Event()
    errors: list[BaseException] = []

    def look() -> None:
        try:
            lookup()
        finally:
            done.set()

    worker = threading.Thread(target=look)
    worker.start()
    while not done.is_set():
        try:
            table_init()
        except RuntimeError as exc:
            errors.append(exc)
            break
    worker.join()
    return errors


@pytest.mark.skipif(char_ngrams.Table is None, reason="the C extension was not built")
def test_a_char_table_in_use_by_another_thread_refuses_to_be_refilled():
    index = np.zeros(128, dtype=np.uint32)
    index[ord(" ")], index[ord("a")], index[ord("b")] = 1, 2, 3
    code = (2 << 7) | 3  # "ab" in 7 bits a character
    args = (index.tobytes(), 7, 2, 3, np.array([code], np.int64).tobytes(),
            np.array([0], np.int64).tobytes())
    table = char_ngrams.Table(*args)
    texts = ["ab ba " * 200] * 3000  # long enough for the main thread to get in
    errors = _busy_while(lambda: table.ids_texts(texts), lambda: table.__init__(*args))
    assert errors and "in use by another thread" in str(errors[0])
    lengths, ids = table.ids_texts(["ab ab"])  # still whole afterwards
    assert np.frombuffer(ids, np.int32).tolist() == [0, 0]


@pytest.mark.skipif(word_ngrams.WordTable is None, reason="the C extension was not built")
def test_a_word_table_in_use_by_another_thread_refuses_to_be_refilled():
    from moderation._ngrams import WordTable

    unigram = np.array([-1, 0, -1], np.int64).tobytes()  # token 1 ("ab") is id 0
    args = (["ab", "cd"], unigram, b"", b"", True, False)
    table = WordTable(*args)
    texts = ["ab cd " * 200] * 3000
    errors = _busy_while(lambda: table.ids_many(texts), lambda: table.__init__(*args))
    assert errors and "in use by another thread" in str(errors[0])
    lengths, ids = table.ids_many(["ab cd ab"])
    assert np.frombuffer(ids, np.int64).tolist() == [0, 0]
