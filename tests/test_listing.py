"""Column and list extraction (auditor.docmodel.listing): the CMS list layouts the freshness rules read."""

from __future__ import annotations

import datetime as dt
import json

import lxml.html
import pytest

from auditor.context import PageView
from auditor.docmodel.listing import (
    Item,
    classify_column,
    column_name,
    extract_blocks,
    is_navigation_only,
    newest_item,
    pagination,
    read_column_page,
)
from auditor.rulepacks import load_pack
from auditor.store.database import compress

AS_OF = dt.date(2024, 6, 14)
BASE = "http://www.example.gov.cn/"
PLACEHOLDERS = load_pack("national").value("freshness.placeholder_patterns")


def blocks_of(body: str, as_of: dt.date = AS_OF):
    tree = lxml.html.document_fromstring(f"<html><head><title>t</title></head><body>{body}</body></html>")
    return extract_blocks(tree, BASE, "utf-8", as_of)


def by_name(blocks):
    return {b.name: b for b in blocks if b.name}


def page_view(html: str, url: str = BASE + "col/", encoding: str = "utf-8", status: int = 200, title: str = "") -> PageView:
    row = {"url": url, "final_url": url, "status": status, "encoding": encoding, "kind": "html", "title": title,
           "body": compress(html.encode(encoding))}
    return PageView(row)


# --- items and dates ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("item_html", "expected", "inferred"),
    [
        ("<li><a href='/a.html'>关于开展安全生产检查的通知</a><span>2024-06-01</span></li>", dt.date(2024, 6, 1), False),
        ("<li><span class='date'>2024/5/3</span><a href='/a.html'>关于开展安全生产检查的通知</a></li>", dt.date(2024, 5, 3), False),
        ("<li><a href='/a.html'>关于开展安全生产检查的通知</a> 2024年5月29日</li>", dt.date(2024, 5, 29), False),
        ("<li><a href='/a.html'>关于开展安全生产检查的通知</a><em>２０２４－０５－２９</em></li>", dt.date(2024, 5, 29), False),
        ("<li><a href='/a.html'>关于开展安全生产检查的通知</a><span>[05-29]</span></li>", dt.date(2024, 5, 29), True),
        ("<li><a href='/a.html'>关于开展安全生产检查的通知</a><span>(5月9日)</span></li>", dt.date(2024, 5, 9), True),
        # a year-less date later than --as-of belongs to the previous year
        ("<li><a href='/a.html'>关于开展安全生产检查的通知</a><span>12-30</span></li>", dt.date(2023, 12, 30), True),
        ("<li><a href='/a.html'><span class='t'>关于开展安全生产检查的通知</span><span class='d'>2024.06.02</span></a></li>",
         dt.date(2024, 6, 2), False),
        ("<li><a href='/a.html'>关于开展安全生产检查的通知</a></li>", None, False),
        # a date inside the title is not a publication date
        ("<li><a href='/a.html'>关于2024年6月10日起调整公交线路的通知</a></li>", None, False),
        ("<li><a href='/a.html'>关于调整公交线路的通知2024年6月10日</a></li>", None, False),
        # truncated link text with a full title attribute: the truncated text is still the title
        ("<li><a href='/a.html' title='关于2024年6月10日起调整公交线路和站点设置的通知'>关于2024年6月10日起调整公交…</a></li>",
         None, False),
        # …but a numeric date at either end of a single link text is the list's date
        ("<li><a href='/a.html'>2024-05-01 关于开展安全生产检查的通知</a></li>", dt.date(2024, 5, 1), False),
        ("<li><a href='/a.html'>关于开展安全生产检查的通知 [2024/05/02]</a></li>", dt.date(2024, 5, 2), False),
        ("<li><a href='/a.html'>关于2024年6月10日起调整公交线路的通知</a><span>2023-01-05</span></li>", dt.date(2023, 1, 5), False),
    ],
)
def test_item_dates(item_html: str, expected: dt.date | None, inferred: bool) -> None:
    blocks = blocks_of(f"<div class='box'><h3>通知公告</h3><ul>{item_html}<li><a href='/b.html'>第二条通知的标题文字</a></li></ul></div>")
    item = by_name(blocks)["通知公告"].items[0]
    assert item.date == expected
    assert item.year_inferred is inferred
    assert item.url == BASE + "a.html"


