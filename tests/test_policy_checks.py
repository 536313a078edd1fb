"""Table-driven tests of the content and author checks: pass, fail and edge cases."""

import random
import time

import pytest

from moderation.config import load_settings
from moderation.errors import ConfigError
from moderation.list_checks import registrable_domain
from moderation.policy import CHECK_NAMES, CONTENT_CHECKS, SUBMISSION_CHECKS, Policy
from moderation.text_checks import script_of

from .test_policy import GOOD, run


def outcome(check):
    return (check.passed, check.action, check.code)


PASS = (True, "none", "")


def test_check_names_are_the_agreed_ones():
    assert SUBMISSION_CHECKS == {"flood", "duplicate", "honeypot", "submit_timing",
                                 "closed_thread", "trust"}
    assert set(CHECK_NAMES) == set(CONTENT_CHECKS) | SUBMISSION_CHECKS


@pytest.mark.parametrize(("changes", "settings", "expected"), [
    ({}, {}, PASS),
    ({"content": "x" * 1501}, {}, (False, "reject", "policy.too_long")),
    ({"author_name": "n" * 245}, {}, PASS),
    ({"author_name": "n" * 246}, {}, (False, "reject", "policy.too_long")),
    ({"author_email": "a" * 88 + "@example.org"}, {}, PASS),  # exactly 100
    ({"author_email": "a" * 89 + "@example.org"}, {}, (False, "reject", "policy.too_long")),
    ({"author_url": "https://example.org/" + "p" * 180}, {}, PASS),  # exactly 200
    ({"author_url": "https://example.org/" + "p" * 181}, {},
     (False, "reject", "policy.too_long")),
    ({"content": "ok"}, {"min_length": 3}, (False, "reject", "policy.too_short")),
    ({"content": "  ok  "}, {"min_length": 2}, PASS),
    ({"content": " \n "}, {}, (False, "reject", "policy.empty_content")),
])
def test_lengths(changes, settings, expected):
    assert outcome(run({**GOOD, **changes}, **settings)["length"]) == expected


def test_length_detail_names_each_field_over_its_limit():
    check = run({**GOOD, "author_name": "n" * 300, "author_url": "u" * 201})["length"]
    assert check.detail == ("author_name has 300 of at most 245 characters; "
                            "author_url has 201 of at most 200 characters")


@pytest.mark.parametrize(("content", "author_url", "settings", "expected"), [
    ("one link http://example.com", None, {}, PASS),
    ("one link http://example.com", "https://ann.example.net", {},
     (False, "flag", "policy.too_many_links")),  # the author URL counts
    ("http://a.example.com and http://b.example.com", None,
     {"allowed_domains": ["example.com"]}, PASS),  # allowed links are not counted
    ("http://a.example.com and http://b.example.com", None, {"max_links": 3}, PASS),
    ("http://a.example.com and http://b.example.com", None, {"max_links": 0}, PASS),
])
def test_links(content, author_url, settings, expected):
    checks = run({**GOOD, "content": content, "author_url": author_url}, **settings)
    assert outcome(checks["links"]) == expected


@pytest.mark.parametrize(("host", "domain"), [
    ("sub.evil.example.co.uk", "example.co.uk"),
    ("WWW.Example.COM", "example.com"),
    ("a.b.example.com", "example.com"),
    ("ann.github.io", "ann.github.io"),  # a private suffix: each user owns their own
    ("localhost", "localhost"),
    ("bücher.example.de", "example.de"),
])
def test_registrable_domain(host, domain):
    assert registrable_domain(host) == domain


@pytest.mark.parametrize(("content", "author_url", "expected"), [
    ("see http://news.example.org/story", None, PASS),
    ("see http://sub.evil.example.co.uk/buy", None,
     (False, "reject", "policy.blocked_domain")),
    ("see www.example.co.uk", None, (False, "reject", "policy.blocked_domain")),
    ("nothing here", "http://shop.example.co.uk", (False, "reject", "policy.blocked_domain")),
    ("see http://example.co.uk.example.org/", None, PASS),  # not the same registrant
])
def test_blocked_domains(content, author_url, expected):
    checks = run({**GOOD, "content": content, "author_url": author_url},
                 blocked_domains=["evil.example.co.uk"])  # listed by sub-domain, matched whole
    assert outcome(checks["link_domains"]) == expected


