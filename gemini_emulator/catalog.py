"""The models the emulator serves, shaped like real ListModels items (notes §5.3)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

CHAT_METHODS = ("generateContent", "countTokens", "createCachedContent", "batchGenerateContent")
EMBED_METHODS = ("embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent")
SPEECH_METHODS = ("countTokens", "generateContent")  # TTS models (speech.py)
IMAGEN_METHODS = ("predict",)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Model:
    id: str
    display_name: str
    description: str
    version: str
    input_token_limit: int
    output_token_limit: int
    embedding_dimensions: int = 0
    thinking: bool = False
    speech: bool = False  # a TTS model: answers responseModalities ["AUDIO"] only (speech.py)
    image_sizes: tuple[str, ...] = ()  # imageSize (sampleImageSize) values of a model that draws (images.py)
    imagen: bool = False  # an Imagen model: it answers :predict only

    @property
    def is_embedding(self) -> bool:
        return self.embedding_dimensions > 0

    @property
    def methods(self) -> tuple[str, ...]:
        if self.speech:
            return SPEECH_METHODS
        if self.imagen:
            return IMAGEN_METHODS
        return EMBED_METHODS if self.is_embedding else CHAT_METHODS

    def resource(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": f"models/{self.id}",
            "version": self.version,
            "displayName": self.display_name,
            "description": self.description,
            "inputTokenLimit": self.input_token_limit,
            "outputTokenLimit": self.output_token_limit,
            "supportedGenerationMethods": list(self.methods),
        }
        if not self.is_embedding and not self.imagen:
            item.update({"temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2})
        if self.thinking:
            item["thinking"] = True
        return item


MODELS = (
    Model(
        "gemini-2.5-flash", "Gemini 2.5 Flash",
        "Stable version of Gemini 2.5 Flash, our mid-size multimodal model that supports up to "
        "1 million tokens, released in June of 2025.",
        "001", 1048576, 65536, thinking=True,
    ),
    Model(
        "gemini-2.5-pro", "Gemini 2.5 Pro", "Stable release (June 17th, 2025) of Gemini 2.5 Pro",
        "2.5", 1048576, 65536, thinking=True,
    ),
    Model(
        "gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite",
        "Stable version of Gemini 2.5 Flash-Lite, released in July of 2025",
        "001", 1048576, 65536, thinking=True,
    ),
    Model(
        "gemini-2.0-flash", "Gemini 2.0 Flash", "Gemini 2.0 Flash",
        "2.0", 1048576, 8192,
    ),
    Model(
        "gemini-3-pro-preview", "Gemini 3 Pro Preview", "Gemini 3 Pro Preview",
        "3-pro-preview-11-2025", 1048576, 65536, thinking=True,
    ),
    # The Gemini 3 models Gemini CLI 0.61.0 calls (its packages/core/src/config/models.ts): the
    # router classifier on the newest Flash-Lite, answers on the newest Flash or the 3.1 Pro
    # preview, the google_web_search tool on gemini-3-flash-preview.
    Model(
        "gemini-3-flash-preview", "Gemini 3 Flash Preview", "Gemini 3 Flash Preview",
        "3-flash-preview-12-2025", 1048576, 65536, thinking=True,
    ),
    Model(
        "gemini-3.1-pro-preview", "Gemini 3.1 Pro Preview", "Gemini 3.1 Pro Preview",
        "3.1-pro-preview", 1048576, 65536, thinking=True,
    ),
    # Gemini CLI's pro choice when the router scores a prompt as complex and its custom tools
    # are on (the router's score follows the prompt, which holds the date and the folder).
    Model(
        "gemini-3.1-pro-preview-customtools", "Gemini 3.1 Pro Preview Custom Tools",
        "Gemini 3.1 Pro Preview, tuned for custom tools", "3.1-pro-preview", 1048576, 65536, thinking=True,
    ),
    Model(
        "gemini-3.8-flash", "Gemini 3.8 Flash",
        "Stable version of Gemini 3.8 Flash, the workhorse of the Gemini 3 family.",
        "3.8", 1048576, 65536, thinking=True,
    ),
    Model(
        "gemini-3.5-flash-lite", "Gemini 3.5 Flash-Lite",
        "Stable version of Gemini 3.5 Flash-Lite, for fast, low-cost classification and extraction.",
        "3.5", 1048576, 65536, thinking=True,
    ),
    # Text-to-speech (speech.py); output limit 16,384 tokens: about 8.5 minutes at 32 tokens/s.
    Model(
        "gemini-2.5-flash-preview-tts", "Gemini 2.5 Flash Preview TTS", "Gemini 2.5 Flash Preview TTS",
        "gemini-2.5-flash-exp-tts-2025-05-19", 8192, 16384, speech=True,
    ),
    Model(
        "gemini-2.5-pro-preview-tts", "Gemini 2.5 Pro Preview TTS", "Gemini 2.5 Pro Preview TTS",
        "gemini-2.5-pro-preview-tts-2025-05-19", 8192, 16384, speech=True,
    ),
    Model(
        "gemini-3.1-flash-tts-preview", "Gemini 3.1 Flash TTS Preview", "Gemini 3.1 Flash TTS Preview",
        "3.1-flash-tts-preview", 8192, 16384, speech=True,
    ),
    # Image models (notes: vertex-native-media.md §4.1, §4.2): Gemini's draw through generateContent
    # with an IMAGE response modality, Imagen's (deprecated, still served) through :predict.
    Model(
        "gemini-2.5-flash-image", "Nano Banana", "Gemini 2.5 Flash Image",
        "2.0", 32768, 32768, image_sizes=("1K",),
    ),
    Model(
        "gemini-3-pro-image-preview", "Nano Banana Pro", "Gemini 3 Pro Image Preview",
        "3.0", 131072, 32768, image_sizes=("1K", "2K", "4K"),
    ),
    Model("imagen-4.0-generate-001", "Imagen 4", "Vertex served Imagen 4.0 model",
          "001", 480, 8192, image_sizes=("1K", "2K"), imagen=True),
    Model("imagen-4.0-fast-generate-001", "Imagen 4 Fast", "Vertex served Imagen 4.0 Fast model",
          "001", 480, 8192, image_sizes=("1K",), imagen=True),
    Model("imagen-4.0-ultra-generate-001", "Imagen 4 Ultra", "Vertex served Imagen 4.0 ultra model",
          "001", 480, 8192, image_sizes=("1K", "2K"), imagen=True),
    Model(
        "gemini-embedding-001", "Gemini Embedding 001",
        "Obtain a distributed representation of a text.",
        "001", 2048, 1, embedding_dimensions=3072,
    ),
    Model(
        "text-embedding-004", "Text Embedding 004",
        "Obtain a distributed representation of a text.",
        "004", 2048, 1, embedding_dimensions=768,
    ),
)


def find_model(model_id: str) -> Model | None:
    """The catalog entry for an id ("gemini-2.5-flash" or "models/gemini-2.5-flash")."""
    bare = model_id.removeprefix("models/")
    return next((model for model in MODELS if model.id == bare), None)


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int:
    """Offset encoded in a page token; ValueError if the token was not made by us."""
    padded = token + "=" * (-len(token) % 4)
    try:
        prefix, _, offset = base64.urlsafe_b64decode(padded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise ValueError("bad page token") from None
    if prefix != "offset" or not offset.isdigit():
        raise ValueError("bad page token")
    return int(offset)


def list_page(page_size: int, page_token: str | None) -> dict[str, Any]:
    """One ListModels page; nextPageToken is omitted on the last page (the SDK stops there)."""
    size = DEFAULT_PAGE_SIZE if page_size <= 0 else min(page_size, MAX_PAGE_SIZE)
    start = decode_page_token(page_token) if page_token else 0
    page: dict[str, Any] = {"models": [model.resource() for model in MODELS[start : start + size]]}
    if start + size < len(MODELS):
        page["nextPageToken"] = encode_page_token(start + size)
    return page