def test_truncated_titles_use_the_title_attribute() -> None:
    blocks = blocks_of("<div><h3>要闻</h3><ul><li><a href='/1.html' title='县委书记主持召开全县乡村振兴工作推进会议'>县委书记主持召开全县…</a>"
                       "<span>2024-06-01</span></li></ul></div>")
    assert by_name(blocks)["要闻"].items[0].title == "县委书记主持召开全县乡村振兴工作推进会议"


def test_table_rows_with_document_numbers() -> None:
    html = ("<h2>政策文件</h2><table><tr><th>标题</th><th>文号</th><th>成文日期</th></tr>"
            "<tr><td><a href='/z1.html'>示范县人民政府关于印发某某办法的通知</a></td><td>示政发〔2024〕3号</td><td>2024年03月01日</td></tr>"
            "<tr><td><a href='/z2.html'>示范县人民政府关于某某工作的意见</a></td><td>示政发〔2023〕9号</td><td>2023年12月20日</td></tr></table>")
    b = by_name(blocks_of(html))["政策文件"]
    assert [i.date for i in b.items] == [dt.date(2024, 3, 1), dt.date(2023, 12, 20)]
    assert b.newest(AS_OF).title.startswith("示范县人民政府关于印发")


def test_definition_lists_and_paragraph_lists() -> None:
    dl = blocks_of("<div class='title'>部门动态</div><dl><dd><a href='/1.html'>县农业农村局开展春耕检查</a><i>2024-05-01</i></dd>"
                   "<dd><a href='/2.html'>县水利局开展防汛演练活动</a><i>2024-04-01</i></dd></dl>")
    assert by_name(dl)["部门动态"].newest(AS_OF).date == dt.date(2024, 5, 1)
    ps = blocks_of("<h3>乡镇动态</h3><div class='news'><p><a href='/1.html'>某某镇召开党委扩大会议</a><em>2024/06/03</em></p>"
                   "<p><a href='/2.html'>某某乡开展环境整治活动</a><em>2024/06/01</em></p></div>")
    assert len(by_name(ps)["乡镇动态"].items) == 2


# --- block headings ----------------------------------------------------------------------------

def test_heading_wrapper_and_more_link() -> None:
    blocks = blocks_of("<div class='box'><div class='hd'><h3>工作动态</h3><a class='more' href='/gzdt/'>更多&gt;&gt;</a></div>"
                       "<ul><li><a href='/g1.html'>县长调研安全生产工作情况</a><span>2024-06-01</span></li></ul></div>")
    b = by_name(blocks)["工作动态"]
    assert b.more_url == BASE + "gzdt/"


def test_heading_link_is_the_column_url() -> None:
    blocks = blocks_of("<div><h3><a href='/tzgg/'>通知公告</a></h3><ul><li><a href='/t1.html'>关于做好防汛工作的通知</a>"
                       "<span>2024-06-01</span></li></ul></div>")
    assert by_name(blocks)["通知公告"].more_url == BASE + "tzgg/"


def test_tab_labels_map_to_lists_in_order() -> None:
    html = ("<div class='tabbox'><div class='tab'><ul><li>通知公告</li><li>政策文件</li><li>人事信息</li></ul></div>"
            "<ul><li><a href='/1.html'>关于做好防汛工作的通知</a><span>2024-06-01</span></li></ul>"
            "<ul><li><a href='/2.html'>示范县人民政府关于印发办法的通知</a><span>2024-01-02</span></li></ul>"
            "<ul><li><a href='/3.html'>关于张某某等同志职务任免的通知</a><span>2023-03-04</span></li></ul></div>")
    named = by_name(blocks_of(html))
    assert named["通知公告"].items[0].url.endswith("/1.html")
    assert named["政策文件"].items[0].url.endswith("/2.html")
    assert named["人事信息"].items[0].url.endswith("/3.html")


def test_table_caption_names_the_block_and_neighbours_do_not_leak() -> None:
    html = ("<div class='box'><h3>工作动态</h3><ul><li><a href='/1.html'>县长调研安全生产工作情况</a><span>2024-06-01</span></li></ul></div>"
            "<table><caption>人事任免</caption><tr><td><a href='/r.html'>关于张三等同志任免的通知</a></td><td>2021.03.04</td></tr></table>")
    named = by_name(blocks_of(html))
    assert named["人事任免"].items[0].date == dt.date(2021, 3, 4)
    assert named["工作动态"].items[0].date == dt.date(2024, 6, 1)


