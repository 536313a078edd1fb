"""Adversarial copies of test sets: the disguises abusers use to dodge filters.

Each word of a comment is disguised with some probability by one of six
tricks (leetspeak, look-alike letters, zero-width characters, spaced letters,
repeated letters, mixed case). The random generator is seeded from the text,
so the same comment always gets the same disguise and benchmarks repeat.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable

__all__ = ["obfuscate", "TRICKS"]

_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7"}
_LOOKALIKE = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440",
              "x": "\u0445", "y": "\u0443", "i": "\u0456"}  # Cyrillic
_ZERO_WIDTH = "\u200b"
_WORD = re.compile(r"[A-Za-z]{3,}")


def _leet(word: str, rng: random.Random) -> str:
    # Keep the first letter: "1d10t" is what people write, "1d1o7" is not.
    return word[0] + "".join(_LEET.get(c.lower(), c) for c in word[1:])


def _lookalike(word: str, rng: random.Random) -> str:
    return "".join(_LOOKALIKE.get(c, c) if rng.random() < 0.6 else c for c in word)


def _zero_width(word: str, rng: random.Random) -> str:
    cut = rng.randrange(1, len(word))
    return word[:cut] + _ZERO_WIDTH + word[cut:]


def _spaced(word: str, rng: random.Random) -> str:
    return rng.choice((" ", ".", "-")).join(word)


def _repeated(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    return word[:i + 1] + word[i] * rng.randrange(3, 6) + word[i + 1:]


def _mixed_case(word: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)


TRICKS: dict[str, Callable[[str, random.Random], str]] = {
    "leetspeak": _leet, "homoglyphs": _lookalike, "zero_width": _zero_width,
    "spaced": _spaced, "repeated": _repeated, "mixed_case": _mixed_case,
}


def obfuscate(text: str, share: float = 0.5) -> str:
    """A disguised copy of ``text``: about ``share`` of its words get one trick each."""
    rng = random.Random(hashlib.sha256(text.encode("utf-8")).digest())
    tricks = list(TRICKS.values())

    def disguise(m: re.Match[str]) -> str:
        if rng.random() >= share:
            return m.group()
        return rng.choice(tricks)(m.group(), rng)

    return _WORD.sub(disguise, text)
