"""The sockets under the SDK's HTTP client: a keep-alive pool of standard-library connections.

google-genai sends every call through an httpx2.Client, whose default transport (httpcore2 and
h11, pure Python) costs more CPU per call, and per streamed event, than anything else the
gateway does (BENCHMARKS.md). This transport keeps the SDK's client, retries, timeouts, headers
and errors, and replaces only the bytes-on-the-socket part with http.client.

Kept from the default transport:
- TLS verified the same way (httpx2.create_ssl_context: certifi, SSL_CERT_FILE/SSL_CERT_DIR);
- the request's timeouts (connect, write, read, and pool: how long to wait for a free
  connection when `max_connections` are in use);
- keep-alive: idle connections are reused for KEEPALIVE_EXPIRY seconds, unless the server closed
  them meanwhile (they turn readable: checked before reuse, as httpcore does); a request whose
  reused connection turns out closed while it is being sent is sent once more on a new one.
  Unlike the default transport, idle connections are also closed on a timer (a daemon thread
  that runs only while some are idle), so a burst does not leave hundreds of sockets open
  until the pool is next used;
- failures raised as httpx2's exceptions (ConnectError, ConnectTimeout, WriteTimeout,
  ReadTimeout, RemoteProtocolError, ReadError, PoolTimeout), which the SDK's retries and
  client.py's error mapping read;
- a streamed answer is handed on as soon as bytes arrive; closing it before its end closes the
  connection, so Gemini stops generating.
Added: the connect timeout can be capped for the whole pool (`connect_timeout`), and a
streamed answer's read timeout can be changed while it is read: the response's extensions
hold READ_TIMEOUT, a function of the new timeout in seconds (client.py waits longer for the
first chunk of a stream than for the gap between two chunks).
Not kept: proxies from the environment (client.py keeps httpx2's own transport when one
applies) and HTTP/2 (the default transport does not use it either).
"""
from __future__ import annotations

import http.client
import select
import ssl
import threading
import time
import types
import urllib.request
from collections import deque
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx2

KEEPALIVE_EXPIRY = 5.0  # seconds, as httpx2's default transport
REAP_INTERVAL = 1.0  # seconds between two sweeps of the idle connections
READ_TIMEOUT = "gemini_proxy.read_timeout"  # response extension: set the read timeout of the rest of the body
_READ_SIZE = 65536
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

Origin = tuple[str, str, int]


