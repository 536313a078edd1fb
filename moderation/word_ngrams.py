"""Vocabulary ids of a word vectoriser's unigrams and bigrams, for many texts at once.

scikit-learn's word analyser joins every pair of neighbouring tokens into a new
string and the vocabulary dict hashes it again: about ninety Python-level strings
and look-ups for a 250-character comment. Here each token is looked up once, in a
table of the tokens the vocabulary's terms are made of, and a bigram is the pair of
its tokens' numbers, found among the vocabulary's pairs in numpy. Tokens still come
from the vectoriser's own preprocessor and tokenizer.

Only what is understood is handled (see :func:`supported`): the default token
pattern, whose tokens hold no space, so that a bigram term splits into its two
tokens one way only; n-grams of one or two tokens; no stop words.

Where the C extension :mod:`moderation._ngrams` is built, its ``WordTable`` does the
same from the text itself (tokens, their numbers, unigram and bigram ids) in one
call; the Python path stays as the fallback and the tests' reference.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import chain, repeat

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import CountVectorizer

from .code_table import CodeTable

try:
    from ._ngrams import WordTable
except ImportError:  # installed without compiling it: the Python path serves
    WordTable = None

__all__ = ["WordNgramIds", "supported"]

_TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's default, and build_features'


def supported(vectoriser: CountVectorizer) -> bool:
    """Whether :class:`WordNgramIds` finds exactly this vectoriser's n-grams."""
    low, high = vectoriser.ngram_range
    return (vectoriser.analyzer == "word" and vectoriser.tokenizer is None
            and vectoriser.token_pattern == _TOKEN_PATTERN and vectoriser.stop_words is None
            and 1 <= low <= high <= 2)


class WordNgramIds:
    """The vocabulary ids of each text's unigrams and bigrams (for a supported vectoriser)."""

    def __init__(self, vectoriser: CountVectorizer, compiled: bool = True) -> None:
        self.preprocess = vectoriser.build_preprocessor()
        # scikit-learn's preprocessor returns the text as it is without these: the C
        # table may then read the texts themselves.
        self.plain = (vectoriser.preprocessor is None and not vectoriser.lowercase
                      and vectoriser.strip_accents is None)
        self.tokenize = vectoriser.build_tokenizer()
        low, high = vectoriser.ngram_range
        self.unigrams, self.bigrams = low == 1, high == 2
        # Tokens are numbered from 1: 0 is a token in no term, whose unigram is not in
        # the vocabulary and whose pairs' codes (first * base + second) match no pair
        # of known tokens. A unigram term is its own token (partition returns it, no
        # copy), so only bigram terms make new strings, freed as the loop goes.
        self.tokens: dict[str, int] = {}
        number = self.tokens.setdefault
        unigram, first, second, pair = array("q"), array("q"), array("q"), array("q")
        for term, index in vectoriser.vocabulary_.items():
            left, space, right = term.partition(" ")
            if space:
                first.append(number(left, len(self.tokens) + 1))
                second.append(number(right, len(self.tokens) + 1))
                pair.append(index)
            else:
                unigram.append(number(left, len(self.tokens) + 1))
                unigram.append(index)
        self.base = len(self.tokens) + 1
        self.unigram = np.full(self.base, -1, dtype=np.int64)
        known = np.frombuffer(unigram, dtype=np.int64).reshape(-1, 2)
        self.unigram[known[:, 0]] = known[:, 1]
        self.pairs = CodeTable(np.frombuffer(first, dtype=np.int64) * self.base
                               + np.frombuffer(second, dtype=np.int64),
                               np.frombuffer(pair, dtype=np.int64))
        self.compiled = None
        if compiled and WordTable is not None:
            self.compiled = WordTable(list(self.tokens), self.unigram.tobytes(),
                                      self.pairs.codes.tobytes(), self.pairs.ids.tobytes(),
                                      self.unigrams, self.bigrams)
            # The table holds all of it; one copy per worker is enough (about 5 MB).
            del self.tokens, self.unigram, self.pairs

    def runs(self, texts: Sequence[str]) -> tuple[bytes, bytes]:
        """With the C table: how many n-grams each text has and their ids, all as int64
        bytes (repeats included, text after text)."""
        assert self.compiled is not None
        return self.compiled.ids_many([self.preprocess(t) for t in texts])  # type: ignore[no-any-return]

    def ids(self, texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The text (its position) and vocabulary id of every n-gram found, repeats included."""
        if self.compiled is not None:
            lengths, found = map(np.frombuffer, self.runs(texts), repeat(np.int64))
            return np.repeat(np.arange(len(texts), dtype=np.int64), lengths), found
        preprocess, tokenize = self.preprocess, self.tokenize
        tokens = [tokenize(preprocess(t)) for t in texts]
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(texts))
        number = np.frombuffer(array("q", map(self.tokens.get, chain.from_iterable(tokens),
                                              repeat(0))), dtype=np.int64)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        docs, ids = [], []
        if self.unigrams:
            docs.append(doc)
            ids.append(self.unigram[number])
        if self.bigrams and len(number) > 1:
            keep = np.flatnonzero(doc[:-1] == doc[1:])  # neighbours in the same text
            docs.append(doc[keep])
            ids.append(self.pairs.find(number[keep] * self.base + number[keep + 1]))
        if not ids:
            return doc[:0], doc[:0]
        found_doc, found = np.concatenate(docs), np.concatenate(ids)
        known = found >= 0
        return found_doc[known], found[known]
