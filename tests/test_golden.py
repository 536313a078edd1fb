"""Golden decisions of the committed default model with the default policy.

Each row is what a careful human moderator would decide; a retrained default
model must keep these (or the table is revised on purpose, in review).
"""

from pathlib import Path

import numpy as np
import pytest

from moderation.artefact import load_model
from moderation.config import load_settings
from moderation.moderator import Moderator

ROOT = Path(__file__).resolve().parent.parent
AUTHOR = {"author_name": "Sam Reader", "author_email": "sam@example.org"}

# A real reader comment from a news site's article on NGOs fighting extremism:
# topic vocabulary alone must not get it rejected.
NGO_COMMENT = (
    "Aiding terror, tax evasion, and money laundering, terror, torture, bondage, slavery "
    "aiding terror, arbitrary detainment, displacement, And interfering with cell phone "
    "order, stating we don't want people to following citizens that obey the law and report "
    "crime.")

GOLDEN = [
    ("Thanks for this explainer. I had no idea the council had already cut the night buses "
     "twice.", "accept"),
    ("Jihadist recruiters target isolated teenagers online; schools need better media "
     "literacy programmes.", "accept"),
    ("My uncle was killed in the 2005 bombings. Twenty years on, the inquiry still has "
     "unanswered questions.", "accept"),
    ("Scunthorpe United deserved the win, the class on display was superb.", "accept"),
    ("This update killed my battery, I'd kill for the old version back.", "accept"),
    ("The essay by the professor on extremism in the 1930s is worth reading.", "accept"),
    ("Here is the council's own report on the bus cuts: https://council.example.gov/report",
     "accept"),
    ("Buy cheap viagra online, no prescription needed! www.cheap-pills-rx.shop", "reject"),
    ("I made $8,500 last month working from home. Message me on WhatsApp +1 555 0123 4567 "
     "to learn how", "reject"),
    ("Great post! Visit my site for the best SEO services https://rank-first-seo.net",
     "reject"),
    ("Check out my channel for daily crypto signals!!! sub4sub", "reject"),
    ("You are a pathetic idiot and nobody wants you here.", "reject"),
    ("f u c k you, you st00pid b1tch", "reject"),
    ("Immigrants are vermin and should be sent back.", "reject"),
]


@pytest.fixture(scope="module")
def default_moderator():
    settings = load_settings({"models_dir": str(ROOT / "models")}, environ={})
    return Moderator(load_model(ROOT / "models"), settings)


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden_decisions(default_moderator, text, expected):
    result = default_moderator.moderate({"content": text, **AUTHOR})
    assert result["decision"] == expected, result["reasons"]


def test_ngo_comment_on_extremism_is_not_rejected(default_moderator):
    result = default_moderator.moderate({"content": NGO_COMMENT, **AUTHOR})
    assert result["decision"] != "reject", result["reasons"]
    assert result["scores"]["toxic"] < default_moderator.thresholds["toxic"]["reject_at"]


def test_policy_rejection_still_reports_model_scores(default_moderator):
    result = default_moderator.moderate({"content": "Lovely photos " * 200, **AUTHOR})
    assert result["decision"] == "reject"
    assert [r["code"] for r in result["reasons"]] == ["policy.too_long"]
    assert set(result["scores"]) == {"spam", "toxic"}


def test_committed_model_manifest_is_complete():
    loaded = load_model(ROOT / "models")
    manifest = loaded.manifest
    for key in ("version", "created_at", "libraries", "sha256", "data_sources", "metrics",
                "thresholds", "categories"):
        assert key in manifest, key
    assert {"scikit-learn", "numpy", "joblib"} <= set(manifest["libraries"])
    assert all(s["rows"] > 0 and s["licence"] for s in manifest["data_sources"])
    assert (ROOT / "models" / loaded.version / "model.joblib").stat().st_size < 30 * 2**20


def test_committed_model_numbers_its_terms_commonest_first(default_moderator):
    # What fit() does (moderation.term_order): a default model saved without it would
    # score the same, only slower.
    for _, vectoriser in default_moderator.loaded.model.features_.transformer_list:
        idf = np.asarray(vectoriser.idf_)
        assert len(idf) == len(vectoriser.vocabulary_) > 1000
        assert np.all(np.diff(idf) >= 0)
        assert all(type(i) is int for i in list(vectoriser.vocabulary_.values())[:100])
