#!/usr/bin/env bash
# Set up a virtual environment with culprit and its test dependencies, then run the whole suite.
# The README's test command and .ci/run both call exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CULPRIT_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test,evtx,fleet,web,pdf]"
if [ -x scripts/system-deps.sh ]; then
  scripts/system-deps.sh || true
fi
exec "$VENV/bin/python" -m pytest "$@"
