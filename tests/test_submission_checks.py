"""Submission-time checks: flood, duplicates, honeypot, timing, closed threads and
trust, with their state on SQLite, PostgreSQL, MariaDB and Redis."""

import datetime as dt
import multiprocessing
import os
import uuid

import pytest

from moderation.checks import ACCEPT, Check
from moderation.config import load_settings
from moderation.decision import decide
from moderation.normalize import normalize
from moderation.policy import Policy, Submission
from moderation.policy_state import PolicyState, hash_key
from moderation.store import migrate, open_engine

from .conftest import THRESHOLDS, fresh_database

T0 = dt.datetime(2026, 11, 25, 9, 0, 0)
GOOD = {"content": "A perfectly fine comment.", "author_name": "Ann",
        "author_email": "ann@example.org", "author_ip": "192.0.2.1", "post_id": "7"}
PASS = (True, "none", "")


@pytest.fixture(params=["sqlite", "postgresql", "mariadb", "redis"])
def state(request, tmp_path):
    """Shared state on each backend (Redis keeps flood and duplicate claims)."""
    kind = request.param
    redis_url = ""
    if kind == "redis":
        redis_url = os.environ.get("MODERATION_TEST_REDIS_URL", "")
        if not redis_url:
            pytest.skip("MODERATION_TEST_REDIS_URL is not set")
    with fresh_database("sqlite" if kind == "redis" else kind, tmp_path) as url:
        engine = open_engine(url)
        migrate(engine)
        prefix = f"moderation-test:{uuid.uuid4().hex}:"
        state = PolicyState(engine, redis_url, redis_prefix=prefix)
        try:
            yield state
        finally:
            if state.redis is not None:
                keys = list(state.redis.scan_iter(match=prefix + "*"))
                if keys:
                    state.redis.delete(*keys)
                state.redis.close()
            engine.dispose()


def run(state, comment, seconds=0, name=None, **settings):
    policy = Policy(load_settings(settings, environ={}))
    sub = Submission(T0 + dt.timedelta(seconds=seconds), state)
    checks = {c.name: c for c in policy.run(comment, normalize(comment["content"]), sub)}
    return checks if name is None else (checks[name].passed, checks[name].action,
                                        checks[name].code)


FLOOD = (False, "reject", "policy.flood")


@pytest.mark.parametrize(("second", "after", "expected"), [
    ({"content": "Another thought."}, 5, FLOOD),  # same IP, e-mail and name
    ({"content": "Another thought."}, 15, PASS),  # the window has passed
    ({"content": "x", "author_name": "Bob", "author_email": "bob@example.org"}, 1, FLOOD),
    ({"author_ip": "192.0.2.2", "author_name": "Bob", "author_email": "ANN@example.org"}, 1,
     FLOOD),  # e-mails compare without case
    ({"author_ip": "192.0.2.2", "author_name": "Bob", "author_email": "bob@example.org"}, 1,
     PASS),
])
def test_flood(state, second, after, expected):
    assert run(state, GOOD, 0, "flood") == PASS
    assert run(state, {**GOOD, **second}, after, "flood") == expected


def test_flood_rejects_do_not_extend_the_window_and_it_can_be_disabled(state):
    assert run(state, GOOD, 0, "flood") == PASS
    assert run(state, GOOD, 10, "flood") == FLOOD
    assert run(state, GOOD, 15, "flood") == PASS  # counted from 0, not from 10
    assert run(state, GOOD, 16, "flood", flood_seconds=0) == PASS


def _verdicts(checks):
    return {name: checks[name].passed for name in ("flood", "duplicate")}


def test_flood_and_duplicate_claims_stand_or_fall_each_on_its_own(state):
    other = {**GOOD, "content": "Another thought entirely."}
    assert _verdicts(run(state, GOOD, 0)) == {"flood": True, "duplicate": True}
    # Flooded, yet its new content is claimed: sent again later, it is a duplicate.
    assert _verdicts(run(state, other, 5)) == {"flood": False, "duplicate": True}
    assert _verdicts(run(state, other, 20)) == {"flood": True, "duplicate": False}
    # A duplicate, yet it claims the flood window: sent again at once, it floods.
    assert _verdicts(run(state, GOOD, 40)) == {"flood": True, "duplicate": False}
    assert _verdicts(run(state, {**GOOD, "content": "New words."}, 45)) == {
        "flood": False, "duplicate": True}


