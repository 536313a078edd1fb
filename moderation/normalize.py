"""Text normalisation shared by the model's features and the word-list checks.

Spammers and abusers dodge filters with look-alike characters, invisible
characters, leetspeak and spacing. Every step here undoes one such trick, and
every step can track where each output character came from in the original
text, so that evidence found in the normalised text can be shown on the text
the commenter actually wrote.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from .rewrite import Rewrite

__all__ = ["Normalized", "normalize", "normalize_field", "normalize_with_offsets",
           "original_word_spans", "fold_line_endings", "count_links", "link_hosts"]

# Zero-width, bidi, variation selectors, fillers and C0/C1 controls (tab and
# newline are kept: they separate words).
_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u034f\u061c"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8]+"
)

# Cyrillic and Greek letters that look like Latin ones (lower case, since the
# text is lower-cased first; several are look-alikes only in upper case).
_HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɡ": "g",
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "η": "n",
}  # fmt: skip
_HOMOGLYPH_TABLE = str.maketrans(_HOMOGLYPHS)
_LEET_TABLE = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                             "@": "a", "$": "s", "!": "i", "|": "l", "€": "e"})  # fmt: skip

_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[a-z]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}")
_TLDS = ("(?:com|net|org|info|biz|io|co|ru|shop|xyz|top|online|site|store|club|me|uk|de|fr|ly"
         "|gl|cc|tk|ml|ga|cf|gq|app|dev|pro|vip|win|bet|live|link|click|buzz|fun|icu|cn|pw|ws"
         "|tv|eu)")
_URL = re.compile(
    r"(?:(?:https?|hxxps?)://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]"
    rf"|\b(?:[a-z0-9-]+\.)+{_TLDS}\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]])?"
)
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{6,}\d(?!\w)")
_DATE_LIKE = re.compile(r"\d{4}\s*[-/.]\s*\d{1,4}(?:\s*[-/.]\s*\d{1,2})?")
_SPACED = re.compile(
    r"(?<!\w)[a-z](?: [a-z]){3,}(?!\w)|(?<!\w)[a-z](?:[.\-_*·][a-z]){2,}[.\-_*·]?(?!\w)"
)
_LEET_TOKEN = re.compile(r"[a-z0-9@$!|€]*[a-z][a-z0-9@$!|€]*")
# The tokens _unleet can change, found faster. A match of either pattern is a whole
# run of [a-z0-9@$!|€]: _LEET_TOKEN's hold a letter, these a leet character, and
# _LEET_INSIDE needs both, so the runs left out here come back unchanged there.
# Most words hold no leet character: a callback for each of them is most of the pass.
_LEET_RUN = re.compile(r"[a-z0-9@$!|€]*[0-9@$!|€][a-z0-9@$!|€]*")
_LEET_INSIDE = re.compile(r"[a-z][0-9@$!|€]+[a-z]|^[0-9@$!|€]+[a-z]+[0-9@$!|€]")
_REPEAT = re.compile(r"([^\W\d_]|[!?.*])\1{2,}")
# The same runs found faster: any character's run of three or more, kept as it is
# unless the character is one _REPEAT shortens. Runs are maximal and the scan
# resumes after each, so both see the same runs (the exact pass checks it).
_RUN = re.compile(r"(.)\1{2,}")
_SHORTENED = re.compile(r"[^\W\d_]|[!?.*]")
_SPACE = re.compile(r"\s+")
_NON_SPACE = re.compile(r"\S+")
# The runs _SPACE's pass would change: a lone plain space is replaced by itself,
# so the tracked pass skips it (about fifty list splices a comment fewer).
_SPACE_CHANGES = re.compile(r"\s\s+|[^\S ]")
_EDGE_SPACE = re.compile(r"^ | $")
# Cheap tests that prove a step would change nothing, so most comments skip
# the steps that call back into Python once per word.
_LEET_CHAR = re.compile(r"[0-9@$!|€]")
_DIGIT = re.compile(r"\d")
# Necessary conditions, one per pass: each is true of any text the pass's
# pattern can match (or, for leetspeak, any text a token of which would change),
# and each scans a typical comment several times faster than the pattern does.
_EMAIL_HINT = re.compile(r"@[\w-]+\.")
_TLD_HINT = re.compile(rf"\.{_TLDS}\b")
_PHONE_HINT = re.compile(r"\d[\d\s().-]{6,}\d")
# Two searches, not one alternation: each then starts from a literal or a class,
# which the regex engine scans for quickly (1.7 us against 2.6 on a comment).
_SPACED_BY_SPACES = re.compile(r" [a-z] [a-z] ")
_SPACED_BY_MARKS = re.compile(r"[.\-_*·][a-z][.\-_*·]")
# _LEET_INSIDE found anywhere, not only at a token's start: "[a-z]L+[a-z]" is
# written from its first leet character on, so the scan starts at rare characters.
_LEET_HINT = re.compile(r"[0-9@$!|€](?:(?<=[a-z].)[0-9@$!|€]*[a-z]|[a-z]+[0-9@$!|€])")
_TRIPLE = re.compile(r"(.)\1\1")
# The literal first, the word-boundary test on its left after it (as a look-behind
# over the literal): the regex engine then scans for "_url_" instead of trying a
# look-behind at every position, 20 times faster on a comment with a link.
_LINK_PLACEHOLDER = re.compile(r"_url_(?!\w)(?<!\w_url_)")


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


def _nfkc(buf: Rewrite) -> None:
    # Normalise one base character with its combining marks at a time, so
    # that every output character can be traced to its cluster.
    if unicodedata.is_normalized("NFKC", buf.text):
        return
    buf.sub(re.compile(r".[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*",
                       re.S), lambda m: unicodedata.normalize("NFKC", m.group()))


def _lower(buf: Rewrite) -> None:
    lowered = buf.text.lower()
    if len(lowered) != len(buf.text):  # e.g. "İ" lowers to two characters
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in buf.text)
    buf.text = lowered


def _fold_homoglyphs(buf: Rewrite) -> None:
    if not buf.exact and buf.text.isascii():
        return  # every look-alike is outside ASCII
    if buf.text.translate(_HOMOGLYPH_TABLE) == buf.text:
        return  # no look-alike at all: every word would fold to itself
    letters = [c for c in buf.text if c.isalpha()]
    mostly_latin = sum(c.isascii() for c in letters) * 2 > len(letters)

    def fold(m: re.Match[str]) -> str:
        word = m.group()
        folded = word.translate(_HOMOGLYPH_TABLE)
        if folded == word:
            return word
        # Mixed-script words are disguises; an all-look-alike word is one too
        # when the text around it is Latin. A Russian sentence stays Russian.
        if _LATIN.search(word) or (mostly_latin and folded.isascii()):
            return folded
        return word

    buf.sub(_WORD, fold)


def _host(url: str) -> str:
    url = re.sub(r"^(?:(?:https?|hxxps?)://)?(?:www\.)?", "", url)
    return re.split(r"[/?#:]", url, maxsplit=1)[0].strip(".")


def _placeholder_url(m: re.Match[str]) -> str:
    domain = _host(m.group())
    token = re.sub(r"[^a-z0-9]+", "_", domain).strip("_")
    return f" _url_ dom_{token} " if token else " _url_ "


def _placeholder_phone(m: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in m.group())
    if digits < 8 or digits > 15 or _DATE_LIKE.fullmatch(m.group().strip()):
        return m.group()
    return " _phone_ "


def _unspace(m: re.Match[str]) -> str:
    return re.sub(r"[ .\-_*·]", "", m.group())


def _unleet(m: re.Match[str]) -> str:
    token = m.group()
    return token.translate(_LEET_TABLE) if _LEET_INSIDE.search(token) else token


def _maybe_invisible(text: str) -> bool:
    # In ASCII only the control characters can be invisible.
    return not (text.isascii() and text.isprintable())


def _shorten_run(m: re.Match[str]) -> str:
    char = m.group(1)
    return char * 2 if _SHORTENED.match(char) else m.group()


def _maybe_spaced(text: str) -> bool:
    return (_SPACED_BY_SPACES.search(text) is not None
            or _SPACED_BY_MARKS.search(text) is not None)


def _maybe_url(text: str) -> bool:
    return "://" in text or "www." in text or _TLD_HINT.search(text) is not None


def _clean(text: str, track: bool, exact: bool = False) -> Rewrite:
    buf = Rewrite(text, track, exact)
    _nfkc(buf)
    buf.sub(_INVISIBLE, "", _maybe_invisible)
    _lower(buf)
    _fold_homoglyphs(buf)
    if "@" in buf.text:
        buf.sub(_EMAIL, " _email_ ", _EMAIL_HINT.search)
    return buf


def _rewrite(text: str, track: bool, exact: bool = False) -> Rewrite:
    """Every pass but the folding of white space."""
    buf = _clean(text, track, exact)
    buf.sub(_URL, _placeholder_url, _maybe_url)
    if _DIGIT.search(buf.text):
        buf.sub(_PHONE, _placeholder_phone, _PHONE_HINT.search)
    buf.sub(_SPACED, _unspace, _maybe_spaced)
    if _LEET_CHAR.search(buf.text):
        buf.sub(_LEET_TOKEN if buf.exact else _LEET_RUN, _unleet, _LEET_HINT.search)
    if buf.exact:
        buf.sub(_REPEAT, lambda m: m.group(1) * 2)
    else:
        buf.sub(_RUN, _shorten_run, _TRIPLE.search)
    return buf


def _run(text: str, track: bool, exact: bool = False) -> Rewrite:
    buf = _rewrite(text, track, exact)
    if buf.starts is None and not exact:
        # str.split and the \s of _SPACE agree on every white-space character.
        buf.text = " ".join(buf.text.split())
        return buf
    buf.sub(_SPACE if exact else _SPACE_CHANGES, " ")
    # Trim without losing the offset bookkeeping.
    buf.sub(_EDGE_SPACE, "")
    return buf


def normalize(text: str) -> str:
    """Normalise ``text`` for features and word-list matching."""
    return _run(text, track=False).text


# Author names and user agents come back comment after comment, and several checks
# of one comment ask for the same name: each value is normalised once.
normalize_field = functools.lru_cache(maxsize=4096)(normalize)


def normalize_with_offsets(text: str) -> Normalized:
    """Normalise ``text`` and keep, per character, its span in ``text``."""
    buf = _run(text, track=True)
    assert buf.starts is not None and buf.ends is not None
    return Normalized(buf.text, tuple(buf.starts), tuple(buf.ends))


def original_word_spans(text: str, words: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Per word of ``normalize(text)`` (``words``: their spans in it), the span of ``text``
    it came from: what :meth:`Normalized.original_span` gives, for less work."""
    buf = _rewrite(text, track=True)
    assert buf.starts is not None and buf.ends is not None
    # Folding white space replaces white space only: every other character keeps
    # its place among them and its span, so the two passes that would track the
    # folding are not needed. Unless folding shortens the text, each word already
    # lies where it will (one character between words, none at either end).
    if len(buf.text) != (words[-1][1] if words else 0):
        words = [m.span() for m in _NON_SPACE.finditer(buf.text)]
    starts, ends = buf.starts, buf.ends
    return [(starts[a], ends[b - 1]) for a, b in words]


def link_hosts(text: str) -> list[str]:
    """The host name of each link in ``text``: the links :func:`normalize` counts."""
    cleaned = _clean(text, track=False).text
    if not _maybe_url(cleaned):
        return []
    return [_host(m.group()) for m in _URL.finditer(cleaned)]


def count_links(normalised: str) -> int:
    """Links found by :func:`normalize` (each became a ``_url_`` placeholder)."""
    return len(_LINK_PLACEHOLDER.findall(normalised)) if "_url_" in normalised else 0
