"""Throughput and memory of ``moderation rescore --database`` against plain predict_proba.

Builds a table of N stored comments from training_data/ and the public datasets
(generated here, never committed), times a single-process ``predict_proba`` over the
same texts twice, then times a real ``moderation rescore`` process (reads, policy,
writes and history included) while sampling its memory. The two references are the
same fitted model's ``predict_proba``: on the compiled scorer the re-scoring itself
uses (``ratio``), and through scikit-learn's transform and product, the plain
``predict_proba`` (``ratio_to_sklearn``).

    python benchmarks/rescore_throughput.py --rows 200000
    python benchmarks/rescore_throughput.py --rows 1000000 --reference-rows 0
    python benchmarks/rescore_throughput.py --rows 200000 \
        --database 'postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench'
    python benchmarks/rescore_throughput.py --rows 200000 --engine dask

Run by hand, not in CI. The database must not hold comments yet (SQLite: a temporary file).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation.artefact import load_model  # noqa: E402
from moderation.datasets import SOURCES, iter_labelled  # noqa: E402
from moderation.store import (  # noqa: E402
    comments,
    migrate,
    open_engine,
    rescore_runs,
    utcnow,
)

DATA_DIR = Path(os.environ.get("MODERATION_DATA_DIR", ROOT.parent / "shared" / "datasets"))


def corpus() -> list[str]:
    """Distinct comment texts: our corpus, plus three public sets when present."""
    texts = [t for path in sorted((ROOT / "training_data").glob("*.jsonl"))
             for t, _ in iter_labelled(path)]
    for name in ("youtube_spam", "jigsaw_toxic_subset", "civil_comments_toxic_spans"):
        folder = DATA_DIR / SOURCES[name].folder
        if folder.is_dir():
            texts += [row.text for row in SOURCES[name].load(folder) if row.text.strip()]
    return texts


def seed(url: str, rows: int, texts: list[str]) -> None:
    engine = open_engine(url)
    migrate(engine)
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(comments)).scalar():
            sys.exit(f"{url} already holds comments; give an empty database")
    now = utcnow()
    cycle = itertools.cycle(texts)
    for start in range(0, rows, 10_000):
        with engine.begin() as conn:
            conn.execute(insert(comments), [{
                "id": f"b{i:08d}", "created_at": now, "content": next(cycle),
                "author_name": "Reader", "author_email": "reader@example.org",
                "decision": "accept", "scores": "{}", "reasons": "[]", "checks": "[]",
                "model_version": "old", "policy_version": "old"}
                for i in range(start, min(start + 10_000, rows))])
    engine.dispose()


def reference(texts: list[str], rows: int, batch_size: int, compiled: bool = True) -> float:
    """Rows per second of the model's predict_proba, one process, same batches: through
    the compiled scorer, or (``compiled=False``) through scikit-learn's own transform and
    product, the plain predict_proba of the fitted model."""
    model = load_model(ROOT / "models").model
    if not compiled:
        model._scorer = None  # what scorer() answers when it refuses a model
    cycle = itertools.cycle(texts)
    started = time.perf_counter()
    for start in range(0, rows, batch_size):
        model.predict_proba([next(cycle) for _ in range(min(batch_size, rows - start))])
    return rows / (time.perf_counter() - started)


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def _kb(pid: int, path: str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    """Peak RSS of the main process and peak PSS of its whole process tree."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.main_rss, self.tree_pss, self.done = pid, 0, 0, False

    def run(self) -> None:
        while not self.done:
            self.main_rss = max(self.main_rss, _kb(self.pid, "status", "VmRSS:"))
            self.tree_pss = max(self.tree_pss, sum(_kb(p, "smaps_rollup", "Pss:")
                                                   for p in _tree(self.pid)))
            time.sleep(0.2)


