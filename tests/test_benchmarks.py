"""The benchmark harness, pinned on hand-made scores and on a tiny data folder."""

import csv
import json

import numpy as np
import pytest

from moderation.artefact import load_model
from moderation.benchmarks import OURS, PEER, Scored, run_benchmarks, span_f1
from moderation.cli import cli
from moderation.evaluate import benchmark_table, format_table

from .conftest import HAM, SPAM, THRESHOLDS, TOXIC

T = {"flag_at": 0.5, "reject_at": 0.8}


def _scored(y, s, adv=None, system=OURS, fold="", thresholds=T):
    return Scored("bench", "toxic", system, np.asarray(y), np.asarray(s, dtype=float),
                  None if adv is None else np.asarray(adv, dtype=float), thresholds, fold=fold)


def test_a_row_has_known_metrics():
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    s = [0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.85, 0.9]
    adv = [0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.5, 0.2]
    [row] = benchmark_table([_scored(y, s, adv)])
    assert row["rows"] == 8 and row["positives"] == 4 and row["folds"] == 1
    assert row["roc_auc"] == 0.9375  # 15 of 16 pairs in order
    assert row["adversarial_roc_auc"] == 0.7188  # 11.5 of 16 (one tie)
    assert row["adversarial_drop"] == pytest.approx(0.21875, abs=1e-4)
    # flag at 0.5: 3 true positives, 1 false positive, 1 false negative
    assert row["f1"] == 0.75 and row["recall_at_flag"] == 0.75
    assert row["macro_f1"] == 0.75  # negatives: 3 right of 4, 1 missed positive: F1 0.75
    assert (row["accept"], row["flag"], row["reject"]) == (0.5, 0.25, 0.25)
    # ECE over bins: 0.1,0.2,0.3 (negatives), 0.4 (pos), 0.6 (neg), 0.7 (pos), 0.85/0.9 (pos)
    expected = (0.1 + 0.2 + 0.3 + 0.6 + 0.6 + 0.3 + 0.15 + 0.1) / 8
    assert row["ece"] == pytest.approx(expected, abs=1e-4)


def test_folds_are_averaged_and_counts_summed():
    a = _scored([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], fold="a")
    b = _scored([0, 1, 0, 1], [0.6, 0.4, 0.2, 0.8], fold="b")
    [row] = benchmark_table([a, b])
    assert row["folds"] == 2 and row["rows"] == 8 and row["positives"] == 4
    assert row["roc_auc"] == pytest.approx((1.0 + 0.75) / 2)  # fold b: 3 of 4 pairs


def test_the_peer_has_no_reject_rate_and_notes_are_footnoted():
    peer = _scored([0, 1], [0.2, 0.7], system=PEER, thresholds={"flag_at": 0.5, "reject_at": 1.01})
    peer.note = "contaminated"
    rows = benchmark_table([_scored([0, 1], [0.2, 0.7]), peer])
    assert rows[1]["reject"] is None and rows[1]["flag"] == 0.5
    table = format_table(rows)
    assert f"{PEER}*" in table and "* contaminated" in table


