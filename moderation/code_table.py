"""Integer codes of n-grams to vocabulary ids: a sorted table searched in numpy.

The n-gram id finders encode an n-gram exactly as an int64 (its characters' or
tokens' numbers); one search of this table then finds the ids of a whole batch.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["CodeTable"]


class CodeTable:
    """The vocabulary id of each code, -1 for a code not in the vocabulary."""

    def __init__(self, codes: NDArray[np.int64], ids: NDArray[np.int64]) -> None:
        order = np.argsort(codes)
        self.codes, self.ids = codes[order], ids[order]

    def find(self, codes: NDArray[np.int64]) -> NDArray[np.int64]:
        """The id of each of ``codes``."""
        if not len(self.codes):
            return np.full(len(codes), -1, dtype=np.int64)
        # Searched in sorted order, each search starts where the last one ended.
        order = np.argsort(codes)
        wanted = codes[order]
        at = np.minimum(np.searchsorted(self.codes, wanted), len(self.codes) - 1)
        found = np.empty(len(codes), dtype=np.int64)
        found[order] = np.where(self.codes[at] == wanted, self.ids[at], -1)
        return found
