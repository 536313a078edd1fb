"""What normalisation and the default site's content checks cost per comment.

Times, on realistic comments (``common.realistic_texts``), ``normalize`` (the C passes,
and the Python ones with their shortcuts) and ``normalize_with_offsets``, each also as the
exact reference run that takes every pass (the pipeline before the shortcuts), and the
default site's ``policy.run(comment, normalised, None)``. Best of ``--repeats`` runs, in
microseconds per comment.

    .venv/bin/python benchmarks/text_cost.py [--count 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

from common import describe_texts, machine, realistic_texts

from moderation import normalize as norm
from moderation import normalize_passes as passes
from moderation.config import load_settings
from moderation.policy import Policy


def per_item_us(funcs: dict[str, Callable[[Any], object]], items: dict[str, Sequence[Any]],
                repeats: int) -> dict[str, float]:
    """Best time per item of each function; runs interleaved, so a busy moment of a shared
    machine weighs on every figure alike."""
    best = dict.fromkeys(funcs, float("inf"))
    for _ in range(repeats):
        for name, func in funcs.items():
            started = time.perf_counter()
            for item in items[name]:
                func(item)
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: best[name] * 1e6 / len(items[name]) for name in funcs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="realistic comments to time")
    parser.add_argument("--repeats", type=int, default=5, help="runs; the best is kept")
    args = parser.parse_args()
    texts = realistic_texts(args.count, seed=0)
    print(machine())
    print(describe_texts(texts))
    pairs = [({"content": t, "author_name": f"Reader {i % 50}",
               "author_email": f"reader{i % 50}@example.org", "author_ip": f"10.0.{i % 200}.1"},
              norm.normalize(t)) for i, t in enumerate(texts)]
    policy = Policy(load_settings(environ={}))
    funcs: dict[str, Callable[[Any], object]] = {
        "normalize, exact reference": lambda t: passes.run(t, track=False, exact=True),
        "normalize, Python passes": lambda t: passes.run(t, track=False),
        "normalize": norm.normalize,
        "normalize_with_offsets, exact reference": lambda t: passes.run(t, track=True, exact=True),
        "normalize_with_offsets": norm.normalize_with_offsets,
        "policy.run, default site, content checks": lambda p: policy.run(p[0], p[1], None),
    }
    items = {name: pairs if name.startswith("policy") else texts for name in funcs}
    for name, cost in per_item_us(funcs, items, args.repeats).items():
        print(f"{name:42s} {cost:8.1f} us/comment")

if __name__ == "__main__":
    main()
