"""Vocabulary ids renumbered by document frequency, the commonest terms first.

A fitted vectoriser numbers its terms alphabetically, so the few thousand n-grams that
make up most of every comment (" th", "he ", "you" ...) lie scattered over tables of
megabytes: the scorer's weight rows, its per-term counters and the n-gram tables. With the
terms numbered by document frequency (ascending idf, ties kept alphabetical), those hot
terms share a few hundred kilobytes, which stay in the CPU's caches, and scoring a batch
is faster (benchmarks/RESULTS.md has the figures).

Renumbering changes nothing the model computes but the order in which a text's terms are
added up (the scorers sum in ascending id), so scores may move in their last bits. It is
done once, after fitting (:meth:`.model.ModerationModel.fit`), on the vocabulary, the idf
and the weight rows together; the heads are fitted on the alphabetical order, so their
weights are the same numbers either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from .feature_block import inverse_vocabulary

__all__ = ["frequency_order", "order_by_frequency"]


def frequency_order(vectoriser: CountVectorizer) -> NDArray[np.intp] | None:
    """The vectoriser's ids, commonest term first (ascending idf, a stable sort), or
    ``None`` when it has no idf to tell which terms are common."""
    if not isinstance(vectoriser, TfidfVectorizer) or not vectoriser.use_idf:
        return None
    return np.argsort(np.asarray(vectoriser.idf_), kind="stable")


def order_by_frequency(features: Any, coef: NDArray[Any]) -> NDArray[Any]:
    """Renumber each fitted vectoriser of ``features`` (a union, or one vectoriser) by
    :func:`frequency_order`, in place; returns ``coef`` (a weight row per feature, the
    vectorisers' blocks in order) with its rows moved to match."""
    parts = ([t for _, t in features.transformer_list if t not in (None, "drop")]
             if isinstance(features, FeatureUnion) else [features])
    sizes = [len(vectoriser.vocabulary_) for vectoriser in parts]
    if sum(sizes) != len(coef):  # checked before anything changes
        raise ValueError(f"{sum(sizes)} features but {len(coef)} weight rows")
    moved, start = np.array(coef, copy=True), 0
    for vectoriser, size in zip(parts, sizes, strict=True):
        order = frequency_order(vectoriser)
        if order is not None:
            rank = np.empty(size, dtype=np.int64)
            rank[order] = np.arange(size)
            terms = inverse_vocabulary(vectoriser.vocabulary_)
            vectoriser.vocabulary_ = {terms[i]: int(rank[i]) for i in order}
            vectoriser.idf_ = np.asarray(vectoriser.idf_)[order]
            moved[start:start + size] = coef[start + order]
        start += size
    return moved
