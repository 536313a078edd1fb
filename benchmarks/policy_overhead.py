"""What the policy engine costs per live comment, against the model's own scoring.

Runs the committed default model on comments of our corpus one at a time (as
live requests arrive) and, in the same run, the policy's checks on the same
comments: content checks with the default policy, with large lists (500 words,
50 CIDR ranges, 10 regular expressions, 200 blocked domains), and the
submission checks with their state in a fresh SQLite file. Prints ms per
comment and each figure as a ratio to the model's.

    .venv/bin/python benchmarks/policy_overhead.py [--count 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from moderation.artefact import load_model
from moderation.config import load_settings
from moderation.normalize import normalize
from moderation.policy import Policy, Submission
from moderation.policy_state import PolicyState
from moderation.store import migrate, open_engine

ROOT = Path(__file__).resolve().parent.parent


def comments(count: int) -> list[dict[str, str]]:
    rows = []
    for path in sorted((ROOT / "training_data").glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines()):
            text = json.loads(line)["text"]
            rows.append({"content": text, "author_name": f"Reader {number}",
                         "author_email": f"reader{number}@{path.stem}.example.org",
                         "author_ip": f"10.{number % 250}.{len(rows) % 250}.1",
                         "post_id": str(number % 40)})
    step = max(1, len(rows) // count)
    return rows[::step][:count]


def per_comment_ms(func, items) -> float:
    started = time.perf_counter()
    for item in items:
        func(item)
    return (time.perf_counter() - started) * 1000 / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    sample = comments(args.count)
    normalised = [(c, normalize(c["content"])) for c in sample]
    model = load_model(ROOT / "models").model
    big_lists = {
        "block_words": [f"spamword{i}" for i in range(250)] + [f"10.{i}.0.0/16" for i in range(50)]
        + [f"/pattern{i}[a-z]+\\d{{2,}}/" for i in range(10)],
        "moderation_words": [f"holdword{i} phrase" for i in range(250)],
        "blocked_domains": [f"spam{i}.example.com" for i in range(200)],
        "scripts": ["en"],
    }
    default = Policy(load_settings(environ={}))
    large = Policy(load_settings(big_lists, environ={}))
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(f"sqlite:///{folder}/bench.db")
        migrate(engine)
        state = PolicyState(engine)
        now = dt.datetime(2026, 11, 25, 9, 0, 0)
        clock = iter(range(10**6))

        def live(item):
            comment, text = item
            submission = Submission(now + dt.timedelta(seconds=20 * next(clock)), state)
            default.run(comment, text, submission)
            default.record(comment, "accept", submission)

        figures = {
            "model, one comment per call": per_comment_ms(
                lambda item: model.predict_proba_normalized([item[1]]), normalised),
            "content checks, default policy": per_comment_ms(
                lambda item: default.run(*item), normalised),
            "content checks, large lists": per_comment_ms(
                lambda item: large.run(*item), normalised),
            "all checks + state (SQLite)": per_comment_ms(live, normalised),
        }
        engine.dispose()
    reference = figures["model, one comment per call"]
    print(f"{len(sample)} comments")
    for name, value in figures.items():
        print(f"{name:34s} {value:8.3f} ms/comment  {value / reference:6.2f}x model")


if __name__ == "__main__":
    main()
