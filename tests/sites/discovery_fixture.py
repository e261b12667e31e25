"""A county site whose menus and homepage hold everything that looks like a column and is not one.

Real columns: four blank ones — one under the 空白栏目 threshold of 5: two 暂无信息 pages, a Hanweb
datastore with no record and a TRS static list of one empty page (scripts, yet decidable) — a fresh news
column, a stale 部门动态 reached only through an inline ``display:none`` drop-down menu (a
reader opens it by hovering: it *is* a column), a TRS column whose list is loaded by script
(``trsapi``, an empty ``<ul>`` after a long introduction), the same template whose interface
answers 404 (still empty after rendering: not decidable) and a Hanweb ``jpage`` column whose 100
records sit in a ``<datastore>`` script block.

Not columns, each of which an entry-counting audit turned into a blank column: an article page
in the menu (``/xwzx/202012/t20201215_2702345.html``, ColumnName meta, image-only body), an
article with ArticleTitle meta, ``writeLetter.do`` and ``hotwords.do`` endpoints, a menu entry
hidden by a stylesheet class, a hidden login greeting on the homepage (``display:none``), a
"领导信箱" block whose more link is the letter form, and two other governments' sites in the
header (dead: nothing listens on their port).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from tests.sites.freshness_fixture import d, ul_span
from tests.support.sites import Site

OFFSITE = ["www.linxian.gov.cn", "www.shengzf.gov.cn"]

BLANK = {"乡村振兴": "xczx", "营商环境": "yshj", "重点项目": "zdxm", "文明创建": "wmcj"}
NOT_COLUMNS = {"抗疫专题", "抗疫纪实", "我要写信", "热点搜索", "旧版栏目", "邻县人民政府", "省人民政府", "欢迎您", "领导信箱"}

TRS_JS = """var trsapi = {load: function (url, id) {
  fetch(url).then(function (r) { return r.json(); }).then(function (rows) {
    document.getElementById(id).innerHTML = rows.map(function (x) {
      return '<li><a href="' + x.u + '" title="' + x.t + '">' + x.t + '</a><span class="date">' + x.d + '</span></li>';
    }).join('');
  });
}};"""


@dataclass
class DiscoveryTruth:
    blank: set[str] = field(default_factory=lambda: set(BLANK))
    not_columns: set[str] = field(default_factory=lambda: set(NOT_COLUMNS))
    js_column: str = "县区动态"
    broken_js_column: str = "街道动态"
    datastore_column: str = "乡镇动态"
    dropdown_column: str = "部门动态"
    fresh: set[str] = field(default_factory=lambda: {"工作动态"})


def _layout(title: str, body: str, offsite_port: int, column: str | None = None, head: str = "") -> str:
    meta = f"<meta name='ColumnName' content='{column}'>" if column else ""
    nav = "".join([
        "<li><a href='/'>首页</a></li>",
        "<li><a href='/gzdt/'>工作动态</a></li>",
        *(f"<li><a href='/{f}/'>{n}</a></li>" for n, f in BLANK.items()),
        "<li><a href='/xwzx/202012/t20201215_2702345.html'>抗疫专题</a></li>",
        "<li><a href='/zt/kyjs.html'>抗疫纪实</a></li>",
        "<li><a href='/hdjl/writeLetter.do'>我要写信</a></li>",
        "<li><a href='/search/hotwords.do'>热点搜索</a></li>",
        "<li class='hide-me'><a href='/old/'>旧版栏目</a></li>",
        # an inline display:none drop-down under a visible menu entry: readers open it by hovering
        "<li><a href='/xwzx/'>新闻中心</a><ul style='display:none'><li><a href='/bmdt/'>部门动态</a></li></ul></li>",
        "<li><a href='/jsdt/'>县区动态</a></li>",
        "<li><a href='/jddt/'>街道动态</a></li>",
        "<li><a href='/hwlb/'>乡镇动态</a></li>",
    ])
    header = "".join(f"<a href='http://{h}:{offsite_port}/'>{n}</a>" for h, n in zip(OFFSITE, ["邻县人民政府", "省人民政府"], strict=True))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}_发现测试县人民政府</title>{meta}{head}"
        "<style>.hide-me { display: none }\n.nav li ul { background: #fff }</style></head>"
        f"<body><div class='header'><img src='/logo.png' alt='发现测试县人民政府'><div class='top-links'>{header}</div></div>"
        f"<div class='nav'><ul>{nav}</ul></div><div class='main'>{body}</div>"
        "<div class='footer'><p>主办：发现测试县人民政府办公室</p></div></body></html>"
    )


def build_discovery_site(as_of: dt.date, offsite_port: int) -> tuple[Site, DiscoveryTruth]:
    site = Site("discovery")
    truth = DiscoveryTruth()

    def page(path: str, title: str, body: str, column: str | None = None, head: str = "") -> None:
        site.page(path, _layout(title, body, offsite_port, column, head))

    def articles(prefix: str, ages: list[int]) -> list[tuple[str, str, dt.date | None]]:
        out = []
        for i, age in enumerate(ages, 1):
            title = f"{prefix}第{i}条工作信息的标题内容"
            href = f"/{prefix}/{i}.html"
            page(href, title, f"<h1>{title}</h1><div class='content'>正文内容。</div>",
                 head=f"<meta name='ArticleTitle' content='{title}'>")
            out.append((title, href, d(as_of, age)))
        return out

    gzdt = articles("gzdt", [2, 9])
    page("/gzdt/", "工作动态", ul_span(gzdt), column="工作动态")
    for name in ("乡村振兴", "营商环境"):
        page(f"/{BLANK[name]}/", name, f"<div class='position'>当前位置：首页 &gt; {name}</div><div class='list'>暂无信息</div>",
             column=name)
    # blank in script clothing, still decidable: a Hanweb datastore with no record, a TRS static list of one empty page
    page("/zdxm/", "重点项目", "<div id='4522'><script type='text/xml'><datastore><recordset></recordset></datastore></script></div>"
         "<script src='/module/jslib/jquery/jpage/jquery.page.min.js'></script>"
         "<script>$('#4522').jpage({dataStore: 'xml', totalRecord: 0, perPage: 15});</script>", column="重点项目")
    page("/wmcj/", "文明创建", "<ul class='list'></ul><div class='page'><script>createPageHTML(1, 0, \"index\", \"html\");</script></div>",
         column="文明创建")
    page("/bmdt/", "部门动态", ul_span(articles("bmdt", [20, 40])), column="部门动态")
    page("/xwzx/", "新闻中心", ul_span(gzdt), column="新闻中心")
    # not columns
    page("/xwzx/202012/t20201215_2702345.html", "抗疫专题", "<img src='/img/ky.jpg' alt=''>", column="抗疫专题")
    page("/zt/kyjs.html", "抗疫纪实", "<h1>抗疫纪实</h1><img src='/img/ky2.jpg' alt=''>",
         head="<meta name='ArticleTitle' content='抗疫纪实'><meta name='PubDate' content='2020-12-15'>")
    page("/hdjl/writeLetter.do", "我要写信", "<form method='post'><input name='title'><textarea name='c'></textarea></form>")
    page("/search/hotwords.do", "热点搜索", "<div id='hot'></div>")
    page("/old/", "旧版栏目", "<div class='list'></div>", column="旧版栏目")
    # a TRS column filled by script: a long introduction, an empty list, trsapi loading JSON
    intro = "本栏目集中发布全县各乡镇、各部门的工作动态信息，内容涵盖经济发展、社会事业、民生保障、生态环境等方面，" * 10
    page("/jsdt/", "县区动态", f"<div class='column-intro'><p>{intro}</p></div><div class='list-box'><ul id='trs-list' class='list'></ul></div>"
         "<script src='/js/trsapi.js'></script><script>trsapi.load('/api/jsdt.json', 'trs-list');</script>", column="县区动态")
    site.raw("/js/trsapi.js", TRS_JS, "application/javascript")
    # the same template whose interface is gone: still empty after rendering
    page("/jddt/", "街道动态", f"<div class='column-intro'><p>{intro}</p></div><div class='list-box'><ul id='trs-list' class='list'></ul></div>"
         "<script src='/js/trsapi.js'></script><script>trsapi.load('/api/gone.json', 'trs-list');</script>", column="街道动态")
    rows = [{"t": t, "u": u, "d": f"{day:%Y-%m-%d}"} for t, u, day in articles("jsdt", [3, 9, 40])]
    site.raw("/api/jsdt.json", json.dumps(rows, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")
    # a Hanweb jpage column: 100 records, the first 15 in the static datastore
    records = "".join(
        f"<record><![CDATA[<li><a href='/art/{day:%Y/%-m/%-d}/art_4521_{i}.html' title='乡镇工作信息第{i}条标题内容'>"
        f"乡镇工作信息第{i}条标题内容</a><span>{day:%Y-%m-%d}</span></li>]]></record>"
        for i, day in ((i, d(as_of, 3 + i)) for i in range(15)))
    page("/hwlb/", "乡镇动态",
         "<div id='4521'><script type='text/xml'><datastore><nextgroup><![CDATA[<a href='/module/web/jpage/dataproxy.jsp?"
         "page=1&webid=1&columnid=4521&unitid=12345' />]]></nextgroup>"
         f"<recordset>{records}</recordset></datastore></script></div>"
         "<script src='/module/jslib/jquery/jpage/jquery.page.min.js'></script>"
         "<script>$('#4521').jpage({dataStore: 'xml', totalRecord: 100, perPage: 15, proxyUrl: '/module/web/jpage/dataproxy.jsp'});</script>",
         column="乡镇动态")
    # homepage: a fresh block, a hidden login greeting, a mailbox block whose more link is the letter form
    home = ("<div class='box'><div class='hd'><h3>工作动态</h3><a class='more' href='/gzdt/'>更多</a></div>" + ul_span(gzdt) + "</div>"
            "<div class='userbox' style='display:none'><h3>欢迎您</h3><div class='bd'>请登录</div></div>"
            "<div class='box'><div class='hd'><h3>领导信箱</h3><a class='more' href='/hdjl/writeLetter.do'>更多</a></div>"
            "<div class='bd'></div></div>")
    page("/", "首页", home)
    return site, truth
