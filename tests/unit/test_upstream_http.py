"""The upstream connection pool (gemini_proxy.upstream.pool) against a scripted HTTP server on a
real socket (loopback only): keep-alive, stale connections, timeouts, streaming and early close,
pool limits, TLS verification (a test CA from trustme); and one SDK call sent through it
(upstream/sdk_calls.send): read as the SDK reads it, redirects followed, errors the SDK's."""
from __future__ import annotations

import contextlib
import http.client
import io
import socket
import ssl
import struct
import threading
import time

import httpx2
import pytest
import trustme
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from gemini_proxy.upstream import sdk_calls
from gemini_proxy.upstream.pool import READ_TIMEOUT, ConnectionPool, _header_fields, client_args


class ScriptedServer:
    """Answers each request on a connection with the next `script` entry: a function that gets
    the socket and writes (or withholds) the answer. Counts connections and requests, and
    notes when a client closed its connection."""

    def __init__(self, script, tls: ssl.SSLContext | None = None):
        self.script = list(script)
        self.tls = tls
        self.connections = 0
        self.received: list[tuple[bytes, bytes]] = []  # (request head, body), in order
        self.client_closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        self.url = f"https://localhost:{port}" if tls else f"http://127.0.0.1:{port}"  # the certificate names localhost
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        if self.tls:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):  # the client refused the certificate
                conn.close()
                return
        with conn:
            reader = conn.makefile("rb")
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        self.client_closed.set()
                        return
                    head += line
                length = next((int(h.split(b":")[1]) for h in head.split(b"\r\n")
                               if h.lower().startswith(b"content-length")), 0)
                self.received.append((head, reader.read(length)))
                if not self.script:
                    return
                if self.script.pop(0)(conn) == "close":
                    return

    @property
    def requests(self) -> int:
        return len(self.received)

    def close(self):
        self._listener.close()


def ok(body=b'{"ok": true}'):
    def answer(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(body), body))
    return answer


def ok_then_close(conn):
    ok()(conn)
    return "close"


