"""The request schema of POST /v1/completions (OpenAI's legacy text API)."""
from __future__ import annotations

from marshmallow import ValidationError, validate, validates_schema

from gemini_proxy.schemas.chat import SamplingSchema
from gemini_proxy.schemas.fields import Present, StrictBoolean, StrictInteger, TextInput, refuse_unsupported

# Modelled legacy parameters this gateway cannot honour, with their harmless values.
UNSUPPORTED = {"suffix": (None, ""), "logit_bias": (None, {})}


class CompletionSchema(SamplingSchema):
    prompt = TextInput(required=True, error_messages={
        "tokens": "token arrays are not supported: Gemini takes text, so send the prompt as strings"})
    echo = StrictBoolean(allow_none=True)
    logprobs = StrictInteger(allow_none=True, validate=validate.Range(0, 20))

    suffix = Present(UNSUPPORTED["suffix"])
    logit_bias = Present(UNSUPPORTED["logit_bias"])
    # Harmless when null or equal to n. More than n means "generate more, return the best n":
    # Gemini has no scoring of candidates.
    best_of = Present(None)

    def __init__(self, max_prompts: int, **kwargs):
        super().__init__(**kwargs)
        self.max_prompts = max_prompts
        self.fields["prompt"].max_items = max_prompts

    @validates_schema
    def _unsupported(self, data, **kwargs):
        refuse_unsupported(self, data)
        if data.get("best_of") is not None and data["best_of"] != (data.get("n") or 1):
            raise ValidationError("`best_of` is not supported by this gateway", "best_of")
        if data.get("echo") and data.get("logprobs") is not None:
            # The usual reason to ask for both is scoring the prompt, and Gemini gives no
            # log probabilities for prompt tokens: refused rather than half answered.
            raise ValidationError("echo with logprobs is not supported: Gemini gives no log probabilities "
                                  "for the prompt", "echo")
