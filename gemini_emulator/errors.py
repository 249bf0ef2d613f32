"""Gemini's error vocabulary: the envelope, the realistic messages, the rpc detail objects.

Every error the emulator answers is an EmulatorError rendered as
{"error": {"code", "message", "status", "details"}} with HTTP status == code, exactly like
generativelanguage.googleapis.com.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_TYPE = "type.googleapis.com/google.rpc."
_SERVICE = "generativelanguage.googleapis.com"

STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Messages as the real service words them (notes §5.6); 504's is the least certain.
MESSAGE_BY_CODE = {
    400: "Request contains an invalid argument.",
    403: "The caller does not have permission",
    429: (
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
    ),
    500: (
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting"
    ),
    503: "The model is overloaded. Please try again later.",
    504: "The request timed out. Please try again.",
}

BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
NO_KEY_MESSAGE = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


@dataclass(eq=False)  # exceptions must stay hashable
class EmulatorError(Exception):
    """An error answer: raised anywhere, rendered once by the app."""

    code: int
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code} {self.status}: {self.message}")

    @property
    def status(self) -> str:
        return STATUS_BY_CODE.get(self.code, "UNKNOWN")

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "status": self.status,
                "details": self.details,
            }
        }


def invalid_argument(message: str) -> EmulatorError:
    return EmulatorError(400, message, [_bad_request(message)])


def model_not_found(model: str, version: str, method: str) -> EmulatorError:
    return EmulatorError(
        404,
        f"models/{model} is not found for API version {version}, or is not supported for "
        f"{method}. Call ListModels to see the list of available models and their supported "
        "methods.",
    )


def api_key_invalid() -> EmulatorError:
    return EmulatorError(
        400,
        BAD_KEY_MESSAGE,
        [
            {
                "@type": _TYPE + "ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": _SERVICE},
            },
            {"@type": _TYPE + "LocalizedMessage", "locale": "en-US", "message": BAD_KEY_MESSAGE},
        ],
    )


def api_key_missing() -> EmulatorError:
    return EmulatorError(403, NO_KEY_MESSAGE)


def quota_exhausted(model: str, retry_seconds: int) -> EmulatorError:
    """The free-tier 429 with QuotaFailure, Help and RetryInfo details."""
    message = (
        MESSAGE_BY_CODE[429]
        + " To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n"
        + "* Quota exceeded for metric: generativelanguage.googleapis.com/"
        + f"generate_content_free_tier_requests, limit: 10, model: {model}\n"
        + f"Please retry in {retry_seconds}.0s."
    )
    return EmulatorError(
        429,
        message,
        [
            {
                "@type": _TYPE + "QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/"
                        "generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global", "model": model},
                        "quotaValue": "10",
                    }
                ],
            },
            {
                "@type": _TYPE + "Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
            {"@type": _TYPE + "RetryInfo", "retryDelay": f"{retry_seconds}s"},
        ],
    )


def for_code(code: int, model: str, version: str, method: str, retry: int) -> EmulatorError:
    """The realistic error for an HTTP status, as injected by a fault directive."""
    if code == 404:
        return model_not_found(model, version, method)
    if code == 429:
        return quota_exhausted(model, retry)
    if code == 400:
        return invalid_argument(MESSAGE_BY_CODE[400])
    return EmulatorError(code, MESSAGE_BY_CODE[code])


HUGE_MESSAGE_BYTES = 5 * 1024 * 1024

# What Google's front end (or a load balancer) sends when it cannot reach the service.
HTML_ERROR_PAGE = """<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error 502 (Server Error)!!1</title>
  <style>
    *{margin:0;padding:0}html,code{font:15px/22px arial,sans-serif}body{background:#fff;color:#222}
  </style>
  <script>window.onload = function () { document.title += " "; };</script>
  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>
  <p><b>502.</b> <ins>That&rsquo;s an error.</ins>
  <p>The server encountered a temporary error and could not complete your request.
  <p>Please try again in 30 seconds.  <ins>That&rsquo;s all we know.</ins>
"""


def huge(code: int) -> EmulatorError:
    """An error whose message is HUGE_MESSAGE_BYTES long (a service gone wrong)."""
    sentence = MESSAGE_BY_CODE.get(code, MESSAGE_BY_CODE[400]) + " "
    return EmulatorError(code, sentence * (HUGE_MESSAGE_BYTES // len(sentence) + 1))


def key_echo(code: int, key: str) -> EmulatorError:
    """An error whose message quotes the caller's key, in the ways logs and proxies echo one."""
    return EmulatorError(code, f"API key {key} may not call this method (x-goog-api-key: {key}; "
                               f"Authorization: Bearer {key}; https://example.invalid/v1beta/models?key={key}).")


def _bad_request(message: str) -> dict[str, Any]:
    return {
        "@type": _TYPE + "BadRequest",
        "fieldViolations": [{"description": message}],
    }
