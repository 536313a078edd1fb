"""What every benchmark shares: the realistic texts, the machine's description, the model's AUCs.

Run benchmarks from the repository root with the venv's Python, e.g.
``.venv/bin/python benchmarks/bench_inprocess.py``. They are run by hand, never in CI.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation.datasets import DATA_DIR_ENV, SOURCES, load_source, load_training_data  # noqa: E402

DATA_DIR = Path(os.environ.get(DATA_DIR_ENV, ROOT.parent / "shared" / "datasets"))
LONG = 1500  # the default max_length: the longest comment a site accepts
LONG_SHARE = 0.02


def _pool() -> list[str]:
    texts = [r.text for r in load_training_data(ROOT / "training_data")]
    if DATA_DIR.is_dir():
        for source in SOURCES:
            texts += [r.text for r in load_source(source, DATA_DIR)]
    else:
        print(f"note: {DATA_DIR} is missing; texts come from training_data/ only")
    return [t.strip() for t in texts if t.strip()]


def realistic_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct comments: real texts from our corpus and the public sets, joined into
    site-comment lengths (uniform 40-460 characters, mean ~250) and 2 % at 1,500."""
    rng = random.Random(seed)
    pool = _pool()
    out: dict[str, None] = {}
    while len(out) < n:
        target = LONG if rng.random() < LONG_SHARE else rng.randint(40, 460)
        pieces: list[str] = []
        length = 0
        while length < target:
            piece = rng.choice(pool)
            pieces.append(piece)
            length += len(piece) + 1
        text = " ".join(pieces)[:target]
        if target != LONG and " " in text[target // 2:]:
            text = text[:text.rindex(" ")]  # end on a word, as a writer would
        out[text] = None
    return list(out)


def describe_texts(texts: list[str]) -> str:
    """Count and length figures of a text set."""
    lengths = [len(t) for t in texts]
    return (f"{len(texts)} texts, mean {statistics.mean(lengths):.0f} chars, median "
            f"{statistics.median(lengths):.0f}, {sum(n >= LONG for n in lengths)} at {LONG}")


def machine() -> str:
    """CPU model, cores and load averages (the machine is shared: read figures with them)."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{model}, {os.cpu_count()} cores, load average {load}, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}")


def model_summary(manifest: dict) -> str:
    """The timed model's version and the evaluation ROC AUCs recorded when it was trained."""
    lines = [f"model {manifest['version']}: evaluation ROC AUC (from its manifest)"]

    def walk(node: object, path: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        if isinstance(node.get("roc_auc"), (int, float)):
            lines.append(f"  {' / '.join(path):<50} {node['roc_auc']:.3f}")
            return
        for key, value in sorted(node.items()):
            walk(value, (*path, str(key)))

    walk(manifest.get("metrics", {}), ())
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]
