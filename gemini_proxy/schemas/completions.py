"""The request schema of POST /v1/completions (OpenAI's legacy text API)."""
from __future__ import annotations

from marshmallow import ValidationError, validate, validates_schema

from .chat import SamplingSchema
from .fields import Present, StrictBoolean, StrictInteger, TextInput

# Modelled legacy parameters this gateway cannot honour, with their harmless values.
UNSUPPORTED = {
    "suffix": lambda v, request: v in (None, ""),
    "logit_bias": lambda v, request: v in (None, {}),
    # best_of > n means "generate more, return the best n": Gemini has no scoring of candidates.
    "best_of": lambda v, request: v is None or v == (request.get("n") or 1),
}


class CompletionSchema(SamplingSchema):
    prompt = TextInput(required=True, error_messages={
        "tokens": "token arrays are not supported: Gemini takes text, so send the prompt as strings"})
    echo = StrictBoolean(allow_none=True)
    logprobs = StrictInteger(allow_none=True, validate=validate.Range(0, 20))

    suffix = Present(allow_none=True)
    logit_bias = Present(allow_none=True)
    best_of = Present(allow_none=True)

    def __init__(self, max_prompts: int, **kwargs):
        super().__init__(**kwargs)
        self.max_prompts = max_prompts
        self.fields["prompt"].max_items = max_prompts

    @validates_schema
    def _unsupported(self, data, **kwargs):
        for name, harmless in UNSUPPORTED.items():
            if name in data and not harmless(data[name], data):
                raise ValidationError(f"`{name}` is not supported by this gateway", name)
        if data.get("echo") and data.get("logprobs") is not None:
            # The usual reason to ask for both is scoring the prompt, and Gemini gives no
            # log probabilities for prompt tokens: refused rather than half answered.
            raise ValidationError("echo with logprobs is not supported: Gemini gives no log probabilities "
                                  "for the prompt", "echo")
