"""The document model: what one page says about its document, and where each value came from."""

from __future__ import annotations

import datetime as dt

import pytest

from auditor.docmodel.documents import (
    DocumentRecord,
    classify_kind,
    extract_html,
    find_doc_numbers,
    parse_doc_number,
    same_doc_number,
    title_key,
    validity_from_text,
)

D = dt.date
URL = "http://www.sfs.gov.cn/zwgk/gfxwj/content_1.html"


def page(body: str, head: str = "", title: str = "示范市人民政府") -> str:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title>{head}</head><body>"
            "<div class='nav'><a href='/'>首页</a><a href='/zcjd/'>政策解读</a></div>"
            f"{body}<div class='footer'>版权所有 2011-2024 示范市人民政府</div></body></html>")


def doc(body_html: str, title: str = "示范市城市管理办法", meta_rows: str = "", head: str = "",
        column: str = "行政规范性文件", url: str = URL) -> DocumentRecord:
    html = page(
        f"<div class='crumb'>当前位置：<a href='/'>首页</a> &gt; <a href='/c/'>{column}</a></div>"
        f"<h1>{title}</h1><table class='xxgk'>{meta_rows}</table><div class='content'>{body_html}</div>",
        head=head, title=f"{title}_示范市人民政府")
    rec = extract_html(url, html)
    assert rec is not None
    return rec


# --- validity and its end date --------------------------------------------------------------

def test_period_from_start_date() -> None:
    rec = doc("<p>为规范城市管理，制定本办法。</p><p>本办法自2023年1月1日起施行，有效期5年。</p>",
              meta_rows="<tr><td>有效性：</td><td>有效</td></tr>")
    assert rec.validity == "valid" and rec.validity_zh == "有效"
    assert rec.effective_date == D(2023, 1, 1)
    assert rec.validity_period_years == 5
    assert rec.end_date == D(2027, 12, 31)
    assert rec.end_basis == "period"
    assert rec.sources["validity"] == "table:有效性"
    assert rec.sources["effective_date"] == "body:自…起施行"


def test_period_in_chinese_numerals_from_written_date() -> None:
    rec = doc("<p>为规范城市管理，制定本办法。本办法自印发之日起施行，有效期三年。</p>",
              meta_rows="<tr><td>成文日期：</td><td>二〇二二年三月十五日</td></tr>")
    assert rec.written_date == D(2022, 3, 15)
    assert rec.effective_date == D(2022, 3, 15)
    assert rec.end_date == D(2025, 3, 14)
    assert rec.validity is None  # a stated period is not a 有效性 marking


def test_stated_end_date_and_range() -> None:
    assert doc("<p>本规定自2021年3月1日起施行，有效期至2023年2月28日。</p>").end_date == D(2023, 2, 28)
    rec = doc("<p>为规范城市管理，制定本办法。</p>",
              meta_rows="<tr><td>有效期：</td><td>2021年3月1日至2024年2月29日</td></tr>")
    assert rec.effective_date == D(2021, 3, 1) and rec.end_date == D(2024, 2, 29)


def test_own_repeal_versus_repealing_another_document() -> None:
    own = doc("<p>为规范城市管理，制定本办法。</p><p>本办法自2024年7月1日起废止。</p>")
    assert own.end_date == D(2024, 7, 1) and own.end_basis == "repeal_stated"
    other = doc("<p>本办法自2023年1月1日起施行。《示范市城市管理暂行办法》（示政发〔2015〕3号）同时废止。</p>")
    assert other.end_date is None
    assert other.validity is None


@pytest.mark.parametrize("banner,expected", [
    ("该文件已废止", "repealed"), ("此件已失效", "expired"), ("本文件已于2024年1月1日废止", "repealed"),
    ("该文件已修改", "amended"),
])
def test_banner(banner: str, expected: str) -> None:
    rec = doc(f"<p style='color:red'>{banner}</p><p>为规范城市管理，制定本办法，现予印发。</p>")
    assert rec.validity == expected
    assert rec.sources["validity"] == "body:banner"


