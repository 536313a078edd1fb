"""Evidence for a score: which n-grams pushed it up, shown on the original text.

A category's linear score is a sum over the comment's n-grams of
``tfidf value x weight``. Each n-gram occurrence's share of that sum is
credited to the word (whitespace token) it lies in, and that word is mapped
back to the characters the commenter actually typed with
:func:`~moderation.normalize.normalize_with_offsets`.

Every category is explained from one pass over the text: the occurrences and
their shares are numpy arrays (one column per category), and n-gram strings
are rebuilt only for the few words that end up shown.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

from .fastpath import inverse_vocabulary
from .model import ModerationModel
from .normalize import normalize_with_offsets

__all__ = ["Evidence", "explain", "explain_many", "toxic_characters", "MAX_EVIDENCE"]

MAX_EVIDENCE = 5  # words listed per category: enough to show why, short enough to read
_NGRAMS_PER_WORD = 3
_NON_SPACE = re.compile(r"\S+")


@dataclass
class Evidence:
    """One word of the original text and how much it raised a category's score."""

    start: int
    end: int
    text: str
    weight: float
    ngrams: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"text": self.text, "start": self.start, "end": self.end,
                "weight": round(self.weight, 4),
                "ngrams": [{"ngram": g, "weight": round(w, 4)} for g, w in self.ngrams]}


def _units(text: str) -> list[tuple[int, int]]:
    """Whitespace tokens of the normalised text, as the char_wb analyser sees them."""
    return [m.span() for m in _NON_SPACE.finditer(text)]


