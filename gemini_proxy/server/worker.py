"""gunicorn's threaded (gthread) worker, with what a gateway of long streams needs from it.

Draining. gunicorn's worker keeps its copies of the listening sockets open until its drain
ends, so after SIGTERM the kernel went on accepting connections that nobody answered (through
nginx: 11-16 s, then a 503). This worker closes its copies as soon as SIGTERM arrives: once
every process has (the arbiter closes its own first), new connections are refused at once. A
request still read on a kept-alive connection is answered, with `Connection: close` as gunicorn
does, and carries DRAINING in its environ, so /readyz answers 503. On a SIGHUP reload the
arbiter and the new workers keep the sockets open: nothing is refused then.

Ending in time. When the graceful timeout is over the arbiter kills the worker, which cut
streams short with no error event and no log line. A little before that (cut_margin), the
worker's main thread ends every answer still open: a stream gets the end its framing calls for
(web/sse.py's STREAM_END: a chat stream an error event and [DONE], a Responses stream its
response.failed event), a request whose answer has not started gets a 503; each is logged. The main thread does it
because the thread serving the request may be blocked on Gemini's next chunk; a worker left
with such threads exits without waiting for them.

Slow clients: a thread takes a request only once it has arrived, within REQUEST_READ_TIMEOUT
(arrival.py). gunicorn's own error answers are OpenAI's JSON envelope (server/errors.py).

This module is imported by the arbiter too (gunicorn loads the worker class there): it must
not import prometheus_client, which the workers import only once PROMETHEUS_MULTIPROC_DIR is set.
"""
from __future__ import annotations

import contextlib
import errno
import gc
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus

from gunicorn import util
from gunicorn.http.wsgi import Response as GunicornResponse
from gunicorn.http.wsgi import default_environ
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import _DEFER, ThreadWorker

from gemini_proxy.config import ServerSettings
from gemini_proxy.errors import ApiError
from gemini_proxy.observability.logs import redact_secrets
from gemini_proxy.observability.readiness import DRAINING
from gemini_proxy.server.arrival import FIRST_BYTES_WAIT, SWEEP_SECONDS, Connection
from gemini_proxy.server.errors import error_for, raw_response
from gemini_proxy.web.sse import STREAM_END, chat_end

log = logging.getLogger("gemini_proxy.server.worker")

# The main thread never waits longer than this on one client while ending answers.
_WRITE_TIMEOUT = 0.5


def shutting_down() -> ApiError:
    """What a request or stream still open near the end of the graceful timeout is told."""
    return ApiError(503, "The server is shutting down and ended this answer before it was complete. "
                         "Please retry the request.", "service_unavailable_error", None, "server_shutting_down",
                    {"Retry-After": "1"})


def cut_margin(graceful_timeout: float) -> float:
    """How long before the graceful timeout ends open answers are ended: enough for their
    threads to finish and the worker to exit before the arbiter kills it."""
    return min(5.0, graceful_timeout / 4)


class _Exchange:
    """One request being answered, as the main thread may have to end it. The serving thread
    holds `lock` whenever it may write to the client (from start_response on, except while it
    waits for the app's next item), so the main thread never writes in the middle of its writes."""

    def __init__(self, environ: dict, start_response):
        self.lock = threading.Lock()
        self.holding = False  # touched by the serving thread only
        self.sock = environ.get("gunicorn.socket")
        self.environ = environ
        self.response = getattr(start_response, "__self__", None)
        self.method, self.path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        self.request_id = environ.get("HTTP_X_REQUEST_ID")
        self.opened = time.monotonic()
        self.started = self.stream = self.ended = False

    def hold(self) -> None:
        if not self.holding:
            self.lock.acquire()
            self.holding = True

    def let_go(self) -> None:
        if self.holding:
            self.holding = False
            self.lock.release()

    def begin(self, headers: list[tuple[str, str]]) -> None:
        self.hold()
        self.started = True
        for name, value in headers:
            header = name.lower()
            if header == "content-type":
                self.stream = value.startswith("text/event-stream")
            elif header == "x-request-id":
                self.request_id = value


