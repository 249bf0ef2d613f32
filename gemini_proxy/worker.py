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
worker's main thread ends every answer still open: a stream gets an error event and [DONE], a
request whose answer has not started gets a 503; each is logged. The main thread does it
because the thread serving the request may be blocked on Gemini's next chunk; a worker left
with such threads exits without waiting for them.

Slow clients. gunicorn bounds the wait for a request's first byte, not for the rest: a client
sending a byte now and then held a thread for ever. Here the whole request (line, headers,
body) must arrive within REQUEST_READ_TIMEOUT, else 408.

gunicorn's own error answers (bad request line, headers too large, ...) are OpenAI's JSON
envelope instead of an HTML page.

This module is imported by the arbiter too (gunicorn loads the worker class there): it must
not import prometheus_client, which the workers import only once PROMETHEUS_MULTIPROC_DIR is set.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.http.unreader import SocketUnreader
from gunicorn.http.wsgi import Response as GunicornResponse, default_environ
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import _DEFER, DEFAULT_WORKER_DATA_TIMEOUT, TConn, ThreadWorker
from werkzeug.exceptions import RequestTimeout

from .config import Settings
from .errors import ApiError
from .logs import redact_secrets
from .readiness import DRAINING
from .sse import DONE, event

log = logging.getLogger("gemini_proxy.worker")

# The main thread never waits longer than this on one client while ending answers.
_WRITE_TIMEOUT = 0.5
SHUTTING_DOWN = ApiError(503, "The server is shutting down and ended this answer before it was complete. "
                              "Please retry the request.", "service_unavailable_error", None, "server_shutting_down",
                         {"Retry-After": "1"})


def cut_margin(graceful_timeout: float) -> float:
    """How long before the graceful timeout ends open answers are ended: enough for their
    threads to finish and the worker to exit before the arbiter kills it."""
    return min(5.0, graceful_timeout / 4)


class RequestReadTimeout(RequestTimeout):
    """The client took longer than REQUEST_READ_TIMEOUT to send its request. An HTTPException, so
    that raised while the app reads the body it becomes the app's own 408."""


# gunicorn's parse failures -> (status, message); the first match wins (InvalidResponseHeader,
# the app's fault, is a subclass of InvalidHeader and is checked before it).
_SERVER_FAULTS = (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName,
                  http_errors.ConfigurationProblem)
_CLIENT_FAULTS = (
    (http_errors.LimitRequestLine, 414, "The request line is too long."),
    (http_errors.LimitRequestHeaders, 431, "The request's header fields are too large or too many."),
    (http_errors.UnsupportedTransferCoding, 501, "The request's Transfer-Encoding is not supported."),
    (http_errors.ExpectationFailed, 417, "The request's Expect header cannot be met."),
    (http_errors.ForbiddenProxyRequest, 403, "Requests through this proxy are not allowed."),
    ((http_errors.InvalidChunkSize, http_errors.ChunkMissingTerminator, http_errors.InvalidChunkExtension),
     400, "The request's chunked body is malformed."),
    ((http_errors.InvalidRequestLine, http_errors.InvalidRequestMethod, http_errors.InvalidHTTPVersion),
     400, "The request line is malformed."),
    ((http_errors.InvalidHeader, http_errors.InvalidHeaderName, http_errors.ObsoleteFolding),
     400, "A request header is malformed."),
    ((http_errors.InvalidProxyLine, http_errors.InvalidProxyHeader, http_errors.InvalidSchemeHeaders,
      http_errors.InvalidH2CPreface), 400, "The request is malformed."),
    (ssl.SSLError, 400, "The TLS connection failed."),
)
_CODES = {408: "request_timeout", 414: "request_line_too_long", 431: "request_headers_too_large"}


def error_for(exc: BaseException) -> ApiError | None:
    """The answer to a failure gunicorn met before (or outside) the app; None: not the client's."""
    if isinstance(exc, RequestReadTimeout):
        return ApiError(408, exc.description, "invalid_request_error", None, _CODES[408])
    if isinstance(exc, _SERVER_FAULTS):
        return None
    for kinds, status, message in _CLIENT_FAULTS:
        if isinstance(exc, kinds):
            return ApiError(status, message, "invalid_request_error", None, _CODES.get(status, "invalid_request"))
    return None


