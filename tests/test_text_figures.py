"""The text checks' figures from the C scan (moderation._textstats) equal the Python forms."""

import random

import pytest

from moderation import text_checks
from moderation.config import load_settings
from moderation.text_checks import TextChecks
from tests.test_native_normalize import _EDGES
from tests.test_normalize_exact import _PIECES

_MORE = ["\r", "\r\n", " \r\n ", "\r\r\n", "AAAA", "aaaaaaaaaaaa", "\uff21\uff21", "\u2003",
         "!!!!!!!!!!!", "x" * 10, "\u01c5", "\u2160", "\u24b6", "\U0001d400", "\ud800", "\x1c"]


def test_the_c_scan_is_built():
    # pip install compiles moderation/csrc/text_stats.c; without it the Python forms serve.
    assert text_checks._native_figures is not None


@pytest.mark.parametrize("limit", [3, 4, 10, 12])
def test_figures_equal_the_python_forms(limit):
    checks = TextChecks(load_settings({"max_repeated_chars": limit}, environ={}))
    rng = random.Random(limit)
    pieces = _EDGES + _PIECES + _MORE
    texts = ["", " ", "\r\n", " a ", "a\r\n\r\nb", "\r\nab\r\n", "aaa" * 5]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(8000)]
    for text in texts:
        assert text_checks._native_figures(text, limit) == checks.python_figures(text), repr(text)


def test_the_checks_of_one_comment_share_one_scan():
    checks = TextChecks(load_settings(environ={}))
    content = "WHY " * 10 + "!" * 12
    first = checks.figures(content)
    assert checks.figures(content) is first  # the same content object: not scanned again
    assert first == (len(content.strip()), 30, 30, 12, "!")
    assert checks.figures(content + " ") is not first


def test_a_run_shorter_than_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        text_checks._native_figures("abc", 0)
