"""Vocabulary ids of the ``char_wb`` n-grams of whitespace-free words, as scikit-learn's
analyser finds them: one word at a time through the vocabulary dict, or many words at
once in numpy.

A word seen for the first time costs about thirty n-gram slices and as many dict
look-ups in Python. Many such words at once (a batch's first sightings) are cheaper
as arrays: each character becomes its index in the vocabulary's alphabet, each
n-gram the integer those indices spell, and one sorted search of the vocabulary's
integers finds them all. The integer is exact (no hashing), so the ids are the
dict's; :class:`CharNgramIds` falls back to the dict when the alphabet is too large
for an n-gram to fit in 63 bits.

Where the C extension :mod:`moderation._ngrams` is built (``pip install`` compiles
it), the same integers are looked up in its hash table instead, one word or many,
at about a microsecond a word; the dict and numpy paths stay as the fallback and as
the reference its tests compare with.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from .code_table import CodeTable

try:
    from ._ngrams import CharTable as Table
except ImportError:  # installed without compiling it: the Python paths serve
    Table = None

__all__ = ["CharNgramIds", "char_wb_ngrams", "ID_TYPE"]

ID_TYPE = "i"  # ids travel as int32 bytes: joined in C, and untracked by the GC
# Fewer first sightings than this go through the dict: numpy's fixed cost per
# call (some thirty calls) is worth paying only for a batch of words.
_MANY = 16


def char_wb_ngrams(word: str, low: int, high: int) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams of one whitespace-free ``word``, in its order.

    Its analyser pads the word with a space each side and, like it, emits a
    padded word no longer than ``n`` once, as its only n-gram from ``n`` up.
    """
    padded = f" {word} "
    size = len(padded)
    if size > high:  # the common case: every length fits
        return [padded[i:i + n] for n in range(low, high + 1) for i in range(size - n + 1)]
    grams: list[str] = []
    for n in range(low, high + 1):
        if size <= n:
            grams.append(padded)
            break
        grams += [padded[i:i + n] for i in range(size - n + 1)]
    return grams


class CharNgramIds:
    """The vocabulary ids (int32 bytes) of words' ``char_wb`` n-grams; unknown n-grams
    are left out, the order is the analyser's."""

    def __init__(self, vocabulary: Mapping[str, int], ngram_range: tuple[int, int],
                 compiled: bool = True) -> None:
        self.vocabulary = vocabulary
        self.low, self.high = ngram_range
        self.compiled = None
        # Built at start-up (~0.14 s for the shipped model): re-scoring workers forked
        # afterwards share the arrays instead of each building its own.
        self.packed = self._prepare(compiled and Table is not None)

    def _prepare(self, compiled: bool) -> bool:
        """The alphabet's index and the vocabulary's codes, if each fits an int64: in the
        compiled table when ``compiled``, else sorted for numpy's search."""
        alphabet = sorted(set("".join(self.vocabulary)))
        # Index 0 means "in no term": an n-gram holding one is not in the vocabulary.
        self.bits = len(alphabet).bit_length()
        longest = max(map(len, self.vocabulary), default=0)
        if not alphabet or self.bits * self.high > 63 or longest > self.high:
            return False
        points = np.array([ord(c) for c in alphabet], dtype=np.int64)
        self.index = np.zeros(int(points.max()) + 1,
                              dtype=np.min_scalar_type(len(points)))  # 2 bytes, typically
        self.index[points] = np.arange(1, len(points) + 1)
        lengths = np.fromiter(map(len, self.vocabulary), dtype=np.int64,
                              count=len(self.vocabulary))
        starts = np.cumsum(lengths) - lengths
        joined = "".join(self.vocabulary).encode("utf-32-le", "surrogatepass")
        indices = self.index[np.frombuffer(joined, dtype=np.uint32)]  # every one is known
        del joined
        codes = np.zeros(len(lengths), dtype=np.int64)
        for j in range(longest):  # the j-th character of every term that long
            longer = np.flatnonzero(lengths > j)
            codes[longer] = (codes[longer] << self.bits) | indices[starts[longer] + j]
        ids = np.fromiter(self.vocabulary.values(), dtype=np.int64, count=len(lengths))
        if compiled:
            self.compiled = Table(self.index.astype(np.uint32).tobytes(), self.bits, self.low,
                                  self.high, codes.tobytes(), ids.tobytes())
        else:
            self.table = CodeTable(codes, ids)
        return True

    def one(self, word: str) -> bytes:
        """The ids of one word's n-grams."""
        if self.compiled is not None:
            return self.compiled.ids(word)
        return self.lookup(word)

    def lookup(self, word: str) -> bytes:
        """The ids of one word's n-grams, through the vocabulary dict."""
        grams = char_wb_ngrams(word, self.low, self.high)
        return array(ID_TYPE, [i for i in map(self.vocabulary.get, grams) if i is not None]
                     ).tobytes()

    def many(self, words: Sequence[str]) -> list[bytes]:
        """The ids of each word's n-grams, in numpy when there are enough words (or
        all in the compiled table)."""
        if self.compiled is not None:
            return self.compiled.ids_many(words)
        if len(words) < _MANY or not self.packed:
            return [self.lookup(w) for w in words]
        padded = "".join([f" {w} " for w in words])
        sizes = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 2
        owner = np.repeat(np.arange(len(words)), sizes)
        offset = np.arange(len(padded)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        size = np.repeat(sizes, sizes)
        grams: list[NDArray[np.int64]] = []
        codes: list[NDArray[np.int64]] = []
        for n, code in enumerate(self._windows(padded), start=1):
            m = len(code)
            # Windows inside the word for low <= n < size; the whole padded word at
            # n == size, as the analyser's short-word rule has it.
            keep = (size[:m] == n) & (offset[:m] == 0)
            if n >= self.low:
                keep |= (size[:m] > n) & (offset[:m] + n <= size[:m])
            at = np.flatnonzero(keep)
            grams.append(at)
            codes.append(code[at])
        ids = self.table.find(np.concatenate(codes))
        # Per word: by n, then by position (a stable sort keeps the windows' order).
        whose = owner[np.concatenate(grams)]
        order = np.argsort(whose, kind="stable")
        whose, ids = whose[order], ids[order]
        known = ids >= 0
        whose, ids = whose[known], ids[known]
        bounds = np.searchsorted(whose, np.arange(len(words) + 1)) * array(ID_TYPE).itemsize
        data = ids.astype(np.int32).tobytes()
        return [data[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(),
                                          strict=True)]

    def _indices(self, text: str) -> NDArray[np.int64]:
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        indices = np.zeros(len(points), dtype=np.int64)
        inside = points < len(self.index)
        indices[inside] = self.index[points[inside]]
        return indices

    def _windows(self, text: str) -> list[NDArray[np.int64]]:
        """For n = 1..high, the code of every n-character window of ``text`` (-1 when a
        character is outside the alphabet)."""
        indices = self._indices(text)
        code = np.zeros(len(indices), dtype=np.int64)
        unknown = np.zeros(len(indices), dtype=bool)
        windows = []
        for n in range(1, self.high + 1):
            m = len(indices) - n + 1
            if m <= 0:
                break
            code = (code[:m] << self.bits) | indices[n - 1:]
            unknown = unknown[:m] | (indices[n - 1:] == 0)
            windows.append(np.where(unknown, -1, code))
        return windows
