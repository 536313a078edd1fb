"""Training time: the full training command on training_data/ and every public dataset.

    .venv/bin/python benchmarks/bench_training.py

Runs ``moderation train --data-dir ../shared/datasets`` into a temporary models folder
(the repository's models/ is untouched), prints the wall-clock and CPU time, the machine's
load, and the holdout ROC AUCs of the model it trained. Target (issue 6): <= 3 minutes on
2 cores. Training is deterministic, so the AUCs must equal the committed model's when the
data and parameters are the same.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA_DIR, ROOT, machine, model_summary


def main() -> None:
    if not DATA_DIR.is_dir():
        raise SystemExit(f"{DATA_DIR} is missing: the full training needs the public datasets")
    folder = Path(tempfile.mkdtemp(prefix="bench_training."))
    command = [str(Path(sys.executable).parent / "moderation"), "train", "--data-dir",
               str(DATA_DIR), "--models-dir", str(folder), "--name", "bench"]
    print(machine())
    try:
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items()
                            if not k.startswith("MODERATION_")})
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        manifest = json.loads((folder / "bench" / "manifest.json").read_text())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"command: {' '.join(command[1:])}")
    print(f"wall clock {wall:.1f} s, CPU {usage.ru_utime + usage.ru_stime:.1f} s, "
          f"peak resident {usage.ru_maxrss / 1024:.0f} MB")
    print(f"target: <= 180 s -> {wall:.1f} s ({wall / 180:.2f} of the budget)")
    print(model_summary(manifest))
    print(f"artefact {manifest['size_bytes'] / 2**20:.1f} MB ({manifest.get('format')} format)")
    print(f"after: {machine()}")


if __name__ == "__main__":
    main()
