"""Sites that sit just under and exactly at each 栏目不更新 veto threshold, built relative to ``--as-of``.

Each of the three triggers (≥5 stale 动态/通知 columns, ≥10 long-stale columns, ≥5 blank columns)
gets a site with ``count`` distinct columns of that kind. Two of them are also shown on the
homepage — one as a block *without* a "more" link (same name, same items), one as a block whose
"more" link spells the column's address differently (``/x/index.html`` against the menu's ``/x/``).
Counting entries instead of columns turns threshold−1 into threshold+1: the trap of issue #8.

``build_short_titles_site``: a homepage whose 12 dated items have short titles ("新闻0"…), the
newest 5 days old, next to a block of long titles 60 days old.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tests.sites.freshness_fixture import d, layout, ul_span
from tests.support.sites import Site

# (name, folder) per trigger, in the order columns are planted; the first two are doubled on the homepage
NAMES = {
    "stale": [("通知公告", "tzgg"), ("工作动态", "gzdt"), ("部门动态", "bmdt"), ("乡镇动态", "xzdt"),
              ("公示公告", "gsgg"), ("政策文件", "zcwj"), ("街道动态", "jddt")],
    "blank": [("乡村振兴", "xczx"), ("营商环境", "yshj"), ("重点项目", "zdxm"), ("文明创建", "wmcj"),
              ("扶贫开发", "fpkf"), ("民生实事", "msss"), ("生态环保", "sthb")],
    "longstale": [("人事任免", "rsrm"), ("人事信息", "rsxx"), ("招考录用", "zkly"), ("招聘信息", "zpxx"),
                  ("发展规划", "fzgh"), ("专项规划", "zxgh"), ("规划计划", "ghjh"), ("年度计划", "ndjh"),
                  ("工作计划", "gzjh"), ("任免信息", "rmxx"), ("招录信息", "zlxx"), ("计划总结", "jhzj")],
}
THRESHOLD = {"stale": 5, "blank": 5, "longstale": 10}
AGE = {"dynamic": 20, "notice": 200, "longterm": 400}  # each beyond its window (14 / 183 / 365 days)


@dataclass
class VetoTruth:
    trigger: str
    columns: list[str] = field(default_factory=list)  # distinct columns of the trigger's kind
    doubled: dict[str, str] = field(default_factory=dict)  # name → how the homepage doubles it
    veto: bool = False


def _class(name: str) -> str:
    if any(k in name for k in ("通知", "公告", "公示", "文件")):
        return "notice"
    if "动态" in name:
        return "dynamic"
    return "longterm"


def build_veto_site(as_of: dt.date, trigger: str, count: int) -> tuple[Site, VetoTruth]:
    """``count`` distinct columns of ``trigger``'s kind, two of them doubled by homepage blocks."""

    site = Site(f"veto-{trigger}-{count}")
    truth = VetoTruth(trigger, veto=count >= THRESHOLD[trigger])
    planted = NAMES[trigger][:count]
    nav = [("首页", "/"), ("要闻动态", "/ywdt/")] + [(n, f"/{f}/") for n, f in planted]

    def page(path: str, html: str) -> None:
        site.page(path, html)

    # a fresh news column (not counted) so the site is not simply dead
    fresh = [(f"示范县召开第{i}次常务会议研究部署重点工作", f"/ywdt/{i}.html", d(as_of, i)) for i in (2, 6)]
    for title, href, day in fresh:
        page(href, layout(title, f"<h1>{title}</h1><p>{day:%Y-%m-%d}</p>", nav=nav))
    page("/ywdt/", layout("要闻动态", ul_span(fresh), column="要闻动态", nav=nav))

    home_blocks = ["<div class='box'><div class='hd'><h3>要闻动态</h3><a class='more' href='/ywdt/'>更多</a></div>"
                   + ul_span(fresh) + "</div>"]
    for i, (name, folder) in enumerate(planted):
        truth.columns.append(name)
        if trigger == "blank":
            body = "<div class='empty'>暂无信息</div>"
            items: list = []
        else:
            age = AGE[_class(name)]
            items = [(f"{name}相关工作第{k}项信息的标题", f"/{folder}/{k}.html", d(as_of, age + 30 * k)) for k in range(2)]
            for title, href, day in items:
                page(href, layout(title, f"<h1>{title}</h1><p>{day:%Y-%m-%d}</p>", nav=nav))
            body = ul_span(items)
        html = layout(name, f"<div class='position'>当前位置：首页 &gt; {name}</div><div class='column-list'>{body}</div>",
                      column=name, nav=nav)
        page(f"/{folder}/", html)
        if i == 0:
            # the homepage shows this column as a block with no "more" link: same column, same name
            shown = "<div class='bd'>暂无信息</div>" if trigger == "blank" else ul_span(items)
            home_blocks.append(f"<div class='box'><div class='hd'><h3>{name}</h3></div>{shown}</div>")
            truth.doubled[name] = "homepage block without a more link"
        elif i == 1:
            # …and this one with a "more" link spelling the address differently
            page(f"/{folder}/index.html", html)
            shown = "<div class='bd'>暂无信息</div>" if trigger == "blank" else ul_span(items)
            home_blocks.append(f"<div class='box'><div class='hd'><h3>{name}</h3>"
                               f"<a class='more' href='/{folder}/index.html'>更多</a></div>{shown}</div>")
            truth.doubled[name] = "homepage block whose more link is /index.html"
    page("/", layout("首页", "".join(home_blocks), nav=nav))
    return site, truth