def test_empty_blocks_with_placeholders() -> None:
    html = ("<div class='lm'><h4>乡村振兴</h4><div class='con'>暂无信息</div></div>"
            "<div class='lm'><div class='hd'><h4>营商环境</h4><a href='/yshj/'>更多</a></div><div class='bd'></div></div>"
            "<div class='lm'><h4>工作动态</h4><ul><li><a href='/1.html'>县长调研安全生产工作情况</a><span>2024-06-01</span></li></ul></div>")
    named = by_name(blocks_of(html))
    assert named["乡村振兴"].items == [] and named["乡村振兴"].placeholder == "暂无信息"
    assert named["营商环境"].items == [] and named["营商环境"].more_url == BASE + "yshj/"
    assert named["工作动态"].items


def test_footer_links_are_not_items() -> None:
    blocks = blocks_of("<div class='footer'><ul><li><a href='/a.html'>网站地图与联系方式说明</a><span>2024-06-01</span></li></ul></div>")
    assert not any(b.items for b in blocks)


# --- column pages ------------------------------------------------------------------------------

def test_column_name_sources() -> None:
    def name(html: str, title: str = "") -> tuple[str, str]:
        pv = page_view(f"<html><head><title>{title}</title>{html}</body></html>")
        return column_name(pv.tree, pv.meta, title)

    assert name("<meta name='ColumnName' content='通知公告'></head><body>") == ("通知公告", "meta")
    assert name("</head><body><div class='position'>当前位置：<a>首页</a> &gt; <a>信息公开</a> &gt; <a>财政预决算</a></div>") == \
        ("财政预决算", "breadcrumb")
    assert name("</head><body><p>您的位置：首页 » 政务公开 » 人事信息</p>") == ("人事信息", "breadcrumb")
    assert name("</head><body><h1>规划计划</h1>") == ("规划计划", "heading")
    assert name("</head><body><p>x</p>", "部门动态 - 示范县人民政府") == ("部门动态", "title")


def test_pagination_forms() -> None:
    tree = lxml.html.document_fromstring("<html><body><div class='page'>共 12 页 <a href='index_1.html'>下一页</a></div></body></html>")
    assert pagination(tree, BASE + "tzgg/index.html", "utf-8", "共 12 页") == (12, BASE + "tzgg/index_1.html")
    src = "<script>createPageHTML(7, 0, \"index\", \"html\");</script>"
    assert pagination(lxml.html.document_fromstring(f"<html><body>{src}</body></html>"), BASE, "utf-8", src)[0] == 7


def test_read_column_page_gbk_list_with_sidebar() -> None:
    html = ("<html><head><meta charset='gbk'><title>通知公告</title></head><body>"
            "<div class='left-menu'><ul><li><a href='/a/'>工作动态</a></li><li><a href='/b/'>通知公告</a></li></ul></div>"
            "<div class='list'><ul><li><a href='/t1.html'>关于做好防汛工作的通知</a><span>2024-06-01</span></li>"
            "<li><a href='/t2.html'>关于开展安全检查的通知</a><span>2024-05-01</span></li></ul></div>"
            "<div class='related'><h3>热点专题</h3><ul><li><a href='/zt.html'>学习贯彻党的二十大精神专题</a></li></ul></div>"
            "</body></html>")
    cp = read_column_page(page_view(html, encoding="gbk", title="通知公告"), AS_OF, PLACEHOLDERS)
    assert [i.date for i in cp.items] == [dt.date(2024, 6, 1), dt.date(2024, 5, 1)]
    assert not cp.is_blank and not cp.is_error


@pytest.mark.parametrize(
    ("body", "blank", "placeholder"),
    [
        ("<h2>乡村振兴</h2><div>暂无信息</div>", True, "暂无信息"),
        ("<h2>营商环境</h2><p>本栏目正在建设中，敬请期待</p>", True, "正在建设"),
        ("<h2>重点项目</h2><ul></ul>", True, None),
        ("<h2>领导简介</h2><p>县长：张某某，负责县政府全面工作，分管审计、财政、编制等方面工作。</p>", False, None),
        # "暂无" in a real list page (a comment box) does not make the column blank
        ("<ul><li><a href='/1.html'>关于做好防汛工作的通知</a><span>2024-06-01</span></li>"
         "<li><a href='/2.html'>关于开展安全检查的通知</a><span>2024-05-01</span></li></ul><p>暂无评论</p>", False, None),
    ],
)
def test_blank_column_pages(body: str, blank: bool, placeholder: str | None) -> None:
    html = f"<html><head><title>栏目</title></head><body><div class='nav'><a href='/'>首页</a></div>{body}</body></html>"
    cp = read_column_page(page_view(html), AS_OF, PLACEHOLDERS)
    assert cp.is_blank is blank
    assert cp.placeholder == placeholder