@pytest.mark.parametrize("value,code", [
    ("有效", "valid"), ("现行有效", "valid"), ("失效", "expired"), ("已失效", "expired"), ("废止", "repealed"),
    ("已废止", "repealed"), ("已修改", "amended"), ("部分修改", "amended"), ("", None), ("—", None), ("暂无", None),
    ("有效期至2025年12月31日", "valid"),
])
def test_validity_words(value: str, code: str | None) -> None:
    assert validity_from_text(value) == code


def test_unmarked_validity_stays_unknown() -> None:
    rec = doc("<p>为规范城市管理，制定本办法，请遵照执行。</p>", meta_rows="<tr><td>有效性：</td><td></td></tr>")
    assert rec.validity is None and rec.validity_zh is None
    assert rec.end_date is None


# --- dates and where they come from ------------------------------------------------------------

def test_priority_meta_then_table_with_conflict_kept() -> None:
    rec = doc("<p>为规范城市管理，制定本办法，请遵照执行。</p>",
              head="<meta name='PubDate' content='2023-05-29 10:20:30'>",
              meta_rows="<tr><td>发布日期：</td><td>２０２３年５月３０日</td></tr>")
    assert rec.publish_date == D(2023, 5, 29)
    assert rec.sources["publish_date"] == "meta:PubDate"
    assert rec.conflicts["publish_date"][1] == {"value": "2023-05-30", "source": "table:发布日期"}


def test_url_date_is_the_last_resort() -> None:
    rec = doc("<p>为规范城市管理，制定本办法，请遵照执行。各单位要认真落实。</p>",
              url="http://www.sfs.gov.cn/zwgk/202301/t20230104_77.html")
    assert rec.publish_date == D(2023, 1, 4) and rec.sources["publish_date"] == "url"


def test_sidebar_dates_are_not_the_page_date() -> None:
    html = page(
        "<div class='right_box'><ul><li><a href='/a.html'>另一篇文章标题</a> 发布时间：2024-02-02</li>"
        "<li><a href='/b.html'>再一篇文章标题</a> 发布时间：2024-02-03</li></ul></div>"
        "<h1>示范市召开城市管理工作会议</h1><div class='info'>来源：市城管局　发布时间：2023-06-01 09:00　浏览次数：123</div>"
        "<div class='con'><p>6月1日，示范市召开城市管理工作会议，部署下一阶段重点工作。</p></div>")
    rec = extract_html("http://www.sfs.gov.cn/a/1.html", html)
    assert rec is not None
    assert rec.publish_date == D(2023, 6, 1)
    assert rec.sources["publish_date"] == "table:发布时间"


def test_govcn_firstpublishedtime_and_unlabelled_dateline() -> None:
    html = page("<h1>国务院办公厅关于印发某方案的通知</h1><div class='pages-date'>2023-05-29 10:20 "
                "<span class='font'>来源： 国务院办公厅</span></div><div class='pages_content'><p>各省、自治区、直辖市人民政府：现将方案印发给你们。</p></div>",
                head="<meta name='firstpublishedtime' content='2023-05-29-10:20:30'>")
    rec = extract_html("http://www.gov.cn/zhengce/content/x.htm", html)
    assert rec.publish_date == D(2023, 5, 29)
    assert rec.sources["publish_date"] == "meta:firstpublishedtime"


def test_signature_written_date_needs_an_issuer_line() -> None:
    rec = doc("<p>现将有关事项通知如下，请认真贯彻执行。</p><p>示范市人民政府办公室</p><p>二〇二三年五月十日</p>")
    assert rec.written_date == D(2023, 5, 10) and rec.sources["written_date"] == "body:落款"
    rec = doc("<p>现将有关事项通知如下，请认真贯彻执行。</p><p>2023年5月10日</p>")
    assert rec.written_date is None


def test_missing_everything_stays_none() -> None:
    rec = doc("<p>为规范城市管理，制定本办法。各单位要认真贯彻落实，确保取得实效。</p>", column="机构概况",
              title="示范市城市管理局机构职能")
    assert rec.publish_date is None and rec.written_date is None and rec.validity is None
    assert rec.doc_number is None and rec.end_date is None


# --- 文号 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["示政发〔2023〕5号", "示政发[2023]5号", "示政发（2023）5号", "示政发(2023)第5号",
                                  "示政发［２０２３］５号", "示政发【2023】5号"])
