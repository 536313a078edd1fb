"""Text normalisation shared by the model's features and the word-list checks.

Look-alike characters, invisible characters, leetspeak, spacing, links, e-mail
addresses and phone numbers are undone or replaced by placeholders, and white space
is folded (:mod:`moderation.normalize_passes` has each pass). Every pass can track
where each output character came from in the original text, so that evidence found
in the normalised text can be shown on the text the commenter actually wrote.

The passes run in C where :mod:`moderation._normalize` is built (``pip install``
compiles it): the same results as the Python passes, which stay the fallback and the
reference the tests compare it with, at a small fraction of their cost. Only the NFKC
pass, which few comments need, always runs in Python.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import normalize_passes as passes
from .rewrite import Rewrite

try:
    from ._normalize import Normalizer
except ImportError:  # installed without compiling it: the Python passes serve
    Normalizer = None

__all__ = ["Normalized", "normalize", "normalize_many", "normalize_field", "native_normalizer",
           "normalize_with_offsets", "original_word_spans", "original_word_span_bytes",
           "fold_line_endings", "count_links", "link_hosts", "NATIVE"]

log = logging.getLogger(__name__)

# The literal first, the word-boundary test on its left after it (as a look-behind
# over the literal): the regex engine then scans for "_url_" instead of trying a
# look-behind at every position, 20 times faster on a comment with a link.
_LINK_PLACEHOLDER = re.compile(r"_url_(?!\w)(?<!\w_url_)")


def _native() -> Any:
    """The C passes, given the data the Python passes use, or ``None``."""
    if Normalizer is None:
        log.info("moderation._normalize is not built; normalising with the Python passes")
        return None
    return Normalizer(passes.INVISIBLE_RANGES, passes.HOMOGLYPHS, passes.LEET_CHARS,
                      passes.LEET, passes.TLD_NAMES)


NATIVE = _native()


def fold_line_endings(text: str) -> str:
    """CRLF and lone CR become LF, so lengths count one character per line break."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@dataclass(frozen=True)
class Normalized:
    """Normalised text plus, per character, the original span it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised slice [start, end) back to a slice of the original."""
        return self.starts[start], self.ends[end - 1]


def _needs_nfkc(text: str) -> bool:
    return not text.isascii() and not unicodedata.is_normalized("NFKC", text)


def _after_nfkc(text: str) -> str:
    """``text`` after the NFKC pass (the C passes start after it)."""
    if not _needs_nfkc(text):
        return text
    buf = Rewrite(text, track=False)
    passes.nfkc(buf)
    return buf.text


def _tracking(text: str) -> tuple[str, array[int] | None, array[int] | None]:
    """``text`` after the NFKC pass, with each character's span of ``text`` (``None``
    when the pass changed nothing: each character is then its own)."""
    if not _needs_nfkc(text):
        return text, None, None
    buf = Rewrite(text, track=True)
    passes.nfkc(buf)
    assert buf.starts is not None and buf.ends is not None
    return buf.text, array("q", buf.starts), array("q", buf.ends)


def _tracked(text: str) -> tuple[str, memoryview, memoryview]:
    """The C passes with offsets: the normalised text, and each character's span."""
    out, starts, ends = NATIVE.tracked(*_tracking(text))
    return out, memoryview(starts).cast("q"), memoryview(ends).cast("q")


def normalize(text: str) -> str:
    """Normalise ``text`` for features and word-list matching."""
    if NATIVE is None:
        return passes.run(text, track=False).text
    return NATIVE.normalize(_after_nfkc(text))


def normalize_many(texts: list[str]) -> list[str]:
    """:func:`normalize` of each text (one C call for all of them where it is built)."""
    if NATIVE is None:
        return [passes.run(t, track=False).text for t in texts]
    return NATIVE.normalize_many(texts, _after_nfkc)  # type: ignore[no-any-return]


def native_normalizer() -> tuple[Any, Callable[[str], str]] | None:
    """The C passes and the pass a non-ASCII text takes before them (NFKC), for C code
    that normalises a batch itself (moderation._ngrams); ``None`` without the C passes."""
    return None if NATIVE is None else (NATIVE, _after_nfkc)


# Author names and user agents come back comment after comment, and several checks
# of one comment ask for the same name: each value is normalised once.
normalize_field = functools.lru_cache(maxsize=4096)(normalize)


def normalize_with_offsets(text: str) -> Normalized:
    """Normalise ``text`` and keep, per character, its span in ``text``."""
    if NATIVE is None:
        buf = passes.run(text, track=True)
        assert buf.starts is not None and buf.ends is not None
        return Normalized(buf.text, tuple(buf.starts), tuple(buf.ends))
    out, starts, ends = _tracked(text)
    return Normalized(out, tuple(starts), tuple(ends))


def original_word_spans(text: str, words: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Per word of ``normalize(text)`` (``words``: their spans in it), the span of ``text``
    it came from: what :meth:`Normalized.original_span` gives, for less work."""
    if NATIVE is None:
        return passes.original_word_spans(text, words)
    _, starts, ends = _tracked(text)
    return [(starts[a], ends[b - 1]) for a, b in words]


def original_word_span_bytes(text: str) -> bytes:
    """:func:`original_word_spans` of every word of ``normalize(text)``, as int64 (start,
    end) pairs (the C passes only: check :data:`NATIVE` first)."""
    assert NATIVE is not None
    return NATIVE.word_spans(*_tracking(text))  # type: ignore[no-any-return]


def link_hosts(text: str) -> list[str]:
    """The host name of each link in ``text``: the links :func:`normalize` counts."""
    if NATIVE is None:
        return passes.link_hosts(text)
    return NATIVE.link_hosts(_after_nfkc(text))  # type: ignore[no-any-return]


def count_links(normalised: str) -> int:
    """Links found by :func:`normalize` (each became a ``_url_`` placeholder)."""
    return len(_LINK_PLACEHOLDER.findall(normalised)) if "_url_" in normalised else 0
