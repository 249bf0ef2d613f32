"""Images between the views and Gemini: one generateContent call per image on a Gemini image model
(they draw one image per call; the calls of one request run side by side), Imagen's `:predict` in
calls of at most four, then the images in the format the client asked for."""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from gemini_proxy.errors import invalid_model, invalid_request
from gemini_proxy.media.images import encoded
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.services import Services
from gemini_proxy.translate.families import image_family
from gemini_proxy.translate.images import (
    aspect_ratio,
    gemini_request,
    image_size,
    imagen_request,
    images_from_gemini,
    images_from_imagen,
    images_response,
    usage_from_gemini,
    usage_record,
)

IMAGEN_MAX_SAMPLES = 4  # Imagen's sampleCount limit


def _side_by_side(count: int, call: Callable[[], dict]) -> list[dict]:
    """`count` answers of `call`, in parallel; the first failure (in order) is raised."""
    if count == 1:
        return [call()]
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="image") as pool:
        futures = [pool.submit(call) for _ in range(count)]
        return [future.result() for future in futures]


def generate_images(services: Services, body: dict, record: RequestRecord,
                    uploads: list[tuple[bytes, str]] | None = None) -> dict:
    """The ImagesResponse of a loaded generations request, or of an edit with its uploaded images."""
    settings = services.settings
    model = settings.resolve_image_model(body.get("model"))
    if model is None:
        raise invalid_model()
    record.model = body.get("model") or settings.default_image_model
    family = image_family(model)
    ratio, size = aspect_ratio(body.get("size"), family), image_size(body.get("quality"), family)
    count, key, prompt = body.get("n") or 1, record.client.gemini_key, body["prompt"]
    if uploads is not None and not family.edits:
        raise invalid_request(f"`{record.model}` is an Imagen model, which cannot edit images through "
                              "Gemini's API: use a Gemini image model (e.g. gemini-2.5-flash-image).",
                              "model", "model_not_supported")
    if family.imagen:
        images, usage = [], None
        for start in range(0, count, IMAGEN_MAX_SAMPLES):
            batch = min(IMAGEN_MAX_SAMPLES, count - start)
            images += images_from_imagen(services.upstream.predict(model, imagen_request(prompt, batch, ratio, size),
                                                                   key))
    else:
        contents, config = gemini_request(prompt, uploads or [], ratio, size, settings.safety_settings)
        answers = _side_by_side(count, lambda: services.upstream.generate(model, contents, config, key))
        images = [image for answer in answers for image in images_from_gemini(answer)]
        usage = usage_from_gemini(answers)
    record.answered_by = model
    output_format = body.get("output_format") or "png"
    data = [encoded(image, mime, output_format, body.get("output_compression")) for image, mime in images[:count]]
    record.add_usage(usage_record(usage))
    return images_response(data, int(time.time()), output_format, usage)