class ConnectionPool(httpx2.BaseTransport):
    def __init__(self, max_connections: int, max_keepalive: int, ssl_context: ssl.SSLContext | None = None,
                 connect_timeout: float | None = None, keepalive_expiry: float = KEEPALIVE_EXPIRY,
                 reap_interval: float = REAP_INTERVAL):
        self._slots = threading.BoundedSemaphore(max_connections)
        self._max_keepalive = max_keepalive
        # Oldest on the left: requests take from the right (most recently used), the reaper from the left.
        self._idle: dict[Origin, deque[tuple[http.client.HTTPConnection, float]]] = {}
        self._ssl = ssl_context
        self._connect_timeout = connect_timeout
        self._expiry = keepalive_expiry
        self._reap_interval = reap_interval
        self._reaper: threading.Thread | None = None
        self._reaper_lock = threading.Lock()
        self._closed = threading.Event()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts = request.extensions.get("timeout", {})
        if not self._slots.acquire(timeout=timeouts.get("pool")):
            raise httpx2.PoolTimeout("No upstream connection became free in time.")
        try:
            connection, response = self._exchange(origin, request, timeouts)
        except BaseException:
            self._slots.release()
            raise
        body = _Body(self, origin, connection, response)
        return httpx2.Response(response.status, headers=response.getheaders(), stream=body,
                               extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode(),
                                           READ_TIMEOUT: body.set_read_timeout})

    def _exchange(self, origin: Origin, request: httpx2.Request, timeouts: dict):
        body = request.read()
        target = request.url.raw_path.decode("ascii")
        while True:
            connection, reused = self._checkout(origin)
            sending = True
            try:
                if connection.sock is None:
                    _connect(connection, _shortest(timeouts.get("connect"), self._connect_timeout))
                connection.sock.settimeout(timeouts.get("write"))
                connection.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
                for name, value in request.headers.raw:
                    connection.putheader(name, value)
                connection.endheaders(body)
                sending = False
                connection.sock.settimeout(timeouts.get("read"))
                return connection, connection.getresponse()
            except _STALE as exc:
                connection.close()
                # A kept-alive connection Gemini closed before the request was out: once more on a
                # new one. Closed after it was sent, Gemini may have started on it: the caller's
                # retry rule decides (client.py), so that a retry is counted and bounded.
                if not (reused and sending):
                    raise httpx2.RemoteProtocolError(f"Gemini closed the connection: {exc!r}") from exc
            except BaseException as exc:
                connection.close()
                raise _transport_error(exc, sending) from exc

    def _checkout(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        """An idle kept-alive connection to `origin` (most recently used first), or a new one."""
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            try:
                connection, since = idle.pop()
            except IndexError:  # another thread took the last one
                break
            if now - since < self._expiry and not _closed_by_peer(connection):
                return connection, True
            connection.close()
        scheme, host, port = origin
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx2.create_ssl_context()
                self._ssl.set_alpn_protocols(["http/1.1"])
            connection = http.client.HTTPSConnection(host, port, context=self._ssl)
        else:
            connection = http.client.HTTPConnection(host, port)
        connection.response_class = _Response
        return connection, False

    def _checkin(self, origin: Origin, connection: http.client.HTTPConnection, reusable: bool) -> None:
        idle = self._idle.setdefault(origin, deque())
        if reusable and len(idle) < self._max_keepalive and not self._closed.is_set():
            idle.append((connection, time.monotonic()))
            self._start_reaper()
        else:
            connection.close()
        self._slots.release()

    def _start_reaper(self) -> None:
        # Under the lock: the reaper decides to end, under it too, only when nothing is idle.
        with self._reaper_lock:
            # is_alive: a pool inherited through fork() (gunicorn --preload) has no thread behind it.
            if (self._reaper is None or not self._reaper.is_alive()) and not self._closed.is_set():
                self._reaper = threading.Thread(target=self._reap, name="upstream-pool-reaper", daemon=True)
                self._reaper.start()

    def _reap(self) -> None:
        """Closes idle connections past their expiry; ends once none is idle (the next checkin
        starts a new one), so pools that are dropped without close() leave no thread behind."""
        while not self._closed.wait(self._reap_interval):
            self.expire_idle()
            with self._reaper_lock:
                if not any(self._idle.values()):
                    self._reaper = None
                    return

    def expire_idle(self) -> None:
        """Closes the idle connections older than the keep-alive expiry."""
        now = time.monotonic()
        for idle in list(self._idle.values()):
            while idle:
                try:
                    connection, since = idle.popleft()
                except IndexError:  # a request took the last one
                    break
                if now - since < self._expiry:
                    idle.appendleft((connection, since))
                    break
                connection.close()

    def idle_connections(self) -> int:
        return sum(len(idle) for idle in self._idle.values())

    def close(self) -> None:
        self._closed.set()
        reaper = self._reaper
        if reaper is not None and reaper is not threading.current_thread():
            reaper.join()
        for idle in self._idle.values():
            while idle:
                idle.pop()[0].close()


class _Body(httpx2.SyncByteStream):
    """An answer's body, read as it arrives; the connection goes back to the pool at its end."""

    def __init__(self, pool: ConnectionPool, origin: Origin, connection: http.client.HTTPConnection,
                 response: http.client.HTTPResponse):
        self._pool, self._origin, self._connection, self._response = pool, origin, connection, response

    def set_read_timeout(self, seconds: float | None) -> None:
        connection = self._connection
        if connection is not None and connection.sock is not None:
            connection.sock.settimeout(seconds)

    def __iter__(self) -> Iterator[bytes]:
        response = self._response
        try:
            while data := response.read1(_READ_SIZE):
                yield data
        except Exception as exc:
            raise _transport_error(exc, sending=False) from exc
        if response.length:  # http.client's read1 ends quietly when a sized body is cut short
            raise httpx2.RemoteProtocolError(f"Gemini's answer ended {response.length} bytes short.")
        response.close()  # the whole body is read: the connection may serve the next request

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            response = self._response
            self._pool._checkin(self._origin, connection, response.isclosed() and not response.will_close)


def _header_fields(fp, _class=http.client.HTTPMessage) -> http.client.HTTPMessage:
    """http.client.parse_headers without the email package's parser, which took 68 us for the 13
    header fields of an answer of Gemini's (this: 10 us). The same lines read the same way
    (http.client's own reader, its limits), each field stored as the email package's compat32
    policy stores it: the name as sent, the value without its leading blanks and line end, a
    folded line kept with the field before it. A line that is no field is passed over."""
    message = _class()
    fields: list[list[str]] = []
    for line in http.client._read_headers(fp):
        text = line.decode("iso-8859-1")
        if text[:1] in (" ", "\t") and fields:
            fields[-1][1] += text
        elif ":" in text:
            name, value = text.split(":", 1)
            fields.append([name, value.lstrip(" \t")])
    for name, value in fields:
        message[name] = value.rstrip("\r\n")
    return message


class _Response(http.client.HTTPResponse):
    # http.client's own begin() (status line, 1xx, chunked, length, keep-alive: all decided as it
    # decides them), reading the header block with _header_fields instead of parse_headers.
    begin = types.FunctionType(http.client.HTTPResponse.begin.__code__,
                               {**vars(http.client), "parse_headers": _header_fields}, "begin")


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection has something to read: the server closed it (or sent what
    no request asked for); either way it cannot carry the next request."""
    if connection.sock is None:
        return True
    poller = select.poll()  # not select.select: descriptors above 1024 are common here
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))


def _shortest(*timeouts: float | None) -> float | None:
    given = [timeout for timeout in timeouts if timeout is not None]
    return min(given) if given else None


def _connect(connection: http.client.HTTPConnection, timeout: float | None) -> None:
    connection.timeout = timeout
    try:
        connection.connect()
    except TimeoutError as exc:
        raise httpx2.ConnectTimeout(f"Connecting to Gemini timed out: {exc}") from exc
    except OSError as exc:  # refused, unreachable, name not found, TLS handshake failed
        raise httpx2.ConnectError(f"Could not connect to Gemini: {exc}") from exc


def _transport_error(exc: BaseException, sending: bool) -> BaseException:
    """`exc` as the httpx2 exception the default transport would raise."""
    if isinstance(exc, httpx2.HTTPError) or not isinstance(exc, Exception):
        return exc
    doing = "sending the request" if sending else "reading the answer"
    if isinstance(exc, TimeoutError):
        return (httpx2.WriteTimeout if sending else httpx2.ReadTimeout)(f"Gemini timed out while {doing}.")
    if isinstance(exc, http.client.HTTPException):  # not HTTP as it should be (cut short, bad status line)
        return httpx2.RemoteProtocolError(f"Gemini's answer broke off while {doing}: {exc!r}")
    if isinstance(exc, OSError):
        failure = httpx2.WriteError if sending else httpx2.ReadError
        return failure(f"Gemini's connection failed while {doing}: {exc!r}")
    return exc


def client_args(base_url: str, max_connections: int, connect_timeout: float,
                proxies: dict[str, str] | None = None) -> dict:
    """The SDK's httpx2.Client's arguments: a ConnectionPool as its transport, unless a proxy from the
    environment (HTTPS_PROXY, NO_PROXY, ...) applies to `base_url`: then httpx2's own transport,
    which honours it."""
    proxies = urllib.request.getproxies_environment() if proxies is None else proxies
    max_keepalive = min(max_connections, 128)
    url = urlsplit(base_url)
    proxied = proxies.get(url.scheme, proxies.get("all"))
    if proxied and not urllib.request.proxy_bypass_environment(url.hostname or "", proxies):
        # httpx2's default pool (100 connections) would queue streams beyond that.
        return {"limits": httpx2.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)}
    return {"transport": ConnectionPool(max_connections, max_keepalive, connect_timeout=connect_timeout)}
