#!/usr/bin/env bash
# Installs what the test suite needs and runs the whole suite.
# Usage: bash scripts/test.sh [pytest args...]
#
# Python packages go into .venv. Node packages (newman, the Node example) are installed when
# npm is there. nginx and redis-server are installed when running as root (as CI does); on a
# machine without them, the tests that need them skip and say why. With CI=true a skip fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  bash scripts/install-system-deps.sh
fi
if command -v npm >/dev/null && [ -f scripts/install-node-deps.sh ]; then
  bash scripts/install-node-deps.sh
fi
exec .venv/bin/python -m pytest "$@"