def _word_ngrams(vec: TfidfVectorizer, text: str, starts: list[int]
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


@dataclass
class _Block:
    """One vectoriser's known n-gram occurrences in a text, and their score shares."""

    vec: TfidfVectorizer
    offset: int  # where the vectoriser's columns start in the model's weights
    local: NDArray[np.integer[Any]]  # vocabulary index per occurrence
    first: NDArray[np.int64]  # first word (unit) the occurrence lies in
    last: NDArray[np.int64]  # last word it lies in (a word bigram can span two)
    grams: list[str] | None  # the n-gram per occurrence (words); None for characters
    terms: list[str] | None  # the n-gram of each vocabulary id (characters)
    bounds: list[int] | None  # word u has occurrences [bounds[u], bounds[u + 1]) (characters)
    share: NDArray[np.float64] = field(init=False)  # (occurrences, categories)

    def pairs(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] | None:
        """Each (word, occurrence) with the occurrence lying in the word, and how many
        words the occurrence spans, in occurrence order; ``None`` when every occurrence
        lies in one word (then ``first`` says which)."""
        if "_pairs" not in self.__dict__:
            width = self.last - self.first + 1
            self._pairs = None
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

    def tfidf(self, terms: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.float64]:
        """The text's tf-idf value of each distinct term, from its count."""
        vec = self.vec
        raw = (1.0 + np.log(counts)) * vec.idf_[terms]
        # float32 like the fitted vectorisers, so the sum matches the served score
        return (raw / np.sqrt(np.dot(raw, raw))).astype(vec.dtype).astype(np.float64)


def _char_analysis(model: ModerationModel, position: int, vec: TfidfVectorizer
                   ) -> tuple[Callable[[str], NDArray[np.int32]], list[str]]:
    """The vocabulary ids of one word's character n-grams (the compiled scorer's
    remembered ones when it has them) and the n-gram of each id."""
    scorer = model.scorer()
    if scorer is not None and scorer.blocks[position].vocabulary is vec.vocabulary_:
        return scorer.blocks[position].word_array, scorer.blocks[position].terms
    analyse, vocabulary = vec.build_analyzer(), vec.vocabulary_
    return (lambda word: np.array([i for i in map(vocabulary.get, analyse(word))
                                   if i is not None], dtype=np.int32),
            inverse_vocabulary(vocabulary))


def _char_block(ids_of: Callable[[str], NDArray[np.int32]], terms: list[str],
                vec: TfidfVectorizer, offset: int, text: str) -> _Block:
    # str.split's words are the units: \S and str.split agree on white space
    per_unit = list(map(ids_of, text.split()))
    sizes = np.fromiter(map(len, per_unit), dtype=np.int64, count=len(per_unit))
    local = np.concatenate(per_unit) if per_unit else np.zeros(0, dtype=np.int32)
    first = np.repeat(np.arange(len(per_unit), dtype=np.int64), sizes)
    bounds = [0, *accumulate(map(len, per_unit))]
    return _Block(vec, offset, local, first, first, None, terms, bounds)


def _word_block(vec: TfidfVectorizer, offset: int, text: str, starts: list[int]) -> _Block:
    grams, first, last = _word_ngrams(vec, text, starts)
    known = [found for found in zip(map(vec.vocabulary_.get, grams), first, last, grams,
                                    strict=True) if found[0] is not None]
    ids, firsts, lasts, kept = zip(*known, strict=True) if known else ((), (), (), ())
    return _Block(vec, offset, np.array(ids, dtype=np.int64), np.array(firsts, dtype=np.int64),
                  np.array(lasts, dtype=np.int64), list(kept), None, None)


def _blocks(model: ModerationModel, text: str, units: list[tuple[int, int]]) -> list[_Block]:
    starts = [a for a, _ in units]
    blocks, offset = [], 0
    for position, (_name, vec) in enumerate(model.features_.transformer_list):
        if vec.analyzer == "char_wb":
            ids_of, terms = _char_analysis(model, position, vec)
            blocks.append(_char_block(ids_of, terms, vec, offset, text))
        else:
            blocks.append(_word_block(vec, offset, text, starts))
        offset += len(vec.vocabulary_)
    return blocks


def _exact_tfidf(vec: TfidfVectorizer) -> bool:
    """Whether the model's settings let tf-idf be rebuilt from the occurrences."""
    return bool(vec.sublinear_tf and vec.use_idf and vec.norm == "l2" and not vec.binary)


def _occurrences(model: ModerationModel, text: str) -> tuple[list[tuple[int, int]],
                                                             list[_Block]]:
    """The words of normalised ``text`` and every known n-gram occurrence in it, each with
    its share of every category's linear score (shares sum to score minus intercept)."""
    units = _units(text)
    blocks = _blocks(model, text, units)
    exact = all(_exact_tfidf(b.vec) for b in blocks)
    if not exact:  # other settings: take scikit-learn's values for the text
        X = model.features_.transform([text]).tocsr()
        values = dict(zip(X.indices.tolist(), X.data.tolist(), strict=True))
    for block in blocks:
        if not len(block.local):
            block.share = np.zeros((0, len(model.categories_)))
            continue
        terms, where, counts = np.unique(block.local, return_inverse=True, return_counts=True)
        tfidf = block.tfidf(terms, counts) if exact else np.array(
            [values.get(t + block.offset, 0.0) for t in terms.tolist()])
        # Per distinct term, then spread over its occurrences: each occurrence gets
        # the same value as computing it on its own, from a fraction of the work.
        weights = model.coef_[terms + block.offset].astype(np.float64)
        block.share = (tfidf[:, None] * weights / counts[:, None])[where]
    return units, blocks


def _unit_totals(blocks: list[_Block], n_units: int, n_categories: int
                 ) -> NDArray[np.float64]:
    """Per word, per category: the shares of the occurrences lying in it (one spanning
    several words, a bigram across a space, is split evenly between them)."""
    units, shares = [], []
    for block in blocks:
        pairs = block.pairs()
        if pairs is None:
            units.append(block.first)
            shares.append(block.share)
        else:
            unit, occurrence, width = pairs
            units.append(unit)
            shares.append(block.share[occurrence] / width[:, None])
    unit, share = np.concatenate(units), np.concatenate(shares)
    return np.column_stack([np.bincount(unit, weights=share[:, j], minlength=n_units)
                            for j in range(n_categories)])


def _word_grams(blocks: list[_Block], members: list[int], column: int
                ) -> list[tuple[str, float]]:
    """The n-grams that raised the category most within the given words."""
    summed: dict[str, float] = {}
    for block in blocks:
        shares = block.share[:, column]
        if block.grams is None:  # character n-grams, stored word after word
            assert block.terms is not None and block.bounds is not None
            terms = block.terms
            for u in members:
                a, b = block.bounds[u], block.bounds[u + 1]
                for index, share in zip(block.local[a:b].tolist(), shares[a:b].tolist(),
                                        strict=True):
                    key = terms[index].strip()
                    summed[key] = summed.get(key, 0.0) + share
            continue
        for u in members:
            hit, widths = block.in_word(u)
            for i, share, width in zip(hit, shares[hit].tolist(), widths, strict=True):
                gram = block.grams[i]
                summed[gram] = summed.get(gram, 0.0) + share / width
    # reverse=True keeps equal weights in first-seen order, as a stable sort does
    top = sorted(summed.items(), key=itemgetter(1), reverse=True)[:_NGRAMS_PER_WORD]
    return [(g, w) for g, w in top if w > 0]


def _word_char(c: str) -> bool:
    """Whether ``c`` is a word character: what ``\\w`` matches, without a regex call."""
    return c.isalnum() or c == "_"


def _trim(original: str, start: int, end: int) -> tuple[int, int]:
    """Drop punctuation around a word, so "idiot!" shows as "idiot"."""
    while start < end and not _word_char(original[start]):
        start += 1
    while end > start and not _word_char(original[end - 1]):
        end -= 1
    return start, end


def _original_words(text: str, normalised: str | None) -> tuple[str, list[tuple[int, int]]]:
    """The normalised text and, per word of it, the span of ``text`` it came from.

    When normalisation only lower-cased the words and folded white space (most
    comments), its words are the original words in order and the offset-tracking
    normalisation is not needed.
    """
    if normalised is not None:
        words = list(_NON_SPACE.finditer(text))
        if normalised.split() == [w.group().lower() for w in words]:
            return normalised, [w.span() for w in words]
    norm = normalize_with_offsets(text)
    return norm.text, [norm.original_span(a, b) for a, b in _units(norm.text)]


def _spans(original: str, spans: list[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """Original-text spans (punctuation trimmed) and the normalised words each came
    from. Several normalised words can come from one original stretch (a link becomes
    "_url_ dom_...")."""
    merged: dict[tuple[int, int], list[int]] = defaultdict(list)
    for u, (a, b) in enumerate(spans):
        if not (a < b and _word_char(original[a]) and _word_char(original[b - 1])):
            a, b = _trim(original, a, b)
            if a >= b:
                continue
        merged[(a, b)].append(u)
    return merged


def explain(model: ModerationModel, text: str, categories: list[str] | tuple[str, ...],
            limit: int = MAX_EVIDENCE, normalised: str | None = None
            ) -> dict[str, list[Evidence]]:
    """The words that raised each named category's score most, strongest first.

    ``normalised`` is ``normalize(text)`` when the caller has it already.
    """
    normalised, spans = _original_words(text, normalised)
    units, blocks = _occurrences(model, normalised)
    totals = _unit_totals(blocks, len(units), len(model.categories_))
    merged = list(_spans(text, spans).items())
    # Each word's totals summed into the original stretch it belongs to.
    owner = np.full(len(units), -1, dtype=np.int64)
    owner[list(chain.from_iterable(m for _, m in merged))] = np.repeat(
        np.arange(len(merged)), [len(m) for _, m in merged])
    kept = owner >= 0
    out: dict[str, list[Evidence]] = {}
    for category in categories:
        column = model.categories_.index(category)
        weight = np.bincount(owner[kept], weights=totals[kept, column], minlength=len(merged))
        # strongest first; the positive ones lead, so cutting before filtering is the same
        order = [k for k in np.argsort(-weight, kind="stable")[:limit].tolist() if weight[k] > 0]
        out[category] = [
            Evidence(a, b, text[a:b], float(weight[k]),
                     _word_grams(blocks, members, column))
            for k in order for (a, b), members in (merged[k],)]
    return out


def explain_many(model: ModerationModel, texts: list[str], category: str,
                 limit: int = MAX_EVIDENCE) -> list[list[Evidence]]:
    """:func:`explain` for one category over many texts."""
    return [explain(model, t, [category], limit)[category] for t in texts]


def toxic_characters(evidence: list[Evidence], min_share: float = 0.0) -> set[int]:
    """Character offsets covered by evidence whose weight is above ``min_share`` of the top."""
    if not evidence:
        return set()
    top = evidence[0].weight
    return {i for e in evidence if e.weight >= min_share * top for i in range(e.start, e.end)}
