"""One vectoriser's known n-gram occurrences in a normalised text, with the whitespace
words they lie in: how each kind is found (character n-grams word by word, word n-grams
from the tokens) and held (:class:`Block`). :mod:`.analysis` picks the finder for each
of a model's vectorisers.
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

from .word_ngrams import WordNgramIds

try:
    from . import _scoring
except ImportError:  # installed without compiling it: numpy counts
    _scoring = None

__all__ = ["Block", "char_block", "compiled_word_block", "distinct", "units", "word_block",
           "word_ngrams"]

_NON_SPACE = re.compile(r"\S+")
_ID_BYTES = 4  # character n-gram ids travel as int32 bytes


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


def distinct(values: NDArray[np.integer[Any]]) -> tuple[NDArray[np.integer[Any]],
                                                        NDArray[np.int64], NDArray[np.int64]]:
    """``np.unique(values, return_inverse=True, return_counts=True)`` for non-negative
    values, as int64 arrays: in C when it is built, else :func:`distinct_numpy`."""
    if _scoring is None:
        return distinct_numpy(values)
    found, where, counts = _scoring.distinct(values)
    return (np.frombuffer(found, dtype=np.int64), np.frombuffer(where, dtype=np.int64),
            np.frombuffer(counts, dtype=np.int64))


def distinct_numpy(values: NDArray[np.integer[Any]]
                    ) -> tuple[NDArray[np.integer[Any]], NDArray[np.int64], NDArray[np.int64]]:
    """:func:`distinct` in numpy, in fewer calls than ``np.unique`` makes (they cost more
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
    terms: list[str] | None  # the n-gram of each vocabulary id, where it is known
    bounds: list[int] | None  # word u has occurrences [bounds[u], bounds[u + 1]) (characters)
    distinct: NDArray[np.integer[Any]] = field(init=False)  # sorted distinct ids
    where: NDArray[np.int64] = field(init=False)  # each occurrence's index in ``distinct``
    counts: NDArray[np.int64] = field(init=False)  # occurrences of each distinct id

    def __post_init__(self) -> None:
        self.distinct, self.where, self.counts = distinct(self.local)

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


def char_block(ids_of: Callable[[list[str]], list[bytes]], terms: list[str],
                vec: TfidfVectorizer, offset: int, text: str) -> Block:
    # str.split's words are the units: \S and str.split agree on white space
    per_unit = ids_of(text.split())
    sizes = np.fromiter(map(len, per_unit), dtype=np.int64, count=len(per_unit)) // _ID_BYTES
    local = np.frombuffer(b"".join(per_unit), dtype=np.int32)
    first = np.repeat(np.arange(len(per_unit), dtype=np.int64), sizes)
    bounds = [0, *accumulate(sizes.tolist())]
    return Block(vec, offset, local, first, first, None, terms, bounds)


def word_block(vec: TfidfVectorizer, offset: int, text: str, starts: list[int]) -> Block:
    grams, first, last = word_ngrams(vec, text, starts)
    known = [found for found in zip(map(vec.vocabulary_.get, grams), first, last, grams,
                                    strict=True) if found[0] is not None]
    ids, firsts, lasts, kept = zip(*known, strict=True) if known else ((), (), (), ())
    return Block(vec, offset, np.array(ids, dtype=np.int64), np.array(firsts, dtype=np.int64),
                 np.array(lasts, dtype=np.int64), list(kept).__getitem__, None, None)


def compiled_word_block(finder: WordNgramIds, terms: list[str], vec: TfidfVectorizer,
                        offset: int, text: str) -> Block:
    """:func:`word_block` in one call of the C extension's word table: tokens numbered
    once, bigrams found as pairs of numbers, not as new strings (``terms``: the n-gram
    of each vocabulary id, which is what an occurrence found by its id spells)."""
    assert finder.compiled is not None
    rows = np.frombuffer(finder.compiled.find(text), dtype=np.int64).reshape(-1, 5).T.copy()
    local, first, last = rows[:3]
    return Block(vec, offset, local, first, last, lambda i: terms[local[i]], terms, None)
