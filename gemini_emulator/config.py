"""EmulatorConfig: the few knobs that shape every answer of one emulator instance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EmulatorConfig:
    """Settings of one emulator app.

    api_keys: empty accepts any non-empty key; otherwise a key must be one of them (otherwise
        the real 400 API_KEY_INVALID answer).
    ttft: seconds before the first chunk (and before a non-streamed answer).
    tokens_per_second: generation pace after the first chunk; 0 means as fast as possible.
    chunk_tokens: candidate tokens per stream chunk.
    max_batch: most requests accepted in one batchEmbedContents call (Gemini allows 100).
    service_accounts: service-account JSONs (dicts) whose JWT assertions POST /token accepts (Vertex AI).
    token_lifetime: seconds an access token from /token lives (its `expires_in`).
    """

    api_keys: tuple[str, ...] = ()
    ttft: float = 0.0
    tokens_per_second: float = 0.0
    chunk_tokens: int = 4
    max_batch: int = 100
    service_accounts: tuple[dict[str, Any], ...] = ()
    token_lifetime: int = 3600

    def __post_init__(self) -> None:
        if self.ttft < 0 or self.tokens_per_second < 0:
            raise ValueError("ttft and tokens_per_second must be >= 0")
        if self.chunk_tokens < 1:
            raise ValueError("chunk_tokens must be >= 1")
        if self.token_lifetime < 1:
            raise ValueError("token_lifetime must be >= 1")
        if self.max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        if not all(self.api_keys):
            raise ValueError("api keys must be non-empty strings")
