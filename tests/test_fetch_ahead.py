"""Speculative fetch-ahead across the BFS level barrier (issue #14: "a slow level or host does not
stall the others"; :mod:`auditor.crawl.frontier`).

Each test runs the real ``govaudit check`` against a loopback site built here whose server logs
when each request arrived and when its answer left, so the order the crawler fetched in is read
from the server, not from the crawler.
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
from typing import Any

import pytest

from tests.support.servers import run_cli, serve
from tests.support.sites import Request, Site

pytestmark = pytest.mark.slow

AS_OF = "2026-11-25"
HTML = "<html><head><meta charset='utf-8'><title>{title}</title></head><body><p>{title}</p>{body}</body></html>"
TRAP_PACK = {
    "id": "fetch-ahead-test", "version": "1", "name_zh": "测试", "name_en": "test", "extends": "national",
    "values": {"crawl.trap_budgets": {"value": {"calendar": 3, "pagination": 300, "session": 3, "growing": 5},
                                      "source": "test budgets", "status": "local"}},
}


class Log:
    """(arrived, answered, path?query) of every request the site served, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[tuple[float, float, str]] = []
        self.asked: set[str] = set()

    def reset(self) -> None:
        with self.lock:
            self.rows.clear()
            self.asked.clear()

    def add(self, arrived: float, target: str) -> None:
        with self.lock:
            self.rows.append((arrived, time.monotonic(), target))

    def first_arrival(self, target: str) -> float:
        with self.lock:
            return min(a for a, _, t in self.rows if t == target)

    def answered(self, target: str) -> float:
        with self.lock:
            return min(d for _, d, t in self.rows if t == target)

    def span(self) -> float:
        with self.lock:
            pages = [r for r in self.rows if r[2].endswith(".html") or r[2] == "/" or "?" in r[2]]
            return max(d for _, d, _ in pages) - min(a for a, _, _ in pages)


def _site(pages: dict[str, list[str]], slow: dict[str, float], log: Log, pad: int = 0,
          redirects: dict[str, str] | None = None, throttled: dict[str, int] | None = None) -> Site:
    """``pages``: path (with query) → the links on it; ``slow``: path → seconds before it answers;
    ``redirects``: path → where it redirects (302); ``throttled``: path → the ``Retry-After`` seconds
    of a 429 its first request gets."""

    site = Site()
    asked = log.asked  # emptied by log.reset(): each audit gets its 429 first

    def handler(req: Request) -> tuple[int, dict[str, str], str]:
        arrived = time.monotonic()
        target = req.path + (f"?{req.query}" if req.query else "")
        time.sleep(slow.get(target, 0.0))
        if throttled and target in throttled and target not in asked:
            asked.add(target)
            log.add(arrived, target + "#429")
            return 429, {"Retry-After": str(throttled[target]), "Content-Type": "text/html"}, "slow down"
        if redirects and target in redirects:
            log.add(arrived, target)
            return 302, {"Location": redirects[target]}, ""
        links = pages.get(target)
        if links is None:
            log.add(arrived, target)
            return 404, {"Content-Type": "text/html; charset=utf-8"}, HTML.format(title="404 Not Found", body="")
        body = "".join(f"<a href='{u}'>{u}</a>" for u in links) + ("x" * pad)
        log.add(arrived, target)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, HTML.format(title=f"页面 {target}", body=body)

    site.handler("/", handler)
    site.fallback(handler)
    return site


def _audit(tmp: Path, url: str, name: str, *extra: str, config: str = "") -> tuple[dict[str, Any], Path]:
    out, db = tmp / f"out-{name}", tmp / f"{name}.sqlite"
    (tmp / "pack.json").write_text(json.dumps(TRAP_PACK), encoding="utf-8")
    (tmp / f"{name}.toml").write_text("check_external = false\nobey_robots = false\n" + config, encoding="utf-8")
    proc = run_cli("check", url, "--as-of", AS_OF, "--out", str(out), "--db", str(db), "--checks", "crawl,links",
                   "--concurrency", "4", "--timeout", "10", "--config", str(tmp / f"{name}.toml"),
                   "--rules", str(tmp / "pack.json"), "--format", "json", *extra, timeout=150)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return json.loads((out / "report.json").read_text("utf-8")), db


