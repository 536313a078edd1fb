"""A normalised text's known n-grams, vectoriser by vectoriser, with the words they lie in.

One analysis serves two purposes for a live comment: its raw scores (the compiled
scorer's arithmetic applied to the distinct n-grams and their counts) and, when the
comment is over a flag threshold, its explanation (which credits each occurrence to
the whitespace word it lies in). Computing it once saves finding the same n-grams
twice, which was most of an explained comment's cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from .feature_block import inverse_vocabulary
from .model import ModerationModel
from .occurrences import (
    Block,
    char_block,
    compiled_word_block,
    units,
    word_block,
    word_ngrams,
)
from .word_ngrams import WordNgramIds

__all__ = ["Analysis", "Block", "analyse", "prepare", "raw_scores", "scores_from_analysis", "units",
           "word_ngrams"]

_ONE_TEXT = np.zeros(1, dtype=np.intp)  # where the one text's run of terms starts


@dataclass
class Analysis:
    """A normalised text and each vectoriser's occurrences in it."""

    text: str
    blocks: list[Block]

    @cached_property
    def units(self) -> list[tuple[int, int]]:
        """The whitespace words' spans (found when an explanation asks: scoring needs
        only their number)."""
        return units(self.text)


def _compiled(model: ModerationModel, position: int, vec: TfidfVectorizer) -> Any:
    """The compiled scorer's block for this vectoriser, if it has one."""
    scorer = model.scorer()
    if scorer is None or scorer.blocks[position].vocabulary is not vec.vocabulary_:
        return None
    return scorer.blocks[position]


def _char_ids(model: ModerationModel, position: int, vec: TfidfVectorizer
              ) -> tuple[Callable[[list[str]], list[bytes]], list[str]]:
    """The vocabulary ids of each word's character n-grams as int32 bytes (the compiled
    scorer's when it has them) and the n-gram of each id."""
    compiled = _compiled(model, position, vec)
    if compiled is not None and compiled.per_word:
        return compiled.words_bytes, compiled.terms
    analyse_word, vocabulary = vec.build_analyzer(), vec.vocabulary_
    return (lambda words: [np.array([i for i in map(vocabulary.get, analyse_word(word))
                                     if i is not None], dtype=np.int32).tobytes()
                           for word in words],
            inverse_vocabulary(vocabulary))


def _word_finder(model: ModerationModel, position: int, vec: TfidfVectorizer
                 ) -> WordNgramIds | None:
    """The compiled scorer's word n-gram finder for this vectoriser, if it has one (its C
    table finds a comment's n-grams; without it, the string path serves)."""
    compiled = _compiled(model, position, vec)
    return None if compiled is None else compiled.word_ngrams


def analyse(model: ModerationModel, text: str) -> Analysis:
    """Every known n-gram occurrence in normalised ``text``, with the words it lies in."""
    blocks, offset = [], 0
    for position, (_name, vec) in enumerate(model.features_.transformer_list):
        if vec.analyzer == "char_wb":
            ids_of, terms = _char_ids(model, position, vec)
            blocks.append(char_block(ids_of, terms, vec, offset, text))
        else:
            finder = _word_finder(model, position, vec)
            if finder is not None and finder.compiled is not None:
                terms = _compiled(model, position, vec).terms
                blocks.append(compiled_word_block(finder, terms, vec, offset, text))
            else:
                blocks.append(word_block(vec, offset, text, [a for a, _ in units(text)]))
        offset += len(vec.vocabulary_)
    return Analysis(text, blocks)


def _plain_words(vec: TfidfVectorizer) -> bool:
    """Whether :func:`word_ngrams` finds exactly what the vectoriser's analyser finds."""
    return (vec.analyzer == "word" and vec.preprocessor is None and vec.tokenizer is None
            and vec.stop_words is None and not vec.lowercase and vec.strip_accents is None)


def scores_from_analysis(model: ModerationModel) -> bool:
    """Whether an analysis gives the compiled scorer's raw scores for this model."""
    scorer = model.scorer()
    if scorer is None or not isinstance(model.features_, FeatureUnion):
        return False
    vectorisers = [v for _, v in model.features_.transformer_list]
    return len(vectorisers) == len(scorer.blocks) and all(
        block.vocabulary is vec.vocabulary_ and (block.per_word or _plain_words(vec))
        for block, vec in zip(scorer.blocks, vectorisers, strict=True))


def prepare(model: ModerationModel) -> None:
    """Build now what a first analysis would (each vocabulary id's n-gram, about 25 ms),
    so that start-up pays it rather than the first comment."""
    scorer = model.scorer()
    for block in scorer.blocks if scorer is not None else ():
        block.terms  # noqa: B018 (built on first use)


def raw_scores(model: ModerationModel, analysis: Analysis) -> NDArray[np.float64]:
    """The linear score of each category, as the compiled scorer computes it (check
    :func:`scores_from_analysis` first)."""
    scorer = model.scorer()
    assert scorer is not None
    total = np.zeros_like(scorer.intercept)
    for block, compiled in zip(analysis.blocks, scorer.blocks, strict=True):
        if len(block.distinct):  # the scorer's own arithmetic on the same sorted terms
            total += compiled.sums(block.distinct, block.counts, _ONE_TEXT)[0]
    return total + scorer.intercept  # summed in CompiledScorer.decision_function's order
