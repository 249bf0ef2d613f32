"""Images (notes: vertex-native-media.md §4.1, §4.2).

Gemini image models (catalog: image_sizes, not imagen) answer generateContent whose
generationConfig.responseModalities holds IMAGE with an optional text part, then one
inlineData image/png part (drawing.py) whose pixel size follows imageConfig.aspectRatio
(GEMINI_SIZES; absent: the first input PNG's nearest ratio, else 1:1) times imageSize
(1K x1, 2K x2, 4K x4; only the model's image_sizes). One image per call: candidateCount > 1 is
refused. Usage counts IMAGE_TOKENS output tokens per image (candidatesTokensDetails IMAGE).
A model without image output asked for IMAGE is refused, as Gemini does.
Directives: finish=IMAGE_SAFETY (IMAGE_PROHIBITED_CONTENT, IMAGE_OTHER, NO_IMAGE, ...) ends
the candidate with that reason and no image; fault=block blocks the prompt.

Imagen (catalog: imagen) answers :predict on AI Studio and Vertex paths:
    {"instances": [{"prompt"}], "parameters": {sampleCount 1-4 (default 4), aspectRatio
     (IMAGEN_SIZES), sampleImageSize (1K/2K where the model has it), outputOptions.mimeType,
     includeRaiReason, ...}}  ->  {"predictions": [{"bytesBase64Encoded", "mimeType"}, ...]}
outputOptions.mimeType image/png (default) or image/jpeg (a real JPEG: drawing.py; its
compressionQuality is accepted, the flat blocks need no more). AI Studio refuses the Vertex-only
parameters (negativePrompt, seed, addWatermark, enhancePrompt, storageUri). A prompt with
`[emulator finish=IMAGE_SAFETY]` has every image filtered: {"raiFilteredReason"} items with
includeRaiReason, else no predictions ({}). Its HTTP fault directives (fault=429, 503, badkey, times=N,
...) apply as on generateContent.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from gemini_emulator.catalog import Model
from gemini_emulator.directives import Directives, extract, last_user_text
from gemini_emulator.drawing import draw_jpeg, draw_png, png_size
from gemini_emulator.errors import invalid_argument
from gemini_emulator.safety import safety_ratings
from gemini_emulator.tokens import count_tokens
from gemini_emulator.validation import GenerateRequest
from gemini_emulator.vertex import uses_predict
from gemini_emulator.wire import decode_base64

GEMINI_SIZES = {
    "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184), "4:3": (1184, 864),
    "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672),
}
IMAGEN_SIZES = {"1:1": (1024, 1024), "3:4": (896, 1280), "4:3": (1280, 896), "9:16": (768, 1408),
                "16:9": (1408, 768)}
SCALES = {"1K": 1, "2K": 2, "4K": 4}
IMAGE_TOKENS = 1290  # output tokens Gemini charges per image of 2.5 Flash Image (its pricing page)
MAX_SAMPLES = 4
DEFAULT_SAMPLES = 4
AI_STUDIO_REFUSED = ("negativePrompt", "seed", "addWatermark", "enhancePrompt", "storageUri")
OUTPUT_MIME_TYPES = ("image/png", "image/jpeg")
RAI_REASON = ("Your current safety filter threshold filtered out 1 generated image(s). You will not be charged "
              "for blocked images. Try rephrasing the prompt.")


@dataclass(frozen=True)
class Drawing:
    """What a generateContent request for an image asks the model to draw."""
    width: int
    height: int
    with_text: bool


def _modalities(config: dict[str, Any]) -> list[str]:
    wanted = config.get("responseModalities") or []
    if not isinstance(wanted, list) or not all(isinstance(m, str) for m in wanted):
        raise invalid_argument("Invalid value at 'generation_config.response_modalities': a list of modalities")
    return [m.upper() for m in wanted]


def _input_ratio(contents: list[dict[str, Any]]) -> str:
    """The supported ratio nearest to the first input PNG's, else 1:1 (Gemini matches the input)."""
    for content in contents:
        for part in content.get("parts", []):
            inline = part.get("inlineData") if isinstance(part, dict) else None
            size = png_size(decode_base64(inline["data"])) if isinstance(inline, dict) else None
            if size and size[1]:
                ratio = size[0] / size[1]
                return min(GEMINI_SIZES, key=lambda r: abs(GEMINI_SIZES[r][0] / GEMINI_SIZES[r][1] - ratio))
    return "1:1"


def drawing_for(model: Model, request: GenerateRequest) -> Drawing | None:
    """The image a generateContent request asks for (None: no IMAGE modality); Gemini's 400s."""
    config = request.generation_config
    modalities = _modalities(config)
    if "IMAGE" not in modalities:
        return None
    if not model.image_sizes or model.imagen:
        raise invalid_argument("Model does not support the requested response modalities: image")
    if request.candidate_count > 1:
        raise invalid_argument(f"Multiple candidates is not enabled for models/{model.id}")
    image = config.get("imageConfig") or {}
    ratio = image.get("aspectRatio") or _input_ratio(request.contents)
    if ratio not in GEMINI_SIZES:
        raise invalid_argument(f"* GenerateContentRequest.generation_config.image_config.aspect_ratio: "
                               f"Unsupported aspect ratio: {ratio}. Supported: {', '.join(GEMINI_SIZES)}")
    size = image.get("imageSize") or "1K"
    if size not in model.image_sizes:
        raise invalid_argument(f"* GenerateContentRequest.generation_config.image_config.image_size: "
                               f"{size} is not supported by models/{model.id}; supported: "
                               f"{', '.join(model.image_sizes)}")
    width, height = GEMINI_SIZES[ratio]
    return Drawing(width * SCALES[size], height * SCALES[size], "TEXT" in modalities)


