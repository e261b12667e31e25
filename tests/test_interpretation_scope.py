"""Which documents need a 政策解读, and which pages are documents at all.

The old scope demanded an interpretation of every page with a government 文号 or a 文号 plus a
有效性 field — personnel appointments, commendations, meeting notices — and took a column index
page titled 《行政规范性文件》 for a document. These tests fail on that behaviour: the TRS-style site
(tests/sites/content_fixture_trs.py) holds eight routine documents without interpretation that must
yield no finding, next to a 实施方案 and a 行政规范性文件 that must.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.docmodel.documents import COLUMN_TITLE_NAMES, DocumentRecord, extract_html, is_column_title
from auditor.rulepacks import load_pack
from checks.interpretation import Scope
from tests.sites import content_fixture_trs as trs
from tests.test_doc_checks import HOST, run

NATIONAL = Path(__file__).resolve().parents[1] / "auditor" / "rulepacks" / "national.json"


@pytest.fixture(scope="module")
def scope() -> Scope:
    return Scope.from_pack(load_pack("national"))


def _rec(title: str, kind: str, number: str | None, kind_reason: str = "column:规范性文件") -> DocumentRecord:
    return DocumentRecord(url="http://x/1", title=title, kind=kind, doc_number=number, validity="valid",
                          sources={"kind": kind_reason})


@pytest.mark.parametrize("title,kind,number,reason,expected", [
    # routine kinds never need an interpretation, whatever their 文号 or column
    ("示范县人民政府关于张三等同志任职的通知", "normative", "示政任〔2024〕3号", "文号+有效性", False),
    ("示范县人民政府关于表彰2023年度安全生产先进集体和先进个人的通报", "policy", "示政发〔2024〕4号", "column:政策文件", False),
    ("示范县人民政府办公室关于召开全县防汛工作会议的通知", "policy", "示政办〔2024〕21号", "column:政策文件", False),
    ("示范县人民政府关于同意设立示范县城东社区的批复", "policy", "示政〔2024〕33号", "column:政策文件", False),
    ("关于李四同志免职的通知", "normative", None, "column:规范性文件", False),  # misfiled in a 规范性文件 column
    ("示范县人民政府办公室关于转发《省农业农村厅关于做好秋粮生产工作的通知》的通知", "policy", "示政办〔2024〕35号",
     "column:政策文件", False),
    # policy that issues policy does
    ("示范县人民政府办公室关于印发示范县农村人居环境整治提升实施方案的通知", "policy", "示政办〔2024〕12号", "column:政策文件", True),
    ("示范县城镇住房保障管理办法", "normative", "示政规〔2024〕2号", "column:规范性文件", True),
    ("示范县国土空间总体规划（2021—2035年）", "policy", "示政发〔2023〕8号", "column:政策文件", True),
    ("关于加快数字经济发展的若干措施", "normative", "示政办〔2023〕3号", "文号+有效性", True),
    # a routine word inside a quoted title does not make the issuing notice routine, nor the reverse
    ("示范县人民政府办公室关于印发《示范县干部任职回避管理办法》的通知", "policy", "示政办〔2024〕40号", "column:政策文件", True),
    ("示范县人民政府关于《示范县城东片区控制性详细规划》的批复", "policy", "示政〔2024〕41号", "column:政策文件", False),
    # a department's letter is not a government policy document
    ("关于做好2024年春季学校安全工作的通知", "policy", "示教函〔2024〕3号", "column:政策文件", False),
])
def test_scope_decisions(scope: Scope, title: str, kind: str, number: str | None, reason: str, expected: bool) -> None:
    ok, why = scope.decide(_rec(title, kind, number, reason))
    assert ok is expected, why


def test_scope_keywords_live_in_the_pack() -> None:
    values = json.loads(NATIONAL.read_text("utf-8"))["values"]
    for key in ("interpretation.scope_exclude_title_patterns", "interpretation.scope_policy_title_patterns",
                "documents.column_title_names"):
        entry = values[key]
        assert entry["value"] and entry["source"] and entry["status"] in ("confirmed", "partial", "unconfirmed", "local")
        assert "rules.md" not in entry["source"]
    # the extractor's default list is the national pack's list
    assert tuple(values["documents.column_title_names"]["value"]) == COLUMN_TITLE_NAMES


def test_a_pack_can_widen_or_narrow_the_scope() -> None:
    class Pack:
        def __init__(self, **v):
            self.v = v

        def value(self, key, default=None):
            return self.v.get(key, default)

    rec = _rec("示范县人民政府关于张三等同志任职的通知", "normative", "示政任〔2024〕3号", "column:规范性文件")
    assert Scope.from_pack(Pack(**{"interpretation.scope_exclude_title_patterns": []})).decide(rec)[0]
    bad = Pack(**{"interpretation.scope_exclude_title_patterns": ["任职", "("]})  # a broken pattern is skipped
    assert not Scope.from_pack(bad).decide(rec)[0]


# --- column pages are not documents -------------------------------------------------------------------

def test_trs_column_index_page_is_not_a_document() -> None:
    """Titled 行政规范性文件, a header-row table of documents (which reads like 索引号/文号/发布日期
    metadata) and a pagination bar: the old extractor took it for a document of that title."""

    docs = [d for d in trs.ALL if d.path.startswith("/zwgk/gfxwj/")]
    assert extract_html(HOST + "/zwgk/gfxwj/", trs.column_page("行政规范性文件", docs)) is None
    assert extract_html(HOST + "/zwgk/qtwj/", trs.column_page("其他文件", trs.ROUTINE)) is None


def test_column_name_alone_is_not_a_document_even_with_some_text() -> None:
    html = ("<html><head><title>政策文件_示范县人民政府</title></head><body><h2>政策文件</h2>"
            "<div class='intro'><p>本栏目发布县人民政府及县政府办公室印发的政策文件，欢迎查阅，如有疑问请与县政府办公室联系。</p></div>"
            "<div id='list'></div><script>loadList('zcwj')</script></body></html>")
    assert extract_html(HOST + "/zcwj/", html) is None


def test_document_whose_heading_is_the_column_name_keeps_its_own_title() -> None:
    html = ("<html><head><title>示范县城镇住房保障管理办法_示范县人民政府</title></head><body><h2>行政规范性文件</h2>"
            "<table><tr><td>发文字号：</td><td>示政规〔2024〕2号</td></tr><tr><td>发布日期：</td><td>2024-04-22</td></tr></table>"
            "<div class='content'><p>为做好城镇住房保障工作，根据有关规定，结合本县实际，制定本办法。本办法自2024年5月1日起施行。</p></div>"
            "</body></html>")
    rec = extract_html(HOST + "/zwgk/gfxwj/t1.htm", html)
    assert rec is not None and rec.title == "示范县城镇住房保障管理办法"


@pytest.mark.parametrize("title,expected", [("行政规范性文件", True), (" 政策文件 ", True), ("通知公告栏目", True),
                                            ("示范县行政规范性文件管理办法", False), ("政策解读：示范县供水办法", False)])
def test_is_column_title(title: str, expected: bool) -> None:
    assert is_column_title(title) is expected


# --- the TRS site end to end through the engine ------------------------------------------------------

@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory):
    findings, metrics, store, run_id = run(tmp_path_factory.mktemp("trs"), trs.all_pages(), trs.AS_OF)
    records = {r["key"].removeprefix(HOST): r["data"] for r in store.iter_records("document", run_id=run_id)}
    return findings, metrics, records


def test_trs_site_interpretation_findings_are_only_policy(audited) -> None:
    findings, metrics, records = audited
    missing = {f.url.removeprefix(HOST) for f in findings if f.rule == "interpretation.missing"}
    assert missing == trs.EXPECTED_MISSING, sorted(missing)
    why = {f.url.removeprefix(HOST): f.evidence["in_scope_because"] for f in findings if f.rule == "interpretation.missing"}
    assert why == {trs.POLICY[0].path: "government policy document", trs.POLICY[1].path: "行政规范性文件"}
    # the routine documents were read as documents (with 文号 and 有效性) — and left out of scope
    for d in trs.ROUTINE:
        # a personnel notice with a 文号 and a 有效性 field is not shown as a 行政规范性文件
        assert records[d.path]["kind"] == "policy", (d.title, records[d.path]["kind"], records[d.path]["sources"]["kind"])
        assert records[d.path]["doc_number"] == d.number
    assert records[trs.ROUTINE[0].path]["sources"]["kind"].startswith("文号; routine title (任职)")
    detail = metrics["interpretation.coverage"]["detail"]
    assert sum(v for k, v in detail["left_out_of_scope"].items() if k.startswith("routine kind")) >= len(trs.ROUTINE) - 1


def test_trs_column_pages_are_not_document_records(audited) -> None:
    _, _, records = audited
    for path, name in trs.COLUMNS.items():
        assert path not in records, name
    assert not any(r["title"] in trs.COLUMNS.values() for r in records.values())


def test_trs_site_expired_only_where_a_notice_ends_the_document(audited) -> None:
    findings, _, records = audited
    expired = {f.url.removeprefix(HOST): f for f in findings if f.rule == "documents.expired"}
    assert set(expired) == trs.EXPECTED_EXPIRED, sorted(expired)
    cleanup = records[trs.CLEANUP.path]["repeal_list"]
    assert cleanup["numbers"] == ["岚综管综〔2015〕207号", "示政规〔2016〕3号"]
    assert set(cleanup["kept_numbers"]) == {"示政规〔2017〕6号", "示政规〔2018〕2号", "示政发〔2019〕1号"}
    assert expired[trs.LISTED[4].path].evidence["ends_on"] == "2024-06-01"


# --- bases cite official sources ------------------------------------------------------------------------

def test_rule_bases_of_the_document_families_cite_official_sources() -> None:
    import re

    from checks import decisions, documents, interpretation

    rules = [r for mod in (documents, interpretation, decisions) for r in mod.govaudit_rules()]
    assert len(rules) == 10
    for rule in rules:
        text = f"{rule.basis.zh} {rule.basis.en} {rule.basis.source}"
        assert not re.search(r"rules\.md|seed-rules|https?://|§", text), (rule.id, text)
        # a 文号 or a regulation article in every source
        assert re.search(r"〔\d{4}〕\d+号|令第\d+号", rule.basis.source), rule.id
        assert rule.basis.status in ("confirmed", "partial", "unconfirmed", "local")
    values = json.loads(NATIONAL.read_text("utf-8"))["values"]
    for key, entry in values.items():
        if key.split(".")[0] in ("documents", "interpretation", "decisions"):
            assert not re.search(r"rules\.md|seed-rules|https?://|株洲", entry["source"]), key


def test_column_layout_metadata_with_a_linked_publisher_is_still_metadata() -> None:
    html = ("<html><head><title>示范县城市供水管理办法_示范县人民政府</title></head><body><h1>示范县城市供水管理办法</h1>"
            "<table><tr><th>发布机构</th><th>发文字号</th><th>发布日期</th></tr>"
            "<tr><td><a href='/jg/zfb/'>示范县人民政府办公室</a></td><td>示政规〔2024〕1号</td><td>2024-02-05</td></tr></table>"
            "<div class='content'><p>为规范城市供水管理，根据有关规定，制定本办法。本办法自2024年3月1日起施行。</p></div></body></html>")
    rec = extract_html(HOST + "/zwgk/gfxwj/t2.htm", html)
    assert rec is not None and rec.doc_number == "示政规〔2024〕1号" and rec.sources["doc_number"] == "table:发文字号"


def test_routine_notice_filed_under_normative_documents_needs_no_validity_marking(tmp_path) -> None:
    """A 任职通知 misfiled in the 行政规范性文件 column, without 有效性: neither validity_unmarked nor
    interpretation.missing; a real 办法 beside it without 有效性 gets both."""

    from tests.sites import content_fixture as fx

    misfiled = fx.P("/gfxwj/rz.html", "示范县人民政府关于王五同志任职的通知", "行政规范性文件", fx.D(2024, 3, 1),
                    fx.D(2024, 2, 28), "示政任〔2024〕9号", None, fx.BODY)
    real = fx.P("/gfxwj/bf.html", "示范县农村宅基地管理办法", "行政规范性文件", fx.D(2024, 3, 1),
                fx.D(2024, 2, 28), "示政规〔2024〕9号", None, fx.BODY)
    pages = {"/": fx.all_pages()["/"], misfiled.path: (fx.render(misfiled), "utf-8"), real.path: (fx.render(real), "utf-8")}
    findings, *_ = run(tmp_path, pages, fx.AS_OF)
    got = {(f.rule, f.url.removeprefix(HOST)) for f in findings if f.rule in ("documents.validity_unmarked", "interpretation.missing")}
    assert got == {("documents.validity_unmarked", "/gfxwj/bf.html"), ("interpretation.missing", "/gfxwj/bf.html")}


def test_paginated_list_with_labelled_lines_is_not_a_document() -> None:
    """Labels on a list page (维护单位 / 更新日期 lines read like metadata) do not outweigh its
    pagination and dated links."""

    items = "".join(f"<li><a href='/tzgg/t2024050{i}_{i}.htm'>关于做好第{i}批项目申报工作的通知</a><span>2024-05-0{i}</span></li>"
                    for i in range(1, 9))
    html = ("<html><head><title>示范县人民政府_工作通知</title></head><body><h1>工作通知</h1>"
            "<div class='info'>发布机构：示范县人民政府办公室　发布日期：2024-05-09</div>"
            f"<ul class='news'>{items}</ul><div class='page'>共12页 首页 上一页 下一页 尾页</div></body></html>")
    assert extract_html(HOST + "/tzgg/", html) is None
