"""A local HTTP server that answers every GET with one image: media URLs fetched over a real
socket."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", self.server.content_type)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving_image(body: bytes, content_type: str = "image/png") -> Iterator[ThreadingHTTPServer]:
    """The server, on 127.0.0.1 (`server_port`); `paths` lists the paths asked for, in order."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.body, server.content_type, server.paths = body, content_type, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
