"""gunicorn settings for gemini-proxy: `gunicorn -c gunicorn.conf.py wsgi:app`.

Threaded (gthread) workers: a streamed answer holds one thread for as long as it lasts. Every
value can be overridden by the environment variable named beside it.

With no GEMINI_API_KEY (and no GEMINI_BASE_URL) the built-in Gemini emulator is started
beside the server and stopped with it, so this one command serves a working gateway.
"""
import os

from dotenv import load_dotenv

load_dotenv()

from gemini_proxy.config import Settings  # noqa: E402  (after .env is loaded)
from gemini_proxy.emulator.process import start_process, stop_process  # noqa: E402

bind = os.environ.get("BIND", "127.0.0.1:8000").split(",")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Workers race to accept connections and a busy one can win more than its share: a worker
# queues what its threads cannot take yet. 256 threads each (512 in all) keep 256 concurrent
# streams flowing however unevenly they land (measured: 128 each made a quarter of them wait).
threads = int(os.environ.get("GUNICORN_THREADS", "256"))
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
accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

_emulator = {}


def on_starting(server):
    settings = Settings.from_env()
    if settings.uses_emulator:
        server.log.warning("No GEMINI_API_KEY: starting the built-in Gemini emulator on 127.0.0.1:%s; "
                           "answers come from it, not from Google.", settings.emulator_port)
        _emulator["process"] = start_process(settings.emulator_port, ttft=settings.emulator_ttft,
                                             tokens_per_second=settings.emulator_tokens_per_second)


def on_exit(server):
    if "process" in _emulator:
        stop_process(_emulator.pop("process"))
