import numpy as np
import pytest

from moderation.analysis import analyse, units, word_ngrams
from moderation.artefact import load_model
from moderation.explain import (
    _occurrences,
    _original_words,
    _spans,
    _stretches,
    _trim,
    _unit_totals,
    explain,
)
from moderation.normalize import normalize


@pytest.fixture(scope="module")
def model(models_dir):
    return load_model(models_dir).model


def _shares(model, normalised):
    """Per category, the sum of every occurrence's share of the linear score."""
    _, shares = _occurrences(model, normalised)
    return sum(s.sum(axis=1) for s in shares)


@pytest.mark.parametrize("text", [
    "You are a complete IDIOT!!! go away",
    "Buy cheap v1agra at www.pills-rx.shop now",
    "f u c k you, you st00pid b1tch",
    "a I  x",
])
def test_contributions_add_up_to_the_linear_score(model, text):
    normalised = normalize(text)
    raw = model.decision_function_normalized([normalised])[0]
    assert _shares(model, normalised) + model.intercept_ == pytest.approx(raw, abs=1e-4)
    blocks, shares = _occurrences(model, normalised)
    units = analyse(model, normalised).units
    # Crediting shares to words loses none of them.
    totals = _unit_totals(blocks, shares, len(units))
    assert totals.sum(axis=1) + model.intercept_ == pytest.approx(raw, abs=1e-4)
    # Asked for one category, the same shares and totals as asked for all.
    for j in range(len(model.categories_)):
        _, one = _occurrences(model, normalised, columns=[j])
        assert all(np.array_equal(a, b[j:j + 1]) for a, b in zip(one, shares, strict=True))
        assert np.array_equal(_unit_totals(blocks, one, len(units)), totals[j:j + 1])


@pytest.mark.parametrize("text", ["short a bb ccc dddd eeeee", "it's the _url_ dom_x_com end",
                                  "foo - bar baz-qux qux"])
def test_ngrams_match_scikit_learn_analysers(model, text):
    spans = units(text)
    (_, words), (_, chars) = model.features_.transformer_list
    grams, first, last = word_ngrams(words, text, [a for a, _ in spans])
    assert sorted(grams) == sorted(words.build_analyzer()(text))
    for gram, a, b in zip(grams, first, last, strict=True):  # the words each n-gram lies in
        covered = text[spans[a][0]:spans[b][1]]
        assert covered.startswith(text[spans[a][0]:spans[a][1]])
        assert gram.split(" ")[0] in text[spans[a][0]:spans[a][1]]
        assert gram.split(" ")[-1] in text[spans[b][0]:spans[b][1]]
    (word_block, char_block), _ = _occurrences(model, text)
    known = [chars.vocabulary_[g] for g in chars.build_analyzer()(text) if g in chars.vocabulary_]
    assert sorted(char_block.local.tolist()) == sorted(known)
    assert sorted(word_block.local.tolist()) == sorted(
        words.vocabulary_[g] for g in grams if g in words.vocabulary_)


@pytest.mark.parametrize(("text", "category", "word"), [
    ("Shut up you stupid MORON!!!", "toxic", "MORON"),
    ("f u c k you and your garbage article", "toxic", "f u c k"),
    ("Buy cheap viagra online at pills-best.shop", "spam", "pills-best.shop"),
    ("You are a compl\u200bete id\u0456ot", "toxic", "id\u0456ot"),
])
def test_evidence_points_at_the_original_text(model, text, category, word):
    evidence = explain(model, text, [category])[category]
    assert evidence and all(e.weight > 0 for e in evidence)
    assert [e.weight for e in evidence] == sorted((e.weight for e in evidence), reverse=True)
    for e in evidence:
        assert text[e.start:e.end] == e.text
    assert word in [e.text for e in evidence]
    first = evidence[0].to_dict()
    assert set(first) == {"text", "start", "end", "weight", "ngrams"}
    assert all(g["weight"] > 0 for g in first["ngrams"])


def test_a_clean_comment_has_no_toxic_evidence_over_the_intercept(model):
    evidence = explain(model, "", ["toxic", "spam"])
    assert evidence == {"toxic": [], "spam": []}
    assert np.isfinite(model.intercept_).all()


