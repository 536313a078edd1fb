"""A compiled scorer: the fitted TF-IDF features and linear heads without scikit-learn's
per-call machinery.

``FeatureUnion.transform`` validates its input, dispatches each vectoriser,
builds a sparse matrix per vectoriser, normalises it, stacks the blocks and only
then multiplies by the weights. For one comment that overhead costs several
times the arithmetic. Here each vectoriser is a :class:`.feature_block.FeatureBlock`, whose
n-grams are found as vocabulary ids:
``char_wb`` ones word by word (:mod:`.char_ngrams`: the C extension's hash table, or
without it a per-word cache and numpy); word unigrams and bigrams as the default
tokenizer finds them (:mod:`.word_ngrams`); anything else through its fitted analyser.
Both finders are tested against scikit-learn's analysers. A batch's (text, term) pairs
are counted by one sort, and every category is scored at once against one stacked
matrix holding ``idf * coef`` per term (summed in C where :mod:`moderation._scoring`
is built); the per-row norm is applied to the few scores instead of to every feature.

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

from .feature_block import FeatureBlock

try:
    from . import _ngrams
except ImportError:  # installed without compiling it: no block has a part
    _ngrams = None

__all__ = ["CompiledScorer", "compile_scorer"]

log = logging.getLogger(__name__)
# Texts scored together per step: enough to amortise numpy's per-call cost,
# few enough that the n-gram id arrays stay a few megabytes.
_CHUNK = 256


class CompiledScorer:
    """Raw linear scores for normalised texts, equal to ``features.transform(X) @ coef + b``."""

    def __init__(self, blocks: list[FeatureBlock], intercept: NDArray[Any]) -> None:
        self.blocks = blocks
        self.intercept = np.asarray(intercept, dtype=np.float64)
        # Every block from a C table: a batch is then scored in one C call, its blocks'
        # shares added in order to zeros, as the loop below adds them.
        parts = [block.part for block in blocks]
        self.parts = None if None in parts or not parts else parts

    def decision_function(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """One row of raw scores per text, one column per category."""
        if self.parts is not None:
            return self._raw(_ngrams.score_texts(texts, self.parts), len(texts))
        total = np.zeros((len(texts), self.intercept.shape[0]), dtype=np.float64)
        for start in range(0, len(texts), _CHUNK):
            chunk = texts[start:start + _CHUNK]
            for block in self.blocks:
                total[start:start + len(chunk)] += block.scores(chunk)
        return total + self.intercept

    def normalised_decision_function(self, texts: Sequence[str], normalizer: Any,
                                     before: Callable[[str], str]
                                     ) -> tuple[list[str], NDArray[np.float64]] | None:
        """Raw ``texts`` normalised by ``normalizer`` (moderation._normalize's, each
        non-ASCII text given to ``before`` first) and scored, in one C call that needs the
        GIL only for the non-ASCII texts; ``None`` unless every block is a C table's."""
        if self.parts is None:
            return None
        normalised, raw = _ngrams.normalise_and_score(normalizer, before, texts, self.parts)
        return normalised, self._raw(raw, len(texts))

    def _raw(self, summed: bytes, n: int) -> NDArray[np.float64]:
        k = self.intercept.shape[0]
        return np.frombuffer(summed, dtype=np.float64).reshape(n, k) + self.intercept


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
        if part.input != "content":
            return f"input={part.input!r}"
        if isinstance(part, TfidfVectorizer) and part.norm not in ("l1", "l2", None):
            return f"norm={part.norm!r}"
    return parts


def compile_scorer(features: Any, coef: NDArray[Any], intercept: NDArray[Any],
                   compiled: bool = True) -> CompiledScorer | None:
    """A compiled scorer for fitted ``features`` and stacked heads, or ``None`` if unsupported
    (``compiled=False``: without the C extension's n-gram tables, as when it is not built)."""
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
        blocks.append(FeatureBlock(part, coef[start:start + size], compiled))
        start += size
    return CompiledScorer(blocks, intercept)
