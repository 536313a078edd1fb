"""One comment at a time, counted in CPU instructions: ours against alt-profanity-check.

    apt-get install valgrind     # from the distribution's packages
    .venv/bin/python benchmarks/bench_instructions.py [--texts 300]

Wall-clock latency on a shared two-core machine moves with whatever else runs; the
number of instructions a piece of code executes does not. Each contender runs in
its own process under ``valgrind --tool=callgrind`` with counting switched off
until its caches are warm (one full pass over the texts), then counts one more
pass: ours is ``Moderator.moderate`` (normalise, score, every policy check, the
explanation; storage and the score cache off), theirs ``predict_prob([text])``.
The texts are those :mod:`bench_inprocess` times first, split by whether ours
explains them (a category at or over its flag threshold), since an explanation
costs more than the score it explains.

Instructions are not time: memory stalls (the vocabularies are larger than the CPU
caches) and the CPU's frequency do not show. On an idle machine the ratio of
instructions and the ratio of p50 latencies were close (0.35 and 0.33 at the
start of this measurement's use); under load ours, which touches more memory,
loses more.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, realistic_texts

AUTHOR = {"author_name": "Sam Reader", "author_email": "sam@example.org"}


def _texts(count: int) -> dict[str, list[str]]:
    from moderation.artefact import load_model
    from moderation.config import load_settings
    from moderation.moderator import Moderator

    moderator = Moderator(load_model(ROOT / "models"),
                          load_settings({"score_cache_size": 0, "store_comments": False},
                                        environ={}))
    groups: dict[str, list[str]] = {"explained": [], "not explained": []}
    for text in realistic_texts(2000, seed=1):  # bench_inprocess's single-comment texts
        explained = bool(moderator.moderate({"content": text, **AUTHOR})["explanation"])
        group = groups["explained" if explained else "not explained"]
        if len(group) < count:
            group.append(text)
        if all(len(g) == count for g in groups.values()):
            break
    return groups


def _worker(contender: str, group: str, count: int, flag: Path) -> None:
    """Warm up, tell the parent (the flag file), wait for counting to start, run once."""
    texts = _texts(count)[group]
    if contender == "ours":
        from moderation.artefact import load_model
        from moderation.config import load_settings
        from moderation.moderator import Moderator

        moderator = Moderator(load_model(ROOT / "models"),
                              load_settings({"score_cache_size": 0, "store_comments": False},
                                            environ={}))

        def call(text: str) -> object:
            return moderator.moderate({"content": text, **AUTHOR})
    else:
        from profanity_check import predict_prob

        def call(text: str) -> object:
            return predict_prob([text])
    for text in texts:
        call(text)
    flag.write_text("warm")
    while flag.exists():
        time.sleep(0.05)
    for text in texts:
        call(text)
    os._exit(0)  # skip the interpreter's clean-up, which would be counted too


def _count(contender: str, group: str, count: int, folder: Path) -> int:
    """Instructions of one pass of ``contender`` over ``count`` texts of ``group``."""
    flag, out = folder / f"{contender}.flag", folder / f"{contender}.callgrind"
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         sys.executable, __file__, "--worker", contender, "--group", group,
         "--texts", str(count), "--flag", str(flag)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not flag.exists():
        if process.poll() is not None:
            sys.exit(f"{contender} stopped before it was warm (exit {process.returncode})")
        time.sleep(0.2)
    subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    flag.unlink()
    process.wait()
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    sys.exit(f"no instruction total in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=300, help="texts per group")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--group", default="explained", help=argparse.SUPPRESS)
    parser.add_argument("--flag", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.group, args.texts, args.flag)
        return
    print(f"One comment at a time, instructions per comment ({args.texts} texts a group, "
          "valgrind callgrind, caches warm)")
    with tempfile.TemporaryDirectory() as folder:
        for group in ("explained", "not explained"):
            ours = _count("ours", group, args.texts, Path(folder)) / args.texts
            theirs = _count("alt", group, args.texts, Path(folder)) / args.texts
            print(f"  {group:<14} ours {ours / 1e6:6.2f} M   alt-profanity-check "
                  f"{theirs / 1e6:6.2f} M   ratio {ours / theirs:5.3f}")


if __name__ == "__main__":
    main()
