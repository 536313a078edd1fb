"""Evidence for a score: which n-grams pushed it up, shown on the original text.

A category's linear score is a sum over the comment's n-grams of
``tfidf value x weight``. Each n-gram occurrence's share of that sum is
credited to the word (whitespace token) it lies in, and that word is mapped
back to the characters the commenter actually typed: directly when normalisation
only lower-cased and folded white space, otherwise with
:func:`~moderation.normalize.original_word_spans`.

Every category is explained from one pass over the text: the occurrences and
their shares are numpy arrays (a row per category asked for), and n-gram strings
are rebuilt only for the few words that end up shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import chain, pairwise
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

from .analysis import Analysis, Block, analyse, units
from .model import ModerationModel
from .normalize import NATIVE, normalize, original_word_span_bytes, original_word_spans

try:
    from . import _explain
except ImportError:  # installed without compiling it: the Python path serves
    _explain = None

__all__ = ["Evidence", "explain", "explain_many", "toxic_characters", "MAX_EVIDENCE"]

MAX_EVIDENCE = 5  # words listed per category: enough to show why, short enough to read
_NGRAMS_PER_WORD = 3


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


def _exact_tfidf(vec: TfidfVectorizer) -> bool:
    """Whether the model's settings let tf-idf be rebuilt from the occurrences."""
    return bool(vec.sublinear_tf and vec.use_idf and vec.norm == "l2" and not vec.binary)


def _tfidf(vec: TfidfVectorizer, terms: NDArray[np.integer[Any]], counts: NDArray[np.int64]
           ) -> NDArray[np.float64]:
    """The text's tf-idf value of each distinct term, from its count."""
    raw = (1.0 + np.log(counts)) * vec.idf_[terms]
    # float32 like the fitted vectorisers, so the sum matches the served score
    return (raw / np.sqrt(np.dot(raw, raw))).astype(vec.dtype).astype(np.float64)


def _occurrences(model: ModerationModel, text: str, analysis: Analysis | None = None,
                 columns: list[int] | None = None, native: bool = False
                 ) -> tuple[list[Block], list[Any]]:
    """The blocks of known n-gram occurrences of normalised ``text`` and, per
    block, each occurrence's share of the linear score of each category in ``columns``
    (all by default): a row per category, shares summing to score minus intercept.
    ``analysis``: the text's, when the caller has it already. ``native``: the shares
    from C (see :func:`_native_ready`), a list of rows per block."""
    analysis = analysis or analyse(model, text)
    blocks = analysis.blocks
    rows = list(range(len(model.categories_))) if columns is None else columns
    exact = all(_exact_tfidf(b.vec) for b in blocks)
    if not exact:  # other settings: take scikit-learn's values for the text
        X = model.features_.transform([text]).tocsr()
        values = dict(zip(X.indices.tolist(), X.data.tolist(), strict=True))
    shares = []
    for block in blocks:
        if not len(block.local):
            shares.append(np.zeros((len(rows), 0)))
            continue
        terms, counts = block.distinct, block.counts
        if native:  # the same numbers: numpy's log and dot, the rest element by element
            raw = (1.0 + np.log(counts)) * block.vec.idf_[terms]
            norm2, single = float(np.dot(raw, raw)), block.vec.dtype == np.float32
            shares.append([np.frombuffer(_explain.shares(  # type: ignore[union-attr]
                raw, norm2, terms, counts, block.where, model.coef_, j, block.offset, single),
                dtype=np.float64) for j in rows])
            continue
        tfidf = _tfidf(block.vec, terms, counts) if exact else np.array(
            [values.get(t + block.offset, 0.0) for t in terms.tolist()])
        # Per distinct term, then spread over its occurrences: each occurrence gets
        # the same value as computing it on its own, from a fraction of the work.
        # Only the categories asked for (usually one), a row each so that every step
        # runs along contiguous memory; np.take gathers several times faster than
        # indexing with an array. float32 weights widen exactly in the product.
        weights = np.take(model.coef_, terms + block.offset, axis=0).T[rows]
        shares.append(np.take(tfidf * weights / counts, block.where, axis=1))
    return blocks, shares