@pytest.mark.parametrize(("predicted", "gold", "expected"), [
    ([set()], [set()], 1.0),
    ([{1}], [set()], 0.0),
    ([set()], [{1}], 0.0),
    ([{1, 2, 3, 4}], [{3, 4, 5, 6}], 0.5),
    ([{1, 2}, set()], [{1, 2}, {7}], 0.5),
])
def test_span_f1_is_the_semeval_metric(predicted, gold, expected):
    assert span_f1(predicted, gold) == expected


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A tiny stand-in for ../shared/datasets, in the real files' formats."""
    root = tmp_path_factory.mktemp("datasets")
    olid = root / "olid_offenseval2019"
    olid.mkdir()
    with open(olid / "olid-training-v1.0.tsv", "w") as fh:
        fh.write("id\ttweet\tsubtask_a\tsubtask_b\tsubtask_c\n1\t@USER hi\tNOT\tNULL\tNULL\n")
    with open(olid / "olid-test-levela-with-labels.tsv", "w") as fh:
        fh.write("id\ttweet\tsubtask_a\n")
        for i, t in enumerate(HAM[:6] + TOXIC[:4]):
            fh.write(f"{i}\t{t}\t{'OFF' if t in TOXIC else 'NOT'}\n")
    jigsaw = root / "jigsaw_toxic_subset"
    jigsaw.mkdir()
    with open(jigsaw / "jigsaw_train_subset_union.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "comment_text", "toxic"])
        for i, t in enumerate((HAM + TOXIC) * 3):
            w.writerow([f"id{i:04d}", f"{t} ({i})", int(t in TOXIC)])
    youtube = root / "youtube_spam"
    youtube.mkdir()
    for v in range(1, 6):
        with open(youtube / f"Youtube0{v}-Video{v}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"])
            for i, t in enumerate(HAM[:6] + SPAM[:4]):
                w.writerow([f"c{v}{i}", "a", "", f"{t} v{v}", int(t in SPAM)])
    spans = root / "civil_comments_toxic_spans" / "semeval2021"
    spans.mkdir(parents=True)
    with open(spans / "tsd_test.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["spans", "text"])
        w.writerow([json.dumps(list(range(18, 23))), "Shut up you stupid moron"])
        w.writerow(["[]", "What a lovely day"])
    return root


def test_every_benchmark_runs_on_a_tiny_folder(models_dir, data_dir, tmp_path):
    loaded = load_model(models_dir)
    training = tmp_path / "training"
    training.mkdir()
    (training / "topic_civil_test.jsonl").write_text("".join(
        json.dumps({"text": t, "labels": {"toxic": 0}}) + "\n" for t in HAM))
    (training / "own.jsonl").write_text("".join(
        json.dumps({"text": t, "labels": {"toxic": int(t in TOXIC), "spam": int(t in SPAM)}})
        + "\n" for t in HAM + SPAM + TOXIC))
    peer = lambda texts: np.full(len(texts), 0.5)  # noqa: E731 - a stand-in peer
    scored = run_benchmarks(loaded.model, THRESHOLDS, {"min_df": 1, "C": 10.0}, data_dir,
                            training, peer, progress=lambda m: None)
    rows = {(r["benchmark"].split(" ")[0], r["category"], r["system"]): r
            for r in benchmark_table(scored)}
    assert rows[("youtube_spam", "spam", OURS)]["folds"] == 5
    assert rows[("youtube_spam", "spam", OURS)]["rows"] == 50
    assert ("youtube_spam", "spam", PEER) not in rows  # the peer does not score spam
    assert rows[("olid", "toxic", OURS)]["rows"] == 10
    assert rows[("olid", "toxic", PEER)]["roc_auc"] == 0.5
    assert rows[("jigsaw_subset", "toxic", PEER)]["note"].startswith("contaminated")
    assert rows[("topic_civil_test", "toxic", OURS)]["positives"] == 0
    spans = rows[("toxic_spans", "toxic", OURS)]
    assert spans["rows"] == 2 and 0.0 <= spans["span_f1"] <= 1.0
    for row in rows.values():
        assert row["accept"] + row["flag"] + (row["reject"] or 0) == pytest.approx(1.0, abs=1e-3)


def test_cli_evaluate_prints_the_table_and_writes_a_report(runner, models_dir, data_dir,
                                                           tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(models_dir))
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("".join(json.dumps({"text": t, "labels": {"toxic": int(t in TOXIC)}})
                                + "\n" for t in HAM + TOXIC))
    report = tmp_path / "report"
    result = runner.invoke(cli, ["evaluate", str(labelled), "--data-dir", str(data_dir),
                                 "--report", str(report), "--no-peer"])
    assert result.exit_code == 0, result.output
    assert '"roc_auc": 1.0' in result.output  # the tiny model knows its own corpus
    assert "youtube_spam (cross-video)" in result.output and "advΔ" in result.output
    text = (report / "report.md").read_text()
    pngs = sorted(p.name for p in report.glob("*.png"))
    assert pngs and all(f"({name})" in text for name in pngs)
    assert runner.invoke(cli, ["evaluate"]).exit_code == 2
    no_data = runner.invoke(cli, ["evaluate", str(labelled), "--report", str(report)])
    assert no_data.exit_code == 2 and "--report needs --data-dir" in no_data.output


def test_the_real_peer_is_installed_and_scores_texts():
    from moderation.benchmarks import peer_scorer

    peer = peer_scorer()
    assert peer is not None, "alt-profanity-check is part of the test extra"
    scores = peer(["you are a fucking idiot", "thanks for the lovely photos"])
    assert scores.shape == (2,) and scores[0] > 0.5 > scores[1]
