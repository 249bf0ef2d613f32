"""POST /v1/audio/transcriptions and /v1/audio/translations (and without /v1): multipart uploads."""
from __future__ import annotations

from flask import Blueprint

from gemini_proxy.relay import transcriptions as relay
from gemini_proxy.schemas import load
from gemini_proxy.schemas.transcriptions import TranscriptionSchema, TranslationSchema, form_fields
from gemini_proxy.services import current_services
from gemini_proxy.translate.transcriptions import TRANSCRIBE, TRANSLATE
from gemini_proxy.web.form import uploaded
from gemini_proxy.web.hooks import current_record
from gemini_proxy.web.sse import stream_response

bp = Blueprint("transcriptions", __name__)


@bp.post("/v1/audio/transcriptions")
@bp.post("/audio/transcriptions")
def create_transcription():
    services = current_services()
    form, data, _ = uploaded("file", services.settings.max_audio_bytes)
    body = load(TranscriptionSchema(), form_fields(form))
    if body.get("stream"):
        return stream_response(relay.transcript_events(services, body, data, current_record()))
    return relay.transcribe(services, TRANSCRIBE, body, data, current_record())


@bp.post("/v1/audio/translations")
@bp.post("/audio/translations")
def create_translation():
    services = current_services()
    form, data, _ = uploaded("file", services.settings.max_audio_bytes)
    body = load(TranslationSchema(), form_fields(form))
    return relay.transcribe(services, TRANSLATE, body, data, current_record())
