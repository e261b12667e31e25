"""The crawl's page work in a worker process (``auditor.crawl.parsework``, ``GOVAUDIT_PARSE_WORKERS``).

One loopback site is audited twice through the real CLI, parsing and writing in the crawl process
(``=0``, ``GOVAUDIT_STORE_WRITER=inline``) and in the worker and the store writer process (``=1``,
``process``); every stored page, link edge, fetch fact, crawl fault, error, link verdict and
finding id must be the same. The site is made of the pages where a second code path would differ:
a GBK page whose header says UTF-8 (decoded by validation, a charset-mismatch fault), a GBK XHTML
page with an ``<?xml encoding?>`` declaration (lxml refuses it as text: parsed from the bytes), a
page with a malformed href among good ones, a page with 2,100 links (one answer larger than a pipe
buffer, and more link rows than the store's batch), an empty 200 body (nothing to parse: a fetch,
no page), a truncated PDF (a corrupt-attachment fault) and a PDF whose link is followed, a dead
link and a soft 404. The worker's own failure handling is tested on a real worker process killed
mid-work.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
from pathlib import Path

import pytest

from auditor.crawl.parsework import ParseWorker, WorkerCrashed, html_facts, run
from auditor.demo.site import pdf
from tests.support.hostile import TRUNCATED_PDF
from tests.support.servers import run_cli, serve
from tests.support.sites import Site

AS_OF = "2026-11-22"


def _site() -> Site:
    site = Site()
    site.page("/", """<html><head><meta charset="utf-8"><title>测试县人民政府</title></head><body>
      <div class="nav"><a href="/gbk.html">乡镇动态</a> <a href="/xhtml.html">政策文件</a></div>
      <a href="/bad.html">坏链接页</a> <a href="/many.html">目录</a> <a href="/empty.html">空白页</a>
      <a href="/gone.html">已删除</a> <a href="/soft.html">旧文章</a>
      <a href="/files/cut.pdf">截断的附件</a> <a href="/files/ok.pdf">附件</a>
      <img src="/img/logo.png" alt="标志"><div class="footer">版权所有 测试县人民政府</div></body></html>""")
    gbk = "<html><head><meta charset='gbk'><title>乡镇动态</title></head><body><p>青岚镇召开会议。</p>" \
          "<a href='/gbk-article.html'>镇政府工作动态</a></body></html>"
    site.raw("/gbk.html", gbk.encode("gbk"), "text/html; charset=utf-8")  # the header lies
    site.page("/gbk-article.html", "<html><head><title>镇政府工作动态</title></head><body><p>正文。</p></body></html>")
    xhtml = ('<?xml version="1.0" encoding="gbk"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
             "<title>政策文件</title></head><body><a href='/policy.html'>规范性文件</a></body></html>")
    site.raw("/xhtml.html", xhtml.encode("gbk"), "text/html")
    site.page("/policy.html", "<html><head><title>规范性文件</title></head><body><p>文件。</p></body></html>")
    site.page("/bad.html", """<html><head><title>坏链接</title></head><body>
      <a href="http://[bad-host/x.html">坏的</a> <a href="/policy.html">好的</a> <a href="/gone.html">死的</a></body></html>""")
    many = "".join(f"<li><a href='/many.html#item{i}'>第{i}条</a></li>" for i in range(2100))
    site.page("/many.html", f"<html><head><title>目录</title></head><body><ul>{many}</ul>"
                            "<a href='/policy.html'>规范性文件</a></body></html>")
    site.raw("/empty.html", b"", "text/html; charset=utf-8")
    site.page("/gone.html", "<html><head><title>404</title></head><body>Not Found</body></html>", status=404)
    site.page("/soft.html", "<html><head><title>页面不存在</title></head><body><p>您访问的页面不存在</p></body></html>")
    site.raw("/files/cut.pdf", TRUNCATED_PDF, "application/pdf")
    site.handler("/files/ok.pdf", lambda req: (200, {"Content-Type": "application/pdf"}, pdf(
        ["附件正文"], [f"http://{req.server_host}:{req.server_port}/pdf-target.html"])))
    site.page("/pdf-target.html", "<html><head><title>附件里的链接</title></head><body><p>正文。</p></body></html>")
    site.raw("/img/logo.png", b"\x89PNG\r\n\x1a\n", "image/png")
    return site


ROWS = {
    "pages": "select url, final_url, status, content_type, encoding, depth, title, kind, body, headers from pages",
    "links": "select source_url, target_url, anchor, region, tag, position, attribute, fragment from links",
    "fetches": "select url, purpose, method, final_url, status, content_type, size, error_kind, redirects, depth,"
               " fingerprint, title, error_like, body_hash from fetches",
    "faults": "select kind, key, data from records where kind like 'crawl.%'",
    "errors": "select stage, message, url from errors",
    "skips": "select url, reason from skips",
    "verdicts": "select target_url, verdict, reason, status from link_results",
}

PROBE = re.compile(r"govaudit-[0-9a-f]{12}-not-found")


def _audit(tmp: Path, base: str, workers: str) -> dict:
    out = tmp / f"w{workers}"
    proc = run_cli("check", base, "--out", str(out / "report"), "--db", str(out / "e.sqlite"), "--as-of", AS_OF,
                   "--checks", "links", "--a11y", "off", "--format", "json",
                   # the in-process run also writes in-process; the worker run through the writer process
                   env={**os.environ, "GOVAUDIT_PARSE_WORKERS": workers,
                        "GOVAUDIT_STORE_WRITER": "process" if workers == "1" else "inline"}, timeout=300)
    report_path = out / "report" / "report.json"
    assert report_path.exists(), f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr
    report = json.loads(report_path.read_text("utf-8"))
    with sqlite3.connect(out / "e.sqlite") as conn:
        # the calibration probe's path is random per run
        rows = {name: sorted(PROBE.sub("govaudit-PROBE-not-found", repr(r)) for r in conn.execute(sql))
                for name, sql in ROWS.items()}
        coverage = json.loads(conn.execute("select coverage from runs").fetchone()[0] or "{}")
    findings = sorted((f["id"], f["rule"], f.get("url")) for f in report["findings"])
    return {"rows": rows, "findings": findings, "coverage": coverage}


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> tuple[dict, dict, str]:
    tmp = tmp_path_factory.mktemp("parsework")
    with serve(_site()) as running:
        base = running.url("/")
        here = _audit(tmp, base, "0")
        there = _audit(tmp, base, "1")
    return here, there, base.rstrip("/")


def test_the_worker_really_parsed_and_the_in_process_run_did_not(both) -> None:
    here, there, _ = both
    assert "parse_worker" not in here["coverage"]
    worker = there["coverage"]["parse_worker"]
    assert worker["pages"] >= 10 and worker["restarts"] == 0 and not worker["in_process_after_failure"]
    assert here["coverage"]["store_writer"]["mode"] == "inline"
    writer = there["coverage"]["store_writer"]
    assert writer["mode"] == "process" and writer["commits"] >= 1
    assert writer["written_here_after_writer_loss"] == 0 and writer["failed_rows"] == 0


@pytest.mark.parametrize("table", list(ROWS))
def test_both_paths_store_the_same_rows(both, table: str) -> None:
    here, there, _ = both
    assert here["rows"][table] == there["rows"][table]


def test_both_paths_give_the_same_findings(both) -> None:
    here, there, base = both
    assert here["findings"] == there["findings"]
    dead = {url.removeprefix(base) for _id, rule, url in there["findings"] if rule == "links.dead" and url}
    assert {"/gone.html", "/soft.html"} <= dead
    assert any(rule == "links.malformed" for _id, rule, _url in there["findings"])


def test_the_traps_were_stored_as_their_own_cases(both) -> None:
    """What the comparison stands on: each trap took the path it was built for (a test of the
    fixture, so that "the same" above is not "the same nothing")."""

    _, there, base = both
    rows = there["rows"]
    pages = "\n".join(rows["pages"])
    assert f"'{base}/gbk.html'" in pages and "'gb18030'" in pages  # decoded by validation
    assert f"'{base}/xhtml.html'" in pages and "'政策文件'" in pages  # parsed from the bytes
    assert f"'{base}/empty.html'" not in pages  # nothing to parse: no page row …
    assert any(f"'{base}/empty.html'" in r for r in rows["fetches"])  # … but its fetch
    assert sum(f"'{base}/many.html', '{base}/many.html'" in r for r in rows["links"]) == 2100
    assert any("http://[bad-host/x.html" in r for r in rows["links"])
    faults = "\n".join(rows["faults"])
    assert "charset_mismatch" in faults and "corrupt_attachment" in faults
    assert any(f"'{base}/pdf-target.html'" in r for r in rows["links"])  # the PDF's link, from the worker


def test_html_facts_is_what_the_worker_answers() -> None:
    body = "<html><head><title>标题</title></head><body><a href='x.html'>甲</a></body></html>".encode("gbk")
    args = (body, "http://www.example.gov.cn/a/", "text/html; charset=gbk")

    async def go() -> object:
        worker = ParseWorker()
        try:
            return await worker.run("html", args)
        finally:
            await worker.close()

    answer = asyncio.run(go())
    assert answer == run("html", args) == html_facts(*args)
    assert answer[3] == "标题" and answer[6][0][0] == "http://www.example.gov.cn/a/x.html"


def test_a_worker_killed_mid_page_costs_that_page_only() -> None:
    """The page being parsed when the worker dies is an error of its own; the pages queued behind
    it go to a fresh worker and come back right. (Killed with SIGKILL, as the OOM killer would.)"""

    big = ("<html><body>" + "".join(f"<a href='/p/{i}.html'>{i}</a>" for i in range(40000)) + "</body></html>").encode()
    small = b"<html><head><title>ok</title></head><body><a href='/a.html'>a</a></body></html>"

    async def go() -> tuple[list[object], ParseWorker]:
        worker = ParseWorker()
        await worker.run("html", (small, "http://h.example/", "text/html"))  # started and answering
        pid = worker._proc.pid  # type: ignore[union-attr]
        jobs = [asyncio.ensure_future(worker.run("html", (big if i == 0 else small, "http://h.example/", "text/html")))
                for i in range(4)]
        await asyncio.sleep(0.05)  # the worker is inside the big page
        os.kill(pid, signal.SIGKILL)
        results = await asyncio.gather(*jobs, return_exceptions=True)
        await worker.close()
        return results, worker

    results, worker = asyncio.run(go())
    assert isinstance(results[0], WorkerCrashed)
    assert all(r == html_facts(small, "http://h.example/", "text/html") for r in results[1:])
    assert worker.restarts == 1 and not worker.failed


def test_the_worker_packs_bodies_as_the_store_does() -> None:
    from auditor.crawl.parsework import pack
    from auditor.store.database import compress, decompress

    body = "<html><body>青岚县人民政府 政务公开</body></html>".encode("gbk") * 50
    assert pack(body) == compress(body) and decompress(pack(body)) == body


def test_a_page_the_parser_is_stuck_on_is_given_up_and_the_queue_goes_on() -> None:
    """A page still being parsed after ``page_seconds`` is recorded as stopped (the worker is killed
    and restarted); the page queued behind it waited longer than that in the queue and is answered,
    and neither worker's start-up counted as page time."""

    # ≈1 s of parsing, well past 0.2 s however fast the parser gets
    big = ("<html><body>" + "".join(f"<a href='/p/{i}.html'>{i}</a>" for i in range(80000)) + "</body></html>").encode()
    small = b"<html><head><title>ok</title></head><body></body></html>"

    async def go() -> tuple[list[object], ParseWorker]:
        worker = ParseWorker(page_seconds=0.2)  # its start-up (imports) does not count: only page time
        await worker.run("html", (small, "http://h.example/", "text/html"))
        jobs = [asyncio.ensure_future(worker.run("html", (body, "http://h.example/", "text/html"))) for body in (big, small)]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        await worker.close()
        return results, worker

    results, worker = asyncio.run(go())
    assert isinstance(results[0], WorkerCrashed) and "0.2 s" in str(results[0])
    assert results[1] == html_facts(small, "http://h.example/", "text/html")
    assert worker.restarts == 1


