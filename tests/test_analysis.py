"""A live comment is scored from the analysis its explanation reuses: same scores."""

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest

from moderation.analysis import analyse, raw_scores, scores_from_analysis
from moderation.artefact import load_model
from moderation.config import load_settings
from moderation.moderator import Moderator
from moderation.normalize import normalize
from moderation.word_ngrams import WordNgramIds

from .test_fastpath import TEXTS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", params=["tiny", "default"])
def loaded(request, models_dir):
    return load_model(models_dir if request.param == "tiny" else ROOT / "models")


@pytest.mark.parametrize("text", TEXTS)
def test_raw_scores_from_an_analysis_are_the_compiled_scorers(loaded, text):
    model = loaded.model
    assert scores_from_analysis(model)
    normalised = normalize(text)
    expected = model.decision_function_normalized([normalised])[0]
    # the scorer's own arithmetic on the same sorted terms: equal to the last bit
    assert raw_scores(model, analyse(model, normalised)).tolist() == expected.tolist()


def _moderator(loaded):
    return Moderator(loaded, load_settings({"score_cache_size": 0, "store_comments": False},
                                           environ={}))


def test_a_live_comment_gets_the_scores_of_a_batch(loaded):
    moderator = _moderator(loaded)
    comments = [{"content": t, "author_name": "Sam", "author_email": "sam@example.org"}
                for t in TEXTS]
    batch = moderator.moderate_many(comments, submitted=True)
    for comment, expected in zip(comments, batch, strict=True):
        live = moderator.moderate(comment)
        assert (live["scores"], live["decision"]) == (expected["scores"], expected["decision"])


def test_a_model_the_analysis_does_not_reproduce_is_scored_as_before(models_dir):
    loaded = load_model(models_dir)
    model = pickle.loads(pickle.dumps(loaded.model))
    words = model.features_.transformer_list[0][1]
    # Stop words leave the word analyser's n-grams different from the analysis's.
    words.stop_words = ["you"]
    model.__dict__.pop("_scorer", None)
    assert model.scorer() is not None and not scores_from_analysis(model)
    moderator = _moderator(dataclasses.replace(loaded, model=model))
    text = "you are such an idiot, you"
    live = moderator.moderate({"content": text, "author_name": "Sam",
                               "author_email": "sam@example.org"})
    raw = model.features_.transform([normalize(text)]) @ model.coef_ + model.intercept_
    probability = 1.0 / (1.0 + np.exp(-np.asarray(raw)[0]))
    assert [live["scores"][c] for c in model.categories_] == pytest.approx(
        probability.tolist(), abs=1e-4)


@pytest.mark.parametrize("text", TEXTS)
def test_word_ngrams_by_token_numbers_are_the_analysers(loaded, text):
    from moderation.occurrences import compiled_word_block, units, word_block

    # The scorer's C word table and the string path find the same occurrences,
    # in the same order, lying in the same words, showing the same n-grams.
    model, normalised = loaded.model, normalize(text)
    vec, finder = model.features_.transformer_list[0][1], model.scorer().blocks[0].word_ngrams
    assert finder is not None
    starts = [a for a, _ in units(normalised)]
    assert finder.compiled is not None
    terms = model.scorer().blocks[0].terms
    _assert_same_block(compiled_word_block(finder, terms, vec, 0, normalised),
                       word_block(vec, 0, normalised, starts))


def _assert_same_block(found, expected):
    for name in ("local", "first", "last"):
        assert getattr(found, name).tolist() == getattr(expected, name).tolist()
    assert [found.gram(i) for i in range(len(found.local))] == [
        expected.gram(i) for i in range(len(expected.local))]


def test_the_c_word_table_numbers_words_as_str_split_on_random_text():
    import random

    from sklearn.feature_extraction.text import TfidfVectorizer

    from moderation.feature_block import inverse_vocabulary
    from moderation.occurrences import compiled_word_block, units, word_block

    # Leading, repeated and unusual white space, one-letter runs between tokens, "_":
    # tokens and the whitespace words they lie in, as the string path finds them.
    rng = random.Random(0)
    alphabet = "ab_1é- \t\n.'ß\u00a0\u2003\x1c"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
             for _ in range(2000)]
    vec = TfidfVectorizer(ngram_range=(1, 2), lowercase=False).fit(texts)
    finder = WordNgramIds(vec)
    assert finder.compiled is not None
    terms = inverse_vocabulary(vec.vocabulary_)
    for text in texts:
        _assert_same_block(compiled_word_block(finder, terms, vec, 0, text),
                           word_block(vec, 0, text, [a for a, _ in units(text)]))


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("values", [
    [], [7], [3, 1, 3, 3, 0, 1], list(range(50, 0, -1)) * 3, [2**31 - 1, 0, 256, 65536, 256],
    np.random.default_rng(0).integers(0, 300_000, 2_000).tolist()])
def test_distinct_is_numpys_unique(values, dtype):
    from moderation.occurrences import distinct, distinct_numpy

    array = np.array(values, dtype=dtype)
    expected = [e.tolist() for e in np.unique(array, return_inverse=True, return_counts=True)]
    assert [f.tolist() for f in distinct(array)] == expected  # in C
    assert [f.tolist() for f in distinct_numpy(array)] == expected


def test_distinct_in_c_refuses_what_it_cannot_count():
    from moderation import _scoring

    with pytest.raises(ValueError, match="non-negative"):
        _scoring.distinct(np.array([1, -1]))
    with pytest.raises(TypeError, match="int32 or int64"):
        _scoring.distinct(np.array([1.0]))


def test_a_moderator_builds_the_n_gram_texts_at_start_up(loaded):
    from moderation.artefact import load_model as fresh

    model = fresh(ROOT / "models").model  # not shared with other tests' moderators
    blocks = model.scorer().blocks
    assert not any("_terms" in b.__dict__ for b in blocks)
    _moderator(dataclasses.replace(loaded, model=model))
    assert all("_terms" in b.__dict__ for b in blocks)  # not on the first comment
