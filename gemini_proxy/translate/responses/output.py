"""A whole Gemini answer -> a Response object.

The answer goes through the stream's own state machine (events.py) as one chunk, so a
Response is item for item what the stream of the same answer ends with: one layout rule, not
two that could drift apart.
"""
from __future__ import annotations

from gemini_proxy.errors import ApiError
from gemini_proxy.translate.responses.context import ResponseContext
from gemini_proxy.translate.responses.events import ResponseStream


def response_from_gemini(answer: dict, context: ResponseContext) -> tuple[dict, dict[str, str]]:
    """The Response for `answer` (an SDK-named GenerateContentResponse) and the thought
    signatures to store (call_id -> signature). An answer that ended with nothing to show and
    no ordinary reason (MALFORMED_FUNCTION_CALL, OTHER...) is Gemini's failure, not an empty
    success: ApiError 502, as OpenAI answers a failed generation."""
    stream = ResponseStream(context)
    # No start(): its two in-progress Responses are events only, and nothing is streamed here.
    stream.events_from(answer)
    stream.close()
    response = stream.response
    if response["status"] == "failed":
        raise ApiError(502, response["error"]["message"], "server_error", None, "server_error",
                       upstream=stream.finish_reason)
    return response, stream.take_signatures()