def raw_response(error: ApiError) -> bytes:
    """`error` as a whole HTTP/1.1 response that closes the connection."""
    body = json.dumps(error.body()).encode()
    head = [f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}", "Connection: close",
            "Content-Type: application/json", f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in error.headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class _DeadlineSocket:
    """The client socket as gunicorn's request parser sees it: while the connection's request is
    being read, each recv() waits only for what is left of its read time."""

    def __init__(self, sock: socket.socket, conn: "_Connection"):
        self._sock, self._conn = sock, conn

    def recv(self, size: int) -> bytes:
        conn = self._conn
        if not conn.reading:
            return self._sock.recv(size)
        left = conn.start_clock() - time.monotonic()
        if left > 0:
            previous = self._sock.gettimeout()
            self._sock.settimeout(left)
            try:
                return self._sock.recv(size)
            except TimeoutError:
                pass
            finally:
                self._sock.settimeout(previous)
        raise conn.timed_out()

    # gunicorn bounds its own reads of a body left unread with these.
    def gettimeout(self):
        return self._sock.gettimeout()

    def settimeout(self, value) -> None:
        self._sock.settimeout(value)


class _Connection(TConn):
    """A client connection whose requests must arrive within `read_timeout` (0: no limit),
    counted from their first byte."""

    def __init__(self, cfg, sock, client, server, read_timeout: float):
        super().__init__(cfg, sock, client, server)
        self.read_timeout = read_timeout
        self.deadline: float | None = None  # set by the request's first byte
        self.reading = True  # False once the app answers: reads are gunicorn's business again
        self.expired = False
        self._wrapped = False

    def init(self):
        super().init()
        unreader = getattr(self.parser, "unreader", None)
        if not self._wrapped and self.read_timeout and isinstance(unreader, SocketUnreader):
            unreader.sock, self._wrapped = _DeadlineSocket(unreader.sock, self), True

    def start_clock(self) -> float:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.read_timeout
        return self.deadline

    def timed_out(self) -> RequestReadTimeout:
        self.expired = True
        return RequestReadTimeout(f"The request did not arrive whole within {self.read_timeout:g} s.")

    def answered(self) -> None:
        self.reading = False

    def next_request(self) -> None:
        self.deadline, self.reading, self.expired = None, True, False

    def arrived(self) -> bool | None:
        """Whether the request has arrived whole (its head, and its body when small), reading what
        has come so far into the parser's buffer without waiting: a thread then parses it without
        waiting on the client. None: nothing has come yet."""
        self.init()  # the parser (no I/O without TLS)
        buffer = self.parser.unreader.buf
        try:
            data = self.sock.recv(_LOOKAHEAD, socket.MSG_DONTWAIT)
        except BlockingIOError:
            data = None
        except OSError:
            return True  # the parser meets the error and closes
        if data == b"":
            return True  # the client closed: the parser says so
        if data:
            buffer.seek(0, os.SEEK_END)
            buffer.write(data)
        received = buffer.getvalue()
        if not received:
            return None
        self.start_clock()
        head_end = received.find(b"\r\n\r\n", 0, _LOOKAHEAD)
        if head_end < 0:
            return len(received) >= _LOOKAHEAD  # a head this long: the parser judges it
        length = _CONTENT_LENGTH.search(received, 0, head_end + 2)
        if length is None or not length.group(1).isdigit():
            return True  # no body, chunked or malformed: the parser reads (or refuses) it
        whole = head_end + 4 + int(length.group(1))
        return whole > _LOOKAHEAD or len(received) >= whole  # a large body is read by a thread, in time


# How much of a request may arrive before a thread takes it; and where its body length is.
_LOOKAHEAD = 32768
# How often requests waiting (in the poller) to arrive are checked against their deadline.
_SWEEP_SECONDS = 0.2
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([^\r]*?)[ \t]*\r\n", re.IGNORECASE)


