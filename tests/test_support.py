"""The shared loopback support itself: if these break, every end-to-end test is meaningless."""

from __future__ import annotations

import http.client
import socket
import time
import urllib.parse

import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest

from tests.support.servers import closed_port, dns_server, ipv6_available, run_cli, serve, silent_server
from tests.support.sites import Site

needs_v6 = pytest.mark.skipif(not ipv6_available(), reason="IPv6 loopback (::1) not available here")


def _site() -> Site:
    site = Site()
    site.page("/", "<html><head><title>首页</title></head><body><a href='/新闻/一.html'>新闻</a></body></html>")
    site.page("/gbk.html", "<html><body>政府信息公开</body></html>", encoding="gbk")
    site.page("/meta.html", "<meta charset='gb2312'><p>示范县</p>", encoding="gb2312", headers={"Content-Type": "text/html"})
    site.page("/新闻/一.html", "<p>新闻一</p>")
    site.raw("/a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf", headers={"X-Extra": "1"})
    site.redirect("/old", "/", status=301)
    site.page("/list.html?page=2", "<p>第2页</p>")
    site.page("/list.html", "<p>第1页</p>")
    site.handler("/once", lambda r: (429, {"Retry-After": "1"}, "") if r.hits == 0 else (200, {"Content-Type": "text/plain"}, "ok"))
    site.handler("/host", lambda r: (200, [("Content-Type", "text/plain")], r.host))
    return site


def _get(host: str, port: int, path: str, method: str = "GET", conn: http.client.HTTPConnection | None = None):
    c = conn or http.client.HTTPConnection(host, port, timeout=5)
    c.request(method, path)
    resp = c.getresponse()
    return resp, resp.read()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", pytest.param("::1", marks=needs_v6)])
def test_get_and_head(host: str) -> None:
    with serve(_site(), host) as srv:
        assert srv.host == host and srv.port > 0
        assert srv.base_url == (f"http://[::1]:{srv.port}" if host == "::1" else f"http://{host}:{srv.port}")
        resp, body = _get(host, srv.port, "/")
        assert resp.status == 200 and "首页" in body.decode("utf-8")
        assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
        head, hbody = _get(host, srv.port, "/", "HEAD")
        assert head.status == 200 and hbody == b""
        assert head.getheader("Content-Length") == str(len(body))
        assert head.getheader("Content-Type") == resp.getheader("Content-Type")


def test_encodings_raw_redirect_query_and_404() -> None:
    with serve(_site()) as srv:
        _, body = _get(srv.host, srv.port, "/gbk.html")
        assert body.decode("gbk") == "<html><body>政府信息公开</body></html>"
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        resp, body = _get(srv.host, srv.port, "/meta.html")
        assert resp.getheader("Content-Type") == "text/html" and "示范县" in body.decode("gb2312")
        resp, body = _get(srv.host, srv.port, "/a.pdf")
        assert resp.getheader("Content-Type") == "application/pdf" and resp.getheader("X-Extra") == "1"
        assert body.startswith(b"%PDF")
        resp, _ = _get(srv.host, srv.port, "/old")
        assert resp.status == 301 and resp.getheader("Location") == "/"
        assert "第2页" in _get(srv.host, srv.port, "/list.html?page=2")[1].decode()
        assert "第1页" in _get(srv.host, srv.port, "/list.html")[1].decode()
        assert "第1页" in _get(srv.host, srv.port, "/list.html?page=9")[1].decode()  # unknown query → path
        resp, _ = _get(srv.host, srv.port, "/nope")
        assert resp.status == 404


def test_chinese_paths_every_spelling() -> None:
    with serve(_site()) as srv:
        utf8 = urllib.parse.quote("/新闻/一.html")
        gbk = urllib.parse.quote("/新闻/一.html".encode("gbk"))
        for path in (utf8, gbk, utf8.lower()):
            resp, body = _get(srv.host, srv.port, path)
            assert resp.status == 200 and "新闻一" in body.decode(), path
        # Raw UTF-8 bytes in the request line (what a sloppy client sends).
        with socket.create_connection((srv.host, srv.port), timeout=5) as s:
            s.sendall("GET /新闻/一.html HTTP/1.0\r\nHost: x\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200"), data[:40]


def test_keep_alive_handler_state_and_host_header() -> None:
    with serve(_site()) as srv:
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
        first, _ = _get(srv.host, srv.port, "/once", conn=conn)
        assert first.status == 429 and first.getheader("Retry-After") == "1"
        second, body = _get(srv.host, srv.port, "/once", conn=conn)  # same connection
        assert second.status == 200 and body == b"ok"
        conn.putrequest("GET", "/host", skip_host=True)
        conn.putheader("Host", f"www.demo-county.gov.cn:{srv.port}")
        conn.endheaders()
        assert conn.getresponse().read() == b"www.demo-county.gov.cn"
        conn.close()


