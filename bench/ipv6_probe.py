#!/usr/bin/env python3
"""IPv6 probe cost on a ~2,000-page site: network requests made and wall time, against the URL count.

The issue's goal: the probe reuses the crawl's URL set, tests each distinct origin once and samples
a bounded number of URLs per origin, so it makes *far fewer requests than there are URLs*.

Builds a county portal on loopback: ``www.bench.gov.cn`` on 127.0.0.1 and ::1 (homepage → 40 column
pages → 49 articles each ≈ 2,000 pages, every page loading a script, a stylesheet and a logo, column
pages linking PDFs), a dual-stack CDN ``cdn.bench.gov.cn`` (127.0.0.3 and ::1), and an IPv4-only image
host ``img.bench.gov.cn`` (127.0.0.2). A local DNS server answers every name and counts the queries;
the web servers count the requests they answer per address family.

1. Crawl once with the real engine (``--checks ipv6``), as an audit would.
2. With the servers' counters reset, run the IPv6 measurement again on the stored run and print the
   URLs in the level-2/3 set, the distinct origins, HTTP requests and TCP connections over IPv6 and
   IPv4, DNS queries, and the probe's wall time.

    .venv/bin/python bench/ipv6_probe.py            # ≈2,000 pages
    .venv/bin/python bench/ipv6_probe.py --columns 10 --articles 20   # quick
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dnslib.server import DNSServer  # noqa: E402

from auditor.config import build_config  # noqa: E402
from auditor.context import CheckContext, SiteView  # noqa: E402
from auditor.demo.servers import Request, Site  # noqa: E402
from auditor.engine import Engine, audit  # noqa: E402
from auditor.plugins import ipv6_probe as ipv6  # noqa: E402  (the measure plugin)
from auditor.store.database import EvidenceStore  # noqa: E402
from tests.sites.net_fixture import free_port_both  # noqa: E402
from tests.support.servers import _QUIET, _DictResolver, serve  # noqa: E402

WWW, CDN, IMG = "www.bench.gov.cn", "cdn.bench.gov.cn", "img.bench.gov.cn"


class CountingSite(Site):
    """A site that counts the requests it answers, per listening address."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.hits: Counter[str] = Counter()
        self._hit_lock = threading.Lock()

    def respond(self, req: Request):  # type: ignore[no-untyped-def]
        with self._hit_lock:
            self.hits[req.server_host] += 1
        return super().respond(req)


class CountingResolver(_DictResolver):
    def __init__(self, records):  # type: ignore[no-untyped-def]
        super().__init__(records)
        self.queries: Counter[str] = Counter()

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        from dnslib import QTYPE

        self.queries[QTYPE[request.q.qtype]] += 1
        return super().resolve(request, handler)


