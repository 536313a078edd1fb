"""Words' char_wb n-gram ids: the analyser's n-grams, and the same ids one word at a
time and many at once."""

from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from moderation import char_ngrams
from moderation.artefact import load_model
from moderation.char_ngrams import CharNgramIds, char_wb_ngrams
from moderation.normalize import normalize
from moderation.obfuscate import obfuscate

from .conftest import HAM, SPAM, TOXIC

ROOT = Path(__file__).resolve().parent.parent

# One-character and short words (fewer characters than n), unicode, combining marks,
# a lone surrogate and characters in no vocabulary term.
WORDS = ["a", "ab", "abc", "abcd", "abcde", "idiot", "_url_", "dom_pills_rx_shop", "é",
         "e\u0301", "这是一个普通的评论，关于天气。", "🎉", "😀a", "ΟΔΟΣ", "οδός", "x" * 40, "f4ck",
         "v1agra!!!", "\ud800x", "\U0001fae8\U0001fae8", "q", "ab" * 150, "é" * 129]
CORPUS = HAM + SPAM + TOXIC


def _words() -> list[str]:
    texts = CORPUS + [obfuscate(t) for t in CORPUS]
    found = [w for t in texts for w in (t + " " + normalize(t)).split()]
    return list(dict.fromkeys(WORDS + found))


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 3), (2, 5), (3, 5), (5, 5), (2, 8)])
def test_char_wb_ngrams_match_scikit_learn(ngram_range):
    analyse = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range,
                              lowercase=False).build_analyzer()
    for word in _words():
        assert char_wb_ngrams(word, *ngram_range) == analyse(word), word


def _vocabulary(ngram_range):
    return TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, lowercase=False
                           ).fit(CORPUS).vocabulary_


def _expected(vocabulary, ngram_range, word):
    analyse = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range,
                              lowercase=False).build_analyzer()
    return [vocabulary[g] for g in analyse(word) if g in vocabulary]


def test_the_compiled_table_is_built():
    # pip install compiles moderation/csrc/ (gcc and the Python headers are needed);
    # without it every look-up takes the slower Python paths.
    assert char_ngrams.Table is not None


@pytest.mark.parametrize("compiled", [True, False], ids=["C table", "numpy and dict"])
@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 3), (2, 5), (3, 5), (4, 6)])
def test_many_words_at_once_equal_one_at_a_time(ngram_range, compiled):
    vocabulary = _vocabulary(ngram_range)
    ids = CharNgramIds(vocabulary, ngram_range, compiled=compiled)
    assert ids.packed and (ids.compiled is not None) == compiled
    words = _words()
    assert len(words) > 10 * char_ngrams._MANY  # the numpy path, not the dict
    many = ids.many(words)
    for word, found in zip(words, many, strict=True):
        expected = _expected(vocabulary, ngram_range, word)
        assert list(memoryview(found).cast(char_ngrams.ID_TYPE)) == expected, word
        assert ids.one(word) == found == ids.lookup(word), word


def test_default_model_words_at_once_equal_one_at_a_time():
    vectoriser = load_model(ROOT / "models").model.features_.transformer_list[1][1]
    compiled = CharNgramIds(vectoriser.vocabulary_, vectoriser.ngram_range)
    plain = CharNgramIds(vectoriser.vocabulary_, vectoriser.ngram_range, compiled=False)
    assert compiled.compiled is not None and plain.compiled is None
    words = _words()
    expected = [plain.lookup(w) for w in words]
    assert plain.many(words) == expected
    assert plain.many(words[:3]) == expected[:3]  # few: through the dict
    assert compiled.many(words) == [compiled.one(w) for w in words] == expected


def test_the_compiled_table_refuses_what_it_cannot_hold():
    table = char_ngrams.Table
    index = bytes(4 * 128)
    with pytest.raises(ValueError, match="63 bits"):
        table(index, 13, 2, 5, b"", b"")
    with pytest.raises(ValueError, match="one length"):
        table(index, 7, 2, 5, (1).to_bytes(8, "little"), b"")
    with pytest.raises(ValueError, match="> 0"):
        table(index, 7, 2, 5, bytes(8), bytes(8))
    with pytest.raises(TypeError, match="str"):
        table(index, 7, 2, 5, b"", b"").ids(b"abc")
    with pytest.raises(RuntimeError, match="not called"):
        table.__new__(table).ids("abc")


def test_an_alphabet_too_large_to_pack_goes_through_the_dict():
    # 5,000 characters need 13 bits each: a 5-gram would need 65.
    vocabulary = {chr(0x4e00 + i) * 2: i for i in range(5000)}
    ids = CharNgramIds(vocabulary, (2, 5))
    assert not ids.packed and ids.compiled is None
    words = [chr(0x4e00 + i) * 2 for i in range(0, 5000, 100)]
    assert ids.many(words) == [ids.one(w) for w in words]
    assert list(memoryview(ids.many(words)[1]).cast("i")) == [100]


def test_compiled_and_python_paths_agree_on_random_text():
    import random

    rng = random.Random(1)
    alphabet = list("abcxyz_019 \t\n\u00a0\u2003.,!'-") + ["é", "\u0301", "ß", "Σ", "中",
                                                        "\U0001d400", "😀", "\ud800", "\x1c"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 300)))
             for _ in range(200)] + ["x" * 700 + " " + "y" * 3]
    vocabulary = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False
                                 ).fit(texts[:100]).vocabulary_
    compiled = CharNgramIds(vocabulary, (2, 5))
    plain = CharNgramIds(vocabulary, (2, 5), compiled=False)
    assert compiled.compiled is not None
    lengths, ids = compiled.compiled.ids_texts(texts)
    lengths = list(memoryview(lengths).cast("q"))
    ids = list(memoryview(ids).cast("i"))
    at = 0
    for text, length in zip(texts, lengths, strict=True):
        expected = [i for w in text.split() for i in memoryview(plain.lookup(w)).cast("i")]
        assert ids[at:at + length] == expected, repr(text)
        assert [compiled.one(w) for w in text.split()] == plain.many(text.split())
        at += length
    assert at == len(ids)
