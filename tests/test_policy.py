import pytest

from moderation.config import load_settings
from moderation.list_checks import ListChecks
from moderation.normalize import normalize
from moderation.policy import Policy
from moderation.text_checks import TextChecks
from moderation.wordlist import WordList

GOOD = {"content": "A perfectly fine comment.", "author_name": "Ann",
        "author_email": "ann@example.org"}


def run(comment, **settings):
    policy = Policy(load_settings(settings, environ={}))
    checks = policy.run(comment, normalize(comment.get("content") or ""))
    return {c.name: c for c in checks}


def test_every_check_reports_name_passed_action_detail():
    checks = run(GOOD)
    assert list(checks) == ["required_fields", "length", "email_syntax", "links",
                            "link_domains", "shorteners", "moderation_words", "block_words",
                            "shouting", "gibberish", "script"]
    for check in checks.values():
        assert check.passed and check.action == "none"
        assert set(check.to_dict()) == {"name", "passed", "action", "detail"}


@pytest.mark.parametrize(("changes", "passed", "detail"), [
    ({}, True, "all required fields present"),
    ({"author_name": "   "}, False, "missing: author_name"),
    ({"author_email": None, "author_name": ""}, False, "missing: author_name, author_email"),
    ({"content": "\n\t "}, False, "missing: content"),
])
def test_required_fields(changes, passed, detail):
    check = run({**GOOD, **changes})["required_fields"]
    assert (check.passed, check.detail) == (passed, detail)
    assert check.action == ("none" if passed else "reject")


def test_required_fields_are_configurable():
    assert run({"content": "hi"}, required_fields=["content"])["required_fields"].passed


@pytest.mark.parametrize(("content", "passed", "code"), [
    ("x" * 1500, True, ""),
    ("x" * 1501, False, "policy.too_long"),
    ("é" * 1500, True, ""),  # code points, not bytes
    ("line\r\n" * 300, True, ""),  # CRLF counts once: 5 * 300 - 1 after trimming
    ("  " + "x" * 1500 + "\n\n", True, ""),  # surrounding white space is trimmed
    ("   ", False, "policy.empty_content"),
])
def test_length(content, passed, code):
    check = run({**GOOD, "content": content})["length"]
    assert (check.passed, check.code) == (passed, code)


def test_length_limit_is_configurable():
    assert not run({**GOOD, "content": "x" * 101}, max_length=100)["length"].passed


@pytest.mark.parametrize(("email", "passed"), [
    ("ann@example.org", True),
    ("first.last+tag@mail.example.co.uk", True),
    ("", True),  # absence is the required_fields check's business
    ("ann@", False),
    ("ann example.org", False),
    ("ann@localhost", False),
    ("ann@@example.org", False),
])
def test_email_syntax(email, passed):
    check = run({**GOOD, "author_email": email})["email_syntax"]
    assert check.passed is passed
    assert check.action == ("none" if passed else "reject")


@pytest.mark.parametrize(("content", "passed"), [
    ("one link http://example.com is fine", True),
    ("two links http://a.example.com and www.b.example.org", False),
    ("bare domains count too: shop.example.com, deals.example.net", False),
])
def test_links(content, passed):
    check = run({**GOOD, "content": content})["links"]
    assert check.passed is passed
    assert check.action == ("none" if passed else "flag")


def test_link_limit_can_be_disabled():
    assert run({**GOOD, "content": "http://a.com http://b.com"}, max_links=0)["links"].passed


@pytest.mark.parametrize(("content", "hit"), [
    ("cheap viagra here", True),
    ("cheap v1agra here", True),
    ("cheap v i a g r a here", True),
    ("cheap vi\u0430gra here", True),  # Cyrillic a
    ("viagra-like words in the viagraphone brand", True),  # hyphen is a boundary
    ("the viagraphone brand", False),  # inside a longer word: no hit
])
def test_block_words_match_normalised_text_on_word_boundaries(content, hit):
    check = run({**GOOD, "content": content}, block_words=["viagra"])["block_words"]
    assert check.passed is not hit
    assert check.action == ("reject" if hit else "none")


@pytest.mark.parametrize(("content", "hit"), [
    ("Scunthorpe won again", False),
    ("a first-class essay", False),
    ("what an ass", True),
    ("you absolute ASS!", True),
])
def test_moderation_words_scunthorpe(content, hit):
    check = run({**GOOD, "content": content}, moderation_words=["ass", "cunt"])
    assert check["moderation_words"].passed is not hit
    assert check["moderation_words"].action == ("flag" if hit else "none")


def test_word_lists_also_check_the_author_name():
    check = run({**GOOD, "author_name": "Best Casino Deals"}, block_words=["casino"])
    assert not check["block_words"].passed
    assert check["block_words"].detail == "matched: casino in author_name"


def test_wordlist_phrases_and_order():
    words = WordList(["free money", "casino", "Free  Money"])
    assert words.entries == ("free money", "casino")
    assert words.find(normalize("FREE   money at the c.a.s.i.n.o, free money")) == [
        "free money", "casino"]
    assert WordList([]).find("anything") == []


FIXED_CASES = [GOOD, {**GOOD, "content": "see http://bit.ly/x and https://spam.example.com/a"},
               {**GOOD, "content": "buy viagra now", "author_ip": "10.1.2.3"},
               {**GOOD, "content": "Отличная статья, спасибо автору за подробности!"},
               {"content": "", "author_url": "https://tinyurl.com/y"}]


@pytest.mark.parametrize("settings", [
    {},
    {"url_shorteners": []},
    {"allowed_domains": ["bit.ly", "tinyurl.com"], "url_shorteners": ["bit.ly", "tinyurl.com"]},
    {"blocked_domains": ["example.com"], "block_words": ["viagra"], "scripts": ["en"],
     "moderation_words": ["10.0.0.0/8"]},
])
def test_outcomes_a_policy_settles_are_what_its_checks_find(settings):
    # Policy.run does not call a check whose outcome the settings settle; the
    # outcome it reports instead must be the one the check would give.
    loaded = load_settings(settings, environ={})
    text, lists = TextChecks(loaded), ListChecks(loaded)
    checks = {"script": text.script, "link_domains": lists.link_domains,
              "shorteners": lists.shortener_links, "moderation_words": lists.moderation_words,
              "block_words": lists.block_words}
    fixed = [*text.fixed(), *lists.fixed()]
    for outcome in fixed:
        for comment in FIXED_CASES:
            assert checks[outcome.name](comment, normalize(comment["content"])) == outcome
    if not settings:  # the defaults leave four checks nothing to look for
        assert {c.name for c in fixed} == {"script", "link_domains", "moderation_words",
                                           "block_words"}