def test_doc_number_variants(text: str) -> None:
    assert str(parse_doc_number(text)) == "示政发〔2023〕5号"


def test_doc_number_in_prose_and_matching() -> None:
    hits = find_doc_numbers("根据《某办法》（国办发〔2019〕3号）和示政办〔2020〕12号文件要求")
    assert [str(number) for number, _span in hits] == ["国办发〔2019〕3号", "示政办〔2020〕12号"]
    assert same_doc_number("按照国办发〔2019〕3号", "国办发[2019]3号")
    assert not same_doc_number("国办发〔2019〕3号", "国办发〔2019〕4号")
    assert not same_doc_number("国办发〔2019〕3号", None)


def test_doc_number_sources() -> None:
    assert doc("<p>为规范城市管理，制定本办法，请遵照执行。</p>",
               meta_rows="<tr><td>发文字号：</td><td>示政规〔2023〕5号</td></tr>").sources["doc_number"] == "table:发文字号"
    rec = doc("<p>示政发〔2023〕7号</p><p>各区人民政府，市直各单位：现将办法印发给你们。</p>")
    assert rec.doc_number == "示政发〔2023〕7号" and rec.sources["doc_number"] == "body:head"
    rec = doc("<p>近日，《示范市城市管理办法》（示政发〔2023〕7号）正式印发，现解读如下。</p>",
              title="《示范市城市管理办法》政策解读", column="政策解读")
    assert rec.doc_number is None
    assert rec.refs["numbers"] == ["示政发〔2023〕7号"]


# --- kinds ----------------------------------------------------------------------------------

@pytest.mark.parametrize("title,column,kw,kind", [
    ("示范市城市管理办法", "行政规范性文件", {}, "normative"),
    ("示范市城市管理办法", "", {"has_registration": True}, "normative"),
    ("关于做好2023年防汛工作的通知", "其他文件", {"has_doc_number": True}, "policy"),
    ("《示范市城市管理办法》政策解读", "行政规范性文件", {"has_doc_number": True}, "interpretation"),
    ("示范市举办城市管理政策解读会", "工作动态", {}, "news"),
    ("关于2023年低保对象名单的公示", "", {}, "notice"),
    ("示范市2023年政府信息公开工作年度报告", "通知公告", {}, "annual_report"),
    ("二〇二三年示范市政府网站工作年度报表", "", {}, "annual_report"),
    ("关于公开征求《示范市城市管理办法（征求意见稿）》意见的公告", "通知公告", {}, "consultation"),
    ("关于《示范市城市管理办法（征求意见稿）》征求意见采纳情况的说明", "", {}, "consultation"),
    ("示范市概况", "走进示范", {}, "other"),
])
def test_classify(title: str, column: str, kw: dict, kind: str) -> None:
    assert classify_kind(title, column, **kw)[0] == kind


def test_annual_report_details() -> None:
    rec = doc("<p>本报告根据《中华人民共和国政府信息公开条例》要求编制，现予公布。</p>",
              title="示范市教育局二〇二三年政府信息公开工作年度报告", column="政府信息公开年报")
    assert rec.kind == "annual_report" and rec.subkind == "xxgk_annual_report"
    assert rec.report == {"type": "xxgk", "year": 2023, "owner": "示范市教育局"}
    rec = doc("<p>根据国办函〔2018〕12号要求，现将本网站年度工作情况报告如下。</p>",
              title="示范市人民政府门户网站2023年政府网站工作年度报表", column="")
    assert rec.report["type"] == "website" and rec.report["year"] == 2023


