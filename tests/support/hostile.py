"""A hostile site on loopback, built by code: raw-socket answers an ``http.server`` cannot give.

Each route is a behaviour writing bytes to the socket itself — a body cut by a reset (RST) or a
FIN after part of its Content-Length, a drip of one byte at a time, no answer at all, a gzip
bomb, pages over the size cap with and without Content-Length, endless calendar, pagination and
session-id families, a UTF-8 header on GBK bytes, a truncated PDF and a DOCX that is no zip.
Every connection is closed after one answer (``Connection: close``), so a behaviour owns its
socket; the server counts hits per path so tests can prove what was (not) fetched.
"""

from __future__ import annotations

import contextlib
import gzip
import secrets
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

Behaviour = Callable[[socket.socket, str, str, "HostileServer"], None]

CAP = 1024 * 1024  # the page cap the hostile audit runs with (page_max_bytes)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()] + ["Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def send(conn: socket.socket, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", method: str = "GET",
         extra: dict[str, str] | None = None) -> None:
    headers = {"Content-Type": ctype, "Content-Length": str(len(body)), **(extra or {})}
    conn.sendall(_head(status, headers) + (b"" if method == "HEAD" else body))


def html(title: str, links: list[str] = (), extra: str = "") -> bytes:  # type: ignore[assignment]
    anchors = "".join(f'<li><a href="{u}">{u}</a></li>' for u in links)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<h1>{title}</h1><ul>{anchors}</ul>{extra}<p>{'正文内容。' * 40}</p></body></html>").encode()


@dataclass
class HostileServer:
    host: str = "127.0.0.1"
    routes: dict[str, Behaviour] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def route(self, path: str, fn: Behaviour) -> None:
        self.routes[path] = fn

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            method, target, _ = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            path = urlsplit(target).path.split(";", 1)[0]
            self.hits[path] += 1
            fn = self.routes.get(path)
            if fn is None:
                send(conn, 404, b"<html><head><title>404 Not Found</title></head><body>404 Not Found</body></html>",
                     method=method)
            else:
                fn(conn, method, target, self)
        except OSError:
            pass  # the client gave up (a cap, a timeout): exactly what some routes provoke
        finally:
            with contextlib.suppress(OSError):
                conn.close()


@contextlib.contextmanager
def serve_hostile(server: HostileServer) -> Iterator[HostileServer]:
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((server.host, server.port))
    lsock.listen(128)
    lsock.settimeout(0.2)
    server.port = lsock.getsockname()[1]

    def accept_loop() -> None:
        while not server.stop.is_set():
            try:
                conn, _ = lsock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=server._serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True, name="hostile-server")
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        thread.join(timeout=2)
        lsock.close()


# --- behaviours -----------------------------------------------------------------------------

def page(title: str, links: list[str] = ()) -> Behaviour:  # type: ignore[assignment]
    body = html(title, list(links))
    return lambda conn, method, target, srv: send(conn, 200, body, method=method)


