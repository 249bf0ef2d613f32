"""Operations: /healthz (the process is alive), /readyz (Gemini answers with our key),
/metrics (Prometheus, every gunicorn worker added up)."""
from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST

from . import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    ready, reason = services().readiness.check()
    return {"status": "ready" if ready else "unavailable", "reason": reason}, 200 if ready else 503


@bp.get("/metrics")
def metrics():
    return Response(services().telemetry.metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)
