"""OpenAI's images API <-> Gemini's image models (generateContent with an IMAGE response modality) and
Imagen (`:predict`). Notes: vertex-native-media.md §4.1, §4.2.

Sizes: OpenAI's own sizes map by OPENAI_SIZES (Gemini image models and Imagen have different ratio
lists); any other WxH is accepted when its ratio is within RATIO_TOLERANCE of one the model draws
(1920x1080 is 16:9), else it is a 400 naming `size`: a silent nearest ratio (what LiteLLM does,
defaulting to 1:1) would hand back a picture of another shape. Gemini picks the pixel size for the
ratio (2.5 Flash Image: 1024x1024, 1344x768...), so the answer has the ratio asked for, not
necessarily the pixels. `quality` hd/high asks for imageSize 2K where the model family draws it.
"""
from __future__ import annotations

import math
import re

from gemini_proxy.errors import ApiError, invalid_request
from gemini_proxy.translate.families import ImageFamily

GEMINI_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
IMAGEN_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
# OpenAI size -> (Gemini image model ratio, Imagen ratio).
OPENAI_SIZES = {
    "256x256": ("1:1", "1:1"), "512x512": ("1:1", "1:1"), "1024x1024": ("1:1", "1:1"),
    "1792x1024": ("16:9", "16:9"), "1024x1792": ("9:16", "9:16"),
    "1536x1024": ("3:2", "4:3"), "1024x1536": ("2:3", "3:4"),
}
RATIO_TOLERANCE = 0.03  # relative difference between a WxH ratio and a ratio Gemini draws
HIGH_QUALITY = frozenset({"hd", "high"})
_SIZE = re.compile(r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})")
# Finish reasons (and prompt block reasons) that mean a safety system said no: OpenAI's 400
# content_policy_violation. Any other ending without an image (NO_IMAGE, IMAGE_OTHER, a text-only
# STOP...) is the model declining to draw: a 502 naming Gemini's reason.
POLICY_REASONS = frozenset({
    "SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
    "RECITATION", "IMAGE_RECITATION",
})


def _ratio_value(ratio: str) -> float:
    width, height = ratio.split(":")
    return int(width) / int(height)


def aspect_ratio(size: str | None, family: ImageFamily) -> str | None:
    """The aspect ratio to ask for (None: the model's default), or the 400 naming `size`."""
    if size is None or size == "auto":
        return None
    if size in OPENAI_SIZES:
        return OPENAI_SIZES[size][family.imagen]
    ratios = IMAGEN_RATIOS if family.imagen else GEMINI_RATIOS
    match = _SIZE.fullmatch(size)
    if match is None:
        raise invalid_request(f"Invalid value for 'size': {size!r}. Use `auto`, one of {', '.join(OPENAI_SIZES)}, "
                              "or WxH in pixels.", "size", "invalid_size")
    wanted = math.log(int(match.group(1)) / int(match.group(2)))
    best = min(ratios, key=lambda ratio: abs(wanted - math.log(_ratio_value(ratio))))
    if abs(wanted - math.log(_ratio_value(best))) > math.log1p(RATIO_TOLERANCE):
        raise invalid_request(f"Invalid value for 'size': {size} has no aspect ratio this model draws "
                              f"({', '.join(ratios)}).", "size", "invalid_size")
    return best


def image_size(quality: str | None, family: ImageFamily) -> str | None:
    """imageSize 2K for hd/high where the family draws it; None: the model's default (1K)."""
    return "2K" if quality in HIGH_QUALITY and "2K" in family.sizes else None


def gemini_request(prompt: str, images: list[tuple[bytes, str]], ratio: str | None, size: str | None,
                   safety_settings: tuple[dict, ...] = ()) -> tuple[list[dict], dict]:
    """generateContent contents and config (SDK names) for one image of a Gemini image model, with the
    gateway's SAFETY_SETTINGS as chat requests have them."""
    parts = [{"inline_data": {"data": data, "mime_type": mime}} for data, mime in images]
    image_config = {key: value for key, value in (("aspect_ratio", ratio), ("image_size", size)) if value}
    config: dict = {"response_modalities": ["IMAGE"]}
    if image_config:
        config["image_config"] = image_config
    if safety_settings:
        config["safety_settings"] = list(safety_settings)
    return [{"role": "user", "parts": [*parts, {"text": prompt}]}], config