def cut_body(reset: bool) -> Behaviour:
    """Content-Length 200 000, then 20 000 bytes and a RST (``reset``) or a FIN."""

    def fn(conn: socket.socket, method: str, target: str, srv: HostileServer) -> None:
        body = html("cut", []) + b"x" * 200_000
        conn.sendall(_head(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": "200000"}))
        if method == "HEAD":
            return
        conn.sendall(body[:20_000])
        time.sleep(0.05)
        if reset:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    return fn


def drip(conn: socket.socket, method: str, target: str, srv: HostileServer) -> None:
    """Headers, then one byte every 0.3 s of a 10 000-byte body: only a timeout ends it."""

    conn.sendall(_head(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": "10000"}))
    while not srv.stop.is_set():
        conn.sendall(b"x")
        time.sleep(0.3)


def no_response(conn: socket.socket, method: str, target: str, srv: HostileServer) -> None:
    srv.stop.wait(30)


def gzip_bomb(conn: socket.socket, method: str, target: str, srv: HostileServer) -> None:
    """≈10 kB of gzip that expands to 10 MB (ten times the audit's page cap)."""

    body = BOMB
    send(conn, 200, body, method=method, extra={"Content-Encoding": "gzip"})


BOMB = gzip.compress(b"<html><head><title>bomb</title></head><body>" + b"\0" * (10 * CAP), compresslevel=9)


def huge(with_length: bool) -> Behaviour:
    """3 × the cap, declared (Content-Length) or streamed until the client hangs up."""

    def fn(conn: socket.socket, method: str, target: str, srv: HostileServer) -> None:
        size = 3 * CAP
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if with_length:
            headers["Content-Length"] = str(size)
        conn.sendall(_head(200, headers))
        if method == "HEAD":
            return
        conn.sendall(b"<html><head><title>huge</title></head><body>")
        chunk = b"<p>" + b"a" * 65_530 + b"</p>"
        for _ in range(size // len(chunk)):
            conn.sendall(chunk)

    return fn


def calendar(conn: socket.socket, method: str, target: str, srv: HostileServer) -> None:
    """``/cal?year=Y&month=M`` links to the next and the previous month, forever."""

    q = parse_qs(urlsplit(target).query)
    y, m = int(q.get("year", ["2026"])[0]), int(q.get("month", ["1"])[0])
    nxt = (y + (m == 12), m % 12 + 1)
    prev = (y - (m == 1), (m - 2) % 12 + 1)
    links = [f"/cal?year={nxt[0]}&month={nxt[1]}", f"/cal?year={prev[0]}&month={prev[1]}"]
    send(conn, 200, html(f"日历 {y}年{m}月", links), method=method)


def pagination(conn: socket.socket, method: str, target: str, srv: HostileServer) -> None:
    n = int(parse_qs(urlsplit(target).query).get("page", ["1"])[0])
    send(conn, 200, html(f"列表 第{n}页", [f"/list?page={n + 1}"]), method=method)


def session(conn: socket.socket, method: str, target: str, srv: HostileServer) -> None:
    send(conn, 200, html("会话", [f"/s.html;jsessionid={secrets.token_hex(8)}"]), method=method)


GBK_TITLE = "政务公开目录"


def wrong_charset(conn: socket.socket, method: str, target: str, srv: HostileServer) -> None:
    """GBK bytes under a UTF-8 Content-Type header (and no meta charset)."""

    body = (f"<html><head><title>{GBK_TITLE}</title></head><body><p>{'政府信息公开。' * 30}</p></body></html>").encode("gbk")
    send(conn, 200, body, ctype="text/html; charset=utf-8", method=method)


TRUNCATED_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Cou"
CORRUPT_DOCX = b"PK\x03\x04" + b"\x14\x00" * 40 + b"this is not the rest of a zip archive"


def raw(body: bytes, ctype: str) -> Behaviour:
    return lambda conn, method, target, srv: send(conn, 200, body, ctype=ctype, method=method)


def hostile_site(server: HostileServer, internal: str | None = None) -> HostileServer:
    """Every fault on one site; ``internal`` is a URL on another loopback address the homepage links to."""

    faults = ["/big.html", "/reset.html", "/fin.html", "/drip.html", "/silent.html", "/bomb.html", "/huge-cl.html", "/huge-stream.html",
              "/gbk.html", "/files/bad.pdf", "/files/bad.docx", "/cal?year=2026&month=11", "/list?page=1",
              "/s.html;jsessionid=first"]
    server.route("/", page("敌意测试站", faults + ([internal] if internal else [])))
    big = html("大页面", [], "<p>" + "大" * 100_000 + "</p>")  # ≈300 kB: under the crawl's cap, over the test pack's
    server.route("/big.html", lambda conn, method, target, srv: send(conn, 200, big, method=method))
    server.route("/reset.html", cut_body(reset=True))
    server.route("/fin.html", cut_body(reset=False))
    server.route("/drip.html", drip)
    server.route("/silent.html", no_response)
    server.route("/bomb.html", gzip_bomb)
    server.route("/huge-cl.html", huge(with_length=True))
    server.route("/huge-stream.html", huge(with_length=False))
    server.route("/gbk.html", wrong_charset)
    server.route("/files/bad.pdf", raw(TRUNCATED_PDF, "application/pdf"))
    server.route("/files/bad.docx", raw(CORRUPT_DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    server.route("/cal", calendar)
    server.route("/list", pagination)
    server.route("/s.html", session)
    return server