@pytest.mark.parametrize("text", [
    "Terror, terror, terror: the word repeats and so do its n-grams. " * 3,
    "Great post! Cheap v1agra and c1alis at www.pills-rx.shop, order now",
    "Привет, как дела? ünïcode ✓ " + "word " * 290,
    "",
])
def test_contributions_match_the_default_model_exactly(text):
    from pathlib import Path

    # The explanation rebuilds tf-idf from the n-gram occurrences it found, instead
    # of calling scikit-learn; on the served model the sum must still be the score.
    model = load_model(Path(__file__).resolve().parent.parent / "models").model
    normalised = normalize(text)
    raw = model.decision_function_normalized([normalised])[0]
    assert _shares(model, normalised) + model.intercept_ == pytest.approx(raw, abs=1e-4)


def test_other_tfidf_settings_take_scikit_learns_values(model):
    import pickle

    # Without sublinear tf the shares cannot be rebuilt from the counts alone: the
    # explanation then asks the vectorisers, and the shares must still sum to the score.
    plain = pickle.loads(pickle.dumps(model))
    for _, vec in plain.features_.transformer_list:
        vec.sublinear_tf = False
        vec._tfidf.sublinear_tf = False  # the fitted transformer keeps its own copy
    plain.__dict__.pop("_scorer", None)
    normalised = normalize("Idiot idiot idiot, buy cheap pills at pills-rx.shop")
    raw = plain.decision_function_normalized([normalised])[0]
    assert _shares(plain, normalised) + plain.intercept_ == pytest.approx(raw, abs=1e-4)
    assert raw != pytest.approx(model.decision_function_normalized([normalised])[0], abs=1e-4)


@pytest.mark.parametrize("text", [
    "You are a complete IDIOT!!! go away",
    "You are a complete IDIOT, go away",  # only lower-cased: the original words are used
    "Tabs\tand  double  spaces\n\nand NEW lines,   idiot",
    "ΣΟΦΟΣ said the idiot ΟΔΟΣ",  # a final sigma lowers differently inside a word
    "İstanbul idiots",  # "İ" lowers to two characters: normalisation keeps it
    "a\u00a0no-break\u2003space idiot",
    "You are a compl\u200bete id\u0456ot",  # changed inside words: offsets tracked
    "f u c k you, st00pid, visit www.pills-rx.shop or call +1 555 123 4567",
    "sooooo stupid!!!!!! ",
    "",
])
def test_a_known_normalisation_gives_the_same_evidence(model, text):
    # With the caller's normalised text the original words are found without
    # tracking offsets whenever normalisation only lower-cased and folded white space.
    categories = list(model.categories_)
    expected = explain(model, text, categories)
    assert explain(model, text, categories, normalised=normalize(text)) == expected
    for evidence in expected.values():
        assert all(text[e.start:e.end] == e.text for e in evidence)


def test_lower_casing_a_text_lower_cases_each_word_alone():
    # explain compares the normalised text with the whole text lower-cased, standing
    # for its words lower-cased one by one. Only a capital sigma lowers by its context
    # (final or not), and that context stops at white space when white space is
    # neither cased nor case-ignorable; nothing else lowers into or out of white space.
    characters = list(map(chr, range(0x110000)))
    for c in filter(str.isspace, characters):
        assert c.lower() == c
        assert ("A\u03a3" + c + "B").lower() == "a\u03c2" + c + "b"
        assert ("A" + c + "\u03a3").lower() == "a" + c + "\u03c3"
    assert [c for c in characters if c.lower() != c and c.lower().split() != [c.lower()]] == []
    text = "ΣΟΦΟΣ\u00a0ΟΔΟΣ İSTANBUL\u2003Σ'Σ A\u0301Σ"
    assert text.lower().split() == [w.lower() for w in text.split()]


@pytest.mark.parametrize(("text", "disjoint"), [
    ("You are a complete IDIOT!!! go away -- ... ok", True),
    ("f u c k you, st00pid!!!  \u200b (idiot)", True),
    ("visit www.pills-rx.shop now", False),  # "_url_ dom_pills_rx_shop": one stretch
    ("", True),
])
def test_words_with_disjoint_spans_stand_alone(model, text, disjoint):
    # explain trims only the words it shows when no two words' spans overlap; that
    # must rank the same stretches as trimming and merging every word.
    spans = _original_words(text, analyse(model, normalize(text)))
    totals = np.arange(2.0 * len(spans)).reshape(2, -1)
    stretches, members, by_span = _stretches(text, spans, totals)
    merged = _spans(text, spans)
    assert (members is None) == disjoint
    if disjoint:
        trimmed = [(_trim(text, *span), [u]) for u, span in enumerate(stretches)]
        assert [(span, u) for span, u in trimmed if span[0] < span[1]] == list(merged.items())
        assert stretches is spans and by_span is totals
    else:
        assert (stretches, members) == (list(merged), list(merged.values()))
        assert by_span.sum() == totals.sum()


