"""Operations: /healthz (the process is alive), /readyz (Gemini answers with our key),
/metrics (Prometheus, every gunicorn worker added up; METRICS_TOKEN protects it)."""
from __future__ import annotations

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST

from ..auth import check_metrics_token
from ..readiness import DRAINING
from . import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    if request.environ.get(DRAINING):
        return {"status": "unavailable", "reason": "draining: the server is shutting down"}, 503
    ready, reason = services().readiness.check()
    return {"status": "ready" if ready else "unavailable", "reason": reason}, 200 if ready else 503


@bp.get("/metrics")
def metrics():
    app = services()
    check_metrics_token(request.headers, app.settings.metrics_token)
    return Response(app.telemetry.metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)
