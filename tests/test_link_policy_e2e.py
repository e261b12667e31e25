"""One real audit (the ``govaudit`` console script) of a loopback site built for issue #16: every
link kind checked, fragments, malformed hrefs alone, exact URL spelling, the start page's meta
refresh, and the status policy (retries, redirect limit, 3xx without Location).

Each assertion names the trap the old crawler fell into.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from auditor.demo.servers import Request, Site, serve
from auditor.store.database import EvidenceStore
from tests.support.servers import run_cli

pytestmark = pytest.mark.slow

AS_OF = "2026-12-01"
REPORT_DIR: list[Path] = []
OK_PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _site() -> tuple[Site, dict[str, list[str]]]:
    methods: dict[str, list[str]] = {}
    lock = threading.Lock()
    site = Site("links16")

    def log(path: str, req: Request) -> None:
        with lock:
            methods.setdefault(path, []).append(req.method)

    start = """<html><head><title>首页跳转</title>
      <meta http-equiv="refresh" content="0; url=/gone-home.html"></head><body>
      <a href="/about.html">关于</a></body></html>"""
    site.page("/", start)
    about = """<html><head><title>关于</title>
      <link rel="stylesheet" href="/css/site.css"><link rel="manifest" href="/missing.webmanifest">
      <meta property="og:image" content="/missing-og.png">
      <script type="application/ld+json">{"@context":"https://schema.org","logo":{"url":"http://HOST/missing-logo.png"}}</script>
      <style>.hero{background:url('/missing-hero.png')}</style></head><body>
      <a href="/kinds.html">链接种类</a> <a href="/anchors.html">锚点</a> <a href="/policy.html">状态</a>
      <a href="/malformed.html">格式</a> <a href="/quoted.html">引号</a></body></html>"""
    # JSON-LD holds absolute URLs: the page names its own host
    site.handler("/about.html", lambda r: (200, [("Content-Type", "text/html; charset=utf-8")],
                                           about.replace("HOST", r.headers["host"]).encode()))
    site.raw("/css/site.css", "@import url('/css/missing-import.css'); .a{background:url(../img/missing-bg.png)}"
             " .b{background:url(/img/ok.png)}", "text/css")
    site.raw("/img/ok.png", OK_PNG, "image/png")
    site.page("/kinds.html", """<html><head><title>种类</title></head><body>
      <img src="/img/ok.png" srcset="/img/ok.png 1x, /missing-2x.png 2x">
      <video src="/img/ok.png" poster="/missing-poster.jpg"><track src="/missing.vtt"></video>
      <audio src="/missing.mp3"></audio><input type="image" src="/missing-input.png">
      <blockquote cite="/missing-cite.html">引文</blockquote>
      <object data="/img/ok.png" codebase="/missing-codebase/"></object>
      <form><button formaction="/missing-action">提交</button></form>
      <div style="background:url('/missing-style.png')">x</div></body></html>""")
    site.page("/anchors.html", """<html><head><title>锚点</title></head><body>
      <a href="#here">本页有</a> <a href="#nowhere">本页没有</a>
      <a href="/target.html#sec-1">目标有</a> <a href="/target.html#sec-9">目标没有</a>
      <a href="/target.html#old">a name</a> <a href="/target.html#/route">前端路由</a>
      <img src="/img/ok.png" usemap="#nomap"><img src="/img/ok.png" usemap="#map1"><map name="map1"></map>
      <h2 id="here">这里</h2></body></html>""")
    site.page("/target.html", """<html><head><title>目标</title></head><body>
      <h2 id="sec-1">一</h2><a name="old"></a></body></html>""")
    site.page("/malformed.html", """<html><head><title>格式</title>
      <meta http-equiv="refresh" content="30; url=http://[::1"></head><body>
      <a href="http://127.0.0.1:____">坏端口</a> <a href="http://localhost]">坏主机</a> <a href="//////">斜杠</a>
      <a href="http:">空</a> <a href="http://[::1">括号</a>
      <a href="/missing-after-malformed.html">其后的死链</a></body></html>""")
    site.page("/quoted.html", """<html><head><title>引号</title></head><body>
      <a href='/q"uote.html'>引号死链</a> <a href="/pi|pe.html">竖线</a> <a href="/br&lt;ack&gt;.html">尖括号</a>
      </body></html>""")
    site.page("/pi|pe.html", "<html><head><title>竖线页</title></head><body>这是一个正常的页面，内容充足。</body></html>")

    hits = {"n": 0}

    def flaky(req: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        log("/flaky-522.html", req)
        hits["n"] += 1
        if hits["n"] == 1:
            return 522, [("Content-Type", "text/html")], b"origin timed out"
        return 200, [("Content-Type", "text/html; charset=utf-8")], \
            "<html><head><title>恢复</title></head><body>源站恢复后的正常页面。</body></html>".encode()

    site.handler("/flaky-522.html", flaky)
    site.handler("/loop-a.html", lambda r: (302, [("Location", "/loop-b.html")], b""))
    site.handler("/loop-b.html", lambda r: (302, [("Location", "/loop-a.html")], b""))
    for i in range(15):
        site.redirect(f"/chain-{i}.html", f"/chain-{i + 1}.html", 302)
    site.page("/chain-15.html", "<html><head><title>终点</title></head><body>终点页面。</body></html>")
    site.handler("/no-location.html", lambda r: (302, [("Content-Type", "text/html")], b"<html>moved somewhere</html>"))

    def asset(req: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        log("/img/asset.png", req)
        return 200, [("Content-Type", "image/png")], OK_PNG

    site.handler("/img/asset.png", asset)
    site.page("/policy.html", """<html><head><title>状态</title></head><body>
      <a href="/flaky-522.html">522</a> <a href="/loop-a.html">循环</a> <a href="/chain-0.html">长链</a>
      <a href="/no-location.html">无 Location</a> <img src="/img/asset.png"></body></html>""")
    return site, methods


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    site, methods = _site()
    out = tmp_path_factory.mktemp("links16")
    with serve(site) as running:
        proc = run_cli("check", running.url("/"), "--out", str(out / "report"), "--db", str(out / "e.sqlite"),
                       "--as-of", AS_OF, "--checks", "links", "--format", "json,html,xlsx", "--timeout", "3", timeout=300)
        base = running.url("/").rstrip("/")
    report_path = out / "report" / "report.json"
    REPORT_DIR[:] = [out / "report"]
    assert report_path.exists(), f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = json.loads(report_path.read_text("utf-8"))
    store = EvidenceStore(str(out / "e.sqlite"))
    run_id = store.list_runs()[0]["id"]
    verdicts = {r.target_url.removeprefix(base): r for r in store.iter_link_results(run_id)}
    edges = list(store.iter_links(run_id))
    store.close()
    return proc, report, verdicts, edges, methods, base


def _rule(report: dict, rule: str, base: str) -> dict[str, dict]:
    return {f["url"].removeprefix(base): f for f in report["findings"] if f["rule"] == rule}


def test_start_page_refresh_to_a_404_is_a_dead_link_not_a_dead_site(audit) -> None:
    """Trap: the refresh was followed as the homepage's redirect — the start page's own links were
    never checked and a refresh to a 404 made the audit exit 3 (站点无法访问)."""

    proc, report, verdicts, edges, _, base = audit
    assert proc.returncode != 3, proc.stdout[-2000:]
    dead = _rule(report, "links.dead", base)
    assert "/gone-home.html" in dead
    assert any(e["tag"] == "meta" and e["attribute"] == "refresh" for e in edges)
    assert verdicts["/about.html"].verdict == "ok"  # the start page's own link was followed


def test_every_asset_kind_is_checked(audit) -> None:
    """Trap: srcset, poster, track, audio, input image, cite, codebase, formaction, manifest,
    og:image, JSON-LD, <style>, style=, and the url()/@import inside a fetched stylesheet were
    never extracted — each of these dead targets went unreported."""

    _, report, _, edges, _, base = audit
    dead = _rule(report, "links.dead", base)
    for path in ("/missing-2x.png", "/missing-poster.jpg", "/missing.vtt", "/missing.mp3", "/missing-input.png",
                 "/missing-cite.html", "/missing-codebase/", "/missing-action", "/missing-style.png", "/missing.webmanifest",
                 "/missing-og.png", "/missing-logo.png", "/missing-hero.png", "/css/missing-import.css", "/img/missing-bg.png"):
        assert path in dead, (path, sorted(dead))
    css_edges = [e for e in edges if e["source_url"].endswith("/css/site.css")]
    assert {e["attribute"] for e in css_edges} == {"url", "@import"}
    assert "/img/ok.png" not in dead


def test_assets_are_checked_with_head(audit) -> None:
    _, _, verdicts, _, methods, _ = audit
    assert methods["/img/asset.png"] == ["HEAD"]
    assert verdicts["/img/asset.png"].verdict == "ok"


def test_broken_anchors_are_their_own_minor_rule(audit) -> None:
    """Trap: fragments were dropped — ``#nowhere``, ``target.html#sec-9`` and ``usemap="#nomap"``
    all passed. They are reported as links.broken_anchor and never as dead links."""

    _, report, _, _, _, base = audit
    anchors = _rule(report, "links.broken_anchor", base)
    assert set(anchors) == {"/anchors.html#nowhere", "/target.html#sec-9", "/anchors.html#nomap"}, sorted(anchors)
    assert all(f["severity"] == "minor" for f in anchors.values())
    dead = _rule(report, "links.dead", base)
    assert not any("anchors.html" in u or "target.html" in u for u in dead)


def test_malformed_hrefs_alone_and_the_page_keeps_its_other_links(audit) -> None:
    """Trap: ``http://localhost]`` raised and the page lost every link (the dead link after it
    went unreported); ``//////`` and ``http:`` resolved to the page itself and passed."""

    _, report, _, _, _, base = audit
    malformed = _rule(report, "links.malformed", base)
    assert set(malformed) == {"http://127.0.0.1:____", "http://localhost]", "//////", "http:", "http://[::1"}
    assert "/missing-after-malformed.html" in _rule(report, "links.dead", base)
    assert not any(u in _rule(report, "links.dead", base) for u in malformed)


