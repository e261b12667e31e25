"""A site that changes between monthly runs, for the history / triage / 整改台账 tests.

``build_history_site(version, as_of)`` gives the site as it stands in month ``version`` (1, 2, 3);
every date is relative to that run's ``as_of``. What changes:

- ``/gone1.html``: dead in month 1, published in month 2 (fixed), dead again in month 3 (reopened);
- ``/gone2.html``: no link to it in month 1, a dead link from month 2 on (new, then persisting);
- ``/fp.html``: dead every month, on the homepage (the operator marks it 误报 after month 1);
- ``/later.html``: dead every month, on the homepage (deferred until 2026-02-20 after month 1);
- ``/gzdt/`` 工作动态: stale in month 1 (items 30/40 days old), updated in month 2 and 3;
- ``/deep/p.html`` (depth 2) links to ``/deep-dead.html``; month 3 is audited with a page budget
  that stops before depth 2, so that dead link is not re-checked;
- the homepage title and a column's ``ColumnName`` carry spreadsheet-formula text (``=cmd|…``).
"""

from __future__ import annotations

import datetime as dt

from tests.sites.freshness_fixture import layout, ul_span
from tests.support.sites import Site

HOST = "www.history-county.gov.cn"
INJECTION = "=cmd|' /C calc'!A0"
NAV = [("首页", "/"), ("工作动态", "/gzdt/"), ("通知公告", "/tzgg/")]
DEPTH1_PAGES = 8  # pages at depth 0 and 1: a --max-pages of this size never reaches /deep/p.html
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def article(title: str, day: dt.date, text: str) -> str:
    return layout(title, f"<h1>{title}</h1><div class='info'>发布时间：{day:%Y-%m-%d}</div><div class='content'>{text}</div>",
                  nav=NAV, extra_head=f"<meta name='ArticleTitle' content='{title}'><meta name='PubDate' content='{day:%Y-%m-%d}'>")


def list_page(name: str, path: str, list_html: str, column: str | None = None) -> str:
    body = (f"<div class='position'>当前位置：<a href='/'>首页</a> &gt; <a href='{path}'>{name}</a></div>"
            f"<div class='column-list'>{list_html}</div>")
    return layout(name, body, column=column or name, nav=NAV)


def build_history_site(version: int, as_of: dt.date) -> Site:
    site = Site(f"history-v{version}")
    site.raw("/logo.png", PNG, "image/png")

    def day(n: int) -> dt.date:
        return as_of - dt.timedelta(days=n)

    links = ['<a href="/a.html">机构概况</a>', '<a href="/fp.html">便民服务专区</a>', '<a href="/later.html">旧版入口</a>',
             '<a href="/gone1.html">年度报告</a>', '<a href="/mid.html">专题</a>']
    if version >= 2:
        links.append('<a href="/gone2.html">新上线栏目</a>')
    news = ul_span([(f"县政府召开第{i}次常务会议", f"/gzdt/{i}.html", day(i)) for i in (1, 2)])
    site.page("/", layout(f"{INJECTION}历史县人民政府", "<div class='news'>" + news + "</div>" + " ".join(links), nav=NAV))
    site.page("/a.html", layout("机构概况", "<p>机构概况正文。</p>", nav=NAV))
    site.page("/mid.html", layout("专题", '<p>专题。<a href="/deep/p.html">专题文章</a></p>', nav=NAV))
    site.page("/deep/p.html", layout("专题文章", '<p>文章。<a href="/deep-dead.html">附件说明</a></p>', nav=NAV))
    if version == 2:
        site.page("/gone1.html", layout("年度报告", "<p>年度报告正文。</p>", nav=NAV))
    ages = [30, 40] if version == 1 else [2, 9]
    items = []
    for i, age in enumerate(ages, 1):
        href = f"/gzdt/{i}.html"
        title = f"县政府召开第{i}次常务会议"
        site.page(href, article(title, day(age), "正文。"))
        items.append((title, href, day(age)))
    site.page("/gzdt/", list_page("工作动态", "/gzdt/", ul_span(items)))
    notices = [(f"关于开展第{i}批专项检查的通知", f"/tzgg/{i}.html", day(5 * i)) for i in (1, 2)]
    for title, href, when in notices:
        site.page(href, article(title, when, "通知正文。"))
    site.page("/tzgg/", list_page("通知公告", "/tzgg/", ul_span(notices), column=INJECTION + "通知公告"))
    return site
