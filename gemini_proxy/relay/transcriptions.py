"""Transcriptions and translations between the view and Gemini: the upload read (format sniffed,
transcoded when Gemini does not take it, duration measured), one generateContent call (or a
stream), and the answer rendered in the requested response_format."""
from __future__ import annotations

import json
from collections.abc import Iterator

from gemini_proxy.errors import ApiError, file_too_large, invalid_model, invalid_request
from gemini_proxy.media.audio_upload import AudioError, read_audio
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.relay.fallbacks import ModelChain, Routable
from gemini_proxy.services import Services
from gemini_proxy.translate import transcriptions as translate
from gemini_proxy.translate.chat import GeminiRequest

PLAIN = "text/plain; charset=utf-8"


def _routable(services: Services, task: str, body: dict, data: bytes) -> tuple[Routable, float]:
    model = services.settings.resolve_transcription_model(body["model"])
    if model is None:
        raise invalid_model()
    try:
        audio = read_audio(data)
    except AudioError as exc:
        raise invalid_request(str(exc), "file", "invalid_value") from None
    if len(audio.data) > services.settings.max_audio_bytes:
        raise file_too_large(len(audio.data), services.settings.max_audio_bytes,
                             f"The audio, decoded from {audio.format} and encoded as FLAC for Gemini,")
    contents, config = translate.gemini_request(task, body, audio.mime_type, audio.data, audio.duration)
    return Routable(GeminiRequest(model, contents, config),
                    lambda other: GeminiRequest(other, contents, config)), audio.duration


def transcribe(services: Services, task: str, body: dict, data: bytes, record: RequestRecord) -> tuple:
    """The answer as a Flask return value: a JSON object, or a text/plain body for text, srt and vtt."""
    record.model = body["model"]
    requests, duration = _routable(services, task, body, data)
    answer = ModelChain(services, record, requests.first.model).generate(requests)
    usage = translate.token_usage(answer)
    record.add_usage(translate.chat_usage(usage))
    translate.check_ending(answer)
    text, response_format = translate.answer_text(answer).strip(), body["response_format"]
    if response_format == "text":
        return text + "\n", 200, {"Content-Type": PLAIN}
    if response_format == "json":
        return {"text": text, **({"usage": usage} if usage and task == translate.TRANSCRIBE else {})}
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    language, segments = translate.segments_from(payload, duration)
    if response_format == "srt":
        return translate.srt(segments), 200, {"Content-Type": PLAIN}
    if response_format == "vtt":
        return translate.vtt(segments), 200, {"Content-Type": "text/vtt; charset=utf-8"}
    candidate = (answer.get("candidates") or [{}])[0]
    return translate.verbose_json(task, language, duration, segments, body.get("temperature"),
                                  candidate.get("avg_logprobs"))


def transcript_events(services: Services, body: dict, data: bytes, record: RequestRecord) -> Iterator[dict]:
    """OpenAI's transcript.text.delta events and a transcript.text.done, from a Gemini stream opened now."""
    record.model = body["model"]
    requests, _ = _routable(services, translate.TRANSCRIBE, body, data)
    upstream = ModelChain(services, record, requests.first.model).open(requests)
    services.telemetry.stream_opened(record)

    def events() -> Iterator[dict]:
        text, usage = "", None
        try:
            for chunk in upstream:
                translate.check_ending(chunk)
                delta = translate.answer_text(chunk)
                usage = translate.token_usage(chunk) or usage
                if delta:
                    record.mark_first_token()
                    text += delta
                    yield {"type": "transcript.text.delta", "delta": delta}
            yield {"type": "transcript.text.done", "text": text, **({"usage": usage} if usage else {})}
        except ApiError as error:
            record.upstream_error = error.upstream
            raise
        finally:
            record.add_usage(translate.chat_usage(usage))
            upstream.close()
    return events()
