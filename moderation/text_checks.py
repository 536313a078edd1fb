"""Checks on the comment's own text and fields: required fields, lengths, e-mail
syntax, shouting, gibberish and script."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from typing import Any

from .checks import FLAG, REJECT, Check, result
from .errors import ConfigError
from .normalize import fold_line_endings

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
_UPPER = string.ascii_uppercase.encode()
_LETTERS = string.ascii_letters.encode()
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_MIN_SCRIPT_LETTERS = 10  # below this a few foreign names or words say nothing


def script_of(char: str) -> str:
    """The Unicode script of a letter, from its character name (``Latin``, ``Han``, ...)."""
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return "Han" if first == "CJK" else first.title()


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
    # Only the other characters need a per-character test.
    data = text.encode("ascii", "ignore")
    upper = len(data) - len(data.translate(None, _UPPER))
    cased = len(data) - len(data.translate(None, _LETTERS))
    if len(data) != len(text):
        rest = "".join(_NON_ASCII.findall(text))
        rest_upper = sum(map(str.isupper, rest))  # map over a C method: no Python loop body
        upper += rest_upper
        cased += rest_upper + sum(map(str.islower, rest))
    return upper, cased


class TextChecks:
    """Checks that need nothing but the comment."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.required_fields = tuple(settings["required_fields"])
        self.min_length = int(settings["min_length"])
        self.limits = {"content": int(settings["max_length"]),
                       "author_name": int(settings["max_author_length"]),
                       "author_email": int(settings["max_email_length"]),
                       "author_url": int(settings["max_url_length"])}
        self.shouting_ratio = float(settings["shouting_ratio"])
        self.shouting_min_letters = int(settings["shouting_min_letters"])
        self.max_repeated = int(settings["max_repeated_chars"])
        self._repeat = re.compile(rf"(\S)\1{{{self.max_repeated - 1},}}")
        # A necessary condition for _repeat, several times cheaper to scan for:
        # "." and backreferences spelled out are the fastest the regex engine has.
        self._repeat_hint = re.compile("(.)" + r"\1" * (min(self.max_repeated, 10) - 1))
        self.scripts = _scripts(settings)

    def required(self, comment: Mapping[str, Any], _: str) -> Check:
        """Every required field is non-empty after trimming."""
        missing = [f for f in self.required_fields if not str(comment.get(f) or "").strip()]
        detail = f"missing: {', '.join(missing)}" if missing else "all required fields present"
        return result("required_fields", bool(missing), REJECT, "policy.missing_field", detail)

    def length(self, comment: Mapping[str, Any], _: str) -> Check:
        """Content and author fields within their limits."""
        content = _text(comment, "content")
        if not content:
            return result("length", True, REJECT, "policy.empty_content",
                          "content is empty after trimming")
        lengths = {field: len(_text(comment, field)) for field in self.limits}
        too_long = [f"{field} has {lengths[field]} of at most {limit} characters"
                    for field, limit in self.limits.items() if lengths[field] > limit]
        if too_long:
            return result("length", True, REJECT, "policy.too_long", "; ".join(too_long))
        if len(content) < self.min_length:
            return result("length", True, REJECT, "policy.too_short",
                          f"{len(content)} of at least {self.min_length} characters")
        return result("length", False, REJECT, "",
                      f"{len(content)} of at most {self.limits['content']} characters")

    def email(self, comment: Mapping[str, Any], _: str) -> Check:
        """The e-mail address, when given, is well formed."""
        email = _text(comment, "author_email")
        if not email:
            return result("email_syntax", False, REJECT, "", "no e-mail given")
        bad = len(email) > 254 or not _EMAIL.match(email)
        return result("email_syntax", bad, REJECT, "policy.invalid_email",
                      "e-mail address is not valid" if bad else "e-mail address is valid")

    def shouting(self, comment: Mapping[str, Any], _: str) -> Check:
        """Not mostly upper-case."""
        upper, cased = _cased(_text(comment, "content"))
        if cased < self.shouting_min_letters:
            return result("shouting", False, FLAG, "",
                          f"{cased} letters, too few to judge")
        share = upper / cased
        return result("shouting", share >= self.shouting_ratio, FLAG, "policy.shouting",
                      f"{share:.0%} upper-case letters; {self.shouting_ratio:.0%} or more is "
                      "shouting")

    def gibberish(self, comment: Mapping[str, Any], _: str) -> Check:
        """No long run of one repeated character."""
        content = _text(comment, "content")
        match = self._repeat.search(content) if self._repeat_hint.search(content) else None
        if match is None:
            return result("gibberish", False, FLAG, "",
                          f"no run of {self.max_repeated} or more repeated characters")
        return result("gibberish", True, FLAG, "policy.gibberish",
                      f"{len(match.group())} repeated {match.group(1)!r} characters")

    def script(self, comment: Mapping[str, Any], _: str) -> Check:
        """Content mostly written in one of the site's scripts."""
        if not self.scripts:
            return result("script", False, FLAG, "", "any script accepted")
        letters = [c for c in _text(comment, "content") if c.isalpha()]
        if len(letters) < _MIN_SCRIPT_LETTERS:
            return result("script", False, FLAG, "", f"{len(letters)} letters, too few to judge")
        counts: dict[str, int] = {}
        for letter in letters:
            counts[script_of(letter)] = counts.get(script_of(letter), 0) + 1
        expected = sum(n for s, n in counts.items() if s in self.scripts)
        main = max(counts, key=lambda s: counts[s])
        scripts = ", ".join(sorted(self.scripts))
        return result("script", expected * 2 < len(letters), FLAG, "policy.unexpected_script",
                      f"{expected / len(letters):.0%} of letters in {scripts}; mostly {main}")
