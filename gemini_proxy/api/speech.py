"""POST /v1/audio/speech (and /audio/speech): text to speech on Gemini's TTS models."""
from __future__ import annotations

from flask import Blueprint

from gemini_proxy.media.audio_encoder import CONTENT_TYPES
from gemini_proxy.relay import speech as relay
from gemini_proxy.schemas import load
from gemini_proxy.services import current_services
from gemini_proxy.web.audio import audio_response, audio_stream_response
from gemini_proxy.web.body import json_body
from gemini_proxy.web.hooks import current_record
from gemini_proxy.web.sse import speech_stream_response

bp = Blueprint("speech", __name__)


@bp.post("/v1/audio/speech")
@bp.post("/audio/speech")
def create_speech():
    services, record = current_services(), current_record()
    body = load(services.speech_schema, json_body())
    call = relay.speech_call(services, body)
    record.model, record.answered_by = body["model"], call.model
    content_type = CONTENT_TYPES[call.response_format]
    if body.get("stream_format") is None:
        return audio_response(relay.whole_speech(services, call, record), content_type)
    stream = relay.SpeechStream(services, call, record)
    if body["stream_format"] == "sse":
        return speech_stream_response(stream.events())
    return audio_stream_response(stream.audio(), content_type, stream.close)
