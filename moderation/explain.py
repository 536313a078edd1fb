"""Evidence for a score: which n-grams pushed it up, shown on the original text.

A category's linear score is a sum over the comment's n-grams of
``tfidf value x weight``. Each n-gram occurrence is found again in the
normalised text, its contribution is credited to the word (whitespace token)
it lies in, and that word is mapped back to the characters the commenter
actually typed with :func:`~moderation.normalize.normalize_with_offsets`.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from .model import ModerationModel
from .normalize import Normalized, normalize_with_offsets

__all__ = ["Evidence", "explain", "explain_many", "toxic_characters", "MAX_EVIDENCE"]

MAX_EVIDENCE = 5  # words listed per category: enough to show why, short enough to read
_NGRAMS_PER_WORD = 3
_WORD_CHARS = re.compile(r"\w")


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
    return [m.span() for m in re.finditer(r"\S+", text)]


def _word_ngrams(vec: TfidfVectorizer, text: str) -> Iterator[tuple[str, int, int]]:
    """``(ngram, start, end)`` for the word analyser's n-grams, with positions."""
    tokens = [m for m in re.finditer(vec.token_pattern, text)]
    low, high = vec.ngram_range
    for n in range(low, high + 1):
        for i in range(len(tokens) - n + 1):
            gram = " ".join(t.group() for t in tokens[i:i + n])
            yield gram, tokens[i].start(), tokens[i + n - 1].end()


def _char_wb_ngrams(vec: TfidfVectorizer, text: str) -> Iterator[tuple[str, int, int]]:
    """``(ngram, start, end)`` as scikit-learn's ``char_wb`` analyser builds them."""
    low, high = vec.ngram_range
    for a, b in _units(text):
        padded = " " + text[a:b] + " "
        for n in range(low, high + 1):
            if len(padded) <= n:  # a short word counts once, whole
                yield padded, a, b
                break
            for i in range(len(padded) - n + 1):
                # Padding spaces sit just outside the word: clip to it.
                yield padded[i:i + n], max(a, a + i - 1), min(b, a + i - 1 + n)


_ANALYSERS = {"word": _word_ngrams, "char_wb": _char_wb_ngrams}


def _tfidf(model: ModerationModel, normalised: str,
           occurrences: dict[int, list[tuple[str, int, int]]],
           blocks: list[tuple[TfidfVectorizer, int, list[int]]]) -> dict[int, float]:
    """The text's tf-idf value per feature index, from the occurrences already found.

    The occurrences are the vectorisers' own counts, so for the settings the
    model uses (sublinear tf, idf, l2 norm per block) this equals scikit-learn's
    ``transform`` without calling it (its per-call overhead dominated an
    explanation); anything else goes through ``transform``.
    """
    if not all(vec.sublinear_tf and vec.use_idf and vec.norm == "l2" and not vec.binary
               for vec, _, _ in blocks):
        X = model.features_.transform([normalised]).tocsr()
        return dict(zip(X.indices.tolist(), X.data.tolist(), strict=True))
    values: dict[int, float] = {}
    for vec, offset, indices in blocks:
        if not indices:
            continue
        local = np.asarray(indices) - offset
        counts = np.array([len(occurrences[i]) for i in indices], dtype=np.float64)
        raw = (1.0 + np.log(counts)) * vec.idf_[local]
        # float32 like the fitted vectorisers, so the sum matches the served score
        raw = (raw / np.sqrt(np.dot(raw, raw))).astype(vec.dtype)
        values.update(zip(indices, raw.tolist(), strict=True))
    return values


def _contributions(model: ModerationModel, normalised: str, column: int
                   ) -> list[tuple[str, int, int, float]]:
    """Every n-gram occurrence with its share of the category's linear score."""
    occurrences: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    blocks: list[tuple[TfidfVectorizer, int, list[int]]] = []
    offset = 0
    for _name, vec in model.features_.transformer_list:
        kind = vec.analyzer if isinstance(vec.analyzer, str) else "word"
        vocabulary = vec.vocabulary_
        found_here: list[int] = []
        for gram, start, end in _ANALYSERS[kind](vec, normalised):
            index = vocabulary.get(gram)
            if index is not None:
                if index + offset not in occurrences:
                    found_here.append(index + offset)
                occurrences[index + offset].append((gram, start, end))
        blocks.append((vec, offset, found_here))
        offset += len(vocabulary)
    tfidf = _tfidf(model, normalised, occurrences, blocks)
    indices = list(occurrences)
    weights = model.coef_[indices, column].astype(np.float64).tolist() if indices else []
    out: list[tuple[str, int, int, float]] = []
    for index, weight in zip(indices, weights, strict=True):
        found = occurrences[index]
        value = tfidf.get(index, 0.0) * weight / len(found)
        out.extend((gram, start, end, value) for gram, start, end in found)
    return out


def _trim(original: str, start: int, end: int) -> tuple[int, int]:
    """Drop punctuation around a word, so "idiot!" shows as "idiot"."""
    while start < end and not _WORD_CHARS.match(original[start]):
        start += 1
    while end > start and not _WORD_CHARS.match(original[end - 1]):
        end -= 1
    return start, end


def _explain_one(model: ModerationModel, norm: Normalized, original: str, column: int,
                 limit: int) -> list[Evidence]:
    units = _units(norm.text)
    totals = [0.0] * len(units)
    grams: list[dict[str, float]] = [defaultdict(float) for _ in units]
    starts = [a for a, _ in units]
    for gram, start, end, value in _contributions(model, norm.text, column):
        # Credit each occurrence to the words it overlaps, evenly; words are
        # sorted, so the scan starts at the word holding ``start`` and stops early.
        u = max(bisect.bisect_right(starts, start) - 1, 0)
        touched = []
        while u < len(units) and units[u][0] < end:
            if units[u][1] > start:
                touched.append(u)
            u += 1
        for u in touched:
            totals[u] += value / len(touched)
            grams[u][gram.strip()] += value / len(touched)
    # Several normalised words can come from one original stretch (a link
    # becomes "_url_ dom_..."): merge them there.
    merged: dict[tuple[int, int], list[int]] = defaultdict(list)
    for u, span in enumerate(units):
        a, b = _trim(original, *norm.original_span(*span))
        if a < b:
            merged[(a, b)].append(u)
    evidence = []
    for (a, b), members in merged.items():
        total = sum(totals[u] for u in members)
        if total <= 0:
            continue
        summed: dict[str, float] = defaultdict(float)
        for u in members:
            for gram, value in grams[u].items():
                summed[gram] += value
        top = sorted(summed.items(), key=lambda kv: -kv[1])[:_NGRAMS_PER_WORD]
        evidence.append(Evidence(a, b, original[a:b], total, [(g, w) for g, w in top if w > 0]))
    evidence.sort(key=lambda e: -e.weight)
    return evidence[:limit]


def explain(model: ModerationModel, text: str, categories: list[str] | tuple[str, ...],
            limit: int = MAX_EVIDENCE) -> dict[str, list[Evidence]]:
    """The words that raised each named category's score most, strongest first."""
    norm = normalize_with_offsets(text)
    return {c: _explain_one(model, norm, text, model.categories_.index(c), limit)
            for c in categories}


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
