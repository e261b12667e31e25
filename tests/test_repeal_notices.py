"""废止决定 and 清理结果 notices: which listed documents end, which stay in force; 文号 variants.

The old reader took every 文号 on a repeal or cleanup page as abolished, so documents listed only
for revision (修改 / 适时修改 / 拟修改) or as 继续有效 were reported expired, a single-document
decision (关于废止《…》的决定) named nothing, and a 文号 printed without 号 was not read at all.
Each test below fails on that reader.
"""

from __future__ import annotations

import datetime as dt

import pytest

from auditor.docmodel.docnumbers import find_doc_numbers, parse_doc_number, same_doc_number
from auditor.docmodel.documents import extract_html
from tests.test_documents import doc

D = dt.date


# --- 文号 variants ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("岚综管综〔2015〕207", "岚综管综〔2015〕207号"),          # no 号: how cleanup tables print them
    ("岚综管综〔2015〕207）", "岚综管综〔2015〕207号"),
    ("（岚综管综[2015]207）", "岚综管综〔2015〕207号"),
    ("岚综管综【2015】207、", "岚综管综〔2015〕207号"),
    ("岚综管综(2015)207", "岚综管综〔2015〕207号"),
    ("岚综管综（2015）207 ", "岚综管综〔2015〕207号"),
    ("岚综管综 〔 2015 〕 207 号", "岚综管综〔2015〕207号"),   # spaces inside
    ("岚综管综〔２０１５〕２０７号", "岚综管综〔2015〕207号"),     # full-width digits
])
def test_doc_number_variants_without_hao_and_with_spaces(text: str, expected: str) -> None:
    assert str(parse_doc_number(text)) == expected
    assert same_doc_number(text, "岚综管综〔2015〕207号")


@pytest.mark.parametrize("text", ["实施方案（2023）5个项目", "规划（2018-2035）", "（2023）12月", "示范县（2024）3.5亿元"])
def test_bracketed_years_in_prose_are_not_doc_numbers(text: str) -> None:
    assert find_doc_numbers(text) == []


# --- cleanup notices by section ---------------------------------------------------------------

CLEANUP = (
    "<p>根据《国务院办公厅关于加强行政规范性文件制定和监督管理工作的通知》（国办发〔2018〕37号）要求，"
    "管委会对现行规范性文件进行了清理。经清理，决定废止2件、宣布失效1件、修改2件、继续有效2件。现将清理结果公布如下：</p>"
    "<p>一、决定废止的规范性文件（2件）</p>"
    "<table><tr><td>序号</td><td>文件名称</td><td>文号</td></tr>"
    "<tr><td>1</td><td>平潭综合实验区城市道路管理办法</td><td>岚综管综〔2015〕207</td></tr>"
    "<tr><td>2</td><td>平潭综合实验区路灯管理办法</td><td>岚综管〔2016〕12号</td></tr></table>"
    "<p>二、宣布失效的规范性文件（1件）</p><p>1.《平潭综合实验区旧城改造暂行办法》（岚综管〔2014〕3号）</p>"
    "<p>三、适时修改的规范性文件（1件）</p><p>1.《平潭综合实验区停车管理办法》（岚综管〔2018〕5号）</p>"
    "<p>四、拟修改的规范性文件（1件）</p><p>1.《平潭综合实验区犬只管理规定》（岚综管〔2018〕6号）</p>"
    "<p>五、继续有效的规范性文件（2件）</p><p>1.《关于废止部分规范性文件的决定》（岚综管〔2019〕1号）</p>"
    "<p>2.《平潭综合实验区物业管理办法》（岚综管〔2019〕9号）</p>"
)