def test_error_pages_are_blank() -> None:
    cp = read_column_page(page_view("<html><head><title>404 页面不存在</title></head><body>页面不存在</body></html>",
                                    title="404 页面不存在"), AS_OF, PLACEHOLDERS)
    assert cp.is_error and cp.is_blank


# --- classification ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "cls", "window"),
    [
        ("工作动态", "dynamic", 14), ("政务要闻", "dynamic", 14), ("图片新闻", "dynamic", 14), ("乡镇动态", "dynamic", 14),
        ("通知公告", "notice", 183), ("公示公告", "notice", 183), ("政策文件", "notice", 183), ("行政规范性文件", "notice", 183),
        ("人事任免", "longterm", 365), ("规划计划", "longterm", 365), ("招考录用", "longterm", 365),
        ("人事动态", "longterm", 365),  # both: the pack's class order decides
        ("政策解读", "exclude", None), ("专题专栏", "exclude", None),
        ("领导简介", "other", None), ("政府信息公开", "other", None), ("统计信息", "other", None),
    ],
)
def test_classify_with_the_national_pack(name: str, cls: str, window: int | None) -> None:
    c = classify_column(name, load_pack("national"))
    assert (c.id, c.window_days) == (cls, window)


def test_classification_is_pack_data(tmp_path) -> None:
    pack_file = tmp_path / "local.json"
    pack_file.write_text(json.dumps({
        "id": "local-test", "version": "1", "name_zh": "测试", "name_en": "test", "extends": "national",
        "values": {
            "freshness.keywords_dynamic": {"value": ["工作简报"], "source": "测试", "status": "local"},
            "freshness.window_dynamic_days": {"value": 7, "source": "测试", "status": "local"},
            "freshness.window_other_days": {"value": 730, "source": "测试", "status": "local"},
        },
    }, ensure_ascii=False), "utf-8")
    pack = load_pack(str(pack_file))
    assert classify_column("工作简报", pack).window_days == 7
    assert classify_column("工作动态", pack).id == "other"  # the overlay replaced the list
    assert classify_column("领导简介", pack).window_days == 730


# --- homepage ----------------------------------------------------------------------------------

def test_navigation_only_homepage() -> None:
    portal = blocks_of("<div class='portal'><a href='/zwgk/'><img alt='政务公开'>政务公开</a><a href='/bsfw/'>办事服务</a>"
                       "<a href='/hdjl/'>互动交流</a></div>")
    assert is_navigation_only(portal)
    undated_news = blocks_of("<div><h3>要闻</h3><ul><li><a href='/1.html'>县委召开常委会议研究部署重点工作</a></li>"
                             "<li><a href='/2.html'>县政府召开常务会议研究防汛工作</a></li>"
                             "<li><a href='/3.html'>县人大常委会开展执法检查活动</a></li></ul></div>")
    assert not is_navigation_only(undated_news)  # undated items: not updated, but not navigation-only
    dated = blocks_of("<ul><li><a href='/1.html'>县委召开常委会议</a><span>2024-06-01</span></li></ul>")
    assert not is_navigation_only(dated)


def test_newest_item_ignores_dates_after_as_of() -> None:
    items = [Item("a", None, dt.date(2024, 6, 20)), Item("b", None, dt.date(2024, 6, 1)), Item("c", None, None)]
    assert newest_item(items, AS_OF).title == "b"
    assert newest_item([Item("c", None, None)], AS_OF) is None


# --- short dated titles, hidden elements, what is not a column (issue #8) -----------------------

def test_short_titles_are_items_only_when_dated() -> None:
    blocks = blocks_of("<div><h3>新闻动态</h3><ul><li><a href='/n0.html'>新闻0</a><span>2024-06-09</span></li>"
                       "<li><a href='/n1.html'>新闻1</a><span>2024-06-08</span></li></ul></div>"
                       "<div><h3>导航</h3><ul><li><a href='/yw/'>要闻</a></li><li><a href='/gg/'>公告</a></li>"
                       "<li><a href='/c/15.html'>15</a><span>2024-06-01</span></li></ul></div>")
    named = by_name(blocks)
    assert [i.title for i in named["新闻动态"].items] == ["新闻0", "新闻1"]
    assert named["新闻动态"].newest(AS_OF).date == dt.date(2024, 6, 9)
    # undated short links stay navigation; an all-digit link is a calendar or a pager, even when dated
    assert "导航" not in named or not named["导航"].items


