#!/usr/bin/env bash
# Installs the Node packages of the Postman run (newman), the Node example (openai), the
# Responses API clients (examples/node-responses: the Vercel AI SDK and OpenAI's Codex CLI, whose
# npm package ships its binary) and the clients of Gemini's own API (examples/node-gemini:
# Google's @google/genai and Gemini CLI) from their lock files. Idempotent: a folder whose lock
# file has not changed since its last install is left alone. Without npm it only warns (the tests
# that need Node then skip and say why).
# Usage: bash scripts/install-node-deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "install-node-deps: npm not found; the Postman, Node example, AI SDK, Codex, @google/genai and Gemini CLI tests will be skipped" >&2
  exit 0
fi

for dir in postman examples/node examples/node-responses examples/node-gemini; do
  # A copy of the lock file the folder was last installed from.
  stamp="$dir/node_modules/.installed-package-lock.json"
  if cmp -s "$dir/package-lock.json" "$stamp"; then
    continue
  fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$dir/package-lock.json" "$stamp"
done