def test_decision_catalogue_and_consultation_period() -> None:
    rec = doc("<p>经市委同意，现将2024年度重大行政决策事项目录予以公布。</p>",
              title="示范市人民政府2024年度重大行政决策事项目录", column="重大行政决策")
    assert rec.subkind == "decision_catalogue" and rec.catalogue_year == 2024
    rec = doc("<p>现将《示范市城市管理办法（征求意见稿）》向社会公开征求意见。"
              "征求意见时间为2023年5月1日至2023年5月30日。</p>",
              title="关于公开征求《示范市城市管理办法（征求意见稿）》意见的公告", column="意见征集")
    assert rec.subkind == "consultation_call"
    assert rec.consultation["start"] == D(2023, 5, 1) and rec.consultation["end"] == D(2023, 5, 30)
    assert rec.consultation["explained"] is False
    rec = doc("<p>请于2023年5月20日前将意见反馈至市城管局。</p>",
              title="关于公开征求《示范市城市管理办法（征求意见稿）》意见的公告", column="意见征集",
              head="<meta name='PubDate' content='2023-05-08'>")
    assert rec.consultation["start"] == D(2023, 5, 8) and rec.consultation["start_source"] == "publish_date"
    assert rec.consultation["end"] == D(2023, 5, 20)


def test_repeal_list() -> None:
    rec = doc("<p>经清理，决定废止以下规范性文件：</p><p>1.《示范市城市管理暂行办法》（示政发〔2015〕3号）</p>"
              "<p>2.《示范市户外广告管理规定》（示政办〔2016〕8号）</p>",
              title="示范市人民政府关于废止部分规范性文件的决定", column="政策文件",
              meta_rows="<tr><td>发文字号：</td><td>示政发〔2024〕1号</td></tr>")
    assert rec.subkind == "repeal_list"
    assert rec.repeal_list["numbers"] == ["示政发〔2015〕3号", "示政办〔2016〕8号"]
    assert "示范市城市管理暂行办法" in rec.repeal_list["titles"]


# --- related documents ----------------------------------------------------------------------

def test_related_links_both_ways_but_not_menu_entries() -> None:
    rec = doc("<p>为规范城市管理，制定本办法，请遵照执行。</p>"
              "<div class='xgjd'><h4>相关解读</h4><ul><li><a href='/zcjd/t20230530_1.html'>一图读懂城市管理办法</a></li></ul></div>")
    assert rec.related == [{"url": "http://www.sfs.gov.cn/zcjd/t20230530_1.html", "anchor": "一图读懂城市管理办法",
                            "relation": "interpretation"}]
    it = doc("<p>近日，《示范市城市管理办法》正式印发，现解读如下。</p><p>原文链接：<a href='../gfxwj/content_1.html'>示范市城市管理办法</a></p>",
             title="《示范市城市管理办法》政策解读", column="政策解读", url="http://www.sfs.gov.cn/zwgk/zcjd/content_9.html")
    assert it.related[0]["url"] == "http://www.sfs.gov.cn/zwgk/gfxwj/content_1.html"
    assert it.related[0]["relation"] == "original"


def test_title_key_strips_wrappers() -> None:
    k = title_key("示范市城市管理办法")
    assert title_key("示范市人民政府关于印发示范市城市管理办法的通知") == k
    assert title_key("《示范市城市管理办法》政策解读") == k
    assert title_key("一图读懂《示范市城市管理办法》") == k
    assert title_key("示范市城市管理办法（征求意见稿）") == k


# --- pages that are not documents -------------------------------------------------------------

def test_list_and_error_pages_are_not_documents() -> None:
    items = "".join(f"<li><a href='/d/{i}.html'>关于城市管理工作的通知{i}</a><span>2023-05-{i + 10:02d}</span></li>"
                    for i in range(10))
    assert extract_html("http://www.sfs.gov.cn/list/", page(f"<h2>通知公告</h2><ul class='list'>{items}</ul>")) is None
    assert extract_html("http://www.sfs.gov.cn/x", "") is None


def test_record_round_trip_and_determinism() -> None:
    html = page("<h1>示范市城市管理办法</h1><table><tr><td>发布日期：</td><td>2023-05-29</td></tr>"
                "<tr><td>有效性：</td><td>有效</td></tr></table><div><p>本办法自2023年6月1日起施行，有效期2年。</p></div>")
    a = extract_html(URL, html)
    b = extract_html(URL, html.encode("utf-8"))
    assert a == b
    data = a.to_dict()
    assert data["publish_date"] == "2023-05-29" and data["kind_zh"] in ("行政规范性文件", "其他", "其他政策文件")
    assert DocumentRecord.from_dict(data) == a
