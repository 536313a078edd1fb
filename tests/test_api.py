import json
import sqlite3

import pytest

GOOD = {"content": "Thanks for the thoughtful article about the library renovation.",
        "author_name": "Ann", "author_email": "ann@example.org"}


def stored(app):
    path = app.config["SETTINGS"]["database_url"][len("sqlite:///"):]
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM comments")]
    finally:
        conn.close()


def test_moderate_returns_exactly_the_documented_fields(client, app):
    response = client.post("/v1/moderate", json={**GOOD, "post_id": 42, "author_ip": "192.0.2.1"})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["id", "decision", "scores", "reasons", "checks", "model_version",
                          "policy_version", "explanation"]
    assert body["decision"] == "accept" and body["reasons"] == [] and body["explanation"] == {}
    assert set(body["scores"]) == {"spam", "toxic"}
    assert all(0.0 <= s <= 1.0 for s in body["scores"].values())
    assert body["model_version"] == "tiny-1"
    assert [c["name"] for c in body["checks"]][:2] == ["required_fields", "length"]
    [row] = stored(app)
    assert row["id"] == body["id"] and row["decision"] == "accept"
    assert row["post_id"] == "42" and json.loads(row["scores"]) == body["scores"]
    assert row["policy_version"] == body["policy_version"]


def test_missing_field_value_is_a_policy_rejection_not_an_error(client):
    response = client.post("/v1/moderate", json={**GOOD, "author_name": ""})
    body = response.get_json()
    assert response.status_code == 200 and body["decision"] == "reject"
    assert body["reasons"][0]["code"] == "policy.missing_field"
    failed = [c for c in body["checks"] if not c["passed"]]
    assert failed == [{"name": "required_fields", "passed": False, "action": "reject",
                       "detail": "missing: author_name"}]


def test_spam_is_flagged_with_model_reason(client):
    body = client.post("/v1/moderate", json={
        **GOOD, "content": "Buy cheap viagra online no prescription pills-best.shop"}).get_json()
    assert body["decision"] in ("flag", "reject")
    assert "model.spam" in [r["code"] for r in body["reasons"]]


def test_too_long_comment_is_rejected(client):
    body = client.post("/v1/moderate", json={**GOOD, "content": "word " * 400}).get_json()
    assert body["decision"] == "reject"
    assert "policy.too_long" in [r["code"] for r in body["reasons"]]


def error_of(response):
    body = response.get_json()
    assert list(body) == ["error"] and set(body["error"]) == {"code", "message"}
    return response.status_code, body["error"]["code"]


@pytest.mark.parametrize(("kwargs", "status", "code"), [
    ({"data": "{not json", "content_type": "application/json"}, 400, "invalid_json"),
    ({"data": b'{"content": "\xff\xfe"}', "content_type": "application/json"}, 400,
     "invalid_json"),
    ({"data": "content=hello", "content_type": "application/x-www-form-urlencoded"}, 415,
     "unsupported_media_type"),
    ({"data": json.dumps(GOOD)}, 415, "unsupported_media_type"),
    ({"json": {"content": 42}}, 400, "invalid_request"),
    ({"json": {"content": None}}, 400, "invalid_request"),
    ({"json": {"author_name": "Ann"}}, 400, "invalid_request"),
    ({"json": ["content"]}, 400, "invalid_request"),
    ({"json": {**GOOD, "colour": "red"}}, 400, "invalid_request"),
    ({"json": {**GOOD, "post_id": True}}, 400, "invalid_request"),
    ({"data": '{"content": "\\ud800"}', "content_type": "application/json"}, 400,
     "invalid_request"),
    ({"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"}, 413,
     "payload_too_large"),
    ({"data": "[" * 30_000 + "]" * 30_000, "content_type": "application/json"}, 400,
     "invalid_json"),
    ({"json": {"content": "x" * 70_000}}, 413, "payload_too_large"),
])
def test_malformed_requests_get_json_errors(client, app, kwargs, status, code):
    assert error_of(client.post("/v1/moderate", **kwargs)) == (status, code)
    assert stored(app) == []


