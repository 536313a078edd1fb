import json

import numpy as np
import pytest

from moderation.artefact import load_model, read_current, save_model, write_current
from moderation.errors import ModelError, ModelIntegrityError
from moderation.model import UNKNOWN, ModerationModel
from tests.conftest import THRESHOLDS, tiny_corpus


@pytest.fixture
def trained():
    texts, labels = tiny_corpus()
    return ModerationModel(C=10.0, min_df=1).fit(texts, labels)


def test_model_learns_the_tiny_corpus(trained):
    proba = trained.predict_proba(["Buy cheap v1agra online at pills-best.shop",
                                   "You stupid idiot, shut up",
                                   "Thanks for the article about the library"])
    assert proba.shape == (3, 2)
    assert trained.categories_ == ("spam", "toxic")
    assert proba[0, 0] > proba[2, 0] and proba[0, 0] > proba[1, 0]
    assert proba[1, 1] > proba[2, 1] and proba[1, 1] > proba[0, 1]
    assert ((proba >= 0) & (proba <= 1)).all()


def test_training_is_reproducible(trained):
    texts, labels = tiny_corpus()
    again = ModerationModel(C=10.0, min_df=1).fit(texts, labels)
    np.testing.assert_array_equal(trained.coef_, again.coef_)


def test_unknown_labels_leave_rows_out_of_a_head():
    texts, labels = tiny_corpus()
    labels["spam"] = [UNKNOWN if i % 2 else v for i, v in enumerate(labels["spam"])]
    model = ModerationModel(min_df=1).fit(texts, labels)
    assert model.predict_proba(["hello"]).shape == (1, 2)
    with pytest.raises(ValueError, match="needs both positive and negative"):
        ModerationModel(min_df=1).fit(texts[:4], {"spam": [0, 0, 0, 0]})


def test_a_new_category_needs_no_code_change():
    texts, labels = tiny_corpus()
    labels["shouting"] = [int(t.isupper()) for t in texts]
    labels["shouting"][0] = 1
    model = ModerationModel(min_df=1).fit(texts, labels)
    assert model.categories_ == ("spam", "toxic", "shouting")


def test_save_and_load_round_trip(tmp_path, trained):
    folder = save_model(trained, {"thresholds": THRESHOLDS}, tmp_path, "v1")
    write_current(tmp_path, "v1")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == "v1" and len(manifest["sha256"]) == 64
    loaded = load_model(tmp_path)
    assert loaded.version == "v1" and read_current(tmp_path) == "v1"
    np.testing.assert_array_equal(loaded.model.predict_proba(["hi"]), trained.predict_proba(["hi"]))
    with pytest.raises(ModelError, match="already exists"):
        save_model(trained, {"thresholds": THRESHOLDS}, tmp_path, "v1")


def test_tampered_artefact_is_refused(tmp_path, trained):
    folder = save_model(trained, {"thresholds": THRESHOLDS}, tmp_path, "v1")
    with open(folder / "model.joblib", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelIntegrityError, match="refusing to load"):
        load_model(tmp_path, "v1")


@pytest.mark.parametrize(("setup", "message"), [
    (lambda d: None, "no CURRENT file"),
    (lambda d: (d / "CURRENT").write_text("v9\n"), "model v9 not found"),
    (lambda d: (d / "CURRENT").write_text("../etc\n"), "invalid model version"),
])
def test_missing_models_are_clear_errors(tmp_path, setup, message):
    setup(tmp_path)
    with pytest.raises(ModelError, match=message):
        load_model(tmp_path)


def test_failed_save_leaves_no_partial_folder(tmp_path, trained):
    with pytest.raises(TypeError):
        save_model(trained, {"thresholds": THRESHOLDS, "bad": object()}, tmp_path, "v2")
    assert list(tmp_path.iterdir()) == []


def test_artefact_is_plain_pickle_and_older_joblib_artefacts_still_load(tmp_path, trained):
    import joblib

    from moderation.artefact import sha256_file

    folder = save_model(trained, {"thresholds": THRESHOLDS}, tmp_path, "new")
    assert json.loads((folder / "manifest.json").read_text())["format"] == "pickle"
    assert (folder / "model.joblib").read_bytes()[:2] == b"\x80\x05"  # pickle protocol 5
    # A model saved before the format existed: joblib-compressed, no "format" key.
    old = tmp_path / "old"
    old.mkdir()
    joblib.dump(trained, old / "model.joblib", compress=3)
    (old / "manifest.json").write_text(json.dumps({
        "version": "old", "thresholds": THRESHOLDS, "sha256": sha256_file(old / "model.joblib")}))
    for version in ("new", "old"):
        np.testing.assert_array_equal(load_model(tmp_path, version).model.predict_proba(["hi"]),
                                      trained.predict_proba(["hi"]))
