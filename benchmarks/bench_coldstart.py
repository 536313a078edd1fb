"""Cold start and footprint: model load time, resident memory and artefact size, beside
alt-profanity-check measured the same way.

    .venv/bin/python benchmarks/bench_coldstart.py [--runs 3]

Each figure comes from a fresh Python process (median of ``--runs``): the time to import
the libraries, the time to load the model (ours: load_model(), sha256 check included, plus
compiling the fast path; theirs: importing profanity_check, which unpickles its model),
the first scoring call, and the process's resident memory after it. Targets (issue 6):
model load <= 1 s, resident memory per worker <= 300 MB, artefact <= 30 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import joblib
from common import ROOT, machine, model_summary

from moderation.artefact import MODEL_FILE, load_model

OURS = """
import json, time
t0 = time.perf_counter()
from pathlib import Path
from moderation.artefact import load_model
from moderation.config import load_settings
from moderation.moderator import Moderator
t1 = time.perf_counter()
loaded = load_model(Path(%(models)r))
t2 = time.perf_counter()
moderator = Moderator(loaded, load_settings(environ={}))  # compiles the fast path
t3 = time.perf_counter()
moderator.moderate({"content": "Great post, thanks!", "author_name": "A",
                    "author_email": "a@example.org"})
t4 = time.perf_counter()
"""
THEIRS = """
import json, time
t0 = time.perf_counter()
import sklearn.linear_model, sklearn.feature_extraction.text, joblib  # the libraries
t1 = time.perf_counter()
from profanity_check import predict_prob  # unpickles its vectoriser and model
t2 = time.perf_counter()
t3 = t2
predict_prob(["Great post, thanks!"])
t4 = time.perf_counter()
"""
BEFORE = """
import json, time
t0 = time.perf_counter()
import joblib
import moderation.model
t1 = time.perf_counter()
model = joblib.load(%(path)r)  # the format before issue 6: joblib, compress=3
t2 = time.perf_counter()
t3 = t2
model.predict_proba(["Great post, thanks!"])
t4 = time.perf_counter()
"""
REPORT = """
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
print(json.dumps({"imports": t1 - t0, "load": t3 - t1, "first_call": t4 - t3,
                  "rss_mb": rss / 1024}))
"""


def _run(code: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code + REPORT], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per contender")
    args = parser.parse_args()
    loaded = load_model(ROOT / "models")
    print(machine())
    print(model_summary(loaded.manifest))
    size = (ROOT / "models" / loaded.version / MODEL_FILE).stat().st_size / 2**20
    before = Path(tempfile.mkdtemp(prefix="bench_coldstart.")) / MODEL_FILE
    joblib.dump(loaded.model, before, compress=3)
    contenders = {"ours": OURS % {"models": str(ROOT / "models")},
                  "ours, joblib format": BEFORE % {"path": str(before)},
                  "alt-profanity-check": THEIRS}
    results = {}
    for name, code in contenders.items():
        runs = [_run(code) for _ in range(args.runs)]
        results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"\nFresh processes, median of {args.runs}")
    for name, r in results.items():
        print(f"  {name:<21} imports {r['imports']:5.2f} s  model load {r['load']:5.2f} s  "
              f"first call {r['first_call'] * 1000:6.1f} ms  resident {r['rss_mb']:5.0f} MB")
    before.unlink()
    before.parent.rmdir()
    ours, theirs = results["ours"], results["alt-profanity-check"]
    print(f"  load ratio ours/theirs {ours['load'] / theirs['load']:.2f}x; plain pickle vs "
          f"joblib format {ours['load'] / results['ours, joblib format']['load']:.2f}x")
    print(f"\nTargets: model load <= 1 s -> {ours['load']:.2f} s; resident <= 300 MB -> "
          f"{ours['rss_mb']:.0f} MB; artefact <= 30 MB -> {size:.1f} MB "
          f"({loaded.manifest.get('format', 'joblib')} format)")


if __name__ == "__main__":
    main()
