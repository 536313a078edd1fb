"""A normalised text's known n-grams, vectoriser by vectoriser, with the words they lie in.

One analysis serves two purposes for a live comment: its raw scores (the compiled
scorer's arithmetic applied to the distinct n-grams and their counts) and, when the
comment is over a flag threshold, its explanation (which credits each occurrence to
the whitespace word it lies in). Computing it once saves finding the same n-grams
twice, which was most of an explained comment's cost.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from .fastpath import inverse_vocabulary

try:
    from . import _scoring
except ImportError:  # installed without compiling it: numpy counts
    _scoring = None
from .model import ModerationModel
from .word_ngrams import WordNgramIds

__all__ = ["Analysis", "Block", "analyse", "raw_scores", "scores_from_analysis", "units",
           "word_ngrams"]

_NON_SPACE = re.compile(r"\S+")
_ID_BYTES = 4  # the compiled scorer remembers a word's ids as int32 bytes
_ONE_TEXT = np.zeros(1, dtype=np.intp)  # where the one text's run of terms starts


def units(text: str) -> list[tuple[int, int]]:
    """Whitespace tokens of the normalised text, as the char_wb analyser sees them."""
    return [m.span() for m in _NON_SPACE.finditer(text)]


def word_ngrams(vec: TfidfVectorizer, text: str, starts: list[int]
                ) -> tuple[list[str], list[int], list[int]]:
    """The word analyser's n-grams of ``text``, each with the first and last word
    (index into ``starts``, the sorted start offsets of the whitespace words) it lies in."""
    tokens = list(re.finditer(vec.token_pattern, text))
    words = [t.group() for t in tokens]
    unit = [bisect.bisect_right(starts, t.start()) - 1 for t in tokens]
    grams: list[str] = []
    first: list[int] = []
    last: list[int] = []
    low, high = vec.ngram_range
    for n in range(low, high + 1):
        span = range(len(words) - n + 1)
        grams += words[:len(span)] if n == 1 else [" ".join(words[i:i + n]) for i in span]
        first += unit[:len(span)]
        last += unit[n - 1:]
    return grams, first, last


def _distinct(values: NDArray[np.integer[Any]]) -> tuple[NDArray[np.integer[Any]],
                                                        NDArray[np.int64], NDArray[np.int64]]:
    """``np.unique(values, return_inverse=True, return_counts=True)`` for non-negative
    values, as int64 arrays: in C when it is built, else :func:`_distinct_numpy`."""
    if _scoring is None:
        return _distinct_numpy(values)
    found, where, counts = _scoring.distinct(values)
    return (np.frombuffer(found, dtype=np.int64), np.frombuffer(where, dtype=np.int64),
            np.frombuffer(counts, dtype=np.int64))


def _distinct_numpy(values: NDArray[np.integer[Any]]
                    ) -> tuple[NDArray[np.integer[Any]], NDArray[np.int64], NDArray[np.int64]]:
    """:func:`_distinct` in numpy, in fewer calls than ``np.unique`` makes (they cost more
    than the sorting for one comment's few hundred values)."""
    n = len(values)
    if not n:
        return values[:0], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(values)
    ordered = values[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    counts = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1] = n - starts[-1]
    where = np.empty(n, dtype=np.int64)
    where[order] = np.cumsum(new) - 1
    return ordered[starts], where, counts


@dataclass
class Block:
    """One vectoriser's known n-gram occurrences in a text."""

    vec: TfidfVectorizer
    offset: int  # where the vectoriser's columns start in the model's weights
    local: NDArray[np.integer[Any]]  # vocabulary index per occurrence
    first: NDArray[np.int64]  # first word (unit) the occurrence lies in
    last: NDArray[np.int64]  # last word it lies in (a word bigram can span two)
    gram: Callable[[int], str] | None  # an occurrence's n-gram (words); None for characters
    terms: list[str] | None  # the n-gram of each vocabulary id (characters)
    bounds: list[int] | None  # word u has occurrences [bounds[u], bounds[u + 1]) (characters)
    distinct: NDArray[np.integer[Any]] = field(init=False)  # sorted distinct ids
    where: NDArray[np.int64] = field(init=False)  # each occurrence's index in ``distinct``
    counts: NDArray[np.int64] = field(init=False)  # occurrences of each distinct id
    share: NDArray[np.float64] = field(init=False)  # (occurrences, categories); explain sets it

    def __post_init__(self) -> None:
        self.distinct, self.where, self.counts = _distinct(self.local)

    def pairs(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] | None:
        """Each (word, occurrence) with the occurrence lying in the word, and how many
        words the occurrence spans, in occurrence order; ``None`` when every occurrence
        lies in one word (then ``first`` says which)."""
        if "_pairs" not in self.__dict__:
            self._pairs = None
            if self.gram is None:  # character n-grams never leave their word
                return None
            width = self.last - self.first + 1
            if len(width) and width.max() > 1:
                occurrence = np.repeat(np.arange(len(width)), width)
                step = np.arange(len(occurrence)) - np.repeat(np.cumsum(width) - width, width)
                self._pairs = (self.first[occurrence] + step, occurrence, width[occurrence])
        return self._pairs

    def in_word(self, unit: int) -> tuple[list[int], list[int]]:
        """Word n-grams lying in word ``unit``: their occurrences, in order, and how many
        words each spans."""
        if "_by_word" not in self.__dict__:
            pairs = self.pairs() or (self.first, np.arange(len(self.first)),
                                     np.ones(len(self.first), dtype=np.int64))
            order = np.argsort(pairs[0], kind="stable")  # keeps occurrence order per word
            self._by_word = tuple(column[order].tolist() for column in pairs)
        words, occurrences, widths = self._by_word
        a, b = bisect.bisect_left(words, unit), bisect.bisect_right(words, unit)
        return occurrences[a:b], widths[a:b]


@dataclass
class Analysis:
    """A normalised text, how many whitespace words it has and each vectoriser's
    occurrences."""

    text: str
    n_units: int
    blocks: list[Block]

    @property
    def units(self) -> list[tuple[int, int]]:
        """The whitespace words' spans (found again: scoring needs only their number)."""
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
    scorer's when it has them: its C table's, or its remembered ones) and the n-gram of
    each id."""
    compiled = _compiled(model, position, vec)
    if compiled is not None and compiled.per_word:
        table = compiled.char_ngrams.compiled
        if table is not None:
            return table.ids_many, compiled.terms
        return (lambda words: list(map(compiled.word_bytes, words))), compiled.terms
    analyse_word, vocabulary = vec.build_analyzer(), vec.vocabulary_
    return (lambda words: [np.array([i for i in map(vocabulary.get, analyse_word(word))
                                     if i is not None], dtype=np.int32).tobytes()
                           for word in words],
            inverse_vocabulary(vocabulary))


def _char_block(ids_of: Callable[[list[str]], list[bytes]], terms: list[str],
                vec: TfidfVectorizer, offset: int, text: str) -> Block:
    # str.split's words are the units: \S and str.split agree on white space
    per_unit = ids_of(text.split())
    sizes = np.fromiter(map(len, per_unit), dtype=np.int64, count=len(per_unit)) // _ID_BYTES
    local = np.frombuffer(b"".join(per_unit), dtype=np.int32)
    first = np.repeat(np.arange(len(per_unit), dtype=np.int64), sizes)
    bounds = [0, *accumulate(sizes.tolist())]
    return Block(vec, offset, local, first, first, None, terms, bounds)


def _word_block(vec: TfidfVectorizer, offset: int, text: str, starts: list[int]) -> Block:
    grams, first, last = word_ngrams(vec, text, starts)
    known = [found for found in zip(map(vec.vocabulary_.get, grams), first, last, grams,
                                    strict=True) if found[0] is not None]
    ids, firsts, lasts, kept = zip(*known, strict=True) if known else ((), (), (), ())
    return Block(vec, offset, np.array(ids, dtype=np.int64), np.array(firsts, dtype=np.int64),
                 np.array(lasts, dtype=np.int64), list(kept).__getitem__, None, None)


# scikit-learn's default token pattern, \b\w\w+\b, matches exactly the maximal runs of
# two or more word characters; finding white space in the same scan numbers each
# token's whitespace word without a search per token (the test pins the equivalence).
_TOKEN_OR_SPACE = re.compile(r"\w{2,}|\s+")
_TOKEN = re.compile(r"\w{2,}")


def _compiled_word_block(finder: WordNgramIds, vec: TfidfVectorizer, offset: int, text: str
                         ) -> Block:
    """:func:`_coded_word_block` in one call of the C extension's word table."""
    assert finder.compiled is not None
    rows = np.frombuffer(finder.compiled.find(text), dtype=np.int64).reshape(-1, 5).T.copy()
    local, first, last, start, end = rows
    return Block(vec, offset, local, first, last,
                 lambda i: " ".join(_TOKEN.findall(text[start[i]:end[i]])), None, None)


