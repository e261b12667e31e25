"""Freshness rules end to end: fixture sites served on loopback, audited by the real ``govaudit`` CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.sites.freshness_fixture import audit_content_site, build_homepage_site
from tests.support.servers import run_cli, serve

AS_OF = dt.date(2024, 6, 14)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    return audit_content_site(AS_OF, str(tmp_path_factory.mktemp("freshness")))


def findings(report: dict, rule: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule]


def test_cli_exit_status_and_no_errors(content) -> None:
    assert content["returncode"] == 1, content["stderr"][-2000:]  # a veto finding → exit 1
    errors = [e for e in content["report"]["errors"] if e.get("plugin") in ("freshness", "privacy")]
    assert not errors, errors


def test_stale_columns_exactly(content) -> None:
    truth = content["truth"]
    stale = [f for f in findings(content["report"], "freshness.column_stale") if f["severity"] != "veto"]
    assert {f["column"] for f in stale} == truth.stale_columns
    assert len(stale) == len(truth.stale_columns)  # each column once
    for f in stale:
        ev = f["evidence"]
        assert f["severity"] == "major"
        assert ev["window"]["source"] and ev["window"]["status"] in ("confirmed", "partial")
        assert f["basis"]["source"] and f["basis"]["status"] == "confirmed"
        if ev["newest_item"]:
            assert ev["age_days"] > ev["window_days"]
    by = {f["column"]: f["evidence"] for f in stale}
    assert by["部门动态"]["age_days"] == 15 and by["部门动态"]["class"] == "dynamic"
    assert by["公示公告"]["age_days"] == 184 and by["公示公告"]["window_days"] == 183
    assert by["政务要闻"]["newest_item"] is None and by["政务要闻"]["undated_count"] == 3
    assert by["招考录用"]["found_via"] == "subnav"  # found in the 政府信息公开 left menu
    assert by["街道动态"]["found_via"] == "meta"  # found by its ColumnName meta only
    assert by["通知公告"]["age_days"] == 200  # page 2 of the list (index_1.html) is not a second column
    # traps: on the window edge, or a date inside a title
    assert not truth.fresh_columns & {f["column"] for f in stale}


def test_column_records_classify_every_column(content) -> None:
    import sqlite3

    con = sqlite3.connect(content["db"])
    rows = [json.loads(r[0]) for r in con.execute("select data from records where kind = 'freshness.column'")]
    state = {r["column_name"]: r["state"] for r in rows}
    truth = content["truth"]
    for name in truth.fresh_columns:
        assert state[name] == "fresh", name
    for name in truth.not_judged:
        assert state[name] == "not_judged", name
    assert state["图片新闻"] == "fresh"  # exactly 14 days
    zcwj = next(r for r in rows if r["column_name"] == "政策文件")
    assert zcwj["age_days"] == 150  # not the date written in the first title
    assert next(r for r in rows if r["column_name"] == "通知公告")["page_count"] == 5  # createPageHTML(5, …)


def test_blank_columns(content) -> None:
    blank = findings(content["report"], "freshness.column_empty")
    assert {f["column"] for f in blank} == content["truth"].blank_columns
    reasons = {f["column"]: f["evidence"]["blank_reason"] for f in blank}
    assert reasons["专题专栏"] == "error_page"
    assert reasons["乡村振兴"] == "placeholder" and reasons["营商环境"] == "placeholder"
    assert reasons["重点项目"] == "no_content"
    assert reasons["扶贫开发"] == "placeholder"  # a homepage block "正在建设中"
    assert "404" in next(f for f in blank if f["column"] == "专题专栏")["evidence"]["error"]


def test_one_veto_finding_per_item_lists_the_columns(content) -> None:
    """栏目不更新 (stale/long-stale triggers) and 空白栏目 are two veto items, one finding each."""

    vetoes = [f for f in findings(content["report"], "freshness.column_stale") if f["severity"] == "veto"]
    blank_vetoes = findings(content["report"], "freshness.column_blank_veto")
    assert len(vetoes) == 1 and len(blank_vetoes) == 1 and blank_vetoes[0]["severity"] == "veto"
    ev = {**vetoes[0]["evidence"]["triggers"], **blank_vetoes[0]["evidence"]["triggers"]}
    truth = content["truth"]
    assert {k for k, v in ev.items() if v["met"]} == truth.veto_triggers
    assert {c["name"] for c in ev["stale"]["columns"]} == {"乡镇动态", "部门动态", "政务要闻", "通知公告", "公示公告", "街道动态"}
    assert {c["name"] for c in ev["blank"]["columns"]} == truth.blank_columns
    assert {c["name"] for c in ev["longstale"]["columns"]} == truth.longstale_columns
    assert ev["longstale"]["threshold"] == 10 and not ev["longstale"]["met"]
    assert "空白栏目" in blank_vetoes[0]["message"] and "5 个" in blank_vetoes[0]["message"]
    # a homepage-only block is counted where it is shown
    fpkf = next(c for c in ev["blank"]["columns"] if c["name"] == "扶贫开发")
    assert fpkf["url_is"] == "shown_on_page" and fpkf["url"] == fpkf["found_on"]
    assert content["report"]["score"]["veto"]


def test_homepage_fresh_on_the_content_site(content) -> None:
    assert not findings(content["report"], "freshness.homepage_stale")
    metric = next(m for m in _metrics(content["report"]) if m["name"] == "freshness.homepage_new_items")
    assert metric["value"] == 2  # 3 and 10 days old ([06-11] read in the right year), 30 is out


def test_html_report_renders_the_findings(content) -> None:
    html = content["html"]
    assert "栏目不更新" in html and "空白栏目" in html and "乡镇动态" in html


def _metrics(report: dict) -> list[dict]:
    m = report["metrics"]
    return list(m.values()) if isinstance(m, dict) else m


# --- recheck: the same stored crawl judged on another day and with another pack ---------------------

def test_recheck_later_and_with_a_local_pack(content, tmp_path) -> None:
    run_id = content["report"]["run_id"]
    later = (AS_OF + dt.timedelta(days=30)).isoformat()
    r = run_cli("recheck", run_id, "--db", content["db"], "--out", str(tmp_path / "later"), "--as-of", later)
    assert r.returncode == 1, r.stderr[-2000:]
    report = json.loads((tmp_path / "later" / "report.json").read_text("utf-8"))
    home = findings(report, "freshness.homepage_stale")
    assert len(home) == 1 and home[0]["severity"] == "veto" and home[0]["evidence"]["age_days"] == 33
    # a local pack that gives news columns 30 days: 乡镇动态 (20) and 部门动态 (15) become fresh
    pack = tmp_path / "local-news30.json"
    pack.write_text(json.dumps({
        "id": "local-news30", "version": "1", "name_zh": "测试", "name_en": "test", "extends": "national",
        "values": {"freshness.window_dynamic_days": {"value": 30, "source": "测试包", "status": "local"}},
    }, ensure_ascii=False), "utf-8")
    r = run_cli("recheck", run_id, "--db", content["db"], "--out", str(tmp_path / "pack"), "--rules", str(pack))
    assert r.returncode == 1, r.stderr[-2000:]  # the 5 blank columns still veto
    report = json.loads((tmp_path / "pack" / "report.json").read_text("utf-8"))
    stale = {f["column"] for f in findings(report, "freshness.column_stale") if f["severity"] != "veto"}
    assert "乡镇动态" not in stale and "部门动态" not in stale and "政务要闻" in stale
    assert not [f for f in findings(report, "freshness.column_stale") if f["severity"] == "veto"]
    veto = next(f for f in findings(report, "freshness.column_blank_veto") if f["severity"] == "veto")
    assert veto["evidence"]["triggers"]["blank"]["met"]


# --- homepage scenarios ------------------------------------------------------------------------------

SCENARIOS = ["fresh14", "stale15", "undated", "future", "navonly_stale", "navonly_fresh"]


@pytest.fixture(scope="module")
def homepage_runs(tmp_path_factory):
    """Every scenario audited by the CLI, three at a time (each on its own loopback server)."""

    root = tmp_path_factory.mktemp("homepage")

    def run(scenario: str) -> tuple[str, dict, bool, int]:
        site, expected = build_homepage_site(AS_OF, scenario)
        out = root / scenario
        with serve(site) as srv:
            r = run_cli("check", srv.base_url.rstrip("/") + "/", "--out", str(out), "--db", str(root / f"{scenario}.sqlite"),
                        "--as-of", AS_OF.isoformat(), "--checks", "freshness", "--a11y", "off")
        report = json.loads((out / "report.json").read_text("utf-8"))
        return scenario, report, expected, r.returncode

    with ThreadPoolExecutor(max_workers=min(3, os.cpu_count() or 1)) as pool:
        return {s: (rep, exp, rc) for s, rep, exp, rc in pool.map(run, SCENARIOS)}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_homepage_scenarios(homepage_runs, scenario: str) -> None:
    report, expected, rc = homepage_runs[scenario]
    home = findings(report, "freshness.homepage_stale")
    assert bool(home) is expected, [f["message"] for f in home]
    if expected:
        assert len(home) == 1 and home[0]["severity"] == "veto" and rc == 1
        ev = home[0]["evidence"]
        assert ev["window"]["value"] == 14 and ev["window"]["status"] == "confirmed"
        if scenario == "stale15":
            assert ev["age_days"] == 15
        if scenario == "undated":
            # four undated items and nothing dated: not updated
            assert ev["newest_item"] is None and ev["undated_items"] == 4 and ev["dated_items"] == 0
            assert "未标注日期" in home[0]["message"]
        if scenario == "future":
            assert ev["future_dated_items"] == 1 and ev["age_days"] == 20
        if scenario == "navonly_stale":
            assert ev["navigation_only"] and ev["second_level_checked"] == 3
            ages = {p["url"].rsplit("/", 2)[-2]: p["newest"] for p in ev["second_level_pages"]}
            assert ages["bsfw"] is None  # undated guides: not updated
    if scenario == "navonly_fresh":
        metric = next(m for m in _metrics(report) if m["name"] == "freshness.level2_updated_pages")
        assert metric["value"] == 1
