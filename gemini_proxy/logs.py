"""One JSON object per log line, for the app and for gunicorn alike."""
from __future__ import annotations

import json
import logging
import sys
import time

APP_LOGGER = "gemini_proxy"


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
        return json.dumps(line, ensure_ascii=False, default=str)


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
