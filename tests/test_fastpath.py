"""The compiled scorer gives scikit-learn's scores, and refuses what it does not know."""

import logging
import pickle
from array import array
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from moderation import feature_block
from moderation.artefact import load_model
from moderation.fastpath import compile_scorer
from moderation.model import ModerationModel
from moderation.normalize import normalize

from .conftest import tiny_corpus

ROOT = Path(__file__).resolve().parent.parent

LONG = ("The council's transport report runs to ninety pages and the bus cuts are on page "
        "twelve, after a long section on cycling lanes. ") * 12
TEXTS = [
    "",
    "   \t\n ",
    "a",
    "You are a complete idiot",
    "Y o u  a r e  a n  i d 1 0 t, f4ck off",
    "Buy cheap v1agra and c1alis at www.pills-rx.shop, order now!!!",
    "vi\u0430gra ch\u0435ap \u200bpills",  # Cyrillic look-alikes, zero-width space
    "Это обычный комментарий на русском языке про погоду",
    "ΟΔΟΣ ΣΟΦΟΚΛΕΟΥΣ και οδός",  # final sigma
    "这是一个普通的评论，关于天气。",
    "مرحبا هذا تعليق عادي",
    "emoji 🎉🎉🎉 party 😀 time",
    "idiot idiot idiot idiot idiot",
    "tabs\tand\nnew\r\nlines  and   spaces",
    "zzqxv wwkpl qqqj",  # nothing in any vocabulary
    LONG[:1500],
]


def _reference(features, coef, intercept, texts):
    return np.asarray(features.transform(texts) @ coef, dtype=np.float64) + intercept


def _assert_equal_scores(features, coef, intercept, texts):
    expected = _reference(features, coef, intercept, texts)
    for compiled in (True, False):  # with the C extension's n-gram tables, and without
        scorer = compile_scorer(features, coef, intercept, compiled=compiled)
        assert scorer is not None
        # scikit-learn works in float32 here; the compiled path in float64.
        np.testing.assert_allclose(scorer.decision_function(texts), expected, rtol=0, atol=2e-5)
        for text, row in zip(texts, expected, strict=True):  # one at a time, as the API does
            np.testing.assert_allclose(scorer.decision_function([text])[0], row, rtol=0,
                                       atol=2e-5)


@pytest.fixture(scope="module")
def default_model() -> ModerationModel:
    return load_model(ROOT / "models").model


@pytest.mark.parametrize("normalise", [True, False], ids=["normalised", "raw"])
def test_default_model_scores_match_scikit_learn(default_model, normalise):
    texts = [normalize(t) for t in TEXTS] if normalise else TEXTS
    m = default_model
    _assert_equal_scores(m.features_, m.coef_, m.intercept_, texts)
    probabilities = m.predict_proba_normalized(texts)
    expected = 1 / (1 + np.exp(-_reference(m.features_, m.coef_, m.intercept_, texts)))
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-5)


def test_small_model_scores_match_scikit_learn(models_dir):
    m = load_model(models_dir).model
    _assert_equal_scores(m.features_, m.coef_, m.intercept_, [normalize(t) for t in TEXTS])


VECTORISERS = {
    "char lowercase (no per-word cache)": lambda: TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 4), lowercase=True),
    "char across words": lambda: TfidfVectorizer(analyzer="char", ngram_range=(2, 3)),
    "l1, not sublinear": lambda: TfidfVectorizer(norm="l1", ngram_range=(1, 3)),
    "no norm, binary": lambda: TfidfVectorizer(norm=None, binary=True, sublinear_tf=True),
    "no idf": lambda: TfidfVectorizer(use_idf=False, analyzer="char_wb", ngram_range=(3, 5)),
    "counts": lambda: CountVectorizer(ngram_range=(1, 2), stop_words="english"),
    "accents stripped": lambda: TfidfVectorizer(analyzer="char_wb", strip_accents="unicode",
                                                lowercase=False),
}