def test_cleanup_notice_sections_decide_each_document() -> None:
    rec = doc(CLEANUP, title="平潭综合实验区管委会关于公布规范性文件清理结果的通知", column="政策文件")
    lst = rec.repeal_list
    assert lst is not None and rec.subkind == "repeal_list"
    # only 废止 and 失效 end; the 文号 without 号 was read and canonicalised
    assert lst["numbers"] == ["岚综管综〔2015〕207号", "岚综管〔2016〕12号", "岚综管〔2014〕3号"]
    assert set(lst["kept_numbers"]) == {"岚综管〔2018〕5号", "岚综管〔2018〕6号", "岚综管〔2019〕1号", "岚综管〔2019〕9号"}
    # the legal basis cited in the preamble is not a listed document
    assert "国办发〔2018〕37号" not in lst["numbers"] + lst["kept_numbers"]
    by_number = {i["number"]: i for i in lst["items"]}
    assert by_number["岚综管综〔2015〕207号"]["title"] == "平潭综合实验区城市道路管理办法"  # title from the table row
    assert by_number["岚综管〔2014〕3号"]["disposition"] == "expired"
    assert by_number["岚综管〔2018〕5号"]["disposition"] == "amend"
    # a title that itself says 废止, listed under 继续有效, is kept
    assert by_number["岚综管〔2019〕1号"]["disposition"] == "keep"


def test_cleanup_table_with_a_result_column() -> None:
    """One table for everything, the decision in a 清理结果 column of each row."""

    rows = "".join(f"<tr><td>{i}</td><td>{name}</td><td>{number}</td><td>{result}</td></tr>" for i, (name, number, result) in
                   enumerate([("平潭综合实验区河道管理办法", "岚综管〔2016〕3号", "废止"),
                              ("平潭综合实验区渔港管理办法", "岚综管〔2016〕4号", "继续有效"),
                              ("平潭综合实验区海岸带保护办法", "岚综管〔2016〕5号", "修改"),
                              ("平潭综合实验区林地管理办法", "岚综管〔2016〕6号", "宣布失效")], 1))
    rec = doc(f"<p>现将规范性文件清理结果公布如下：</p><table><tr><td>序号</td><td>文件名称</td><td>文号</td><td>清理结果</td></tr>"
              f"{rows}</table>", title="关于规范性文件清理结果的公告", column="政策文件")
    assert rec.repeal_list["numbers"] == ["岚综管〔2016〕3号", "岚综管〔2016〕6号"]
    assert rec.repeal_list["kept_numbers"] == ["岚综管〔2016〕4号", "岚综管〔2016〕5号"]


def test_mixed_clause_decides_per_clause() -> None:
    rec = doc("<p>经研究，决定对下列文件进行处理：《示范市甲办法》（示政规〔2017〕1号）予以废止；"
              "《示范市乙办法》（示政规〔2017〕2号）继续有效。</p>", title="关于规范性文件清理情况的通知", column="政策文件")
    assert rec.repeal_list["numbers"] == ["示政规〔2017〕1号"]
    assert rec.repeal_list["kept_numbers"] == ["示政规〔2017〕2号"]


# --- single-document decisions ------------------------------------------------------------------

def test_single_document_repeal_decision_names_its_document() -> None:
    rec = doc("<p>经管委会研究，决定废止《示范市路灯管理办法》（示政规〔2018〕4号）。</p><p>本决定自2024年7月1日起施行。</p>",
              title="示范市人民政府关于废止《示范市路灯管理办法》的决定", column="政策文件",
              meta_rows="<tr><td>发文字号：</td><td>示政发〔2024〕9号</td></tr>")
    assert rec.subkind == "repeal_list"
    assert rec.repeal_list["numbers"] == ["示政规〔2018〕4号"]
    assert rec.repeal_list["titles"] == ["示范市路灯管理办法"]
    assert rec.repeal_list["effective_date"] == "2024-07-01"  # the named document ends on the decision's date


def test_title_only_decision_and_declared_expiry() -> None:
    rec = doc("<p>经研究，现予公布，自公布之日起施行。</p>", title="关于宣布失效《示范市供水管理办法》的通知", column="政策文件",
              meta_rows="<tr><td>发布日期：</td><td>2024-03-01</td></tr>")
    assert rec.repeal_list["titles"] == ["示范市供水管理办法"]
    assert rec.repeal_list["items"][0]["disposition"] == "expired"
    assert rec.repeal_list["effective_date"] == "2024-03-01"


