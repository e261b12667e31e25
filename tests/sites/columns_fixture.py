"""A county site whose 政府信息公开 column uses synonym wording and lacks some required columns.

Present columns use the usual variants (政务公开, 公开指南, 主动公开, 政策文件, 机构设置, 统计数据,
权责清单, 执法公示, 部门预决算, 收费目录清单, 征地信息, 低保公示…); one sits only in the homepage's
second-level menu. Absent on purpose, for every profile that requires them: 政府采购 (Art. 20(9)),
应急管理 (20(12)), 人事信息 (20(14)) and 治安管理 (Art. 21, city/county).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from tests.support.servers import serve
from tests.support.sites import Site

HOST = "www.columns-county.gov.cn"

# column id (national pack) → link text used on the site
PRESENT = {
    "xxgk": "政务公开",
    "xxgk_guide": "公开指南",
    "xxgk_rules": "公开制度",
    "fdzdgk": "主动公开",
    "xxgk_annual": "信息公开年报",
    "a20_1_documents": "政策文件",
    "a20_2_organisation": "机构设置",
    "a20_3_plans": "发展规划",
    "a20_4_statistics": "统计数据",
    "a20_5_licensing": "权责清单",
    "a20_6_enforcement": "执法公示",
    "a20_7_budget": "部门预决算",
    "a20_8_fees": "收费目录清单",
    "a20_10_projects": "重点项目",  # only in the homepage's second-level menu
    "a20_11_welfare": "乡村振兴",
    "a20_13_inspection": "安全生产",
    "a21_city_1": "城乡建设",
    "a21_city_2": "公共服务",
    "a21_city_3": "公益事业建设",
    "a21_city_4": "征地信息",
    "a21_city_5": "征收补偿",
    "a21_city_7": "低保公示",
}
MISSING = {
    "county": {"a20_9_procurement", "a20_12_emergency", "a20_14_recruitment", "a21_city_6"},
    "department": {"a20_9_procurement", "a20_14_recruitment"},
}
# Words that would satisfy a missing column's synonyms: never on the site.
FORBIDDEN = ("采购", "应急", "突发事件", "预警", "人事", "招考", "招聘", "招录", "治安", "公共安全")


@dataclass
class ColumnsSite:
    url: str
    resolve: dict[str, str]

    def cli_args(self) -> list[str]:
        return [a for name, addr in self.resolve.items() for a in ("--resolve", f"{name}={addr}")]


def _page(title: str, body: str, charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="{charset}"><title>{title}_栏目测试县人民政府</title>'
        '<meta name="SiteName" content="栏目测试县人民政府"><meta name="SiteIDCode" content="3699970001">'
        f'<meta name="ColumnName" content="{title}"></head><body>'
        '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/index.html">政务公开</a></li>'
        '<li><a href="/xwdt/index.html">新闻动态</a><ul class="sub-menu"><li><a href="/xwdt/zdxm.html">重点项目</a></li></ul></li>'
        '<li><a href="/bsfw/index.html">办事服务</a></li></ul></div>'
        f'<div class="main">{body}</div><div class="footer">主办单位：栏目测试县人民政府办公室</div></body></html>'
    )


def build_columns_site() -> Site:
    site = Site("columns")
    fd_order = [k for k in PRESENT if k.startswith(("a20", "a21")) and k != "a20_10_projects"]
    fd_links = "".join(f'<li><a href="/zwgk/zdgk/{k}/index.html">{PRESENT[k]}</a></li>' for k in fd_order)
    site.page("/", _page("首页", "<p>欢迎访问。</p><ul><li><a href='/xwdt/1.html'>县政府召开常务会议</a></li></ul>"))
    site.page("/zwgk/index.html", _page("政务公开", (
        '<div class="left-menu"><ul>'
        '<li><a href="/zwgk/gkzn/index.html">公开指南</a></li><li><a href="/zwgk/gkzd/index.html">公开制度</a></li>'
        '<li><a href="/zwgk/zdgk/index.html">主动公开</a></li><li><a href="/zwgk/nb/index.html">信息公开年报</a></li>'
        "</ul></div>")))
    # The 主动公开 page is GBK, its sub-columns in a left menu.
    site.page("/zwgk/zdgk/index.html", _page("主动公开", f'<div class="left-menu"><ul>{fd_links}</ul></div>', "gbk"), encoding="gbk")
    for k in fd_order:
        site.page(f"/zwgk/zdgk/{k}/index.html", _page(PRESENT[k], f"<ul><li><a href='/zwgk/zdgk/{k}/1.html'>{PRESENT[k]}一则</a></li></ul>"))
        site.page(f"/zwgk/zdgk/{k}/1.html", _page(PRESENT[k], "<p>内容。</p>"))
    for path, title in [("/zwgk/gkzn/index.html", "公开指南"), ("/zwgk/gkzd/index.html", "公开制度"), ("/zwgk/nb/index.html", "信息公开年报"),
                        ("/xwdt/index.html", "新闻动态"), ("/xwdt/zdxm.html", "重点项目"), ("/xwdt/1.html", "县政府召开常务会议"),
                        ("/bsfw/index.html", "办事服务")]:
        site.page(path, _page(title, f"<p>{title}</p>"))
    return site


@contextlib.contextmanager
def running_columns_site() -> Iterator[ColumnsSite]:
    with serve(build_columns_site()) as srv:
        yield ColumnsSite(url=f"http://{HOST}:{srv.port}/", resolve={HOST: "127.0.0.1"})
