"""Helpers for the review tests: run the CLI as a user would, find the bundled examples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
KB = EXAMPLES / "kb4474419-registry-denied"
EDGE = EXAMPLES / "edge-injected-dll"
CASES = ROOT / "tests" / "data" / "cases"


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m culprit ARGS`` in a subprocess and capture its output as text."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "culprit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=full_env,
        errors="replace",
    )


def analyze_json(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    """``culprit analyze ARGS -f json`` parsed; fails the test when it does not exit 0."""
    r = run_cli("analyze", *args, "-f", "json", cwd=cwd)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)
