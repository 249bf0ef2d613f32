"""HTTP/1.1 over a plain socket, for tests that must send what no client library would (a malformed
request line, a chunked body cut short, a request target as written) and read what comes back
before anything normalises it."""
from __future__ import annotations

import socket


def http_request(method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"", *,
                 host: str = "gateway") -> bytes:
    """One request as bytes, with `Connection: close` (so the answer ends when the server closes);
    `target` goes on the request line exactly as given. No Content-Length is added: `headers` say
    how the body is framed."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(url: str, raw: bytes, timeout: float = 15) -> tuple[int, dict[str, str], bytes]:
    """Sends `raw` as it is to `url` (http://host:port) and reads until the server closes: the
    status, headers (names in lower case) and body of the first answer."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    if "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return int(status_line.split()[1]), headers, body
