"""History, triage and the ledger in process: stored runs (no crawl) judged by the real engine.

Each run is written to the store by hand — pages, links, link verdicts — and handed to
``check_and_report`` with the built-in links family and a small page-level family, so every status
and every coverage rule is pinned exactly and cheaply. The CLI end to end is tests/test_history_e2e.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

from auditor.config import build_config
from auditor.engine import Engine, check_and_report
from auditor.hookspecs import hookimpl
from auditor.measure.axe import node_identity
from auditor.model import Basis, LinkEdge, LinkResult, Rule, Severity, Verdict
from auditor.reports.ledger import read_ledger
from auditor.siteid import SiteIdentity
from auditor.store.database import EvidenceStore
from auditor.store.history import compare_runs, mark_active, set_triage
from tests.support.servers import run_cli

HOST = "www.x.gov.cn"
BASIS = Basis(zh="测试依据", source="tests", status="local")


class PageFamily:
    """A page-level family: a finding on every page whose body says BAD (keyed by the page URL)."""

    __name__ = "pagefam"

    def __init__(self) -> None:
        self.fail = False

    @hookimpl
    def govaudit_rules(self) -> list[Rule]:
        return [Rule("pagefam.bad", "页面有误", "bad page", Severity.MINOR, BASIS, "改正")]

    @hookimpl
    def govaudit_check_page(self, page: Any, ctx: Any) -> Any:
        if self.fail:
            raise RuntimeError("broken this month")
        if b"BAD" in page.body:
            yield ctx.finding("pagefam.bad", page.url, "页面有误", key=page.url)


class Month:
    """One stored run of the site on ``port``: pages (path → body) and link verdicts (path → dead?)."""

    def __init__(self, tmp: Path, fam: PageFamily, port: int, as_of: str, pages: dict[str, str], dead: dict[str, bool],
                 checks: list[str] | None = None):
        base = f"http://{HOST}:{port}"
        self.config = build_config({}, {"url": base + "/", "db": str(tmp / "h.sqlite"), "as_of": as_of,
                                        "out": str(tmp / as_of), "resolve": {HOST: "127.0.0.1"},
                                        "checks": checks or ["links", "pagefam"], "formats": ["json", "ledger"]})
        self.engine = Engine(self.config, extra_plugins=[fam])
        self.store = EvidenceStore(self.config.db)
        run = self.store.start_run(self.config.host, self.config.url, as_of, self.config.to_dict(), "test")
        for path, body in pages.items():
            self.store.add_page(run, base + path, base + path, 200, "text/html", "utf-8", 1, path, "html",
                                f"<html><body>{body}</body></html>".encode())
        for path, is_dead in dead.items():
            self.store.add_links(run, [LinkEdge(base + "/", base + path, "入口")])
            self.store.add_link_result(run, LinkResult(base + path, Verdict.DEAD if is_dead else Verdict.OK,
                                                       reason="http_status" if is_dead else None, status=404 if is_dead else 200))
        self.store.finish_run(run, "complete", {"homepage_url": base + "/"}, {})
        self.result = check_and_report(self.config, self.engine, self.store, run)
        self.report = self.result.report
        self.run_id = run

    def status(self) -> dict[str, str]:
        """rule:path → status, for present findings and the absent ones alike."""

        from urllib.parse import urlsplit

        out = {f"{f['rule']}:{urlsplit(f['url']).path}": f["history"]["status"] for f in self.report["findings"]}
        for status in ("fixed", "not_rechecked"):
            for f in self.report["changes"][status]:
                out[f"{f['rule']}:{urlsplit(f['url']).path}"] = status
        return out


def test_site_identity_removes_loopback_ports_only() -> None:
    ident = SiteIdentity.of("http://www.x.gov.cn:41235/", {"www.x.gov.cn": "127.0.0.1", "www.conac.cn": "::1"})
    assert ident.normalise("http://www.x.gov.cn:41235/a.html") == "http://www.x.gov.cn/a.html"
    assert ident.normalise("site:x|http://www.conac.cn:41235/b?c=1") == "site:x|http://www.conac.cn/b?c=1"
    assert ident.normalise("http://127.0.0.1:5000/p http://[::1]:5000/q") == "http://127.0.0.1/p http://[::1]/q"
    # a host on the public network keeps its port: there it is how the site is reached
    assert ident.normalise("http://www.other.gov.cn:8080/a") == "http://www.other.gov.cn:8080/a"
    assert SiteIdentity.of("https://www.x.gov.cn:8443/").normalise("https://www.x.gov.cn:8443/a") == "https://www.x.gov.cn:8443/a"
    assert ident.key(None, "http://www.x.gov.cn:41235/") == "http://www.x.gov.cn/"


def test_a11y_element_identity_ignores_port_and_printed_date() -> None:
    node1 = {"html": '<div class="topbar"><span>今天是2026年01月10日 星期六</span><a href="http://beian.miit.gov.cn:41235/">备案</a></div>'}
    node2 = {"html": '<div class="topbar"><span>今天是2026年02月10日 星期二</span><a href="http://beian.miit.gov.cn:38811/">备案</a></div>'}
    assert node_identity("region", node1, "http://www.x.gov.cn:41235/") == node_identity("region", node2, "http://www.x.gov.cn:38811/")
    other = {"html": '<div class="topbar"><span>欢迎</span></div>'}
    assert node_identity("region", other, "http://www.x.gov.cn/") != node_identity("region", node1, "http://www.x.gov.cn/")


def test_statuses_across_months_and_coverage(tmp_path: Path) -> None:
    fam = PageFamily()
    pages = {"/": "home", "/p.html": "BAD", "/q.html": "BAD"}
    m1 = Month(tmp_path, fam, 41111, "2026-01-10", pages, {"/d1.html": True, "/d2.html": True})
    assert set(m1.status().values()) == {"new"} and len(m1.status()) == 4
    # month 2, another port, only the links family: the page findings were not looked at again
    m2 = Month(tmp_path, fam, 42222, "2026-02-10", pages, {"/d1.html": False, "/d2.html": True}, checks=["links"])
    assert m2.status() == {"links.dead:/d2.html": "persisting", "links.dead:/d1.html": "fixed",
                           "pagefam.bad:/p.html": "not_rechecked", "pagefam.bad:/q.html": "not_rechecked"}
    assert {f["reason"] for f in m2.report["changes"]["not_rechecked"]} == {"family_off"}
    # month 3: /p.html fixed and fetched; /q.html not fetched at all; the page family broken on nothing
    m3 = Month(tmp_path, fam, 43333, "2026-03-10", {"/": "home", "/p.html": "good"}, {"/d1.html": True, "/d2.html": False})
    assert m3.status() == {"links.dead:/d1.html": "reopened", "links.dead:/d2.html": "fixed",
                           "pagefam.bad:/p.html": "fixed", "pagefam.bad:/q.html": "not_rechecked"}
    assert [f["reason"] for f in m3.report["changes"]["not_rechecked"]] == ["not_fetched"]
    reopened = next(f for f in m3.report["findings"] if f["history"]["status"] == "reopened")
    assert reopened["history"]["first_seen"] == "2026-01-10" and reopened["history"]["runs_seen"] == 2
    # month 4: the page family fails on every page: its absent finding is not re-checked, never fixed
    fam.fail = True
    m4 = Month(tmp_path, fam, 44444, "2026-04-10", {"/": "home", "/q.html": "BAD"}, {"/d1.html": True})
    assert m4.status()["pagefam.bad:/q.html"] == "not_rechecked"
    assert m4.report["changes"]["not_rechecked"][0]["reason"] == "plugin_error"
    assert m4.status()["links.dead:/d1.html"] == "persisting"
    fam.fail = False
    # any two runs: month 1 → month 3
    d = compare_runs(m3.store, m1.run_id, m3.run_id)
    assert d["counts"] == {"new": 0, "persisting": 1, "fixed": 2, "not_rechecked": 1}


def test_triage_is_not_scored_until_it_expires(tmp_path: Path) -> None:
    fam = PageFamily()
    m1 = Month(tmp_path, fam, 41111, "2026-01-10", {"/": "home"}, {"/d1.html": True, "/d2.html": True})
    dead = {f["url"].rsplit("/", 1)[1]: f for f in m1.report["findings"]}
    assert dead["d1.html"]["deduction"] == 1.0 and dead["d2.html"]["deduction"] == 1.0
    set_triage(m1.store, HOST, dead["d1.html"]["id"], mark="false_positive", note="外部系统")
    set_triage(m1.store, HOST, dead["d2.html"]["id"], mark="deferred", note="改版中", until="2026-02-15")
    m2 = Month(tmp_path, fam, 42222, "2026-02-10", {"/": "home"}, {"/d1.html": True, "/d2.html": True})
    assert sorted(m2.report["triaged"]["ids"]) == sorted(f["id"] for f in dead.values())
    # the trend counts what each run scored: month 1 before the marks, month 2 with both marked
    assert [p["findings"] for p in m2.report["trend"]] == [{"major": 2}, {}]
    assert all(f["deduction"] == 0.0 for f in m2.report["findings"])
    assert m2.report["score"]["indicators"]["links"]["raw_deduction"] == 0.0
    m3 = Month(tmp_path, fam, 43333, "2026-03-10", {"/": "home"}, {"/d1.html": True, "/d2.html": True})
    scored = {f["id"]: f["deduction"] for f in m3.report["findings"]}
    assert scored == {dead["d1.html"]["id"]: 0.0, dead["d2.html"]["id"]: 1.0}  # the deferral expired on 2026-02-15
    assert [p["findings"] for p in m3.report["trend"]] == [{"major": 2}, {}, {"major": 1}]
    assert mark_active({"mark": "deferred", "until": "2026-02-15"}, "2026-02-15")
    assert not mark_active({"mark": "deferred", "until": "2026-02-15"}, "2026-02-16")
    assert not mark_active({"mark": None, "responsible": "办公室"}, "2026-01-01")


def test_ledger_is_read_back_by_header_whatever_the_column_order(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["备注", "问题编号", "整改情况", "状态", "责任单位", "整改时限"])
    ws.append(["", "0123456789abcdef", "已修复", "持续", "信息中心", "2026-03-31"])
    ws.append(["", "fedcba9876543210", "", "误报", "", ""])
    ws.append(["暂缓至年底", "00000000000000aa", "", "持续", "", ""])
    ws.append(["误报", "not-an-id", "", "", "", ""])  # a row without a finding id is ignored
    wb.create_sheet("说明").append(["网站", HOST])
    wb.save(tmp_path / "l.xlsx")
    about, rows = read_ledger(tmp_path / "l.xlsx")
    assert about["网站"] == HOST
    assert [(r.finding_id, r.mark) for r in rows] == [("0123456789abcdef", None), ("fedcba9876543210", "false_positive"),
                                                      ("00000000000000aa", "deferred")]
    assert (rows[0].responsible, rows[0].deadline, rows[0].progress) == ("信息中心", "2026-03-31", "已修复")


def test_bad_ledger_and_bad_triage_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    db = str(tmp_path / "e.sqlite")
    proc = run_cli("ledger", "import", str(tmp_path / "x.xlsx"), "--db", db)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "台账" in proc.stderr
    proc = run_cli("triage", "0123456789abcdef", "--false-positive", "--note", "x", "--db", db)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr  # no such finding in the store
    proc = run_cli("triage", "0123456789abcdef", "--defer", "--until", "2026-13-01", "--note", "x", "--db", db)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = run_cli("history", "www.none.gov.cn", "--db", db)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
