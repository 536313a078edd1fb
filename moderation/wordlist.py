"""Word and phrase lists matched on normalised text, on word boundaries."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .normalize import normalize

__all__ = ["WordList"]

_SPACES = re.compile(r"\s+")


class WordList:
    """A list of words or phrases compiled once into one pattern.

    Entries are normalised like the text they are matched against, so one
    entry "viagra" also catches "v1agra", "v i a g r a" and Cyrillic look-alikes;
    word boundaries keep "Scunthorpe" and "class" clear of short entries.
    """

    def __init__(self, entries: Iterable[str]) -> None:
        normalised = sorted({normalize(e) for e in entries if normalize(e)}, key=len,
                            reverse=True)
        self.entries = tuple(normalised)
        alternatives = "|".join(r"\s+".join(map(re.escape, e.split())) for e in normalised)
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if normalised else None

    def find(self, normalised_text: str) -> list[str]:
        """The distinct entries present in ``normalised_text``, in order of appearance."""
        if self._pattern is None:
            return []
        found: dict[str, None] = {}
        for match in self._pattern.finditer(normalised_text):
            found[_SPACES.sub(" ", match.group())] = None
        return list(found)
