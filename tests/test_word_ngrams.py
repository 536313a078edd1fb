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
         "Tabs\tand\nnew lines", "ΟΔΟΣ και οδός", "这是一个普通的评论"]


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


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("lowercase", [True, False])
def test_ids_match_scikit_learn(ngram_range, lowercase):
    vectoriser = TfidfVectorizer(ngram_range=ngram_range, lowercase=lowercase).fit(CORPUS)
    assert supported(vectoriser)
    texts = _texts()
    assert _found(WordNgramIds(vectoriser), texts) == _expected(vectoriser, texts)
    assert _found(WordNgramIds(vectoriser), texts[3:4]) == _expected(vectoriser, texts[3:4])


def test_default_model_ids_match_scikit_learn():
    vectoriser = load_model(ROOT / "models").model.features_.transformer_list[0][1]
    assert supported(vectoriser)
    texts = _texts()
    expected = _expected(vectoriser, texts)
    assert sum(len(c) for c in expected) > 1000  # the texts do meet the vocabulary
    assert _found(WordNgramIds(vectoriser), texts) == expected


@pytest.mark.parametrize("vectoriser", [
    CountVectorizer(stop_words="english"),
    CountVectorizer(ngram_range=(1, 3)),
    CountVectorizer(token_pattern=r"\S+"),
    CountVectorizer(tokenizer=str.split, token_pattern=None),
    CountVectorizer(analyzer="char_wb"),
], ids=["stop words", "trigrams", "token pattern", "tokenizer", "characters"])
def test_other_settings_are_not_supported(vectoriser):
    assert not supported(vectoriser)
