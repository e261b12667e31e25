"""Column discovery knows what a column is (issue #8): article pages, endpoints, hidden elements and
other sites' links are never columns; script-filled lists are rendered, or else not decidable.

The discovery site holds 4 real blank columns (threshold 5) and nine non-columns an entry-counting
audit turned into blank columns (→ a false 栏目不更新 veto). Audited twice by the real CLI: with
rendering off (the TRS column is 'not decidable', never blank) and on (real Chromium renders it).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from tests.sites.discovery_fixture import OFFSITE, build_discovery_site
from tests.support.servers import closed_port, run_cli, serve

AS_OF = dt.date(2024, 6, 14)
pytestmark = pytest.mark.slow


def _audit(tmp, name: str, render: bool) -> dict:
    port = closed_port()
    site, truth = build_discovery_site(AS_OF, port)
    cfg = tmp / f"{name}.toml"
    cfg.write_text(f"[plugins.browser]\nrender = {'true' if render else 'false'}\n", "utf-8")
    out, db = tmp / name, tmp / f"{name}.sqlite"
    resolve = [a for h in OFFSITE for a in ("--resolve", f"{h}=127.0.0.1")]
    with serve(site) as srv:
        r = run_cli("check", srv.base_url.rstrip("/") + "/", "--out", str(out), "--db", str(db), "--as-of", AS_OF.isoformat(),
                    "--checks", "freshness", "--a11y", "off", "--config", str(cfg), "--timeout", "5", *resolve, timeout=300)
    report = json.loads((out / "report.json").read_text("utf-8"))
    con = sqlite3.connect(db)
    records = {r[0]: json.loads(r[1]) for r in con.execute("select key, data from records where kind = 'freshness.column'")}
    excluded = [json.loads(r[0]) for r in con.execute("select data from records where kind = 'freshness.not_columns'")]
    dead = {r[0] for r in con.execute("select target_url from link_results where verdict = 'dead'")}
    return {"report": report, "rc": r.returncode, "truth": truth, "records": records,
            "excluded": excluded[0]["entries"] if excluded else [], "dead": dead, "stderr": r.stderr}


@pytest.fixture(scope="module")
def static(tmp_path_factory):
    return _audit(tmp_path_factory.mktemp("disc"), "norender", render=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    return _audit(tmp_path_factory.mktemp("disc"), "render", render=True)


def _findings(run: dict, rule: str) -> list[dict]:
    return [f for f in run["report"]["findings"] if f["rule"] == rule]


def _state(run: dict, name: str) -> dict:
    rows = [r for r in run["records"].values() if r["column_name"] == name]
    assert len(rows) == 1, (name, rows)
    return rows[0]


def test_the_offsite_links_really_are_dead(static) -> None:
    """The trap is armed: the other governments' sites in the header fail, as they did in the report."""

    assert {h for h in OFFSITE if any(h in u for u in static["dead"])} == set(OFFSITE), static["dead"]


def test_only_real_columns_are_blank_and_no_false_veto(static) -> None:
    blank = {f["column"] for f in _findings(static, "freshness.column_empty")}
    assert blank == static["truth"].blank, blank
    assert not blank & static["truth"].not_columns
    assert not [f for f in _findings(static, "freshness.column_stale") if f["severity"] == "veto"]
    assert not [e for e in static["report"]["errors"] if e.get("plugin") == "freshness"]
    names = {r["column_name"] for r in static["records"].values()}
    assert not names & static["truth"].not_columns, names & static["truth"].not_columns


def test_script_clothed_blank_columns_are_still_blank(static) -> None:
    reasons = {f["column"]: f["evidence"] for f in _findings(static, "freshness.column_empty")}
    assert reasons["乡村振兴"]["blank_reason"] == "placeholder"
    assert reasons["重点项目"]["blank_reason"] == "no_content" and reasons["重点项目"]["list_source"] == "datastore"
    assert reasons["文明创建"]["blank_reason"] == "no_content"  # createPageHTML(1, …): one static page, empty


def test_non_columns_are_listed_with_their_reason(static) -> None:
    reasons = {e["name"]: e["reason"] for e in static["excluded"]}
    assert reasons["抗疫专题"] == "article_url"
    assert reasons["抗疫纪实"] == "article_page"
    assert reasons["我要写信"] == "endpoint" and reasons["热点搜索"] == "endpoint" and reasons["领导信箱"] == "endpoint"
    assert reasons["旧版栏目"] == "hidden"
    assert reasons["邻县人民政府"] == "off_site" and reasons["省人民政府"] == "off_site"
    metric = next(m for m in static["report"]["metrics"] if m["name"] == "freshness.columns") \
        if isinstance(static["report"]["metrics"], list) else static["report"]["metrics"]["freshness.columns"]
    assert metric["detail"]["not_columns"] == len(static["excluded"])


def test_a_hover_menu_hidden_by_inline_style_is_still_a_column(static) -> None:
    row = _state(static, static["truth"].dropdown_column)
    assert row["state"] == "stale" and row["age_days"] == 20


def test_script_list_without_rendering_is_not_decidable(static) -> None:
    for name in (static["truth"].js_column, static["truth"].broken_js_column):
        assert _state(static, name)["state"] == "undecidable"
        info = [f for f in _findings(static, "freshness.column_undecidable") if f["column"] == name]
        assert len(info) == 1 and info[0]["severity"] == "info"
        ev = info[0]["evidence"]
        assert "trsapi" in ev["js_list_markers"] and ev["rendered"] is False and ev["render_tried"] is False
        assert "未在浏览器中渲染" in info[0]["message"]
        assert name not in {f["column"] for f in _findings(static, "freshness.column_stale")}


