"""A local Gemini: an HTTP server speaking the real generativelanguage REST wire format.

The real google-genai SDK (and the gateway) talk to it unchanged over real HTTP. Answers are
deterministic English-ish text with consistent token usage; faults, pace and exact answers are
injected per request with `[emulator key=value ...]` directives in the prompt (see
gemini_emulator.directives for the full syntax).

    from gemini_emulator import EmulatorConfig, EmulatorServer
    with EmulatorServer(EmulatorConfig(ttft=0.2, tokens_per_second=50)) as server:
        client = genai.Client(api_key="k", http_options=types.HttpOptions(
            base_url=server.url, api_version="v1beta"))

Beyond text it emulates function calling with thought signatures (enforced on gemini-3*
models), thinking (per-model thinkingConfig rules, thoughts counted against
maxOutputTokens, thought summaries), JSON / enum output, logprobs, media parts and safety
settings; each module's docstring states its exact rules.

It also speaks Vertex AI (vertex: the publishers/google/models paths, project paths with OAuth bearer
tokens, express mode with an API key; oauth: a loopback /token endpoint for service accounts).

Depends only on the standard library and werkzeug (oauth also on cryptography, which google-auth
requires); imports nothing else of gemini_proxy.
Module map: app (routes, auth, views), server (socket + keep-alive handler), config,
directives, validation, generation (answer plans), text (the word generator), tokens (the
tokenizer), responses (response bodies and stream events), streaming (pace, faults,
disconnects), embeddings, catalog (models), errors (Gemini's error vocabulary), wire (key
normalisation, base64, SSE), state (counters and request log), tools (function declarations
and the calling rule), schema_values (values valid under a JSON/OpenAPI schema), signatures
(thought signatures), thinking (per-model thinking rules, thoughts), output_format (JSON and
enum answers), logprobs, media (inlineData/fileData checks and descriptions), safety
(safetySettings enums, safety ratings), vertex (Vertex AI's paths, bodies, errors), oauth
(/token), access (API keys and bearer tokens per route).
"""

from gemini_emulator.app import EmulatorApp, create_emulator_app
from gemini_emulator.config import EmulatorConfig
from gemini_emulator.server import EmulatorServer
from gemini_emulator.tokens import count_tokens

__all__ = [
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorServer",
    "count_tokens",
    "create_emulator_app",
]
