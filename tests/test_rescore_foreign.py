"""Re-scoring a comments table that is not ours: read only, results in rescore_results."""

import datetime as dt
import json

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    text,
)

from moderation.errors import ConfigError
from moderation.rescore import ForeignSource, Selection, rescore_database
from moderation.store import decision_history, open_engine, rescore_results, utcnow

from .rescore_helpers import TEXTS

# The shape of WordPress's wp_comments (its documented schema), as MariaDB holds it.
WP_COMMENTS = """
CREATE TABLE wp_comments (
  comment_ID bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  comment_post_ID bigint(20) unsigned NOT NULL DEFAULT 0,
  comment_author tinytext NOT NULL,
  comment_author_email varchar(100) NOT NULL DEFAULT '',
  comment_author_url varchar(200) NOT NULL DEFAULT '',
  comment_author_IP varchar(100) NOT NULL DEFAULT '',
  comment_date datetime NOT NULL,
  comment_date_gmt datetime NOT NULL,
  comment_content text NOT NULL,
  comment_karma int(11) NOT NULL DEFAULT 0,
  comment_approved varchar(20) NOT NULL DEFAULT '1',
  comment_agent varchar(255) NOT NULL DEFAULT '',
  comment_type varchar(20) NOT NULL DEFAULT 'comment',
  comment_parent bigint(20) unsigned NOT NULL DEFAULT 0,
  user_id bigint(20) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (comment_ID),
  KEY comment_post_ID (comment_post_ID),
  KEY comment_approved_date_gmt (comment_approved, comment_date_gmt),
  KEY comment_author_email (comment_author_email(10))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""
WP = ForeignSource("wp_comments", "comment_ID", "comment_content", "comment_author",
                   "comment_author_email", "comment_date_gmt")


def _wp_rows(count):
    return [{"comment_post_ID": 1, "comment_author": "Ann ✓", "comment_author_email":
             "ann@example.org", "comment_date": dt.datetime(2024, 1, 1 + i % 20),
             "comment_date_gmt": dt.datetime(2024, 1, 1 + i % 20),
             "comment_content": TEXTS[i % len(TEXTS)] or " "} for i in range(count)]


def _dump(engine, name):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {name} ORDER BY 1"))]


def _results(engine):
    with engine.connect() as conn:
        return {r["source_id"]: r for r in conn.execute(select(rescore_results)).mappings()}


@pytest.mark.parametrize("database_url", ["mariadb"], indirect=True)
def test_wordpress_comments_in_mariadb(database_url, moderator):
    engine = open_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(WP_COMMENTS))
        wp = Table("wp_comments", MetaData(), autoload_with=conn)
        conn.execute(insert(wp), _wp_rows(25))
    before = _dump(engine, "wp_comments")
    report = rescore_database(engine, moderator, WP, Selection(), batch_size=6)
    assert _dump(engine, "wp_comments") == before  # read only
    results = _results(engine)
    assert sorted(results, key=int) == [str(r[0]) for r in before]
    for row in before:
        expected = moderator.moderate_many([{"content": row[8], "author_name": row[2],
                                             "author_email": row[3]}])[0]
        assert results[str(row[0])]["decision"] == expected["decision"]
        assert json.loads(results[str(row[0])]["scores"]) == expected["scores"]
    assert report.total == 25 and sum(report.matrix["none"].values()) == 25
    with engine.connect() as conn:
        history = conn.execute(select(decision_history)).mappings().all()
    assert len(history) == 25 and {h["old_decision"] for h in history} == {None}
    assert {h["source"] for h in history} == {"wp_comments"}

    # a second pass sees the first one's decisions as the old ones
    rejected = sum(r["decision"] == "reject" for r in results.values())
    again = rescore_database(engine, moderator, WP, Selection(statuses=("reject",)))
    assert again.total == rejected > 0 and again.matrix["reject"]["reject"] == rejected
    stale = rescore_database(engine, moderator, WP, Selection(only_stale=True))
    assert stale.total == 0
    since = rescore_database(engine, moderator, WP, Selection(since=dt.datetime(2024, 1, 15)),
                             dry_run=True)
    assert since.total == sum(r[7] >= dt.datetime(2024, 1, 15) for r in before)
    engine.dispose()


def test_django_shaped_table_on_every_backend(database_url, moderator):
    engine = open_engine(database_url)
    table = Table("django_comments", MetaData(),
                  Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
                  Column("user_name", String(50)), Column("user_email", String(254)),
                  Column("comment", Text, nullable=False), Column("submit_date", DateTime),
                  Column("is_public", Boolean))
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": 10 * (i + 1), "user_name": "Bo",
                                      "user_email": "bo@example.org",
                                      "comment": TEXTS[i % len(TEXTS)], "is_public": True}
                                     for i in range(9)])
    source = ForeignSource("django_comments", "id", "comment", "user_name", "user_email")
    dry = rescore_database(engine, moderator, source, Selection(), dry_run=True, batch_size=4)
    report = rescore_database(engine, moderator, source, Selection(), batch_size=4)
    assert dry.matrix == report.matrix and report.total == 9
    first = _results(engine)
    assert sorted(first, key=int) == [str(10 * (i + 1)) for i in range(9)]

    # a second pass updates the stored results (the first inserted them)
    again = rescore_database(engine, moderator, source, Selection(), batch_size=4)
    second = _results(engine)
    assert again.total == 9 and sum(again.matrix["none"].values()) == 0
    assert {k: r["decision"] for k, r in second.items()} == {
        k: r["decision"] for k, r in first.items()}
    assert all(first[k]["scored_at"] <= second[k]["scored_at"] <= utcnow() for k in first)
    with engine.connect() as conn:
        changed = conn.execute(select(decision_history.c.changed_at)).scalars().all()
    assert len(changed) == 18
    assert all(dt.timedelta(0) <= utcnow() - t < dt.timedelta(minutes=5) for t in changed)
    engine.dispose()


@pytest.mark.parametrize(("source", "message"), [
    (ForeignSource("nope", "id", "c"), "no table 'nope'"),
    (ForeignSource("things", "id", "body"), "--content-column body: table 'things' has no"),
    (ForeignSource("things", "id", "text"), "--since on a foreign table needs --date-column"),
])
def test_foreign_table_mistakes_are_config_errors(tmp_path, moderator, source, message):
    engine = open_engine(f"sqlite:///{tmp_path / 'f.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE things (id INTEGER PRIMARY KEY, text TEXT)"))
        conn.execute(text("INSERT INTO things VALUES (1, 'hello')"))
    with pytest.raises(ConfigError, match=message):
        rescore_database(engine, moderator, source, Selection(since=dt.datetime(2024, 1, 1)))
    engine.dispose()


def test_our_own_tables_are_not_foreign():
    with pytest.raises(ConfigError, match="one of our own tables"):
        ForeignSource("comments", "id", "content")
