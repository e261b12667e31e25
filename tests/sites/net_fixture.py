"""Loopback networks for the network checks: dual-stack sites, a v4-only sibling, DNS, TLS.

Built on the shared support (``tests/support``): the same :class:`Site` and threaded server, with
two additions the network checks need and nothing else does — a TLS listener (certificates made in
the test with ``trustme``) and a DNS server on ``::1`` (the "do the name servers answer over IPv6"
question). Everything stays on 127.0.0.0/8 and ::1.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dnslib.server import DNSServer

from auditor.demo.servers import Running, Site, _Server
from tests.support.servers import _QUIET, RecordValue, _DictResolver, serve

# --- TLS ------------------------------------------------------------------------------------------


class _TlsServer(_Server):
    """The shared test server with a TLS handshake per connection (in the handler thread, so a
    client that aborts a handshake — as the TLS-version probe does — never stalls the accept loop)."""

    def __init__(self, host: str, port: int, site: Site, context: ssl.SSLContext) -> None:
        self.tls_context = context
        super().__init__(host, port, site)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.settimeout(10)
            tls = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            with contextlib.suppress(OSError):
                request.close()
            return
        try:
            super().finish_request(tls, client_address)
        except (ssl.SSLError, OSError):
            pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: aborted handshakes are the point of some tests."""


@dataclass
class TlsRunning:
    host: str
    port: int

    @property
    def netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def url(self, path: str = "/", host: str | None = None) -> str:
        netloc = f"{host}:{self.port}" if host else self.netloc
        return f"https://{netloc}{path}"


def server_context(cert: Any, min_version: str | None = None, max_version: str | None = None) -> ssl.SSLContext:
    """A server context for a ``trustme`` leaf; ``min_version="TLSv1"`` also offers TLS 1.0/1.1."""

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if min_version:
            ctx.minimum_version = getattr(ssl.TLSVersion, min_version.replace(".", "_"))
            if min_version in ("TLSv1", "TLSv1.1"):
                ctx.set_ciphers("ALL:@SECLEVEL=0")
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if max_version:
            ctx.maximum_version = getattr(ssl.TLSVersion, max_version.replace(".", "_"))
    return ctx


