"""Who may call: API keys (AI Studio, Vertex express mode) and OAuth bearer tokens (Vertex project paths),
the /token endpoint that issues those tokens, and the control routes of the token issuer."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from gemini_emulator import errors, vertex
from gemini_emulator.errors import EmulatorError, invalid_argument
from gemini_emulator.oauth import GrantError, TokenIssuer
from gemini_emulator.state import Stats
from gemini_emulator.wire import to_json


def request_key(request: Request) -> str:
    return request.headers.get("x-goog-api-key") or request.args.get("key") or ""


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _json_body(request: Request) -> dict[str, Any]:
    """A control body as sent (a service-account JSON keeps its snake_case keys)."""
    try:
        body = json.loads(request.get_data(cache=False) or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise invalid_argument("Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    return body


class Access:
    def __init__(self, api_keys: tuple[str, ...], tokens: TokenIssuer, stats: Stats) -> None:
        self.api_keys = api_keys
        self.tokens = tokens
        self.stats = stats

    def authenticate(self, request: Request, is_vertex: bool, project_path: bool, lookup: bool) -> None:
        """AI Studio and Vertex express mode: an API key. A Vertex project path: a bearer token /token
        issued (an API key there is refused, as Vertex does). The publisher model list takes either."""
        token = bearer(request)
        if project_path:
            if request_key(request) and not token:
                raise vertex.unauthenticated("API_KEY_SERVICE_BLOCKED", vertex.API_KEY_MESSAGE)
            self._check_token(token)
            return
        if is_vertex and lookup and token:
            self._check_token(token)
            return
        key = request_key(request)
        if not key:
            if is_vertex:
                raise vertex.unauthenticated("CREDENTIALS_MISSING")
            raise errors.api_key_missing()
        if self.api_keys and key not in self.api_keys:
            raise errors.api_key_invalid()
        self.stats.add_key(key)

    def _check_token(self, token: str) -> None:
        if not token:
            raise vertex.unauthenticated("CREDENTIALS_MISSING")
        holder = self.tokens.holder(token)
        if holder is None:
            raise vertex.unauthenticated("ACCESS_TOKEN_EXPIRED")
        self.stats.add_key(holder)  # counted per service account, in requests_by_key

    def token(self, request: Request) -> Response:
        """POST /token: RFC 6749's answer, a token or a 400 {"error", "error_description"}."""
        if request.method != "POST":
            raise EmulatorError(404, f"Method {request.method} not found for {request.path}")
        try:
            body, status = self.tokens.grant(request.form.to_dict()), 200
        except GrantError as refused:
            body, status = refused.body(), 400
        return Response(to_json(body), status=status, content_type="application/json; charset=UTF-8")

    def control(self, name: str, request: Request) -> dict[str, Any] | None:
        """The answer of /emulator/service-accounts or /emulator/oauth; None for other routes."""
        if name == "service-accounts" and request.method == "POST":
            try:
                return {"client_email": self.tokens.register(_json_body(request))}
            except ValueError as exc:
                raise invalid_argument(str(exc)) from None
        if name == "oauth" and request.method in ("GET", "POST"):
            if request.method == "POST":
                lifetime = _json_body(request).get("token_lifetime")
                try:
                    self.tokens.set_lifetime(lifetime if isinstance(lifetime, int) else 0)
                except ValueError as exc:
                    raise invalid_argument(str(exc)) from None
            return self.tokens.snapshot()
        return None