def _coded_word_block(finder: WordNgramIds, vec: TfidfVectorizer, offset: int, text: str
                      ) -> Block:
    """:func:`_word_block` through the compiled scorer's token numbers: each token is
    looked up once and a bigram is found as a pair of numbers, not a new string.

    One comment has a few dozen tokens: plain lists cost less here than numpy's
    per-call overhead, except for the search among the vocabulary's pairs."""
    words: list[str] = []
    unit: list[int] = []
    u = -1 if text[:1].isspace() else 0
    for item in _TOKEN_OR_SPACE.findall(text):
        if item[0].isspace():
            u += 1
        else:
            words.append(item)
            unit.append(u)
    get = finder.tokens.get
    number = [get(w, 0) for w in words]
    ids: list[int] = []
    token: list[int] = []  # where each found n-gram starts; unigrams, then bigrams
    if finder.unigrams:
        unigram = finder.unigram_ids
        for k, n in enumerate(number):
            if unigram[n] >= 0:
                ids.append(unigram[n])
                token.append(k)
    unigrams = len(ids)
    if finder.bigrams and len(number) > 1:
        numbers = np.array(number, dtype=np.int64)
        found = finder.pairs.find(numbers[:-1] * finder.base + numbers[1:])
        known = np.flatnonzero(found >= 0)
        ids += found[known].tolist()
        token += known.tolist()
    first = [unit[k] for k in token]
    last = first[:unigrams] + [unit[k + 1] for k in token[unigrams:]]
    return Block(vec, offset, np.array(ids, dtype=np.int64), np.array(first, dtype=np.int64),
                 np.array(last, dtype=np.int64),
                 lambda i: words[token[i]] if i < unigrams else " ".join(
                     words[token[i]:token[i] + 2]), None, None)


def _word_finder(model: ModerationModel, position: int, vec: TfidfVectorizer
                 ) -> WordNgramIds | None:
    """The compiled scorer's word n-gram finder for this vectoriser, if it has one."""
    compiled = _compiled(model, position, vec)
    return None if compiled is None else compiled.word_ngrams


def analyse(model: ModerationModel, text: str) -> Analysis:
    """Every known n-gram occurrence in normalised ``text``, with the words it lies in."""
    blocks, offset = [], 0
    for position, (_name, vec) in enumerate(model.features_.transformer_list):
        if vec.analyzer == "char_wb":
            ids_of, terms = _char_ids(model, position, vec)
            blocks.append(_char_block(ids_of, terms, vec, offset, text))
        else:
            finder = _word_finder(model, position, vec)
            if finder is None:
                blocks.append(_word_block(vec, offset, text, [a for a, _ in units(text)]))
            elif finder.compiled is not None:
                blocks.append(_compiled_word_block(finder, vec, offset, text))
            else:
                blocks.append(_coded_word_block(finder, vec, offset, text))
        offset += len(vec.vocabulary_)
    return Analysis(text, len(text.split()), blocks)


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