def _unit_totals(blocks: list[Block], shares: list[NDArray[np.float64]], n_units: int
                 ) -> NDArray[np.float64]:
    """Per category (a row each, as in ``shares``), per word: the shares of the
    occurrences lying in it (one spanning several words, a bigram across a space, is
    split evenly between them)."""
    units, parts = [], []
    for block, share in zip(blocks, shares, strict=True):
        pairs = block.pairs()
        if pairs is None:
            units.append(block.first)
            parts.append(share)
        else:
            unit, occurrence, width = pairs
            units.append(unit)
            parts.append(np.take(share, occurrence, axis=1) / width)
    unit, share = np.concatenate(units), np.concatenate(parts, axis=1)
    return np.array([np.bincount(unit, weights=row, minlength=n_units) for row in share])


def _word_grams(blocks: list[Block], shares: list[NDArray[np.float64]], members: list[int]
                ) -> list[tuple[str, float]]:
    """The n-grams that raised a category most within the given words (``shares``:
    the category's share of each occurrence, per block)."""
    summed: dict[str, float] = {}
    for block, row in zip(blocks, shares, strict=True):
        if block.gram is None:  # character n-grams, stored word after word
            assert block.terms is not None and block.bounds is not None
            terms = block.terms
            for u in members:
                a, b = block.bounds[u], block.bounds[u + 1]
                for index, share in zip(block.local[a:b].tolist(), row[a:b].tolist(),
                                        strict=True):
                    key = terms[index].strip()
                    summed[key] = summed.get(key, 0.0) + share
            continue
        for u in members:
            hit, widths = block.in_word(u)  # a few: one by one beats gathering them
            for i, width in zip(hit, widths, strict=True):
                gram = block.gram(i)
                summed[gram] = summed.get(gram, 0.0) + row.item(i) / width
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


def _original_words(text: str, analysis: Analysis) -> list[tuple[int, int]]:
    """Per word of the analysed normalised text, the span of ``text`` it came from.

    When normalisation only lower-cased the words and folded white space (most
    comments), its words are the original words in order and the offset-tracking
    normalisation is not needed.
    """
    normalised, words = analysis.text, analysis.units
    # Lower-casing the whole text lower-cases each word as it would alone, and
    # keeps white space and the rest apart (test_explain checks both on every
    # character), so one comparison tests every word.
    if normalised == " ".join(text.lower().split()):
        # No character lowers to fewer, so equal lengths mean every word kept its
        # length and one character separates each from the next, as in ``normalised``.
        return words if len(normalised) == len(text) else units(text)
    return original_word_spans(text, words)


