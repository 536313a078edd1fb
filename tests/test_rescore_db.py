"""Re-scoring stored comments, on SQLite, PostgreSQL and MariaDB."""

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from moderation.checks import Check
from moderation.comment import parse_comment
from moderation.errors import ConfigError
from moderation.rescore import OwnSource, Selection, rescore_database
from moderation.rescore.sources import recorded_checks
from moderation.store import decision_history, migrate, open_engine, rescore_runs, utcnow

from .rescore_helpers import seed, stored


def _history(engine):
    h = decision_history.c
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(decision_history).order_by(
            h.comment_id)).mappings()]


def _expected(moderator, row):
    # Batch mode, as a re-score runs: no live submission checks, no explanation.
    return moderator.moderate_many([parse_comment({k: row[k] for k in (
        "content", "author_name", "author_email")})])[0]


def test_rescore_updates_decisions_and_appends_history(engine, moderator):
    ids = seed(engine, 14)
    report = rescore_database(engine, moderator, OwnSource(), Selection(), batch_size=4)
    after = stored(engine)
    for row in after.values():
        expected = _expected(moderator, row)
        assert {k: row[k] for k in expected} == expected
    history = _history(engine)
    assert [h["comment_id"] for h in history] == ids
    assert {h["run_id"] for h in history} == {report.run_id}
    assert all(h["old_decision"] == "accept" and h["old_model_version"] == "old-model"
               and h["model_version"] == "tiny-1" for h in history)
    assert [h["new_decision"] for h in history] == [after[i]["decision"] for i in ids]
    assert all(dt.timedelta(0) <= utcnow() - h["changed_at"] < dt.timedelta(minutes=5)
               for h in history)
    assert report.rows == report.total == 14
    assert report.matrix["accept"]["reject"] == sum(
        r["decision"] == "reject" for r in after.values()) > 0
    assert report.changed == sum(r["decision"] != "accept" for r in after.values())
    with engine.connect() as conn:
        run = conn.execute(select(rescore_runs)).mappings().one()
    assert run["finished_at"] is not None and run["rows_done"] == 14


def test_dry_run_writes_nothing(engine, moderator):
    seed(engine, 9)
    before = stored(engine)
    report = rescore_database(engine, moderator, OwnSource(), Selection(), batch_size=4,
                              dry_run=True)
    assert stored(engine) == before and _history(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rescore_runs)).scalar() == 0
    assert report.run_id is None and report.total == 9
    assert sum(report.matrix["accept"].values()) == 9 and report.changed > 0
    example_id, snippet = report.examples[("accept", "reject")][0]
    assert before[example_id]["content"].startswith(snippet.rstrip("…"))


OLD = dt.datetime(2020, 1, 1)


@pytest.mark.parametrize(("selection", "expected"), [
    (Selection(), {"old", "current", "flagged", "ancient"}),
    (Selection(only_stale=True), {"old", "flagged", "ancient"}),
    (Selection(statuses=("flag",)), {"flagged"}),
    (Selection(statuses=("flag", "reject")), {"flagged", "current"}),
    (Selection(since=dt.datetime(2024, 1, 1)), {"old", "current", "flagged"}),
    (Selection(since=dt.datetime(2024, 1, 1), only_stale=True, statuses=("accept",)),
     {"old"}),
])
def test_selection(engine, moderator, selection, expected):
    seed(engine, 3, prefix="old")
    seed(engine, 3, prefix="current", decision="reject", model_version=moderator.model_version,
         policy_version=moderator.policy_version)
    seed(engine, 3, prefix="flagged", decision="flag")
    seed(engine, 3, prefix="ancient", created_at=OLD)
    rescore_database(engine, moderator, OwnSource(), selection, batch_size=2)
    touched = {h["comment_id"].rstrip("0123456789") for h in _history(engine)}
    assert touched == expected
    assert len(_history(engine)) == 3 * len(expected)


def test_only_stale_twice_finds_nothing_the_second_time(engine, moderator):
    seed(engine, 5)
    first = rescore_database(engine, moderator, OwnSource(), Selection(only_stale=True))
    second = rescore_database(engine, moderator, OwnSource(), Selection(only_stale=True))
    assert (first.total, second.total) == (5, 0)
    assert first.run_id != second.run_id and len(_history(engine)) == 5


HONEYPOT = {"name": "honeypot", "passed": False, "action": "reject",
            "detail": "the hidden field was filled in"}
HONEYPOT_REASON = {"code": "policy.honeypot", "action": "reject",
                   "message": "honeypot: the hidden field was filled in"}


@pytest.mark.parametrize("recheck", [False, True])
def test_submission_checks_keep_their_recorded_outcome(engine, moderator, recheck):
    seed(engine, 1, checks=[{"name": "length", "passed": True, "action": "none",
                             "detail": "old"}, HONEYPOT], reasons=[HONEYPOT_REASON])
    rescore_database(engine, moderator, OwnSource(), Selection(recheck_submission=recheck))
    row = stored(engine)["c00000"]  # a civil comment: the model alone accepts it
    names = [c["name"] for c in row["checks"]]
    if recheck:  # dropped, not re-run: the form it judged is gone
        assert row["decision"] == "accept" and "honeypot" not in names
    else:
        assert row["decision"] == "reject" and row["reasons"] == [HONEYPOT_REASON]
        assert names.count("honeypot") == 1 and HONEYPOT in row["checks"]
    assert names.count("length") == 1 and "old" not in str(row["checks"])


TRUSTED = {"name": "trust", "passed": True, "action": "accept", "detail": "known author"}


@pytest.mark.parametrize(("old", "expected"), [
    (None, []),
    ({"checks": "[{oops", "reasons": "[]"}, []),  # unreadable: nothing carried
    ({"checks": json.dumps([HONEYPOT]), "reasons": "[{oops"}, []),
    ({"checks": json.dumps([HONEYPOT, {"name": "length", "passed": False}]),
      "reasons": json.dumps([{**HONEYPOT_REASON, "code": "site.trap"}])},
     [Check("honeypot", False, "reject", HONEYPOT["detail"], "site.trap")]),
    ({"checks": json.dumps([HONEYPOT]), "reasons": "[]"},
     [Check("honeypot", False, "reject", HONEYPOT["detail"], "policy.honeypot")]),
    # passed checks need no code, so unreadable reasons do not matter to them
    ({"checks": json.dumps([TRUSTED]), "reasons": "[{oops"},
     [Check("trust", True, "accept", "known author", "")]),
])
def test_recorded_checks(old, expected):
    assert recorded_checks(old) == expected


def test_parallel_workers_give_the_same_rows(tmp_path, moderator):
    results = []
    for workers in (1, 2):
        engine = open_engine(f"sqlite:///{tmp_path / f'w{workers}.db'}")
        migrate(engine)
        seed(engine, 40)
        rescore_database(engine, moderator, OwnSource(), Selection(), batch_size=7,
                         workers=workers)
        results.append({i: {k: r[k] for k in ("decision", "scores", "reasons", "checks")}
                        for i, r in stored(engine).items()})
        assert len(_history(engine)) == 40
        engine.dispose()
    assert results[0] == results[1]


def test_bad_status_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown status"):
        Selection(statuses=("spam",))
