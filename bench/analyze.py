#!/usr/bin/env python3
"""Time `culprit analyze` end to end on both seed cases (goal: under 3 s each on this machine).

Runs each case in a fresh subprocess (as a user would start it, imports included) N times and prints
the median wall time and peak RSS, next to the goal. Usage: python bench/analyze.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "kb4474419-registry-denied": ["bad", "repro"],
    "edge-injected-dll": ["bad", "--good", "good"],
}
GOAL_S = 3.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default=str(ROOT / "examples"))
    args = ap.parse_args()
    print(f"{'case':30} {'median s':>9} {'goal s':>7} {'ratio':>6} {'peak RSS MB':>12}")
    worst = 0.0
    for case, parts in CASES.items():
        base = Path(args.cases) / case
        argv = [str(base / p) if not p.startswith("--") else p for p in parts]
        times = []
        rss = 0.0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "culprit", "analyze", *argv, "--format", "json"],
                               capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - t0)
            if r.returncode != 0:
                print(r.stderr, file=sys.stderr)
                return 1
            json.loads(r.stdout)
            rss = max(rss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
        med = statistics.median(times)
        worst = max(worst, med / GOAL_S)
        print(f"{case:30} {med:9.2f} {GOAL_S:7.1f} {med / GOAL_S:6.2f} {rss:12.0f}")
    print(f"worst ratio to goal: {worst:.2f} ({'met' if worst <= 1 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
