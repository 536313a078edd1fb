"""Seeding stored comments for the re-scoring tests."""

from __future__ import annotations

import json

from sqlalchemy import insert, select

from moderation.store import comments, utcnow

TEXTS = [
    "Thanks for the thoughtful article, the section on bus routes was really useful.",
    "Buy cheap viagra online no prescription at pills-best.shop fast delivery",
    "You are a complete idiot and everyone here knows it.",
    "Great recipe, I swapped the butter for olive oil and it still worked.",
    "Earn $500 a day working from home, message me on WhatsApp +1 555 0199 3344",
    "",
]


def seed(engine, count: int, *, decision: str = "accept", model_version: str = "old-model",
         policy_version: str = "old-policy", checks=(), reasons=(), created_at=None,
         prefix: str = "c") -> list[str]:
    """``count`` stored comments cycling through TEXTS, all with the same old decision."""
    rows = [{"id": f"{prefix}{i:05d}", "created_at": created_at or utcnow(),
             "content": TEXTS[i % len(TEXTS)], "author_name": "Ann",
             "author_email": "ann@example.org", "decision": decision,
             "scores": json.dumps({"spam": 0.0, "toxic": 0.0}),
             "reasons": json.dumps(list(reasons)), "checks": json.dumps(list(checks)),
             "model_version": model_version, "policy_version": policy_version}
            for i in range(count)]
    with engine.begin() as conn:
        conn.execute(insert(comments), rows)
    return [r["id"] for r in rows]


def stored(engine) -> dict[str, dict]:
    """Every stored comment by id, JSON columns decoded."""
    with engine.connect() as conn:
        rows = conn.execute(select(comments).order_by(comments.c.id)).mappings().all()
    return {r["id"]: {**r, **{k: json.loads(r[k]) for k in ("scores", "reasons", "checks")}}
            for r in rows}