@pytest.mark.parametrize(("content", "settings", "expected"), [
    ("read https://example.org/post", {}, PASS),
    ("read https://bit.ly/3xYz", {}, (False, "flag", "policy.url_shortener")),
    ("read t.co/abc", {"url_shorteners": ["t.co"]}, (False, "flag", "policy.url_shortener")),
    ("read https://bit.ly/3xYz", {"allowed_domains": ["bit.ly"]}, PASS),
    ("read https://bit.ly/3xYz", {"url_shorteners": []}, PASS),
])
def test_shorteners(content, settings, expected):
    assert outcome(run({**GOOD, "content": content}, **settings)["shorteners"]) == expected


@pytest.mark.parametrize(("changes", "hit"), [
    ({}, None),
    ({"content": "cheap v1agra"}, "viagra in content"),
    ({"content": "cheap v i a g r a"}, "viagra in content"),
    ({"content": "cheap vi\u0430gra"}, "viagra in content"),
    ({"author_name": "VIAGRA shop"}, "viagra in author_name"),
    ({"author_email": "viagra-deals@example.org"}, "viagra in author_email"),
    ({"author_url": "https://example.org/viagra/"}, "viagra in author_url"),
    ({"user_agent": "ViagraBot/1.0"}, None),  # a longer word: no hit
    ({"user_agent": "Viagra Bot/1.0"}, "viagra in user_agent"),
    ({"author_ip": "203.0.113.9"}, "203.0.113.0/24 in author_ip"),
    ({"author_ip": "203.0.114.9"}, None),
    ({"author_ip": "2001:db8:1::7"}, "2001:db8::/32 in author_ip"),
    ({"author_ip": "2001:db9::7"}, None),
    ({"author_ip": "::ffff:203.0.113.9"}, "203.0.113.0/24 in author_ip"),  # v4-mapped v6
    ({"author_ip": "198.51.100.7"}, "198.51.100.7 in author_ip"),
    ({"author_ip": "not an ip"}, None),
    ({"content": "call 0800 CASINO now"}, "/c[a4]sin[o0]/ in content"),
    ({"content": "Scunthorpe United"}, None),
])
def test_block_words_on_every_field(changes, hit):
    entries = ["viagra", "cunt", "203.0.113.0/24", "2001:db8::/32", "198.51.100.7",
               "/c[a4]sin[o0]/"]
    check = run({**GOOD, **changes}, block_words=entries)["block_words"]
    if hit is None:
        assert outcome(check) == PASS
    else:
        assert outcome(check) == (False, "reject", "policy.blocked_word")
        assert hit in check.detail


def test_a_catastrophic_regex_times_out_and_holds_the_comment():
    started = time.monotonic()
    check = run({**GOOD, "content": "a" * 30 + "!"}, moderation_words=["/(a|aa)+$/"],
                regex_timeout_ms=50)["moderation_words"]
    assert time.monotonic() - started < 1.0
    assert outcome(check) == (False, "flag", "policy.pattern_timeout")
    assert check.detail == "timed out: /(a|aa)+$/"
    fine = run({**GOOD, "content": "aaa"}, moderation_words=["/(a|aa)+$/"])["moderation_words"]
    assert outcome(fine) == (False, "flag", "policy.moderation_word")


@pytest.mark.parametrize(("settings", "message"), [
    ({"block_words": ["/(unclosed/"]}, "block_words: invalid regular expression"),
    ({"scripts": ["Klingon"]}, "scripts: unknown script or language 'Klingon'"),
    ({"check_actions": {"linkz": "flag"}}, "check_actions: unknown check 'linkz'"),
    ({"check_actions": {"trust": "reject"}}, "only be 'off'"),
    ({"blocked_domains": ["  ", "..."]}, "blocked_domains: an entry is not a domain"),
])
def test_invalid_policy_names_the_key(settings, message):
    with pytest.raises(ConfigError, match=message):
        Policy(load_settings(settings, environ={}))


@pytest.mark.parametrize(("content", "expected"), [
    ("A perfectly calm comment about the weather today.", PASS),
    ("THIS IS THE WORST ARTICLE I HAVE EVER READ, SHAME ON YOU!", (False, "flag",
                                                                   "policy.shouting")),
    ("NASA and the ESA launched the JWST from Kourou, as reported.", PASS),
    ("WOW GREAT", PASS),  # too few letters to judge
])
def test_shouting(content, expected):
    assert outcome(run({**GOOD, "content": content})["shouting"]) == expected


