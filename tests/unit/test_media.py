"""Media parts -> (MIME type, bytes): data URLs, base64, type tables, and the SSRF-guarded fetch.

The fetch tests talk to HTTP(S) servers on 127.0.0.1 only. Tests that need a "public" host use
the `network` fixture: it fakes DNS answers and reroutes connections to PUBLIC_IP:80 to the local
server; any other non-loopback connection is refused by the fake, so nothing leaves the machine.
"""
from __future__ import annotations

import base64
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

import pytest

from gemini_proxy.media.data import MediaError, MediaLimits, audio_mime, decode_base64, file_mime, parse_data_url
from gemini_proxy.media.fetch import fetch

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
LOOPBACK = MediaLimits(timeout=2.0, allow_private=True)
PUBLIC = MediaLimits(timeout=2.0)
PUBLIC_IP = "93.184.216.34"  # any global address: the `network` fixture reroutes it to the test server


def respond(h, status=200, body=b"", content_type="image/png", headers=(), length=True):
    h.send_response(status)
    if content_type:
        h.send_header("Content-Type", content_type)
    if length:
        h.send_header("Content-Length", str(len(body)))
    for name, value in headers:
        h.send_header(name, value)
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(body)


def redirect(location, status=302):
    return lambda h: respond(h, status, content_type=None, headers=[("Location", location)])


def chunked(body, chunk=512):
    def send(h):
        respond(h, body=b"", headers=[("Transfer-Encoding", "chunked")], length=False)
        for start in range(0, len(body), chunk):
            piece = body[start:start + chunk]
            h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        h.wfile.write(b"0\r\n\r\n")
    return send


def slow(h):
    h.server.stop.wait(2)
    respond(h, body=PNG)


def drip_body(h):
    respond(h, body=b"", length=False)
    for _ in range(60):
        if h.server.stop.wait(0.05):
            return
        h.wfile.write(b"x")


def drip_headers(h):
    h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(60):
        if h.server.stop.wait(0.05):
            return
        h.wfile.write(b"x")


def hops(h, count):
    if count == 0:
        return respond(h, body=PNG)
    redirect(f"http://{h.headers['Host']}/hops/{count - 1}")(h)


