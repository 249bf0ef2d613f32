"""The gateway's own errors in Gemini's envelope (web/errors.py gemini_body): Google's canonical
status for each HTTP status, and Gemini's own object when the error carries one."""
import pytest

from gemini_proxy.errors import ApiError, missing_client_key, wrong_client_key
from gemini_proxy.web.errors import gemini_body


@pytest.mark.parametrize("status, canonical", [
    (400, "INVALID_ARGUMENT"), (401, "UNAUTHENTICATED"), (403, "PERMISSION_DENIED"), (404, "NOT_FOUND"),
    (405, "UNIMPLEMENTED"), (413, "INVALID_ARGUMENT"), (418, "FAILED_PRECONDITION"), (429, "RESOURCE_EXHAUSTED"),
    (500, "INTERNAL"), (502, "UNAVAILABLE"), (503, "UNAVAILABLE"), (504, "DEADLINE_EXCEEDED"), (599, "INTERNAL"),
])
def test_the_gateway_s_errors_take_google_s_canonical_status(status, canonical):
    assert gemini_body(ApiError(status, "Something.")) == {"error": {"code": status, "message": "Something.",
                                                                     "status": canonical}}


def test_client_key_errors_are_gemini_s_own_words():
    assert gemini_body(missing_client_key())["error"]["code"] == 403
    assert gemini_body(missing_client_key())["error"]["status"] == "PERMISSION_DENIED"
    wrong = gemini_body(wrong_client_key())["error"]
    assert (wrong["code"], wrong["status"], wrong["details"][0]["reason"]) == (400, "INVALID_ARGUMENT",
                                                                            "API_KEY_INVALID")
    # OpenAI's routes keep OpenAI's 401 for both.
    assert missing_client_key().status == wrong_client_key().status == 401
