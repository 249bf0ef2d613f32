"""The gateway's gunicorn worker, piece by piece: ending answers in time, requests that must
arrive in time, gunicorn's own errors (tests/e2e/test_drain.py and test_gunicorn_edges.py run it
in gunicorn)."""
import json
import socket
import time

import pytest
from gunicorn.config import Config
from gunicorn.http import errors as http_errors

from gemini_proxy.server.arrival import Connection, RequestReadTimeout
from gemini_proxy.server.errors import error_for, raw_response
from gemini_proxy.server.worker import _Drain, cut_margin, shutting_down


@pytest.mark.parametrize("exc, status", [
    (http_errors.InvalidRequestLine("x"), 400), (http_errors.InvalidHTTPVersion("9.9"), 400),
    (http_errors.InvalidHeaderName("a b"), 400), (http_errors.LimitRequestLine(5000, 4094), 414),
    (http_errors.LimitRequestHeaders("too many"), 431), (http_errors.InvalidChunkSize(b"zz"), 400),
    (http_errors.UnsupportedTransferCoding("bogus"), 501), (RequestReadTimeout("slow"), 408),
])
def test_gunicorns_client_errors_have_openai_answers(exc, status):
    assert error_for(exc).status == status


@pytest.mark.parametrize("exc", [http_errors.InvalidResponseHeader("X-Bad"), http_errors.ConfigurationProblem("x"),
                                 RuntimeError("boom")])
def test_faults_of_the_server_are_not_blamed_on_the_client(exc):
    assert error_for(exc) is None


def test_raw_response_is_whole_http():
    raw = raw_response(shutting_down())
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"Connection: close" in head
    assert b"Retry-After: 1" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body)["error"]["code"] == "server_shutting_down"


@pytest.mark.parametrize("graceful, cut, leave", [(120, 115, 117.5), (4, 3, 3.5), (0, 0, 0)])
def test_answers_are_ended_before_the_graceful_timeout(graceful, cut, leave):
    drain = _Drain.starting(100.0, graceful)
    assert (drain.cut_at - 100, drain.exit_at - 100) == (cut, leave)
    assert cut_margin(graceful) == graceful - cut
    assert drain.wait(100.0) == (cut or 0.1)
    assert drain.wait(drain.exit_at + 1) == 0.1


@pytest.fixture
def connection():
    ours, client = socket.socketpair()
    with ours, client:
        yield Connection(Config(), ours, ("127.0.0.1", 5000), ("127.0.0.1", 8000), read_timeout=0.5), client


def trickle(conn, client) -> None:
    """A byte every 0.1 s, each read through the request parser's socket, until a read raises:
    each recv() alone would never time out."""
    while True:
        client.sendall(b"x")
        assert conn.parser.unreader.sock.recv(10) == b"x"
        time.sleep(0.1)


def test_a_request_must_arrive_whole_in_time_however_it_trickles(connection):
    conn, client = connection
    conn.init()
    started = time.monotonic()
    with pytest.raises(RequestReadTimeout):
        trickle(conn, client)
    assert 0.4 < time.monotonic() - started < 1.0
    assert conn.expired
    assert conn.sock.gettimeout() is None  # left blocking, as gunicorn's threads expect

    conn.answered()  # the app is answering: reads are gunicorn's business again
    time.sleep(0.6)
    assert conn.parser.unreader.sock.recv(10) == b"x"  # what came after the deadline
    conn.next_request()  # the next request on the connection gets its own time
    client.sendall(b"y")
    assert conn.parser.unreader.sock.recv(10) == b"y"
    assert not conn.expired


def test_a_thread_takes_a_request_only_once_it_has_arrived(connection):
    conn, client = connection
    assert conn.arrived() is None
    assert conn.deadline is None
    client.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Len")
    assert conn.arrived() is False
    assert conn.deadline is not None
    client.sendall(b"gth: 8\r\n\r\n{\"a\": ")
    assert conn.arrived() is False  # the head, not yet the whole small body
    client.sendall(b"1}")
    assert conn.arrived() is True
    assert conn.parser.unreader.buf.getvalue().endswith(b'{"a": 1}')  # kept for the parser, in order


@pytest.mark.parametrize("raw", [b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                                 # read by a thread
                                 b"POST /v1/embeddings HTTP/1.1\r\nContent-Length: 9999999\r\n\r\n{",
                                 b"POST /v1/embeddings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                                 b"GET /" + b"a" * 40000])  # too long to wait for: the parser refuses it
def test_requests_a_thread_takes_at_once(connection, raw):
    conn, client = connection
    client.sendall(raw)
    assert conn.arrived() is True


def test_a_closed_connection_goes_to_the_parser(connection):
    conn, client = connection
    client.shutdown(socket.SHUT_WR)
    assert conn.arrived() is True
