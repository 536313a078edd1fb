"""Loaders for ../shared/datasets; skipped cleanly when the folder is absent."""

import pytest

from moderation.datasets import SOURCES, load_source
from moderation.errors import InputFileError
from tests.conftest import DATA_DIR

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"{DATA_DIR} not present")

EXPECTED = {  # rows and positives as documented in the datasets' README
    "youtube_spam": (1956, "spam", 1005),
    "jigsaw_toxic_subset": (5065, "toxic", 900),
    "davidson_hate_offensive": (24783, "toxic", 1430 + 19190),
    "stormfront_hate_forum": (9507 + 1196, "toxic", 1196),
}


@needs_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loader_counts_match_the_readme(name):
    rows = load_source(name, DATA_DIR)
    total, category, positives = EXPECTED[name]
    assert len(rows) == total
    assert sum(r.labels[category] for r in rows) == positives


@needs_data
def test_youtube_groups_by_video_and_survives_the_unbalanced_quote():
    rows = load_source("youtube_spam", DATA_DIR)
    counts = {v: sum(r.group == v for r in rows) for v in {r.group for r in rows}}
    assert counts == {"Psy": 350, "KatyPerry": 350, "LMFAO": 438, "Eminem": 448, "Shakira": 370}


@needs_data
def test_olid_keeps_the_official_test_set_apart():
    rows = load_source("olid_offenseval2019", DATA_DIR)
    test = [r for r in rows if r.group == "test"]
    assert len(test) == 860 and sum(r.labels["toxic"] for r in test) == 240
    assert len(rows) - len(test) == 13240


@needs_data
def test_toxic_spans_test_file_is_held_out_with_spans():
    rows = load_source("civil_comments_toxic_spans", DATA_DIR)
    test = [r for r in rows if r.group == "test"]
    assert len(test) == 2000
    train_texts = {r.text for r in rows if r.group != "test"}
    assert not train_texts & {r.text for r in test}
    assert any(r.spans for r in test)


def test_missing_dataset_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputFileError, match="dataset folder .* not found"):
        load_source("youtube_spam", tmp_path)


def test_every_source_records_a_licence():
    assert all(source.licence for source in SOURCES.values())