class _Exchange:
    """One request being answered, as the main thread may have to end it. The serving thread
    holds `lock` whenever it may write to the client (from start_response on, except while it
    waits for the app's next item), so the main thread never writes in the middle of its writes."""

    def __init__(self, environ: dict, start_response):
        self.lock = threading.Lock()
        self.holding = False  # touched by the serving thread only
        self.sock = environ.get("gunicorn.socket")
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
            name = name.lower()
            if name == "content-type":
                self.stream = value.startswith("text/event-stream")
            elif name == "x-request-id":
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
    def starting(cls, now: float, graceful_timeout: float) -> "_Drain":
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
        self.read_timeout = Settings.from_env().request_read_timeout
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        self.wsgi = self._serving(self.wsgi)

    def accept(self, listener):
        """gunicorn's accept(), making connections whose requests must arrive in time."""
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            self.enqueue_req(_Connection(self.cfg, client_sock, client_addr, listener.getsockname(), self.read_timeout))
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle(self, conn):
        """A thread takes a connection only once its request has arrived (as gunicorn's threads
        read a request until it is whole, a client sending a byte now and then held one for
        ever); one that is still arriving goes back to the poller until more comes."""
        if isinstance(conn, _Connection) and conn.read_timeout:
            if not conn.reading:
                conn.next_request()  # a kept-alive connection's next request gets its own time
            if self._waits_for_arrival(conn) and not self._arrived(conn):
                return _DEFER
        self._local.conn = conn
        try:
            return super().handle(conn)
        finally:
            self._local.conn = None

    def _waits_for_arrival(self, conn: _Connection) -> bool:
        # TLS and HTTP/2 read their own way: a thread reads those requests, within the deadline.
        return not (self.cfg.is_ssl or conn.is_http2 or negotiation.prior_knowledge_allowed(self.cfg, conn.client))

    @staticmethod
    def _arrived(conn: _Connection) -> bool:
        arrived = conn.arrived()
        if arrived is None and not conn.data_ready:  # a new connection: its request is on its way
            if not conn.wait_for_data(DEFAULT_WORKER_DATA_TIMEOUT):
                return False
            arrived = conn.arrived()
        # Past its deadline the parser's first read answers 408.
        return bool(arrived) or conn.deadline is not None and time.monotonic() >= conn.deadline

    def murder_pending(self):
        """gunicorn's, and: a request still arriving when its time is up gets a 408 and is closed."""
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_SECONDS
        late = [conn for conn in self.pending_conns
                if isinstance(conn, _Connection) and conn.deadline is not None and now >= conn.deadline]
        for conn in late:
            self.pending_conns.remove(conn)
            try:
                self.poller.unregister(conn.sock)
            except (OSError, KeyError, ValueError):
                pass
            self.nr_conns -= 1
            try:
                util.write_nonblock(conn.sock, raw_response(error_for(conn.timed_out())))
            except OSError:
                pass
            conn.close()

    def _serving(self, app):
        def serve(environ, start_response):
            environ[DRAINING] = self._drain is not None
            exchange = _Exchange(environ, start_response)
            conn = getattr(self._local, "conn", None)

            def start(status, headers, exc_info=None):
                if isinstance(conn, _Connection):
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
        """Ends an answer from the main thread: an error event and [DONE] for a stream, a 503 for
        an answer not started yet; then closes the connection. `hard`: whatever it is doing."""
        locked = exchange.lock.acquire(blocking=False)
        if not hard and (not locked or exchange.started and not exchange.stream):
            if locked:  # a plain answer being sent: it ends on its own
                exchange.lock.release()
            return  # or the serving thread is writing: next time
        if not locked or exchange.started and not exchange.stream:
            how = "connection closed"
        else:
            how = "error event" if exchange.started else "503"
        exchange.ended = True
        try:
            exchange.sock.settimeout(_WRITE_TIMEOUT)
            if how == "503":
                exchange.sock.sendall(raw_response(SHUTTING_DOWN))
            elif how == "error event" and isinstance(exchange.response, GunicornResponse):
                exchange.response.write(event(SHUTTING_DOWN.body()) + DONE)
                exchange.response.close()
        except (OSError, ValueError, AttributeError):
            how += " (client not reachable)"
        finally:
            try:
                exchange.sock.shutdown(socket.SHUT_RDWR)  # the serving thread's later writes fail quietly (EPIPE)
            except (OSError, AttributeError):
                pass
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
