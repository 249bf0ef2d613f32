"""Operations: /healthz (the process is alive), /readyz (Gemini answers with our keys, and some
key is usable: "keys": {"usable", "total"}; it names the upstream it asked: `emulator`,
`google` or GEMINI_BASE_URL's host),
/metrics (Prometheus, every gunicorn worker added up; METRICS_TOKEN protects it)."""
from __future__ import annotations

from flask import Blueprint, Response, request

from gemini_proxy.access.keys import check_metrics_token
from gemini_proxy.observability.readiness import DRAINING
from gemini_proxy.services import current_services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    if request.environ.get(DRAINING):
        return {"status": "unavailable", "reason": "draining: the server is shutting down"}, 503
    readiness = current_services().readiness
    keys = readiness.keys()
    ready, reason = readiness.check(keys)
    return {"status": "ready" if ready else "unavailable", "upstream": readiness.upstream_name,
            "reason": reason, "keys": keys}, 200 if ready else 503


@bp.get("/metrics")
def metrics():
    services = current_services()
    check_metrics_token(request.headers, services.settings.metrics_token)
    collected = services.telemetry.metrics
    return Response(collected.exposition(), mimetype=collected.content_type)
