"""Cost of an explanation against the cost of the score it explains.

Run from the repository root: .venv/bin/python benchmarks/explain_cost.py
Scores and explains (toxic) the first 300 comments of training_data/toxic.jsonl
one at a time, with the default model, and prints both per-comment times and
their ratio (both measured in this run).
"""

import json
import time
from pathlib import Path

from moderation.artefact import load_model
from moderation.explain import explain

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    model = load_model(ROOT / "models").model
    with open(ROOT / "training_data" / "toxic.jsonl", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh][:300]
    start = time.perf_counter()
    for text in texts:
        model.predict_proba([text])
    scoring = (time.perf_counter() - start) / len(texts)
    start = time.perf_counter()
    for text in texts:
        explain(model, text, ["toxic"])
    explaining = (time.perf_counter() - start) / len(texts)
    print(f"score one comment: {scoring * 1000:.2f} ms; explain one category: "
          f"{explaining * 1000:.2f} ms; ratio {explaining / scoring:.2f}")


if __name__ == "__main__":
    main()
