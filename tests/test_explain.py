import numpy as np
import pytest

from moderation.artefact import load_model
from moderation.explain import _char_wb_ngrams, _contributions, _word_ngrams, explain
from moderation.normalize import normalize


@pytest.fixture(scope="module")
def model(models_dir):
    return load_model(models_dir).model


@pytest.mark.parametrize("text", [
    "You are a complete IDIOT!!! go away",
    "Buy cheap v1agra at www.pills-rx.shop now",
    "f u c k you, you st00pid b1tch",
    "a I  x",
])
def test_contributions_add_up_to_the_linear_score(model, text):
    normalised = normalize(text)
    raw = model.decision_function_normalized([normalised])[0]
    for j in range(len(model.categories_)):
        total = sum(v for *_, v in _contributions(model, normalised, j)) + model.intercept_[j]
        assert total == pytest.approx(raw[j], abs=1e-4)


@pytest.mark.parametrize("text", ["short a bb ccc dddd eeeee", "it's the _url_ dom_x_com end"])
def test_ngrams_match_scikit_learn_analysers(model, text):
    for (_, vec), ours in zip(model.features_.transformer_list, (_word_ngrams, _char_wb_ngrams),
                              strict=True):
        expected = sorted(vec.build_analyzer()(text))
        grams = list(ours(vec, text))
        assert sorted(g for g, _, _ in grams) == expected
        for gram, start, end in grams:  # each span starts and ends with its n-gram's text
            words = gram.strip().split(" ")
            assert text[start:end].startswith(words[0].strip())
            assert text[start:end].endswith(words[-1].strip())


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
    for j in range(len(model.categories_)):
        total = sum(v for *_, v in _contributions(model, normalised, j)) + model.intercept_[j]
        assert total == pytest.approx(raw[j], abs=1e-4)
