"""The engine through the real CLI: third-party plugins, isolation, exit codes, reports, recheck.

Every test serves a small site on loopback and runs the installed ``govaudit`` console script.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import textwrap
import time
from pathlib import Path

import jsonschema
import pytest

from auditor.reports.base import report_schema
from tests.support.servers import run_cli, serve
from tests.support.sites import Site

AS_OF = "2026-11-22"  # every audit here passes it; the fixture's dates are relative to it
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
EVIL_SOURCE = EVIL.replace("<", "&lt;").replace(">", "&gt;")  # text on the page, markup in the report if unescaped


def _site(n_news: int = 12, evil: bool = False) -> Site:
    site = Site()
    as_of = dt.date.fromisoformat(AS_OF)
    news = "".join(f'<li><a href="/news/{i}.html">新闻{i}</a> {as_of - dt.timedelta(days=2 + i % 10)}</li>'
                   for i in range(n_news))
    title = EVIL_SOURCE if evil else "测试县人民政府"
    site.page(
        "/",
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        "<div class='nav'><a href='/'>首页</a><a href='/news/'>新闻动态</a><a href='/xxgk/'>政府信息公开</a>"
        "<a href='/bsfw/'>办事服务</a><a href='/hdjl/'>县长信箱</a></div>"
        f"<div class='content'><ul>{news}</ul><a href='/gone.html'>{EVIL_SOURCE if evil else '旧页面'}</a>"
        "<a href='javascript:alert(1)'>js</a><a href='mailto:a@b.cn'>信箱</a></div></body></html>",
    )
    site.page("/news/", "<html><head><meta charset='utf-8'><title>新闻</title></head><body>"
              + "".join(f'<a href="/news/{i}.html">新闻{i}</a>' for i in range(n_news)) + "</body></html>")
    for i in range(n_news):
        site.page(f"/news/{i}.html", f"<html><head><meta charset='utf-8'><title>新闻{i}</title></head><body>"
                                     f"<p>正文{i}</p><a href='/news/{(i + 1) % n_news}.html'>下一篇</a></body></html>")
    site.page("/xxgk/", "<html><head><meta charset='utf-8'><title>政府信息公开</title></head><body>"
                        "<a href='/xxgk/zn.html'>政府信息公开指南</a></body></html>")
    site.page("/bsfw/", "<html><head><meta charset='utf-8'><title>办事服务</title></head><body>办事指南</body></html>")
    site.page("/hdjl/", "<html><head><meta charset='utf-8'><title>县长信箱</title></head><body>我要写信</body></html>")
    site.page("/xxgk/zn.html", "<html><head><meta charset='utf-8'><title>指南</title></head><body>指南</body></html>")
    return site


def _report(out: Path) -> dict:
    report = json.loads((out / "report.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    return report


THIRD_PARTY = textwrap.dedent(
    '''
    """A third-party check package, registered at runtime with --plugin."""
    from auditor.hookspecs import hookimpl
    from auditor.model import Basis, Rule, Severity

    BASIS = Basis(zh="测试依据第1条", source="tests", status="local")

    @hookimpl
    def govaudit_rules():
        return [
            Rule("thirdparty.homepage_seen", "首页已检查", "Homepage seen", Severity.INFO, BASIS, "无需整改"),
            Rule("thirdparty.veto", "测试否决项", "Test veto", Severity.VETO, BASIS, "整改"),
        ]

    @hookimpl
    def govaudit_check_page(page, ctx):
        if page.is_homepage:
            yield ctx.finding("thirdparty.homepage_seen", page.url, f"首页标题：{page.title}", "homepage seen")
            if ctx.config.plugin_options.get("thirdparty", {}).get("veto"):
                yield ctx.finding("thirdparty.veto", page.url, "测试否决", "test veto")
    '''
)

BROKEN = textwrap.dedent(
    '''
    """A plugin whose checks raise: the audit must record the error and go on."""
    from auditor.hookspecs import hookimpl

    @hookimpl
    def govaudit_check_page(page, ctx):
        raise RuntimeError("boom on " + page.url)

    @hookimpl
    def govaudit_check_site(site, ctx):
        raise ValueError("site-level boom")
    '''
)


# The worked example of ARCHITECTURE.md: a third-party family with a measure plugin of its own and
# a rule-pack parameter. The measurement happens once, in the audit; the check only reads it.
ROBOTS_FAMILY = textwrap.dedent(
    '''
    """robots.txt published (a third-party family): measured in the measure stage, judged by a check."""
    from auditor.hookspecs import hookimpl
    from auditor.model import Basis, Parameter, Rule, Severity

    BASIS = Basis(zh="测试依据第2条", source="tests", status="local")

    @hookimpl
    def govaudit_rules():
        return [Rule("robots.missing", "未发布 robots.txt", "No robots.txt", Severity.MINOR, BASIS, "发布 robots.txt")]

    @hookimpl
    def govaudit_parameters():
        return [Parameter("robots.required", "bool", default=True)]

    @hookimpl
    def govaudit_measure(site, ctx):
        r = ctx.probe("http").fetch(site.homepage_url.rstrip("/") + "/robots.txt", max_body=4096)
        ctx.measure("robots", "site", {"status": r.status, "error_kind": r.error_kind}, version=1)

    @hookimpl
    def govaudit_check_site(site, ctx):
        m = ctx.measurement("robots", "site")
        if m is None or not ctx.pack.value("robots.required"):  # pack parameter, default declared above
            return
        if m.data["status"] != 200:
            yield ctx.finding("robots.missing", site.homepage_url, f"robots.txt 返回 {m.data['status']}",
                              key="site", evidence=dict(m.data))
    '''
)


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    pkg = tmp_path / "plugins_pkg"
    pkg.mkdir()
    (pkg / "govaudit_thirdparty.py").write_text(THIRD_PARTY, "utf-8")
    (pkg / "govaudit_broken.py").write_text(BROKEN, "utf-8")
    (pkg / "govaudit_robots.py").write_text(ROBOTS_FAMILY, "utf-8")
    return {"PYTHONPATH": str(pkg) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 180):
    return run_cli(*args, timeout=timeout, env=env)


def test_third_party_plugin_and_isolation(tmp_path: Path, plugin_env: dict[str, str]) -> None:
    with serve(_site()) as srv:
        out = tmp_path / "r"
        proc = _run("check", "--as-of", AS_OF, srv.base_url + "/", "--out", str(out), "--db", str(tmp_path / "e.sqlite"),
                    "--plugin", "govaudit_thirdparty", "--plugin", "govaudit_broken",
                    env=plugin_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = _report(out)
    rules = report["stats"]["findings_per_rule"]
    assert rules.get("thirdparty.homepage_seen") == 1
    assert rules.get("links.dead") == 1  # /gone.html: the broken plugin did not blank other checks
    import openpyxl

    sheet = openpyxl.load_workbook(out / "report.xlsx").worksheets[0]
    assert sheet.max_row == len(report["findings"]) + 1 and sheet["B2"].value == report["findings"][0]["rule"]
    stages = {(e["stage"], e["plugin"]) for e in report["errors"]}
    assert ("check", "govaudit_broken") in stages
    assert any("site-level boom" in e["message"] for e in report["errors"])
    # The rules listing shows the runtime plugin's rules too.
    listing = _run("rules", "--lang", "en", env={**plugin_env, "GOVAUDIT_PLUGINS": "govaudit_thirdparty"})
    assert "thirdparty.veto" in listing.stdout and "links.dead" in listing.stdout


def test_third_party_family_measures_once_and_takes_its_pack_parameter(tmp_path: Path, plugin_env: dict[str, str]) -> None:
    db = str(tmp_path / "e.sqlite")
    with serve(_site()) as srv:
        proc = _run("check", "--as-of", AS_OF, srv.base_url + "/", "--out", str(tmp_path / "a"), "--db", db,
                    "--checks", "robots", "--plugin", "govaudit_robots", env=plugin_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [f] = _report(tmp_path / "a")["findings"]
    assert f["rule"] == "robots.missing" and f["evidence"]["status"] == 404
    run_id = _report(tmp_path / "a")["run_id"]
    # The site is gone: a recheck judges the stored measurement (same finding), and under an
    # overlay pack that turns the parameter off, none — without asking the network again.
    again = _run("recheck", run_id, "--db", db, "--out", str(tmp_path / "b"), env={**plugin_env, "GOVAUDIT_PLUGINS": "govaudit_robots"})
    assert again.returncode == 0, again.stderr[-3000:]
    assert [g["id"] for g in _report(tmp_path / "b")["findings"]] == [f["id"]]
    overlay = tmp_path / "no-robots.json"
    overlay.write_text(json.dumps({"id": "no-robots", "version": "1", "name_zh": "不要求", "name_en": "not required",
                                   "extends": "national",
                                   "values": {"robots.required": {"value": False, "source": "tests", "status": "local"}}}), "utf-8")
    relaxed = _run("recheck", run_id, "--db", db, "--out", str(tmp_path / "c"), "--rules", str(overlay),
                   env={**plugin_env, "GOVAUDIT_PLUGINS": "govaudit_robots"})
    assert relaxed.returncode == 0, relaxed.stderr[-3000:]
    assert _report(tmp_path / "c")["findings"] == []
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from fetches where run_id=? and purpose='probe'", (run_id,)).fetchone()[0] == 1


def test_veto_exit_status_and_config_file(tmp_path: Path, plugin_env: dict[str, str]) -> None:
    cfg = tmp_path / "govaudit.toml"
    cfg.write_text('profile = "city"\nmax_pages = 50\n[plugins.thirdparty]\nveto = true\n', "utf-8")
    with serve(_site()) as srv:
        proc = _run("check", "--as-of", AS_OF, srv.base_url + "/", "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"),
                    "--config", str(cfg), "--plugin", "govaudit_thirdparty", env=plugin_env)
    assert proc.returncode == 1, proc.stderr[-3000:]
    report = _report(tmp_path / "r")
    assert report["score"]["veto"] is True and report["score"]["passed"] is False
    assert report["score"]["veto_rules"] == {"thirdparty.veto": 1}
    assert report["site"]["profile"] == "city"


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--as-of", "2026-13-40"], "as-of"),
        (["--profile", "village"], "profile"),
        (["--rules", "no-such-pack"], "no-such-pack"),
        (["--resolve", "no-equals-sign"], "HOST=ADDR"),
        (["--format", "pdff"], "pdff"),  # pdf is a format now (the HTML report printed by Chromium)
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = run_cli("check", "--as-of", AS_OF, "http://127.0.0.1:9/", "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"), *args)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_audit_without_as_of_is_refused_under_the_test_guard(tmp_path: Path) -> None:
    """conftest sets GOVAUDIT_REQUIRE_AS_OF: a test that forgets --as-of fails now, not next month."""

    assert os.environ.get("GOVAUDIT_REQUIRE_AS_OF") == "1"
    with serve(_site()) as srv:
        proc = run_cli("check", srv.base_url + "/", "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"))
    assert proc.returncode == 2 and "--as-of" in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    env = {"GOVAUDIT_REQUIRE_AS_OF": ""}  # without the guard the date defaults to today, as users expect
    proc = run_cli("rules", env=env)
    assert proc.returncode == 0


def test_bad_config_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('max_pages = "many"\n', "utf-8")
    proc = run_cli("check", "--as-of", AS_OF, "http://127.0.0.1:9/", "--config", str(bad), "--db", str(tmp_path / "e.sqlite"))
    assert proc.returncode == 2 and "max_pages" in proc.stderr
    bad.write_text("max_pages = [unclosed\n", "utf-8")
    proc = run_cli("check", "--as-of", AS_OF, "http://127.0.0.1:9/", "--config", str(bad), "--db", str(tmp_path / "e.sqlite"))
    assert proc.returncode == 2 and "TOML" in proc.stderr


def test_unreachable_site_exits_3(tmp_path: Path) -> None:
    from tests.support.servers import closed_port

    port = closed_port()
    proc = run_cli("check", "--as-of", AS_OF, f"http://127.0.0.1:{port}/", "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"),
                   "--timeout", "2")
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "unreachable" in proc.stderr
    con = sqlite3.connect(tmp_path / "e.sqlite")
    assert con.execute("select status from runs").fetchone()[0] == "failed"


def test_html_report_is_safe_against_injected_markup(tmp_path: Path) -> None:
    with serve(_site(evil=True)) as srv:
        proc = run_cli("check", "--as-of", AS_OF, srv.base_url + "/", "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (tmp_path / "r" / "report.html").read_text("utf-8")
    report = _report(tmp_path / "r")
    dead = [f for f in report["findings"] if f["rule"] == "links.dead"]
    assert dead and EVIL in dead[0]["evidence"]["sources"][0]["anchor"]  # the evidence keeps the text…
    assert "<script>alert" not in html and "<img src=x" not in html  # …the HTML shows it inert
    assert "&lt;script&gt;alert" in html
    assert "Content-Security-Policy" in html and "javascript:alert" not in html


def test_recheck_reproduces_stable_ids_and_monthly_ids_match(tmp_path: Path) -> None:
    db = str(tmp_path / "e.sqlite")
    with serve(_site()) as srv:
        a = run_cli("check", srv.base_url + "/", "--out", str(tmp_path / "a"), "--db", db, "--as-of", "2026-10-22",
                    "--checks", "links,columns")
        b = run_cli("check", srv.base_url + "/", "--out", str(tmp_path / "b"), "--db", db, "--as-of", "2026-11-22",
                    "--checks", "links,columns")
    assert a.returncode == 0 and b.returncode == 0, (a.stderr[-2000:], b.stderr[-2000:])
    ra, rb = _report(tmp_path / "a"), _report(tmp_path / "b")
    ids_a = {f["id"] for f in ra["findings"] if f["rule"] in ("links.dead", "columns.missing")}
    ids_b = {f["id"] for f in rb["findings"] if f["rule"] in ("links.dead", "columns.missing")}
    assert ids_a and ids_a == ids_b  # next month's audit, same problems, same ids
    # recheck runs the checks on the stored crawl: the server is gone, results are the same.
    rc = run_cli("recheck", ra["run_id"], "--db", db, "--out", str(tmp_path / "c"))
    assert rc.returncode == 0, rc.stderr[-3000:]
    rr = _report(tmp_path / "c")
    assert {f["id"] for f in rr["findings"]} == {f["id"] for f in ra["findings"]}
    assert rr["as_of"] == "2026-10-22"


def test_discovery_is_deterministic_under_a_page_budget(tmp_path: Path) -> None:
    db = str(tmp_path / "e.sqlite")
    fetched = []
    with serve(_site(n_news=40)) as srv:
        for i in range(2):
            proc = run_cli("check", "--as-of", AS_OF, srv.base_url + "/", "--out", str(tmp_path / f"r{i}"), "--db", db,
                           "--max-pages", "15", "--concurrency", "8", "--checks", "links")
            assert proc.returncode == 0, proc.stderr[-2000:]
            report = _report(tmp_path / f"r{i}")
            assert "max_pages" in report["coverage"]["limited_by"]
            con = sqlite3.connect(db)
            fetched.append(sorted(r[0] for r in con.execute(
                "select url from fetches where run_id=? and purpose='page'", (report["run_id"],))))
    assert len(fetched[0]) == 15 and fetched[0] == fetched[1]


def test_time_budget_gives_a_partial_report(tmp_path: Path) -> None:
    site = _site(n_news=40)
    for i in range(40):  # 40 pages x 1 s at concurrency 2: at least 20 s, far past the 2 s budget
        site.handler(f"/news/{i}.html", lambda r: (time.sleep(1.0), (200, {"Content-Type": "text/html; charset=utf-8"},
                                                                        "<html><body>慢</body></html>"))[1])
    with serve(site) as srv:
        started = time.time()
        proc = run_cli("check", "--as-of", AS_OF, srv.base_url + "/", "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"),
                       "--time-budget", "2", "--concurrency", "2", "--checks", "links")
        took = time.time() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = _report(tmp_path / "r")
    assert report["status"] == "partial"
    assert took < 60
    html = (tmp_path / "r" / "report.html").read_text("utf-8")
    assert "部分结果" in html


@pytest.mark.parametrize("where", ["config", "option"])
def test_byte_budget_gives_a_partial_report(tmp_path: Path, where: str) -> None:
    cfg = tmp_path / "budget.toml"
    cfg.write_text(("byte_budget = 3000\n" if where == "config" else "") + "concurrency = 1\n", "utf-8")
    extra = ["--byte-budget", "3000"] if where == "option" else []
    with serve(_site(n_news=40)) as srv:
        proc = run_cli("check", "--as-of", AS_OF, srv.base_url + "/", "--config", str(cfg), "--out", str(tmp_path / "r"),
                       "--db", str(tmp_path / "e.sqlite"), "--checks", "links", *extra)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = _report(tmp_path / "r")
    assert report["status"] == "partial" and report["coverage"]["close_reason"] == "byte_budget"
    assert report["coverage"]["pages_fetched"] < 40
