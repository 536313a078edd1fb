"""moderation.wsgi, what production servers load: an app built from the environment, and
a heap the cyclic collector no longer walks. Run in a child process, so that freezing
its heap leaves the test process alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import gc, json
from moderation.wsgi import app
response = app.test_client().post("/v1/moderate", json={
    "content": "Thanks, a clear and useful article.", "author_name": "Ann",
    "author_email": "ann@example.org"})
print(json.dumps([gc.get_freeze_count(), response.status_code, response.get_json()]))
"""


def test_the_wsgi_app_serves_from_the_environment_with_its_heap_frozen(models_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env |= {"MODERATION_MODELS_DIR": str(models_dir),
            "MODERATION_DATABASE_URL": f"sqlite:///{tmp_path / 'wsgi.db'}",
            "MODERATION_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    frozen, status, body = json.loads(done.stdout.splitlines()[-1])
    assert status == 200
    assert body["model_version"] == "tiny-1"  # the environment's models folder
    assert body["decision"] in {"accept", "flag", "reject"}
    assert frozen > 10_000  # the model, the policies and Flask: out of the collector's sight
    assert (tmp_path / "wsgi.db").exists()  # the environment's database