def test_flood_and_duplicate_claims_are_one_statement(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'one.db'}")
    migrate(engine)
    state = PolicyState(engine)
    kept = state.connections.acquire()
    state.connections.release(kept, committed=False)
    statements = []
    kept.dbapi.set_trace_callback(statements.append)
    with state.transaction() as tx:
        checks = {c.name: c for c in Policy(load_settings({}, environ={})).run(
            GOOD, normalize(GOOD["content"]), Submission(T0, tx))}
    kept.dbapi.set_trace_callback(None)
    assert checks["flood"].passed and checks["duplicate"].passed
    assert [s.split(" (")[0] for s in statements if "policy_marks" in s] == [
        "INSERT INTO policy_marks"]
    engine.dispose()


def test_flood_detail_names_the_signal_not_the_value(state):
    run(state, GOOD, 0)
    detail = run(state, {**GOOD, "author_ip": "192.0.2.9", "author_name": "Bo"}, 2)[
        "flood"].detail
    assert detail == "posted again within 15 s (same author_email)"


DUPLICATE = (False, "reject", "policy.duplicate")


@pytest.mark.parametrize(("second", "after", "expected"), [
    ({}, 60, DUPLICATE),
    ({"content": "a PERFECTLY   fine comment!"}, 60, DUPLICATE),  # normalised
    ({"author_email": "bob@example.org", "author_name": "Bob", "author_ip": "192.0.2.8"}, 60,
     DUPLICATE),  # same post
    ({"author_email": "bob@example.org", "author_name": "Bob", "post_id": "8"}, 60, PASS),
    ({"post_id": "8"}, 60, DUPLICATE),  # same author elsewhere
    ({}, 86400, PASS),
    ({"content": "A different comment."}, 60, PASS),
])
def test_duplicate(state, second, after, expected):
    assert run(state, GOOD, 0, "duplicate") == PASS
    assert run(state, {**GOOD, **second}, after, "duplicate") == expected


def test_duplicate_window_setting(state):
    run(state, GOOD, 0, duplicate_window=30)
    assert run(state, GOOD, 31, "duplicate", duplicate_window=30) == PASS
    assert run(state, GOOD, 40, "duplicate", duplicate_window=0) == PASS


@pytest.mark.parametrize(("form_fields", "field", "expected"), [
    ({"website2": ""}, "website2", PASS),
    ({"website2": "http://spam.example"}, "website2", (False, "reject", "policy.honeypot")),
    ({}, "website2", PASS),  # not sent
    ({"website2": "filled"}, "", PASS),  # no honeypot configured
])
def test_honeypot(form_fields, field, expected):
    comment = {**GOOD, "form_fields": form_fields}
    assert run(None, comment, 0, "honeypot", honeypot_field=field) == expected


@pytest.mark.parametrize(("rendered_at", "minimum", "expected"), [
    ("2026-11-25T08:59:50Z", 3, PASS),
    ("2026-11-25T08:59:58+00:00", 3, (False, "flag", "policy.too_fast")),
    ("2026-11-25T09:59:58+01:00", 3, (False, "flag", "policy.too_fast")),  # offset honoured
    (str(T0.replace(tzinfo=dt.timezone.utc).timestamp() - 3), 3, PASS),  # epoch, exactly 3 s
    ("2026-11-25T09:00:30", 3, (False, "flag", "policy.too_fast")),  # in the future
    ("2026-11-25T08:59:59", 0, PASS),  # disabled
    (None, 3, PASS),  # not sent
])
def test_submit_timing(rendered_at, minimum, expected):
    comment = {**GOOD, "form_rendered_at": rendered_at}
    assert run(None, comment, 0, "submit_timing", min_seconds_to_submit=minimum) == expected