def slow_stream(conn):
    """A chunked answer whose second part comes 1 s after the first, unless the client left."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n")
    time.sleep(1.0)
    with contextlib.suppress(OSError):
        conn.sendall(b"7\r\nsecond\n\r\n0\r\n\r\n")


def silent(conn):
    time.sleep(2)
    return "close"


@pytest.fixture
def serve():
    servers = []

    def start(*script, tls=None):
        servers.append(ScriptedServer(script, tls))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


def client(max_connections=4, timeout=5.0, ssl_context=None):
    return httpx2.Client(transport=ConnectionPool(max_connections, max_keepalive=4, ssl_context=ssl_context),
                         timeout=timeout)


def test_keeps_the_connection_alive_between_requests(serve):
    server = serve(ok(), ok(), ok())
    with client() as http:
        answers = [http.post(server.url + "/v1beta/models/m:generateContent", content=b"{}").json() for _ in range(3)]
    assert answers == [{"ok": True}] * 3
    assert (server.connections, server.requests) == (1, 3)


def test_a_connection_closed_by_the_server_while_idle_is_replaced_and_the_request_sent_once(serve):
    server = serve(ok_then_close, ok())
    with client() as http:
        first = http.post(server.url + "/a", content=b"{}")
        time.sleep(0.1)  # the server has closed the kept-alive connection by now
        second = http.post(server.url + "/b", content=b"{}")
    assert (first.status_code, second.status_code) == (200, 200)
    assert (server.connections, server.requests) == (2, 2)


def test_streamed_body_is_handed_on_as_it_arrives(serve):
    server = serve(slow_stream)
    with client() as http, http.stream("POST", server.url + "/s", content=b"{}") as response:
        started = time.monotonic()
        pieces = []
        for piece in response.iter_bytes():
            pieces.append((piece, time.monotonic() - started))
    assert b"".join(p for p, _ in pieces) == b"first\nsecond\n"
    assert pieces[0][0] == b"first\n"
    assert pieces[0][1] < 0.5
    assert pieces[-1][1] > 0.8


def test_closing_a_stream_early_closes_its_connection(serve):
    server = serve(slow_stream, ok())
    with client() as http:
        with http.stream("POST", server.url + "/s", content=b"{}") as response:
            next(response.iter_bytes())
        assert server.client_closed.wait(2), "the server never saw the connection close"
        assert http.post(server.url + "/a", content=b"{}").status_code == 200
    assert server.connections == 2


def test_read_timeout(serve):
    server = serve(silent)
    with client(timeout=0.3) as http, pytest.raises(httpx2.ReadTimeout):
        http.post(server.url + "/a", content=b"{}")


def test_refused_connection_is_a_connect_error():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with client() as http, pytest.raises(httpx2.ConnectError):
        http.post(f"http://127.0.0.1:{port}/a", content=b"{}")


def test_waits_for_a_free_connection_at_most_the_pool_timeout(serve):
    server = serve(slow_stream, ok())
    with client(max_connections=1, timeout=httpx2.Timeout(5.0, pool=0.2)) as http:
        with http.stream("POST", server.url + "/s", content=b"{}"), pytest.raises(httpx2.PoolTimeout):
            http.post(server.url + "/a", content=b"{}")
        assert http.post(server.url + "/a", content=b"{}").status_code == 200  # freed at the stream's end


@pytest.mark.parametrize("proxies, pooled", [
    ({}, True),
    ({"https": "http://proxy.internal:3128"}, False),
    ({"all": "http://proxy.internal:3128"}, False),
    ({"http": "http://proxy.internal:3128"}, True),  # Google is https
    ({"https": "http://proxy.internal:3128", "no": "generativelanguage.googleapis.com"}, True),
])
def test_a_proxy_for_gemini_keeps_httpx2s_own_transport(proxies, pooled):
    args = client_args("https://generativelanguage.googleapis.com/", 64, 10.0, proxies)
    assert isinstance(args.get("transport"), ConnectionPool) is pooled
    assert ("limits" in args) is not pooled


def test_an_answer_cut_short_is_a_protocol_error(serve):
    def short(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"ok\"")
        return "close"
    server = serve(short)
    with client() as http, pytest.raises(httpx2.RemoteProtocolError):
        http.post(server.url + "/a", content=b"{}")


def test_a_connection_reset_mid_answer_is_a_read_error(serve):
    def reset_mid_body(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n")
        time.sleep(0.2)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        return "close"
    server = serve(reset_mid_body)
    with client() as http, http.stream("POST", server.url + "/s", content=b"{}") as response:
        pieces = response.iter_bytes()
        assert next(pieces) == b"first\n"
        with pytest.raises(httpx2.ReadError):
            next(pieces)


def test_tls_connections_are_verified_and_kept_alive(serve):
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_tls)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    server = serve(ok(), ok(), tls=server_tls)
    with client(ssl_context=trusting) as http:
        assert [http.post(server.url + "/a", content=b"{}").json() for _ in range(2)] == [{"ok": True}] * 2
    assert (server.connections, server.requests) == (1, 2)


def test_an_untrusted_certificate_is_a_connect_error(serve):
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost").configure_cert(server_tls)
    server = serve(ok(), tls=server_tls)
    with client() as http, pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        http.post(server.url + "/a", content=b"{}")


def reapers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "upstream-pool-reaper"]


def test_idle_connections_are_closed_on_a_timer_not_only_when_the_pool_is_next_used(serve):
    server = serve(*[ok()] * 8)
    pool = ConnectionPool(8, max_keepalive=8, keepalive_expiry=0.3, reap_interval=0.1)
    with httpx2.Client(transport=pool, timeout=5) as http:
        barrier = threading.Barrier(4)

        def call():
            barrier.wait()
            http.post(server.url + "/a", content=b"{}")
        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert pool.idle_connections() >= 1
        assert server.connections >= 1
        deadline = time.monotonic() + 3
        while (pool.idle_connections() or reapers()) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Nobody used the pool since the burst: the timer closed every idle socket, then its thread ended.
        assert pool.idle_connections() == 0
        assert not reapers()
        assert server.client_closed.wait(2), "the server never saw an idle connection close"


def test_close_stops_the_reaper(serve):
    server = serve(ok())
    pool = ConnectionPool(2, max_keepalive=2, keepalive_expiry=60, reap_interval=0.05)
    with httpx2.Client(transport=pool, timeout=5) as http:
        http.post(server.url + "/a", content=b"{}")
        assert reapers()
        assert pool.idle_connections() == 1
    assert not reapers()
    assert pool.idle_connections() == 0


def test_the_pool_connect_timeout_caps_the_requests(monkeypatch):
    seen = []
    def connect(connection, timeout):
        seen.append(timeout)
        raise ZeroDivisionError  # no connection: the test needs only the timeout it was given

    monkeypatch.setattr("gemini_proxy.upstream.pool._connect", connect)
    pool = ConnectionPool(1, max_keepalive=1, connect_timeout=2.0)
    with (httpx2.Client(transport=pool, timeout=httpx2.Timeout(30.0, connect=9.0)) as http,
          pytest.raises(ZeroDivisionError)):
        http.post("http://127.0.0.1:9/a", content=b"{}")
    assert seen == [2.0]


def test_a_stream_s_read_timeout_can_be_changed_while_it_is_read(serve):
    server = serve(slow_stream)
    with client(timeout=5.0) as http, http.stream("POST", server.url + "/s", content=b"{}") as response:
        pieces = response.iter_bytes()
        assert next(pieces) == b"first\n"
        response.extensions[READ_TIMEOUT](0.2)  # the second part comes 1 s later
        with pytest.raises(httpx2.ReadTimeout):
            next(pieces)



def test_a_reused_connection_closed_after_the_request_was_sent_is_not_sent_again(serve):
    def read_then_close(conn):
        return "close"  # the request was read: the server may have acted on it
    server = serve(ok(), read_then_close, ok())
    with client() as http:
        assert http.post(server.url + "/a", content=b"{}").status_code == 200
        with pytest.raises(httpx2.RemoteProtocolError):
            http.post(server.url + "/b", content=b"{}")
    assert (server.connections, server.requests) == (1, 2)


def test_a_pool_whose_reaper_did_not_survive_a_fork_starts_a_new_one(serve):
    server = serve(ok())
    pool = ConnectionPool(2, max_keepalive=2, keepalive_expiry=0.2, reap_interval=0.05)
    pool._reaper = threading.Thread(target=lambda: None)  # what a child process inherits: a thread object, no thread
    with httpx2.Client(transport=pool, timeout=5) as http:
        http.post(server.url + "/a", content=b"{}")
        assert server.client_closed.wait(3), "the idle connection was never closed"


HEADER_BLOCKS = [
    b"Content-Type: application/json; charset=UTF-8\r\nVary: Origin\r\nVary: X-Origin\r\nX-Spaced:   a b  \r\n"
    b"X-Empty:\r\nX-Folded: one\r\n two\r\n\tthree\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"content-length: 2\r\nConnection: close\r\nX-Latin: \xe9t\xe9\r\n\r\n",
    b"A:b\nC: d\n\n",
    b"\r\n",
]


@pytest.mark.parametrize("block", HEADER_BLOCKS)
def test_header_fields_are_read_as_the_standard_library_reads_them(block):
    # The pool's responses read their header block without the email package (pool._header_fields).
    assert _header_fields(io.BytesIO(block)).items() == http.client.parse_headers(io.BytesIO(block)).items()


def test_an_answer_s_repeated_and_folded_headers_reach_the_client(serve):
    def answer(conn):
        conn.sendall(b"HTTP/1.1 429 Too Many Requests\r\nVary: Origin\r\nVary: X-Origin\r\nRetry-After: 7\r\n"
                     b"X-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\n{}")
    server = serve(answer)
    with client() as http:
        response = http.post(server.url + "/a", content=b"{}")
    assert response.status_code == 429
    assert response.headers.get_list("vary") == ["Origin", "X-Origin"]
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-folded"] == "a\r\n b"
    assert response.json() == {}


def sdk_call(server: ScriptedServer, method: str, path: str, body: bytes | None, key: str | None = None):
    """One call as upstream/client.py sends it (the SDK's client on a ConnectionPool, a template per
    path, sdk_calls.send): the SDK client, to be kept while the answer is read (it closes its pool
    when it goes), and the answer."""
    sdk = genai.Client(api_key="test-key", http_options=types.HttpOptions(
        base_url=server.url, api_version="v1beta", client_args=client_args(server.url, 4, 5.0, {})))
    http = sdk._api_client
    return sdk, sdk_calls.send(http, sdk_calls.template(http, method, path, None), body, key, 5.0, 5.0)


def request_lines(server: ScriptedServer) -> list[bytes]:
    return [head.split(b"\r\n", 1)[0] for head, _ in server.received]


def header_names(head: bytes) -> list[bytes]:
    return [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n")[1:] if line]


def moved(location: bytes):
    def answer(conn):
        conn.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % location)
    return answer


def test_an_sdk_call_is_sent_once_and_read_as_the_sdk_reads_it(serve):
    server = serve(ok(b'{"candidates": []}'))
    _sdk, answer = sdk_call(server, "post", "models/m:generateContent", b'{"contents": []}', "pool-key")
    assert answer.response_stream.read() == b'{"candidates": []}'
    assert answer.response_stream.headers["content-type"] == "application/json"
    assert request_lines(server) == [b"POST /v1beta/models/m:generateContent HTTP/1.1"]
    head, body = server.received[0]
    names = header_names(head)
    assert body == b'{"contents": []}'
    assert len(names) == len(set(names)), "a header sent twice"
    assert {b"host", b"content-length", b"content-type", b"x-goog-api-key", b"x-server-timeout",
            b"x-goog-api-client", b"user-agent"} <= set(names)
    assert b"\r\nx-goog-api-key: pool-key\r\n" in head
    assert b"\r\nContent-Length: 16\r\n" in head


def test_an_sdk_call_without_a_body_sends_no_length(serve):
    server = serve(ok(b'{"models": []}'))
    _sdk, answer = sdk_call(server, "get", "models", None)
    assert answer.response_stream.read() == b'{"models": []}'
    head, body = server.received[0]
    assert request_lines(server) == [b"GET /v1beta/models HTTP/1.1"]
    assert body == b""
    assert b"content-length" not in header_names(head)


def test_an_sdk_call_follows_a_redirect_with_its_method_and_body(serve):
    server = serve(moved(b"/v1beta/models/m:generateContent?moved=1"), ok())
    _sdk, answer = sdk_call(server, "post", "models/m:generateContent", b"{}")
    assert answer.response_stream.read() == b'{"ok": true}'
    assert request_lines(server) == [b"POST /v1beta/models/m:generateContent HTTP/1.1",
                                     b"POST /v1beta/models/m:generateContent?moved=1 HTTP/1.1"]
    assert [body for _, body in server.received] == [b"{}", b"{}"]


def test_an_sdk_call_s_error_status_is_the_sdk_s_error(serve):
    def refused(conn):
        body = b'{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}'
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(body), body))
    server = serve(refused)
    with pytest.raises(genai_errors.ClientError) as raised:
        sdk_call(server, "post", "models/m:generateContent", b"{}")
    assert (raised.value.code, raised.value.message) == (400, "bad")
