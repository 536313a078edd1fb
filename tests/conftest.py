"""Shared fixtures: a real model trained on a small inline corpus, a real SQLite file."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from moderation.api import create_app
from moderation.artefact import load_model, save_model, write_current
from moderation.config import load_settings
from moderation.model import ModerationModel
from moderation.moderator import Moderator
from moderation.store import migrate, open_engine

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("MODERATION_DATA_DIR", ROOT.parent / "shared" / "datasets"))

HAM = [
    "Thanks for the thoughtful article, the section on bus routes was really useful.",
    "I disagree with the council here, the budget numbers simply do not add up.",
    "Great recipe, I swapped the butter for olive oil and it still worked.",
    "The minister's plan is badly thought through and the article explains why.",
    "Does anyone know when the library reopens after the renovation?",
    "My grandfather fought in that war and never spoke about it.",
    "The trial of the bombing suspects starts next week, according to the court.",
    "Counter-terrorism funding should go to community programmes, not only policing.",
    "This patch killed my battery life, rolling back to the old version.",
    "Scunthorpe United played a decent match on Saturday despite the rain.",
    "The class action against the bank was settled out of court.",
    "Excellent photos, which lens did you use for the harbour shots?",
    "I have been cycling to work for a year and my commute is faster now.",
    "Interesting point about inflation, but wages have risen too.",
    "The mosque and the church organised a joint food bank this winter.",
    "We visited the museum last summer and the kids loved the dinosaur hall.",
]
SPAM = [
    "Buy cheap viagra online no prescription at pills-best.shop fast delivery",
    "Earn $500 a day working from home, message me on WhatsApp +1 555 0199 3344",
    "Best crypto investment platform, double your bitcoin in 7 days, visit coinx-profit.top",
    "Nice post! Check out my website for cheap replica watches replica-watch.shop",
    "Need a loan fast? Call +1 555 0100 2200 for instant approval, bad credit ok",
    "Subscribe to my channel for free giveaways and daily crypto signals!!!",
    "Hot singles in your area are waiting, click here dating-now.xyz",
    "Essay writing service, top grades guaranteed, order at essays-fast.online",
]
TOXIC = [
    "You are a complete idiot and everyone here knows it.",
    "Shut up you stupid moron, nobody cares about your opinion.",
    "I will find you and beat you until you cannot walk.",
    "Go back to where you came from, your kind ruins everything.",
    "What a pathetic worthless loser, kill yourself.",
    "Fuck you and your garbage article, you dumb piece of shit.",
    "The author is a brainless clown who should be fired.",
    "People like you deserve to be hanged in the town square.",
]


def tiny_corpus() -> tuple[list[str], dict[str, list[int]]]:
    """Texts and labels of the inline corpus."""
    texts = HAM + SPAM + TOXIC
    spam = [0] * len(HAM) + [1] * len(SPAM) + [0] * len(TOXIC)
    toxic = [0] * len(HAM) + [0] * len(SPAM) + [1] * len(TOXIC)
    return texts, {"spam": spam, "toxic": toxic}


THRESHOLDS = {"spam": {"flag_at": 0.5, "reject_at": 0.8},
              "toxic": {"flag_at": 0.5, "reject_at": 0.8}}


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding one small real model, named by CURRENT."""
    folder = tmp_path_factory.mktemp("models")
    texts, labels = tiny_corpus()
    model = ModerationModel(C=10.0, min_df=1).fit(texts, labels)
    save_model(model, {"created_at": "2026-01-01T00:00:00+00:00", "thresholds": THRESHOLDS,
                       "metrics": {}, "data_sources": [{"name": "inline", "rows": len(texts)}]},
               folder, "tiny-1")
    write_current(folder, "tiny-1")
    return folder


@pytest.fixture
def settings_overrides(models_dir: Path, tmp_path: Path) -> dict[str, object]:
    """Settings pointing at the small model and a fresh SQLite file."""
    return {"models_dir": str(models_dir), "database_url": f"sqlite:///{tmp_path / 'test.db'}"}


@pytest.fixture
def moderator(settings_overrides: dict[str, object]) -> Moderator:
    """A moderator over the small model with the default policy."""
    settings = load_settings(settings_overrides, environ={})
    return Moderator(load_model(Path(settings["models_dir"])), settings)


@pytest.fixture
def app(settings_overrides: dict[str, object], monkeypatch: pytest.MonkeyPatch):
    """The Flask app on the small model and a temporary database."""
    for name in [k for k in os.environ if k.startswith("MODERATION_")]:
        monkeypatch.delenv(name)
    return create_app(settings_overrides)


@pytest.fixture
def runner(models_dir, tmp_path, monkeypatch):
    """A click runner on the small model, free of the caller's MODERATION_* settings."""
    for name in ("MODERATION_CONFIG", "MODERATION_MODEL_VERSION", "MODERATION_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("MODERATION_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return CliRunner()


@pytest.fixture
def client(app):
    """Flask test client."""
    return app.test_client()


# Server URLs come from the environment (.ci/run sets them); a database whose
# URL is unset is skipped, so a laptop without servers still runs the rest.
SERVER_URLS = {"postgresql": "MODERATION_TEST_POSTGRES_URL",
               "mariadb": "MODERATION_TEST_MYSQL_URL"}


@contextlib.contextmanager
def fresh_database(kind: str, tmp_path: Path):
    """A fresh, empty database on backend ``kind``, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = os.environ.get(SERVER_URLS[kind])
    if not base:
        pytest.skip(f"{SERVER_URLS[kind]} is not set")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if kind == "postgresql":
            conn.execute(text(f"CREATE SCHEMA {name}"))
        else:
            conn.execute(text(f"CREATE DATABASE {name}"))
    if kind == "postgresql":
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{name}"
    else:
        url = base.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
            else:
                conn.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()


def server_connection_id(cursor, kind: str) -> int:
    """The server's id of the connection ``cursor`` runs on (PostgreSQL or MariaDB)."""
    cursor.execute("SELECT pg_backend_pid()" if kind == "postgresql" else
                   "SELECT CONNECTION_ID()")
    return int(cursor.fetchone()[0])


def drop_server_connection(url: str, server_id: int, kind: str) -> None:
    """Have the server end connection ``server_id``, as a restart or an idle timeout does."""
    killer = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with killer.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend({server_id})"
                              if kind == "postgresql" else f"KILL {server_id}"))
    finally:
        killer.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database_url(request, tmp_path):
    """A fresh, empty database on each backend; dropped afterwards."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url):
    """A migrated engine on each backend's fresh database."""
    engine = open_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()
