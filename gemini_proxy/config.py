"""Settings: one immutable object built from a mapping (os.environ in production), and
ServerSettings, what gunicorn.conf.py and the gateway's worker read; one parser for both.

Every value the google-genai SDK could silently take from the environment (key, base URL,
timeout, api version) is resolved here and passed to it explicitly.

Each field's metadata (config_parsing.setting) names its environment variable, its parser, its
group and a one-line description: scripts/config_docs.py writes .env.example and
docs/configuration.md from them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from gemini_proxy.config_backend import (  # noqa: F401  (the backends are named from here too)
    AI_STUDIO,
    VERTEX_AI,
    VERTEX_EXPRESS,
    VERTEX_GROUP,
    BackendSettings,
)
from gemini_proxy.config_media import MEDIA_ENDPOINTS, MediaSettings
from gemini_proxy.config_parsing import (
    FromEnvironment,
    SettingsError,
    addresses,
    boolean,
    bounded,
    networks,
    non_negative,
    non_negative_int,
    one_of,
    optional,
    parse_aliases,
    parse_fallbacks,
    parse_safety,
    positive,
    resolve_fallbacks,
    seconds,
    setting,
)
from gemini_proxy.translate.models import gemini_model_id

DEFAULT_ALIASES = (
    "gpt-4o-mini=gemini-2.5-flash,gpt-4o=gemini-2.5-pro,gpt-3.5-turbo=gemini-2.5-flash-lite,"
    "gemini-1.5-flash=gemini-2.5-flash,gemini-1.5-pro=gemini-2.5-pro"
)
DEFAULT_EMBEDDING_ALIASES = (
    "text-embedding-3-small=gemini-embedding-001,text-embedding-3-large=gemini-embedding-001,"
    "text-embedding-ada-002=gemini-embedding-001"
)
DEFAULT_ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# The groups of the documentation, in the order it presents them.
GROUPS = (
    UPSTREAM, EMULATOR, REQUESTS, EMBEDDINGS, MEDIA, SIGNATURES, RESPONSES, LIMITS, CLIENTS, RATE_LIMITS, SERVER,
    OPERATIONS,
) = (
    "Upstream Gemini", "The built-in emulator", "Request defaults", "Embeddings and legacy completions",
    "Media in messages", "Thought signatures", "Responses API", "Limits", "Client keys", "Rate limits",
    "Server (gunicorn)", "Logs, metrics and readiness",
)
GROUPS = (UPSTREAM, VERTEX_GROUP, *GROUPS[1:])
# The media endpoints' settings, documented after the embeddings.
GROUPS = (*GROUPS[:GROUPS.index(EMBEDDINGS) + 1], MEDIA_ENDPOINTS, *GROUPS[GROUPS.index(EMBEDDINGS) + 1:])
THIRTY_DAYS = 30 * 24 * 3600
@dataclass(frozen=True)
class Settings(BackendSettings, MediaSettings, FromEnvironment):
    # No key (and no base URL) means the built-in emulator answers (see upstream_base_url).
    gemini_api_key: str | None = field(default=None, repr=False, metadata=setting(
        "GEMINI_API_KEY", UPSTREAM, "Google AI Studio key. Unset: the built-in emulator answers.", optional(str)))
    gemini_api_keys: str = field(default="", repr=False, metadata=setting(
        "GEMINI_API_KEYS", UPSTREAM, "Several Gemini keys instead of GEMINI_API_KEY, comma-separated entries "
        "`KEY [NAME] [weight=N]` (names default to key-1, key-2...; [faults.md](faults.md#a-pool-of-keys))."))
    gemini_api_keys_file: str | None = field(default=None, metadata=setting(
        "GEMINI_API_KEYS_FILE", UPSTREAM, "A file of such entries, one per line (`#` starts a comment).",
        optional(str)))
    key_pool_strategy: str = field(default="least-in-flight", metadata=setting(
        "KEY_POOL_STRATEGY", UPSTREAM, "How calls spread over the keys: `least-in-flight` (fewest calls in flight "
        "per weight) or `round-robin` (in turn, weight times each).", one_of("least-in-flight", "round-robin")))
    key_cooldown_seconds: float = field(default=60.0, metadata=setting(
        "KEY_COOLDOWN_SECONDS", UPSTREAM, "Seconds a key rests for a model after a 429 on it without Gemini's "
        "RetryInfo delay; a refused key is left out (for every model) ten times as long.", seconds))
    gemini_base_url: str | None = field(default=None, metadata=setting(
        "GEMINI_BASE_URL", UPSTREAM, "Another Gemini endpoint (e.g. an emulator started by hand); unset: Google's.",
        optional(str)))
    gemini_api_version: str = field(default="v1beta", metadata=setting(
        "GEMINI_API_VERSION", UPSTREAM, "Gemini REST API version."))
    # A deploy whose key went missing would otherwise serve the emulator's made-up text and
    # report itself ready, with only a log line to say so.
    require_gemini_key: bool = field(default=False, metadata=setting(
        "REQUIRE_GEMINI_KEY", UPSTREAM, "Production switch: `true` refuses to start without GEMINI_API_KEY "
        "(or GEMINI_API_KEYS, GEMINI_BASE_URL) instead of starting the built-in emulator.", boolean))
    upstream_timeout: float = field(default=600.0, metadata=setting(
        "UPSTREAM_TIMEOUT", UPSTREAM, "The longest a client waits, in seconds, for an answer to start: every "
        "attempt and the waits between them, up to a stream's first chunk (a non-streamed answer: all of it).",
        seconds))
    # Short, so a dead address is retried quickly.
    upstream_connect_timeout: float = field(default=10.0, metadata=setting(
        "UPSTREAM_CONNECT_TIMEOUT", UPSTREAM, "Seconds to open a connection to Gemini (each attempt).", seconds))
    upstream_chunk_timeout: float = field(default=300.0, metadata=setting(
        "UPSTREAM_CHUNK_TIMEOUT", UPSTREAM, "Seconds a stream may go silent between two chunks once it started.",
        seconds))
    upstream_max_connections: int = field(default=1024, metadata=setting(
        "UPSTREAM_MAX_CONNECTIONS", UPSTREAM,
        "Connections to Gemini each worker may hold open (one per stream in flight).", positive))
    upstream_retries: int = field(default=2, metadata=setting(
        "UPSTREAM_RETRIES", UPSTREAM, "Retries of a call that failed before Gemini's response headers: Gemini's "
        "500/502/503/504, a connection that could not be opened or closed before the headers "
        "([faults.md](faults.md)).", int))
    empty_answer_retries: int = field(default=1, metadata=setting(
        "EMPTY_ANSWER_RETRIES", UPSTREAM, "Retries of a chat or Responses answer Gemini ended without one "
        "(MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, STOP with no content) before the client gets "
        "an error ([compatibility.md](compatibility.md#honest-endings)).", non_negative_int))
    upstream_retry_delay: float = field(default=0.25, metadata=setting(
        "UPSTREAM_RETRY_DELAY", UPSTREAM, "Wait before the first retry, in seconds, doubled for each next one "
        "(at most 4 s); each wait is a random half to all of that.", float))

    emulator_port: int = field(default=8089, metadata=setting(
        "EMULATOR_PORT", EMULATOR, "Port of the built-in emulator (used when GEMINI_API_KEY is unset); a gateway "
        "whose emulator port is taken refuses to start.", bounded(1, 65535)))
    emulator_ttft: float = field(default=0.2, metadata=setting(
        "EMULATOR_TTFT", EMULATOR, "Seconds the built-in emulator waits before its first token.", float))
    emulator_tokens_per_second: float = field(default=50.0, metadata=setting(
        "EMULATOR_TOKENS_PER_SECOND", EMULATOR, "Pace of the built-in emulator's answers (0: as fast as it can).",
        float))

    default_model: str = field(default="gemini-2.5-flash", metadata=setting(
        "DEFAULT_MODEL", REQUESTS, "Model for requests that name none."))
    default_temperature: float | None = field(default=None, metadata=setting(
        "DEFAULT_TEMPERATURE", REQUESTS, "`temperature` for requests that leave it out; unset: Gemini's.",
        optional(float)))
    default_top_p: float | None = field(default=None, metadata=setting(
        "DEFAULT_TOP_P", REQUESTS, "`top_p` for requests that leave it out; unset: Gemini's.", optional(float)))
    default_top_k: int | None = field(default=None, metadata=setting(
        "DEFAULT_TOP_K", REQUESTS, "Gemini's `top_k` for requests that leave it out; unset: Gemini's.",
        optional(int)))
    default_max_tokens: int | None = field(default=None, metadata=setting(
        "DEFAULT_MAX_TOKENS", REQUESTS, "`max_tokens` for requests that leave it out; unset: Gemini's.",
        optional(int)))
    model_aliases: Mapping[str, str] = field(
        default_factory=lambda: parse_aliases(DEFAULT_ALIASES),
        metadata=setting("MODEL_ALIASES", REQUESTS, "Comma-separated `alias=gemini-model` pairs, listed by "
                         "`/v1/models`; empty: no aliases.", parse_aliases, keep_empty=True),
    )
    model_fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict, metadata=setting(
        "MODEL_FALLBACKS", REQUESTS, "Comma-separated chains `model>fallback>...` (models or aliases), e.g. "
        "`gemini-2.5-pro>gemini-2.5-flash`: when the first model answers 503, 500 or 429 before the answer "
        "started, the next one is asked ([faults.md](faults.md#model-fallbacks)).", parse_fallbacks))
    safety_settings: tuple = field(default=(), metadata=setting(
        "SAFETY_SETTINGS", REQUESTS, "Gemini safety settings for every request that brings none, e.g. "
        "`HARM_CATEGORY_HARASSMENT=BLOCK_ONLY_HIGH,HARM_CATEGORY_HATE_SPEECH=BLOCK_NONE`.", parse_safety))

    default_embedding_model: str = field(default="gemini-embedding-001", metadata=setting(
        "DEFAULT_EMBEDDING_MODEL", EMBEDDINGS, "Embedding model for requests that name none."))
    embedding_model_aliases: Mapping[str, str] = field(
        default_factory=lambda: parse_aliases(DEFAULT_EMBEDDING_ALIASES),
        metadata=setting("EMBEDDING_MODEL_ALIASES", EMBEDDINGS, "Comma-separated `alias=gemini-model` pairs for "
                         "`/v1/embeddings`, listed by `/v1/models`; empty: no aliases.", parse_aliases,
                         keep_empty=True),
    )
    embedding_batch_size: int = field(default=100, metadata=setting(
        "EMBEDDING_BATCH_SIZE", EMBEDDINGS, "Texts per upstream `batchEmbedContents` call (Gemini's limit is 100).",
        positive))
    max_embedding_inputs: int = field(default=2048, metadata=setting(
        "MAX_EMBEDDING_INPUTS", EMBEDDINGS, "Most inputs in one embeddings request.", positive))
    max_completion_prompts: int = field(default=16, metadata=setting(
        "MAX_COMPLETION_PROMPTS", EMBEDDINGS,
        "Most prompts in one legacy completions request (each is one Gemini call).", positive))

    # Data URLs are decoded, http(s) URLs fetched by the gateway.
    max_media_bytes: int = field(default=20 * 1024 * 1024, metadata=setting(
        "MAX_MEDIA_BYTES", MEDIA, "Largest image, audio or file in a message (decoded).", positive))
    media_fetch_timeout: float = field(default=10.0, metadata=setting(
        "MEDIA_FETCH_TIMEOUT", MEDIA, "Seconds to fetch an http(s) image URL.", float))
    media_fetch_max_redirects: int = field(default=3, metadata=setting(
        "MEDIA_FETCH_MAX_REDIRECTS", MEDIA, "Redirects followed when fetching one.", int))
    media_allow_private_urls: bool = field(default=False, metadata=setting(
        "MEDIA_ALLOW_PRIVATE_URLS", MEDIA, "Allow image URLs on private, loopback and link-local addresses "
        "(off: clients could probe your network).", boolean))
    media_fetch_urls: bool = field(default=True, metadata=setting(
        "MEDIA_FETCH_URLS", MEDIA, "Fetch http(s) image URLs; `false`: they are refused (400) and the gateway "
        "fetches nothing.", boolean))

    # Gemini returns them with function calls and wants them back on the next turn.
    signature_cache_size: int = field(default=10_000, metadata=setting(
        "SIGNATURE_CACHE_SIZE", SIGNATURES, "Thought signatures kept in memory per worker.", positive))
    signature_db: str = field(default="var/thought-signatures.sqlite3", metadata=setting(
        "SIGNATURE_DB", SIGNATURES, "SQLite file of thought signatures, shared by the workers and kept across "
        "restarts; empty: memory only. With REDIS_URL they are kept in Redis instead, shared by every machine.",
        keep_empty=True))
    signature_db_max_rows: int = field(default=1_000_000, metadata=setting(
        "SIGNATURE_DB_MAX_ROWS", SIGNATURES, "Most signatures kept in it (the oldest go first).", positive))
    # A tool-call turn can come back long after the call (an agent waiting on a human).
    signature_ttl: int = field(default=THIRTY_DAYS, metadata=setting(
        "SIGNATURE_TTL", SIGNATURES, "Seconds a thought signature is kept in Redis (with REDIS_URL).", positive))

    # OpenAI keeps stored responses 30 days; previous_response_id and item_reference need them
    # on whichever worker (or machine, with REDIS_URL) takes the next turn.
    responses_db: str = field(default="var/responses.sqlite3", metadata=setting(
        "RESPONSES_DB", RESPONSES, "SQLite file of stored responses (`store: true`) and their input items, shared "
        "by the workers of a machine and kept across restarts; empty: memory only, per worker process. With "
        "REDIS_URL they are kept in Redis instead, shared by every machine.", keep_empty=True))
    responses_ttl: int = field(default=THIRTY_DAYS, metadata=setting(
        "RESPONSES_TTL", RESPONSES, "Seconds a stored response can be retrieved or continued (OpenAI: 30 days).",
        positive))
    responses_max_stored: int = field(default=100_000, metadata=setting(
        "RESPONSES_MAX_STORED", RESPONSES, "Most stored responses kept in SQLite or in memory (the oldest go "
        "first); Redis keeps them for RESPONSES_TTL.", positive))
    # Stateless clients (Codex: store false) carry Gemini's thought signatures back to the gateway
    # inside reasoning.encrypted_content, tagged with this key so that none can be forged.
    responses_secret: str | None = field(default=None, repr=False, metadata=setting(
        "RESPONSES_SECRET", RESPONSES, "Secret that tags the `encrypted_content` of reasoning items; set the same "
        "value on every machine behind one address. Unset: one is generated and kept in Redis (with REDIS_URL), "
        "else in `responses.secret` beside RESPONSES_DB, and shared by every worker (neither: one per worker "
        "process).", optional(str)))

    max_body_bytes: int = field(default=20 * 1024 * 1024, metadata=setting(
        "MAX_BODY_BYTES", LIMITS, "Largest request body (413 above).", positive))
    max_messages: int = field(default=2048, metadata=setting(
        "MAX_MESSAGES", LIMITS, "Most messages in one request.", positive))
    # Far above any real JSON Schema, far below where Python's recursion limit ends parsing
    # with a 500 (about 975).
    max_json_depth: int = field(default=128, metadata=setting(
        "MAX_JSON_DEPTH", LIMITS, "Deepest nesting of the JSON a client sends (body, tool call arguments and "
        "results), 1-512 (400 `json_too_deep` above).", bounded(1, 512)))
    max_tools: int = field(default=128, metadata=setting(
        "MAX_TOOLS", LIMITS, "Most `tools` in one chat request (OpenAI's own limit).", positive))
    # Each costs as much to check as a message.
    max_content_parts: int = field(default=4096, metadata=setting(
        "MAX_CONTENT_PARTS", LIMITS, "Most content parts and tool calls in all the messages of one chat request.",
        positive))
    models_cache_seconds: float = field(default=60.0, metadata=setting(
        "MODELS_CACHE_SECONDS", LIMITS, "How long the upstream model list is cached.", float))

    gateway_api_keys: str = field(default="", repr=False, metadata=setting(
        "GATEWAY_API_KEYS", CLIENTS, "Client keys, comma-separated entries `KEY [NAME] [rpm=N] [tpm=N]`; when set "
        "(or a keys file is), API requests need `Authorization: Bearer KEY` (or an `api-key` / `x-api-key` / "
        "`x-goog-api-key` header; Gemini's own routes also take `?key=`). Unset: the gateway is open to anyone "
        "who can reach it."))
    gateway_api_keys_file: str | None = field(default=None, metadata=setting(
        "GATEWAY_API_KEYS_FILE", CLIENTS, "A file of such entries, one per line (`#` starts a comment).",
        optional(str)))
    pass_through_keys: bool = field(default=False, metadata=setting(
        "GATEWAY_PASS_THROUGH_KEYS", CLIENTS,
        "Use the client's bearer token as the Gemini key (clients bring their own keys).", boolean))
    cors_origins: str = field(default="", metadata=setting(
        "CORS_ORIGINS", CLIENTS, "Browser origins allowed to call the API, comma-separated (`*` for any); "
        "unset: no CORS headers."))

    rate_limit_rpm: int = field(default=0, metadata=setting(
        "RATE_LIMIT_RPM", RATE_LIMITS, "Requests per minute per client key (0: no limit); a key's `rpm=` "
        "overrides it.", int))
    rate_limit_tpm: int = field(default=0, metadata=setting(
        "RATE_LIMIT_TPM", RATE_LIMITS, "Tokens per minute per client key (0: no limit); a key's `tpm=` "
        "overrides it.", int))
    redis_url: str | None = field(default=None, repr=False, metadata=setting(
        "REDIS_URL", RATE_LIMITS, "Redis for the rate-limit counters, the stored responses, the thought "
        "signatures and the key pool's cooldowns, shared by all workers and machines (e.g. "
        "`redis://127.0.0.1:6379/0`); unset: counters and cooldowns per worker process, responses in "
        "RESPONSES_DB and signatures in SIGNATURE_DB.", optional(str)))
    rate_limit_failure_mode: str = field(default="open", metadata=setting(
        "RATE_LIMIT_FAILURE_MODE", RATE_LIMITS, "When Redis cannot be reached: `open` admits requests without "
        "counting them, `closed` refuses them (503 `rate_limit_unavailable`).", one_of("open", "closed")))
    log_level: str = field(default="info", metadata=setting(
        "LOG_LEVEL", OPERATIONS, "Log level of the gateway and of gunicorn.",
        one_of("debug", "info", "warning", "error", "critical")))
    log_prompts: bool = field(default=False, metadata=setting(
        "LOG_PROMPTS", OPERATIONS, "Debug only: put request bodies (prompts) in the request log.", boolean))
    # gunicorn.conf.py sets it (to a folder it makes) when it is unset or empty.
    metrics_dir: str | None = field(default=None, metadata=setting(
        "PROMETHEUS_MULTIPROC_DIR", OPERATIONS, "Folder where the workers write their metrics so that `/metrics` "
        "adds them up; unset: gunicorn makes one and removes it at exit.", optional(str)))
    metrics_token: str | None = field(default=None, repr=False, metadata=setting(
        "METRICS_TOKEN", OPERATIONS, "When set, `/metrics` needs `Authorization: Bearer METRICS_TOKEN`; unset: "
        "open to whoever can reach gunicorn.", optional(str)))
    ready_cache_seconds: float = field(default=5.0, metadata=setting(
        "READY_CACHE_SECONDS", OPERATIONS, "How long `/readyz` reuses its last answer.", float))

    def __post_init__(self):
        # Beside the fields of a frozen instance, resolved once: model_chain() runs per request.
        object.__setattr__(self, "_chains", resolve_fallbacks(self.model_fallbacks, self.resolve_model))
        names = {"DEFAULT_MODEL": self.default_model, "DEFAULT_EMBEDDING_MODEL": self.default_embedding_model,
                 **{f"MODEL_ALIASES {a}": m for a, m in self.model_aliases.items()},
                 **{f"EMBEDDING_MODEL_ALIASES {a}": m for a, m in self.embedding_model_aliases.items()},
                 **self.media_model_names()}
        for where, model in names.items():
            if gemini_model_id(model) is None:
                raise SettingsError(f"{where}: {model!r} is not a Gemini model id "
                                    "(letters, digits, '-', '.', '_', no '..'; optionally models/ or tunedModels/)")
        self.check_backend(bool(self.gemini_api_key or self.gemini_api_keys.strip() or self.gemini_api_keys_file),
                           self.gemini_base_url, self.pass_through_keys)
        self.upstream_keys  # noqa: B018  (read, and checked, at start)
        if self.require_gemini_key and self.uses_emulator:
            raise SettingsError("REQUIRE_GEMINI_KEY=true, but GEMINI_API_KEY is not set (nor GEMINI_API_KEYS, "
                                "GEMINI_API_KEYS_FILE or GEMINI_BASE_URL): refusing to start with the built-in "
                                "emulator in place of Gemini")

    def resolve_model(self, requested: str | None) -> str | None:
        """The Gemini model id for the name a client asked for; None when the name is neither
        an alias nor a Gemini model id."""
        name = requested or self.default_model
        return gemini_model_id(self.model_aliases.get(name, name))

    def model_chain(self, model: str) -> tuple[str, ...]:
        """The Gemini models that may answer a request for `model` (an id resolve_model gave), in
        the order they are asked: itself, then its MODEL_FALLBACKS chain (not followed further)."""
        return (model, *self._chains.get(model, ()))

    def resolve_embedding_model(self, requested: str | None) -> str | None:
        """The Gemini embedding model id for the name a client asked for (None as above)."""
        name = requested or self.default_embedding_model
        return gemini_model_id(self.embedding_model_aliases.get(name, name))


@dataclass(frozen=True)
class ServerSettings(FromEnvironment):
    """What gunicorn.conf.py (in gunicorn's arbiter) and the gateway's worker read: where gunicorn
    listens, its processes and threads, its timeouts and its own access log. gunicorn.conf.py
    takes LOG_LEVEL, PROMETHEUS_MULTIPROC_DIR and the emulator's settings from Settings, so each
    variable has one field and one parser."""

    bind: tuple[str, ...] = field(default=("127.0.0.1:8000",), metadata=setting(
        "BIND", SERVER, "gunicorn's listen address(es), comma-separated.", addresses))
    # Two worker processes per CPU of the 2-CPU machine measured in BENCHMARKS.md: each has its
    # own GIL, so four keep both CPUs busy where two left gaps (about +20% throughput; 1000
    # concurrent streams' first tokens p99 954 -> 650 ms), at about 90 MB per worker.
    workers: int = field(default=4, metadata=setting(
        "WEB_CONCURRENCY", SERVER, "gunicorn worker processes (about two per CPU; each takes about 90 MB).",
        positive))
    # A stream holds a thread for as long as it lasts, and a worker queues what its threads cannot
    # take yet; workers race to accept connections and a busy one can win more than its share.
    # 512 threads each keep 1000 concurrent streams flowing however unevenly they land (measured:
    # with 2 x 256 threads, 1000 streams waited up to 3-6 s for their first token). Threads are
    # started only as connections need them.
    threads: int = field(default=512, metadata=setting(
        "GUNICORN_THREADS", SERVER, "Threads per worker (started as needed). A stream holds a thread while it "
        "lasts; the defaults serve 1000 concurrent streams even when connections land unevenly on the workers.",
        positive))
    # Streams in threads plus idle keep-alive connections.
    worker_connections: int = field(default=1000, metadata=setting(
        "GUNICORN_WORKER_CONNECTIONS", SERVER, "Open connections per worker.", positive))
    # gthread workers heartbeat from their main loop, so this does not cut long streams short:
    # it only reaps a worker whose main loop is stuck.
    timeout: int = field(default=60, metadata=setting(
        "GUNICORN_TIMEOUT", SERVER, "Seconds before a stuck worker is restarted (does not limit stream length; "
        "0: never).", non_negative_int))
    graceful_timeout: int = field(default=120, metadata=setting(
        "GUNICORN_GRACEFUL_TIMEOUT", SERVER, "On SIGTERM, seconds that in-flight streams get to finish.",
        non_negative_int))
    keepalive: int = field(default=5, metadata=setting(
        "GUNICORN_KEEPALIVE", SERVER, "Seconds an idle keep-alive connection is kept.", non_negative_int))
    request_read_timeout: float = field(default=30.0, metadata=setting(
        "REQUEST_READ_TIMEOUT", SERVER, "Seconds a client may take to send a whole request (line, headers and "
        "body); slower ones get 408 (0: no limit).", non_negative))
    forwarded_allow_ips: str = field(default="127.0.0.1,::1", metadata=setting(
        "FORWARDED_ALLOW_IPS", SERVER, "Proxies (addresses or networks, `*` for any) whose `X-Forwarded-*` headers "
        "are trusted.", networks))
    # One fixed path per user by default: several servers on one machine would fight over it.
    control_socket: str | None = field(default=None, metadata=setting(
        "GUNICORN_CONTROL_SOCKET", SERVER, "Path of gunicorn's runtime control socket (`gunicornc`); off unless "
        "set.", optional(str)))

    access_log: str | None = field(default=None, metadata=setting(
        "ACCESS_LOG", OPERATIONS, "Any value (e.g. `-`) adds gunicorn's own access lines (JSON, stderr) to the "
        "app's request log; off by default.", optional(str)))
    access_log_format: str = field(default=DEFAULT_ACCESS_LOG_FORMAT, metadata=setting(
        "ACCESS_LOG_FORMAT", OPERATIONS, "Format of gunicorn's access lines (secrets in them are redacted)."))


def setting_fields():
    """Every setting's field, Settings' then ServerSettings', in declaration order."""
    return (*fields(Settings), *fields(ServerSettings))
