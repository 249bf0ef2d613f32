"""fetch(): an http(s) URL -> (MIME type, bytes), as an SSRF guard.

It only talks to public addresses (unless told otherwise), connects to exactly the address it
checked (so DNS cannot swap it), re-checks every redirect, and bounds the whole exchange in
time and size. Every failure is a MediaError safe to show to the client.
"""
from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from gemini_proxy.media.data import MIME_TYPE, MediaError, MediaLimits, shown, too_large

_DIGITS = re.compile(r"[0-9]+")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# Everything printable in ASCII stays as sent; only non-ASCII is percent-encoded, because
# http.client cannot put it on the request line and re-quoting '%' would change the URL.
_REQUEST_TARGET_SAFE = "".join(chr(c) for c in range(0x21, 0x7f))
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_FETCHABLE_KINDS = frozenset({"image", "audio", "video", "text"})
_FETCHABLE_TYPES = frozenset({"application/pdf"})
_REQUEST_HEADERS = (("User-Agent", "gemini-proxy"),
                    ("Accept", "image/*,audio/*,video/*,application/pdf,text/*;q=0.5"))
_CHUNK = 64 * 1024
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def fetch(url: str, limits: MediaLimits) -> tuple[str, bytes]:
    """GET a public http(s) URL -> (MIME type without parameters, body)."""
    with _Deadline(limits.timeout) as deadline:
        try:
            return _fetch(url, limits, deadline)
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError) or deadline.expired:
                raise deadline.error() from exc
            raise MediaError(f"could not fetch the URL: {_reason(exc)}") from exc


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA), no brackets: what goes in Host:, SNI and certificate checks
    port: int
    path: str  # request target: path and query, no fragment


def _fetch(url: str, limits: MediaLimits, deadline: _Deadline) -> tuple[str, bytes]:
    context = None
    redirects = 0
    while True:
        target = _target(url)
        addresses = _checked_addresses(target, limits.allow_private)
        if target.scheme == "https":
            context = context or ssl.create_default_context()
            conn = _PinnedHTTPSConnection(target, addresses, deadline, context=context)
        else:
            conn = _PinnedHTTPConnection(target, addresses, deadline)
        response = None
        try:
            conn.putrequest("GET", target.path)
            for name, value in _REQUEST_HEADERS:
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            # The deadline ends reads with EOF, which http.client may take for the end of the headers.
            if deadline.expired:
                raise deadline.error()
            if response.status not in _REDIRECTS:
                return _read_media(response, limits.max_bytes, deadline)
            location = response.getheader("Location", "").strip()
            if not location:
                raise MediaError(f"the URL redirected (HTTP {response.status}) without a Location")
            redirects += 1
            if redirects > limits.max_redirects:
                raise MediaError(f"the URL redirected more than {limits.max_redirects} times")
            url = urljoin(url, location)
        finally:
            deadline.forget()
            # With "Connection: close" http.client hands the socket to the response, so the
            # connection alone cannot close it.
            if response is not None:
                response.close()
            conn.close()


