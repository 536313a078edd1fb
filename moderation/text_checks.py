"""Checks on the comment's own text and fields: required fields, lengths, e-mail
syntax, shouting, gibberish and script."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .checks import FLAG, REJECT, Check, result
from .errors import ConfigError
from .normalize import fold_line_endings

try:
    from ._textstats import stats as _native_figures
except ImportError:  # installed without compiling it: the Python forms serve
    _native_figures = None

__all__ = ["TextChecks", "script_of", "LANGUAGE_SCRIPTS"]

# Deliberately permissive (RFC 5322 allows far more than sites see), but it
# demands one @, a dotted domain and no spaces, like WordPress's is_email().
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
# ISO 639-1 codes to the scripts their text is written in.
LANGUAGE_SCRIPTS = {
    **dict.fromkeys(("en", "fr", "de", "es", "it", "pt", "nl", "pl", "sv", "da", "no", "fi",
                     "cs", "sk", "hu", "ro", "tr", "vi", "id", "ms", "hr", "sl", "et", "lv",
                     "lt", "ga", "ca", "eu", "sq", "az", "uz", "sw", "tl"), ("Latin",)),
    **dict.fromkeys(("ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg"), ("Cyrillic",)),
    **dict.fromkeys(("ar", "fa", "ur", "ps"), ("Arabic",)),
    **dict.fromkeys(("hi", "mr", "ne"), ("Devanagari",)),
    "el": ("Greek",), "he": ("Hebrew",), "yi": ("Hebrew",), "zh": ("Han",),
    "ja": ("Han", "Hiragana", "Katakana"), "ko": ("Hangul", "Han"), "th": ("Thai",),
    "hy": ("Armenian",), "ka": ("Georgian",), "bn": ("Bengali",), "ta": ("Tamil",),
    "te": ("Telugu",), "am": ("Ethiopic",),
}  # fmt: skip
_SCRIPTS = {s for scripts in LANGUAGE_SCRIPTS.values() for s in scripts}
# A-Z to U and a-z to l; every other byte stays itself, and none of those is
# U or l: one translation, then two counts, all in C.
_CASE_MARKS = bytes.maketrans(string.ascii_uppercase.encode() + string.ascii_lowercase.encode(),
                              b"U" * 26 + b"l" * 26)
_ASCII = bytes(range(128))
_MIN_SCRIPT_LETTERS = 10  # below this a few foreign names or words say nothing


def script_of(char: str) -> str:
    """The Unicode script of a letter, from its character name (``Latin``, ``Han``, ...)."""
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return "Han" if first == "CJK" else first.title()


_script_of = lru_cache(maxsize=4096)(script_of)  # comments share most of their letters


def _scripts(settings: Mapping[str, Any]) -> frozenset[str]:
    scripts: set[str] = set()
    for entry in settings["scripts"]:
        if entry.lower() in LANGUAGE_SCRIPTS:
            scripts.update(LANGUAGE_SCRIPTS[entry.lower()])
        elif entry.title() in _SCRIPTS:
            scripts.add(entry.title())
        else:
            raise ConfigError(f"scripts: unknown script or language {entry!r}; use ISO 639-1 "
                              f"codes or {', '.join(sorted(_SCRIPTS))}")
    return frozenset(scripts)


def _text(comment: Mapping[str, Any], name: str) -> str:
    return fold_line_endings(str(comment.get(name) or "")).strip()


def _cased(text: str) -> tuple[int, int]:
    """Upper-case letters and all cased letters in ``text``."""
    # In ASCII, isupper and islower mean A-Z and a-z: bytes count those in C.
    # Only the other characters need a per-character test. In UTF-8 every byte
    # of a non-ASCII character is 128 or more, so the ASCII letters are counted
    # on the whole encoding, and deleting the ASCII bytes leaves the other
    # characters, in order ("surrogatepass": a lone surrogate from JSON too).
    data = text.encode("utf-8", "surrogatepass")
    marks = data.translate(_CASE_MARKS)
    upper = marks.count(b"U")
    cased = upper + marks.count(b"l")
    if len(data) != len(text):
        rest = data.translate(None, _ASCII).decode("utf-8", "surrogatepass")
        rest_upper = sum(map(str.isupper, rest))  # map over a C method: no Python loop body
        upper += rest_upper
        cased += rest_upper + sum(map(str.islower, rest))
    return upper, cased


# The outcomes below depend on a few numbers, not on the text: each is worked
# out once and shared, sparing a formatted string and a lookup per comment.
@lru_cache(maxsize=4096)
def _length_ok(length: int, limit: int) -> Check:
    return result("length", False, REJECT, "", f"{length} of at most {limit} characters")


@lru_cache(maxsize=4096)
def _too_few_letters(cased: int) -> Check:
    return result("shouting", False, FLAG, "", f"{cased} letters, too few to judge")


# Keyed by the rounded percentage, not the two counts: a batch has thousands of
# distinct counts but at most a hundred and one percentages.
@lru_cache(maxsize=4096)
def _shouting(failed: bool, percent: int, ratio: float) -> Check:
    return result("shouting", failed, FLAG, "policy.shouting",
                  f"{percent}% upper-case letters; {ratio:.0%} or more is shouting")


@lru_cache(maxsize=4096)
def _gibberish(run: int, char: str) -> Check:
    return result("gibberish", True, FLAG, "policy.gibberish",
                  f"{run} repeated {char!r} characters")


@lru_cache(maxsize=4096)
def _email(raw: str) -> Check:
    # An author's e-mail comes back with each of their comments.
    email = fold_line_endings(raw).strip()
    if not email:
        return result("email_syntax", False, REJECT, "", "no e-mail given")
    bad = len(email) > 254 or not _EMAIL.match(email)
    return result("email_syntax", bad, REJECT, "policy.invalid_email",
                  "e-mail address is not valid" if bad else "e-mail address is valid")


class TextChecks:
    """Checks that need nothing but the comment."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.required_fields = tuple(settings["required_fields"])
        self.min_length = int(settings["min_length"])
        self.limits = {"content": int(settings["max_length"]),
                       "author_name": int(settings["max_author_length"]),
                       "author_email": int(settings["max_email_length"]),
                       "author_url": int(settings["max_url_length"])}
        self._author_limits = tuple((f, n) for f, n in self.limits.items() if f != "content")
        self._content_limit = self.limits["content"]
        self.shouting_ratio = float(settings["shouting_ratio"])
        self.shouting_min_letters = int(settings["shouting_min_letters"])
        self.max_repeated = int(settings["max_repeated_chars"])
        self._repeat = re.compile(rf"(\S)\1{{{self.max_repeated - 1},}}")
        # A necessary condition for _repeat, several times cheaper to scan for:
        # "." and backreferences spelled out are the fastest the regex engine has.
        run = min(self.max_repeated, 10)
        self._repeat_hint = re.compile("(.)" + r"\1" * (run - 1))
        # A necessary condition for that hint, on half of the text: of a run of
        # ``run`` characters, at least run // stride sit at multiples of ``stride``,
        # next to each other in content[::stride]. Five of them are rarely side by
        # side by chance (a third of the text and three let a quarter through).
        self._stride = max(1, run // 5)
        self._stride_hint = re.compile("(.)" + r"\1" * (run // self._stride - 1))
        self.scripts = _scripts(settings)
        self._all_present = result("required_fields", False, REJECT, "policy.missing_field",
                                   "all required fields present")
        self._empty = result("length", True, REJECT, "policy.empty_content",
                             "content is empty after trimming")
        self._no_run = result("gibberish", False, FLAG, "",
                              f"no run of {self.max_repeated} or more repeated characters")
        self._any_script = result("script", False, FLAG, "", "any script accepted")
        self._last: tuple[str | None, tuple[int, int, int, int, str]] = (None, (0, 0, 0, 0, ""))

    def fixed(self) -> list[Check]:
        """The outcomes this policy settles whatever the comment (a check it disables)."""
        return [] if self.scripts else [self._any_script]

    def required(self, comment: Mapping[str, Any], _: str) -> Check:
        """Every required field is non-empty after trimming."""
        for field in self.required_fields:
            value = comment.get(field)
            # A non-empty str that is not all white space (isspace() is what strip()
            # trims) is present, without copying it trimmed.
            if not value or type(value) is not str or value.isspace():
                break
        else:
            return self._all_present
        missing = [f for f in self.required_fields if not str(comment.get(f) or "").strip()]
        if not missing:
            return self._all_present
        return result("required_fields", True, REJECT, "policy.missing_field",
                      f"missing: {', '.join(missing)}")

    def figures(self, content: str) -> tuple[int, int, int, int, str]:
        """What the length, shouting and gibberish checks judge ``content`` by: its length
        with line endings folded and white space trimmed, its upper-case and cased
        letters, and the length and character of its first run of ``max_repeated`` or
        more of one non-space character (0 and "" without one). From one C scan where
        :mod:`moderation._textstats` is built; the three checks of a comment share it."""
        last = self._last
        if last[0] is content:
            return last[1]
        if _native_figures is not None:
            found = _native_figures(content, self.max_repeated)
        else:
            found = self.python_figures(content)
        self._last = (content, found)
        return found  # type: ignore[no-any-return]

    def python_figures(self, content: str) -> tuple[int, int, int, int, str]:
        """:meth:`figures` in Python (the fallback, and the C scan's reference)."""
        text = fold_line_endings(content).strip()
        upper, cased = _cased(text)
        match = self._repeat.search(text) if self.may_repeat(text) else None
        run = (len(match.group()), match.group(1)) if match else (0, "")
        return len(text), upper, cased, *run

    def length(self, comment: Mapping[str, Any], _: str) -> Check:
        """Content and author fields within their limits."""
        raw = str(comment.get("content") or "")
        length = self.figures(raw)[0]
        if not length:
            return self._empty
        # Folding line endings and trimming only shorten a value: one within its
        # limit as given is within it after them, and needs neither.
        if len(raw) > self._content_limit or self._author_over_limit(comment):
            too_long = [f"{field} has {n} of at most {limit} characters"
                        for field, limit in self.limits.items()
                        if len(raw if field == "content" else str(comment.get(field) or ""))
                        > limit
                        and (n := length if field == "content" else len(_text(comment, field)))
                        > limit]
            if too_long:
                return result("length", True, REJECT, "policy.too_long", "; ".join(too_long))
        if length < self.min_length:
            return result("length", True, REJECT, "policy.too_short",
                          f"{length} of at least {self.min_length} characters")
        return _length_ok(length, self._content_limit)

    def _author_over_limit(self, comment: Mapping[str, Any]) -> bool:
        """Whether an author field as given is longer than its limit (a loop, not a
        generator a comment)."""
        for field, limit in self._author_limits:
            value = comment.get(field)
            if value and len(value if type(value) is str else str(value)) > limit:
                return True
        return False

    def email(self, comment: Mapping[str, Any], _: str) -> Check:
        """The e-mail address, when given, is well formed."""
        return _email(str(comment.get("author_email") or ""))

    def shouting(self, comment: Mapping[str, Any], _: str) -> Check:
        """Not mostly upper-case."""
        upper, cased = self.figures(str(comment.get("content") or ""))[1:3]
        if cased < self.shouting_min_letters:
            return _too_few_letters(cased)
        share = upper / cased
        # f"{share:.0%}" formats share * 100 rounded half to even, which round() gives.
        return _shouting(share >= self.shouting_ratio, round(share * 100), self.shouting_ratio)

    def may_repeat(self, content: str) -> bool:
        """False only when ``content`` has no run of ``max_repeated`` equal characters."""
        return bool(self._stride_hint.search(content[::self._stride])
                    and self._repeat_hint.search(content))

    def gibberish(self, comment: Mapping[str, Any], _: str) -> Check:
        """No long run of one repeated character."""
        run, char = self.figures(str(comment.get("content") or ""))[3:]
        if not run:
            return self._no_run
        return _gibberish(run, char)

    def script(self, comment: Mapping[str, Any], _: str) -> Check:
        """Content mostly written in one of the site's scripts."""
        if not self.scripts:
            return self._any_script
        # Each distinct character is counted in C and looked up once; scripts
        # are met in the order of their first letter, as a walk over the
        # letters would meet them (max keeps the first of equal counts).
        letters = {c: n for c, n in Counter(_text(comment, "content")).items() if c.isalpha()}
        total = sum(letters.values())
        if total < _MIN_SCRIPT_LETTERS:
            return result("script", False, FLAG, "", f"{total} letters, too few to judge")
        counts: dict[str, int] = {}
        for letter, n in letters.items():
            script = _script_of(letter)
            counts[script] = counts.get(script, 0) + n
        expected = sum(n for s, n in counts.items() if s in self.scripts)
        main = max(counts, key=lambda s: counts[s])
        scripts = ", ".join(sorted(self.scripts))
        return result("script", expected * 2 < total, FLAG, "policy.unexpected_script",
                      f"{expected / total:.0%} of letters in {scripts}; mostly {main}")
