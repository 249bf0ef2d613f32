"""Settings: one immutable object built from a mapping (os.environ in production).

Every value the google-genai SDK could silently take from the environment (key, base URL,
timeout, api version) is resolved here and passed to it explicitly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Mapping

from gemini_proxy.translate.models import gemini_model_id

DEFAULT_ALIASES = (
    "gpt-4o-mini=gemini-2.5-flash,gpt-4o=gemini-2.5-pro,gpt-3.5-turbo=gemini-2.5-flash-lite,"
    "gemini-1.5-flash=gemini-2.5-flash,gemini-1.5-pro=gemini-2.5-pro"
)
DEFAULT_EMBEDDING_ALIASES = (
    "text-embedding-3-small=gemini-embedding-001,text-embedding-3-large=gemini-embedding-001,"
    "text-embedding-ada-002=gemini-embedding-001"
)


class SettingsError(ValueError):
    """A setting has a value that cannot be used; raised at start, never per request."""


def _parse_aliases(text: str) -> dict[str, str]:
    aliases = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        alias, sep, target = item.partition("=")
        if not sep or not alias.strip() or not target.strip():
            raise SettingsError(f"MODEL_ALIASES entry {item!r} is not alias=model")
        aliases[alias.strip()] = target.strip()
    return aliases


def _parse_safety(text: str) -> tuple[dict[str, str], ...]:
    settings = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        category, sep, threshold = item.partition("=")
        if not sep or not category.strip() or not threshold.strip():
            raise SettingsError(f"SAFETY_SETTINGS entry {item!r} is not HARM_CATEGORY_...=THRESHOLD")
        settings.append({"category": category.strip(), "threshold": threshold.strip()})
    return tuple(settings)


def _optional(cast):
    def convert(text: str):
        return None if text.strip() == "" else cast(text)
    return convert


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise ValueError("must be a number of seconds above 0")
    return value


def _bounded(low: int, high: int):
    def convert(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value
    return convert


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise ValueError("must be 0 or more")
    return value


def _one_of(*choices: str):
    def convert(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value
    return convert


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not a boolean")


@dataclass(frozen=True)
class Settings:
    # Upstream. No key means the built-in emulator answers (see upstream_base_url).
    gemini_api_key: str | None = field(default=None, repr=False, metadata={"env": "GEMINI_API_KEY", "cast": _optional(str)})
    gemini_base_url: str | None = field(default=None, metadata={"env": "GEMINI_BASE_URL", "cast": _optional(str)})
    gemini_api_version: str = field(default="v1beta", metadata={"env": "GEMINI_API_VERSION"})
    # The longest a client waits for an answer to start (non-streamed: for the whole answer),
    # across every attempt and the waits between them.
    upstream_timeout: float = field(default=600.0, metadata={"env": "UPSTREAM_TIMEOUT", "cast": _seconds})
    # Opening a connection to Gemini (each attempt); short, so a dead address is retried quickly.
    upstream_connect_timeout: float = field(default=10.0, metadata={"env": "UPSTREAM_CONNECT_TIMEOUT", "cast": _seconds})
    # The longest a stream may go silent once its first chunk arrived.
    upstream_chunk_timeout: float = field(default=300.0, metadata={"env": "UPSTREAM_CHUNK_TIMEOUT", "cast": _seconds})
    upstream_max_connections: int = field(default=1024, metadata={"env": "UPSTREAM_MAX_CONNECTIONS", "cast": _positive})
    upstream_retries: int = field(default=2, metadata={"env": "UPSTREAM_RETRIES", "cast": int})
    upstream_retry_delay: float = field(default=0.25, metadata={"env": "UPSTREAM_RETRY_DELAY", "cast": float})

    # The built-in emulator, used when no GEMINI_API_KEY is set.
    emulator_port: int = field(default=8089, metadata={"env": "EMULATOR_PORT", "cast": _positive})
    emulator_ttft: float = field(default=0.2, metadata={"env": "EMULATOR_TTFT", "cast": float})
    emulator_tokens_per_second: float = field(default=50.0, metadata={"env": "EMULATOR_TOKENS_PER_SECOND", "cast": float})

    # Request defaults: applied when a request does not set the parameter.
    default_model: str = field(default="gemini-2.5-flash", metadata={"env": "DEFAULT_MODEL"})
    default_temperature: float | None = field(default=None, metadata={"env": "DEFAULT_TEMPERATURE", "cast": _optional(float)})
    default_top_p: float | None = field(default=None, metadata={"env": "DEFAULT_TOP_P", "cast": _optional(float)})
    default_top_k: int | None = field(default=None, metadata={"env": "DEFAULT_TOP_K", "cast": _optional(int)})
    default_max_tokens: int | None = field(default=None, metadata={"env": "DEFAULT_MAX_TOKENS", "cast": _optional(int)})
    model_aliases: Mapping[str, str] = field(
        default_factory=lambda: _parse_aliases(DEFAULT_ALIASES),
        metadata={"env": "MODEL_ALIASES", "cast": _parse_aliases},
    )

    # Embeddings and legacy completions. Gemini takes at most 100 texts per batchEmbedContents call.
    default_embedding_model: str = field(default="gemini-embedding-001", metadata={"env": "DEFAULT_EMBEDDING_MODEL"})
    embedding_model_aliases: Mapping[str, str] = field(
        default_factory=lambda: _parse_aliases(DEFAULT_EMBEDDING_ALIASES),
        metadata={"env": "EMBEDDING_MODEL_ALIASES", "cast": _parse_aliases},
    )
    embedding_batch_size: int = field(default=100, metadata={"env": "EMBEDDING_BATCH_SIZE", "cast": _positive})
    max_embedding_inputs: int = field(default=2048, metadata={"env": "MAX_EMBEDDING_INPUTS", "cast": _positive})
    max_completion_prompts: int = field(default=16, metadata={"env": "MAX_COMPLETION_PROMPTS", "cast": _positive})

    # Safety settings sent with every request that brings none of its own.
    safety_settings: tuple = field(default=(), metadata={"env": "SAFETY_SETTINGS", "cast": _parse_safety})

    # Media in messages: data URLs are decoded, http(s) URLs fetched by the gateway.
    max_media_bytes: int = field(default=20 * 1024 * 1024, metadata={"env": "MAX_MEDIA_BYTES", "cast": _positive})
    media_fetch_timeout: float = field(default=10.0, metadata={"env": "MEDIA_FETCH_TIMEOUT", "cast": float})
    media_fetch_max_redirects: int = field(default=3, metadata={"env": "MEDIA_FETCH_MAX_REDIRECTS", "cast": int})
    # Off by default: a URL naming a private address would let clients probe your network.
    media_allow_private_urls: bool = field(default=False, metadata={"env": "MEDIA_ALLOW_PRIVATE_URLS", "cast": _bool})
    # Off: http(s) media URLs are refused (400) and the gateway never fetches anything.
    media_fetch_urls: bool = field(default=True, metadata={"env": "MEDIA_FETCH_URLS", "cast": _bool})

    # Thought signatures Gemini returns with function calls, kept for the next turn.
    signature_cache_size: int = field(default=10_000, metadata={"env": "SIGNATURE_CACHE_SIZE", "cast": _positive})
    signature_db: str = field(default="var/thought-signatures.sqlite3", metadata={"env": "SIGNATURE_DB"})
    signature_db_max_rows: int = field(default=1_000_000, metadata={"env": "SIGNATURE_DB_MAX_ROWS", "cast": _positive})

    # Limits.
    max_body_bytes: int = field(default=20 * 1024 * 1024, metadata={"env": "MAX_BODY_BYTES", "cast": _positive})
    max_messages: int = field(default=2048, metadata={"env": "MAX_MESSAGES", "cast": _positive})
    # Nesting of JSON a client sends (body, tool arguments and results): far above any real JSON
    # Schema, far below where Python's recursion limit ends parsing with a 500 (about 975).
    max_json_depth: int = field(default=128, metadata={"env": "MAX_JSON_DEPTH", "cast": _bounded(1, 512)})
    # OpenAI's own limit on functions in one request.
    max_tools: int = field(default=128, metadata={"env": "MAX_TOOLS", "cast": _positive})
    # Content parts and tool calls in all of a request's messages (each costs as much to check as a message).
    max_content_parts: int = field(default=4096, metadata={"env": "MAX_CONTENT_PARTS", "cast": _positive})
    models_cache_seconds: float = field(default=60.0, metadata={"env": "MODELS_CACHE_SECONDS", "cast": float})

    # Client keys. Unset: the gateway is open (and says so at start).
    gateway_api_keys: str = field(default="", repr=False, metadata={"env": "GATEWAY_API_KEYS"})
    gateway_api_keys_file: str | None = field(default=None, metadata={"env": "GATEWAY_API_KEYS_FILE", "cast": _optional(str)})
    # The client's bearer token is used as the Gemini key (clients bring their own).
    pass_through_keys: bool = field(default=False, metadata={"env": "GATEWAY_PASS_THROUGH_KEYS", "cast": _bool})

    # Rate limits per client key (0: no limit); keys may set their own in the keys file.
    rate_limit_rpm: int = field(default=0, metadata={"env": "RATE_LIMIT_RPM", "cast": int})
    rate_limit_tpm: int = field(default=0, metadata={"env": "RATE_LIMIT_TPM", "cast": int})
    # Shared counters for several workers and machines; unset: in memory, per worker process.
    redis_url: str | None = field(default=None, repr=False, metadata={"env": "REDIS_URL", "cast": _optional(str)})
    # When Redis cannot be reached: "open" admits requests uncounted, "closed" refuses them (503).
    rate_limit_failure_mode: str = field(default="open", metadata={"env": "RATE_LIMIT_FAILURE_MODE",
                                                                   "cast": _one_of("open", "closed")})

    # Operations.
    ready_cache_seconds: float = field(default=5.0, metadata={"env": "READY_CACHE_SECONDS", "cast": float})
    cors_origins: str = field(default="", metadata={"env": "CORS_ORIGINS"})
    log_level: str = field(default="INFO", metadata={"env": "LOG_LEVEL"})
    # Debug only: puts request bodies (prompts) into the request log.
    log_prompts: bool = field(default=False, metadata={"env": "LOG_PROMPTS", "cast": _bool})
    # Set by gunicorn.conf.py so that /metrics adds up every worker.
    metrics_dir: str | None = field(default=None, metadata={"env": "PROMETHEUS_MULTIPROC_DIR", "cast": _optional(str)})
    # /metrics needs `Authorization: Bearer <token>` when set; unset: open to whoever reaches it.
    metrics_token: str | None = field(default=None, repr=False, metadata={"env": "METRICS_TOKEN", "cast": _optional(str)})
    # Seconds a client may take to send a whole request (line, headers, body) to gunicorn; 0: no limit.
    request_read_timeout: float = field(default=30.0, metadata={"env": "REQUEST_READ_TIMEOUT", "cast": _non_negative})

    def __post_init__(self):
        names = {"DEFAULT_MODEL": self.default_model, "DEFAULT_EMBEDDING_MODEL": self.default_embedding_model,
                 **{f"MODEL_ALIASES {a}": m for a, m in self.model_aliases.items()},
                 **{f"EMBEDDING_MODEL_ALIASES {a}": m for a, m in self.embedding_model_aliases.items()}}
        for where, model in names.items():
            if gemini_model_id(model) is None:
                raise SettingsError(f"{where}: {model!r} is not a Gemini model id "
                                    "(letters, digits, '-', '.', '_'; optionally models/ or tunedModels/)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Settings from a mapping of environment variables (os.environ when not given)."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            name = f.metadata["env"]
            if name not in environ:
                continue
            cast = f.metadata.get("cast", str)
            try:
                values[f.name] = cast(environ[name])
            except (TypeError, ValueError) as exc:
                raise SettingsError(f"{name}={environ[name]!r}: {exc}") from exc
        return cls(**values)

    @property
    def uses_emulator(self) -> bool:
        return not self.gemini_api_key and not self.gemini_base_url

    @property
    def upstream_base_url(self) -> str | None:
        """Where the SDK sends requests: None means Google's own endpoint."""
        if self.gemini_base_url:
            return self.gemini_base_url
        if self.uses_emulator:
            return f"http://127.0.0.1:{self.emulator_port}"
        return None

    @property
    def upstream_api_key(self) -> str:
        # The emulator accepts any key; the SDK refuses to start without one.
        return self.gemini_api_key or "emulator"

    def resolve_model(self, requested: str | None) -> str | None:
        """The Gemini model id for the name a client asked for; None when the name is neither
        an alias nor a Gemini model id."""
        name = requested or self.default_model
        return gemini_model_id(self.model_aliases.get(name, name))

    def resolve_embedding_model(self, requested: str | None) -> str | None:
        """The Gemini embedding model id for the name a client asked for (None as above)."""
        name = requested or self.default_embedding_model
        return gemini_model_id(self.embedding_model_aliases.get(name, name))
