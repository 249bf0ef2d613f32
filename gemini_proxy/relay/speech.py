"""Speech between the view and Gemini: one TTS call, its PCM encoded as the client asked.

Whole answers (no stream_format) come from generateContent; streamed ones from
streamGenerateContent, the first chunk pulled while the view runs (a failure to start is the
request's own HTTP status), then each chunk's PCM encoded and sent as it comes.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from gemini_proxy.errors import ApiError, invalid_model, invalid_request, upstream_bad_response
from gemini_proxy.media.audio_encoder import AudioEncoder
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.services import Services
from gemini_proxy.translate.speech import (
    audio_delta,
    audio_done,
    audio_of,
    chat_usage,
    gemini_voice,
    speech_request,
    speech_usage,
)

FINISHED = frozenset({"STOP", None})


@dataclass(frozen=True)
class SpeechCall:
    model: str
    contents: list[dict]
    config: dict
    response_format: str
    speed: float


def speech_call(services: Services, body: dict) -> SpeechCall:
    model = services.settings.resolve_speech_model(body["model"])
    if model is None:
        raise invalid_model()
    voice = gemini_voice(body["voice"])
    if voice is None:
        raise invalid_request(f"Invalid value for 'voice': unknown voice {body['voice'][:100]!r}: use an OpenAI voice "
                              "(alloy, ash, ballad, coral, echo, fable, nova, onyx, sage, shimmer, verse, marin, "
                              "cedar) or one of Gemini's 30 prebuilt voices (e.g. Kore, Puck).", "voice")
    contents, config = speech_request(body["input"], body.get("instructions"), voice)
    return SpeechCall(model, contents, config, body.get("response_format") or "mp3", body.get("speed") or 1.0)


def _pcm(answer: dict) -> tuple[bytes, int | None, str | None]:
    try:
        pcm, rate, finish = audio_of(answer)
    except ValueError as exc:
        raise upstream_bad_response(str(exc)) from None
    if finish not in FINISHED:
        raise _unfinished(finish)
    return pcm, rate, finish


def _unfinished(finish: str) -> ApiError:
    if finish == "MAX_TOKENS":
        return invalid_request("The speech of this input is longer than the model's output limit (about 8 minutes "
                               "of audio); send a shorter input.", "input", "speech_too_long")
    return invalid_request(f"Gemini did not speak this input (finish reason {finish}).", "input", "speech_refused")


def whole_speech(services: Services, call: SpeechCall, record: RequestRecord) -> bytes:
    """The encoded audio of a generateContent answer."""
    answer = services.upstream.generate(call.model, call.contents, call.config, record.client.gemini_key)
    pcm, rate, _ = _pcm(answer)
    if not pcm or rate is None:
        raise upstream_bad_response("no audio")
    record.add_usage(chat_usage(speech_usage(answer)))
    return AudioEncoder(call.response_format, rate, call.speed).encode_all(pcm)


class SpeechStream:
    """A streamGenerateContent call whose first chunk has arrived; audio() or events() relay it."""

    def __init__(self, services: Services, call: SpeechCall, record: RequestRecord):
        self._call, self._record = call, record
        self._chunks = services.upstream.stream(call.model, call.contents, call.config, record.client.gemini_key)
        self._first = next(self._chunks, None)
        services.telemetry.stream_opened(record)
        self.usage: dict | None = None

    def _encoded(self) -> Iterator[bytes]:
        encoder = None
        try:
            answers = self._chunks if self._first is None else _chained(self._first, self._chunks)
            for answer in answers:
                pcm, rate, _ = _pcm(answer)
                self.usage = speech_usage(answer) if answer.get("usage_metadata") else self.usage
                if rate is None:
                    continue
                encoder = encoder or AudioEncoder(self._call.response_format, rate, self._call.speed, streamed=True)
                data = encoder.feed(pcm)
                if data:
                    self._record.mark_first_token()
                    yield data
            if encoder is None:
                raise upstream_bad_response("no audio")
            yield encoder.finish()
        except ApiError as error:
            self._record.upstream_error = error.upstream
            raise
        finally:
            self._chunks.close()
            if self.usage:
                self._record.add_usage(chat_usage(self.usage))

    def audio(self) -> Iterator[bytes]:
        return self._encoded()

    def events(self) -> Iterator[dict]:
        """OpenAI's speech SSE events: speech.audio.delta per piece of audio, then speech.audio.done."""
        encoded = self._encoded()
        try:
            for data in encoded:
                if data:
                    yield audio_delta(data)
            yield audio_done(self.usage or {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0})
        finally:
            encoded.close()

    def close(self) -> None:
        self._chunks.close()


def _chained(first: dict, rest: Iterator[dict]) -> Iterator[dict]:
    yield first
    yield from rest