def test_every_report_format_shows_malformed_targets(audit) -> None:
    """Trap: the HTML writer's link filter raised on ``http://localhost]`` — no report.html."""

    proc = audit[0]
    for name in ("report.json", "report.html", "report.xlsx"):
        assert (REPORT_DIR[0] / name).stat().st_size > 0, proc.stdout[-1500:]
    assert "http://localhost]" in (REPORT_DIR[0] / "report.html").read_text("utf-8")


def test_quoted_targets_get_their_real_verdict(audit) -> None:
    """Trap: the raw URL was stored, the percent-encoded one fetched: 404s hidden as not_checked."""

    _, report, verdicts, _, _, base = audit
    assert verdicts["/q%22uote.html"].verdict == "dead" and verdicts["/q%22uote.html"].status == 404
    assert verdicts["/pi%7Cpe.html"].verdict == "ok"
    assert verdicts["/br%3Cack%3E.html"].verdict == "dead"
    assert not any(r.reason == "not_checked" for r in verdicts.values())


def test_status_policy(audit) -> None:
    """Traps: 522 was not retried (dead); a redirect loop and a 15-step chain past the limit were
    filed as ``robots``; a 3xx without Location was dead."""

    _, _, verdicts, _, methods, _ = audit
    assert verdicts["/flaky-522.html"].verdict == "ok" and len(methods["/flaky-522.html"]) == 2
    assert (verdicts["/loop-a.html"].verdict, verdicts["/loop-a.html"].reason) == ("dead", "redirect_loop")
    assert (verdicts["/chain-0.html"].verdict, verdicts["/chain-0.html"].reason) == ("dead", "too_many_redirects")
    assert (verdicts["/no-location.html"].verdict, verdicts["/no-location.html"].reason) == \
        ("unverifiable", "redirect_without_location")