@pytest.mark.parametrize("name", VECTORISERS)
def test_vectoriser_settings_match_scikit_learn(name):
    texts, _ = tiny_corpus()
    union = FeatureUnion([("a", VECTORISERS[name]()),
                          ("b", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
                                                sublinear_tf=True, lowercase=False))])
    union.fit(texts)
    width = union.transform(texts[:1]).shape[1]
    coef = np.random.default_rng(0).normal(size=(width, 3)).astype(np.float32)
    intercept = np.array([0.1, -0.2, 0.3], dtype=np.float32)
    _assert_equal_scores(union, coef, intercept, texts + TEXTS)


def test_single_vectoriser_is_compiled_too():
    texts, _ = tiny_corpus()
    vectoriser = TfidfVectorizer().fit(texts)
    coef = np.ones((len(vectoriser.vocabulary_), 1), dtype=np.float32)
    _assert_equal_scores(vectoriser, coef, np.zeros(1, dtype=np.float32), TEXTS)


def test_word_cache_stays_bounded_and_correct(default_model, monkeypatch):
    monkeypatch.setattr(feature_block, "_WORD_CACHE_SIZE", 5)
    m = default_model
    # The cache serves when the C extension's table does not (not built).
    scorer = compile_scorer(m.features_, m.coef_, m.intercept_, compiled=False)
    texts = [normalize(t) for t in TEXTS]
    np.testing.assert_allclose(scorer.decision_function(texts),
                               _reference(m.features_, m.coef_, m.intercept_, texts), atol=2e-5)
    char = scorer.blocks[1]
    assert char.per_word
    assert len(char._recent) <= 5 and len(char._older) <= 5
    assert len(char._recent) + len(char._older) > 5  # both generations in use


def test_word_cache_keeps_the_words_in_use(default_model, monkeypatch):
    monkeypatch.setattr(feature_block, "_WORD_CACHE_SIZE", 2)
    m = default_model
    char = compile_scorer(m.features_, m.coef_, m.intercept_, compiled=False).blocks[1]
    for word in ("alpha", "beta", "gamma", "alpha", "delta"):
        char.word_bytes(word)
    # "alpha" was used again after the first turn-over, "beta" was not.
    assert list(char._older) == ["gamma", "alpha"] and list(char._recent) == ["delta"]
    analyse, vocabulary = m.features_.transformer_list[1][1].build_analyzer(), char.vocabulary
    assert array("i", char.word_bytes("beta")).tolist() == [
        vocabulary[g] for g in analyse("beta") if g in vocabulary]


def test_the_c_table_serves_without_the_word_cache(default_model):
    m = default_model
    char = compile_scorer(m.features_, m.coef_, m.intercept_).blocks[1]
    assert char.char_ngrams.compiled is not None
    texts = [normalize(t) for t in TEXTS]
    char.scores(texts)
    assert not char._recent and not char._older
    analyse, vocabulary = m.features_.transformer_list[1][1].build_analyzer(), char.vocabulary
    assert array("i", char.word_bytes("beta")).tolist() == [
        vocabulary[g] for g in analyse("beta") if g in vocabulary]


def _fitted_union(*parts, **kwargs):
    texts, _ = tiny_corpus()
    return FeatureUnion(list(parts), **kwargs).fit(texts)


REFUSED = [
    ("hashing", lambda: _fitted_union(("h", HashingVectorizer(n_features=64))), 64,
     "HashingVectorizer"),
    ("weights", lambda: _fitted_union(("w", TfidfVectorizer()),
                                      transformer_weights={"w": 2.0}), None, "weights"),
    ("unfitted", lambda: FeatureUnion([("w", TfidfVectorizer())]), 10, "not fitted"),
    ("rows", lambda: _fitted_union(("w", TfidfVectorizer())), 3, "weight rows"),
    ("input", lambda: _fitted_union(("w", TfidfVectorizer())).set_params(w__input="file"), None,
     "input='file'"),
]


