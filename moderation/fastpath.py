"""A compiled scorer: the fitted TF-IDF features and linear heads without scikit-learn's
per-call machinery.

``FeatureUnion.transform`` validates its input, dispatches each vectoriser,
builds a sparse matrix per vectoriser, normalises it, stacks the blocks and only
then multiplies by the weights. For one comment that overhead costs several
times the arithmetic. Here each vectoriser's n-grams come from its own fitted
analyser (so tokenisation is scikit-learn's, not a re-implementation), are looked
up in its ``vocabulary_``, and every category is scored at once against one
stacked matrix holding ``idf * coef`` per term; the per-row norm is applied to the
few scores instead of to every feature.

Only what is understood is compiled: a union (or a single vectoriser) of
``TfidfVectorizer`` / ``CountVectorizer`` with a fitted vocabulary, ``norm`` of
``l1``, ``l2`` or none, and no transformer weights. Anything else makes
:func:`compile_scorer` return ``None`` (with a log line) and the caller keeps
using scikit-learn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion

__all__ = ["CompiledScorer", "compile_scorer"]

log = logging.getLogger(__name__)
# Words seen before are the common case (language is Zipfian): remembering each
# word's character n-gram ids skips slicing and looking them up again.
_WORD_CACHE_SIZE = 200_000


class _Block:
    """One vectoriser's share of the score: n-grams to ids, ids to weighted scores."""

    def __init__(self, vectoriser: CountVectorizer, coef: NDArray[Any]) -> None:
        self.vocabulary: dict[str, int] = vectoriser.vocabulary_
        self.analyse: Callable[[str], list[str]] = vectoriser.build_analyzer()
        idf = getattr(vectoriser, "idf_", None) if getattr(vectoriser, "use_idf", False) else None
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float64)
        weights = np.asarray(coef, dtype=np.float64)
        # Folding idf into the weights leaves one gather per text instead of two.
        self.weights = weights if self.idf is None else weights * self.idf[:, None]
        self.sublinear = bool(getattr(vectoriser, "sublinear_tf", False))
        self.binary = bool(vectoriser.binary)
        self.norm: str | None = getattr(vectoriser, "norm", None)
        # char_wb n-grams never cross whitespace, so a text's n-grams are the
        # concatenation of its words' n-grams when preprocessing is the identity.
        self.per_word = (vectoriser.analyzer == "char_wb" and vectoriser.preprocessor is None
                         and not vectoriser.lowercase and vectoriser.strip_accents is None)
        self._word_ids: dict[str, list[int]] = {}

    def _ids_per_word(self, text: str) -> list[int]:
        cache, vocabulary, analyse = self._word_ids, self.vocabulary, self.analyse
        ids: list[int] = []
        for word in text.split():
            found = cache.get(word)
            if found is None:
                found = [i for i in map(vocabulary.get, analyse(word)) if i is not None]
                if len(cache) >= _WORD_CACHE_SIZE:
                    cache.clear()  # bounded: cheaper than LRU bookkeeping per word
                cache[word] = found
            ids.extend(found)
        return ids

    def ids(self, text: str) -> list[int]:
        """Vocabulary ids of every n-gram in ``text``, repeats included."""
        if self.per_word:
            return self._ids_per_word(text)
        return [i for i in map(self.vocabulary.get, self.analyse(text)) if i is not None]

    def scores(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """This block's contribution to the raw scores, one row per text."""
        n = len(texts)
        per_text = [self.ids(t) for t in texts]
        lengths = np.fromiter(map(len, per_text), dtype=np.int64, count=n)
        flat = np.fromiter((i for ids in per_text for i in ids), dtype=np.int64,
                           count=int(lengths.sum()))
        out = np.zeros((n, self.weights.shape[1]), dtype=np.float64)
        if flat.size == 0:
            return out
        docs = np.repeat(np.arange(n, dtype=np.int64), lengths)
        # Count each (text, term) pair once: sort-based, no Python dict per text.
        pairs, counts = np.unique(docs * self.weights.shape[0] + flat, return_counts=True)
        doc, term = np.divmod(pairs, self.weights.shape[0])
        tf = np.ones(len(counts)) if self.binary else counts.astype(np.float64)
        if self.sublinear:
            tf = np.log(tf) + 1.0
        if self.norm is not None:
            value = tf if self.idf is None else tf * self.idf[term]
            if self.norm == "l2":
                norms = np.sqrt(np.bincount(doc, weights=value * value, minlength=n))
            else:
                norms = np.bincount(doc, weights=np.abs(value), minlength=n)
            tf = tf / norms[doc]
        contributions = tf[:, None] * self.weights[term]
        for j in range(out.shape[1]):
            out[:, j] = np.bincount(doc, weights=contributions[:, j], minlength=n)
        return out


class CompiledScorer:
    """Raw linear scores for normalised texts, equal to ``features.transform(X) @ coef + b``."""

    def __init__(self, blocks: list[_Block], intercept: NDArray[Any]) -> None:
        self.blocks = blocks
        self.intercept = np.asarray(intercept, dtype=np.float64)

    def decision_function(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """One row of raw scores per text, one column per category."""
        total = np.zeros((len(texts), self.intercept.shape[0]), dtype=np.float64)
        for block in self.blocks:
            total += block.scores(texts)
        return total + self.intercept


def _refuse(reason: str) -> None:
    log.info("compiled scorer not used (%s); scoring through scikit-learn", reason)


def _vectorisers(features: Any) -> list[CountVectorizer] | str:
    """The vectorisers in column order, or why they cannot be compiled."""
    if isinstance(features, CountVectorizer):
        parts = [features]
    elif isinstance(features, FeatureUnion):
        if features.transformer_weights:
            return "the feature union has transformer weights"
        parts = [t for _, t in features.transformer_list if t not in (None, "drop")]
    else:
        return f"features of type {type(features).__name__}"
    for part in parts:
        if not isinstance(part, CountVectorizer):  # TfidfVectorizer is a CountVectorizer
            return f"a {type(part).__name__} in the features"
        if not hasattr(part, "vocabulary_"):
            return "a vectoriser is not fitted"
        if isinstance(part, TfidfVectorizer) and part.norm not in ("l1", "l2", None):
            return f"norm={part.norm!r}"
    return parts


def compile_scorer(features: Any, coef: NDArray[Any], intercept: NDArray[Any]
                   ) -> CompiledScorer | None:
    """A compiled scorer for fitted ``features`` and stacked heads, or ``None`` if unsupported."""
    parts = _vectorisers(features)
    if isinstance(parts, str):
        _refuse(parts)
        return None
    sizes = [len(p.vocabulary_) for p in parts]
    if sum(sizes) != coef.shape[0]:
        _refuse(f"{sum(sizes)} features but {coef.shape[0]} weight rows")
        return None
    blocks, start = [], 0
    for part, size in zip(parts, sizes, strict=True):
        blocks.append(_Block(part, coef[start:start + size]))
        start += size
    return CompiledScorer(blocks, intercept)
