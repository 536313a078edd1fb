"""The shortcuts of normalisation and of the text checks change no output.

Every pass of :mod:`moderation.normalize_passes` is skipped when a cheap test shows it
cannot match; an ``exact`` run takes every pass in full, as the pipeline did
before the shortcuts. Both must agree on every text we have, and so must the C
passes that :mod:`moderation.normalize` uses where they are built.
"""

import json
import random
import re

import pytest

from moderation import normalize as norm
from moderation import normalize_passes as passes
from moderation.config import load_settings
from moderation.text_checks import TextChecks, _cased
from tests.conftest import DATA_DIR, ROOT

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"{DATA_DIR} not present")

# Pieces that wake each pass (and each shortcut's edge cases) when glued together.
_PIECES = [
    "a", "b", "x", "z", "A", "Q", "é", "e\u0301", "0", "1", "3", "7", "42", "@", "$", "!", "|",
    "€", ".", "-", "_", "*", "·", " ", "  ", "\n", "\t", "\r\n", "\u00a0", "\u2003", "\x1c",
    "\u200b", "\x07", "\u00ad", "\u0430", "\u0435", "\u043e", "\u0456", "\u03bf", "İ", "ｗ",
    "．", "：", "／", "://", "http://", "hxxps://", "www.", ".com", ".co.uk", ".eu", "site",
    "+", "(", ")", "555", "0142", "2024-01-15", "aaa", "!!!", "...", "???", "**", "ooo",
    "4ss$", "sh!t", "v1agra", "1d10t", "$$$", "f u c k", "c.a.s.i.n.o", "e.g.", "bob@x.org",
    "@user", "_url_", "Привет", "日本語",
]


def _tricky_texts() -> list[str]:
    rng = random.Random(0)
    texts = ["", " ", "\n", "hello 4ss$ x", "ok 4ss$", "a b c d", "a b c", "a.b.c", "a-b", "zzz",
             "x" * 12, "call +1 (555) 010-0142 now", "mail bob.smith@example.co.uk", "@here.",
             "www.x", "http://x", "see x.com/a).", "  lead and trail  ", "tab\tsep\x0bvt",
             "İstanbul", "ＦＵＬＬ ｗｗｗ．ｓｉｔｅ．ｃｏｍ"]
    texts += ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 30)))
              for _ in range(4000)]
    return texts


def _training_texts() -> list[str]:
    return [json.loads(line)["text"] for path in sorted((ROOT / "training_data").glob("*.jsonl"))
            for line in path.read_text().splitlines()]


def _link_hosts_exact(text: str) -> list[str]:
    cleaned = passes.clean(text, track=False, exact=True).text
    return [passes.host(m.group()) for m in passes.URL.finditer(cleaned)]


def _assert_same(texts: list[str]) -> None:
    checks = {n: TextChecks(load_settings({"max_repeated_chars": n}, environ={}))
              for n in (3, 4, 10, 12)}
    for text in texts:
        exact = passes.run(text, track=False, exact=True).text
        assert norm.normalize(text) == passes.run(text, track=False).text == exact, text
        tracked, reference = norm.normalize_with_offsets(text), passes.run(text, True, exact=True)
        assert (tracked.text, tracked.starts, tracked.ends) == (
            reference.text, tuple(reference.starts), tuple(reference.ends)), text
        words = [m.span() for m in re.finditer(r"\S+", tracked.text)]
        assert norm.original_word_spans(text, words) == passes.original_word_spans(
            text, words) == [tracked.original_span(a, b) for a, b in words], text
        hosts = norm.link_hosts(text)
        assert hosts == passes.link_hosts(text) == _link_hosts_exact(text), text
        # The link checks skip link_hosts when the normalised text shows no link.
        assert hosts == [] or norm.count_links(exact) > 0, text
        upper = sum(c.isupper() for c in text)
        assert _cased(text) == (upper, upper + sum(c.islower() for c in text)), text
        for check in checks.values():
            assert check.may_repeat(text) or not check._repeat.search(text), text


@pytest.mark.parametrize(("text", "expected"), [
    ("hello 4ss$ x", "hello ass x"),  # leetspeak at a word's start, not the text's
    ("so a b c d e", "so abcde"),
    ("the u.s.a. here", "the usa here"),
    ("www.x and http://y", "_url_ dom_x and _url_ dom_y"),
    ("ring 555 0142 3344", "ring _phone_"),
    ("cooool!!!!", "cool!!"),
])
def test_shortcuts_keep_each_pass_working(text, expected):
    assert norm.normalize(text) == passes.run(text, track=False, exact=True).text == expected


def test_shortcuts_change_nothing_on_tricky_texts():
    _assert_same(_tricky_texts())


def test_shortcuts_change_nothing_on_the_training_data():
    _assert_same(_training_texts())


@needs_data
def test_shortcuts_change_nothing_on_the_benchmark_texts():
    from benchmarks.common import realistic_texts

    _assert_same(realistic_texts(2000, seed=0))


def test_str_split_and_regex_agree_on_white_space():
    # normalize collapses white space with str.split, the exact run with \s.
    space = passes.SPACE
    assert [c for c in map(chr, range(0x110000)) if bool(space.match(c)) != c.isspace()] == []


@pytest.mark.parametrize("limit", range(3, 16))
def test_the_repeat_hints_miss_no_run(limit):
    # Runs of every length around the limit, of a letter, a space, a newline, a
    # non-Latin letter and an emoji, at every offset within the hint's stride,
    # between characters that do or do not extend the run.
    check = TextChecks(load_settings({"max_repeated_chars": limit}, environ={}))
    rng = random.Random(limit)
    texts = []
    for char in ("a", "!", " ", "\n", "\u044f", "\U0001f600", "A"):
        for length in range(max(1, limit - 4), limit + 5):
            for before in ("", "x", "xy", "xyz", "aa", " \n", "\u044f"):
                for after in ("", "b", "a", "\n"):
                    texts.append(before + char * length + after)
    texts += ["".join(rng.choice("aab!! \n\u044f") for _ in range(rng.randint(0, 80)))
              for _ in range(3000)]
    for text in texts:
        expected = check._repeat.search(text) is not None
        assert not expected or check.may_repeat(text), repr(text)
        assert not expected or check._repeat_hint.search(text), repr(text)
    # The hints do let most texts through unscanned.
    assert not check.may_repeat("a normal comment, with no long run in it at all.")


def test_cased_counts_like_isupper_and_islower_on_any_text():
    rng = random.Random(1)
    alphabet = ("aZ 1.\u00e9\u00c9\u0130\u01c5\u03a3\u03c3\u044f\u042f\u65e5\u2160"
                "\u24b6\U0001d400\U0001f600\ud800\udfff\x00\x7f\x80")
    texts = ["", "\ud800", "A\udc00b"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(5000)]
    texts += ["".join(map(chr, rng.sample(range(0x110000), 60))) for _ in range(500)]
    for text in texts:
        upper = sum(c.isupper() for c in text)
        assert _cased(text) == (upper, upper + sum(c.islower() for c in text)), repr(text)