def test_a_new_measure_that_only_mentions_repeal_is_not_a_repeal_notice() -> None:
    rec = doc("<p>本办法自2023年1月1日起施行。《示范市城市管理暂行办法》（示政发〔2015〕3号）同时废止。</p>")
    assert rec.repeal_list is None


def test_plain_list_page_of_repeal_notices_is_not_read_as_one() -> None:
    items = "".join(f"<li><a href='/d/{i}.html'>关于废止《示范市第{i}号管理办法》的决定</a><span>2023-05-{i + 10:02d}</span></li>"
                    for i in range(10))
    assert extract_html("http://www.sfs.gov.cn/fz/", "<html><body><h2>废止文件</h2>"
                        f"<ul class='list'>{items}</ul></body></html>") is None


# --- documents.expired against the site's own notices (real engine, stored site) -----------------

def _site() -> dict[str, tuple[bytes, str]]:
    from tests.sites import content_fixture as fx

    def normative(path: str, title: str, number: str) -> tuple[str, tuple[bytes, str]]:
        p = fx.P(path, title, "行政规范性文件", D(2016, 3, 1), D(2016, 2, 20), number, "有效", fx.BODY)
        return path, (fx.render(p), "utf-8")

    pages = dict([
        normative("/gfxwj/dlgl.html", "平潭综合实验区城市道路管理办法", "岚综管综〔2015〕207号"),  # 废止, printed without 号
        normative("/gfxwj/jcgz.html", "平潭综合实验区旧城改造暂行办法", "岚综管〔2014〕3号"),        # 宣布失效
        normative("/gfxwj/tcgl.html", "平潭综合实验区停车管理办法", "岚综管〔2018〕5号"),            # 适时修改: stays valid
        normative("/gfxwj/qzgl.html", "平潭综合实验区犬只管理规定", "岚综管〔2018〕6号"),            # 拟修改: stays valid
        normative("/gfxwj/wygl.html", "平潭综合实验区物业管理办法", "岚综管〔2019〕9号"),            # 继续有效
        normative("/gfxwj/ldgl.html", "示范市路灯管理办法", "示政规〔2018〕4号"),                  # single decision, in force
        normative("/gfxwj/gsgl.html", "示范市供水管理办法", "示政规〔2018〕7号"),                  # single decision, future
    ])
    cleanup = fx.P("/zcwj/t20240301_1.html", "平潭综合实验区管委会关于公布规范性文件清理结果的通知", "其他文件", D(2024, 3, 1),
                   D(2024, 2, 26), "岚综管〔2024〕2号", "有效", [])
    cleanup_html = fx.render(cleanup).decode().replace("<div class='content'></div>", f"<div class='content'>{CLEANUP}</div>")
    pages[cleanup.path] = (cleanup_html.encode(), "utf-8")
    now = fx.P("/zcwj/t20240601_2.html", "示范市人民政府关于废止《示范市路灯管理办法》的决定", "其他文件", D(2024, 6, 1),
               D(2024, 5, 28), "示政发〔2024〕9号", "有效",
               ["经市政府研究，决定废止《示范市路灯管理办法》（示政规〔2018〕4号）。", "本决定自2024年7月1日起施行。"])
    later = fx.P("/zcwj/t20241101_3.html", "示范市人民政府关于废止《示范市供水管理办法》的决定", "其他文件", D(2024, 11, 1),
                 D(2024, 10, 28), "示政发〔2024〕15号", "有效",
                 ["经市政府研究，决定废止《示范市供水管理办法》（示政规〔2018〕7号）。", "本决定自2025年1月1日起施行。"])
    for p in (now, later):
        pages[p.path] = (fx.render(p), "utf-8")
    pages["/"] = fx.all_pages()["/"]
    return pages


