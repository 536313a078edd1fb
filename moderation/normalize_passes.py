"""Normalisation's passes as regular expressions: the reference, and the fallback where
the C extension :mod:`moderation._normalize` is not built.

Spammers and abusers dodge filters with look-alike characters, invisible
characters, leetspeak and spacing. Every pass here undoes one such trick, and
every pass can track where each output character came from in the original
text, so that evidence found in the normalised text can be shown on the text
the commenter actually wrote. :mod:`moderation.normalize` is the public side.

Each pass is skipped when a cheap test shows it cannot match; an ``exact`` run
(:func:`run` with ``exact=True``) takes every pass in full and is what the
shortcuts, and the C passes, are tested against.
"""

from __future__ import annotations

import re
import unicodedata

from .rewrite import Rewrite

__all__ = ["INVISIBLE_RANGES", "HOMOGLYPHS", "LEET", "LEET_CHARS", "TLD_NAMES", "URL", "SPACE",
           "nfkc", "clean", "rewrite", "run", "host", "link_hosts",
           "original_word_spans"]

# Zero-width, bidi, variation selectors, fillers and C0/C1 controls (tab, newline
# and carriage return are kept: they separate words), as inclusive ranges.
INVISIBLE_RANGES = (
    (0x0000, 0x0008), (0x000B, 0x000C), (0x000E, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD),
    (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
)
_INVISIBLE = re.compile(
    "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in INVISIBLE_RANGES) + "]+")

# Cyrillic and Greek letters that look like Latin ones (lower case, since the
# text is lower-cased first; several are look-alikes only in upper case).
HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɡ": "g",
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "η": "n",
}  # fmt: skip
_HOMOGLYPH_TABLE = str.maketrans(HOMOGLYPHS)
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
         "!": "i", "|": "l", "€": "e"}  # fmt: skip
_LEET_TABLE = str.maketrans(LEET)
# What leetspeak tokens are made of besides a-z: [0-9@$!|€] in the patterns below.
LEET_CHARS = "0123456789@$!|€"
_L = "[" + re.escape(LEET_CHARS) + "]"
_TOKEN = "[a-z" + re.escape(LEET_CHARS) + "]"

_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[a-z]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}")
# The top-level domains a link without a scheme must end in.
TLD_NAMES = ("com", "net", "org", "info", "biz", "io", "co", "ru", "shop", "xyz", "top", "online",
              "site", "store", "club", "me", "uk", "de", "fr", "ly", "gl", "cc", "tk", "ml", "ga",
              "cf", "gq", "app", "dev", "pro", "vip", "win", "bet", "live", "link", "click",
              "buzz", "fun", "icu", "cn", "pw", "ws", "tv", "eu")  # fmt: skip