def test_shouting_detail_gives_the_share_as_a_percentage_format_would():
    # The detail is built from round(share * 100), cached by that percentage: it must
    # read as f"{share:.0%}" for every count, halves (1 of 8: 12.5%) included.
    settings = load_settings({"shouting_min_letters": 1}, environ={})
    policy = Policy(settings)
    for cased in range(1, 260):
        for upper in range(cased + 1):
            content = "A" * upper + "a" * (cased - upper)
            checks = policy.run({**GOOD, "content": content}, content.lower())
            detail = next(c.detail for c in checks if c.name == "shouting")
            assert detail == (f"{upper / cased:.0%} upper-case letters; "
                              f"{settings['shouting_ratio']:.0%} or more is shouting")


@pytest.mark.parametrize(("content", "settings", "expected"), [
    ("Sooo good, loved it!!!", {}, PASS),
    ("aaaaaaaaaaaaaaaaaaaaaaaa", {}, (False, "flag", "policy.gibberish")),
    ("!!!!!!!!!!", {}, (False, "flag", "policy.gibberish")),  # exactly 10
    ("!!!!!!!!!", {}, PASS),
    ("Nooooo", {"max_repeated_chars": 5}, (False, "flag", "policy.gibberish")),
])
def test_gibberish(content, settings, expected):
    assert outcome(run({**GOOD, "content": content}, **settings)["gibberish"]) == expected


@pytest.mark.parametrize(("content", "scripts", "expected"), [
    ("Отличная статья, спасибо автору за подробности!", ["en", "ru"], PASS),
    ("A fine English comment about the article.", ["Latin", "Cyrillic"], PASS),
    ("这是一个非常好的网站，请访问我们的网站了解更多信息", ["en", "ru"],
     (False, "flag", "policy.unexpected_script")),
    ("Отличная статья, спасибо автору за подробности!", ["en"],
     (False, "flag", "policy.unexpected_script")),
    ("Great read. 谢谢", ["en"], PASS),  # mostly Latin
    ("谢谢", ["en"], PASS),  # too few letters to judge
    ("这是一个非常好的网站，请访问我们的网站", [], PASS),  # no expectation set
])
def test_script(content, scripts, expected):
    assert outcome(run({**GOOD, "content": content}, scripts=scripts)["script"]) == expected


@pytest.mark.parametrize(("actions", "name", "expected"), [
    ({"links": "reject"}, "links", (False, "reject", "policy.too_many_links")),
    ({"block_words": "flag"}, "block_words", (False, "flag", "policy.blocked_word")),
    ({"links": "off"}, "links", None),
    ({"shouting": "off"}, "shouting", None),
])
def test_check_actions_change_or_disable_a_check(actions, name, expected):
    comment = {**GOOD, "content": "casino at http://a.example.com and http://b.example.com"}
    checks = run(comment, check_actions=actions, block_words=["casino"])
    assert (outcome(checks[name]) if name in checks else None) == expected


def _script_detail_by_walk(content, scripts):
    # The check as first written: one letter at a time, in order.
    letters = [c for c in content.strip() if c.isalpha()]
    if len(letters) < 10:
        return f"{len(letters)} letters, too few to judge"
    counts = {}
    for letter in letters:
        counts[script_of(letter)] = counts.get(script_of(letter), 0) + 1
    expected = sum(n for s, n in counts.items() if s in scripts)
    main = max(counts, key=lambda s: counts[s])
    return (f"{expected / len(letters):.0%} of letters in {', '.join(sorted(scripts))}; "
            f"mostly {main}")


def test_script_detail_is_the_letter_by_letter_count():
    # Ties between scripts included: the first script met must stay the one named.
    rng = random.Random(0)
    alphabet = "abcXYZ\u0430\u0431\u0432\u03b1\u03b2\u65e5\u672c\u3042\u30a2\u05d0\u0627 1.!\u00e9"
    texts = ["abcde\u0430\u0431\u0432\u0433\u0434", "\u0430\u0431\u0432\u0433\u0434abcde",
             "ab\u0430\u0431cd\u0432\u0433e\u0434", "\u65e5\u672c\u3042\u30a2" * 3]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
              for _ in range(3000)]
    checks = {name: Policy(load_settings({"scripts": scripts}, environ={})).run
              for name, scripts in (("en", ["en"]), ("ru", ["ru", "el"]), ("ja", ["ja"]))}
    for text in texts:
        comment = {**GOOD, "content": text or "x"}
        for name, scripts in (("en", {"Latin"}), ("ru", {"Cyrillic", "Greek"}),
                              ("ja", {"Han", "Hiragana", "Katakana"})):
            check = {c.name: c for c in checks[name](comment, "")}["script"]
            assert check.detail == _script_detail_by_walk(comment["content"], scripts), text