def _rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the crawl stored that must not depend on timing (no times, no random probe URL)."""

    with sqlite3.connect(db) as conn:
        return {
            "pages": sorted(conn.execute("select url, final_url, status, depth, title, kind from pages").fetchall()),
            "links": sorted(conn.execute("select source_url, target_url, anchor, region, tag, position from links").fetchall()),
            "skips": sorted(conn.execute("select url, reason from skips").fetchall()),
            "fetches": sorted(conn.execute("select url, purpose, method, status, depth, error_kind, final_url from fetches "
                                           "where purpose not in ('calibration', 'sitemap')").fetchall()),
        }


def _finding_ids(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((f["id"], f["rule"], f["url"]) for f in report["findings"])


# --- 1. a slow page no longer stalls the other branches --------------------------------------

def test_a_slow_page_does_not_stall_the_next_levels_of_the_other_branches(tmp_path: Path) -> None:
    # level 1: /a (429, Retry-After 3 s), /b, /c; level 2: /b1…/b4 (/b2 itself 3 s), /c1, /c2, /a1;
    # level 3: under /b1, /c1
    pages = {
        "/": ["/a.html", "/b.html", "/c.html"],
        "/a.html": ["/a1.html"], "/a1.html": [],
        "/b.html": ["/b1.html", "/b2.html", "/b3.html", "/b4.html"],
        "/b1.html": ["/b1x.html"], "/b2.html": [], "/b3.html": [], "/b4.html": [], "/b1x.html": [],
        "/c.html": ["/c1.html", "/c2.html"], "/c1.html": ["/c1x.html"], "/c2.html": [], "/c1x.html": [],
    }
    slow = {"/b2.html": 3.0}
    spans = {}
    log = Log()
    runs = []
    with serve(_site(pages, slow, log, throttled={"/a.html": 3})) as srv:
        for name, extra in (("ahead", ()), ("sync", ("--fetch-ahead", "0"))):
            log.reset()
            report, _ = _audit(tmp_path, srv.base_url + "/", name, *extra)
            runs.append((name, report, log.span(), list(log.rows)))
    for name, report, span, rows in runs:
        log.rows = rows
        assert report["coverage"]["pages_stored"] == len(pages)
        spans[name] = span
        if name == "ahead":
            a_done = log.answered("/a.html")
            for level2 in ("/b1.html", "/b2.html", "/b3.html", "/b4.html", "/c1.html", "/c2.html"):
                # the trap: level-synchronous BFS asks for no level-2 page before /a.html answers
                assert log.first_arrival(level2) < a_done - 1.0, level2
            assert log.first_arrival("/a1.html") > a_done  # found on the slow page itself: after it
            ahead = report["coverage"]["fetch_ahead"]
            # nothing fetched ahead was wasted here (no budget binds): each answer was used once
            assert ahead["requested"] >= 6 and ahead["used"] == ahead["requested"] and ahead["replayed"] >= 4, ahead
            assert ahead["discarded"] == ahead["overflow"] == 0, ahead
        else:
            assert report["coverage"]["fetch_ahead"]["requested"] == 0
            assert log.first_arrival("/b1.html") > log.answered("/a.html")  # the old behaviour, kept at 0
    # level-synchronous: /a.html's 3 s Retry-After, then /b2.html's 3 s; ahead, /b2.html waited alongside
    assert spans["sync"] >= 6.0, spans
    assert spans["ahead"] < 5.0, spans


# --- 2. the same stored rows and findings, with the budgets binding ------------------------------

def _budget_site() -> tuple[dict[str, list[str]], dict[str, float]]:
    """Level 1: a slow /z.html and fast /m.html, /n.html. While /z.html waits, fetch-ahead takes the
    smallest next-level URLs it knows (from /m and /n: /loop.html, /m1…, /n1…; calendar months are a
    trap family and never fetched ahead); the slow page's own children sort BEFORE all of them
    (/a*.html, /cal.html?date=2023-…), so at the barrier the calendar budget (3) and the page budget
    cut pages — some of them already fetched ahead.
    /loop.html redirects to itself: a failure (errback), held and replayed like an answer."""

    months = [f"/cal.html?date=2024-{m:02d}" for m in range(1, 9)]
    pages: dict[str, list[str]] = {
        "/": ["/z.html", "/m.html", "/n.html"],
        "/z.html": ["/a1.html", "/a2.html", "/a3.html", "/cal.html?date=2023-11", "/cal.html?date=2023-12"],
        "/m.html": [*months, "/loop.html", *(f"/m{i}.html" for i in range(1, 7))],
        "/n.html": [f"/n{i}.html" for i in range(1, 4)],
    }
    for i in range(1, 4):
        pages[f"/a{i}.html"] = [f"/a{i}/x.html"]
    for i in range(1, 7):
        pages[f"/m{i}.html"] = [f"/m{i}/x.html", "/m.html"]
    for i in range(1, 4):
        pages[f"/n{i}.html"] = [f"/n{i}/x.html"]
    for u in [*months, "/cal.html?date=2023-11", "/cal.html?date=2023-12"]:
        pages[u] = ["/m.html"]
    for key in list(pages):
        if "/x.html" not in key:
            for link in pages[key]:
                if link.endswith("/x.html"):
                    pages[link] = []
    return pages, {"/z.html": 2.5}


LOOP = {"/loop.html": "/loop.html"}


def test_stored_rows_and_findings_are_the_same_with_and_without_fetch_ahead(tmp_path: Path) -> None:
    pages, slow = _budget_site()
    got = {}
    log = Log()
    with serve(_site(pages, slow, log, redirects=LOOP)) as srv:  # one server: the same URLs in both runs
        for name, extra in (("ahead", ()), ("sync", ("--fetch-ahead", "0"))):
            log.reset()
            report, db = _audit(tmp_path, srv.base_url + "/", name, "--max-pages", "12", *extra)
            got[name] = (report, _rows(db))
            if name != "ahead":
                continue
            ahead = report["coverage"]["fetch_ahead"]
            # the determinism trap: pages fetched ahead that the barrier then cut (calendar budget
            # and page budget) — their answers were thrown away, never stored
            assert ahead["discarded"] >= 3, ahead
            assert ahead["replayed"] >= 2, ahead  # /loop.html's failure and /m1.html at least
            assert log.first_arrival("/m4.html") < log.answered("/z.html")  # fetched ahead, then cut
            with log.lock:  # a trap family is never fetched ahead: its fetches are what its budget bounds
                assert not {t for _, _, t in log.rows} & {"/cal.html?date=2024-02", "/cal.html?date=2024-03"}
    (ra, rows_a), (rs, rows_s) = got["ahead"], got["sync"]
    for table in ("pages", "links", "skips", "fetches"):
        assert rows_a[table] == rows_s[table], table
    assert _finding_ids(ra) == _finding_ids(rs)
    assert ra["coverage"]["limited_by"] == rs["coverage"]["limited_by"] == ["max_pages", "trap"]
    stored = {u.split("/", 3)[-1] for u, *_ in rows_a["pages"]}
    # the budget kept the slow page's children (they sort first) and cut speculated ones
    assert {"a1.html", "cal.html?date=2023-11", "cal.html?date=2023-12", "cal.html?date=2024-01"} <= stored
    assert "cal.html?date=2024-02" not in stored and "m6.html" not in stored
    assert {r for _, r in rows_a["skips"]} >= {"trap", "max_pages"}
    loop = [f for f in rows_a["fetches"] if f[0].endswith("/loop.html")]
    assert [(f[1], f[5]) for f in loop] == [("page", "redirect_loop")]  # a held failure, replayed to the errback


# --- 3. the memory cap on held answers ----------------------------------------------------------

def test_held_bytes_never_pass_the_cap(tmp_path: Path) -> None:
    pages: dict[str, list[str]] = {"/": ["/a.html", "/b.html"], "/a.html": [],
                                   "/b.html": [f"/b{i}.html" for i in range(1, 9)]}
    for i in range(1, 9):
        pages[f"/b{i}.html"] = []
    cap = 70_000  # four of the ~20 KB pages fit, eight do not
    log = Log()
    with serve(_site(pages, {"/a.html": 2.5}, log, pad=20_000)) as srv:
        report, db = _audit(tmp_path, srv.base_url + "/", "cap", config=f"fetch_ahead_bytes = {cap}\n")
    ahead = report["coverage"]["fetch_ahead"]
    assert ahead["cap_bytes"] == cap
    assert 0 < ahead["held_bytes_peak"] <= cap, ahead  # the trap: without the cap all eight (~160 KB) are held
    assert ahead["overflow"] >= 1 and ahead["replayed"] >= 1, ahead
    # an answer dropped for memory is fetched again when its level comes: nothing is missing
    assert report["coverage"]["pages_stored"] == len(pages)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from pages").fetchone()[0] == len(pages)


# --- 4. a held answer is not "done": a resume after kill -9 fetches it again -------------------------

def test_answers_held_at_a_kill_are_fetched_again_on_resume(tmp_path: Path) -> None:
    from auditor.store.database import EvidenceStore
    from auditor.store.journal import load_frontier
    from tests.support.servers import govaudit_executable

    children = [f"/b{i}.html" for i in range(1, 5)]
    pages: dict[str, list[str]] = {"/": ["/a.html", "/b.html"], "/a.html": [], "/b.html": children}
    for c in children:
        pages[c] = [c.replace(".html", "/x.html")]
        pages[c.replace(".html", "/x.html")] = []
    log = Log()
    db, out = tmp_path / "run.sqlite", tmp_path / "out"
    (tmp_path / "pack.json").write_text(json.dumps(TRAP_PACK), encoding="utf-8")
    (tmp_path / "c.toml").write_text("check_external = false\nobey_robots = false\n", encoding="utf-8")
    common = ["--as-of", AS_OF, "--db", str(db), "--out", str(out), "--checks", "crawl,links", "--concurrency", "4",
              "--timeout", "15", "--config", str(tmp_path / "c.toml"), "--rules", str(tmp_path / "pack.json")]
    with serve(_site(pages, {"/a.html": 8.0}, log)) as srv:
        url = srv.base_url + "/"
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "TERM": "dumb"}
        proc = subprocess.Popen([str(govaudit_executable()), "check", url, *common], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)
        try:
            run_id = proc.stderr.readline().strip().split("：")[-1].split(": ")[-1]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # every level-2 page answered (and held), /a.html still slow
                with log.lock:
                    served = {t for _, _, t in log.rows}
                if set(children) <= served:
                    break
                assert proc.poll() is None, "the audit ended before the kill"
                time.sleep(0.05)
            time.sleep(1.5)  # past the pipeline's commit interval: the journal of /b.html is stored
            with log.lock:
                assert "/a.html" not in {t for _, _, t in log.rows}, "the slow page answered before the kill"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        store = EvidenceStore(str(db))
        try:
            fr = load_frontier(store, run_id)
            stored = {p["url"] for p in store.iter_pages(run_id, with_body=False)}
        finally:
            store.close()
        # the trap: a speculative request journaled as sent would be "pending" at depth 2 (resume
        # would count it in the page budget and the level); held answers are still queued
        assert {url.rstrip("/") + c for c in children} <= {r["url"] for r in fr.queued}
        assert [(r["url"], r["depth"]) for r in fr.pending if r["purpose"] == "page"] == [(url + "a.html", 1)]
        assert fr.level == 1 and not any(c in u for u in stored for c in children)  # nothing held was stored

        log.reset()
        done = run_cli("check", url, *common, "--resume", run_id, timeout=150)
        assert done.returncode in (0, 1), done.stderr[-3000:]
        with log.lock:
            refetched = {t for _, _, t in log.rows}
    assert set(children) <= refetched  # held, never processed: fetched again after the resume
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["run_id"] == run_id and report["status"] == "complete"
    with sqlite3.connect(db) as conn:
        n, distinct = conn.execute("select count(*), count(distinct url) from pages where run_id = ?", (run_id,)).fetchone()
    assert n == distinct == len(pages)


# --- 5. a slow host does not stall its sibling hosts ---------------------------------------------

def test_a_slow_host_does_not_stall_a_sibling_host(tmp_path: Path) -> None:
    from auditor.demo.servers import Hosts

    slow_log, fast_log = Log(), Log()
    a_pages: dict[str, list[str]] = {}
    b_pages: dict[str, list[str]] = {"/b.html": ["/b1.html", "/b2.html", "/b3.html"], "/b1.html": [], "/b2.html": [],
                                     "/b3.html": []}
    a_site = _site(a_pages, {"/slow.html": 3.0, "/s1.html": 3.0}, slow_log)  # www.a.test: every page but / is slow
    b_site = _site(b_pages, {}, fast_log)
    with serve(Hosts({"www.a.test": a_site, "www.b.test": b_site})) as srv:
        port = srv.port
        a_pages.update({"/": ["/slow.html", f"http://www.b.test:{port}/b.html"], "/slow.html": ["/s1.html"], "/s1.html": []})
        report, _ = _audit(tmp_path, f"http://www.a.test:{port}/", "hosts", "--resolve", "www.a.test=127.0.0.1",
                           "--resolve", "www.b.test=127.0.0.1", "--sibling-host", "www.b.test")
    assert report["coverage"]["pages_stored"] == len(a_pages) + len(b_pages)
    slow_done = slow_log.answered("/slow.html")
    for page in ("/b1.html", "/b2.html", "/b3.html"):  # the trap: level-synchronous waits for the slow host
        assert fast_log.first_arrival(page) < slow_done - 1.0, page


def test_the_next_level_hands_out_its_smallest_urls_once_and_stays_a_set() -> None:
    from auditor.crawl.frontier import LevelSet

    level = LevelSet(["/m", "/b"])
    level.update(["/z", "/a"], ["/b"])
    level.add("/c")
    assert level == {"/a", "/b", "/c", "/m", "/z"} and sorted(level) == ["/a", "/b", "/c", "/m", "/z"]
    assert [level.pop_smallest(), level.pop_smallest()] == ["/a", "/b"]
    level.add("/0")  # found later, sorts first: handed out next
    assert [level.pop_smallest(), level.pop_smallest()] == ["/0", "/c"]
    assert len(level) == 6  # taking a URL does not remove it: the barrier still selects from all