_TLDS = "(?:" + "|".join(TLD_NAMES) + ")"
URL = re.compile(
    r"(?:(?:https?|hxxps?)://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]"
    rf"|\b(?:[a-z0-9-]+\.)+{_TLDS}\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]])?"
)
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{6,}\d(?!\w)")
_DATE_LIKE = re.compile(r"\d{4}\s*[-/.]\s*\d{1,4}(?:\s*[-/.]\s*\d{1,2})?")
_SPACED = re.compile(
    r"(?<!\w)[a-z](?: [a-z]){3,}(?!\w)|(?<!\w)[a-z](?:[.\-_*·][a-z]){2,}[.\-_*·]?(?!\w)"
)
_LEET_TOKEN = re.compile(rf"{_TOKEN}*[a-z]{_TOKEN}*")
# The tokens _unleet can change, found faster. A match of either pattern is a whole
# run of [a-z0-9@$!|€]: _LEET_TOKEN's hold a letter, these a leet character, and
# _LEET_INSIDE needs both, so the runs left out here come back unchanged there.
# Most words hold no leet character: a callback for each of them is most of the pass.
_LEET_RUN = re.compile(rf"{_TOKEN}*{_L}{_TOKEN}*")
_LEET_INSIDE = re.compile(rf"[a-z]{_L}+[a-z]|^{_L}+[a-z]+{_L}")
_REPEAT = re.compile(r"([^\W\d_]|[!?.*])\1{2,}")
# The same runs found faster: any character's run of three or more, kept as it is
# unless the character is one _REPEAT shortens. Runs are maximal and the scan
# resumes after each, so both see the same runs (the exact pass checks it).
_RUN = re.compile(r"(.)\1{2,}")
_SHORTENED = re.compile(r"[^\W\d_]|[!?.*]")
SPACE = re.compile(r"\s+")
_NON_SPACE = re.compile(r"\S+")
# The runs SPACE's pass would change: a lone plain space is replaced by itself,
# so the tracked pass skips it (about fifty list splices a comment fewer).
_SPACE_CHANGES = re.compile(r"\s\s+|[^\S ]")
_EDGE_SPACE = re.compile(r"^ | $")
# Cheap tests that prove a step would change nothing, so most comments skip
# the steps that call back into Python once per word.
_LEET_CHAR = re.compile(_L)
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
_LEET_HINT = re.compile(rf"{_L}(?:(?<=[a-z].){_L}*[a-z]|[a-z]+{_L})")
_TRIPLE = re.compile(r"(.)\1\1")


def nfkc(buf: Rewrite) -> None:
    """NFKC, one base character with its combining marks at a time (so that every
    output character can be traced to its cluster)."""
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


def host(url: str) -> str:
    url = re.sub(r"^(?:(?:https?|hxxps?)://)?(?:www\.)?", "", url)
    return re.split(r"[/?#:]", url, maxsplit=1)[0].strip(".")


def _placeholder_url(m: re.Match[str]) -> str:
    domain = host(m.group())
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


def clean(text: str, track: bool, exact: bool = False) -> Rewrite:
    """The passes up to e-mail addresses (what the link search runs on)."""
    buf = Rewrite(text, track, exact)
    nfkc(buf)
    buf.sub(_INVISIBLE, "", _maybe_invisible)
    _lower(buf)
    _fold_homoglyphs(buf)
    if "@" in buf.text:
        buf.sub(_EMAIL, " _email_ ", _EMAIL_HINT.search)
    return buf


def rewrite(text: str, track: bool, exact: bool = False) -> Rewrite:
    """Every pass but the folding of white space."""
    buf = clean(text, track, exact)
    buf.sub(URL, _placeholder_url, _maybe_url)
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


def run(text: str, track: bool, exact: bool = False) -> Rewrite:
    """Every pass, white space folded last."""
    buf = rewrite(text, track, exact)
    if buf.starts is None and not exact:
        # str.split and the \s of SPACE agree on every white-space character.
        buf.text = " ".join(buf.text.split())
        return buf
    buf.sub(SPACE if exact else _SPACE_CHANGES, " ")
    # Trim without losing the offset bookkeeping.
    buf.sub(_EDGE_SPACE, "")
    return buf


def link_hosts(text: str) -> list[str]:
    """The host name of each link in ``text``: the links :func:`run` replaces."""
    cleaned = clean(text, track=False).text
    if not _maybe_url(cleaned):
        return []
    return [host(m.group()) for m in URL.finditer(cleaned)]


def original_word_spans(text: str, words: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Per word of the normalised ``text`` (``words``: their spans in it), the span of
    ``text`` it came from."""
    buf = rewrite(text, track=True)
    assert buf.starts is not None and buf.ends is not None
    # Folding white space replaces white space only: every other character keeps
    # its place among them and its span, so the two passes that would track the
    # folding are not needed. Unless folding shortens the text, each word already
    # lies where it will (one character between words, none at either end).
    if len(buf.text) != (words[-1][1] if words else 0):
        words = [m.span() for m in _NON_SPACE.finditer(buf.text)]
    starts, ends = buf.starts, buf.ends
    return [(starts[a], ends[b - 1]) for a, b in words]
