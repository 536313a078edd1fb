"""A string rewritten pass by pass that can remember, per character, the span of the
original text it came from (so evidence found after normalisation can be shown on
what the commenter typed)."""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["Rewrite"]

Replacement = Callable[[re.Match[str]], str] | str


class Rewrite:
    """A string being rewritten, optionally with per-character source spans.

    An ``exact`` rewrite ignores every hint and splices its span lists at every
    match: the reference that the shortcuts are tested against.
    """

    def __init__(self, text: str, track: bool, exact: bool = False) -> None:
        self.text = text
        self.exact = exact
        self.starts: list[int] | None = list(range(len(text))) if track else None
        self.ends: list[int] | None = list(range(1, len(text) + 1)) if track else None

    def sub(self, pattern: re.Pattern[str], repl: Replacement,
            hint: Callable[[str], object] | None = None) -> None:
        """Replace each match; new characters map to the whole matched span.

        A string ``repl`` is taken literally (it must hold no backslash).
        ``hint`` is a cheap test that is true of every text in which the pass
        could change something; when it is false the pass is skipped.
        """
        if hint is not None and not self.exact and not hint(self.text):
            return
        if self.starts is None:
            self.text = pattern.sub(repl, self.text)
            return
        if isinstance(repl, str):
            literal = repl
            repl = lambda m: literal  # noqa: E731
        if self.exact:
            self._splice_every_match(pattern, repl)
        else:
            self._splice_changes(pattern, repl)

    def _splice_changes(self, pattern: re.Pattern[str],
                        repl: Callable[[re.Match[str]], str]) -> None:
        # Most matches of most passes give back what they matched (a word with
        # no look-alike, a token with no leetspeak) and many replace a character
        # by one character: neither moves any span, so only length changes splice.
        assert self.starts is not None and self.ends is not None
        text, pieces, starts, ends = self.text, [], [], []
        copied = spans_copied = 0
        spliced = False
        for match in pattern.finditer(text):
            new = repl(match)
            a, b = match.span()
            if new == match.group():
                continue
            pieces += (text[copied:a], new)
            copied = b
            if len(new) != b - a:
                starts += self.starts[spans_copied:a]
                ends += self.ends[spans_copied:a]
                starts += [self.starts[a]] * len(new)
                ends += [self.ends[b - 1]] * len(new)
                spans_copied, spliced = b, True
        if not pieces:
            return
        pieces.append(text[copied:])
        if spliced:
            self.starts = starts + self.starts[spans_copied:]
            self.ends = ends + self.ends[spans_copied:]
        self.text = "".join(pieces)

    def _splice_every_match(self, pattern: re.Pattern[str],
                            repl: Callable[[re.Match[str]], str]) -> None:
        assert self.starts is not None and self.ends is not None
        pieces: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        last = 0
        for match in pattern.finditer(self.text):
            new = repl(match)
            a, b = match.span()
            pieces.append(self.text[last:a])
            starts += self.starts[last:a]
            ends += self.ends[last:a]
            if len(new) == b - a:  # one-for-one: keep each character's own span
                starts += self.starts[a:b]
                ends += self.ends[a:b]
            elif new:
                starts += [self.starts[a]] * len(new)
                ends += [self.ends[b - 1]] * len(new)
            pieces.append(new)
            last = b
        pieces.append(self.text[last:])
        starts += self.starts[last:]
        ends += self.ends[last:]
        self.text, self.starts, self.ends = "".join(pieces), starts, ends
