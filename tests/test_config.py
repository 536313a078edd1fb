import re
from pathlib import Path

import pytest

from moderation.config import SETTINGS, load_settings
from moderation.errors import ConfigError
from moderation.policy import site_policies


def test_defaults_match_a_typical_comment_form():
    settings = load_settings(environ={})
    assert settings["required_fields"] == ["content", "author_name", "author_email"]
    assert settings["max_length"] == 1500
    assert settings["max_links"] == 2
    assert settings["database_url"] == "sqlite:///moderation.db"


def test_every_setting_is_documented():
    for setting in SETTINGS:
        assert setting.help.strip().endswith("."), setting.name
        assert setting.parse(setting.default) == setting.default


def test_precedence_defaults_file_environment_overrides(tmp_path):
    path = tmp_path / "moderation.toml"
    path.write_text('max_length = 1000\nmax_links = 5\nblock_words = ["casino"]\n')
    env = {"MODERATION_CONFIG": str(path), "MODERATION_MAX_LINKS": "3"}
    settings = load_settings({"block_words": ["poker"]}, environ=env)
    assert settings["max_length"] == 1000  # file
    assert settings["max_links"] == 3  # environment beats file
    assert settings["block_words"] == ["poker"]  # explicit override beats both


@pytest.mark.parametrize(("env", "value"), [
    ({"MODERATION_MODERATION_WORDS": "casino, free money"}, ["casino", "free money"]),
    ({"MODERATION_MODERATION_WORDS": '["a, b", "c"]'}, ["a, b", "c"]),
])
def test_list_settings_from_environment(env, value):
    assert load_settings(environ=env)["moderation_words"] == value


@pytest.mark.parametrize(("source", "message"), [
    ({"max_length": 0}, "invalid value for 'max_length': must be at least 1"),
    ({"max_length": "many"}, "invalid value for 'max_length'"),
    ({"store_comments": "perhaps"}, "expected true or false"),
    ({"required_fields": ["content", "phone"]}, "unknown field"),
    ({"thresholds": {"spam": {"flag_at": 2}}}, "between 0 and 1"),
    ({"thresholds": {"spam": {"warn_at": 0.2}}}, "expected flag_at and/or reject_at"),
    ({"colour": "blue"}, "unknown setting 'colour'"),
])
def test_invalid_values_name_the_key(source, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(source, environ={})


def test_invalid_toml_file_is_reported(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("max_length = = 3\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(environ={"MODERATION_CONFIG": str(path)})
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(environ={"MODERATION_CONFIG": str(tmp_path / "missing.toml")})


def test_policy_version_is_stable_and_tracks_policy_only():
    base = load_settings(environ={}).policy_version
    assert base == load_settings(environ={}).policy_version
    assert load_settings({"max_length": 2000}, environ={}).policy_version != base
    assert load_settings({"log_level": "DEBUG"}, environ={}).policy_version == base


README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readme_table():
    text = README.read_text()
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in text, setting.name


def test_readme_toml_examples_load_and_compile(tmp_path):
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    for number, block in enumerate(blocks):
        path = tmp_path / f"example{number}.toml"
        path.write_text(block)
        settings = load_settings(environ={"MODERATION_CONFIG": str(path)})
        assert [site for _, site in site_policies(settings)]