@pytest.mark.parametrize(("name", "build", "rows", "reason"), REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_unsupported_features_fall_back_with_a_log_line(name, build, rows, reason, caplog):
    features = build()
    if rows is None:
        rows = sum(len(t.vocabulary_) for _, t in features.transformer_list)
    with caplog.at_level(logging.INFO, logger="moderation.fastpath"):
        assert compile_scorer(features, np.zeros((rows, 1)), np.zeros(1)) is None
    assert reason in caplog.text and "scikit-learn" in caplog.text


def test_model_without_compiled_path_still_scores(models_dir):
    m = load_model(models_dir).model
    expected = m.predict_proba(TEXTS)
    m.features_.transformer_weights = {"word": 1.0}  # now refused: scikit-learn scores
    m.__dict__.pop("_scorer")
    assert m.scorer() is None
    np.testing.assert_allclose(m.predict_proba(TEXTS), expected, atol=1e-5)


def test_compiled_scorer_is_not_pickled_and_refit_drops_it(models_dir):
    m = load_model(models_dir).model
    assert m.scorer() is not None
    assert "_scorer" not in pickle.loads(pickle.dumps(m)).__dict__
    texts, labels = tiny_corpus()
    m.fit(texts, labels)
    assert "_scorer" not in m.__dict__


def test_c_sums_are_numpys_up_to_the_order_of_addition(default_model):
    from moderation.feature_block import _distinct, _scoring

    assert _scoring is not None  # pip install compiles moderation/csrc/scoring.c
    scorer = compile_scorer(default_model.features_, default_model.coef_,
                            default_model.intercept_)
    texts = [normalize(t) for t in TEXTS]
    for block in scorer.blocks:
        doc, term, count = _distinct(*block._ids(texts), len(block.vocabulary))
        first = feature_block._starts(doc)
        compiled, plain = block._sums_c(term, count, first), block._sums_numpy(term, count, first)
        assert compiled.shape == plain.shape == (len(first), 2)
        np.testing.assert_allclose(compiled, plain, rtol=1e-12, atol=1e-15)


def test_c_scoring_refuses_bad_arguments():
    from moderation import _scoring

    table = np.ones((4, 3))  # four terms, two categories and the idf
    one, zero = np.array([1]), np.array([0])
    with pytest.raises(ValueError, match="norm"):
        _scoring.score(table, one, one, zero, True, False, "l3")
    with pytest.raises(TypeError, match="k \\+ 1 columns"):
        _scoring.score(np.ones(4), one, one, zero, True, False, "l2")
    with pytest.raises(ValueError, match="differ in length"):
        _scoring.score(table, one, np.array([1, 1]), zero, True, False, "l2")
    with pytest.raises(IndexError, match="outside the table"):
        _scoring.score(table, np.array([4]), one, zero, True, False, "l2")
    with pytest.raises(ValueError, match="rise"):
        _scoring.score(table, one, one, np.array([0, 2]), True, False, "l2")
    scores = np.frombuffer(_scoring.score(table, np.array([0, 3]), np.array([1, 2]), zero,
                                          False, False, "l1"))
    assert scores.tolist() == [1.0, 1.0]  # (1 + 2) / (1 + 2) for each category


def test_whole_texts_score_as_their_counted_terms_to_the_last_bit(default_model):
    from moderation.datasets import load_training_data
    from moderation.feature_block import _distinct

    scorer = compile_scorer(default_model.features_, default_model.coef_,
                            default_model.intercept_)
    rng = np.random.default_rng(0)
    corpus = [r.text for r in load_training_data(ROOT / "training_data")]
    texts = [normalize(t) for t in TEXTS + corpus[:300]]
    # Joined comments: long texts with many repeated n-grams.
    texts += [" ".join(rng.choice(texts, size=8)) for _ in range(50)]
    for block in scorer.blocks:
        runs = block._runs(texts)
        assert runs is not None  # the C tables are built
        whole = block.scores(texts)
        doc, term = block._ids(texts)
        counted = block.score_distinct(*_distinct(doc, term, len(block.vocabulary)), len(texts))
        assert whole.tolist() == counted.tolist()
        assert not whole[texts.index("")].any()  # no terms: no share of the score


def test_c_text_scoring_refuses_bad_arguments():
    from moderation import _scoring

    table = np.ones((4, 3))  # four terms, two categories and the idf
    with pytest.raises(ValueError, match="add up"):
        _scoring.score_texts(table, np.array([2]), np.array([1]), True, False, "l2")
    with pytest.raises(ValueError, match="non-negative"):
        _scoring.score_texts(table, np.array([-1, 2]), np.array([1]), True, False, "l2")
    with pytest.raises(IndexError, match="outside the table"):
        _scoring.score_texts(table, np.array([2]), np.array([1, 4]), True, False, "l2")
    with pytest.raises(ValueError, match="norm"):
        _scoring.score_texts(table, np.array([1]), np.array([1]), True, False, "max")
    # Text 0: terms 3, 0, 3 (counts 1 and 2); text 1: none; text 2: term 1 once.
    scores = np.frombuffer(_scoring.score_texts(
        table, np.array([3, 0, 1]), np.array([3, 0, 3, 1], dtype=np.int32), False, False, "l1"))
    assert scores.tolist() == [1.0, 1.0, 0.0, 0.0, 1.0, 1.0]


def test_c_sublinear_tf_is_log_plus_one_to_the_last_bit_for_every_count():
    # Small counts come from a table computed at import, larger ones from log() itself:
    # either way the same double as Python's, on both sides of the table's end.
    import math

    from moderation import _scoring

    table = np.array([[1.0, 1.0]])  # one term: weight 1 in one category, idf 1
    counts = np.arange(1, 200)
    scores = np.frombuffer(_scoring.score(table, np.zeros(len(counts), dtype=np.int64), counts,
                                          np.arange(len(counts)), True, False, "none"))
    assert scores.tolist() == [math.log(c) + 1.0 for c in counts.tolist()]
    whole = np.frombuffer(_scoring.score_texts(table, np.array([70]), np.zeros(70, np.int32),
                                               True, False, "none"))
    assert whole.tolist() == [math.log(70) + 1.0]


def _batch_texts() -> list[str]:
    from moderation.datasets import load_training_data

    rng = np.random.default_rng(1)
    corpus = [r.text for r in load_training_data(ROOT / "training_data")]
    texts = TEXTS + corpus[:300]
    # Long texts: counts past the sublinear table's end, and a word longer than any text
    # before it (the scratch room grows).
    texts += [" ".join(rng.choice(texts, size=40)) for _ in range(20)]
    return texts + ["idiot " * 400, "x" * 5000, "", "\uff21\uff22\uff23 fullwidth", "caf\u00e9"]


def test_c_tables_tally_texts_as_the_scorer_sums_their_ids_to_the_last_bit(default_model):
    # A part's table finds, counts and sums a batch's n-grams in one pass; the same
    # texts' ids, written out and summed by _scoring.score_texts, are the reference.
    from moderation import _ngrams
    from moderation.feature_block import _scoring

    scorer = compile_scorer(default_model.features_, default_model.coef_,
                            default_model.intercept_)
    texts = [normalize(t) for t in _batch_texts()]
    shares = []
    for block in scorer.blocks:
        part = block.part
        assert part is not None  # the C tables are built
        reference = _scoring.score_texts(block.table, *block._runs(texts), *part[2:])
        assert _ngrams.score_texts(texts, [part]) == reference
        assert _ngrams.score_texts([], [part]) == b""
        shares.append(np.frombuffer(reference).reshape(len(texts), -1))
    # Several parts: their shares added in order to zeros, as the blocks' loop adds them.
    summed = np.zeros_like(shares[0])
    for share in shares:
        summed += share
    both = np.frombuffer(_ngrams.score_texts(texts, scorer.parts)).reshape(len(texts), -1)
    assert np.array_equal(both, summed)
    assert np.array_equal(scorer.decision_function(texts), summed + scorer.intercept)


@pytest.mark.parametrize("categories", [1, 2, 3, 5])
def test_tallies_of_any_number_of_categories_sum_as_sorted_terms_do(default_model, categories):
    # One and two categories have their own copy of the tally's sums (arith.h), more take
    # the general loop; the reference adds each text's sorted distinct terms term by term
    # (_scoring.score, as a live comment's are): the same numbers in the same order.
    from moderation import _ngrams
    from moderation.feature_block import _distinct, _scoring, _starts

    scorer = compile_scorer(default_model.features_, default_model.coef_,
                            default_model.intercept_)
    texts = [normalize(t) for t in _batch_texts()]
    rng = np.random.default_rng(categories)
    for block in scorer.blocks:
        table, weights = block.part[:2]
        columns = rng.normal(size=(len(weights), categories))
        wider = np.ascontiguousarray(np.column_stack([columns, weights[:, -1]]))
        doc, term, count = _distinct(*block._ids(texts), len(weights))
        first = _starts(doc)
        for sublinear, binary, norm in ((True, False, "l2"), (False, False, "l1"),
                                        (True, True, "none")):
            expected = np.zeros((len(texts), categories))
            expected[doc[first]] = np.frombuffer(_scoring.score(
                wider, term, count, first, sublinear, binary, norm)).reshape(-1, categories)
            tallied = np.frombuffer(_ngrams.score_texts(
                texts, [(table, wider, sublinear, binary, norm)])).reshape(-1, categories)
            assert np.array_equal(tallied, expected)


def test_a_batch_is_normalised_and_scored_in_one_call_as_in_two(default_model):
    from moderation.normalize import native_normalizer, normalize_many

    scorer = compile_scorer(default_model.features_, default_model.coef_,
                            default_model.intercept_)
    raw = _batch_texts()
    assert 0 < sum(t.isascii() for t in raw) < len(raw)  # both kinds, interleaved
    normalised, scores = scorer.normalised_decision_function(raw, *native_normalizer())
    assert normalised == normalize_many(raw)
    assert np.array_equal(scores, scorer.decision_function(normalised))
    assert default_model.normalised_probabilities(raw)[0] == normalised
    assert scorer.normalised_decision_function([], *native_normalizer())[0] == []


def test_c_tables_refuse_what_they_cannot_score(default_model):
    from moderation import _ngrams
    from moderation.normalize import native_normalizer

    scorer = compile_scorer(default_model.features_, default_model.coef_,
                            default_model.intercept_)
    normalizer, before = native_normalizer()
    for block in scorer.blocks:
        table, weights, sublinear, binary, norm = block.part
        with pytest.raises(IndexError, match="outside the table"):
            _ngrams.score_texts(["you are an idiot"], [(table, weights[:5], True, False, "l2")])
        with pytest.raises(ValueError, match="norm"):
            _ngrams.score_texts(["text"], [(table, weights, True, False, "max")])
        with pytest.raises(TypeError, match="str"):
            _ngrams.score_texts(["text", 3], [block.part])
        with pytest.raises(TypeError, match="k \\+ 1 columns"):
            _ngrams.score_texts(["text"], [(table, weights[:, 0].copy(), True, False, "l2")])
        with pytest.raises(TypeError, match="CharTable or WordTable"):
            _ngrams.score_texts(["text"], [(normalizer, weights, True, False, "l2")])
        with pytest.raises(TypeError, match="a part is"):
            _ngrams.score_texts(["text"], [(table, weights)])
        with pytest.raises(TypeError, match="initialised Normalizer"):
            _ngrams.normalise_and_score(table, before, ["text"], [block.part])
    word, char = (block.part for block in scorer.blocks)
    with pytest.raises(ValueError, match="differ in categories"):
        _ngrams.score_texts(["text"], [word, (char[0], char[1][:, 1:].copy(), *char[2:])])
    with pytest.raises(ValueError, match="cannot prepare"):
        _ngrams.normalise_and_score(normalizer, _refuse, ["fine", "caf\u00e9"], scorer.parts)


def _refuse(text: str) -> str:
    raise ValueError(f"cannot prepare {text!r}")
