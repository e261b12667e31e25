"""Throughput of the freshness and privacy checks on a stored site (no network, no crawl).

Builds an evidence store with N synthetic county-portal pages (list pages, articles, a few 公示
tables with ID and phone numbers) and times ``freshness`` and ``privacy`` ``govaudit_check_site``.
The goal these checks must meet: a 100k-page site in well under the crawl's own time, i.e. at
least ~500 pages/s for the privacy scan (which reads every page) on one core.

    .venv/bin/python bench/content_checks_speed.py --pages 5000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from auditor.checks import freshness, privacy
from auditor.config import AuditConfig
from auditor.context import CheckContext, SiteView
from auditor.crawl.extract import html_links
from auditor.model import LinkEdge
from auditor.rulepacks import load_pack
from auditor.store.database import EvidenceStore

AS_OF = dt.date(2024, 6, 14)
BASE = "http://www.bench.gov.cn"


def check_char(first17: str) -> str:
    total = sum(int(c) * (pow(2, 17 - i) % 11) for i, c in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def page(title: str, body: str, column: str | None = None) -> str:
    meta = f"<meta name='ColumnName' content='{column}'>" if column else f"<meta name='ArticleTitle' content='{title}'>"
    nav = "".join(f"<li><a href='/c{i}/'>栏目{i}动态</a></li>" for i in range(12))
    return (f"<html><head><meta charset='utf-8'><title>{title}</title>{meta}</head><body><div class='nav'><ul>{nav}</ul></div>"
            f"<div class='main'>{body}</div><div class='footer'>值班电话：13907910002</div></body></html>")


def build(store: EvidenceStore, run_id: str, n: int) -> None:
    rng = random.Random(7)
    urls = []
    for c in range(12):
        items = "".join(f"<li><a href='/c{c}/{k}.html'>栏目{c}第{k}条信息的标题文字</a><span>"
                        f"{AS_OF - dt.timedelta(days=rng.randint(0, 400)):%Y-%m-%d}</span></li>" for k in range(20))
        urls.append((f"{BASE}/c{c}/", page(f"栏目{c}动态", f"<ul>{items}</ul>", column=f"栏目{c}动态")))
    home = "".join(f"<div><h3>栏目{c}动态</h3><ul><li><a href='/c{c}/1.html'>栏目{c}第1条信息的标题文字</a>"
                   f"<span>2024-06-0{1 + c % 9}</span></li></ul></div>" for c in range(12))
    urls.append((BASE + "/", page("首页", home)))
    for k in range(n - len(urls)):
        body = "<p>" + "为深入贯彻落实有关工作部署，现将有关事项通知如下。" * 20 + "</p>"
        if k % 200 == 0:
            rows = ""
            for r in range(30):
                first17 = f"360102{1950 + r}0101{r:03d}"
                rows += f"<tr><td>姓名{r}</td><td>{first17}{check_char(first17)}</td><td>138{r:08d}</td></tr>"
            body += f"<table><tr><th>姓名</th><th>身份证号</th><th>联系电话</th></tr>{rows}</table>"
        urls.append((f"{BASE}/c{k % 12}/{k}.html", page(f"文章{k}", body)))
    for url, html in urls:
        raw = html.encode("utf-8")
        store.add_page(run_id, url, url, 200, "text/html", "utf-8", 1, "", "html", raw)
        import lxml.html

        tree = lxml.html.document_fromstring(html)
        store.add_links(run_id, [LinkEdge(url, fl.url, fl.anchor, fl.region, fl.tag, fl.position)
                                 for fl in html_links(tree, url, "utf-8")])
    store.flush()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=3000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = EvidenceStore(Path(tmp) / "bench.sqlite")
        run_id = store.start_run("www.bench.gov.cn", BASE + "/", AS_OF.isoformat(), {}, "bench")
        t0 = time.perf_counter()
        build(store, run_id, args.pages)
        store.finish_run(run_id, "complete", {"homepage_url": BASE + "/"}, {})
        print(f"built {args.pages} pages in {time.perf_counter() - t0:.1f}s")
        cfg = AuditConfig(url=BASE + "/", as_of=AS_OF.isoformat())
        for name, module in (("freshness", freshness), ("privacy", privacy)):
            rules = {r.id: r for r in module.govaudit_rules()}
            ctx = CheckContext(cfg, load_pack("national"), rules, store, run_id, homepage_url=BASE + "/")
            site = SiteView(store, store.get_run(run_id))
            t0 = time.perf_counter()
            found = module.govaudit_check_site(site=site, ctx=ctx)
            elapsed = time.perf_counter() - t0
            print(f"{name:10s} {len(found):4d} findings  {elapsed:6.2f}s  {args.pages / elapsed:7.0f} pages/s")


if __name__ == "__main__":
    main()