def test_fallback_and_broken_handler() -> None:
    site = Site()
    site.fallback(lambda r: (302, {"Location": "/"}, ""))
    site.handler("/boom", lambda r: 1 / 0)
    with serve(site) as srv:
        resp, _ = _get(srv.host, srv.port, "/anything/at/all")
        assert resp.status == 302 and resp.getheader("Location") == "/"
        resp, body = _get(srv.host, srv.port, "/boom")
        assert resp.status == 500 and b"ZeroDivisionError" in body


def test_silent_server_times_out_and_closed_port_refuses() -> None:
    with silent_server() as port:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            c.request("GET", "/")
            c.getresponse()
        assert time.monotonic() - started < 3
    port = closed_port("127.0.0.3")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.3", port), timeout=2)


def _resolver(address: str) -> dns.resolver.Resolver:
    host, port = address.rsplit(":", 1)
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [host]
    r.port = int(port)
    r.lifetime = 3
    return r


def test_dns_answers_a_aaaa_ns_nodata_nxdomain() -> None:
    records = {
        "www.demo-county.gov.cn": ["127.0.0.1", "::1"],
        "v4only.demo-county.gov.cn": "127.0.0.2",
        "demo-county.gov.cn": {"NS": ["ns1.demo-county.gov.cn"]},
        "alias.demo-county.gov.cn": {"CNAME": ["www.demo-county.gov.cn"]},
        "broken.demo-county.gov.cn": "SERVFAIL",
    }
    with dns_server(records) as address:
        r = _resolver(address)
        assert [a.to_text() for a in r.resolve("www.demo-county.gov.cn", "A")] == ["127.0.0.1"]
        assert [a.to_text() for a in r.resolve("WWW.demo-county.gov.cn.", "AAAA")] == ["::1"]
        assert [a.to_text() for a in r.resolve("demo-county.gov.cn", "NS")] == ["ns1.demo-county.gov.cn."]
        assert [a.to_text() for a in r.resolve("alias.demo-county.gov.cn", "A")] == ["127.0.0.1"]
        nodata = r.resolve("v4only.demo-county.gov.cn", "AAAA", raise_on_no_answer=False)
        assert nodata.rrset is None and nodata.response.rcode() == dns.rcode.NOERROR
        with pytest.raises(dns.resolver.NXDOMAIN):
            r.resolve("dead.demo-county.gov.cn", "A")
        with pytest.raises(dns.resolver.NoNameservers):
            r.resolve("broken.demo-county.gov.cn", "A")
        # Same port over TCP.
        host, port = address.rsplit(":", 1)
        reply = dns.query.tcp(dns.message.make_query("www.demo-county.gov.cn", "A"), host, port=int(port), timeout=3)
        assert reply.answer[0][0].to_text() == "127.0.0.1"
        # Records are read live.
        records["late.demo-county.gov.cn"] = ["127.0.0.9"]
        assert [a.to_text() for a in r.resolve("late.demo-county.gov.cn", "A")] == ["127.0.0.9"]


def test_dns_fixture_and_project_resolver(dns) -> None:  # noqa: ANN001 - fixture
    from auditor.network.resolve import ResolveError, Resolver

    dns.add("www.fixture.gov.cn", "127.0.0.1", "::1")
    res = Resolver(dns_server=str(dns), timeout=2)
    assert res.addresses("www.fixture.gov.cn") == ["127.0.0.1", "::1"]
    with pytest.raises(ResolveError) as err:
        res.lookup("nx.fixture.gov.cn", "A")
    assert err.value.kind == "nxdomain"


def test_serve_site_fixture(site, serve_site) -> None:  # noqa: ANN001 - fixtures
    site.page("/", "<p>ok</p>")
    a = serve_site(site)
    b = serve_site(site, "127.0.0.2")
    assert a.port and b.host == "127.0.0.2"
    assert _get(b.host, b.port, "/")[0].status == 200
    assert a.url("/x.html", host="www.x.gov.cn") == f"http://www.x.gov.cn:{a.port}/x.html"


def test_run_cli_runs_the_console_script() -> None:
    import importlib.util

    from tests.support.servers import govaudit_executable

    if not govaudit_executable().exists() or importlib.util.find_spec("auditor.cli.main") is None:
        pytest.skip("govaudit console script not installed yet")
    proc = run_cli("--help", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "check" in proc.stdout