def test_the_plain_parser_and_the_flat_text_path_read_pages_as_lxml_html_did() -> None:
    """Two speed-ups must not change a byte: the parse without lxml.html's element classes, and
    visible text without an ancestor walk when a page has no <noscript>/<template>. Held against
    lxml.html's tree and the full ancestor XPath on the pages where they could differ."""

    import lxml.html

    from auditor.crawl import extract as ex

    pages = [
        "<html><head><title>标题 <b>粗</b></title></head><body><p>甲<script>var a='<p>x</p>';</script>乙"
        "<style>p{}</style></p><a href='/a.html'>链接<span>一</span></a><a href='/b.html'></a></body></html>",
        "<html><body><noscript><div id=n>不可见</div></noscript><div id=v>可见 <a href='/c.html'>丙</a></div>"
        "<template><p>模板</p></template></body></html>",
        "<html><body><script><p>not a p</p></script>after<!-- c --><textarea>ta</textarea></body></html>",
    ]
    pages += [p.read_text("utf-8", errors="replace") for p in sorted(Path(__file__).parent.rglob("*.html"))[:40]]
    compared = 0
    for html in filter(None, pages):
        old = lxml.html.document_fromstring(html)
        facts = html_facts(html.encode("utf-8"), "http://h.example/x/", "text/html; charset=utf-8")
        title = old.find(".//title")
        assert facts[3] == " ".join((title.text_content() if title is not None else "").split())[:300]
        assert facts[4] == ex.fingerprint(" ".join(" ".join(ex._TEXT_XPATH(old)).split()))
        links = [(k.url, k.anchor, k.region.value, k.tag, k.position, k.attribute, k.fragment, k.nav, k.malformed)
                 for k in ex.html_links(old, "http://h.example/x/", "utf-8")]
        assert facts[6] == links
        for el in old.iter("div", "p", "body"):  # sub-elements too: ancestor:: reaches past them
            assert ex.visible_text(el) == " ".join(" ".join(ex._TEXT_XPATH(el)).split())
        compared += 1
    assert compared >= 3
