"""Crawl → items → pipeline: what the crawl stores is committed as it goes, and link verdicts are a
stage over the stored fetches that ``govaudit recheck --rules PACK`` re-runs offline.

Both tests go through the installed ``govaudit`` console script against loopback sites.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from auditor.store.database import EvidenceStore
from tests.support.servers import govaudit_executable, run_cli, serve
from tests.support.sites import Request, Site

pytestmark = pytest.mark.slow

AS_OF = "2026-11-22"
HTML = "<html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def _page(title: str, body: str) -> str:
    return HTML.format(title=title, body=body)


def _links_findings(report: dict) -> dict[str, tuple[str, str | None]]:
    """target path → (rule, reason) for every links.* finding."""

    return {urlsplit(f["url"]).path: (f["rule"], f["evidence"].get("reason"))
            for f in report["findings"] if f["rule"].startswith("links.")}


def _fetch_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from fetches").fetchone()[0])


# --- recheck re-judges links under another pack ------------------------------------------------

def _verdict_site() -> Site:
    site = Site()
    site.page("/", _page("测试县人民政府", "<a href='/ok.html'>正常</a><a href='/forbidden.html'>受限</a>"
                                          "<a href='/gone.html'>已删除</a><a href='/moved-away.html'>旧文章</a>"
                                          "<a href='/slow.html'>慢页面</a>"))
    site.page("/ok.html", _page("正常页面", "<p>这是一篇正常的文章，内容完整。</p>"))
    site.page("/forbidden.html", _page("禁止访问", "<p>禁止访问</p>"), status=403)
    site.page("/gone.html", _page("404 Not Found", "<h1>404 Not Found</h1>"), status=404)

    def slow(_req: Request) -> tuple[int, dict[str, str], str]:
        time.sleep(4.0)  # slower than the overlay's links.timeout_seconds, faster than the crawl's --timeout
        return 200, {"Content-Type": "text/html; charset=utf-8"}, _page("慢页面", "<p>终于打开了。</p>")

    site.handler("/slow.html", slow)
    # Unknown paths get a 200 "welcome" template (the calibration probe sees it too): its visible
    # text is the same for every path, its bytes are not (the path is in a comment), and it does
    # not say "not found" — only the calibration comparison makes /moved-away.html a soft 404.
    site.fallback(lambda req: (200, {"Content-Type": "text/html; charset=utf-8"},
                               _page("测试县人民政府", f"<!-- {req.path} --><p>欢迎访问本站，请从首页进入。</p>")))
    return site


def _overlay(tmp_path: Path) -> Path:
    values = {
        # 403 is no longer "a bot wall, ask a human": it counts as dead
        "links.unverifiable_statuses": {"401": "login_wall", "407": "proxy_auth", "429": "rate_limited"},
        # no calibration comparison: a 200 welcome template is taken at its word
        "links.soft404_calibration": False,
        # the indicators' limit made stricter than the crawl's own timeout
        "links.timeout_seconds": 3.0,
    }
    pack = {
        "id": "strict-links-test", "version": "1", "name_zh": "测试覆盖包", "name_en": "test overlay",
        "extends": "national",
        "values": {k: {"value": v, "source": "测试用覆盖值", "status": "local"} for k, v in values.items()},
    }
    path = tmp_path / "strict.json"
    path.write_text(json.dumps(pack, ensure_ascii=False), "utf-8")
    return path


def test_recheck_rejudges_links_under_another_pack_without_network(tmp_path: Path) -> None:
    db = tmp_path / "e.sqlite"
    with serve(_verdict_site()) as srv:
        proc = run_cli("check", srv.base_url + "/", "--as-of", AS_OF, "--checks", "links", "--timeout", "10",
                       "--db", str(db), "--out", str(tmp_path / "a"))
    # the fixture server is gone from here on: nothing below can fetch anything
    assert proc.returncode == 0, proc.stderr[-3000:]
    first = json.loads((tmp_path / "a" / "report.json").read_text("utf-8"))
    before = _links_findings(first)
    assert before["/forbidden.html"] == ("links.unverifiable", "bot_wall")
    assert before["/gone.html"] == ("links.dead", "http_status")
    assert before["/moved-away.html"] == ("links.dead", "soft_404")
    assert "/ok.html" not in before and "/slow.html" not in before
    fetches = _fetch_count(db)

    # The same pack again: the same verdicts (judging from the store reproduces the crawl's).
    same = run_cli("recheck", first["run_id"], "--db", str(db), "--out", str(tmp_path / "b"))
    assert same.returncode == 0, same.stderr[-3000:]
    assert _links_findings(json.loads((tmp_path / "b" / "report.json").read_text("utf-8"))) == before

    # Another pack: the links are judged again under its values, offline.
    proc = run_cli("recheck", first["run_id"], "--db", str(db), "--rules", str(_overlay(tmp_path)),
                   "--out", str(tmp_path / "c"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "c" / "report.json").read_text("utf-8"))
    after = _links_findings(report)
    assert after["/forbidden.html"] == ("links.dead", "http_status")  # 403 now dead
    assert "/moved-away.html" not in after  # no calibration: the template page is ok
    assert after["/slow.html"] == ("links.dead", "timeout")  # 4 s > the overlay's 3 s
    assert after["/gone.html"] == ("links.dead", "http_status")  # unchanged
    assert "/ok.html" not in after
    assert _fetch_count(db) == fetches  # re-judged from what was stored, nothing fetched
    store = EvidenceStore(str(db))
    try:
        run = store.get_run(first["run_id"])
        assert run is not None and run["stats"]["link_verdicts"]["dead"] == 3
    finally:
        store.close()


# --- a killed audit keeps what it committed --------------------------------------------------

def _slow_site(served: list[tuple[float, str]], lock: threading.Lock) -> Site:
    """A tree of slow pages (0.25 s each): at concurrency 2 the crawl takes minutes."""

    site = Site()

    def page(req: Request) -> tuple[int, dict[str, str], str]:
        time.sleep(0.25)
        name = req.path.strip("/").removeprefix("p").removesuffix(".html")
        n = int(name) if name.isdigit() else 0  # the calibration probe and /sitemap.xml land here too
        body = "".join(f"<a href='/p{n * 6 + i}.html'>第{n * 6 + i}页</a>" for i in range(1, 7))
        if req.path == "/" or name.isdigit():  # the pages (not the probe, robots.txt or the sitemap)
            with lock:
                served.append((time.monotonic(), req.path))
        return 200, {"Content-Type": "text/html; charset=utf-8"}, _page(f"页面{n}", body)

    site.handler("/", page)
    site.fallback(page)  # every /pN.html
    return site


def test_kill_9_mid_audit_keeps_what_was_committed(tmp_path: Path) -> None:
    db = tmp_path / "e.sqlite"
    served: list[tuple[float, str]] = []
    lock = threading.Lock()
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "TERM": "dumb"}
    with serve(_slow_site(served, lock)) as srv:
        proc = subprocess.Popen(
            [str(govaudit_executable()), "check", srv.base_url + "/", "--as-of", AS_OF, "--checks", "links",
             "--concurrency", "2", "--timeout", "5", "--max-pages", "5000", "--max-depth", "50",
             # answers fetched ahead of their level are held, not stored, until the level barrier
             # (a resume fetches them again: tests/test_fetch_ahead.py); here: what was answered is stored
             "--fetch-ahead", "0",
             "--db", str(db), "--out", str(tmp_path / "r")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        try:
            deadline = time.monotonic() + 120
            # let it crawl for a while: well past the first commit interval
            while time.monotonic() < deadline:
                with lock:
                    first = served[0][0] if served else None
                if first is not None and time.monotonic() - first > 8:
                    break
                assert proc.poll() is None, "the audit ended before it could be killed"
                time.sleep(0.1)
            os.kill(proc.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == -signal.SIGKILL
    with lock:
        old = {path for t, path in served if t < killed_at - 4.0}  # answered ≥ 4 s before the kill
        total = len(served)
    assert len(old) >= 10, f"too little crawled before the kill ({total} pages)"

    store = EvidenceStore(str(db))  # the killed process's WAL is recovered on open
    try:
        runs = store.list_runs()
        assert len(runs) == 1
        assert runs[0]["status"] == "interrupted"  # in the row: opening the store marked the dead run
        run = store.get_run(runs[0]["id"])
        assert run is not None and run["status"] == "interrupted"
        run_id = run["id"]
        fetched = {urlsplit(r["url"]).path for r in store.iter_fetches(run_id)}
        stored_pages = {urlsplit(p["url"]).path for p in store.iter_pages(run_id, with_body=False)}
        edges = store.count("links", run_id)
    finally:
        store.close()
    # Everything the server had answered a few seconds before the kill is in the store: fetches,
    # pages and their links — not lost with an uncommitted 2,000-row batch.
    assert old <= fetched, sorted(old - fetched)[:10]
    assert old <= stored_pages, sorted(old - stored_pages)[:10]
    assert edges >= 6 * len(old)


# --- skips reach the store like everything else ----------------------------------------------

def test_budget_and_depth_skips_are_stored_as_counted(tmp_path: Path) -> None:
    site = Site()
    site.page("/", _page("首页", "".join(f"<a href='/a{i}.html'>栏目{i}</a>" for i in range(8))
                       + "<a href='http://elsewhere.example/x.html'>外链</a>"))
    for i in range(8):
        site.page(f"/a{i}.html", _page(f"栏目{i}", f"<a href='/a{i}/deep.html'>更深</a>"))

    def sitemap(req: Request) -> tuple[int, dict[str, str], str]:
        # late: its pages usually arrive after the last page of the level, so the idle signal
        # (which cannot yield items) cuts them by the budget
        time.sleep(1.5)
        base = f"http://{req.headers['host']}"
        locs = "".join(f"<url><loc>{base}/s{i}.html</loc></url>" for i in range(2))
        return 200, {"Content-Type": "application/xml"}, f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{locs}</urlset>"

    site.handler("/sitemap.xml", sitemap)
    db = tmp_path / "e.sqlite"
    cfg = tmp_path / "govaudit.toml"
    cfg.write_text("check_external = false\n", "utf-8")
    with serve(site) as srv:
        proc = run_cli("check", srv.base_url + "/", "--as-of", AS_OF, "--checks", "links", "--max-pages", "4",
                       "--max-depth", "1", "--config", str(cfg), "--db", str(db), "--out", str(tmp_path / "r"))
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    report = json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))
    store = EvidenceStore(str(db))
    try:
        run = store.get_run(report["run_id"])
        assert run is not None
        counted = run["coverage"]["skipped"]
        stored: dict[str, int] = {}
        for row in store.iter_skips(run["id"]):
            stored[row["reason"]] = stored.get(row["reason"], 0) + 1
    finally:
        store.close()
    assert counted.get("max_pages") == 7  # 8 sections, 3 left in the budget after the homepage; 2 from the sitemap
    assert counted.get("max_depth") == 3  # /aN/deep.html under the 3 sections audited
    assert counted.get("external_not_checked") == 1
    assert stored == counted
