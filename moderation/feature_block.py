"""One vectoriser's share of a compiled score (:mod:`.fastpath`): its n-grams found as
vocabulary ids, and ids turned into ``idf * coef`` sums per category.

A block finds its n-grams through the C extension's tables where they are built
(:mod:`.char_ngrams`, :mod:`.word_ngrams`), else through a per-word cache and numpy, or
the vectoriser's own analyser for anything else; it counts a batch's (text, term) pairs
by one sort and sums each text's distinct terms in C (:mod:`moderation._scoring`) or
numpy. With a C table that reads texts as they are, :attr:`FeatureBlock.part` hands the
whole block to :mod:`moderation._ngrams`, which finds, counts and sums in one pass.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import CountVectorizer

from .char_ngrams import ID_TYPE, CharNgramIds
from .word_ngrams import WordNgramIds, supported

try:
    from . import _scoring
except ImportError:  # installed without compiling it: numpy does the arithmetic
    _scoring = None
try:
    from . import _ngrams
except ImportError:  # the same: no C tables either, so no block has a part
    _ngrams = None

__all__ = ["FeatureBlock", "Part", "inverse_vocabulary"]

# Without the C extension's table (which looks a word's n-grams up faster than a dict
# finds the word): words seen before are the common case (language is Zipfian), and
# remembering each word's character n-gram ids skips slicing and looking them up. Two
# generations of this many words each: when the recent one fills, it becomes the
# older one and the words still in use move back on their next look-up, which
# keeps about what an LRU keeps without its bookkeeping on every hit. About 240
# bytes a word (key, int32 ids, dict slot), so at most about 19 MB per process.
_WORD_CACHE_SIZE = 40_000
_ID_BYTES = array(ID_TYPE).itemsize
# A block as moderation._ngrams scores it: (C table, weights, sublinear, binary, norm).
Part = tuple[Any, NDArray[np.float64], bool, bool, str]


def _starts(values: NDArray[np.int64]) -> NDArray[np.intp]:
    """Where each run of equal values begins in a sorted, non-empty array."""
    # Spelled out: np.diff with prepend/append costs several times more per call,
    # which one comment at a time (the API's case) pays four times.
    new = np.empty(len(values), dtype=bool)
    new[0] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    return np.flatnonzero(new)


def _distinct(doc: NDArray[np.int64], term: NDArray[np.int64], width: int
              ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Each text's distinct terms and their counts, sorted by text then term."""
    key = doc * width + term
    key.sort()
    starts = _starts(key)
    count = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=count[:-1])
    count[-1] = len(key) - starts[-1]
    doc = key[starts] // width
    return doc, key[starts] - doc * width, count


