"""The bounded LRU map and the moderator's cache of scores for repeated contents."""

from pathlib import Path

import pytest

from moderation.artefact import load_model
from moderation.cache import LRUCache
from moderation.config import load_settings
from moderation.moderator import Moderator


def test_least_recently_used_goes_first():
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2 and (cache.hits, cache.misses) == (3, 1)


def test_size_zero_disables_the_cache():
    cache: LRUCache[str, int] = LRUCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None and len(cache) == 0


def _moderator(settings_overrides, **extra) -> Moderator:
    settings = load_settings({**settings_overrides, **extra}, environ={})
    return Moderator(load_model(Path(settings["models_dir"])), settings)


SPAM = "Buy cheap viagra online no prescription at pills-best.shop fast delivery"
AUTHOR = {"author_name": "Sam", "author_email": "sam@example.org"}


def test_repeated_content_is_scored_once_and_checked_every_time(settings_overrides):
    moderator = _moderator(settings_overrides)
    first = moderator.moderate({"content": SPAM, **AUTHOR})
    again = moderator.moderate({"content": SPAM, "author_name": "", "author_email": "x"})
    assert again["scores"] == first["scores"]
    assert moderator.score_cache.hits == 1
    # The policy still runs per comment: the second one lacks a name and a valid e-mail.
    failed = {c["name"] for c in again["checks"] if not c["passed"]}
    assert failed == {"required_fields", "email_syntax"}


def test_duplicates_in_one_batch_are_scored_once(settings_overrides):
    moderator = _moderator(settings_overrides)
    results = moderator.moderate_many([{"content": SPAM, **AUTHOR}] * 3
                                      + [{"content": "Nice photos", **AUTHOR}])
    assert results[0] == results[1] == results[2]
    assert len(moderator.score_cache) == 2 and moderator.score_cache.misses == 4


def test_cached_scores_cannot_be_changed_by_a_caller(settings_overrides):
    moderator = _moderator(settings_overrides)
    result = moderator.moderate({"content": SPAM, **AUTHOR})
    expected = dict(result["scores"])
    result["scores"]["spam"] = -1.0
    assert moderator.moderate({"content": SPAM, **AUTHOR})["scores"] == expected


def test_repeated_content_is_explained_once_and_callers_get_their_own_copy(settings_overrides):
    moderator = _moderator(settings_overrides)
    first = moderator.moderate({"content": SPAM, **AUTHOR})
    assert first["explanation"]["spam"]  # the spam score is over its flag threshold
    first["explanation"]["spam"][0]["text"] = "changed by a caller"
    again = moderator.moderate({"content": SPAM, **AUTHOR})
    assert moderator.explanation_cache.hits == 1
    fresh = _moderator(settings_overrides).moderate({"content": SPAM, **AUTHOR})
    assert again["explanation"] == fresh["explanation"]


@pytest.mark.parametrize(("size", "content", "cached"), [
    (5000, SPAM, 1),
    (5000, "word " * 500, 0),  # 2,500 characters: longer than what is remembered
    (0, SPAM, 0),
])
def test_what_is_remembered(settings_overrides, size, content, cached):
    moderator = _moderator(settings_overrides, score_cache_size=size)
    uncached = _moderator(settings_overrides, score_cache_size=0)
    comment = {"content": content, **AUTHOR}
    assert moderator.moderate(comment) == uncached.moderate(comment)
    assert len(moderator.score_cache) == cached
    assert moderator.moderate(comment) == uncached.moderate(comment)  # answered from the cache


def test_cache_survives_pickling_empty_with_its_own_lock():
    import pickle

    from moderation.cache import LRUCache

    cache = LRUCache(3)
    cache.put("a", 1)
    copy = pickle.loads(pickle.dumps(cache))
    assert copy.size == 3 and len(copy) == 0 and copy.get("a") is None
    copy.put("b", 2)
    assert copy.get("b") == 2 and cache.get("b") is None
