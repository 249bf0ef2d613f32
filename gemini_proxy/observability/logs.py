"""One JSON object per log line, for the app and for gunicorn alike."""
from __future__ import annotations

import logging
import re
import sys
import time

from gemini_proxy.encoding import json_text

APP_LOGGER = "gemini_proxy"

REDACTED = "[REDACTED]"
# Query parameters that carry credentials (Google's own ?key=, ?api_key=, access tokens, ...):
# clients put keys in URLs, and URLs end up in logs.
_SECRET_PARAM = re.compile(
    r"(?i)((?:^|[?&;])[^=&;#\s]*(?:key|token|secret|passw|pwd|auth|signature|credential)[^=&;#\s]*=)[^&;#\s\"']*")
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key",
                             "cookie"})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json_text(line)


def configure(level: str) -> None:
    """Points the app's loggers at stderr in JSON (idempotent: tests build many apps)."""
    logger = logging.getLogger(APP_LOGGER)
    logger.setLevel(level.upper())
    logger.propagate = False
    for handler in [h for h in logger.handlers if getattr(h, "gemini_proxy", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.gemini_proxy = True
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)


def redact_secrets(text: str) -> str:
    """`text` (a URL, a query string, a request line) with the values of credential-looking query
    parameters replaced."""
    return _SECRET_PARAM.sub(lambda match: match.group(1) + REDACTED, text)


def redact_access_atoms(atoms: dict) -> dict:
    """gunicorn's access-log fields without credentials: secret headers (`%({authorization}i)s`,
    `%({http_x_api_key}e)s`) blanked, secret query parameters taken out of everything else."""
    clean = {}
    for name, value in atoms.items():
        header = name[1:-2].lower().removeprefix("http_").replace("_", "-") if name.startswith("{") else ""
        if header in _SECRET_HEADERS:
            clean[name] = REDACTED
        else:
            clean[name] = redact_secrets(value) if isinstance(value, str) else value
    return clean
