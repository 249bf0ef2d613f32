"""What happened to each request: one JSON log line and Prometheus metrics.

A RequestRecord is opened before the view runs and finished when the response is closed, so a
stream is logged and measured when it really ends (its tokens and time to first token
included). Under gunicorn the metrics are written per worker process and /metrics adds them up
(prometheus-client's multiprocess mode; gunicorn.conf.py sets the directory).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from gemini_proxy.access.keys import ANONYMOUS, Client

access_log = logging.getLogger("gemini_proxy.access")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


@dataclass
class RequestRecord:
    request_id: str
    method: str
    path: str
    route: str
    started: float = field(default_factory=time.perf_counter)
    client: Client = ANONYMOUS
    status: int = 0
    model: str | None = None
    stream: bool = False
    usage: dict | None = None
    first_token: float | None = None
    upstream_error: str | None = None
    answered_by: str | None = None  # the Gemini model that answered (a fallback's: relay/fallbacks.py)
    finish_reason: str | None = None  # Gemini's raw finishReason(s) (translate/endings.py finish_reasons)
    prompt: object = None  # only with LOG_PROMPTS

    def add_usage(self, usage: dict | None) -> None:
        """Usage of one upstream answer (a legacy request with several prompts has several)."""
        if usage:
            self.usage = {key: (self.usage or {}).get(key, 0) + usage.get(key, 0)
                          for key in ("prompt_tokens", "completion_tokens", "total_tokens")}

    def mark_first_token(self) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter()


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, multiprocess_dir: str | None):
        self._dir = multiprocess_dir
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("gemini_proxy_requests", "Requests answered.", ["route", "status", "model", "key"],
                                registry=r)
        self.latency = Histogram("gemini_proxy_request_duration_seconds", "Time from request to the end of the answer.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.ttft = Histogram("gemini_proxy_time_to_first_token_seconds", "Streams: time to the first token sent.",
                              ["model"], buckets=LATENCY_BUCKETS, registry=r)
        self.tokens = Counter("gemini_proxy_tokens", "Tokens, by kind (prompt, completion).", ["kind", "model", "key"],
                              registry=r)
        self.upstream_errors = Counter("gemini_proxy_upstream_errors", "Failed Gemini calls, by Gemini status.",
                                       ["status"], registry=r)
        self.streams = Gauge("gemini_proxy_streams_in_flight", "Streams being answered now.",
                             multiprocess_mode="livesum", registry=r)
        self.rate_limit_unavailable = Counter(
            "gemini_proxy_rate_limit_unavailable",
            "Requests whose rate limits could not be checked (Redis unreachable), "
            "by what was done: admitted, refused, tokens_not_counted.", ["action"], registry=r)
        self.state_unavailable = Counter(
            "gemini_proxy_state_unavailable", "Reads and writes of shared state that could not reach Redis and "
            "were served locally, by store (signatures).", ["store"], registry=r)
        self.model_fallbacks = Counter(
            "gemini_proxy_model_fallbacks", "Answers given by a fallback model (MODEL_FALLBACKS) after the model "
            "before it failed.", ["requested", "answered"], registry=r)
        # The pool of Gemini keys (upstream/keys.py), by key name, never the key.
        self.key_requests = Counter("gemini_proxy_upstream_key_requests", "Calls sent to Gemini, by upstream key.",
                                    ["key"], registry=r)
        self.key_rate_limited = Counter("gemini_proxy_upstream_key_rate_limited",
                                        "429s from Gemini, by upstream key.", ["key"], registry=r)
        # Written when a worker sees a key change; the most recent write is the pool's state.
        self.key_usable = Gauge("gemini_proxy_upstream_key_usable", "1: the upstream key is usable (a 429 rests "
                                "it for one model only); 0: disabled after Gemini refused it.", ["key"],
                                multiprocess_mode="livemostrecent", registry=r)

    def exposition(self) -> bytes:
        if not self._dir:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self._dir)
        return generate_latest(registry)


class Telemetry:
    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def stream_opened(self, record: RequestRecord) -> None:
        record.stream = True
        self.metrics.streams.inc()

    def finished(self, record: RequestRecord) -> None:
        duration = time.perf_counter() - record.started
        model = record.model if record.model and record.status < 400 else "-"
        m = self.metrics
        if record.stream:
            m.streams.dec()
            if record.first_token is not None:
                m.ttft.labels(model).observe(record.first_token - record.started)
        m.requests.labels(record.route, str(record.status), model, record.client.name).inc()
        m.latency.labels(record.route).observe(duration)
        usage = record.usage or {}
        for kind in ("prompt", "completion"):
            if usage.get(f"{kind}_tokens"):
                m.tokens.labels(kind, model, record.client.name).inc(usage[f"{kind}_tokens"])
        if record.upstream_error:
            m.upstream_errors.labels(record.upstream_error).inc()
        fields = {
            "request_id": record.request_id, "method": record.method, "path": record.path,
            "status": record.status, "key": record.client.name, "model": record.model,
            "stream": record.stream, "duration_ms": round(duration * 1000, 1),
            "prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens"),
        }
        if record.first_token is not None:
            fields["ttft_ms"] = round((record.first_token - record.started) * 1000, 1)
        if record.upstream_error:
            fields["upstream_error"] = record.upstream_error
        if record.answered_by:
            fields["answered_by"] = record.answered_by
        if record.finish_reason:
            fields["gemini_finish_reason"] = record.finish_reason
        if record.prompt is not None:
            fields["request_body"] = record.prompt
        access_log.info("request", extra={"fields": fields})
