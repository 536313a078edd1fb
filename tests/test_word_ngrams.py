"""Word unigram and bigram ids found in numpy equal scikit-learn's analyser's."""

from collections import Counter
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from moderation.artefact import load_model
from moderation.normalize import normalize
from moderation.obfuscate import obfuscate
from moderation.word_ngrams import WordNgramIds, supported

from .conftest import HAM, SPAM, TOXIC

ROOT = Path(__file__).resolve().parent.parent
CORPUS = HAM + SPAM + TOXIC
# Empty, one token, one-letter tokens (not tokens at all), unknown words, repeats.
EDGES = ["", "   ", "idiot", "a b c", "zzqxv wwkpl", "idiot idiot idiot you idiot",
         "Tabs\tand\nnew lines", "ΟΔΟΣ και οδός", "这是一个普通的评论", " lead and trail ",
         "snake_case_9 x2 _ __ a_b", "you, a idiot!", "\u00a0nbsp\u2003em space\x1cfs",
         "e\u0301te\u0301 caf\u00e9 \U0001d400\U0001d401 \U0001f600\U0001f600 ab" * 3]


def _texts():
    return EDGES + CORPUS + [obfuscate(t) for t in CORPUS] + [normalize(t) for t in CORPUS]


def _expected(vectoriser, texts):
    analyse, vocabulary = vectoriser.build_analyzer(), vectoriser.vocabulary_
    return [Counter(vocabulary[g] for g in analyse(t) if g in vocabulary) for t in texts]


def _found(ids, texts):
    doc, term = ids.ids(texts)
    found = [Counter() for _ in texts]
    for d, t in zip(doc.tolist(), term.tolist(), strict=True):
        found[d][t] += 1
    return found


def test_the_compiled_table_is_built():
    # pip install compiles moderation/csrc/; without it the Python path serves.
    assert WordNgramIds(TfidfVectorizer().fit(CORPUS)).compiled is not None


COMPILED = pytest.mark.parametrize("compiled", [True, False], ids=["C table", "numpy"])


@COMPILED
@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("lowercase", [True, False])
def test_ids_match_scikit_learn(ngram_range, lowercase, compiled):
    vectoriser = TfidfVectorizer(ngram_range=ngram_range, lowercase=lowercase).fit(CORPUS)
    assert supported(vectoriser)
    texts = _texts()
    ids = WordNgramIds(vectoriser, compiled=compiled)
    assert (ids.compiled is not None) == compiled
    assert _found(ids, texts) == _expected(vectoriser, texts)
    assert _found(ids, texts[3:4]) == _expected(vectoriser, texts[3:4])


@COMPILED
def test_default_model_ids_match_scikit_learn(compiled):
    vectoriser = load_model(ROOT / "models").model.features_.transformer_list[0][1]
    assert supported(vectoriser)
    texts = _texts()
    expected = _expected(vectoriser, texts)
    assert sum(len(c) for c in expected) > 1000  # the texts do meet the vocabulary
    assert _found(WordNgramIds(vectoriser, compiled=compiled), texts) == expected


def test_the_compiled_table_refuses_what_it_cannot_hold():
    from moderation._ngrams import WordTable

    minus_one = (-1).to_bytes(8, "little", signed=True)
    with pytest.raises(ValueError, match="one int64 per token"):
        WordTable(["ab"], minus_one, b"", b"", True, True)
    with pytest.raises(ValueError, match="distinct"):
        WordTable(["ab", "ab"], minus_one * 3, b"", b"", True, True)
    with pytest.raises(TypeError, match="str"):
        WordTable([b"ab"], minus_one * 2, b"", b"", True, True)
    table = WordTable(["ab"], minus_one * 2, b"", b"", True, True)
    assert table.find("ab cd") == b""
    with pytest.raises(TypeError, match="str"):
        table.find(b"ab")
    with pytest.raises(RuntimeError, match="not called"):
        WordTable.__new__(WordTable).find("ab")


@pytest.mark.parametrize("vectoriser", [
    CountVectorizer(stop_words="english"),
    CountVectorizer(ngram_range=(1, 3)),
    CountVectorizer(token_pattern=r"\S+"),
    CountVectorizer(tokenizer=str.split, token_pattern=None),
    CountVectorizer(analyzer="char_wb"),
], ids=["stop words", "trigrams", "token pattern", "tokenizer", "characters"])
def test_other_settings_are_not_supported(vectoriser):
    assert not supported(vectoriser)


def test_compiled_and_python_paths_agree_on_random_text():
    import random

    # Letters of several scripts, digits, "_", white space of several kinds, marks,
    # astral characters, a lone surrogate and punctuation, in random runs.
    rng = random.Random(0)
    alphabet = list("abcxyz_019 \t\n\u00a0\u2003.,!'-") + ["é", "\u0301", "ß", "Σ", "ς", "中",
                                                        "\U0001d400", "😀", "\ud800", "\x1c"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 400)))
             for _ in range(300)]
    vectoriser = TfidfVectorizer(ngram_range=(1, 2), lowercase=False, min_df=1).fit(
        texts + CORPUS)
    expected = _expected(vectoriser, texts)
    assert sum(len(c) for c in expected) > 1000
    for compiled in (True, False):
        assert _found(WordNgramIds(vectoriser, compiled=compiled), texts) == expected