@pytest.mark.parametrize(("published_at", "days", "expected"), [
    ("2026-11-01T09:00:00Z", 30, PASS),
    ("2026-10-26T09:00:00Z", 30, PASS),  # exactly 30 days
    ("2026-10-26T08:59:59Z", 30, (False, "reject", "policy.closed_thread")),
    ("2020-01-01", 0, PASS),  # disabled
    (None, 30, PASS),
])
def test_closed_thread(published_at, days, expected):
    comment = {**GOOD, "post_published_at": published_at}
    assert run(None, comment, 0, "closed_thread", close_after_days=days) == expected


def test_without_state_the_state_checks_report_not_checked():
    checks = run(None, GOOD)
    for name in ("flood", "duplicate", "trust"):
        assert checks[name].passed and checks[name].detail == "not checked: no shared state"


def _trust(state, **settings):
    return run(state, GOOD, 0, **settings)["trust"]


def test_trust_needs_n_accepted_and_no_rejected(state):
    policy = Policy(load_settings({}, environ={}))
    sub = Submission(T0, state)
    assert _trust(state).action == "none"
    for _ in range(3):
        policy.record(GOOD, "accept", sub)
    policy.record(GOOD, "flag", sub)  # awaits a person: not counted
    trust = _trust(state)
    assert (trust.passed, trust.action, trust.code) == (True, "accept", "policy.trusted")
    assert trust.detail == "3 accepted and 0 rejected earlier; trusted"
    assert _trust(state, trust_after=4).action == "none"
    policy.record({**GOOD, "author_email": "ANN@example.org"}, "reject", sub)
    assert _trust(state).detail == ("3 accepted and 1 rejected earlier; trust needs 3 and "
                                    "none rejected")


def test_trust_is_per_site(state):
    settings = load_settings({"sites": {"forum": {}}}, environ={})
    Policy(settings, "").record(GOOD, "accept", Submission(T0, state))
    assert state.history(hash_key("", "history", "ann@example.org")) == (1, 0)
    assert state.history(hash_key("forum", "history", "ann@example.org")) == (0, 0)


TRUSTED = Check("trust", True, ACCEPT, "3 accepted and 0 rejected earlier; trusted",
                "policy.trusted")


@pytest.mark.parametrize(("spam", "checks", "decision"), [
    (0.6, [TRUSTED], "accept"),  # a model flag is lowered
    (0.9, [TRUSTED], "reject"),  # a model reject stands
    (0.6, [TRUSTED, Check("links", False, "flag", "3 links", "policy.too_many_links")],
     "flag"),  # a policy flag stands
    (0.6, [], "flag"),
    (0.1, [TRUSTED], "accept"),
])
def test_trust_lowers_model_only_flags(spam, checks, decision):
    got, reasons = decide({"spam": spam}, {"spam": THRESHOLDS["spam"]}, checks)
    assert got == decision
    if (spam, decision) == (0.6, "accept"):
        assert [(r.code, r.action) for r in reasons] == [("policy.trusted", "accept")]
        assert "lowered model.spam to accept" in reasons[0].message


def _worker(overrides, barrier, results):
    from moderation.api import create_app

    client = create_app(overrides).test_client()
    barrier.wait(timeout=120)  # a worker that failed to start breaks it, not hangs it
    decisions = []
    for number in range(5):
        body = client.post("/v1/moderate", json={**GOOD, "content": f"Comment {number}, "
                                                 f"{uuid.uuid4().hex}"}).get_json()
        decisions.append([r["code"] for r in body["reasons"]])
    results.put(decisions)


def test_flood_holds_across_two_worker_processes(database_url, models_dir):
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    overrides = {"models_dir": str(models_dir), "database_url": database_url,
                 "required_fields": ["content"], "thresholds": {}}
    workers = [context.Process(target=_worker, args=(overrides, barrier, results))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    codes = [c for _ in workers for c in results.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    through = [c for c in codes if "policy.flood" not in c]
    assert len(codes) == 10 and len(through) == 1, codes