def build_short_titles_site(as_of: dt.date) -> Site:
    """12 dated homepage items with short titles ("新闻0"…"新闻11"), newest 5 days old; long titles 60 days old."""

    site = Site("short-titles")
    nav = [("首页", "/"), ("新闻", "/xw/"), ("公告", "/gg/")]
    short = [(f"新闻{i}", f"/xw/{i}.html", d(as_of, 5 + i)) for i in range(12)]
    old = [("关于开展全县安全生产大检查工作的通知", "/gg/1.html", d(as_of, 60))]
    for title, href, day in short + old:
        site.page(href, layout(title, f"<h1>{title}</h1><p>{day:%Y-%m-%d}</p>", nav=nav))
    home = ("<div class='box'><div class='hd'><h3>新闻动态</h3></div>" + ul_span(short) + "</div>"
            "<div class='box'><div class='hd'><h3>通知公告</h3></div>" + ul_span(old) + "</div>")
    site.page("/", layout("首页", home, nav=nav))
    site.page("/xw/", layout("新闻", ul_span(short), column="新闻", nav=nav))
    site.page("/gg/", layout("公告", ul_span(old), column="公告", nav=nav))
    return site


def build_js_homepage_site(as_of: dt.date) -> Site:
    """A homepage whose 要闻 list is loaded by script (TRS ``trsapi``: items 3 and 8 days old) next to a
    static 通知公告 block 60 days old. Statically it looks stale; rendered it is fresh."""

    from tests.sites.discovery_fixture import TRS_JS

    site = Site("js-homepage")
    nav = [("首页", "/"), ("要闻", "/yw/"), ("公告", "/gg/")]
    news = [(f"示范县召开第{i}次重点工作推进会议", f"/yw/{i}.html", d(as_of, i)) for i in (3, 8)]
    old = [("关于开展全县安全生产大检查工作的通知", "/gg/1.html", d(as_of, 60)),
           ("关于做好全县防汛抗旱工作的紧急通知", "/gg/2.html", d(as_of, 75))]  # a static list of two next to the empty one
    for title, href, day in news + old:
        site.page(href, layout(title, f"<h1>{title}</h1><p>{day:%Y-%m-%d}</p>", nav=nav))
    import json

    site.raw("/js/trsapi.js", TRS_JS, "application/javascript")
    rows = [{"t": t, "u": u, "d": f"{day:%Y-%m-%d}"} for t, u, day in news]
    site.raw("/api/yw.json", json.dumps(rows, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")
    home = ("<div class='box'><div class='hd'><h3>要闻</h3></div><ul id='yw-list' class='list'></ul></div>"
            "<div class='box'><div class='hd'><h3>通知公告</h3></div>" + ul_span(old) + "</div>"
            "<script src='/js/trsapi.js'></script><script>trsapi.load('/api/yw.json', 'yw-list');</script>")
    site.page("/", layout("首页", home, nav=nav))
    site.page("/yw/", layout("要闻", ul_span(news), column="要闻", nav=nav))
    site.page("/gg/", layout("公告", ul_span(old), column="公告", nav=nav))
    return site
