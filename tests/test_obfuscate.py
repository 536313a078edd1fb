import random
import re

import pytest

from moderation.normalize import normalize
from moderation.obfuscate import TRICKS, obfuscate


def test_obfuscation_is_repeatable_and_keeps_short_words():
    text = "You are a complete idiot and everyone here knows it"
    assert obfuscate(text) == obfuscate(text)
    assert obfuscate(text) != text
    assert obfuscate("a an to", share=1.0) == "a an to"


@pytest.mark.parametrize("trick", sorted(set(TRICKS) - {"leetspeak"}))
def test_normalisation_undoes_each_trick_but_leetspeak(trick):
    disguised = TRICKS[trick]("moron", random.Random(0))
    assert disguised != "moron"
    # Long repeats come back as a double letter, which the character n-grams absorb.
    assert re.sub(r"(.)\1", r"\1", normalize(f"you {disguised} here")) == "you moron here"


def test_leetspeak_keeps_the_first_letter():
    assert TRICKS["leetspeak"]("idiots", random.Random(0)) == "id107$"


def test_every_trick_is_used():
    out = obfuscate(" ".join(["complete"] * 200), share=1.0)
    assert "\u200b" in out  # zero width
    assert "\u0435" in out  # Cyrillic e
    assert re.search(r"c[ .-]o[ .-]m", out)  # spaced
    assert "c0mp" in out  # leetspeak
    assert re.search(r"(\w)\1\1\1", out)  # repeated
    assert re.search(r"[A-Z]", out)  # mixed case
