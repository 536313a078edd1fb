"""The C passes (moderation._normalize) give what the Python passes give.

Each C pass reproduces one regular expression of :mod:`moderation.normalize_passes` by
hand, so it is checked against the exact Python run on every text we have and on
random texts glued from pieces that wake each pass and its edge cases: link schemes
and bare domains, dotted labels, e-mail chains, phone numbers and dates, spaced-out
and leet words, look-alikes, final sigma, characters that lower to two, invisible
characters and every kind of white space.
"""

import random
import re
import unicodedata

import pytest

from moderation import normalize as norm
from moderation import normalize_passes as passes
from tests.conftest import DATA_DIR
from tests.test_normalize_exact import _PIECES, _training_texts

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"{DATA_DIR} not present")

_EDGES = [
    "h", "t", "p", "s", "w", "x", ":", "/", "//", "http", "https", "hxxp", "://", "www", ".",
    "..", "co", "com", "uk", "c", "o", "m", "-", "_", "a.", ".a", "ab", "a-b", "com1", "?", "#",
    "<", ">", '"', "'", ",", ";", ")", "]", "(", "[", "!", " ", "\t", "\u00a0", "@", "@@", "+",
    "bob", "x@y", "@a.bc", ".cc", "a1", "1a", "0", "9", "12", "1234", "2024", "(555)",
    "555-0142", "+44", "\u0663", "\u0661\u0662\u0663\u0664", "\u00b2", "\u00bd", "\u03a3",
    "\u0391\u03a3", "\u03c3", "\u03c2", "\u0130", "I", "\u01c5", "\u200b", "\x07", "\x0b", "\x1c",
    "\x85", "\u2028", "\u00b7", "*", "a b", " a", "b ", "a.b", "a-", "_a", "a_", "4", "$", "|",
    "\u20ac", "\u20ac4", "3", "7", "aaa", "???", "**", "!!", "\u00e9\u00e9\u00e9", "___", "---",
    "111", "\u0430", "\u043e", "\u0435", "\u0440", "\u0441", "\u0445", "\u03b1", "\u03bf",
    "\u0261", "\u0420", "\u041f\u0440\u0438\u0432\u0435\u0442", "\u0436", "\u65e5", "\uff57",
    "\uff0e", "\uff43\uff4f\uff4d", "\U0001d400", "\U0001f600", "\ud800", "e\u0301", "\u0301",
    "\ufb01", "shop", "site", "io", ".io", ".ru", "evil", "x.co", "bit.ly/", "t.co/x", "mail.",
    "@x", "a@", "f u c k", "c.a.s.i.n.o", "s-h-i-t", "b_i_t_c_h", "v1agra", "1d10t", "4ss",
    "sh!t", "p0rn", "a1b", "1ab2", "12a3", "@ss", "$h1t", "|_", "\u216b", "\u4e09", "\n", "\r\n",
    "  ", "ab.cd.ef",
]  # fmt: skip


def _assert_native_matches(text: str) -> None:
    exact = passes.run(text, track=False, exact=True)
    assert norm.normalize(text) == exact.text, repr(text)
    tracked, reference = norm.normalize_with_offsets(text), passes.run(text, True, exact=True)
    assert (tracked.text, tracked.starts, tracked.ends) == (
        reference.text, tuple(reference.starts), tuple(reference.ends)), repr(text)
    words = [m.span() for m in re.finditer(r"\S+", tracked.text)]
    assert norm.original_word_spans(text, words) == passes.original_word_spans(
        text, words), repr(text)
    cleaned = passes.clean(text, track=False, exact=True).text
    assert norm.link_hosts(text) == [passes.host(m.group())
                                     for m in passes.URL.finditer(cleaned)], repr(text)


def test_the_c_passes_are_built():
    # pip install compiles moderation/csrc/normalize.c (gcc and the Python headers are
    # needed); without it normalisation takes the Python passes, several times slower.
    assert norm.NATIVE is not None


def _assert_batch_matches(texts: list[str]) -> None:
    # A batch normalises its ASCII texts first, with the GIL released, then the others:
    # each text must still come back where it was, as normalize() gives it alone.
    assert norm.normalize_many(texts) == [norm.normalize(t) for t in texts]


@pytest.mark.parametrize("seed", range(4))
def test_random_texts_normalise_as_the_python_passes_do(seed):
    rng = random.Random(seed)
    texts = []
    for _ in range(5000):
        pieces = _EDGES if rng.random() < 0.5 else _EDGES + _PIECES
        texts.append("".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))))
        _assert_native_matches(texts[-1])
    assert 0 < sum(t.isascii() for t in texts) < len(texts)  # both kinds, interleaved
    _assert_batch_matches(texts)


