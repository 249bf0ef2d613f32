#!/usr/bin/env bash
# A chat completion, then a streamed one, with curl.
#   OPENAI_BASE_URL=http://localhost:8000/v1 bash examples/curl/chat.sh
set -euo pipefail
BASE_URL="${OPENAI_BASE_URL:-http://localhost:8000/v1}"
API_KEY="${OPENAI_API_KEY:-any-key}"

curl -sS --fail-with-body "$BASE_URL/chat/completions" \
  -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' -d '{
    "model": "gemini-2.5-flash",
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}]
  }'
echo

# -N: print each server-sent event as it arrives; the stream ends with "data: [DONE]".
curl -sS -N --fail-with-body "$BASE_URL/chat/completions" \
  -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' -d '{
    "model": "gemini-2.5-flash", "stream": true,
    "messages": [{"role": "user", "content": "Count to five."}]
  }'