def _spans(original: str, spans: list[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """Original-text spans (punctuation trimmed) and the normalised words each came
    from. Several normalised words can come from one original stretch (a link becomes
    "_url_ dom_...")."""
    merged: dict[tuple[int, int], list[int]] = defaultdict(list)
    for u, (a, b) in enumerate(spans):
        a, b = _trim(original, a, b)
        if a < b:
            merged[(a, b)].append(u)
    return merged


def _span_totals(totals: NDArray[np.float64], members: list[list[int]]
                 ) -> NDArray[np.float64]:
    """Per category (a row each), per original stretch: the totals of the words it holds."""
    if all(len(m) == 1 for m in members):  # one word each, the usual case
        return totals[:, [m[0] for m in members]]
    owner = np.repeat(np.arange(len(members)), [len(m) for m in members])
    words = list(chain.from_iterable(members))
    return np.array([np.bincount(owner, weights=row[words], minlength=len(members))
                     for row in totals])


def _stretches(original: str, spans: list[tuple[int, int]], totals: NDArray[np.float64]
               ) -> tuple[list[tuple[int, int]], list[list[int]] | None, NDArray[np.float64]]:
    """The stretches of the original text to rank (spans, trimmed when shown), the
    words each holds (``None``: stretch k is word k alone) and their totals."""
    if all(b <= c for (_, b), (c, _) in pairwise(spans)):
        # Disjoint spans trim to distinct stretches (or to nothing): no two words
        # merge, so only the words that are shown need trimming.
        return spans, None, totals
    merged = _spans(original, spans)
    members = list(merged.values())
    return list(merged), members, _span_totals(totals, members)


def explain(model: ModerationModel, text: str, categories: list[str] | tuple[str, ...],
            limit: int = MAX_EVIDENCE, normalised: str | None = None,
            analysis: Analysis | None = None) -> dict[str, list[Evidence]]:
    """The words that raised each named category's score most, strongest first.

    ``normalised`` is ``normalize(text)`` and ``analysis`` its analysis, when the
    caller has them already.
    """
    if analysis is None:
        analysis = analyse(model, normalize(text) if normalised is None else normalised)
    columns = [model.categories_.index(c) for c in categories]
    if _native_ready(model, analysis):
        blocks, shares = _occurrences(model, analysis.text, analysis, columns, native=True)
        return evidence_native(text, _native_spans(text, analysis), blocks, shares, categories,
                               limit)
    spans = _original_words(text, analysis)
    blocks, shares = _occurrences(model, analysis.text, analysis, columns)
    return evidence_python(text, spans, blocks, shares, categories, limit, len(analysis.units))


def _native_ready(model: ModerationModel, analysis: Analysis) -> bool:
    """Whether the C path can explain this model's analysis exactly as the Python one:
    the extensions built, tf-idf rebuilt from counts in float32 or float64, every block's
    terms known."""
    return (_explain is not None and NATIVE is not None and model.coef_.ndim == 2
            and model.coef_.dtype in (np.float32, np.float64) and all(
                b.terms is not None and _exact_tfidf(b.vec)
                and b.vec.dtype in (np.float32, np.float64) for b in analysis.blocks))


def _native_spans(text: str, analysis: Analysis) -> bytes:
    """:func:`_original_words` as int64 (start, end) pairs, from C."""
    assert _explain is not None
    normalised = analysis.text
    if normalised == " ".join(text.lower().split()):  # see _original_words
        return _explain.split_spans(normalised if len(normalised) == len(text) else text)
    return original_word_span_bytes(text)


# Per list of terms (a vectoriser's, held by the compiled scorer for the process's
# life): the uint64 hash of each n-gram's name, so that the C code groups occurrences
# by name without reading the terms' strings (a cache miss each).
_NAME_HASHES: dict[int, tuple[list[str], NDArray[np.uint64]]] = {}


def name_hashes(terms: list[str], strip: bool) -> NDArray[np.uint64]:
    """The hash of each term's name (white space stripped when ``strip``), built once."""
    assert _explain is not None
    known = _NAME_HASHES.get(id(terms))
    if known is None or known[0] is not terms:
        known = _NAME_HASHES[id(terms)] = (terms, np.frombuffer(
            _explain.name_hashes(terms, strip), dtype=np.uint64))
    return known[1]


def evidence_native(text: str, spans: bytes, blocks: list[Block], shares: list[Any],
                    categories: list[str] | tuple[str, ...], limit: int = MAX_EVIDENCE
                    ) -> dict[str, list[Evidence]]:
    """:func:`evidence_python` with the per-occurrence work in C (``spans``: int64 pairs;
    every block's ``terms`` known): the same sums in the same order, the same evidence."""
    assert _explain is not None
    out: dict[str, list[Evidence]] = {}
    for row, category in enumerate(categories):
        found = _explain.evidence(text, spans, [
            (share[row], block.first, block.last, block.local, block.terms,
             name_hashes(block.terms, block.gram is None), block.gram is None)
            for block, share in zip(blocks, shares, strict=True)], limit, _NGRAMS_PER_WORD)
        out[category] = [Evidence(a, b, text[a:b], weight, grams)
                         for a, b, weight, grams in found]
    return out


def evidence_python(text: str, spans: list[tuple[int, int]], blocks: list[Block],
                    shares: list[NDArray[np.float64]], categories: list[str] | tuple[str, ...],
                    limit: int, n_words: int) -> dict[str, list[Evidence]]:
    """Per category, the stretches of ``text`` that raised it most (``spans``: each
    normalised word's span in ``text``; ``shares``: per block, a row per category)."""
    totals = _unit_totals(blocks, shares, n_words)
    stretches, members, by_span = _stretches(text, spans, totals)
    out: dict[str, list[Evidence]] = {}
    for row, category in enumerate(categories):
        weight = by_span[row]
        values = weight.tolist()
        shown: list[Evidence] = []
        for k in np.argsort(-weight, kind="stable").tolist():
            if len(shown) == limit or not values[k] > 0:
                break  # strongest first: the rest are no stronger
            a, b = _trim(text, *stretches[k])  # a merged stretch is trimmed already
            if a < b:
                shown.append(Evidence(a, b, text[a:b], values[k], _word_grams(
                    blocks, [s[row] for s in shares], [k] if members is None else members[k])))
        out[category] = shown
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
