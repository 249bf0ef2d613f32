"""The key that tags the Gemini state stateless clients carry in reasoning.encrypted_content.

Every worker (and every machine behind one address) must hold the same key, or a blob made by
one is refused by the next and Gemini 3 loses the turn's thought signatures. So it comes from
RESPONSES_SECRET when set; else from Redis when REDIS_URL is set (the first worker to start
writes one there, the others read it); else from a file beside RESPONSES_DB (written once,
readable by its owner only); else, memory only, it is made per process.
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

import redis

from gemini_proxy.config import Settings

log = logging.getLogger(__name__)

FILE_NAME = "responses.secret"
REDIS_KEY = "gemini-proxy:responses-secret"
# The secret is material, not the key: the key is derived for this one use.
_PURPOSE = b"gemini-proxy reasoning.encrypted_content v1\0"


def derived_key(secret: str) -> bytes:
    return hashlib.sha256(_PURPOSE + secret.encode()).digest()


def _from_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of the workers starting together, one writes; the others read what it wrote.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            text = path.read_text().strip()
            if text:
                return text
            os.sched_yield()
        raise RuntimeError(f"{path} is empty: remove it (a new secret is made) or set RESPONSES_SECRET") from None
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _from_redis(url: str) -> str:
    client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        client.set(REDIS_KEY, secrets.token_urlsafe(32), nx=True)
        return client.get(REDIS_KEY).decode()
    finally:
        client.close()


def carrier_key(settings: Settings) -> bytes:
    """The HMAC key of reasoning.encrypted_content blobs (see the module's docstring)."""
    if settings.responses_secret:
        return derived_key(settings.responses_secret)
    if settings.redis_url:
        try:
            return derived_key(_from_redis(settings.redis_url))
        except redis.RedisError as exc:
            log.error("RESPONSES_SECRET is unset and Redis cannot be reached (%s): using a secret of this "
                      "worker's own, so encrypted_content made by other workers is not read here",
                      type(exc).__name__)
            return derived_key(secrets.token_urlsafe(32))
    if settings.responses_db:
        return derived_key(_from_file(Path(settings.responses_db).parent / FILE_NAME))
    return derived_key(secrets.token_urlsafe(32))