def imagen_request(prompt: str, count: int, ratio: str | None, size: str | None) -> dict:
    """The :predict body of an Imagen call for `count` (1-4) PNG images."""
    parameters: dict = {"sampleCount": count, "outputOptions": {"mimeType": "image/png"}, "includeRaiReason": True}
    if ratio:
        parameters["aspectRatio"] = ratio
    if size:
        parameters["sampleImageSize"] = size
    return {"instances": [{"prompt": prompt}], "parameters": parameters}


def content_policy(reason: str) -> ApiError:
    return invalid_request(f"Your request was rejected by Gemini's safety system ({reason}). Try another "
                           "prompt.", None, "content_policy_violation")


def no_image(reason: str, said: str) -> ApiError:
    detail = f" It said: {said[:500]}" if said else ""
    return ApiError(502, f"Gemini finished without an image (finishReason {reason}).{detail}", "upstream_error",
                    None, "no_image_generated", upstream=f"NO_IMAGE:{reason}")


def images_from_gemini(answer: dict) -> list[tuple[str, str]]:
    """(base64 data, MIME type) of each image of a generateContent answer; a refusal or an answer
    without an image raises."""
    blocked = (answer.get("prompt_feedback") or {}).get("block_reason")
    if blocked:
        raise content_policy(f"prompt blocked: {blocked}")
    images, texts, reason = [], [], "STOP"
    for candidate in answer.get("candidates") or []:
        reason = candidate.get("finish_reason") or reason
        for part in (candidate.get("content") or {}).get("parts") or []:
            if part.get("thought"):  # Gemini 3 image models think in draft images and text: not the answer
                continue
            inline = part.get("inline_data")
            if isinstance(inline, dict) and isinstance(inline.get("data"), str) and str(
                    inline.get("mime_type", "")).startswith("image/"):
                images.append((inline["data"], inline["mime_type"]))
            elif isinstance(part.get("text"), str):
                texts.append(part["text"])
    if images:
        return images
    if reason in POLICY_REASONS:
        raise content_policy(reason)
    raise no_image(reason, " ".join(texts).strip())


def images_from_imagen(answer: dict) -> list[tuple[str, str]]:
    """(base64 data, MIME type) of each image of a :predict answer; all of them filtered raises."""
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    images, filtered = [], []
    for prediction in predictions if isinstance(predictions, list) else []:
        if isinstance(prediction, dict) and isinstance(prediction.get("bytesBase64Encoded"), str):
            images.append((prediction["bytesBase64Encoded"], str(prediction.get("mimeType") or "image/png")))
        elif isinstance(prediction, dict) and prediction.get("raiFilteredReason"):
            filtered.append(str(prediction["raiFilteredReason"]))
    if not images:
        raise content_policy(filtered[0] if filtered else "every image was filtered")
    return images


def usage_from_gemini(answers: list[dict]) -> dict:
    """OpenAI's ImageGenUsage summed over the calls of one request."""
    usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
             "input_tokens_details": {"text_tokens": 0, "image_tokens": 0}}
    for answer in answers:
        counts = answer.get("usage_metadata") or {}
        prompt, output = counts.get("prompt_token_count") or 0, counts.get("candidates_token_count") or 0
        usage["input_tokens"] += prompt
        usage["output_tokens"] += output
        usage["total_tokens"] += counts.get("total_token_count") or prompt + output
        for detail in counts.get("prompt_tokens_details") or []:
            kind = "image_tokens" if detail.get("modality") == "IMAGE" else "text_tokens"
            usage["input_tokens_details"][kind] += detail.get("token_count") or 0
    return usage


def images_response(images: list[str], created: int, output_format: str, usage: dict | None) -> dict:
    """OpenAI's ImagesResponse for base64 images already in `output_format`."""
    body: dict = {"created": created, "data": [{"b64_json": data} for data in images], "output_format": output_format}
    if usage is not None:
        body["usage"] = usage
    return body


def usage_record(usage: dict | None) -> dict | None:
    """ImageGenUsage in the chat names the request log and the rate limits count."""
    if usage is None:
        return None
    return {"prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"]}
