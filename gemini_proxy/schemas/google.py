"""Google's own options, as Google's OpenAI compatibility layer takes them: an object `google`
in the body (what the openai SDK sends for extra_body={"google": {...}}), or nested once more,
`extra_body.google` (as Google's docs show it). One schema for every endpoint, each loading
only the options it uses (the others are tolerated, like any field not modelled); a request
loads as one `google` object, so translate/ looks in one place.
"""
from __future__ import annotations

from marshmallow import fields, post_load, pre_load, validate

from gemini_proxy.schemas.fields import Lenient, StrictString, refuse_long_lists

# The options each endpoint uses (the names of GoogleSchema's fields).
GENERATION_OPTIONS = ("thinking_config", "safety_settings", "cached_content")
EMBEDDING_OPTIONS = ("task_type", "title")
MAX_SAFETY_SETTINGS = 32


class SafetySettingSchema(Lenient):
    category = StrictString(required=True)
    threshold = StrictString(required=True)


class GoogleSchema(Lenient):
    """Passed to Gemini as they are (their names are the SDK's)."""
    thinking_config = fields.Dict(allow_none=True)
    safety_settings = fields.List(fields.Nested(SafetySettingSchema), allow_none=True)
    cached_content = StrictString(allow_none=True)
    task_type = StrictString(allow_none=True, validate=validate.Length(min=1))
    title = StrictString(allow_none=True)

    @pre_load
    def _count_first(self, data, **kwargs):
        # Gemini has about a dozen harm categories: one setting each is all a request needs.
        if self.only is None or "safety_settings" in self.only:
            refuse_long_lists(data, {"safety_settings": (MAX_SAFETY_SETTINGS, "settings")})
        return data


class ExtraBodySchema(Lenient):
    google = fields.Nested(GoogleSchema, allow_none=True)


def google_fields(options: tuple[str, ...]) -> tuple[fields.Nested, fields.Nested]:
    """The fields `google` and `extra_body` of a request schema that uses `options`."""
    return (fields.Nested(GoogleSchema, only=options, allow_none=True),
            fields.Nested(ExtraBodySchema, only=tuple(f"google.{option}" for option in options), allow_none=True))


class WithGoogleOptions(Lenient):
    """A request schema with Google's options (declared with google_fields): loaded as `google`
    alone, the top-level object when it has any option, else extra_body's."""

    @post_load
    def _one_google(self, data, **kwargs):
        extra_body = data.pop("extra_body", None) or {}
        google = data.pop("google", None) or extra_body.get("google")
        if google:
            data["google"] = google
        return data
