"""Vocabulary ids renumbered by document frequency: the same model, the terms reordered."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from moderation.features import build_features
from moderation.model import ModerationModel
from moderation.normalize import normalize
from moderation.term_order import frequency_order, order_by_frequency

TEXTS = [
    "the cat sat on the mat", "the dog ate the homework", "buy cheap pills now",
    "cheap watches, buy now!", "you are an idiot", "what a lovely day it is",
    "the mat is on the floor", "click here for free money", "an idiot wrote this",
    "the day the music died",
]


def _fitted():
    features = build_features(min_df=1)
    X = features.fit_transform([normalize(t) for t in TEXTS]).tocsr()
    rng = np.random.default_rng(3)
    coef = rng.normal(size=(X.shape[1], 2))
    return features, coef


def test_commonest_terms_come_first_and_each_keeps_its_numbers():
    features, coef = _fitted()
    before = copy.deepcopy(features)
    moved = order_by_frequency(features, coef)
    start = 0
    for (_, old), (_, new) in zip(before.transformer_list, features.transformer_list,
                                  strict=True):
        size = len(old.vocabulary_)
        assert set(new.vocabulary_) == set(old.vocabulary_)
        assert sorted(new.vocabulary_.values()) == list(range(size))
        idf = np.asarray(new.idf_)
        assert np.all(np.diff(idf) >= 0)  # ascending idf: commonest first
        for term, i in old.vocabulary_.items():
            j = new.vocabulary_[term]
            assert idf[j] == old.idf_[i]
            assert np.array_equal(moved[start + j], coef[start + i])
        # Ties keep the alphabetical order the vectoriser gave them.
        ranked = sorted(new.vocabulary_, key=new.vocabulary_.__getitem__)
        for a, b in itertools.pairwise(ranked):
            if idf[new.vocabulary_[a]] == idf[new.vocabulary_[b]]:
                assert old.vocabulary_[a] < old.vocabulary_[b]
        start += size
    assert moved.shape == coef.shape


def test_renumbered_features_give_the_same_scores():
    features, coef = _fitted()
    texts = [normalize(t) for t in TEXTS + ["a cat, a dog and free pills"]]
    expected = features.transform(texts) @ coef
    moved = order_by_frequency(features, coef)
    assert np.allclose(features.transform(texts) @ moved, expected, rtol=0, atol=1e-12)


def test_fit_numbers_terms_by_frequency_and_scores_as_before(monkeypatch):
    labels = {"spam": [0, 0, 1, 1, 0, 0, 0, 1, 0, 0], "toxic": [0, 0, 0, 0, 1, 0, 0, 0, 1, 0]}
    model = ModerationModel(min_df=1).fit(TEXTS, labels)
    for _, vectoriser in model.features_.transformer_list:
        assert np.all(np.diff(np.asarray(vectoriser.idf_)) >= 0)
    monkeypatch.setattr("moderation.model.order_by_frequency", lambda features, coef: coef)
    alphabetical = ModerationModel(min_df=1).fit(TEXTS, labels)
    # The heads were fitted on the same (alphabetical) features: the same weights per
    # term, so the same scores but for the order of the additions.
    texts = [normalize(t) for t in TEXTS + ["a cat, a dog and free pills", ""]]
    assert np.allclose(model.decision_function_normalized(texts),
                       alphabetical.decision_function_normalized(texts), rtol=0, atol=1e-12)
    assert np.array_equal(model.intercept_, alphabetical.intercept_)
    word = model.features_.transformer_list[0][1]
    old_word = alphabetical.features_.transformer_list[0][1]
    for term in ("the", "cheap", "buy now"):
        assert np.array_equal(model.coef_[word.vocabulary_[term]],
                              alphabetical.coef_[old_word.vocabulary_[term]])


def test_a_vectoriser_without_idf_keeps_its_ids():
    counts = CountVectorizer().fit(TEXTS)
    plain = TfidfVectorizer(use_idf=False).fit(TEXTS)
    assert frequency_order(counts) is None and frequency_order(plain) is None
    vocabulary = dict(counts.vocabulary_)
    coef = np.arange(len(vocabulary), dtype=np.float64)[:, None]
    assert np.array_equal(order_by_frequency(counts, coef), coef)
    assert counts.vocabulary_ == vocabulary


def test_weights_of_another_width_are_refused():
    features, coef = _fitted()
    before = [dict(t.vocabulary_) for _, t in features.transformer_list]
    with pytest.raises(ValueError, match="weight rows"):
        order_by_frequency(features, coef[:-1])
    assert [t.vocabulary_ for _, t in features.transformer_list] == before  # untouched