def test_every_cased_character_lowers_in_a_batch_as_str_lower_does():
    # A batch lowers most non-ASCII texts in C (CPython's simple mapping), without the
    # GIL; str.lower() is the reference, character by character and in context.
    cased = [chr(c) for c in range(0x80, 0x110000)
             if not 0xD800 <= c < 0xE000 and chr(c).lower() != chr(c)]
    assert "\u0130" in cased and "\u03a3" in cased  # the two Python keeps lowering
    texts = [" ".join(cased[i:i + 40]) for i in range(0, len(cased), 40)]
    texts += ["".join(cased[i:i + 40]) for i in range(0, len(cased), 40)]
    texts += [f"ab{c}cd {c}" for c in cased]
    exact = [passes.run(t, track=False, exact=True).text for t in texts]
    assert norm.normalize_many(texts) == exact
    assert [norm.normalize(t) for t in texts] == exact


def test_the_training_data_normalises_as_the_python_passes_do():
    texts = _training_texts()
    for text in texts:
        _assert_native_matches(text)
    _assert_batch_matches(texts)


@needs_data
def test_the_public_datasets_normalise_as_the_python_passes_do():
    from benchmarks.common import _pool

    texts = _pool()
    for text in texts:
        _assert_native_matches(text)
    _assert_batch_matches(texts)


@pytest.mark.parametrize(("text", "expected"), [
    ("Visit HTTP://Evil.example.com/x).", "visit _url_ dom_evil_example_com )."),
    ("x.com.evil.ru and a.co.uk", "_url_ dom_x_com_evil_ru and _url_ dom_a_co_uk"),
    ("mail bob.smith@example.co.uk1 now", "mail _email_ 1 now"),
    ("ring +44 (20) 7946 0958!", "ring _phone_ !"),
    ("dated 2024-01-15.", "dated 2024-01-15."),
    ("so a-b-c_d is s h i t", "so abcd is shit"),
    ("ΑΣ\x07Β ΟΔΟΣ", "ασβ οδος"),  # final sigma is judged after invisible characters go
    ("İstanbul İ", "İstanbul İ"),  # İ lowers to two characters: kept as it is
    ("Hi а\u200bрр1е fan", "hi appie fan"),  # look-alikes, an invisible one, leetspeak
])
def test_each_pass_on_its_own_case(text, expected):
    assert norm.normalize(text) == expected
    _assert_native_matches(text)


def test_long_texts_of_one_pattern():
    # Long runs of what a pattern's backtracking walks through: the C passes scan
    # these without the quadratic work a naive search would do, and still agree.
    for text in ("a." * 2000 + "com", "www." * 500, "1-" * 3000, "a " * 3000 + "b",
                 "4" * 5000 + "a", "x@" * 2000 + "y.co", "." * 6000):
        _assert_native_matches(text)


def test_bad_arguments_are_refused():
    normalizer = type(norm.NATIVE)
    with pytest.raises(ValueError, match="one-character"):
        normalizer([], {"ab": "a"}, "", {}, ())
    with pytest.raises(ValueError, match="a-z"):
        normalizer([], {}, "", {}, ("COM",))
    with pytest.raises(ValueError, match="range"):
        normalizer([(5, 1)], {}, "", {}, ())
    with pytest.raises(TypeError, match="str"):
        norm.NATIVE.normalize(b"bytes")
    with pytest.raises(TypeError, match="str"):
        norm.NATIVE.normalize_many(["fine", "ok\u00e9", b"bytes"])
    with pytest.raises(TypeError, match="iterable"):
        norm.NATIVE.normalize_many(3)
    assert norm.NATIVE.normalize_many([]) == []
    with pytest.raises(TypeError, match="callable"):
        norm.NATIVE.normalize_many(["caf\u00e9"], 3)
    with pytest.raises(TypeError, match="str"):
        norm.NATIVE.normalize_many(["caf\u00e9"], lambda text: b"bytes")

    def refuse(text: str) -> str:
        raise ValueError(f"cannot prepare {text}")

    with pytest.raises(ValueError, match="cannot prepare caf"):
        norm.NATIVE.normalize_many(["plain", "caf\u00e9"], refuse)
    # Only the non-ASCII texts go through ``before``: an ASCII one never needs NFKC.
    given = []

    def nfkc(text: str) -> str:
        given.append(text)
        return unicodedata.normalize("NFKC", text)

    assert norm.NATIVE.normalize_many(["Plain", "\uff21BC"], nfkc) == ["plain", "abc"]
    assert given == ["\uff21BC"]
    with pytest.raises(RuntimeError, match="__init__"):
        normalizer.__new__(normalizer).normalize("x")