def rescore(url: str, args: argparse.Namespace, scheduler: str | None) -> tuple[float, str,
                                                                              MemorySampler]:
    command = [sys.executable, "-c", "from moderation.cli import main; main()", "rescore",
               "--database", url, "--batch-size", str(args.batch_size),
               "--workers", str(args.workers)]
    if scheduler:
        command += ["--engine", "dask", "--scheduler", scheduler,
                    "--partition-rows", str(args.partition_rows)]
    # A shell's background job ignores SIGINT, and so would the child: restore it,
    # so that --max-seconds can interrupt the run the way Ctrl-C does.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    sampler = MemorySampler(process.pid)
    sampler.start()
    try:
        out, _ = process.communicate(timeout=args.max_seconds)
    except subprocess.TimeoutExpired:
        # Interrupted like Ctrl-C: the pool is torn down, the run stays resumable.
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate()
        engine = open_engine(url)
        with engine.connect() as conn:
            done = conn.execute(select(func.sum(rescore_runs.c.rows_done))).scalar()
        engine.dispose()
        sampler.done = True
        sampler.join()
        return 0.0, f"stopped after {args.max_seconds} s with {done} rows committed", sampler
    sampler.done = True
    sampler.join()
    if process.returncode:
        sys.exit(f"rescore failed ({process.returncode}): {out}")
    match = re.search(r"re-scored in ([\d.]+) s", out)
    assert match, out
    rows = int(re.search(r"(\d+) comments re-scored", out).group(1))  # type: ignore[union-attr]
    return rows / float(match.group(1)), out, sampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--reference-rows", type=int, default=None,
                        help="rows for the predict_proba reference (default: --rows; 0 skips)")
    parser.add_argument("--sklearn-rows", type=int, default=None,
                        help="rows for the scikit-learn reference (default: --reference-rows; "
                             "0 skips)")
    parser.add_argument("--database", help="empty database URL (default: a temporary SQLite)")
    parser.add_argument("--engine", choices=["local", "dask"], default="local")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--partition-rows", type=int, default=20_000, help="Dask only")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="interrupt the re-score after this long (memory runs on a busy "
                             "machine); the figures then cover the rows committed so far")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory(prefix="rescore-bench-")
    url = args.database or f"sqlite:///{folder.name}/bench.db"
    texts = corpus()
    print(f"cores {os.cpu_count()}, load average before {os.getloadavg()}, "
          f"{len(texts)} distinct texts, {args.rows} rows, {url.split('?')[0]}", flush=True)
    started = time.perf_counter()
    seed(url, args.rows, texts)
    print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    reference_rows = args.rows if args.reference_rows is None else args.reference_rows
    plain = reference(texts, reference_rows, args.batch_size) if reference_rows else None
    if plain:
        print(f"predict_proba on the compiled scorer, 1 process: {plain:,.0f} rows/s",
              flush=True)
    sklearn_rows = reference_rows if args.sklearn_rows is None else args.sklearn_rows
    sklearn = (reference(texts, sklearn_rows, args.batch_size, compiled=False)
               if sklearn_rows else None)
    if sklearn:
        print(f"predict_proba through scikit-learn, 1 process: {sklearn:,.0f} rows/s",
              flush=True)
    cluster = None
    if args.engine == "dask":
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    try:
        rate, out, memory = rescore(url, args, cluster.scheduler_address if cluster else None)
    finally:
        if cluster is not None:
            cluster.close()
    print(out.splitlines()[0])
    figures = {"rows": args.rows, "engine": args.engine, "workers": args.workers,
               "rescore_rows_per_s": round(rate) if rate else None,
               "main_peak_rss_mb": memory.main_rss // 1024,
               "tree_peak_pss_mb": memory.tree_pss // 1024,
               "load_average_after": os.getloadavg()}
    if plain and rate:
        figures |= {"plain_rows_per_s": round(plain), "ratio": round(rate / plain, 2)}
    if sklearn and rate:
        figures |= {"sklearn_rows_per_s": round(sklearn),
                    "ratio_to_sklearn": round(rate / sklearn, 2)}
    print(json.dumps(figures))
    folder.cleanup()


if __name__ == "__main__":
    main()