class _Body:
    """The app's response iterable; lets go of the exchange's lock while the app (a stream
    waiting for Gemini) produces the next item."""

    def __init__(self, body, exchange: _Exchange, done):
        self._body, self._items, self._exchange, self._done = body, iter(body), exchange, done

    def __iter__(self):
        return self

    def __next__(self):
        self._exchange.let_go()
        try:
            return next(self._items)
        finally:
            self._exchange.hold()

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._exchange.let_go()
            self._done(self._exchange)


@dataclass(frozen=True)
class _Drain:
    cut_at: float  # open answers are ended from then on
    exit_at: float  # the worker exits then, whatever threads are left

    @classmethod
    def starting(cls, now: float, graceful_timeout: float) -> _Drain:
        margin = cut_margin(graceful_timeout)
        return cls(now + graceful_timeout - margin, now + graceful_timeout - margin / 2)

    def wait(self, now: float) -> float:
        """Seconds until the next thing to do."""
        if now < self.cut_at:
            return self.cut_at - now
        return min(0.1, self.exit_at - now) if now < self.exit_at else 0.1


class GatewayWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read_timeout = 0.0
        self._local = threading.local()
        self._exchanges: set[_Exchange] = set()
        self._exchanges_lock = threading.Lock()
        self._drain: _Drain | None = None
        self._next_sweep = 0.0

    def init_process(self):
        self.read_timeout = ServerSettings.from_env().request_read_timeout
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        self.wsgi = self._serving(self.wsgi)
        # The app's objects (the SDK's types, the schemas, the OpenAPI document: about 150,000) live
        # as long as the worker: out of the collector's sight, its full collections stop walking
        # them (50 us a request on average, in pauses of 150 ms every few thousand requests).
        gc.freeze()

    def accept(self, listener):
        """gunicorn's accept(), making connections whose requests must arrive in time."""
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            self.enqueue_req(Connection(self.cfg, client_sock, client_addr, listener.getsockname(), self.read_timeout))
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle(self, conn):
        """A thread takes a connection only once its request has arrived (as gunicorn's threads
        read a request until it is whole, a client sending a byte now and then held one for
        ever); one that is still arriving goes back to the poller until more comes."""
        if isinstance(conn, Connection) and conn.read_timeout:
            if not conn.reading:
                conn.next_request()  # a kept-alive connection's next request gets its own time
            if self._waits_for_arrival(conn) and not self._arrived(conn):
                return _DEFER
        self._local.conn = conn
        try:
            return super().handle(conn)
        finally:
            self._local.conn = None

    def _waits_for_arrival(self, conn: Connection) -> bool:
        # TLS and HTTP/2 read their own way: a thread reads those requests, within the deadline.
        return not (self.cfg.is_ssl or conn.is_http2 or negotiation.prior_knowledge_allowed(self.cfg, conn.client))

    @staticmethod
    def _arrived(conn: Connection) -> bool:
        arrived = conn.arrived()
        if arrived is None and not conn.data_ready:  # a new connection: its request is on its way
            if not conn.wait_for_data(FIRST_BYTES_WAIT):
                return False
            arrived = conn.arrived()
        # Past its deadline the parser's first read answers 408.
        return bool(arrived) or (conn.deadline is not None and time.monotonic() >= conn.deadline)

    def murder_pending(self):
        """gunicorn's, and: a request still arriving when its time is up gets a 408 and is closed."""
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        late = [conn for conn in self.pending_conns
                if isinstance(conn, Connection) and conn.deadline is not None and now >= conn.deadline]
        for conn in late:
            self.pending_conns.remove(conn)
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            with contextlib.suppress(OSError):
                util.write_nonblock(conn.sock, raw_response(error_for(conn.timed_out())))
            conn.close()

    def _serving(self, app):
        def serve(environ, start_response):
            environ[DRAINING] = self._drain is not None
            exchange = _Exchange(environ, start_response)
            conn = getattr(self._local, "conn", None)

            def start(status, headers, exc_info=None):
                if isinstance(conn, Connection):
                    conn.answered()
                    if conn.expired and exchange.response is not None:
                        exchange.response.force_close()  # the rest of the body may still be on its way
                exchange.begin(headers)
                return start_response(status, headers, exc_info)

            with self._exchanges_lock:
                self._exchanges.add(exchange)
            try:
                body = app(environ, start)
            except BaseException:
                self._finished(exchange)
                raise
            if isinstance(body, environ.get("wsgi.file_wrapper", ())):
                self._finished(exchange)  # files are sent whole (sendfile), not cut
                return body
            return _Body(body, exchange, self._finished)
        return serve

    def _finished(self, exchange: _Exchange) -> None:
        exchange.let_go()
        with self._exchanges_lock:
            self._exchanges.discard(exchange)

    def handle_exit(self, sig, frame):
        if self._drain is None:
            self._drain = _Drain.starting(time.monotonic(), self.cfg.graceful_timeout)
            self.method_queue.defer(self._stop_listening)
        super().handle_exit(sig, frame)

    def _stop_listening(self) -> None:
        """Closes this worker's copies of the listening sockets: once the arbiter and the other
        workers have too, the kernel refuses new connections instead of queueing them unanswered."""
        self.set_accept_enabled(False)
        for listener in self.sockets:
            listener.close()
        self.log.info("Draining: no longer listening; open requests get %ss to finish", self.cfg.graceful_timeout)

    def wait_for_and_dispatch_events(self, timeout):
        drain = self._drain
        if drain is not None:
            timeout = min(timeout, drain.wait(time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)
        if drain is not None:
            self._drain_step(drain, time.monotonic())

    def _drain_step(self, drain: _Drain, now: float) -> None:
        if now < drain.cut_at:
            return
        with self._exchanges_lock:
            open_exchanges = [e for e in self._exchanges if not e.ended]
        hard = now >= drain.exit_at
        for exchange in open_exchanges:
            self._end(exchange, now, hard)
        if hard:
            with self._exchanges_lock:
                left = len(self._exchanges)
            if left:
                # Their threads wait on Gemini (or on a client) and would keep the process
                # alive until the arbiter kills it; their answers are already ended.
                log.warning("worker exiting with %d request threads still busy; their answers were ended", left)
                logging.shutdown()
                os._exit(0)

    def _end(self, exchange: _Exchange, now: float, hard: bool) -> None:
        """Ends an answer from the main thread: a stream with the end its framing calls for, an
        answer not started yet with a 503; then closes the connection. `hard`: whatever it is doing."""
        locked = exchange.lock.acquire(blocking=False)
        if not hard and (not locked or (exchange.started and not exchange.stream)):
            if locked:  # a plain answer being sent: it ends on its own
                exchange.lock.release()
            return  # or the serving thread is writing: next time
        if not locked or (exchange.started and not exchange.stream):
            how = "connection closed"
        else:
            how = "error event" if exchange.started else "503"
        exchange.ended = True
        try:
            exchange.sock.settimeout(_WRITE_TIMEOUT)
            if how == "503":
                exchange.sock.sendall(raw_response(shutting_down()))
            elif how == "error event" and isinstance(exchange.response, GunicornResponse):
                end = exchange.environ.get(STREAM_END, chat_end)
                exchange.response.write(end(shutting_down()))
                exchange.response.close()
        except (OSError, ValueError, AttributeError):
            how += " (client not reachable)"
        finally:
            with contextlib.suppress(OSError, AttributeError):
                exchange.sock.shutdown(socket.SHUT_RDWR)  # the serving thread's later writes fail quietly (EPIPE)
            if locked:
                exchange.lock.release()
        log.warning("answer ended by shutdown", extra={"fields": {
            "request_id": exchange.request_id, "method": exchange.method, "path": exchange.path,
            "ended_with": how, "open_seconds": round(now - exchange.opened, 1)}})

    def handle_error(self, req, client, addr, exc):
        """gunicorn's handle_error, answering in OpenAI's JSON envelope (and logging no URL
        unredacted: a client may have put a key in it)."""
        addr = addr or ("", -1)
        error = error_for(exc)
        if error is not None:
            self.log.warning("Invalid request from ip=%s: %s", addr[0], redact_secrets(str(exc))[:300])
        else:
            self.log.exception("Error handling request %s", redact_secrets(getattr(req, "path", "") or ""))
            error = ApiError(500, "The server had an error while processing your request.", "server_error")
        answer = raw_response(error)
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            resp = GunicornResponse(req, client, self.cfg)
            resp.status = f"{error.status} {HTTPStatus(error.status).phrase}"
            resp.response_length = len(answer)
            self.log.access(resp, req, environ, timedelta(0))
        try:
            util.write_nonblock(client, answer)
        except Exception:
            self.log.debug("Failed to send error message.")
