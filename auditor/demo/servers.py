"""A small threaded HTTP server for loopback sites: the bundled demo and the test suite.

Why it lives in the package: ``govaudit demo`` must serve its demo site without the tests
directory, and the tests must not carry a second server. A :class:`Site` is a routing table
built by code (pages in any encoding, raw bodies, redirects, handler functions, a fallback for
unknown paths); :func:`serve` puts it on 127.0.0.1, ::1 or any 127.0.0.x address and answers
GET and HEAD (HEAD with the same headers and no body) over HTTP/1.1 keep-alive, quietly.

Paths are matched after percent-decoding (UTF-8 first, then GBK) so ``/政策/文件.html`` is found
whether the client sent raw UTF-8 bytes, ``%E6%94%BF...`` or the GBK percent form.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

HeaderList = list[tuple[str, str]]
Headers = Mapping[str, str] | HeaderList | None


@dataclass
class Request:
    """What a handler function sees of one request."""

    method: str
    target: str  # the raw request-target as sent
    path: str  # percent-decoded path, without query
    query: str  # raw query string ("" when none)
    headers: dict[str, str]  # lower-cased names
    client: tuple[str, int]
    server_host: str
    server_port: int
    hits: int  # how many requests this route has answered before this one (any method)

    @property
    def host(self) -> str:
        """The Host header without the port (the name the client asked for)."""

        h = self.headers.get("host", "")
        if h.startswith("["):
            return h[1 : h.index("]")] if "]" in h else h
        return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


Response = tuple[int, Headers, bytes | str]
HandlerFn = Callable[[Request], Response]


@dataclass
class _Route:
    kind: str  # static | handler
    status: int = 200
    headers: HeaderList = field(default_factory=list)
    body: bytes = b""
    fn: HandlerFn | None = None
    hits: int = 0


def _header_list(headers: Headers) -> HeaderList:
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def _has(headers: HeaderList, name: str) -> bool:
    return any(k.lower() == name.lower() for k, _ in headers)


def normalise_path(path: str | bytes) -> str:
    """Decode percent escapes (UTF-8, else GBK) so every spelling of a path maps to one key."""

    raw = unquote_to_bytes(path)
    for enc in ("utf-8", "gbk"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return unquote(path, errors="replace")


NOT_FOUND_HTML = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>404 Not Found</title></head>"
    "<body><h1>404 Not Found</h1></body></html>"
)


class Site:
    """A routing table for one loopback site, filled by code.

    Paths may carry a query (``/list.html?page=2``): a request matches the exact path+query
    first, then the path alone. Unknown paths go to the fallback (a plain 404 by default).
    """

    def __init__(self, name: str = "site") -> None:
        self.name = name
        self.routes: dict[str, _Route] = {}
        self._fallback: HandlerFn | None = None
        self._lock = threading.Lock()

    # --- building -----------------------------------------------------------------------
    @staticmethod
    def _key(path: str) -> str:
        parts = urlsplit(path)
        key = normalise_path(parts.path or "/")
        return f"{key}?{parts.query}" if parts.query else key

    def page(self, path: str, html: str, encoding: str = "utf-8", status: int = 200, headers: Headers = None) -> Site:
        """An HTML page encoded in ``encoding``; ``Content-Type`` declares it unless ``headers`` set one.

        Pass ``headers={"Content-Type": "text/html"}`` to leave the charset to a ``<meta>`` tag.
        """

        hl = _header_list(headers)
        if not _has(hl, "content-type"):
            hl.append(("Content-Type", f"text/html; charset={encoding}"))
        body = html.encode(encoding, errors="xmlcharrefreplace")
        self.routes[self._key(path)] = _Route("static", status, hl, body)
        return self

    def raw(self, path: str, body: bytes | str, content_type: str, status: int = 200, headers: Headers = None) -> Site:
        """Any body with the given content type (PDF, DOCX, sitemap.xml, robots.txt…)."""

        hl = _header_list(headers)
        if content_type and not _has(hl, "content-type"):
            hl.append(("Content-Type", content_type))
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[self._key(path)] = _Route("static", status, hl, data)
        return self

    def redirect(self, path: str, location: str, status: int = 301) -> Site:
        """A redirect; ``location`` is sent as given (relative or absolute)."""

        body = f"<html><body><a href='{location}'>moved</a></body></html>".encode()
        hl = [("Location", location), ("Content-Type", "text/html; charset=utf-8")]
        self.routes[self._key(path)] = _Route("static", status, hl, body)
        return self

    def handler(self, path: str, fn: HandlerFn) -> Site:
        """A function answering ``fn(request) -> (status, headers, body)``; it may keep state."""

        self.routes[self._key(path)] = _Route("handler", fn=fn)
        return self

    def fallback(self, fn: HandlerFn) -> Site:
        """Answer for every unknown path (custom 404 pages, soft 404s, redirect-to-home)."""

        self._fallback = fn
        return self

    def paths(self) -> list[str]:
        return sorted(self.routes)

    # --- answering ----------------------------------------------------------------------
    def respond(self, req: Request) -> tuple[int, HeaderList, bytes]:
        """Status, headers and body for one request (the body is dropped for HEAD by the server)."""

        key = req.path + (f"?{req.query}" if req.query else "")
        with self._lock:
            route = self.routes.get(key) or self.routes.get(req.path)
            if route is not None:
                req.hits = route.hits
                route.hits += 1
        if route is None:
            if self._fallback is not None:
                return self._call(self._fallback, req)
            return 404, [("Content-Type", "text/html; charset=utf-8")], NOT_FOUND_HTML.encode()
        if route.kind == "handler":
            assert route.fn is not None
            return self._call(route.fn, req)
        return route.status, list(route.headers), route.body

    @staticmethod
    def _call(fn: HandlerFn, req: Request) -> tuple[int, HeaderList, bytes]:
        status, headers, body = fn(req)
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        return status, _header_list(headers), data


class Hosts:
    """Name-based virtual hosts on one server: the Host header picks the site.

    Lets one loopback port stand in for several names (``--resolve`` maps them all to it);
    requests for an unknown name go to ``default`` (the first site when not given).
    """

    def __init__(self, sites: Mapping[str, Site], default: Site | None = None) -> None:
        self.sites = {k.lower(): v for k, v in sites.items()}
        self.default = default or next(iter(self.sites.values()))
        self.name = "+".join(self.sites) or "hosts"

    def respond(self, req: Request) -> tuple[int, HeaderList, bytes]:
        return self.sites.get(req.host.lower(), self.default).respond(req)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "govaudit-testserver/1"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Quiet: tests and the demo must not spam the terminal."""

    def _answer(self, send_body: bool) -> None:
        # http.server decodes the request line as Latin-1: get the bytes back so raw UTF-8/GBK
        # paths decode like their percent-encoded spellings.
        parts = urlsplit(self.path)  # origin- or absolute-form
        req = Request(
            method=self.command,
            target=self.path,
            path=normalise_path((parts.path or "/").encode("latin-1", errors="replace")),
            query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            client=self.client_address[:2],
            server_host=self.server.host,
            server_port=self.server.server_address[1],
            hits=0,
        )
        # Drain a request body (clients rarely send one with GET, but keep-alive must stay in sync).
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        try:
            status, headers, body = self.server.site.respond(req)
        except Exception as exc:  # a broken handler is a 500, never a dead server thread
            status, headers, body = 500, [("Content-Type", "text/plain; charset=utf-8")], f"handler error: {exc!r}".encode()
        if status == 0:  # handler asked to drop the connection without answering
            self.close_connection = True
            return
        self.send_response(status)
        for k, v in headers:
            if k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body and status not in (204, 304):
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._answer(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(False)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, site: Site | Hosts) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.site = site
        super().__init__((host, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a crawler stopping a download at its size cap, a
        HEAD-then-GET fallback) is normal traffic for an audited site, not a server fault: no
        traceback on the terminal. Anything else is still reported."""

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass
class Running:
    """A site being served: where to reach it."""

    host: str
    port: int
    site: Site | Hosts
    _server: _Server | None = None

    @property
    def netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash)."""

        return f"http://{self.netloc}"

    def url(self, path: str = "/", host: str | None = None) -> str:
        """An absolute URL on this server, optionally under another name (``--resolve``d)."""

        netloc = f"{host}:{self.port}" if host else self.netloc
        return f"http://{netloc}{path if path.startswith('/') else '/' + path}"


@contextlib.contextmanager
def serve(site: Site | Hosts, host: str = "127.0.0.1", port: int = 0) -> Iterator[Running]:
    """Serve ``site`` (or several name-based :class:`Hosts`) on ``host:port`` (0 = any free port) in a daemon thread until the block ends."""

    server = _Server(host, port, site)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name=f"serve-{site.name}")
    thread.start()
    try:
        yield Running(host, server.server_address[1], site, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