def test_hanweb_datastore_records_are_read_without_a_browser(static) -> None:
    row = _state(static, static["truth"].datastore_column)
    assert row["state"] == "fresh" and row["age_days"] == 3
    assert row["list_source"] == "datastore" and row["item_count"] == 15 and row["declared_total"] == 100


def test_script_list_is_rendered_in_the_browser(rendered) -> None:
    assert not [e for e in rendered["report"]["errors"] if e.get("plugin") in ("freshness", "render", "browser")], \
        rendered["report"]["errors"]
    row = _state(rendered, rendered["truth"].js_column)
    assert row["state"] == "fresh" and row["age_days"] == 3 and row["rendered"] is True, row
    assert not [f for f in _findings(rendered, "freshness.column_undecidable") if f["column"] == rendered["truth"].js_column]
    blank = {f["column"] for f in _findings(rendered, "freshness.column_empty")}
    assert blank == rendered["truth"].blank


def test_script_list_still_empty_after_rendering_is_not_decidable(rendered) -> None:
    name = rendered["truth"].broken_js_column
    assert _state(rendered, name)["state"] == "undecidable"
    info = next(f for f in _findings(rendered, "freshness.column_undecidable") if f["column"] == name)
    assert info["evidence"]["render_tried"] is True and "渲染后仍未读到信息" in info["message"]
    assert name not in {f["column"] for f in _findings(rendered, "freshness.column_empty")}


def test_render_trigger_sees_list_markers_behind_long_text() -> None:
    """Unit: the enricher's trigger. A long introduction hid an empty script-filled list from it."""

    import lxml.html

    from auditor.docmodel.listing import js_list_markers
    from auditor.plugins.render_probe import needs_render
    from auditor.rulepacks import load_pack

    pack = load_pack("national")
    intro = "本栏目集中发布全县各乡镇、各部门的工作动态信息。" * 30
    src = (f"<html><body><div class='main'><p>{intro}</p><ul id='trs-list' class='list'></ul></div>"
           "<script src='/js/trsapi.js'></script></body></html>")
    tree = lxml.html.document_fromstring(src)
    markers = js_list_markers(src, pack)
    assert needs_render(tree, 40) is None  # the old trigger: too much text to look empty
    assert needs_render(tree, 40, markers, src)["js_list_markers"] == markers
    items = "".join(f"<li><a href='/{i}.html'>县政府召开第{i}次常务会议</a><span>2024-06-0{i}</span></li>" for i in (1, 2))
    static = src.replace("</ul>", items + "</ul>")
    assert needs_render(lxml.html.document_fromstring(static), 40, js_list_markers(static, pack), static) is None
    # a static list next to an empty script-filled one (a homepage's 要闻 block): rendered
    mixed = static.replace("</div>", "<ul id='yw-list' class='list'></ul></div>", 1)
    assert needs_render(lxml.html.document_fromstring(mixed), 40, js_list_markers(mixed, pack), mixed) is not None


def test_a_veto_that_hangs_on_undecidable_columns_is_undecided(static) -> None:
    """4 blank + 2 not decidable could reach 5: the audit says it cannot decide, not 'clear'."""

    assert not _findings(static, "freshness.column_stale_veto_undecided")  # 1 stale + 2 could: under 5
    undecided = _findings(static, "freshness.column_blank_veto_undecided")
    assert len(undecided) == 1 and undecided[0]["severity"] == "info"
    trig = undecided[0]["evidence"]["triggers"]["blank"]
    assert trig["count"] == 4 and trig["threshold"] == 5 and not trig["met"]
    assert {c["name"] for c in trig["undecidable_could_count"]} == {static["truth"].js_column, static["truth"].broken_js_column}
    assert not _findings(static, "freshness.column_blank_veto")


NOT_A_BASIS = ("rules.md", "§", "http://", "https://", "book118", "31ppt", "kunmingchi", "sntec", "开普云", "kaipuyun", "ieain")


def test_bases_cite_official_sources() -> None:
    """Rule bases and freshness.*/columns.* pack sources name official documents, never notes or mirror sites.

    Trap: the old pack cited rules.md §2 for the keyword and placeholder lists and a vendor's
    monitoring code (开普云) for the 1-year window."""

    import checks.columns as columns_check
    import checks.freshness as freshness_check

    rules = freshness_check.govaudit_rules() + columns_check.govaudit_rules()
    assert {"freshness.column_blank_veto", "freshness.column_undecidable", "freshness.homepage_undecidable"} <= {r.id for r in rules}
    for rule in rules:
        text = f"{rule.basis.zh} {rule.basis.source}"
        assert not [b for b in NOT_A_BASIS if b in text], (rule.id, text)
        assert any(doc in text for doc in ("国办秘函〔2019〕19号", "国务院令第711号", "国办发〔2015〕15号")), rule.id
    import json
    from pathlib import Path

    raw = json.loads((Path(__file__).resolve().parents[1] / "auditor" / "rulepacks" / "national.json").read_text("utf-8"))
    keys = [k for k in raw["values"] if k.startswith(("freshness.", "columns."))]
    assert len(keys) >= 25
    for k in keys:
        entry = raw["values"][k]
        assert entry["source"] and entry["status"] in ("confirmed", "partial", "unconfirmed", "local"), k
        assert not [b for b in NOT_A_BASIS if b in entry["source"]], (k, entry["source"])
        if entry["status"] == "unconfirmed":
            assert "未核实" in entry["source"] or "本工具" in entry["source"] or "未能" in entry["source"] \
                or "不判定" in entry["source"], (k, entry["source"])
