"""HTTP: the service under gunicorn (2 workers, as documented for production) with storage,
side by side with a bare Flask app that parses the same JSON and returns a constant.

    apt-get install wrk          # the load generator, from the distribution's packages
    .venv/bin/pip install -e '.[serve,bench]'
    .venv/bin/python benchmarks/bench_http.py [--duration 10] [--connections 8]

Both apps run with ``gunicorn -w 2`` on 127.0.0.1 (ports 8601 and 8602). wrk posts
20,000 distinct realistic comments in turn (more than the score cache holds, so repeats
do not flatter us). Measured: throughput at saturation for both, then our p99 latency
at about half of our (median) saturation throughput (wrk's ``delay()`` paces each connection),
errors (connection, timeout and non-2xx) and each worker's resident memory.
Targets (issue 6): >= 0.5x the bare app's throughput, p99 <= 20 ms at half load,
zero errors; resident memory <= 300 MB per worker.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import ROOT, describe_texts, machine, model_summary, realistic_texts

from moderation.artefact import load_model

VENV_BIN = Path(sys.executable).parent
LUA = r"""
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "/v1/moderate", nil, bodies[i])
end
%(delay)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%.3f %%.3f\n",
    summary.requests, summary.duration, e.connect + e.read + e.write, e.status, e.timeout,
    0, 0, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def _serve(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [str(VENV_BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", app]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # the bare app has no /healthz: a 404 means it is up
        except OSError:
            time.sleep(0.2)
    _stop(process)
    raise SystemExit(f"{app} did not start; see {log}")


def _workers_rss_mb(process: subprocess.Popen) -> list[float]:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def _wrk(port: int, script: Path, connections: int, duration: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, micros, socket_errors, status_errors, timeouts, _, _, p50, p99 = map(
        float, line.split()[1:])
    return {"rps": requests / (micros / 1e6), "requests": requests,
            "errors": socket_errors + status_errors + timeouts, "p50_ms": p50, "p99_ms": p99}


def _script(folder: Path, name: str, bodies: Path, delay_ms: float) -> Path:
    delay = f"delay = function() return {delay_ms:.2f} end" if delay_ms > 0 else ""
    path = folder / f"{name}.lua"
    path.write_text(LUA % {"bodies": bodies, "delay": delay})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="connections at saturation")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating saturation runs per app (the median counts)")
    parser.add_argument("--no-store", action="store_true",
                        help="run the service with store_comments=false (to see storage's cost)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    folder = Path(tempfile.mkdtemp(prefix="bench_http."))
    texts = realistic_texts(20000, seed=3)
    bodies = folder / "bodies.jsonl"
    # Many commenters, as on a real site: one author sending every request would be
    # refused by the flood check after the first and measure only that refusal.
    bodies.write_text("".join(json.dumps({
        "content": t, "author_name": f"Reader {i % 5000}",
        "author_email": f"reader{i % 5000}@example.org",
        "author_ip": f"198.51.{i % 5000 // 250}.{i % 250}", "post_id": i % 40})
        + "\n" for i, t in enumerate(texts)))
    print(machine())
    print(model_summary(load_model(ROOT / "models").manifest))
    print(f"bodies: {describe_texts(texts)}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env["PYTHONPATH"] = str(ROOT / "benchmarks")
    ours_env = dict(env, MODERATION_DATABASE_URL=f"sqlite:///{folder / 'bench.db'}",
                    MODERATION_LOG_LEVEL="WARNING",
                    MODERATION_STORE_COMMENTS="false" if args.no_store else "true")
    saturate = _script(folder, "saturate", bodies, 0)
    rounds: list[tuple[dict[str, float], dict[str, float]]] = []
    try:
        # Both servers up at once (an idle one costs nothing) and their runs alternated,
        # so that the shared machine's drifting load hits both sides alike.
        bare = _serve("bare_app:create_app()", 8602, env, folder / "bare.log")
        ours_process = _serve("moderation.wsgi:app", 8601, ours_env,
                              folder / "ours.log")
        try:
            for _ in range(args.rounds):
                reference = _wrk(8602, saturate, args.connections, args.duration)
                rounds.append((reference, _wrk(8601, saturate, args.connections,
                                               args.duration)))
            ours_rps = statistics.median(o["rps"] for _, o in rounds)
            # Half of our saturation rate, spread over a few paced connections.
            paced = 4
            delay = paced * 1000 / (ours_rps / 2)  # each request then waits this long
            half = _wrk(8601, _script(folder, "half", bodies, delay), paced, args.duration)
            rss = _workers_rss_mb(ours_process)
        finally:
            _stop(bare)
            _stop(ours_process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ours_name = f"ours, {'no storage' if args.no_store else 'SQLite storage'}"
    print(f"\nSaturation ({args.connections} connections, {args.duration} s per run, "
          f"{args.rounds} alternating rounds)")
    for number, (reference, ours) in enumerate(rounds, start=1):
        for name, r in (("bare Flask (reference)", reference), (ours_name, ours)):
            print(f"  round {number}  {name:<26} {r['rps']:8,.0f} req/s  p50 "
                  f"{r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  errors "
                  f"{r['errors']:.0f} of {r['requests']:.0f}")
    ratios = [o["rps"] / r["rps"] for r, o in rounds]
    print(f"  per-round ratios {', '.join(f'{x:.2f}' for x in ratios)}")
    print(f"  target: ours >= 0.5x -> median ratio {statistics.median(ratios):.2f}x")
    print(f"\nHalf load (ours, {paced} paced connections)")
    print(f"  {half['rps']:8,.0f} req/s ({half['rps'] / ours_rps:.2f} of saturation)  "
          f"p50 {half['p50_ms']:.2f} ms  p99 {half['p99_ms']:.2f} ms  errors "
          f"{half['errors']:.0f} of {half['requests']:.0f}")
    errors = sum(o["errors"] for _, o in rounds) + half["errors"]
    print(f"  target: p99 <= 20 ms -> {half['p99_ms']:.2f} ms; zero errors -> {errors:.0f}")
    print(f"\nResident memory per worker after the runs: "
          f"{', '.join(f'{x:.0f} MB' for x in rss)} (target <= 300 MB)")
    print(f"after: {machine()}")


if __name__ == "__main__":
    main()