def test_404_and_405_have_the_error_shape(client):
    assert error_of(client.get("/nowhere")) == (404, "not_found")
    response = client.get("/v1/moderate")
    assert error_of(response) == (405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_server_bug_is_a_logged_generic_500(app, caplog):
    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", view_func=broken)
    response = app.test_client().get("/broken")
    assert error_of(response) == (500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert "unhandled error on GET /broken" in caplog.text


def test_healthz_and_model_info(client):
    assert client.get("/healthz").get_json()["status"] == "ok"
    info = client.get("/v1/model").get_json()
    assert info["version"] == "tiny-1" and info["categories"] == ["spam", "toxic"]
    assert info["thresholds"]["spam"] == {"flag_at": 0.5, "reject_at": 0.8}
    assert {"created_at", "metrics", "policy_version"} <= set(info)


def test_threshold_overrides_apply(settings_overrides):
    from moderation.api import create_app

    app = create_app({**settings_overrides, "thresholds": {"spam": {"flag_at": 0.0}}})
    body = app.test_client().post("/v1/moderate", json=GOOD).get_json()
    assert body["decision"] == "flag" and body["reasons"][0]["code"] == "model.spam"


def test_the_app_factory_leaves_no_database_connection_open(app):
    # gunicorn --preload builds the app before forking its workers: none may share one.
    engine = app.extensions["moderation_engine"]
    assert engine.pool.checkedin() == 0 and engine.pool.checkedout() == 0
    assert app.extensions["moderation"].state.connections._idle == []


def test_storage_can_be_turned_off(settings_overrides, tmp_path):
    from moderation.api import create_app

    app = create_app({**settings_overrides, "store_comments": False, "flood_seconds": 0,
                      "duplicate_window": 0, "trust_after": 0})
    assert app.test_client().post("/v1/moderate", json=GOOD).status_code == 200
    assert not (tmp_path / "test.db").exists()


def test_redis_outage_after_start_up_is_a_503_and_saves_nothing(settings_overrides):
    import os

    import redis

    from moderation.api import create_app

    url = os.environ.get("MODERATION_TEST_REDIS_URL")
    if not url:
        pytest.skip("MODERATION_TEST_REDIS_URL is not set")
    app = create_app({**settings_overrides, "redis_url": url})
    state = app.extensions["moderation"].state
    # Redis goes away: point the live client at a port where nothing listens.
    state.redis = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    state._script = state.redis.register_script("return 1")
    response = app.test_client().post("/v1/moderate", json=GOOD)
    assert error_of(response) == (503, "service_unavailable")
    assert stored(app) == []


def test_database_lost_under_the_running_service_is_a_503(settings_overrides, tmp_path):
    from moderation.api import create_app

    app = create_app({**settings_overrides, "check_actions": {
        "flood": "off", "duplicate": "off", "trust": "off"}})
    # The database file is deleted under the running service: the next
    # connection finds an empty file without the comments table.
    app.extensions["moderation_engine"].dispose()
    for path in tmp_path.glob("test.db*"):
        path.unlink()
    response = app.test_client().post("/v1/moderate", json=GOOD)
    assert error_of(response) == (503, "service_unavailable")


def test_explanation_lists_evidence_for_categories_over_their_flag_threshold(client):
    content = "Shut up you stupid moron, buy cheap viagra at pills-best.shop"
    body = client.post("/v1/moderate", json={**GOOD, "content": content}).get_json()
    flagged = {r["code"].split(".", 1)[1] for r in body["reasons"]
               if r["code"].startswith("model.")}
    assert flagged and set(body["explanation"]) == flagged
    for evidence in body["explanation"].values():
        assert evidence and len(evidence) <= 5
        for item in evidence:
            assert content[item["start"]:item["end"]] == item["text"] and item["weight"] > 0
