"""Golden end-to-end decisions of the policy engine, through the HTTP API.

``golden/policy.toml`` is the site configuration (read from MODERATION_CONFIG,
as in production); ``golden/decisions.jsonl`` lists requests in order (flood,
duplicate and trust depend on the ones before) with the expected status,
decision and reason codes, or error code.
"""

import json
from pathlib import Path

import pytest

from moderation.api import create_app

GOLDEN = Path(__file__).resolve().parent / "golden"


def outcome(response):
    body = response.get_json()
    if response.status_code != 200:
        return {"status": response.status_code, "error": body["error"]["code"]}
    return {"status": 200, "decision": body["decision"],
            "reasons": [r["code"] for r in body["reasons"]]}


@pytest.fixture
def golden_client(models_dir, tmp_path, monkeypatch):
    for name in [k for k in __import__("os").environ if k.startswith("MODERATION_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MODERATION_CONFIG", str(GOLDEN / "policy.toml"))
    app = create_app({"models_dir": str(models_dir),
                      "database_url": f"sqlite:///{tmp_path / 'golden.db'}"})
    return app.test_client()


def test_golden_decisions(golden_client):
    cases = [json.loads(line) for line in (GOLDEN / "decisions.jsonl").read_text().splitlines()]
    assert len(cases) >= 30
    failures = []
    for case in cases:
        got = outcome(golden_client.post("/v1/moderate", json=case["request"]))
        if got != case["expect"]:
            failures.append(f"{case['name']}: expected {case['expect']}, got {got}")
    assert not failures, "\n".join(failures)
