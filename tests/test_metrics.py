import pytest

from moderation.metrics import category_metrics, choose_thresholds

Y = [0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1]
S = [0.05, 0.1, 0.15, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def test_metrics_on_a_known_ranking():
    m = category_metrics(Y, S, {"flag_at": 0.4, "reject_at": 0.6})
    assert m["rows"] == 12 and m["positives"] == 5
    # 35 positive-negative pairs, one mis-ordered (0.4 positive below 0.5 negative)
    assert m["roc_auc"] == pytest.approx(34 / 35, abs=1e-4)
    assert m["at_flag"] == {"precision": round(5 / 6, 4), "recall": 1.0,
                            "f1": round(2 * (5 / 6) / (5 / 6 + 1), 4), "positive_rate": 0.5}
    assert m["at_reject"]["precision"] == 1.0 and m["at_reject"]["recall"] == 0.8


def test_thresholds_meet_their_targets():
    t = choose_thresholds(Y, S, reject_precision=0.97, flag_recall=0.9, flag_precision=0.5)
    assert t == {"flag_at": 0.4, "reject_at": 0.6}


def test_flag_precision_floor_raises_a_noisy_flag_threshold():
    y = [1, 0, 0, 0, 0, 1, 1, 1]
    s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    assert choose_thresholds(y, s, flag_recall=0.9, flag_precision=0.0)["flag_at"] == 0.1
    assert choose_thresholds(y, s, flag_recall=0.9, flag_precision=0.6)["flag_at"] == 0.4  # 3 of 5


def test_no_precise_threshold_falls_back_to_a_high_reject():
    assert choose_thresholds([1, 0, 1, 0], [0.9, 0.9, 0.8, 0.8])["reject_at"] == 0.99


def test_one_confident_mistake_at_the_top_does_not_veto_rejection():
    # 40 positives above 40 negatives, except the single highest score is a negative.
    y = [0] * 40 + [1] * 40 + [0]
    s = [i / 100 for i in range(81)]
    t = choose_thresholds(y, s, reject_precision=0.97)
    assert t["reject_at"] == 0.4  # all 40 positives and one negative: precision 0.976