def build(columns: int, articles: int, port: int, cdn_port: int, img_port: int) -> tuple[CountingSite, CountingSite, CountingSite]:
    www, cdn, img = CountingSite("www"), CountingSite("cdn"), CountingSite("img")
    cdn_base, img_base = f"http://{CDN}:{cdn_port}", f"http://{IMG}:{img_port}"
    head = (f"<meta charset='utf-8'><script src='/js/app.js'></script><link rel='stylesheet' href='/css/site.css'>"
            f"<script src='{cdn_base}/lib/jquery.min.js'></script>")
    www.raw("/js/app.js", "var a=1;", "application/javascript")
    www.raw("/css/site.css", "body{}", "text/css")
    www.raw("/img/logo.png", b"\x89PNG\r\n\x1a\n", "image/png")
    cdn.raw("/lib/jquery.min.js", "/*jq*/", "application/javascript")
    nav = "".join(f"<li><a href='/col/{c}/index.html'>栏目{c}</a></li>" for c in range(columns))
    www.page("/", f"<html><head>{head}<title>某某县人民政府</title></head><body><img src='/img/logo.png'><ul>{nav}</ul>"
                  f"<a href='{img_base}/banner/home.png'>横幅</a></body></html>")
    img.raw("/banner/home.png", b"\x89PNG\r\n\x1a\n", "image/png")
    for c in range(columns):
        items = "".join(f"<li><a href='/art/{c}/t2024_{c}_{a}.html'>文章{c}-{a}</a></li>" for a in range(articles))
        pdfs = "".join(f"<a href='/files/{c}/doc{i}.pdf'>附件{i}</a>" for i in range(3))
        for i in range(3):
            www.raw(f"/files/{c}/doc{i}.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
        www.page(f"/col/{c}/index.html", f"<html><head>{head}<title>栏目{c}</title></head><body><img src='/img/logo.png'>"
                                         f"<img src='{img_base}/col/{c}.png'><ul>{items}</ul>{pdfs}</body></html>")
        img.raw(f"/col/{c}.png", b"\x89PNG\r\n\x1a\n", "image/png")
        for a in range(articles):
            pic = f"<img src='{img_base}/art/{c}/{a}.jpg'>" if a % 10 == 0 else ""
            if pic:
                img.raw(f"/art/{c}/{a}.jpg", b"\xff\xd8\xff", "image/jpeg")
            www.page(f"/art/{c}/t2024_{c}_{a}.html",
                     f"<html><head>{head}<title>文章{c}-{a}</title></head><body><img src='/img/logo.png'>{pic}"
                     f"<h1>文章{c}-{a}</h1><p>发布时间：2024-05-01 正文。</p></body></html>")
    return www, cdn, img


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--columns", type=int, default=40)
    ap.add_argument("--articles", type=int, default=49)
    args = ap.parse_args()

    port, cdn_port = free_port_both(), free_port_both()
    img_port = free_port_both()
    www, cdn, img = build(args.columns, args.articles, port, cdn_port, img_port)
    records = {WWW: ["127.0.0.1", "::1"], CDN: ["127.0.0.3", "::1"], IMG: ["127.0.0.2"],
               "bench.gov.cn": {"NS": ["ns1.bench.gov.cn"]}, "ns1.bench.gov.cn": ["127.0.0.1"]}
    resolver = CountingResolver(records)
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        for site, host, p in ((www, "127.0.0.1", port), (www, "::1", port), (cdn, "127.0.0.3", cdn_port),
                              (cdn, "::1", cdn_port), (img, "127.0.0.2", img_port)):
            stack.enter_context(serve(site, host, p))
        udp = DNSServer(resolver, address="127.0.0.1", port=0, logger=_QUIET)
        udp.start_thread()
        stack.callback(udp.stop)
        dns = f"127.0.0.1:{udp.server.server_address[1]}"
        db = str(Path(tmp) / "bench.sqlite")
        cfg = build_config({}, {"url": f"http://{WWW}:{port}/", "db": db, "out": tmp, "dns_server": dns,
                                "checks": ["ipv6"], "max_pages": 5000, "as_of": "2024-06-03", "formats": ["json"],
                                "allow_private": True})  # a loopback site: past the SSRF guard
        engine = Engine(cfg)
        t0 = time.perf_counter()
        result = audit(cfg, engine)
        crawl_s = time.perf_counter() - t0
        store = EvidenceStore(db)
        run = store.get_run(result.run_id)
        pages = store.count("pages", result.run_id)
        links = store.count("links", result.run_id)

        # The measurement again, on the stored run, with counters reset.
        for s in (www, cdn, img):
            s.hits.clear()
        resolver.queries.clear()
        check_ctx = CheckContext(cfg, engine.pack, engine.rules, store, result.run_id, engine.probes(),
                                 run["stats"]["homepage_url"])
        ctx = check_ctx.measure_context("bench")  # the measure stage's context: the probes live there
        site = SiteView(store, run)
        t_read = time.perf_counter()
        ipv6.collect_urls(ctx)  # the store-reading part alone, for the breakdown below
        read_s = time.perf_counter() - t_read
        t1 = time.perf_counter()
        measured = ipv6.measure(site, ctx)
        probe_s = time.perf_counter() - t1
        check_ctx.close_probes()
        support = measured["support"]
        served_v6 = sum(s.hits["::1"] for s in (www, cdn, img))
        served_v4 = sum(n for s in (www, cdn, img) for h, n in s.hits.items() if h != "::1")
        print(f"pages crawled:                 {pages}  (links stored: {links}; crawl+audit {crawl_s:.1f} s)")
        print(f"URLs in the level-2/3 set:     {support['total_urls']}  over {len(measured['hosts'])} origins")
        for h in measured["hosts"]:
            print(f"  {h['origin']:<40} {h['urls']:>5} URLs  sampled {h.get('sampled', 0):>2}  reachable {h['reachable']:.1f}"
                  f"  {h.get('reason') or 'ok'}")
        print(f"support ratio:                 {support['ratio']}  ({support['reachable_exact']}/{support['measured_urls']})")
        print(f"HTTP requests answered, IPv6:  {served_v6}")
        print(f"HTTP requests answered, IPv4:  {served_v4}  (the homepage comparison)")
        print(f"probe's own count:             {dict(measured['requests'])}")
        print(f"DNS queries answered:          {sum(resolver.queries.values())}  {dict(resolver.queries)}")
        total = served_v6 + served_v4 + sum(resolver.queries.values())
        print(f"network requests in all:       {total}  = {total / max(1, support['total_urls']):.3f} per URL")
        print(f"probe wall time:               {probe_s:.2f} s  (of which reading the stored URL set ≈ {read_s:.2f} s)")
        store.close()


if __name__ == "__main__":
    main()
