"""gunicorn settings for gemini-proxy: `gunicorn -c gunicorn.conf.py wsgi:app`.

Threaded (gthread) workers: a streamed answer holds one thread for as long as it lasts. Every
value can be overridden by the environment variable named beside it.

With no GEMINI_API_KEY (and no GEMINI_BASE_URL) the built-in Gemini emulator is started
beside the server and stopped with it, so this one command serves a working gateway.

Logs: one JSON object per line on stderr, gunicorn's own included. The app writes a request
log line per request (request id, key name, model, tokens, duration), so gunicorn's access log
is off unless ACCESS_LOG is set (to any value, e.g. "-").

SIGHUP runs this file again (a new module), so nothing that must outlive a reload is kept in
it: the emulator process and the metrics folder it made are kept on the arbiter (`server`),
which on_exit stops and removes.
"""
import os
import shutil
import tempfile

from dotenv import load_dotenv
from gunicorn import glogging

load_dotenv()

from gemini_proxy.config import Settings  # noqa: E402  (after .env is loaded)
from gemini_proxy.observability.logs import redact_access_atoms  # noqa: E402
from gemini_emulator.process import start_process, stop_process  # noqa: E402

bind = os.environ.get("BIND", "127.0.0.1:8000").split(",")
# gunicorn's gthread worker, plus: on SIGTERM new connections are refused and /readyz answers
# 503 at once, answers still open near the end of the graceful timeout are ended with an error,
# requests must arrive within REQUEST_READ_TIMEOUT, and gunicorn's own errors are JSON
# (gemini_proxy/worker.py says why).
worker_class = "gemini_proxy.server.worker.GatewayWorker"
# Two worker processes per CPU of the 2-CPU machine measured in BENCHMARKS.md: each has its own
# GIL, so four keep both CPUs busy where two left gaps (about +20% throughput; 1000 concurrent
# streams' first tokens p99 954 -> 650 ms), at about 90 MB per worker.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# A stream holds a thread for as long as it lasts, and a worker queues what its threads cannot
# take yet; workers race to accept connections and a busy one can win more than its share.
# 512 threads each keep 1000 concurrent streams flowing however unevenly they land (measured:
# with 2 x 256 threads, 1000 streams waited up to 3-6 s for their first token). Threads are
# started only as connections need them.
threads = int(os.environ.get("GUNICORN_THREADS", "512"))
# Connections a worker keeps open at once (streams in threads plus idle keep-alive ones).
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
# gthread workers heartbeat from their main loop, so this does not cut long streams short:
# it only reaps a worker whose main loop is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM, in-flight requests (streams included) get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "120"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn's runtime control socket is one fixed path per user: several servers on one
# machine would fight over it. Opt in by naming a path.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
accesslog = os.environ.get("ACCESS_LOG") or None
access_log_format = os.environ.get(
    "ACCESS_LOG_FORMAT", '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s')
errorlog = "-"


class _Logger(glogging.Logger):
    """gunicorn's logger, except that access lines are written (and their fields built) only when
    ACCESS_LOG asks for them: with a logging config (below) gunicorn would write them all, and the
    app's request log says more. Their fields carry no credentials."""

    def _compute_access_log_enabled(self):
        return bool(self.cfg.accesslog)

    def atoms(self, resp, req, environ, request_time):
        # A client may put its key in the URL (?key=...): never into the log.
        return redact_access_atoms(super().atoms(resp, req, environ, request_time))


logger_class = _Logger
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "gemini_proxy.observability.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def on_starting(server):
    # Workers write their metrics here and /metrics adds them up. Set before any worker starts
    # (prometheus_client reads the variable when it is imported).
    server.gemini_proxy_metrics_dir = None
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        server.gemini_proxy_metrics_dir = tempfile.mkdtemp(prefix="gemini-proxy-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = server.gemini_proxy_metrics_dir
    server.gemini_proxy_emulator = None
    settings = Settings.from_env()
    if settings.uses_emulator:
        server.log.warning("No GEMINI_API_KEY: starting the built-in Gemini emulator on 127.0.0.1:%s; "
                           "answers come from it, not from Google.", settings.emulator_port)
        server.gemini_proxy_emulator = start_process(settings.emulator_port, ttft=settings.emulator_ttft,
                                                     tokens_per_second=settings.emulator_tokens_per_second)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    emulator, server.gemini_proxy_emulator = getattr(server, "gemini_proxy_emulator", None), None
    if emulator is not None:
        stop_process(emulator)
    metrics_dir, server.gemini_proxy_metrics_dir = getattr(server, "gemini_proxy_metrics_dir", None), None
    if metrics_dir:
        shutil.rmtree(metrics_dir, ignore_errors=True)