def test_hidden_rules_from_inline_styles_and_stylesheet() -> None:
    from auditor.docmodel.listing import HiddenRules, hidden_link_targets, is_hidden

    html = ("<html><head><style>.hide{display:none} #gone { visibility : hidden } .sub{display:none}"
            " li:hover .sub{display:block} .tab-pane{display:none} .tab-pane.active{display:block}</style></head><body>"
            "<div class='hide'><a href='/a/'>隐藏一</a></div><p id='gone'><a href='/b/'>隐藏二</a></p>"
            "<span hidden><a href='/c/'>隐藏三</a></span><div style='display: none'><a href='/d/'>隐藏四</a></div>"
            "<ul class='menu'><li><a href='/e/'>新闻中心</a><ul class='sub'><li><a href='/f/'>工作动态</a></li></ul></li>"
            "<li><a href='/g/'>政务公开</a><ul style='display:none'><li><a href='/h/'>通知公告</a></li></ul></li></ul>"
            "<div class='tab-pane'><a href='/i/'>标签页</a></div><a href='/j/'>可见</a><div class='hide'><a href='/j/'>可见</a></div>"
            "</body></html>")
    tree = lxml.html.document_fromstring(html)
    rules = HiddenRules.of(tree)
    assert "hide" in rules.classes and "gone" in rules.ids
    assert "sub" not in rules.classes and "tab-pane" not in rules.classes  # revealed on hover / when active
    hidden = hidden_link_targets(tree, BASE)
    assert hidden == {BASE + p for p in ("a/", "b/", "c/", "d/")}, hidden  # /j/ is also linked visibly
    # without opening menus, the inline display:none sub-menu is hidden
    h_link = next(a for a in tree.iter("a") if a.get("href") == "/h/")
    assert is_hidden(h_link, rules) and not is_hidden(h_link, rules, menus_open=True)


def test_hidden_empty_block_is_not_a_blank_column() -> None:
    blocks = blocks_of("<div class='userbox' style='display:none'><h3>欢迎您</h3><div class='bd'>请登录</div></div>"
                       "<div class='box'><h3>乡村振兴</h3><div class='bd'>暂无信息</div></div>")
    assert set(by_name(blocks)) == {"乡村振兴"}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://www.example.gov.cn/xwzx/202012/t20201215_2702345.html", "article_url"),
        ("http://www.example.gov.cn/zwgk/2024-06/abc.html", "article_url"),
        ("http://www.example.gov.cn/art/2024/6/11/art_4521_1.html", "article_url"),
        ("http://www.example.gov.cn/gkmlpt/content/0/508/post_508890.html", "article_url"),
        ("http://www.example.gov.cn/hdjl/writeLetter.do", "endpoint"),
        ("http://www.example.gov.cn/search/hotwords.do", "endpoint"),
        ("http://www.example.gov.cn/web/list.action?id=3", "endpoint"),
        ("http://www.example.gov.cn/interact/index.jsp?method=query", "endpoint"),
        ("http://www.example.gov.cn/search/index.html", "endpoint"),
        ("http://www.example.gov.cn/user/login.html", "endpoint"),
        # columns
        ("http://www.example.gov.cn/col/col4521/index.html", None),
        ("http://www.example.gov.cn/zwgk/tzgg/", None),
        ("http://www.example.gov.cn/xwzx/gzdt/index_1.html", None),
        ("http://www.example.gov.cn/2024zt/", None),
        ("http://www.example.gov.cn/catalog/zcwj/", None),
    ],
)
def test_not_a_column_url(url: str, reason: str | None) -> None:
    from auditor.docmodel.listing import not_a_column_url

    assert not_a_column_url(url, load_pack("national")) == reason