def _png_part(width: int, height: int, seed: str) -> dict[str, Any]:
    data = base64.b64encode(draw_png(width, height, seed)).decode("ascii")
    return {"inlineData": {"mimeType": "image/png", "data": data}}


def image_answer(model: Model, drawing: Drawing, contents: list[dict[str, Any]], directives: Directives,
                 prompt: tuple[int, tuple[tuple[str, int], ...]], response_id: str) -> dict[str, Any]:
    """The GenerateContentResponse of an image model (contents: directives already stripped)."""
    prompt_tokens, details = prompt
    usage: dict[str, Any] = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens,
                             "promptTokensDetails": [{"modality": m, "tokenCount": n} for m, n in details]}
    envelope: dict[str, Any] = {}
    if directives.fault == "block":
        envelope["promptFeedback"] = {"blockReason": "SAFETY", "safetyRatings": safety_ratings(True)}
        return {**envelope, "usageMetadata": usage, "modelVersion": model.id, "responseId": response_id}
    text = last_user_text(contents)
    parts: list[dict[str, Any]] = []
    if directives.finish and directives.finish != "STOP":
        candidate: dict[str, Any] = {"content": {"role": "model"}, "finishReason": directives.finish, "index": 0}
    else:
        if drawing.with_text:
            parts.append({"text": f"Here is a {drawing.width}x{drawing.height} picture of: {text[:200]}"})
        parts.append(_png_part(drawing.width, drawing.height, f"{model.id}|{text}"))
        candidate = {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
    text_tokens = sum(count_tokens(p["text"]) for p in parts if "text" in p)
    images = sum(1 for p in parts if "inlineData" in p)
    output = text_tokens + images * IMAGE_TOKENS
    if output:
        usage["candidatesTokenCount"] = output
        usage["candidatesTokensDetails"] = [{"modality": m, "tokenCount": n} for m, n in
                                            (("TEXT", text_tokens), ("IMAGE", images * IMAGE_TOKENS)) if n]
    usage["totalTokenCount"] = prompt_tokens + output
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model.id, "responseId": response_id}


def serves_predict(model: Model, vertex: bool) -> bool:
    """Imagen predicts on both APIs; text-embedding models only on Vertex AI."""
    return model.imagen or (vertex and uses_predict(model))


def _parameter(parameters: dict[str, Any], key: str, allowed: Any, default: Any) -> Any:
    value = parameters.get(key, default)
    if value not in allowed:
        raise invalid_argument(f"Invalid value for parameters.{key}: {value!r}. Supported: "
                               f"{', '.join(map(str, allowed))}")
    return value


def prompt_directives(body: dict[str, Any]) -> Directives:
    """The directives of an Imagen prompt (none when the body has no prompt: predict_images refuses it)."""
    instances = body.get("instances")
    prompt = instances[0].get("prompt") if isinstance(instances, list) and instances and isinstance(
        instances[0], dict) else None
    return extract([{"role": "user", "parts": [{"text": prompt}]}])[0] if isinstance(prompt, str) else Directives()


def predict_images(body: dict[str, Any], model: Model, vertex: bool) -> dict[str, Any]:
    """The :predict answer of an Imagen model (see the module docstring)."""
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        raise invalid_argument("instances must hold exactly one instance with a prompt.")
    prompt = instances[0].get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid_argument("instances[0].prompt must be a non-empty string.")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise invalid_argument("parameters must be an object.")
    if not vertex:
        refused = [key for key in AI_STUDIO_REFUSED if parameters.get(key) is not None]
        if refused:
            raise invalid_argument(f"{refused[0]} parameter is not supported in Gemini API.")
    count = _parameter(parameters, "sampleCount", range(1, MAX_SAMPLES + 1), DEFAULT_SAMPLES)
    ratio = _parameter(parameters, "aspectRatio", tuple(IMAGEN_SIZES), "1:1")
    size = _parameter(parameters, "sampleImageSize", model.image_sizes, "1K")
    options = parameters.get("outputOptions") or {}
    mime = options.get("mimeType", "image/png") if isinstance(options, dict) else None
    if mime not in OUTPUT_MIME_TYPES:
        raise invalid_argument(f"Invalid value for parameters.outputOptions.mimeType: {mime!r}. Supported: "
                               f"{', '.join(OUTPUT_MIME_TYPES)}")
    draw = draw_png if mime == "image/png" else draw_jpeg
    directives, contents = extract([{"role": "user", "parts": [{"text": prompt}]}])
    text = last_user_text(contents)
    if directives.finish and directives.finish != "STOP":
        filtered = [{"raiFilteredReason": RAI_REASON} for _ in range(count)]
        return {"predictions": filtered} if parameters.get("includeRaiReason") else {}
    width, height = (side * SCALES[size] for side in IMAGEN_SIZES[ratio])
    return {"predictions": [
        {"bytesBase64Encoded": base64.b64encode(draw(width, height, f"{model.id}|{text}|{i}")).decode("ascii"),
         "mimeType": mime} for i in range(count)]}
