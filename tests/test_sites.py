"""Several sites on one instance, request fields of the policy engine, and batch mode."""

import pytest

from moderation.api import create_app
from moderation.config import load_settings
from moderation.errors import ConfigError
from moderation.policy import SUBMISSION_CHECKS

GOOD = {"content": "A perfectly fine comment.", "author_name": "Ann",
        "author_email": "ann@example.org"}
SITES = {"forum": {"max_length": 50, "scripts": ["en", "ru"]}, "shop": {"max_links": 5}}


@pytest.fixture
def sites_client(settings_overrides, monkeypatch):
    for name in [k for k in __import__("os").environ if k.startswith("MODERATION_")]:
        monkeypatch.delenv(name)
    return create_app({**settings_overrides, "sites": SITES}).test_client()


def test_each_site_has_its_policy_and_version(sites_client):
    long = {**GOOD, "content": "Lovely photos of the harbour, thank you for sharing them."}
    main = sites_client.post("/v1/moderate", json=long).get_json()
    forum = sites_client.post("/v1/moderate", json={**long, "site": "forum"}).get_json()
    assert "policy.too_long" not in str(main["reasons"])
    assert [r["code"] for r in forum["reasons"]] == ["policy.too_long"]
    assert len({main["policy_version"], forum["policy_version"]}) == 2


def test_unknown_site_is_a_404_in_the_error_shape(sites_client):
    response = sites_client.post("/v1/moderate", json={**GOOD, "site": "blog"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_site"
    assert "'forum', 'shop'" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(("changes", "status"), [
    ({"form_rendered_at": 1764061200}, 200),
    ({"form_rendered_at": 1764061200.5}, 200),
    ({"post_published_at": "2026-11-01"}, 200),
    ({"form_rendered_at": "soon"}, 400),
    ({"form_rendered_at": True}, 400),
    ({"post_published_at": "2026-13-01"}, 400),
    ({"form_fields": {"hp": "x", "other": None}}, 200),
    ({"form_fields": ["hp"]}, 400),
    ({"form_fields": {"hp": 3}}, 400),
    ({"site": 3}, 400),
    ({"post_id": 1.5}, 400),
])
def test_new_request_fields_are_validated(sites_client, changes, status):
    response = sites_client.post("/v1/moderate", json={**GOOD, **changes})
    assert response.status_code == status, response.get_json()
    if status == 400:
        assert response.get_json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(("sites", "message"), [
    ({"forum": {"max_linx": 3}}, "forum.max_linx: not a policy setting"),
    ({"forum": {"database_url": "sqlite://"}}, "forum.database_url: not a policy setting"),
    ({"forum": {"max_links": -1}}, "forum.max_links: must be at least 0"),
    ({"bad name!": {}}, "site name 'bad name!'"),
    ({"forum": 3}, "forum: expected a table"),
])
def test_invalid_site_sections_name_the_key(sites, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"sites": sites}, environ={})


def test_invalid_site_policy_stops_start_up(settings_overrides):
    with pytest.raises(ConfigError, match="sites.forum.thresholds: unknown category 'spma'"):
        create_app({**settings_overrides, "sites": {"forum": {"thresholds": {"spma": {}}}}})


def test_sites_from_the_environment():
    settings = load_settings(environ={"MODERATION_SITES": '{"forum": {"max_links": 4}}'})
    assert settings.for_site("forum")["max_links"] == 4
    assert settings.for_site("forum").site == "forum"


def test_batch_mode_skips_submission_checks_and_calls_the_model_once(moderator):
    calls = []
    model = moderator.loaded.model
    original = model.normalised_probabilities
    model.normalised_probabilities = lambda texts: calls.append(len(texts)) or original(texts)
    try:
        results = moderator.moderate_many([GOOD, GOOD, {**GOOD, "content": "Another one."}])
    finally:
        del model.normalised_probabilities
    assert calls == [2]  # one model call; the repeated content is scored once
    assert len(results) == 3
    for result in results:
        names = {c["name"] for c in result["checks"]}
        assert not names & SUBMISSION_CHECKS
        assert result["decision"] == "accept"  # no duplicate: nothing is remembered
    live = {c["name"] for c in moderator.moderate(GOOD)["checks"]}
    assert SUBMISSION_CHECKS <= live


def test_redis_url_that_cannot_be_reached_stops_start_up(settings_overrides):
    with pytest.raises(ConfigError, match="redis_url: cannot reach Redis"):
        create_app({**settings_overrides, "redis_url": "redis://127.0.0.1:1/0"})
    with pytest.raises(ConfigError, match="redis_url: "):
        create_app({**settings_overrides, "redis_url": "http://127.0.0.1:6379"})


def test_rescore_names_the_line_of_an_unknown_site(moderator, tmp_path):
    from moderation.errors import InputFileError
    from moderation.rescore import rescore_file

    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "content": "fine"}\n{"id": 2, "content": "x", "site": "blog"}\n')
    with pytest.raises(InputFileError, match="line 2: unknown site 'blog'"):
        rescore_file(moderator, source, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
