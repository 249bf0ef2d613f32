"""The load generator: an asyncio HTTP client (aiohttp) that times every request.

One `Load` is one run against one target: `concurrency` workers send requests back to back
until `count` requests were started or `seconds` passed (the run is bounded in both), and a
hard deadline cancels whatever is still in flight. Every request is timed on its own:

- non-streamed: latency from sending the request to the last byte of the answer;
- streamed: time to first token (the first event carrying answer text), the relay delay of
  every chunk (the client's receive time minus the emulator's send time, read from the
  `<<sent t>>` stamp that the emulator's `stamp=1` directive puts before each chunk's text),
  whether the stream ended properly (`data: [DONE]` for chat completions, `response.completed`
  for the Responses API, a finishReason for Gemini), and any error (HTTP status, refused, reset,
  timeout).

Three dialects: OpenAI's (the gateway, LiteLLM, the tutorial app, the bare stack), Gemini's REST
API spoken by this same client (`direct`: straight to the emulator), and the google-genai SDK's
async client (`direct-sdk`: what an application calling Gemini through its SDK waits for, the
issue's floor). OpenAI's dialect has two APIs: chat completions, and the Responses API
(`POST /v1/responses`, whose stream is typed events: only `response.output_text.delta` carries
new text, the `.done` events and `response.completed` repeat all of it).
"""
from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field

import aiohttp
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

MODEL = "gemini-2.5-flash"


@dataclass(frozen=True)
class Target:
    """Where one load run sends its requests."""
    name: str
    url: str  # base URL: http://127.0.0.1:PORT
    dialect: str  # "openai", "gemini" (REST) or "sdk" (google-genai)
    api_key: str = "bench"
    api: str = "chat"  # the openai dialect's API: "chat" (completions) or "responses"

    def request(self, prompt: str, stream: bool) -> tuple[str, dict, dict]:
        """(url, headers, json body) of one chat request."""
        if self.dialect == "gemini":
            method = "streamGenerateContent?alt=sse" if stream else "generateContent"
            return (f"{self.url}/v1beta/models/{MODEL}:{method}", {"x-goog-api-key": self.api_key},
                    {"contents": [{"role": "user", "parts": [{"text": prompt}]}]})
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if self.api == "responses":
            body = {"model": MODEL, "input": prompt}
            path = "responses"
        else:
            body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}]}
            path = "chat/completions"
        if stream:
            body["stream"] = True
        return f"{self.url}/v1/{path}", headers, body


@dataclass
class Sample:
    ok: bool = False
    error: str | None = None
    latency: float | None = None  # seconds, whole request
    ttft: float | None = None  # seconds, streams: first answer text
    relay: list[float] = field(default_factory=list)  # seconds per stamped chunk
    chunks: int = 0
    done: bool = False  # the stream ended properly

    def text_arrived(self, text: bytes, started: float, received: float, wall: float) -> None:
        """A chunk carrying answer text: counted, the first one timed, each emulator stamp in it
        turned into a relay delay (`wall` is the receive time on the emulator's clock)."""
        self.chunks += 1
        if self.ttft is None:
            self.ttft = received - started
        for stamp in _STAMP.findall(text):
            self.relay.append(wall - float(stamp))


# Events are not parsed as JSON: at 1000 streams the client shares the CPUs with what it
# measures, so it only looks for what it needs. A non-empty answer text (OpenAI's delta content,
# Gemini's part text; the first OpenAI delta has content ""), the emulator's stamps, the end.
_TEXT = re.compile(rb'"(?:content|text)":\s*"(?!")')
_STAMP = re.compile(rb"<<sent (\d+\.\d+)>>")
_ERROR = re.compile(rb'^\{\s*"error"')
# A Responses event's own type is the first "type" naming a response.* event (items inside have
# other types).
_EVENT = re.compile(rb'"type":\s*"(response\.[a-z_.]+)"')
_ENDED = frozenset({b"response.completed", b"response.incomplete"})


def _responses_event(payload: bytes, sample: Sample, started: float, received: float, wall: float) -> None:
    event = _EVENT.search(payload)
    kind = event.group(1) if event else b""
    if kind == b"response.output_text.delta":
        sample.text_arrived(payload, started, received, wall)
    elif kind in _ENDED:
        sample.done = True
    elif kind == b"response.failed":
        sample.error = "response.failed"


async def _read_stream(response: aiohttp.ClientResponse, target: Target, sample: Sample, started: float) -> None:
    gemini = target.dialect == "gemini"
    responses = target.api == "responses"
    async for line in response.content:
        if not line.startswith(b"data: "):
            continue
        received, wall = time.perf_counter(), time.time()
        payload = line[6:].strip()
        if payload == b"[DONE]":
            sample.done = True
            continue
        if _ERROR.match(payload):
            sample.error = "error event"
            continue
        if responses:
            _responses_event(payload, sample, started, received, wall)
            continue
        if _TEXT.search(payload):
            sample.text_arrived(payload, started, received, wall)
        if gemini and b'"finishReason"' in payload:
            sample.done = True


def _error_name(exc: BaseException) -> str:
    if isinstance(exc, genai_errors.APIError):
        return f"http {exc.code}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "refused"
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, ConnectionResetError,
                        aiohttp.ClientOSError)):
        return "reset"
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "timeout"
    return type(exc).__name__


