"""EmulatorServer: the emulator on a real socket, in a background thread.

Werkzeug's development server always answers `Connection: close` and, after each response,
drains the socket in a way that would swallow the next keep-alive request. Clients of a real
Gemini endpoint (httpx pools in the SDK, the gateway under load) reuse connections, so this
module swaps in a request handler that keeps HTTP/1.1 connections alive: it reads the whole
request body before calling the app (so the next request line is intact), chunks every
response without a Content-Length, and writes each chunk straight to the socket as it is
produced (TCP_NODELAY, one write per chunk).
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from gemini_emulator.app import EmulatorApp, create_emulator_app
from gemini_emulator.config import EmulatorConfig

log = logging.getLogger(__name__)

_NO_BODY_STATUSES = frozenset({204, 304})


class _ResponseWriter:
    """start_response/write for one response, with HTTP/1.1 chunking."""

    def __init__(self, handler: _KeepAliveHandler, head: bool) -> None:
        self.handler = handler
        self.head = head
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.headers_sent = False
        self.chunked = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None):
        if exc_info and self.headers_sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, headers
        return self.write

    def _send_headers(self) -> None:
        assert self.status is not None, "write() before start_response()"
        handler = self.handler
        code, _, reason = self.status.partition(" ")
        handler.send_response(int(code), reason)
        names = {name.lower() for name, _ in self.headers}
        for name, value in self.headers:
            handler.send_header(name, value)
        bodyless = self.head or int(code) in _NO_BODY_STATUSES or int(code) < 200
        if "content-length" not in names and not bodyless:
            if handler.request_version == "HTTP/1.1":
                self.chunked = True
                handler.send_header("Transfer-Encoding", "chunked")
            else:
                handler.close_connection = True  # HTTP/1.0: the body ends with the connection
        if handler.close_connection:
            handler.send_header("Connection", "close")
        handler.end_headers()
        self.headers_sent = True

    def write(self, data: bytes) -> None:
        if not self.headers_sent:
            self._send_headers()
        if not data or self.head:
            return
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.handler.wfile.write(data)

    def finish(self) -> None:
        if not self.headers_sent:
            self._send_headers()
        if self.chunked:
            self.handler.wfile.write(b"0\r\n\r\n")


class _KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        """Quiet: a line per request would drown test output and benchmarks."""

    def _buffer_body(self, environ: dict[str, Any]) -> None:
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):
            body = stream.read()  # chunked request body, already de-chunked by werkzeug
        else:
            body = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        self._buffer_body(environ)
        writer = _ResponseWriter(self, head=environ["REQUEST_METHOD"] == "HEAD")
        try:
            iterable = self.server.app(environ, writer.start_response)
            try:
                for data in iterable:
                    writer.write(data)
                writer.finish()
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
        except ConnectionError:
            # The client left, or the app asked for a dropped connection (fault=drop):
            # write nothing more and leave any chunked body unfinished.
            self.close_connection = True
        except Exception:
            self.close_connection = True
            log.exception("error while answering %s %s", self.command, self.path)
            if not writer.headers_sent:
                self.send_error(500)


class _Server(ThreadedWSGIServer):
    """Threaded WSGI server that can sever its open (keep-alive) connections on stop."""

    # werkzeug listens with a backlog of 128: a burst of connections beyond that (a gateway
    # opening 1000 streams at once) has its SYNs dropped and retried a second or more later.
    request_queue_size = 1024

    def __init__(self, host: str, port: int, app: EmulatorApp) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(host, port, app, handler=_KeepAliveHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def sever_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)


class EmulatorServer:
    """The emulator served on host:port (0 = ephemeral) from a daemon thread."""

    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.config = config or EmulatorConfig()
        self.host = host
        self.port = port
        self.app = create_emulator_app(self.config)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("EmulatorServer is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> EmulatorServer:
        if self._server is not None:
            raise RuntimeError("EmulatorServer already started")
        self._server = _Server(self.host, self.port, self.app)
        # A short poll interval keeps stop() fast (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"gemini-emulator-{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        thread.join()
        server.sever_connections()
        self._server = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