@pytest.mark.parametrize(("text", "spans"), [
    ("Idiot, GO away", None),  # the words lie where the normalised ones do
    ("Idiot,\tGO away", None),
    ("Idiot!!! GO away", [(0, 8), (9, 11), (12, 16)]),  # tracked; folding moves no word
    ("Idiot!!!  GO away", [(0, 8), (10, 12), (13, 17)]),
    (" Idiot, GO away", [(1, 7), (8, 10), (11, 15)]),
    ("Idiot,  GO\n\naway ", [(0, 6), (8, 10), (12, 16)]),
    ("\u0130dIOT go", [(0, 5), (6, 8)]),  # normalisation keeps the dotted capital I
    ("Idiot!!! go", [(0, 8), (9, 11)]),  # "!!" in the normalised text
])
def test_original_words(model, text, spans):
    analysis = analyse(model, normalize(text))
    found = _original_words(text, analysis)
    assert found == (analysis.units if spans is None else spans)
    for (a, b), (c, d) in zip(analysis.units, found, strict=True):
        assert normalize(text[c:d]) == analysis.text[a:b]


def _python_evidence(model, text, categories):
    """explain() on the Python path, the reference the C path is held to."""
    from moderation.explain import MAX_EVIDENCE, evidence_python

    analysis = analyse(model, normalize(text))
    blocks, shares = _occurrences(model, analysis.text, analysis,
                                  [model.categories_.index(c) for c in categories])
    return evidence_python(text, _original_words(text, analysis), blocks, shares, categories,
                           MAX_EVIDENCE, len(analysis.units))


def _explained_texts():
    from tests.test_native_normalize import _EDGES
    from tests.test_normalize_exact import _training_texts

    rng = np.random.default_rng(0)
    texts = _training_texts()[::3]
    texts += ["".join(rng.choice(_EDGES, size=rng.integers(1, 30))) for _ in range(300)]
    return texts + ["visit www.pills-rx.shop now", "heap heap cheap", "a&  \u2661 a& \u2661"]


def test_the_c_path_is_built_and_taken(model):
    from moderation import explain as module

    assert module._explain is not None  # pip install compiles moderation/csrc/explain.c
    assert module._native_ready(model, analyse(model, normalize("you idiot")))


def test_the_c_path_gives_the_python_paths_evidence(model):
    categories = list(model.categories_)
    for text in _explained_texts():
        assert explain(model, text, categories) == _python_evidence(model, text, categories), text


def test_names_are_compared_not_only_hashed(model, monkeypatch):
    # Hashes only find candidates: with every name hashing alike, the exact comparison
    # of the names alone must still keep different n-grams apart and merge equal ones
    # (" ab" and "ab " of the character n-grams, and a word unigram of the same text).
    from moderation import explain as module

    monkeypatch.setattr(module, "name_hashes",
                        lambda terms, strip: np.zeros(len(terms), dtype=np.uint64))
    categories = list(model.categories_)
    for text in _explained_texts()[:400]:
        assert explain(model, text, categories) == _python_evidence(model, text, categories), text


def test_the_c_functions_refuse_bad_input(model):
    from moderation import explain as module

    analysis = analyse(model, normalize("you idiot"))
    block = analysis.blocks[1]
    share = np.zeros(len(block.local))
    hashes = module.name_hashes(block.terms, True)
    good = (share, block.first, block.last, block.local, block.terms, hashes, True)
    spans = np.array([[0, 3], [4, 9]], dtype=np.int64)
    assert module._explain.evidence("you idiot", spans, [good], 5, 3) == []
    with pytest.raises(IndexError, match="outside the text"):
        module._explain.evidence("you", spans, [good], 5, 3)
    with pytest.raises(IndexError, match="outside the words"):
        module._explain.evidence("you idiot", spans[:1], [good], 5, 3)
    with pytest.raises(ValueError, match="differ in length"):
        module._explain.evidence("you idiot", spans, [(share[:1], *good[1:])], 5, 3)
    with pytest.raises(ValueError, match="one per term"):
        module._explain.evidence("you idiot", spans, [(*good[:5], hashes[:2], True)], 5, 3)
    with pytest.raises(IndexError, match="outside the weights"):
        module._explain.shares(np.ones(1), 1.0, np.array([10**9]), np.ones(1, dtype=np.int64),
                               np.zeros(1, dtype=np.int64), model.coef_, 0, 0, True)
