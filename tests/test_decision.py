import pytest

from moderation.decision import decide, model_outcome
from moderation.policy import Check

T = {"spam": {"flag_at": 0.5, "reject_at": 0.9}, "toxic": {"flag_at": 0.4, "reject_at": 0.8}}
PASS = Check("links", True, "none", "0 link(s)")
FLAG_CHECK = Check("links", False, "flag", "3 link(s)", "policy.too_many_links")
REJECT_CHECK = Check("length", False, "reject", "1600 characters", "policy.too_long")


@pytest.mark.parametrize(("score", "expected"), [
    (0.0, "accept"), (0.399, "accept"), (0.4, "flag"), (0.79, "flag"), (0.8, "reject"),
    (1.0, "reject"),
])
def test_model_outcome_boundaries(score, expected):
    assert model_outcome("toxic", score, T["toxic"]) == expected


@pytest.mark.parametrize("limits", [T["toxic"], {"flag_at": 0.4, "reject_at": 0.4},
                                    {"flag_at": 0.0, "reject_at": 1.0},
                                    {"flag_at": 0.8, "reject_at": 0.4}])  # as decide() is given
@pytest.mark.parametrize("score", [0.0, -0.0, 0.2, 0.4, 0.6, 0.8, 1.0, float("nan")])
def test_decide_asks_for_what_model_outcome_says(limits, score):
    # decide() spells model_outcome() out; the two must not drift apart.
    _, reasons = decide({"toxic": score}, {"toxic": limits}, [])
    expected = model_outcome("toxic", score, limits)
    assert [r.action for r in reasons] == ([] if expected == "accept" else [expected])


@pytest.mark.parametrize(("scores", "checks", "decision", "codes"), [
    ({"spam": 0.1, "toxic": 0.1}, [PASS], "accept", []),
    ({"spam": 0.6, "toxic": 0.1}, [PASS], "flag", ["model.spam"]),
    ({"spam": 0.1, "toxic": 0.85}, [PASS], "reject", ["model.toxic"]),
    ({"spam": 0.1, "toxic": 0.1}, [FLAG_CHECK], "flag", ["policy.too_many_links"]),
    ({"spam": 0.6, "toxic": 0.1}, [REJECT_CHECK], "reject", ["policy.too_long", "model.spam"]),
    ({"spam": 0.95, "toxic": 0.5}, [FLAG_CHECK], "reject",
     ["model.spam", "model.toxic", "policy.too_many_links"]),
])
def test_most_severe_outcome_wins_and_every_reason_is_kept(scores, checks, decision, codes):
    result, reasons = decide(scores, T, checks)
    assert result == decision
    assert [r.code for r in reasons] == codes


def test_reason_messages_are_human_readable():
    _, reasons = decide({"spam": 0.93, "toxic": 0.0}, T, [])
    assert reasons[0].to_dict() == {
        "code": "model.spam", "action": "reject",
        "message": "spam score 0.930 is at or above the reject threshold 0.900"}


def test_each_check_dict_is_a_fresh_copy():
    # Checks are shared between comments; their JSON form is built once.
    first = FLAG_CHECK.to_dict()
    first["detail"] = "edited by a caller"
    assert FLAG_CHECK.to_dict() == {"name": "links", "passed": False, "action": "flag",
                                    "detail": "3 link(s)"}
    assert FLAG_CHECK.to_dict() is not FLAG_CHECK.to_dict()


def test_reasons_read_the_same_when_shared_between_comments():
    # Reasons are made once per score and threshold; 0.0 and -0.0 are one key
    # to that cache but print differently, so each must read as given.
    for limit in (0.0, -0.0, 0.0, -0.0):
        _, reasons = decide({"spam": 0.5}, {"spam": {"flag_at": limit, "reject_at": 0.9}},
                            [])
        assert reasons[0].message == f"spam score 0.500 is at or above the flag threshold " \
                                     f"{limit:.3f}"
    _, shared = decide({"spam": 0.95}, T, [FLAG_CHECK])
    edited = shared[0].to_dict()
    edited["message"] = "edited by a caller"
    _, again = decide({"spam": 0.95}, T, [FLAG_CHECK])
    assert again[0] is shared[0]
    assert again[0].to_dict()["message"] == "spam score 0.950 is at or above the reject " \
                                            "threshold 0.900"
