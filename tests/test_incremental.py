"""Incremental re-audit (#10 item 6): conditional requests for pages, the stored body reused on
304, ok link verdicts reused within ``links.verdict_cache_days`` — and findings identical to a full
re-audit of the same content.

One loopback site that honours ``If-None-Match`` (ETag = hash of the body) and changes between the
audits; every request is logged with its method and conditional header, so each test asserts what
was (not) sent as well as what was found.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.support.hostile import GBK_TITLE, TRUNCATED_PDF
from tests.support.servers import run_cli, serve
from tests.support.sites import Request, Site

pytestmark = pytest.mark.slow

AS_OF = "2026-12-01"


def _html(title: str, body: str) -> str:
    return f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


class ChangingSite:
    """Pages whose content the test changes; ETag validation; a request log."""

    def __init__(self) -> None:
        self.content: dict[str, tuple[str, bytes]] = {}  # path → (content type, body)
        self.log: list[tuple[str, str, str | None, int]] = []  # (method, path, If-None-Match, status)
        self.lock = threading.Lock()
        self.site = Site()
        self.site.fallback(self._answer)

    def set(self, path: str, body: str | bytes, ctype: str = "text/html; charset=utf-8") -> None:
        self.content[path] = (ctype, body if isinstance(body, bytes) else body.encode("utf-8"))

    def _answer(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        entry = self.content.get(req.path)
        if entry is None:
            status, headers, body = 404, {"Content-Type": "text/html; charset=utf-8"}, _html("404 Not Found", "<h1>404</h1>").encode()
        else:
            ctype, body = entry
            etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
            headers = {"Content-Type": ctype, "ETag": etag}
            status = 304 if req.headers.get("if-none-match") == etag else 200
            if status == 304:
                body = b""
        with self.lock:
            self.log.append((req.method, req.path, req.headers.get("if-none-match"), status))
        return status, headers, body

    def requests_for(self, path: str) -> list[tuple[str, str | None, int]]:
        with self.lock:
            return [(m, inm, s) for m, p, inm, s in self.log if p == path]

    def clear(self) -> None:
        with self.lock:
            self.log.clear()


def _site() -> ChangingSite:
    s = ChangingSite()
    s.set("/", _html("测试县人民政府", "<a href='/a.html'>甲</a><a href='/b.html'>乙</a><a href='/gone.html'>已删除</a>"
                                    "<img src='/logo.png' alt='标志'><img src='/old.png' alt='旧图'>"))
    s.set("/a.html", _html("甲文章", "<p>不变的文章。</p><a href='/a-dead.html'>甲页上的死链</a><a href='/c.html'>丙</a>"))
    s.set("/b.html", _html("乙文章", "<p>第一版。</p>"))
    s.set("/c.html", _html("丙文章", "<p>只能经由甲页到达的文章。</p>"))
    s.set("/logo.png", "PNG", "image/png")
    s.set("/old.png", "PNG2", "image/png")
    return s


def _audit(base: str, db: Path, out: Path, *extra: str, checks: str = "links") -> dict:
    proc = run_cli("check", base, "--as-of", AS_OF, "--checks", checks, "--a11y", "off", "--format", "json",
                   "--db", str(db), "--out", str(out), "--ignore-robots", *extra)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    # no silent cap (#15 item 4): the default page budget is said at the start and in the summary
    assert "页面上限 5000" in proc.stderr and "上限 5000" in proc.stdout, (proc.stderr[-500:], proc.stdout[-1500:])
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["coverage"]["max_pages"] == 5000
    return report


def _cache_pack(tmp_path: Path) -> Path:
    """The national pack with ok verdicts reused for 7 days (the national default, 0, re-checks all)."""

    pack = {"id": "verdict-cache-test", "version": "1", "name_zh": "测试覆盖包", "name_en": "test overlay",
            "extends": "national",
            "values": {"links.verdict_cache_days": {"value": 7, "source": "测试用覆盖值", "status": "local"}}}
    path = tmp_path / "cache7.json"
    path.write_text(json.dumps(pack, ensure_ascii=False), "utf-8")
    return path


def _dead(report: dict) -> set[str]:
    return {f["url"].rsplit("/", 1)[-1] for f in report["findings"] if f["rule"] == "links.dead"}


def test_incremental_reaudit_reuses_unchanged_pages_and_finds_the_same(tmp_path: Path) -> None:
    site = _site()
    db = tmp_path / "ga.sqlite"
    with serve(site.site) as srv:
        base = srv.base_url + "/"
        pack = str(_cache_pack(tmp_path))
        first = _audit(base, db, tmp_path / "r1", "--rules", pack)
        assert _dead(first) == {"gone.html", "a-dead.html"}
        # /old.png was checked ok 30 days ago: beyond links.verdict_cache_days (7), so re-checked
        with sqlite3.connect(db) as conn:
            conn.execute("update fetches set fetched_at = ? where url like '%/old.png'", (time.time() - 30 * 86400,))

        # month 2: /b.html changed and now links to a new dead page; /a.html did not change
        site.set("/b.html", _html("乙文章", "<p>第二版。</p><a href='/b-dead.html'>新死链</a>"))
        site.clear()
        second = _audit(base, db, tmp_path / "r2", "--rules", pack)
        a = site.requests_for("/a.html")
        assert a == [("GET", a[0][1], 304)] and a[0][1], a  # one conditional GET, answered 304, no refetch
        b = site.requests_for("/b.html")
        assert [s for _, _, s in b] == [200, 200], b  # changed: the conditional GET got 200, the crawl fetched it
        assert site.requests_for("/c.html") == [("GET", site.requests_for("/c.html")[0][1], 304)]  # reached via reused /a.html
        assert site.requests_for("/logo.png") == []  # ok verdict from the last run, within the limit: not asked
        assert site.requests_for("/old.png"), "an ok verdict older than links.verdict_cache_days must be re-checked"
        assert site.requests_for("/gone.html") and site.requests_for("/a-dead.html")  # dead: always re-checked
        # the dead link on the reused page is still found, the new one on the changed page too
        assert _dead(second) == {"gone.html", "a-dead.html", "b-dead.html"}
        inc = second["coverage"]["incremental"]
        assert inc["pages_reused"] == 2 and inc["verdicts_reused"] == 1, inc

        site.clear()
        full = _audit(base, db, tmp_path / "r3", "--no-incremental", "--rules", pack)
        assert all(inm is None for _, _, inm, _ in site.log)  # a full re-audit sends no conditional request
        assert "incremental" not in full["coverage"]

        # the national pack (links.verdict_cache_days 0): pages still revalidated, every target re-checked
        site.clear()
        default = _audit(base, db, tmp_path / "r4")
        assert [s for _, _, s in site.requests_for("/a.html")] == [304]
        assert site.requests_for("/logo.png"), "with the national default no ok verdict is reused"
        assert default["coverage"]["incremental"]["verdicts_reused"] == 0
        assert {f["id"] for f in default["findings"]} == {f["id"] for f in full["findings"]}
    assert {f["id"] for f in second["findings"]} == {f["id"] for f in full["findings"]}
    assert second["stats"]["pages"] == full["stats"]["pages"] == 4
    assert second["stats"]["link_verdicts"] == full["stats"]["link_verdicts"]


def test_incremental_keeps_what_the_crawl_saw_in_an_unchanged_body(tmp_path: Path) -> None:
    """A page whose declared charset does not match its bytes and a corrupt PDF, both unchanged
    (answered 304, reused), keep their crawl.charset_mismatch / crawl.corrupt_attachment findings,
    and an attachment over the size cap is still counted as skipped ``too_large`` — findings and skip
    counts as a full re-audit's. Before, a reused page's ``crawl.fault`` records were not carried
    over: both findings vanished from the incremental run. Months 2 and 3 store no edge of a reused
    page again, only a reference to month 1 (month 3 too: never to month 2's reference), and read
    exactly the edges of a full re-audit."""

    site = ChangingSite()
    site.set("/", _html("测试县人民政府", "<a href='/gbk.html'>目录</a><a href='/files/bad.pdf'>附件</a>"
                                       "<a href='/files/big.zip'>大附件</a><a href='/ok.html'>正常页</a>"))
    gbk = f"<html><head><title>{GBK_TITLE}</title></head><body><p>{'政府信息公开。' * 30}</p></body></html>".encode("gbk")
    site.set("/gbk.html", gbk, "text/html; charset=utf-8")  # GBK bytes under a UTF-8 header
    site.set("/files/bad.pdf", TRUNCATED_PDF, "application/pdf")
    site.set("/files/big.zip", b"PK\x03\x04" + b"\x00" * 20_000, "application/zip")  # over page_max_bytes below
    site.set("/ok.html", _html("正常页", "<p>正常。</p><a href='/deep.html'>下一层</a><a href='/gone.html'>已删除</a>"
                                       "<a href='/'>首页</a>"))
    site.set("/deep.html", _html("下一层", "<p>只能经由正常页到达。</p>"))
    db = tmp_path / "ga.sqlite"
    config = tmp_path / "c.toml"
    config.write_text("page_max_bytes = 8192\n", "utf-8")
    faults = {"crawl.charset_mismatch": "gbk.html", "crawl.corrupt_attachment": "bad.pdf", "links.dead": "gone.html"}

    def found(report: dict) -> dict[str, str]:
        return {f["rule"]: f["url"].rsplit("/", 1)[-1] for f in report["findings"] if f["rule"] in faults}

    with serve(site.site) as srv:
        base = srv.base_url + "/"
        first = _audit(base, db, tmp_path / "r1", "--config", str(config), checks="crawl,links")
        assert found(first) == faults
        assert first["coverage"]["skipped"].get("too_large") == 1
        site.clear()
        second = _audit(base, db, tmp_path / "r2", "--config", str(config), checks="crawl,links")
        for path in ("/gbk.html", "/files/bad.pdf", "/files/big.zip"):
            assert [s for _, _, s in site.requests_for(path)] == [304], (path, site.requests_for(path))  # reused
        assert second["coverage"]["incremental"]["pages_reused"] == 5
        # month 3, still unchanged: its references point at month 1, which parsed the pages, not at month 2's references
        third = _audit(base, db, tmp_path / "r3", "--config", str(config), checks="crawl,links")
        full = _audit(base, db, tmp_path / "r4", "--config", str(config), "--no-incremental", checks="crawl,links")
    assert found(second) == faults == found(third) == found(full)
    ids = [{f["id"] for f in r["findings"]} for r in (first, second, third, full)]
    assert ids[0] == ids[1] == ids[2] == ids[3]
    assert second["coverage"]["skipped"] == third["coverage"]["skipped"] == full["coverage"]["skipped"]

    # the edges: stored once (month 1), referred to by months 2 and 3, read as a full re-audit's
    from auditor.store.database import EvidenceStore

    store = EvidenceStore(db)
    try:
        def edges(run: str) -> list[tuple]:
            return sorted((e["source_url"], e["target_url"], e["anchor"], e["tag"], e["position"], e["region"])
                          for e in store.iter_links(run))

        assert edges(third["run_id"]) == edges(full["run_id"]) == edges(first["run_id"]) and edges(full["run_id"])
        assert store.count("links", third["run_id"]) == store.count("links", full["run_id"])
        assert list(store.iter_link_targets(third["run_id"])) == list(store.iter_link_targets(full["run_id"]))
        with sqlite3.connect(db) as conn:
            refs = conn.execute("select run_id, origin_run from links where origin_run is not null").fetchall()
            own = {r: {row[0] for row in conn.execute("select source_url from links where run_id = ? and origin_run is null",
                                                      (r,))} for r in (second["run_id"], third["run_id"])}
        assert {r for r, _ in refs} == {second["run_id"], third["run_id"]} and {o for _, o in refs} == {first["run_id"]}
        # nothing copied: the only edges stored again are the homepage's (always fetched, never reused)
        assert own == {second["run_id"]: {base}, third["run_id"]: {base}}
    finally:
        store.close()