def test_only_repealed_and_expired_sections_end_documents(tmp_path) -> None:
    from tests.sites import content_fixture as fx
    from tests.test_doc_checks import run

    findings, *_ = run(tmp_path, _site(), fx.AS_OF)
    expired = {f.url.rsplit("/", 1)[-1]: f for f in findings if f.rule == "documents.expired"}
    # 废止 (文号 printed without 号), 宣布失效, and the single-document decision already in effect
    assert set(expired) == {"dlgl.html", "jcgz.html", "ldgl.html"}, sorted(expired)
    assert expired["dlgl.html"].evidence["disposition"] == "repealed"
    assert expired["dlgl.html"].evidence["section"].startswith("一、决定废止")
    assert expired["jcgz.html"].evidence["disposition"] == "expired"
    assert expired["ldgl.html"].evidence["ends_on"] == "2024-07-01"
    assert expired["ldgl.html"].source_url.endswith("/zcwj/t20240601_2.html")
    # 适时修改 / 拟修改 / 继续有效 stay valid; a decision effective 2025-01-01 has not ended 示政规〔2018〕7号 yet


def test_partly_expired_documents_stay_in_force() -> None:
    rec = doc("<p>一、全文废止的规范性文件</p><p>1.《示范市甲办法》（示政规〔2017〕1号）</p>"
              "<p>二、部分条款失效的规范性文件</p><p>1.《示范市乙办法》（示政规〔2017〕2号）</p>",
              title="关于规范性文件清理结果的公告", column="政策文件")
    assert rec.repeal_list["numbers"] == ["示政规〔2017〕1号"]
    assert rec.repeal_list["kept_numbers"] == ["示政规〔2017〕2号"]


def test_a_new_document_of_the_same_title_is_not_ended_by_an_older_notice(tmp_path) -> None:
    """The 2019 notice repeals the old 《示范市物业管理办法》 (listed by title only); the 2024 办法 of the
    same title that replaced it is valid."""

    from tests.sites import content_fixture as fx
    from tests.test_doc_checks import run

    old = fx.P("/gfxwj/wy2015.html", "示范市物业管理办法", "行政规范性文件", D(2015, 3, 1), D(2015, 2, 20), None, "有效", fx.BODY)
    new = fx.P("/gfxwj/wy2024.html", "示范市物业管理办法", "行政规范性文件", D(2024, 3, 1), D(2024, 2, 20), None, "有效", fx.BODY)
    notice = fx.P("/zcwj/fz2019.html", "示范市人民政府关于废止《示范市物业管理办法》的决定", "其他文件", D(2019, 6, 1),
                  D(2019, 5, 28), "示政发〔2019〕7号", "有效", ["经研究，决定废止《示范市物业管理办法》。"])
    pages = {"/": fx.all_pages()["/"], **{p.path: (fx.render(p), "utf-8") for p in (old, new, notice)}}
    findings, *_ = run(tmp_path, pages, fx.AS_OF)
    assert {f.url.rsplit("/", 1)[-1] for f in findings if f.rule == "documents.expired"} == {"wy2015.html"}


def test_sections_run_together_in_one_paragraph() -> None:
    """As some CMS editors leave it: headings and items in one text run (the real pingtan layout
    flattened), 《…〈…〉…》 titles, 责任单位 notes, a 文号 in full-width parentheses."""

    rec = doc("<div>一、废止规范性文件共2份1.《示范县管委会关于印发〈示范县政府债务资金管理暂行办法〉的通知》（示综管综〔2011〕52号）"
              "2.《示范县管委会关于修改〈进一步加强机动车排气污染治理通告〉的通告》（示综管综〔2016〕242号）"
              "二、适时修改规范性文件共1份1.《示范县管委会关于优化调整建设工程防雷许可工作的通知》（示综管综（2017）7号）"
              "责任单位：区行政审批局</div>", title="示范县管委会关于公布涉及产权保护的规范性文件清理结果的通知", column="行政规范性文件")
    assert rec.repeal_list["numbers"] == ["示综管综〔2011〕52号", "示综管综〔2016〕242号"]
    assert rec.repeal_list["kept_numbers"] == ["示综管综〔2017〕7号"]
