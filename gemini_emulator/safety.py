"""Safety: the settings a request may carry, and the ratings an answer reports.

safetySettings [{category, threshold}] are checked against Gemini's enums (an unknown value
is a 400 INVALID_ARGUMENT naming the field, as the real API words enum errors) and otherwise
only recorded: they are visible in /emulator/requests, nothing is filtered by them.
"""

from __future__ import annotations

import json
from typing import Any

from gemini_emulator.errors import invalid_argument

CATEGORIES = (
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
)
THRESHOLDS = (
    "BLOCK_LOW_AND_ABOVE",
    "BLOCK_MEDIUM_AND_ABOVE",
    "BLOCK_ONLY_HIGH",
    "BLOCK_NONE",
    "OFF",
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
)
# The categories an answer is rated on, in the order the real API lists them.
_RATED = (
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
)
_ENUM = "type.googleapis.com/google.ai.generativelanguage.v1beta."


def check_safety_settings(body: dict[str, Any]) -> None:
    """Raise Gemini's 400 for a malformed safetySettings list."""
    settings = body.get("safetySettings")
    if settings is None:
        return
    if not isinstance(settings, list):
        raise invalid_argument("Invalid value at 'safety_settings': a list of SafetySetting "
                               "is required")
    for index, setting in enumerate(settings):
        if not isinstance(setting, dict):
            raise invalid_argument(f"Invalid value at 'safety_settings[{index}]': an object")
        for field, enum, allowed in (("category", "HarmCategory", CATEGORIES),
                                     ("threshold", "SafetySetting.HarmBlockThreshold",
                                      THRESHOLDS)):
            value = setting.get(field)
            if value not in allowed:
                raise invalid_argument(f"Invalid value at 'safety_settings[{index}].{field}' "
                                       f"({_ENUM}{enum}), {json.dumps(value)}")


def safety_ratings(blocked: bool) -> list[dict[str, Any]]:
    """Ratings as the real API lists them; a block flags dangerous content as HIGH."""
    ratings: list[dict[str, Any]] = [
        {"category": category, "probability": "NEGLIGIBLE"} for category in _RATED
    ]
    if blocked:
        ratings[-1] = {"category": _RATED[-1], "probability": "HIGH", "blocked": True}
    return ratings