ROUTES = {
    "/png": lambda h: respond(h, body=PNG),
    "/html": lambda h: respond(h, body=b"<p>hi</p>", content_type="text/html; charset=utf-8"),
    "/json": lambda h: respond(h, body=b"{}", content_type="application/json"),
    "/no-type": lambda h: respond(h, body=PNG, content_type=None),
    "/missing": lambda h: respond(h, 404, b"secret-body", content_type="text/plain"),
    "/dir/relative": redirect("../png", 301),
    "/to-ftp": redirect("ftp://127.0.0.1/png"),
    "/to-file": redirect("file:///etc/passwd"),
    "/to-private": redirect("http://10.0.0.1/png"),
    "/to-loopback": lambda h: redirect(f"http://127.0.0.1:{h.server.server_port}/png")(h),
    "/no-location": lambda h: respond(h, 302, content_type=None),
    "/big-length": lambda h: respond(h, body=PNG, headers=[("Content-Length", str(10**9))], length=False),
    "/big-stream": lambda h: respond(h, body=b"x" * 4096, length=False),
    "/big-chunked": chunked(b"x" * 4096),
    "/chunked": chunked(PNG, chunk=7),
    "/short": lambda h: respond(h, body=PNG, headers=[("Content-Length", "100")], length=False),
    "/empty": lambda h: respond(h, body=b""),
    "/gzip": lambda h: respond(h, body=PNG, headers=[("Content-Encoding", "gzip")]),
    "/slow": slow,
    "/drip-body": drip_body,
    "/drip-headers": drip_headers,
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.seen.append(SimpleNamespace(path=self.path, headers=self.headers))
        path = urlsplit(self.path).path
        if match := re.fullmatch(r"/hops/(\d+)", path):
            return hops(self, int(match[1]))
        if match := re.fullmatch(r"/status/(\d+)", path):
            return redirect("/png", int(match[1]))(self)
        ROUTES.get(path, lambda h: respond(h, 404, content_type=None))(self)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    def __init__(self, tls: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        if tls:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.seen, self.connections, self.stop = [], 0, threading.Event()
        self.port = self.server_port
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def url(self, path, host="127.0.0.1", scheme="http"):
        return f"{scheme}://{host}:{self.port}{path}"

    def paths(self):
        return [urlsplit(request.path).path for request in self.seen]

    def verify_request(self, request, client_address):
        self.connections += 1
        return True

    def handle_error(self, request, client_address):
        pass  # clients here hang up on purpose (timeouts, size limits)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.shutdown()
        self.server_close()


@pytest.fixture(scope="module")
def http_server():
    with Server() as server:
        yield server


@pytest.fixture
def server(http_server):
    http_server.seen.clear()
    return http_server


@pytest.fixture
def network(monkeypatch, server):
    """Fake DNS (`hosts`: name -> list of answers, one list per lookup, the last repeating) and
    routing (PUBLIC_IP:80 -> the test server; other non-loopback addresses refuse)."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    net = SimpleNamespace(hosts={}, lookups=[], connects=[])

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in net.hosts:
            return real_getaddrinfo(host, port, *args, **kwargs)
        net.lookups.append(host)
        answers = net.hosts[host]
        ips = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)) if ":" in ip
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    def connect(sock, address):
        net.connects.append(address[:2])
        if address[:2] == (PUBLIC_IP, 80):
            address = ("127.0.0.1", server.port)
        elif address[0] not in ("127.0.0.1", "::1"):
            raise ConnectionRefusedError(111, "refused by the test network")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return net


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for DNS:localhost only (no IP address in it)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", folder / "key.pem", "-out", folder / "cert.pem"], check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture(scope="module")
def tls_server(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with Server(tls=context) as server:
        yield server


@pytest.fixture
def trust_test_certificate(monkeypatch, certificate):
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda: real(cafile=certificate[0]))


def refused(call, match):
    with pytest.raises(MediaError, match=match) as caught:
        call()
    assert caught.value.message == str(caught.value)
    assert caught.value.param is None
    return caught.value.message


# --- data URLs and base64 -------------------------------------------------------------------

def test_data_url_with_standard_base64():
    assert parse_data_url("data:image/png;base64," + base64.b64encode(PNG).decode(), 100) == ("image/png", PNG)


def test_data_url_type_is_lowercased_and_parameters_dropped():
    url = "data:Image/PNG;name=dot.png;BASE64," + base64.b64encode(PNG).decode()
    assert parse_data_url(url, 100) == ("image/png", PNG)


@pytest.mark.parametrize("size", range(1, 9))
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
@pytest.mark.parametrize("padded", [True, False])
def test_base64_in_either_alphabet_with_or_without_padding(size, encode, padded):
    data = bytes(range(250, 256)) * 2 + bytes([251] * size)  # bytes that need '+/' or '-_'
    text = encode(data).decode()
    assert decode_base64(text if padded else text.rstrip("="), 100) == data
    assert parse_data_url(f"data:audio/wav;base64,{text}", 100) == ("audio/wav", data)


def test_base64_may_be_percent_encoded_or_wrapped_in_lines():
    text = base64.b64encode(bytes(range(248, 256)) * 3).decode()
    assert "+" in text
    assert "/" in text
    assert parse_data_url("data:image/png;base64," + quote(text, safe=""), 100)[1] == bytes(range(248, 256)) * 3
    assert decode_base64("\n".join(text[i:i + 8] for i in range(0, len(text), 8)), 100) == bytes(range(248, 256)) * 3


def test_percent_encoded_data_url():
    assert parse_data_url("data:text/plain;charset=utf-8,hello%20world%E2%9C%93", 100) == (
        "text/plain", "hello world\u2713".encode())


@pytest.mark.parametrize("url, match", [
    ("https://example.com/a.png", "expected a data: URL"),
    ("data:image/png;base64", "comma"),
    ("data:,hello", "needs a MIME type"),
    ("data:;base64,aGk=", "needs a MIME type"),
    ("data:image;base64,aGk=", "type/subtype"),
    ("data:image/png;base64,@@@@", "not valid base64"),
    ("data:image/png;base64,aGk===", "not valid base64"),
    ("data:image/png;base64,aG=k", "not valid base64"),
    ("data:image/png;base64,aGkhY", "length or padding"),
    ("data:image/png;base64,aGk=aGk=", "not valid base64"),
    ("data:image/png;base64,ab+_", "mixes"),
    ("data:image/png;base64,", "empty"),
    ("data:text/plain,", "no data"),
])
def test_bad_data_urls(url, match):
    refused(lambda: parse_data_url(url, 100), match)


def test_oversize_data_is_refused_naming_the_limit():
    assert parse_data_url("data:image/png;base64," + base64.b64encode(b"x" * 100).decode(), 100)[1] == b"x" * 100
    refused(lambda: parse_data_url("data:image/png;base64," + base64.b64encode(b"x" * 101).decode(), 100),
            "larger than the 100 bytes limit")
    refused(lambda: parse_data_url("data:text/plain," + "x" * 101, 100), "100 bytes limit")
    refused(lambda: decode_base64(base64.b64encode(b"x" * (1 << 20) + b"y").decode(), 1 << 20), "1 MiB limit")


def test_decode_base64_refuses_garbage_and_data_urls():
    refused(lambda: decode_base64("data:audio/wav;base64,aGk=", 100), "not a data: URL")
    refused(lambda: decode_base64("héllo", 100), "not valid base64")
    refused(lambda: decode_base64(" \n ", 100), "empty")


# --- type tables ----------------------------------------------------------------------------

@pytest.mark.parametrize("format, mime", [("wav", "audio/wav"), ("mp3", "audio/mp3"), ("flac", "audio/flac"),
                                          ("aac", "audio/aac"), ("ogg", "audio/ogg"), ("aiff", "audio/aiff"),
                                          ("m4a", "audio/mp4"), (" WAV ", "audio/wav")])
def test_audio_formats(format, mime):
    assert audio_mime(format) == mime


@pytest.mark.parametrize("format", ["pcm16", "", "audio/wav"])
def test_unknown_audio_format_lists_the_known_ones(format):
    refused(lambda: audio_mime(format), "unsupported audio format.*aac, aiff, flac, m4a, mp3, ogg, wav")


@pytest.mark.parametrize("filename, mime", [
    ("report.pdf", "application/pdf"), ("NOTES.TXT", "text/plain"), ("readme.md", "text/md"),
    ("page.html", "text/html"), ("data.csv", "text/csv"), ("data.json", "application/json"),
    ("feed.xml", "text/xml"), ("dir/photo.JPG", "image/jpeg"), ("a.jpeg", "image/jpeg"), ("a.png", "image/png"),
    ("a.webp", "image/webp"), ("a.gif", "image/gif"), ("a.heic", "image/heic"), ("a.heif", "image/heif"),
    ("a.wav", "audio/wav"), ("a.mp3", "audio/mp3"), ("a.flac", "audio/flac"), ("a.aac", "audio/aac"),
    ("a.ogg", "audio/ogg"), ("clip.mp4", "video/mp4"), ("clip.mov", "video/mov"), ("clip.webm", "video/webm"),
    (r"C:\docs\scan.v2.pdf", "application/pdf"),
])
def test_file_type_from_extension(filename, mime):
    assert file_mime(filename, None) == mime


def test_declared_type_wins_unless_it_is_octet_stream():
    assert file_mime("x.pdf", "Text/CSV; charset=utf-8") == "text/csv"
    assert file_mime(None, "image/png") == "image/png"
    assert file_mime("x.pdf", "application/octet-stream") == "application/pdf"


@pytest.mark.parametrize("filename, declared, match", [
    (None, None, "needs a filename"), ("", "application/octet-stream", "needs a filename"),
    ("Makefile", None, "cannot tell the type.*pdf"), ("x.tar.gz", None, "cannot tell"), ("dir.pdf/x", None, "cannot"),
    ("x.pdf", "nonsense", "type/subtype"),
])
def test_unknown_file_types(filename, declared, match):
    refused(lambda: file_mime(filename, declared), match)


@pytest.mark.parametrize("call", [lambda: parse_data_url(None, 100), lambda: decode_base64(None, 100),
                                  lambda: audio_mime(None), lambda: file_mime(None, 7),
                                  lambda: fetch(None, LOOPBACK)])
def test_missing_or_mistyped_values_are_media_errors_too(call):
    refused(call, ".")


def test_limits_must_be_usable():
    with pytest.raises(ValueError, match="unusable media limits"):
        MediaLimits(max_bytes=0)


# --- fetch: the happy paths -----------------------------------------------------------------

def test_fetch_returns_type_and_body_and_sends_only_plain_headers(server):
    assert fetch(server.url("/png"), LOOPBACK) == ("image/png", PNG)
    headers = server.seen[-1].headers
    assert headers["User-Agent"] == "gemini-proxy"
    assert headers["Host"] == f"127.0.0.1:{server.port}"
    assert headers["Accept"] == "image/*,audio/*,video/*,application/pdf,text/*;q=0.5"
    assert headers["Accept-Encoding"] == "identity"
    assert not {"cookie", "authorization", "proxy-authorization"} & {name.lower() for name in headers}


def test_fetch_text_chunked_and_exactly_at_the_limit(server):
    assert fetch(server.url("/html"), LOOPBACK) == ("text/html", b"<p>hi</p>")
    assert fetch(server.url("/chunked"), LOOPBACK) == ("image/png", PNG)
    assert fetch(server.url("/png"), MediaLimits(max_bytes=len(PNG), allow_private=True)) == ("image/png", PNG)


@pytest.mark.parametrize("count", [1, 3])
def test_redirects_up_to_the_limit_are_followed(server, count):
    assert fetch(server.url(f"/hops/{count}"), LOOPBACK) == ("image/png", PNG)
    assert server.paths() == [f"/hops/{n}" for n in range(count, -1, -1)]


def test_more_redirects_than_the_limit_are_refused_without_another_request(server):
    refused(lambda: fetch(server.url("/hops/5"), LOOPBACK), "redirected more than 3 times")
    assert server.paths() == ["/hops/5", "/hops/4", "/hops/3", "/hops/2"]
    refused(lambda: fetch(server.url("/hops/1"), MediaLimits(max_redirects=0, allow_private=True)), "more than 0")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_followed(server, status):
    assert fetch(server.url(f"/status/{status}"), LOOPBACK) == ("image/png", PNG)


def test_relative_redirect_is_resolved_against_the_current_url(server):
    assert fetch(server.url("/dir/relative"), LOOPBACK) == ("image/png", PNG)
    assert server.paths() == ["/dir/relative", "/png"]


def test_non_ascii_host_and_path_are_encoded(server, network):
    network.hosts["xn--bcher-kva.example"] = [[PUBLIC_IP]]
    assert fetch("http://bücher.example/png?q=ü#frag", PUBLIC) == ("image/png", PNG)
    assert server.seen[-1].path == "/png?q=%C3%BC"
    assert server.seen[-1].headers["Host"] == "xn--bcher-kva.example"


# --- fetch: the SSRF guard ------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/png", "http://localhost:{port}/png", "http://[::1]:{port}/png",
    "http://0.0.0.0:{port}/png", "http://127.1:{port}/png", "http://2130706433:{port}/png",
    "http://[::ffff:127.0.0.1]:{port}/png", "http://[64:ff9b::7f00:1]/png", "http://[2002:7f00:1::]/png",
    "http://10.0.0.1/png", "http://192.168.1.1/png", "http://100.64.0.1/png", "http://169.254.169.254/latest/",
    "http://[fe80::1]/png", "http://[fc00::1]/png", "http://224.0.0.1/png", "http://255.255.255.255/png",
    "http://[::]/png",
    # Other spellings of loopback that resolvers accept (octal, hex, short and padded forms).
    "http://0177.0.0.1:{port}/png", "http://0x7f.0.0.1:{port}/png", "http://0x7f000001:{port}/png",
    "http://017700000001:{port}/png", "http://0x7f.1:{port}/png", "http://127.127.127.127:{port}/png",
    "http://0:{port}/png", "http://LOCALHOST:{port}/png",
    "http://[0:0:0:0:0:0:0:1]:{port}/png", "http://[0000::1]:{port}/png", "http://[::ffff:7f00:1]:{port}/png",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/png", "http://[::127.0.0.1]/png",
    # Private, shared, reserved and metadata ranges, and the IPv6 forms that carry them.
    "http://172.16.0.1/png", "http://192.0.0.1/png", "http://198.18.0.1/png", "http://240.0.0.1/png",
    "http://[::ffff:10.0.0.1]/png", "http://[::ffff:169.254.169.254]/png", "http://[100::1]/png",
    "http://[2001:db8::1]/png", "http://[ff02::1]/png", "http://[64:ff9b::a00:1]/png",
])
def test_non_public_targets_are_refused_before_connecting(server, network, url):
    before = server.connections
    refused(lambda: fetch(url.format(port=server.port), PUBLIC), "not a public address")
    assert network.connects == []
    assert server.connections == before


@pytest.mark.parametrize("address", [PUBLIC_IP, f"::ffff:{PUBLIC_IP}", "64:ff9b::5db8:d822", "2002:5db8:d822::1"])
def test_public_addresses_and_their_ipv6_forms_pass_the_guard(network, address):
    network.hosts["cdn.example"] = [[address]]
    if address == PUBLIC_IP:
        assert fetch("http://cdn.example/png", PUBLIC) == ("image/png", PNG)
    else:  # the fake network refuses these, which proves the guard let them through
        refused(lambda: fetch("http://cdn.example/png", PUBLIC), "connection was refused")
    assert network.connects == [(address, 80)]


def test_one_private_answer_among_public_ones_is_enough_to_refuse(network):
    network.hosts["mixed.example"] = [[PUBLIC_IP, "10.1.2.3"]]
    refused(lambda: fetch("http://mixed.example/png", PUBLIC), "not a public address")
    assert network.connects == []


def test_the_checked_address_is_the_one_connected_to(server, network):
    # A rebinding resolver: public for the check, loopback for anyone who asks again.
    network.hosts["rebind.example"] = [[PUBLIC_IP], ["127.0.0.1"]]
    assert fetch("http://rebind.example/png", PUBLIC) == ("image/png", PNG)
    assert network.lookups == ["rebind.example"]
    assert network.connects == [(PUBLIC_IP, 80)]
    assert server.seen[-1].headers["Host"] == "rebind.example"


@pytest.mark.parametrize("path", ["/to-private", "/to-loopback"])
def test_every_redirect_hop_is_checked_again(server, network, path):
    network.hosts["media.example"] = [[PUBLIC_IP]]
    refused(lambda: fetch(f"http://media.example{path}", PUBLIC), "not a public address")
    assert network.connects == [(PUBLIC_IP, 80)]
    assert server.paths() == [path]


@pytest.mark.parametrize("path, scheme", [("/to-ftp", "ftp"), ("/to-file", "file")])
def test_redirect_to_another_scheme_is_refused(server, path, scheme):
    refused(lambda: fetch(server.url(path), LOOPBACK), f"only http and https.*'{scheme}:'")
    assert server.paths() == [path]


@pytest.mark.parametrize("url, match", [
    ("ftp://127.0.0.1/png", "only http and https"), ("file:///etc/passwd", "only http and https"),
    ("gopher://127.0.0.1:70/_x", "only http and https"), ("//127.0.0.1/png", "only http and https"),
    ("", "only http and https"), ("http://user:pw@127.0.0.1:{port}/png", "user name or password"),
    ("http://@127.0.0.1:{port}/png", "user name"), ("http:///png", "no host"), ("http://[::1/png", "malformed"),
    ("http://127.0.0.1:99999/png", "malformed"), ("http://127.0.0.1:{port}/a b", "whitespace"),
    ("http://127.0.0.1:{port}/a\r\nX-Injected: 1", "control"), ("http://a..b/png", "host name is not valid"),
])
def test_unusable_urls_are_refused_before_connecting(server, url, match):
    before = server.connections
    refused(lambda: fetch(url.format(port=server.port), LOOPBACK), match)
    assert server.connections == before


# --- fetch: what comes back -----------------------------------------------------------------

@pytest.mark.parametrize("path, limits, match", [
    ("/missing", LOOPBACK, "HTTP status 404"),
    ("/no-location", LOOPBACK, r"redirected \(HTTP 302\) without a Location"),
    ("/json", LOOPBACK, "content of type 'application/json'"),
    ("/no-type", LOOPBACK, "no Content-Type"),
    ("/gzip", LOOPBACK, "'gzip'-encoded"),
    ("/short", LOOPBACK, "ended before its Content-Length"),
    ("/empty", LOOPBACK, "no content"),
    ("/big-length", MediaLimits(max_bytes=1000, allow_private=True), "larger than the 1000 bytes limit"),
    ("/big-stream", MediaLimits(max_bytes=1000, allow_private=True), "larger than the 1000 bytes limit"),
    ("/big-chunked", MediaLimits(max_bytes=1000, allow_private=True), "larger than the 1000 bytes limit"),
])
def test_unusable_responses(server, path, limits, match):
    message = refused(lambda: fetch(server.url(path), limits), match)
    assert "secret-body" not in message


@pytest.mark.parametrize("path", ["/slow", "/drip-body", "/drip-headers"])
def test_the_timeout_covers_the_whole_fetch(server, path):
    # The drips send a byte every 50 ms: no single read ever times out, only the overall deadline.
    started = time.monotonic()
    refused(lambda: fetch(server.url(path), MediaLimits(timeout=0.3, allow_private=True)), r"timed out after 0\.3 s")
    assert time.monotonic() - started < 1.0


def test_connection_failures_are_short_media_errors():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused(lambda: fetch(f"http://127.0.0.1:{port}/png", LOOPBACK),
            "could not fetch the URL: the connection was refused")


# --- fetch over TLS -------------------------------------------------------------------------

def test_https_works_when_the_certificate_matches_the_name(tls_server, trust_test_certificate):
    assert fetch(tls_server.url("/png", host="localhost", scheme="https"), LOOPBACK) == ("image/png", PNG)


def test_https_is_checked_against_the_name_not_the_address(tls_server, trust_test_certificate):
    refused(lambda: fetch(tls_server.url("/png", scheme="https"), LOOPBACK), "certificate was not accepted.*mismatch")


def test_https_refuses_an_untrusted_certificate(tls_server):
    refused(lambda: fetch(tls_server.url("/png", host="localhost", scheme="https"), LOOPBACK),
            "certificate was not accepted")


def test_https_to_a_plain_http_server_fails_cleanly(server):
    refused(lambda: fetch(server.url("/png", scheme="https"), LOOPBACK), "TLS handshake failed")