@contextlib.contextmanager
def serve_tls(site: Site, context: ssl.SSLContext, host: str = "127.0.0.1", port: int = 0) -> Iterator[TlsRunning]:
    server = _TlsServer(host, port, site, context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="serve-tls")
    thread.start()
    try:
        yield TlsRunning(host, server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- DNS on ::1 -------------------------------------------------------------------------------------


@contextlib.contextmanager
def dns_server_v6(records: Mapping[str, RecordValue]) -> Iterator[int]:
    """A UDP DNS server on ``[::1]`` answering from ``records`` (the shared resolver); yields the port."""

    server = DNSServer(_DictResolver(records), address="::1", port=0, logger=_QUIET)
    server.start_thread()
    try:
        yield server.server.server_address[1]
    finally:
        server.stop()
        server.server.server_close()


# --- a dual-stack site with a v4-only sibling -------------------------------------------------------


def free_port_both() -> int:
    """A port free on both 127.0.0.1 and ::1, so one URL reaches the site over either family."""

    for _ in range(50):
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
            s6.bind(("::1", 0))
            port = s6.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s4:
                    s4.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free on both loopback families")


def free_port(host: str = "127.0.0.2") -> int:
    """A port free on ``host`` now (the site's pages must name it before the server starts)."""

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


WWW = "www.x.gov.cn"
STATIC = "static.x.gov.cn"


def ipv6_site(static_port: int, l2: int = 3, l3_per_l2: int = 2, static_on_l3: int = 1) -> tuple[Site, Site, dict[str, Any]]:
    """The www site (served on both families) and its IPv4-only sibling ``static.x.gov.cn``.

    Returns the two sites and the expected URL counts of the IPv6 support ratio:
    level-2/3 links from the homepage and depth-1 pages, and resources loaded by depth-1/2 pages.
    """

    static_base = f"http://{STATIC}:{static_port}"
    www, static = Site("www"), Site("static")
    letters = "abcdefghijklmnopqrstuvwxyz"[:l2]
    home_links = "".join(f"<li><a href='/l2/{c}.html'>栏目{c}</a></li>" for c in letters)
    www.page(
        "/",
        "<html><head><meta charset='utf-8'><title>某某县人民政府</title></head><body>"
        f"<h1>某某县人民政府门户网站</h1><ul>{home_links}</ul>"
        f"<a href='{static_base}/doc.pdf'>附件下载</a>"
        f"<img src='{static_base}/banner.png' alt='横幅'>"  # a homepage resource: not in the level-2/3 set
        "<p>" + "政务公开 政务服务 互动交流 " * 20 + "</p></body></html>",
    )
    static.raw("/doc.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    static.raw("/banner.png", b"\x89PNG\r\n\x1a\n", "image/png")
    www.raw("/js/app.js", "var a = 1;", "application/javascript")
    www.raw("/img/common.png", b"\x89PNG\r\n\x1a\n", "image/png")
    l3_count = 0
    for c in letters:
        subs = "".join(f"<li><a href='/l3/{c}{i}.html'>文章{c}{i}</a></li>" for i in range(1, l3_per_l2 + 1))
        www.page(
            f"/l2/{c}.html",
            f"<html><head><meta charset='utf-8'><title>栏目{c}</title><script src='/js/app.js'></script></head>"
            f"<body><h1>栏目{c}</h1><img src='{static_base}/{c}.png' alt='图'><ul>{subs}</ul></body></html>",
        )
        static.raw(f"/{c}.png", b"\x89PNG\r\n\x1a\n", "image/png")
        for i in range(1, l3_per_l2 + 1):
            extra = f"<img src='{static_base}/l3-{c}{i}.png' alt='图'>" if l3_count < static_on_l3 else ""
            if extra:
                static.raw(f"/l3-{c}{i}.png", b"\x89PNG\r\n\x1a\n", "image/png")
            l3_count += 1
            www.page(
                f"/l3/{c}{i}.html",
                f"<html><head><meta charset='utf-8'><title>文章{c}{i}</title></head><body><h1>文章{c}{i}</h1>"
                f"<img src='/img/common.png' alt='图'>{extra}<p>正文内容。</p></body></html>",
            )
    www_urls = l2 + l2 * l3_per_l2 + 1 + 1  # level-2 pages, level-3 pages, app.js, common.png
    static_urls = 1 + l2 + min(static_on_l3, l2 * l3_per_l2)  # doc.pdf, one image per l2 page, l3 images
    return www, static, {"www": www_urls, "static": static_urls}


@dataclass
class DualStack:
    port: int
    static_port: int
    dns: str
    ns_port: int
    records: dict[str, Any]
    v4: Running
    v6: Running | None

    @property
    def url(self) -> str:
        return f"http://{WWW}:{self.port}/"


@contextlib.contextmanager
def dual_stack(
    www: Site, static: Site, static_port: int, v6_site: Site | None = None, aaaa: bool = True
) -> Iterator[DualStack]:
    """www on 127.0.0.1 and ::1 (same port; ``v6_site`` serves something else on ::1), static on
    127.0.0.2 only, names answered by a local DNS server with NS records for x.gov.cn."""

    from tests.support.servers import dns_server

    port = free_port_both()
    with contextlib.ExitStack() as stack:
        v4 = stack.enter_context(serve(www, "127.0.0.1", port))
        v6 = stack.enter_context(serve(v6_site or www, "::1", port)) if aaaa else None
        st = stack.enter_context(serve(static, "127.0.0.2", static_port))
        records: dict[str, Any] = {
            WWW: ["127.0.0.1", "::1"] if aaaa else ["127.0.0.1"],
            STATIC: ["127.0.0.2"],
            "x.gov.cn": {"NS": ["ns1.x.gov.cn", "ns2.x.gov.cn"]},
            "ns1.x.gov.cn": ["127.0.0.1", "::1"],
            "ns2.x.gov.cn": ["127.0.0.1"],
        }
        dns = stack.enter_context(dns_server(records))
        ns_port = stack.enter_context(dns_server_v6(records))
        yield DualStack(port, st.port, dns, ns_port, records, v4, v6)


# --- in-process: a stored run without a crawl, for checks that only probe ------------------------


@dataclass
class StoredRun:
    ctx: Any
    site: Any
    store: Any
    engine: Any = None

    def measure(self) -> StoredRun:
        """Run the engine's measure stage on this run (the probes a check then judges)."""

        from auditor.engine import run_measure

        run_measure(self.engine, self.ctx, self.site)
        return self

    def close(self) -> None:
        self.ctx.close_probes()
        self.store.close()


def stored_run(url: str, db: str, *, dns: str | None = None, as_of: str = "2024-06-03", rules: str = "national",
               plugins: dict[str, dict[str, Any]] | None = None) -> StoredRun:
    """A run row (no pages) with the real engine's rules, pack and probes: for measured checks
    (IPv6 homepage, name servers, certificates: call ``.measure()`` first) and record-reading checks
    (availability), whose inputs are the network or the store rather than crawled pages. End-to-end CLI tests cover the
    crawl path; this keeps the variants fast."""

    from auditor.config import build_config
    from auditor.context import CheckContext, SiteView
    from auditor.engine import Engine
    from auditor.store.database import EvidenceStore

    cfg = build_config({}, {"url": url, "db": db, "dns_server": dns, "as_of": as_of, "rules": rules,
                            "plugins": plugins or {}})
    engine = Engine(cfg)
    store = EvidenceStore(db)
    run_id = store.start_run(cfg.host, url, as_of, {}, "test")
    store.finish_run(run_id, "complete", {"homepage_url": url}, {})
    run = store.get_run(run_id)
    ctx = CheckContext(cfg, engine.pack, engine.rules, store, run_id, engine.probes(), url)
    return StoredRun(ctx, SiteView(store, run), store, engine)
