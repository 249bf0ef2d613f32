"""The gateway's gunicorn worker, piece by piece (tests/e2e/test_drain.py and
test_gunicorn_edges.py run it in gunicorn)."""
import json
import socket
import time

import pytest
from gunicorn.http import errors as http_errors

from gemini_proxy.worker import (SHUTTING_DOWN, RequestReadTimeout, _DeadlineSocket, _Drain, cut_margin, error_for,
                                 raw_response)


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
    raw = raw_response(SHUTTING_DOWN)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"Connection: close" in head and b"Retry-After: 1" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body)["error"]["code"] == "server_shutting_down"


@pytest.mark.parametrize("graceful, cut, leave", [(120, 115, 117.5), (4, 3, 3.5), (0, 0, 0)])
def test_answers_are_ended_before_the_graceful_timeout(graceful, cut, leave):
    drain = _Drain.starting(100.0, graceful)
    assert (drain.cut_at - 100, drain.exit_at - 100) == (cut, leave)
    assert cut_margin(graceful) == graceful - cut
    assert drain.wait(100.0) == (cut or 0.1) and drain.wait(drain.exit_at + 1) == 0.1


def test_a_request_must_arrive_whole_in_time_however_it_trickles():
    ours, client = socket.socketpair()
    with ours, client:
        reader = _DeadlineSocket(ours, 0.5)
        started = time.monotonic()
        with pytest.raises(RequestReadTimeout):
            while True:
                client.sendall(b"x")  # a byte every 0.1 s: each recv() alone would never time out
                assert reader.recv(10) == b"x"
                time.sleep(0.1)
        assert 0.4 < time.monotonic() - started < 1.0 and reader.expired
        assert ours.gettimeout() is None  # left blocking, as gunicorn's threads expect

        ours.setblocking(False)
        ours.recv(10)  # what came after the deadline
        ours.setblocking(True)
        reader.arm()  # the next request on the connection gets its own time
        client.sendall(b"y")
        assert reader.recv(10) == b"y" and not reader.expired
        reader.disarm()  # the app is answering: reads are gunicorn's business again
        time.sleep(0.6)
        client.sendall(b"z")
        assert reader.recv(10) == b"z"
