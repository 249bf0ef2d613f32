"""Requests that must arrive in time (REQUEST_READ_TIMEOUT), for the gateway's gunicorn worker.

gunicorn's threaded worker hands a connection to a thread as soon as any byte of a request is
there, and the thread then reads the rest however long it takes: a client sending a byte now
and then held a thread for ever, and a few hundred of them stalled the worker (/healthz
included). Here what a client sent is read without waiting into the parser's buffer, and the
connection waits in the poller, holding no thread, until the request is whole (its head, and
its body when small); past its deadline it gets a 408. What a thread still reads (large bodies,
TLS) is read within the same deadline.
"""
from __future__ import annotations

import os
import re
import socket
import time

from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn
from werkzeug.exceptions import RequestTimeout

# How much of a request may arrive before a thread takes it; and where its body length is.
LOOKAHEAD = 32768
# How often requests waiting in the poller are checked against their deadline.
SWEEP_SECONDS = 0.2
# How long a thread waits for a new connection's first bytes before leaving it to the poller
# (gunicorn waits 5 s: a few hundred connections that send nothing held every thread).
FIRST_BYTES_WAIT = 0.5
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([^\r]*?)[ \t]*\r\n", re.IGNORECASE)


class RequestReadTimeout(RequestTimeout):
    """The client took longer than REQUEST_READ_TIMEOUT to send its request. An HTTPException, so
    that raised while the app reads the body it becomes the app's own 408."""


class DeadlineSocket:
    """The client socket as gunicorn's request parser sees it: while the connection's request is
    being read, each recv() waits only for what is left of its read time."""

    def __init__(self, sock: socket.socket, conn: Connection):
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


class Connection(TConn):
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
            unreader.sock, self._wrapped = DeadlineSocket(unreader.sock, self), True

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
            data = self.sock.recv(LOOKAHEAD, socket.MSG_DONTWAIT)
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
        head_end = received.find(b"\r\n\r\n", 0, LOOKAHEAD)
        if head_end < 0:
            return len(received) >= LOOKAHEAD  # a head this long: the parser judges it
        length = _CONTENT_LENGTH.search(received, 0, head_end + 2)
        if length is None or not length.group(1).isdigit():
            return True  # no body, chunked or malformed: the parser reads (or refuses) it
        whole = head_end + 4 + int(length.group(1))
        return whole > LOOKAHEAD or len(received) >= whole  # a large body is read by a thread, in time
