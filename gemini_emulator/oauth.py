"""Vertex AI's credentials, offline: a loopback OAuth2 token endpoint and the bearer tokens it issues.

`POST /token` takes the JWT-bearer grant google-auth sends for a service account
(grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT>): the JWT's `iss` must be a
service account registered with the emulator (EmulatorConfig.service_account_keys, `--service-account-key
FILE`, or `POST /emulator/service-accounts` with the JSON), its signature must verify against that account's
public key, its `aud` must be Google's token URI (google-auth keeps it even when token_uri points elsewhere)
and `exp` must lie ahead. The answer is {"access_token", "expires_in", "token_type": "Bearer"}; failures are
RFC 6749 bodies ({"error": "invalid_grant", "error_description"}), which google-auth turns into RefreshError.

Tokens live `token_lifetime` seconds (settable per app: a lifetime under google-auth's refresh margin of
3 min 45 s makes every call fetch a new one). Signature checks use `cryptography`, which google-auth itself
requires; it is imported only when a service account is registered.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
MAX_TOKENS = 10_000  # issued tokens remembered (then the oldest are forgotten)


class GrantError(Exception):
    """A refused token request: rendered as RFC 6749's {"error", "error_description"} with a 400."""

    def __init__(self, description: str, error: str = "invalid_grant") -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def public_key_of(info: dict[str, Any]) -> Any:
    """The public half of a service-account JSON's `private_key` (ValueError if it has none)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = info.get("private_key")
    if not isinstance(pem, str) or not isinstance(info.get("client_email"), str):
        raise ValueError("a service-account JSON needs client_email and private_key")
    return load_pem_private_key(pem.encode(), password=None).public_key()


def _verify_rs256(public_key: Any, signed: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


@dataclass
class TokenIssuer:
    """The registered service accounts and the access tokens issued to them (lock-guarded)."""

    token_lifetime: int = 3600
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _accounts: dict[str, Any] = field(default_factory=dict)  # client_email -> public key
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (email, expiry)
    issued: int = 0

    def register(self, info: dict[str, Any]) -> str:
        key = public_key_of(info)
        with self._lock:
            self._accounts[info["client_email"]] = key
        return info["client_email"]

    def set_lifetime(self, seconds: int) -> None:
        if seconds < 1:
            raise ValueError("token_lifetime must be >= 1")
        with self._lock:
            self.token_lifetime = seconds

    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        """The token answer for a JWT-bearer grant; GrantError when it is refused."""
        if form.get("grant_type") != GRANT_TYPE:
            raise GrantError(f"Unsupported grant_type; expected {GRANT_TYPE}", "unsupported_grant_type")
        claims = self._verified_claims(form.get("assertion", ""))
        token = "ya29.emulator-" + secrets.token_urlsafe(24)
        with self._lock:
            lifetime = self.token_lifetime
            if len(self._tokens) >= MAX_TOKENS:
                self._tokens.pop(next(iter(self._tokens)))
            self._tokens[token] = (claims["iss"], time.time() + lifetime)
            self.issued += 1
        return {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}

    def _verified_claims(self, assertion: str) -> dict[str, Any]:
        try:
            header_part, claims_part, signature_part = assertion.split(".")
            header = json.loads(_b64decode(header_part))
            claims = json.loads(_b64decode(claims_part))
            signature = _b64decode(signature_part)
        except (ValueError, UnicodeDecodeError):
            raise GrantError("Invalid JWT: the assertion is not a signed JWT.") from None
        if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
            raise GrantError("Invalid JWT: only RS256-signed assertions are accepted.")
        with self._lock:
            key = self._accounts.get(claims.get("iss"))
        if key is None:
            raise GrantError("Invalid JWT Signature.")  # what Google answers for an unknown or deleted key
        if not _verify_rs256(key, f"{header_part}.{claims_part}".encode(), signature):
            raise GrantError("Invalid JWT Signature.")
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            raise GrantError(f"Invalid JWT: audience must be {GOOGLE_TOKEN_AUDIENCE}.")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp < time.time():
            raise GrantError("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                             "timeframe. Check your iat and exp values in the JWT claim.")
        return claims

    def holder(self, token: str) -> str | None:
        """The service account a live token was issued to; None for an unknown or expired token."""
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"tokens_issued": self.issued, "token_lifetime": self.token_lifetime,
                    "service_accounts": sorted(self._accounts)}