def test_hanweb_datastore_records() -> None:
    from auditor.docmodel.listing import datastore_items

    src = ("<div id='4521'><script type='text/xml'><datastore><recordset>"
           "<record><![CDATA[<li><a href='/art/2024/6/11/art_1.html'>县政府召开全县安全生产工作会议</a><span>2024-06-11</span></li>]]></record>"
           "<record><![CDATA[<li><a href='/art/2024/5/2/art_2.html'>县政府开展防汛应急演练活动</a><span>2024-05-02</span></li>]]></record>"
           "</recordset></datastore></script></div><script>$('#4521').jpage({totalRecord: 100, perPage: 15});</script>")
    items, total = datastore_items(src, BASE + "col/", "utf-8", AS_OF)
    assert [i.date for i in items] == [dt.date(2024, 6, 11), dt.date(2024, 5, 2)]
    assert items[0].url == BASE + "art/2024/6/11/art_1.html" and total == 100
    assert datastore_items("<ul></ul>", BASE) == ([], None)  # no datastore: nothing known
    # a datastore that holds no record is a decidably empty list; records we cannot read are not
    assert datastore_items("<datastore><recordset></recordset></datastore>", BASE) == ([], 0)
    assert datastore_items("<datastore><recordset><record>x</record></recordset></datastore>", BASE) == ([], None)


def test_script_list_markers() -> None:
    from auditor.docmodel.listing import js_list_markers

    pack = load_pack("national")
    assert js_list_markers("<script src='/js/trsapi.js'></script>", pack)
    assert js_list_markers("<script src='/module/jslib/jquery/jpage/jquery.page.min.js'></script>", pack)
    assert js_list_markers("proxyUrl: '/module/web/jpage/dataproxy.jsp'", pack)
    assert not js_list_markers("<ul><li><a href='/1.html'>标题</a></li></ul>", pack)


def test_article_pages_by_meta_or_body() -> None:
    from auditor.docmodel.listing import is_article_page

    pack = load_pack("national")
    body = "县政府召开常务会议，研究部署当前重点工作。" * 12
    article = page_view(f"<html><head><title>t</title></head><body><div class='TRS_Editor'><p>{body}</p></div></body></html>")
    assert is_article_page(article, read_column_page(article, AS_OF), pack)
    meta = page_view("<html><head><meta name='ArticleTitle' content='标题'></head><body><img src='/a.jpg'></body></html>")
    assert is_article_page(meta, read_column_page(meta, AS_OF), pack)
    # a static column page (领导简介) with a plain content box, and a list page with a long intro, are not articles
    intro = page_view(f"<html><body><div class='content'><p>{body}</p></div></body></html>")
    assert not is_article_page(intro, read_column_page(intro, AS_OF), pack)
    lst = page_view(f"<html><body><div class='zoom'>{body}</div><ul><li><a href='/1.html'>关于开展安全生产检查的通知</a>"
                    "<span>2024-06-01</span></li><li><a href='/2.html'>关于做好防汛工作的通知文件</a><span>2024-05-01</span></li></ul></body></html>")
    assert not is_article_page(lst, read_column_page(lst, AS_OF), pack)


def test_mobile_and_print_styles_hide_nothing_from_a_desktop_reader() -> None:
    """A responsive template hides its desktop menu on phones (@media) and prints without it: the menu is visible."""

    from auditor.docmodel.listing import HiddenRules, hidden_link_targets

    html = ("<html><head><style>@media (max-width: 768px) { .nav { display: none } .m-nav { display: block } }"
            ".m-nav { display: none }</style><style media='print'>.nav { display: none }</style></head><body>"
            "<div class='nav'><a href='/gzdt/'>工作动态</a></div><div class='m-nav'><a href='/m/'>手机菜单</a></div></body></html>")
    tree = lxml.html.document_fromstring(html)
    assert "nav" not in HiddenRules.of(tree).classes
    assert hidden_link_targets(tree, BASE) == {BASE + "m/"}


def test_a_hidden_tab_panel_is_still_a_list() -> None:
    """Inactive tabs are display:none until clicked: their lists are columns, only flagged hidden."""

    html = ("<div class='tabbox'><div class='tab'><ul><li class='on'>通知公告</li><li>政策文件</li></ul></div>"
            "<ul><li><a href='/t1.html'>关于做好防汛工作的通知</a><span>2024-06-01</span></li></ul>"
            "<ul style='display:none'><li><a href='/z1.html'>示范县人民政府关于印发某某办法的通知</a></li>"
            "<li><a href='/z2.html'>示范县人民政府关于某某工作的实施意见</a></li></ul></div>")
    named = by_name(blocks_of(html))
    assert named["政策文件"].hidden and len(named["政策文件"].items) == 2
    assert not named["通知公告"].hidden