async def one_request(session: aiohttp.ClientSession, target: Target, prompt: str, stream: bool) -> Sample:
    url, headers, body = target.request(prompt, stream)
    sample = Sample()
    started = time.perf_counter()
    try:
        async with session.post(url, json=body, headers=headers) as response:
            if response.status != 200:
                await response.read()
                sample.error = f"http {response.status}"
                return sample
            if stream:
                await _read_stream(response, target, sample, started)
                sample.ok = sample.done and sample.error is None
                if not sample.done and sample.error is None:
                    sample.error = "no end of stream"
            else:
                answer = await response.json(content_type=None)
                sample.ok = bool(answer.get("choices") or answer.get("candidates") or answer.get("output"))
                if not sample.ok:
                    sample.error = "empty answer"
    except Exception as exc:  # every failure is a data point, not a crash of the run
        sample.error = _error_name(exc)
    sample.latency = time.perf_counter() - started
    return sample


async def one_sdk_request(client: genai.Client, prompt: str, stream: bool) -> Sample:
    """One call through the google-genai SDK's async client (typed request and answer)."""
    sample = Sample()
    started = time.perf_counter()
    try:
        if stream:
            async for chunk in await client.aio.models.generate_content_stream(model=MODEL, contents=prompt):
                received, wall = time.perf_counter(), time.time()
                candidate = chunk.candidates[0] if chunk.candidates else None
                parts = (candidate.content.parts or []) if candidate and candidate.content else []
                text = "".join(part.text or "" for part in parts)
                if text:
                    sample.text_arrived(text.encode(), started, received, wall)
                if candidate and candidate.finish_reason:
                    sample.done = True
            sample.ok = sample.done
            if not sample.done:
                sample.error = "no end of stream"
        else:
            answer = await client.aio.models.generate_content(model=MODEL, contents=prompt)
            sample.ok = bool(answer.candidates)
            if not sample.ok:
                sample.error = "empty answer"
    except Exception as exc:
        sample.error = _error_name(exc)
    sample.latency = time.perf_counter() - started
    return sample


def _sdk_client(target: Target, timeout: float) -> genai.Client:
    return genai.Client(api_key=target.api_key, http_options=types.HttpOptions(
        base_url=target.url, api_version="v1beta", timeout=int(timeout * 1000)))


@dataclass(frozen=True)
class Load:
    """One bounded run: concurrency, at most `count` requests, at most `seconds` of sending."""
    concurrency: int
    count: int
    seconds: float
    stream: bool
    prompt: str
    ramp: float = 0.0  # workers start spread over this many seconds
    request_timeout: float = 60.0
    grace: float = 30.0  # after `seconds`, in-flight requests get this long before being cancelled


@dataclass
class RunResult:
    samples: list[Sample]
    elapsed: float
    unfinished: int  # cancelled at the hard deadline
    max_in_flight: int  # most requests open at once


async def _run(target: Target, load: Load) -> RunResult:
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=load.request_timeout)
    samples: list[Sample] = []
    started_count = 0
    in_flight = max_in_flight = 0
    begin = time.perf_counter()
    stop_at = begin + load.seconds

    async def worker(delay: float) -> None:
        nonlocal started_count, in_flight, max_in_flight
        await asyncio.sleep(delay)
        while started_count < load.count and time.perf_counter() < stop_at:
            started_count += 1
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
            try:
                if target.dialect == "sdk":
                    samples.append(await one_sdk_request(sdk, load.prompt, load.stream))
                else:
                    samples.append(await one_request(session, target, load.prompt, load.stream))
            finally:
                in_flight -= 1

    sdk = _sdk_client(target, load.request_timeout) if target.dialect == "sdk" else None
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        rng = random.Random(1)
        tasks = [asyncio.create_task(worker(rng.uniform(0, load.ramp) if load.ramp else 0.0))
                 for _ in range(load.concurrency)]
        _, pending = await asyncio.wait(tasks, timeout=load.seconds + load.grace)
        unfinished = in_flight
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    if sdk is not None:
        await sdk.aio.aclose()
    return RunResult(samples, time.perf_counter() - begin, unfinished, max_in_flight)


def run(target: Target, load: Load) -> RunResult:
    return asyncio.run(_run(target, load))


def merged(results: list[RunResult]) -> RunResult:
    """Several runs of one target (turns of a level) as one."""
    return RunResult([sample for result in results for sample in result.samples],
                     sum(result.elapsed for result in results), sum(result.unfinished for result in results),
                     max(result.max_in_flight for result in results))


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _ms(values: list[float]) -> dict[str, float | None]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)
    return {"p50": rounded(percentile(values, 50)), "p99": rounded(percentile(values, 99)),
            "max": rounded(max(values) if values else None), "n": len(values)}


def summary(result: RunResult) -> dict:
    """The numbers of one run, JSON-ready (times in milliseconds)."""
    samples = result.samples
    ok = [s for s in samples if s.ok]
    errors: dict[str, int] = {}
    for s in samples:
        if not s.ok:
            errors[s.error or "unknown"] = errors.get(s.error or "unknown", 0) + 1
    if result.unfinished:
        errors["unfinished"] = result.unfinished
    out = {
        "requests": len(samples) + result.unfinished,
        "ok": len(ok),
        "errors": errors,
        "elapsed_s": round(result.elapsed, 3),
        "max_in_flight": result.max_in_flight,
        "throughput_rps": round(len(ok) / result.elapsed, 1) if result.elapsed else 0.0,
        "latency_ms": _ms([s.latency for s in ok if s.latency is not None]),
    }
    if any(s.ttft is not None or s.done for s in samples):
        out["ttft_ms"] = _ms([s.ttft for s in ok if s.ttft is not None])
        out["relay_ms"] = _ms([delay for s in ok for delay in s.relay])
        out["completed"] = sum(1 for s in samples if s.done)
    return out
