"""gunicorn settings for gemini-proxy: `gunicorn -c gunicorn.conf.py wsgi:app`.

Threaded (gthread) workers: a streamed answer holds one thread for as long as it lasts. Every
value comes from gemini_proxy.config (ServerSettings, and Settings for the log level, the
metrics folder and the emulator), parsed and validated there: a bad value stops the start with
one line naming the variable. docs/configuration.md lists them all.

With no GEMINI_API_KEY (nor GEMINI_API_KEYS, nor GEMINI_BASE_URL) the built-in Gemini emulator
is started beside the server and stopped with it, so this one command serves a working gateway; with
REQUIRE_GEMINI_KEY=true that is a start-up error instead, and so is an emulator port that is
already taken (by another gateway's emulator, say).

Logs: one JSON object per line on stderr, gunicorn's own included. The app writes a request
log line per request (request id, key name, model, tokens, duration), so gunicorn's access log
is off unless ACCESS_LOG is set (to any value, e.g. "-").

SIGHUP runs this file again (a new module), so nothing that must outlive a reload is kept in
it: the emulator process and the metrics folder it made are kept on the arbiter (`server`),
which on_exit stops and removes.
"""
import os
import shutil
import sys
import tempfile

from dotenv import load_dotenv
from gunicorn import glogging

load_dotenv()

from gemini_emulator.process import EmulatorPortTaken, EmulatorStartError, start_process, stop_process  # noqa: E402
from gemini_proxy.config import ServerSettings, Settings, SettingsError  # noqa: E402  (after .env is loaded)
from gemini_proxy.observability.logs import redact_access_atoms  # noqa: E402

try:
    gateway_settings, server_settings = Settings.from_env(), ServerSettings.from_env()
except SettingsError as exc:
    # One line that says what to fix, before anything starts (gunicorn would print a traceback).
    sys.exit(f"gemini-proxy cannot start: {exc}")

bind = list(server_settings.bind)
# gunicorn's gthread worker, plus: on SIGTERM new connections are refused and /readyz answers
# 503 at once, answers still open near the end of the graceful timeout are ended with an error,
# requests must arrive within REQUEST_READ_TIMEOUT, and gunicorn's own errors are JSON
# (gemini_proxy/server/worker.py says why).
worker_class = "gemini_proxy.server.worker.GatewayWorker"
workers = server_settings.workers
threads = server_settings.threads
worker_connections = server_settings.worker_connections
timeout = server_settings.timeout
graceful_timeout = server_settings.graceful_timeout
keepalive = server_settings.keepalive
forwarded_allow_ips = server_settings.forwarded_allow_ips
control_socket = server_settings.control_socket or ""
control_socket_disable = not control_socket
accesslog = server_settings.access_log
access_log_format = server_settings.access_log_format
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
loglevel = gateway_settings.log_level
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
    server.gemini_proxy_emulator = None
    server.gemini_proxy_metrics_dir = None
    # Workers write their metrics here and /metrics adds them up. Set before any worker starts
    # (prometheus_client reads the variable when it is imported). Empty counts as unset: with an
    # empty value each worker would write its metrics into the working directory and /metrics
    # would report only the numbers of the worker that answered it.
    if gateway_settings.metrics_dir is None:
        server.gemini_proxy_metrics_dir = tempfile.mkdtemp(prefix="gemini-proxy-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = server.gemini_proxy_metrics_dir
    elif not os.path.isdir(gateway_settings.metrics_dir):
        raise RuntimeError(f"PROMETHEUS_MULTIPROC_DIR={gateway_settings.metrics_dir!r} is not a folder")
    if gateway_settings.uses_emulator:
        server.log.warning("No GEMINI_API_KEY (nor GEMINI_API_KEYS): starting the built-in Gemini emulator on "
                           "127.0.0.1:%s; answers come from it, not from Google.", gateway_settings.emulator_port)
        try:
            server.gemini_proxy_emulator = start_process(
                gateway_settings.emulator_port, ttft=gateway_settings.emulator_ttft,
                tokens_per_second=gateway_settings.emulator_tokens_per_second)
        except EmulatorStartError as exc:
            on_exit(server)  # gunicorn does not call it when starting fails
            port = gateway_settings.emulator_port
            message = f"EMULATOR_PORT={port}: the built-in Gemini emulator cannot start: {exc}"
            if isinstance(exc, EmulatorPortTaken):
                # Started anyway, this gateway would be answered by whatever holds the port
                # (another gateway's emulator, say), and by nothing once that stops.
                message += (". Give each gateway without GEMINI_API_KEY its own EMULATOR_PORT (or set GEMINI_API_KEY "
                            "or GEMINI_API_KEYS).")
            raise RuntimeError(message) from exc


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