def _target(url: str) -> _Target:
    if not isinstance(url, str):
        raise MediaError("the URL must be a string")
    if _CONTROL_OR_SPACE.search(url):
        raise MediaError("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise MediaError("the URL is malformed") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise MediaError(f"only http and https URLs can be fetched, not {shown(scheme + ':')}")
    if "@" in parts.netloc:
        raise MediaError("the URL must not contain a user name or password")
    if not parts.hostname:
        raise MediaError("the URL has no host")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise MediaError("the URL's host name is not valid") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(scheme, host, port or _DEFAULT_PORTS[scheme], quote(path, safe=_REQUEST_TARGET_SAFE))


def _checked_addresses(target: _Target, allow_private: bool) -> list[tuple[int, tuple]]:
    """The (family, sockaddr) pairs the host resolves to, refused if any of them is not public."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM,
                                   proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise MediaError(f"could not resolve the host {shown(target.host)}") from exc
    addresses = list(dict.fromkeys((family, sockaddr) for family, _, _, _, sockaddr in infos))
    if not addresses:
        raise MediaError(f"could not resolve the host {shown(target.host)}")
    # One private answer is enough to refuse: which answer gets used is the resolver's choice.
    if not allow_private and not all(_is_public(sockaddr[0]) for _, sockaddr in addresses):
        raise MediaError(f"refusing to fetch from {shown(target.host)}: it is not a public address")
    return addresses


def _is_public(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    if ip.version == 6:
        # IPv6 forms that carry an IPv4 address end up at that address; judge it instead.
        if ip.ipv4_mapped:
            return _is_public(str(ip.ipv4_mapped))
        if ip in _NAT64:
            return _is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if ip.sixtofour and not _is_public(str(ip.sixtofour)):
            return False
    # is_global also catches ranges that are neither private nor public (100.64.0.0/10, CGNAT).
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def _open_socket(addresses: list[tuple[int, tuple]], deadline: _Deadline) -> socket.socket:
    for index, (family, sockaddr) in enumerate(addresses, 1):
        sock = deadline.watch(socket.socket(family, socket.SOCK_STREAM))
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(sockaddr)
            return sock
        except BaseException as exc:
            sock.close()
            # Like socket.create_connection: the next address only after a plain refusal/unreachable.
            if index == len(addresses) or not isinstance(exc, OSError) or isinstance(exc, TimeoutError):
                raise
    raise AssertionError("unreachable: addresses is never empty")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the addresses that were checked, never to the name: DNS may answer differently
    the second time (rebinding). The name still goes in Host: and, for TLS, SNI and the cert check."""

    def __init__(self, target: _Target, addresses: list, deadline: _Deadline, **kwargs):
        super().__init__(target.host, target.port, timeout=deadline.remaining(), **kwargs)
        self._addresses = addresses
        self._deadline = deadline

    def connect(self):
        self.sock = _open_socket(self._addresses, self._deadline)


class _PinnedHTTPSConnection(_PinnedHTTPConnection, http.client.HTTPSConnection):
    def connect(self):
        super().connect()
        # Handshake only once the TLS socket is watched: wrapping detaches the plain socket, so a
        # handshake inside wrap_socket would escape the deadline.
        self.sock = self._deadline.watch(
            self._context.wrap_socket(self.sock, server_hostname=self.host, do_handshake_on_connect=False))
        self.sock.do_handshake()


def _read_media(response: http.client.HTTPResponse, max_bytes: int, deadline: _Deadline) -> tuple[str, bytes]:
    if not 200 <= response.status < 300:
        raise MediaError(f"the URL returned HTTP status {response.status}")
    mime = (response.getheader("Content-Type") or "").split(";", 1)[0].strip().lower()
    if not mime:
        raise MediaError("the URL's response has no Content-Type")
    kind = mime.split("/", 1)[0]
    if not MIME_TYPE.fullmatch(mime) or (kind not in _FETCHABLE_KINDS and mime not in _FETCHABLE_TYPES):
        raise MediaError(f"the URL returned content of type {shown(mime)}, "
                         "not an image, audio, video, PDF or text")
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise MediaError(f"the URL returned {shown(encoding)}-encoded content")
    length = response.getheader("Content-Length")
    declared = int(length) if length is not None and _DIGITS.fullmatch(length.strip()) else None
    if length is not None and declared is None:
        raise MediaError("the URL's response has an invalid Content-Length")
    if declared is not None and declared > max_bytes:
        raise too_large("the URL's content", max_bytes)
    body = bytearray()
    # read1 returns what one socket read produced, so the size check runs as data arrives.
    while chunk := response.read1(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise too_large("the URL's content", max_bytes)
    if deadline.expired:
        raise deadline.error()
    if declared is not None and not response.chunked and len(body) < declared:
        raise MediaError("the URL's response ended before its Content-Length")
    if not body:
        raise MediaError("the URL returned no content")
    return mime, bytes(body)


class _Deadline:
    """One time budget for a whole fetch.

    A socket timeout bounds each read, not their sum: a server sending a byte just inside the
    timeout could hold a worker for ever (headers are read a line at a time inside http.client).
    A timer shuts the current socket down when the budget is spent, which ends any read.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()
        self.forget()

    @property
    def expired(self) -> bool:
        return self._fired or time.monotonic() >= self._end

    def remaining(self) -> float:
        left = self._end - time.monotonic()
        if left <= 0:
            raise self.error()
        return left

    def error(self) -> MediaError:
        return MediaError(f"fetching the URL timed out after {self.seconds:g} s")

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sock = sock
        return sock

    def forget(self) -> None:
        """Called before a connection is closed, so the timer never shuts a socket it no longer owns."""
        with self._lock:
            self._sock = None

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            if self._sock is not None:
                # The plain socket method: SSLSocket.shutdown would drop the SSL object under
                # a reader in another thread, which then fails with ValueError, not OSError.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(self._sock, socket.SHUT_RDWR)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the TLS certificate was not accepted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"the TLS handshake failed ({exc.reason or 'unknown reason'})"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, http.client.HTTPException):
        return f"the server's HTTP response was malformed ({type(exc).__name__})"
    return f"the connection failed ({exc.strerror or type(exc).__name__})"


