"""What a failed call to Gemini becomes, and whether it is tried again: the SDK's, google-auth's
and the transport's exceptions made ApiErrors (Gemini's own errors through upstream/errors.py, so
that nothing secret is relayed), and the retry rule's two questions, `retryable` and
`retry_wait` (client.py's module docstring tells the whole rule)."""
from __future__ import annotations

import logging
import random
from collections.abc import Callable
from contextlib import contextmanager

import httpx2
import pydantic
from google.auth import exceptions as google_auth_exceptions
from google.genai import errors as genai_errors

from gemini_proxy.errors import (
    ApiError,
    invalid_request,
    upstream_bad_response,
    upstream_credentials_refused,
    upstream_timeout,
    upstream_unreachable,
)
from gemini_proxy.upstream.errors import upstream_api_error

log = logging.getLogger(__name__)

# Retried before any byte reaches the client; 429 only on another key (keys.py).
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Transport failures before Gemini's response headers where Gemini got no request, or sent no
# answer: the connection could not be opened, or it broke while sending or before the headers.
RETRIED_FAILURES = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.WriteError, httpx2.ReadError,
                    httpx2.RemoteProtocolError)
MAX_RETRY_WAIT = 4.0  # seconds (or UPSTREAM_RETRY_DELAY, if that is longer)

def retryable(exc: BaseException) -> bool:
    """Whether a call that failed this way before Gemini's response headers is tried again."""
    if isinstance(exc, genai_errors.APIError):
        return exc.code in RETRY_STATUSES
    return isinstance(exc, RETRIED_FAILURES)


def retry_wait(retry: int, delay: float, draw: Callable[[], float] = random.random) -> float:
    """Seconds before retry number `retry` (1, 2, ...): between half and all of
    delay x 2^(retry-1), which is at most MAX_RETRY_WAIT (or `delay`, if longer)."""
    full = min(delay * 2 ** (retry - 1), max(delay, MAX_RETRY_WAIT))
    return full * (0.5 + draw() / 2)


def api_error_from(exc: Exception, secrets: tuple[str, ...] = ()) -> ApiError:
    if isinstance(exc, genai_errors.APIError):
        body = exc.details if isinstance(exc.details, dict) else {}
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        details = error.get("details") if isinstance(error.get("details"), list) else []
        code = exc.code if isinstance(exc.code, int) else 500
        status = exc.status if isinstance(exc.status, str) else None
        message = exc.message if isinstance(exc.message, str) else ""
        return upstream_api_error(code, status, message, details, secrets)
    if isinstance(exc, pydantic.ValidationError):
        # Only options passed through verbatim (extra_body.google) can fail the SDK's checks.
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return invalid_request(f"Gemini's SDK refused an option: {where}: {first.get('msg', 'invalid')}.")
    if isinstance(exc, google_auth_exceptions.RefreshError):
        # Vertex AI's access token could not be had (google-auth already retried): the gateway's credentials
        # are at fault, not the client's request. The token endpoint's words go to the log, not to the client.
        log.error("Vertex AI refused the gateway's credentials: %s", exc)
        return upstream_credentials_refused()
    if isinstance(exc, google_auth_exceptions.TransportError):
        return upstream_unreachable("the token endpoint")
    if isinstance(exc, httpx2.ConnectTimeout):  # the connection never opened: unreachable, not slow
        return upstream_unreachable(type(exc).__name__)
    if isinstance(exc, httpx2.TimeoutException):
        return upstream_timeout()
    if isinstance(exc, httpx2.TransportError):
        return upstream_unreachable(type(exc).__name__)
    return upstream_bad_response()


UPSTREAM_FAILURES = (genai_errors.APIError, genai_errors.UnknownApiResponseError, httpx2.HTTPError,
                      pydantic.ValidationError, ValueError, google_auth_exceptions.RefreshError,
                      google_auth_exceptions.TransportError)


@contextmanager
def mapped_errors(secrets: tuple[str, ...] = ()):
    try:
        yield
    except UPSTREAM_FAILURES as exc:
        raise api_error_from(exc, secrets) from exc


def failure_name(exc: BaseException) -> str:
    return str(exc.code) if isinstance(exc, genai_errors.APIError) else type(exc).__name__
