"""The hand-written corpus in training_data/: size, schema, no near-copies."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from moderation.datasets import load_training_data

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "training_data").glob("*.jsonl"))


@pytest.fixture(scope="module")
def records():
    rows = []
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            rows.append((path.name, number, json.loads(line)))
    return rows


def test_schema(records):
    for name, number, record in records:
        where = f"{name}:{number}"
        assert set(record) == {"text", "labels", "lang", "source", "kind"}, where
        assert isinstance(record["text"], str) and record["text"].strip(), where
        assert set(record["labels"]) == {"spam", "toxic"}, where
        assert all(v in (0, 1) for v in record["labels"].values()), where
        assert record["source"] in {"news", "blog", "forum", "video"}, where
        assert len(record["lang"]) == 2 and record["lang"].islower(), where
        assert record["kind"].split(".")[0] in {"ham", "spam", "toxic", "obf", "topic"}, where


def test_near_copies_count_once_and_at_least_3000_remain(records):
    texts = [r["text"].lower() for _, _, r in records]
    words = CountVectorizer(binary=True, token_pattern=r"(?u)\b\w+\b").fit_transform(texts)
    words = words.astype(np.float32)
    shared = (words @ words.T).tocoo()
    sizes = np.asarray(words.sum(axis=1)).ravel()
    upper = shared.row < shared.col
    i, j, inter = shared.row[upper], shared.col[upper], shared.data[upper]
    jaccard = inter / (sizes[i] + sizes[j] - inter)
    near_copies = {int(b) for b, s in zip(j, jaccard, strict=True) if s > 0.8}
    assert len(texts) - len(near_copies) >= 3000
    assert len(set(texts)) == len(texts)


def test_every_kind_of_comment_is_covered(records):
    kinds = Counter(r["kind"].split(".")[0] for _, _, r in records)
    labels = Counter((r["labels"]["spam"], r["labels"]["toxic"]) for _, _, r in records)
    assert kinds["spam"] >= 500 and kinds["toxic"] >= 500 and kinds["obf"] >= 300
    assert kinds["ham"] >= 1200 and kinds["topic"] >= 300
    assert labels[(0, 0)] >= 1500 and labels[(1, 0)] >= 600 and labels[(0, 1)] >= 600
    spam_kinds = {r["kind"] for _, _, r in records if r["kind"].startswith("spam.")}
    assert {"spam.seo", "spam.crypto", "spam.wfh", "spam.pharma", "spam.essay", "spam.dating",
            "spam.loan", "spam.channel", "spam.bot_flattery"} <= spam_kinds


def test_topic_test_split_is_civil_and_held_out():
    rows = load_training_data(ROOT / "training_data")
    topic = [r for r in rows if r.source.endswith("topic_civil_test.jsonl")]
    assert len(topic) >= 300
    assert all(r.group == "test" and r.labels == {"spam": 0, "toxic": 0} for r in topic)
    assert all(r.group == "" for r in rows if not r.source.endswith("_test.jsonl"))