def test_link_count_of_the_indicator_excludes_anchors_and_malformed(audit) -> None:
    _, report, _, _, _, _ = audit
    rules = {f["rule"] for f in report["findings"]}
    assert {"links.dead", "links.malformed", "links.broken_anchor"} <= rules


def test_a_start_page_refreshing_to_another_host_hands_over_the_homepage(tmp_path) -> None:
    """x.gov.cn's stub refreshes to www.x.gov.cn (common for 政府网站): the target is the homepage,
    crawled on its host like an HTTP redirect — not checked as an outside link. Trap: without
    MetaRefreshMiddleware the refresh target would otherwise be a mere external check."""

    from auditor.demo.servers import Hosts

    stub = Site("stub").page("/", '<html><head><title>跳转</title><meta http-equiv="refresh" '
                                  'content="0;url=http://www.x.test:PORT/index.html"></head><body></body></html>')
    www = Site("www").page("/index.html", '<html><head><title>首页</title></head><body>'
                                          '<a href="/zwgk/">政务公开</a><a href="/gone.html">旧栏目</a></body></html>')
    www.page("/zwgk/", "<html><head><title>政务公开</title></head><body>政务公开栏目正文内容。</body></html>")
    with serve(Hosts({"x.test": stub, "www.x.test": www})) as running:
        port = running.port
        stub.routes["/"].body = stub.routes["/"].body.replace(b"PORT", str(port).encode())
        proc = run_cli("check", f"http://x.test:{port}/", "--resolve", "x.test=127.0.0.1", "--resolve", "www.x.test=127.0.0.1",
                       "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"), "--as-of", AS_OF,
                       "--checks", "links", "--format", "json", "--timeout", "3", timeout=300)
    report = json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))
    dead = {f["url"]: f for f in report["findings"] if f["rule"] == "links.dead"}
    gone = f"http://www.x.test:{port}/gone.html"
    assert gone in dead, (proc.returncode, proc.stdout[-2000:])
    assert dead[gone]["evidence"]["on_site"] is True
    store = EvidenceStore(str(tmp_path / "e.sqlite"))
    pages = {p["url"] for p in store.iter_pages(store.list_runs()[0]["id"])}
    store.close()
    assert f"http://www.x.test:{port}/zwgk/" in pages  # crawled as a page of the site