class FeatureBlock:
    """One vectoriser's share of the score: n-grams to ids, ids to weighted scores."""

    def __init__(self, vectoriser: CountVectorizer, coef: NDArray[Any], compiled: bool = True
                 ) -> None:
        self.vocabulary: dict[str, int] = vectoriser.vocabulary_
        self.analyse: Callable[[str], list[str]] = vectoriser.build_analyzer()
        idf = getattr(vectoriser, "idf_", None) if getattr(vectoriser, "use_idf", False) else None
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float64)
        weights = np.asarray(coef, dtype=np.float64)
        if self.idf is not None:
            weights = weights * self.idf[:, None]
        # One row per term: idf * coef for each category, then idf itself (for the
        # norm). A text's terms are scattered over a table of megabytes, and each
        # term's numbers then come in one cache line.
        idf_column = np.ones(len(weights)) if self.idf is None else self.idf
        self.table = np.ascontiguousarray(np.column_stack([weights, idf_column]))
        self.categories = weights.shape[1]
        self.sublinear = bool(getattr(vectoriser, "sublinear_tf", False))
        self.binary = bool(vectoriser.binary)
        self.norm: str | None = getattr(vectoriser, "norm", None)
        # char_wb n-grams never cross whitespace, so a text's n-grams are the
        # concatenation of its words' n-grams when preprocessing is the identity.
        self.per_word = (vectoriser.analyzer == "char_wb" and vectoriser.preprocessor is None
                         and not vectoriser.lowercase and vectoriser.strip_accents is None)
        self.char_ngrams = (CharNgramIds(self.vocabulary, vectoriser.ngram_range, compiled)
                            if self.per_word else None)
        self.word_ngrams = WordNgramIds(vectoriser, compiled) if supported(vectoriser) else None
        self._recent: dict[str, bytes] = {}
        self._older: dict[str, bytes] = {}

    @property
    def terms(self) -> list[str]:
        """The n-gram of each vocabulary id (built on first use: explanations show them)."""
        if "_terms" not in self.__dict__:
            self._terms = inverse_vocabulary(self.vocabulary)
        return self._terms

    def words_bytes(self, words: list[str]) -> list[bytes]:
        """:meth:`word_bytes` of each of ``words`` (a live comment's analysis uses it)."""
        assert self.char_ngrams is not None
        if self.char_ngrams.compiled is not None:
            return self.char_ngrams.compiled.ids_many(words)
        return list(map(self.word_bytes, words))

    def word_bytes(self, word: str) -> bytes:
        """Vocabulary ids of the n-grams of one whitespace-free ``word``, as int32 bytes
        (from the C table, or remembered; a text's are joined in C). Only for a
        ``per_word`` block."""
        assert self.char_ngrams is not None
        if self.char_ngrams.compiled is not None:
            return self.char_ngrams.compiled.ids(word)
        found = self._recent.get(word)
        if found is None:
            found = self._older.get(word)
            if found is None:
                found = self.char_ngrams.one(word)
            self._remember(word, found)
        return found

    def _remember(self, word: str, ids: bytes) -> None:
        if len(self._recent) >= _WORD_CACHE_SIZE:
            self._older, self._recent = self._recent, {}
        self._recent[word] = ids

    def _learn(self, words: set[str]) -> None:
        """Remember the ids of every word of ``words``, the new ones found together."""
        older, new = self._older, []
        for word in words:
            found = older.get(word)
            if found is None:
                new.append(word)
            else:
                self._remember(word, found)
        assert self.char_ngrams is not None
        for word, ids in zip(new, self.char_ngrams.many(new), strict=True):
            self._remember(word, ids)

    def _runs(self, texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[Any]] | None:
        """From a C table: each text's number of n-grams and all their ids, text after
        text (views of the table's bytes); ``None`` without one."""
        if self.word_ngrams is not None:
            if self.word_ngrams.compiled is None:
                return None
            lengths, found = self.word_ngrams.runs(texts)
            return np.frombuffer(lengths, dtype=np.int64), np.frombuffer(found, dtype=np.int64)
        if self.char_ngrams is not None and self.char_ngrams.compiled is not None:
            lengths, found = self.char_ngrams.compiled.ids_texts(texts)
            return np.frombuffer(lengths, dtype=np.int64), np.frombuffer(found, dtype=np.int32)
        return None

    def _ids(self, texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The text (its position) and vocabulary id of every n-gram, repeats included."""
        runs = self._runs(texts)
        if runs is not None:
            lengths, found = runs
            return (np.repeat(np.arange(len(texts), dtype=np.int64), lengths),
                    found.astype(np.int64))
        if self.word_ngrams is not None:
            return self.word_ngrams.ids(texts)
        if self.per_word:
            blobs = self._per_word_blobs(texts)
        else:
            vocabulary, analyse = self.vocabulary, self.analyse
            blobs = [array(ID_TYPE, [i for i in map(vocabulary.get, analyse(t)) if i is not None]
                           ).tobytes() for t in texts]
        lengths = np.fromiter(map(len, blobs), dtype=np.int64, count=len(texts)) // _ID_BYTES
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        return doc, np.frombuffer(b"".join(blobs), dtype=np.int32).astype(np.int64)

    def _per_word_blobs(self, texts: Sequence[str]) -> list[bytes]:
        """Each text's ids (int32 bytes) as its words' remembered ones, joined."""
        split = [t.split() for t in texts]
        recent = self._recent
        self._learn({w for words in split for w in words if w not in recent})
        # Normally every word is now in the recent generation; the slow path covers
        # a word with no known n-gram (b"" is falsy) and a turn-over mid-batch.
        get, blob = self._recent.get, self.word_bytes
        return [b"".join([get(w) or blob(w) for w in words]) for words in split]

    @property
    def part(self) -> Part | None:
        """This block as a part for :mod:`moderation._ngrams`'s batch scoring (its C table
        finds, counts and sums a text's n-grams in one pass, the ids never written out),
        when its n-grams come from a C table that reads the texts as they are."""
        if self.word_ngrams is not None:
            table = self.word_ngrams.compiled if self.word_ngrams.plain else None
        else:
            table = None if self.char_ngrams is None else self.char_ngrams.compiled
        if table is None:
            return None
        return table, self.table, self.sublinear, self.binary, self.norm or "none"

    def scores(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """This block's contribution to the raw scores, one row per text."""
        part = self.part
        if part is not None:
            return np.frombuffer(_ngrams.score_texts(texts, [part]),
                                 dtype=np.float64).reshape(len(texts), self.categories)
        runs = None if _scoring is None else self._runs(texts)
        if runs is not None:
            # Counted, sorted and summed in one C call, term for term as below.
            return np.frombuffer(_scoring.score_texts(
                self.table, *runs, self.sublinear, self.binary, self.norm or "none"),
                dtype=np.float64).reshape(len(texts), self.categories)
        doc, term = self._ids(texts)
        if not len(term):
            return np.zeros((len(texts), self.categories), dtype=np.float64)
        # Counting by sorting (doc, term) keys: numpy's vectorised sort beats a
        # Counter per text, and the distinct terms come out as arrays directly.
        return self.score_distinct(*_distinct(doc, term, len(self.vocabulary)), len(texts))

    def score_distinct(self, doc: NDArray[np.int64], term: NDArray[np.int64],
                       count: NDArray[np.int64], n: int) -> NDArray[np.float64]:
        """This block's contribution to the raw scores of ``n`` texts, from each text's
        distinct terms and their counts (non-empty, sorted by text then term)."""
        out = np.zeros((n, self.categories), dtype=np.float64)
        first = _starts(doc)  # each text's terms are contiguous
        out[doc[first]] = self.sums(term, count, first)
        return out

    def sums(self, term: NDArray[np.integer[Any]], count: NDArray[np.int64],
             first: NDArray[np.intp]) -> NDArray[np.float64]:
        """Each text's share of the raw scores, one row per run of its distinct terms
        (sorted) starting at ``first``: in C when it is built, else in numpy."""
        return (self._sums_numpy if _scoring is None else self._sums_c)(term, count, first)

    def _sums_c(self, term: NDArray[np.integer[Any]], count: NDArray[np.int64],
                first: NDArray[np.intp]) -> NDArray[np.float64]:
        """:meth:`sums` in C, summed term after term."""
        return np.frombuffer(_scoring.score(self.table, term, count, first, self.sublinear,
                                            self.binary, self.norm or "none"),
                             dtype=np.float64).reshape(-1, self.categories)

    def _sums_numpy(self, term: NDArray[np.integer[Any]], count: NDArray[np.int64],
                    first: NDArray[np.intp]) -> NDArray[np.float64]:
        """:meth:`sums` in numpy (pairwise sums: the last bits may differ from C's)."""
        k = self.categories
        tf = np.ones(len(term)) if self.binary else count.astype(np.float64)
        if self.sublinear:
            tf = np.log(tf) + 1.0
        rows = np.take(self.table, term, axis=0).T
        rows *= tf  # tf * idf * coef per category, then the text's tf-idf entries
        entries = rows[k]
        if self.norm == "l2":
            np.square(entries, out=entries)
        elif self.norm == "l1":
            np.abs(entries, out=entries)
        sums = np.add.reduceat(rows, first, axis=1)
        norm = np.sqrt(sums[k]) if self.norm == "l2" else sums[k] if self.norm == "l1" else 1.0
        return (sums[:k] / norm).T


def inverse_vocabulary(vocabulary: dict[str, int]) -> list[str]:
    """The term of each id of a fitted vectoriser's ``vocabulary_``."""
    terms = [""] * len(vocabulary)
    for term, index in vocabulary.items():
        terms[index] = term
    return terms


