"""The settings of the media endpoints, for Settings (which inherits this): images, speech and
transcription models (their aliases and defaults) and their limits."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gemini_proxy.config_parsing import parse_aliases, positive, setting
from gemini_proxy.translate.models import gemini_model_id

MEDIA_ENDPOINTS = "Images, speech and transcription"
DEFAULT_IMAGE_ALIASES = (
    "dall-e-2=gemini-2.5-flash-image,dall-e-3=gemini-2.5-flash-image,gpt-image-1=gemini-2.5-flash-image"
)
DEFAULT_SPEECH_ALIASES = (
    "tts-1=gemini-2.5-flash-preview-tts,tts-1-hd=gemini-2.5-pro-preview-tts,"
    "gpt-4o-mini-tts=gemini-2.5-flash-preview-tts,gpt-4o-mini-tts-2025-12-15=gemini-2.5-flash-preview-tts"
)
DEFAULT_TRANSCRIPTION_ALIASES = (
    "whisper-1=gemini-2.5-flash,gpt-4o-transcribe=gemini-2.5-flash,gpt-4o-mini-transcribe=gemini-2.5-flash-lite"
)


def _aliases(name: str, default: str, doc: str):
    return field(default_factory=lambda: parse_aliases(default),
                 metadata=setting(name, MEDIA_ENDPOINTS, doc, parse_aliases, keep_empty=True))


@dataclass(frozen=True)
class MediaSettings:
    default_image_model: str = field(default="gemini-2.5-flash-image", metadata=setting(
        "DEFAULT_IMAGE_MODEL", MEDIA_ENDPOINTS, "Model for `/v1/images/generations` and `/v1/images/edits` "
        "requests that name none: a Gemini image model or an Imagen one (`imagen-...`, generations only)."))
    image_model_aliases: Mapping[str, str] = _aliases(
        "IMAGE_MODEL_ALIASES", DEFAULT_IMAGE_ALIASES, "Comma-separated `alias=gemini-model` pairs for the images "
        "endpoints, listed by `/v1/models`; empty: no aliases.")
    speech_model_aliases: Mapping[str, str] = _aliases(
        "SPEECH_MODEL_ALIASES", DEFAULT_SPEECH_ALIASES, "Comma-separated `alias=gemini-tts-model` pairs for "
        "`/v1/audio/speech` (OpenAI's `tts-1`, `tts-1-hd`, `gpt-4o-mini-tts`); empty: no aliases.")
    # OpenAI's own limit; about 4.5 minutes of speech, inside the 16,384 output tokens (about 8.5
    # minutes at 32 audio tokens a second) of Gemini's TTS models.
    max_speech_input: int = field(default=4096, metadata=setting(
        "MAX_SPEECH_INPUT", MEDIA_ENDPOINTS, "Most characters of `input` in one speech request (OpenAI: 4096).",
        positive))
    transcription_model_aliases: Mapping[str, str] = _aliases(
        "TRANSCRIPTION_MODEL_ALIASES", DEFAULT_TRANSCRIPTION_ALIASES, "Comma-separated `alias=gemini-model` pairs "
        "for `/v1/audio/transcriptions` and `/v1/audio/translations` (MODEL_ALIASES apply too); empty: none.")
    # Gemini takes audio inline in requests of up to 20 MiB, where it is base64 (4/3 of its size).
    max_audio_bytes: int = field(default=15_000_000, metadata=setting(
        "MAX_AUDIO_BYTES", MEDIA_ENDPOINTS, "Largest audio file for `/v1/audio/transcriptions` and `/translations` "
        "(413 above; Gemini's 20 MB inline limit leaves about 15 MB for base64 audio, OpenAI's limit is 25 MB).",
        positive))

    def media_model_names(self) -> dict[str, str]:
        """Where each media model name is set -> the name (Settings checks that each is a model id)."""
        return {"DEFAULT_IMAGE_MODEL": self.default_image_model,
                **{f"IMAGE_MODEL_ALIASES {a}": m for a, m in self.image_model_aliases.items()},
                **{f"SPEECH_MODEL_ALIASES {a}": m for a, m in self.speech_model_aliases.items()},
                **{f"TRANSCRIPTION_MODEL_ALIASES {a}": m for a, m in self.transcription_model_aliases.items()}}

    def resolve_image_model(self, requested: str | None) -> str | None:
        """The Gemini image model id for the name a client asked for (None: no such model)."""
        name = requested or self.default_image_model
        return gemini_model_id(self.image_model_aliases.get(name, name))

    def resolve_speech_model(self, requested: str) -> str | None:
        """The Gemini TTS model id for the name a client asked for (None: no such model)."""
        return gemini_model_id(self.speech_model_aliases.get(requested, requested))

    def resolve_transcription_model(self, requested: str) -> str | None:
        """The Gemini model id for a transcription model name; Settings' MODEL_ALIASES apply too."""
        name = self.transcription_model_aliases.get(requested, requested)
        return gemini_model_id(self.model_aliases.get(name, name))  # type: ignore[attr-defined]
