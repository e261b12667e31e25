"""Fixture sites for the freshness and privacy checks, built by code relative to ``--as-of``.

Each site plants cases and traps and records what a correct audit must report (``truth``):
stale and fresh columns on both sides of every window (14 days is still fresh, 15 is not;
183 days fresh for notices, 184 not), undated items, blank columns of every kind, a dead
navigation entry, dates inside titles that are not publication dates, real-looking resident ID
numbers with computed check digits, masked and invalid ones, office hotlines next to private
mobiles, and ID numbers inside generated PDF/DOCX/XLSX attachments.

ID numbers are computed here from the GB 11643 definition (weights 2^(17-i) mod 11), not with
the code under test, so a wrong table in the check cannot hide behind the fixture.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from auditor.demo.site import docx as make_docx
from auditor.demo.site import pdf as make_pdf
from tests.support.sites import Site

# --- numbers ----------------------------------------------------------------------------------

def check_char(first17: str) -> str:
    """GB 11643-1999 / ISO 7064 MOD 11-2 check character, derived from the definition."""

    total = sum(int(c) * (pow(2, 17 - i) % 11) for i, c in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(region: str, born: dt.date, seq: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


def bad_check(number: str) -> str:
    """The same number with a wrong check character."""

    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def masked_id(number: str) -> str:
    return number[:6] + "*" * 8 + number[14:]


def masked_phone(number: str) -> str:
    return number[:3] + "****" + number[7:]


# --- page templates ----------------------------------------------------------------------------

FOOTER_PHONE = "13907910002"  # published on every page as the duty line: an official contact

NAV = [
    ("首页", "/"),
    ("工作动态", "/gzdt/"),
    ("乡镇动态", "/xzdt/"),
    ("部门动态", "/bmdt/"),
    ("图片新闻", "/tpxw/"),
    ("政务要闻", "/zwyw/"),
    ("通知公告", "/tzgg/"),
    ("政策文件", "/zcwj/"),
    ("公示公告", "/gsgg/"),
    ("人事任免", "/rsrm/"),
    ("规划计划", "/ghjh/"),
    ("领导简介", "/ldjj/"),
    ("政策解读", "/zcjd/"),
    ("乡村振兴", "/xczx/"),
    ("营商环境", "/yshj/"),
    ("专题专栏", "/ztzl/"),
    ("重点项目", "/zdxm/"),
    ("政府信息公开", "/xxgk/"),
    ("联系我们", "/lxwm/"),
    ("English", "/en/"),
]


def layout(title: str, body: str, *, column: str | None = None, nav: list[tuple[str, str]] | None = None,
           extra_head: str = "") -> str:
    nav = NAV if nav is None else nav
    nav_html = "".join(f'<li><a href="{href}">{name}</a></li>' for name, href in nav)
    meta = f'<meta name="ColumnName" content="{column}">' if column else ""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}_示范县人民政府</title>{meta}{extra_head}</head>"
        f"<body><div class='header'><img src='/logo.png' alt='示范县人民政府'></div>"
        f"<div class='nav'><ul>{nav_html}</ul></div>"
        f"<div class='main'>{body}</div>"
        f"<div class='footer'><p>主办：示范县人民政府办公室 值班电话：{FOOTER_PHONE} 地址：示范县人民路1号</p></div>"
        f"</body></html>"
    )


def d(as_of: dt.date, days: int) -> dt.date:
    return as_of - dt.timedelta(days=days)


@dataclass
class Truth:
    """What a correct audit of the site reports."""

    stale_columns: set[str] = field(default_factory=set)
    fresh_columns: set[str] = field(default_factory=set)
    not_judged: set[str] = field(default_factory=set)
    blank_columns: set[str] = field(default_factory=set)
    longstale_columns: set[str] = field(default_factory=set)
    veto_triggers: set[str] = field(default_factory=set)
    homepage_stale: bool = False
    id_pages: dict[str, int] = field(default_factory=dict)  # path → number of full IDs
    weak_id_pages: dict[str, int] = field(default_factory=dict)
    phone_pages: dict[str, int] = field(default_factory=dict)  # path → private mobiles
    no_phone_pages: set[str] = field(default_factory=set)
    full_numbers: list[str] = field(default_factory=list)  # must never appear in any report
    unscanned: set[str] = field(default_factory=set)


# list layouts ------------------------------------------------------------------------------------

def ul_span(items: list[tuple[str, str, dt.date | None]], date_fmt: str = "%Y-%m-%d", brackets: bool = False) -> str:
    rows = []
    for title, href, day in items:
        date = ""
        if day:
            text = day.strftime(date_fmt)
            date = f"<span class='date'>{'[' + text + ']' if brackets else text}</span>"
        rows.append(f"<li><a href='{href}' title='{title}'>{title}</a>{date}</li>")
    return f"<ul class='list'>{''.join(rows)}</ul>"


def table_rows(items: list[tuple[str, str, dt.date | None]], header: bool = True, docno: bool = False) -> str:
    head = "<tr><th>标题</th>" + ("<th>文号</th>" if docno else "") + "<th>发布日期</th></tr>" if header else ""
    rows = []
    for i, (title, href, day) in enumerate(items, 1):
        no = f"<td>示政发〔{day.year if day else 2020}〕{i}号</td>" if docno else ""
        rows.append(f"<tr><td><a href='{href}'>{title}</a></td>{no}<td>{day:%Y年%m月%d日}</td></tr>" if day
                    else f"<tr><td><a href='{href}'>{title}</a></td>{no}<td></td></tr>")
    return f"<table class='tab-list'>{head}{''.join(rows)}</table>"


def p_em(items: list[tuple[str, str, dt.date | None]]) -> str:
    return "<div class='news'>" + "".join(
        f"<p><a href='{href}'>{title}</a><em>{day:%Y/%m/%d}</em></p>" if day else f"<p><a href='{href}'>{title}</a></p>"
        for title, href, day in items
    ) + "</div>"


def date_in_anchor(items: list[tuple[str, str, dt.date | None]]) -> str:
    return "<ul class='pic-list'>" + "".join(
        f"<li><a href='{href}'><span class='t'>{title}</span><span class='d'>{day:%Y.%m.%d}</span></a></li>"
        for title, href, day in items if day
    ) + "</ul>"


def list_page(name: str, heading_path: str, list_html: str, *, pager: str = "", column_meta: bool = True) -> str:
    body = (
        f"<div class='position'>当前位置：<a href='/'>首页</a> &gt; <a href='{heading_path}'>{name}</a></div>"
        f"<div class='column-list'>{list_html}</div>{pager}"
    )
    return layout(name, body, column=name if column_meta else None)


def article(title: str, day: dt.date, text: str) -> str:
    return layout(title, f"<h1>{title}</h1><div class='info'>发布时间：{day:%Y-%m-%d}</div><div class='content'>{text}</div>",
                  extra_head=f"<meta name='ArticleTitle' content='{title}'><meta name='PubDate' content='{day:%Y-%m-%d}'>")


# --- the content site -----------------------------------------------------------------------------

def build_content_site(as_of: dt.date) -> tuple[Site, Truth]:
    """Columns around every window, blank columns of every kind, and the privacy cases."""

    site = Site("freshness")
    t = Truth()

    def items(prefix: str, col: str, ages: list[int | None], titles: list[str] | None = None) -> list[tuple[str, str, dt.date | None]]:
        out = []
        for i, age in enumerate(ages):
            title = titles[i] if titles else f"{col}第{i + 1}条信息标题内容"
            href = f"/{prefix}/{i + 1}.html"
            day = d(as_of, age) if age is not None else None
            site.page(href, article(title, day or d(as_of, 400), f"{title}的正文内容。"))
            out.append((title, href, day))
        return out

    # dynamic (2 weeks)
    gzdt = items("gzdt", "工作动态", [3, 10, 30])
    site.page("/gzdt/1.html", article(gzdt[0][0], d(as_of, 3), "正文。另见<a href='/jddt/'>街道动态栏目</a>。"))
    site.page("/gzdt/", list_page("工作动态", "/gzdt/", ul_span(gzdt)))
    t.fresh_columns.add("工作动态")
    site.page("/xzdt/", list_page("乡镇动态", "/xzdt/", table_rows(items("xzdt", "乡镇动态", [20, 40]))))
    t.stale_columns.add("乡镇动态")
    site.page("/bmdt/", list_page("部门动态", "/bmdt/", p_em(items("bmdt", "部门动态", [15, 16]))))
    t.stale_columns.add("部门动态")
    site.page("/tpxw/", list_page("图片新闻", "/tpxw/", date_in_anchor(items("tpxw", "图片新闻", [14, 30]))))
    t.fresh_columns.add("图片新闻")  # exactly 14 days: still inside the window
    site.page("/zwyw/", list_page("政务要闻", "/zwyw/", ul_span(items("zwyw", "政务要闻", [None, None, None]))))
    t.stale_columns.add("政务要闻")  # undated items count as not updated
    t.longstale_columns.add("政务要闻")  # …for the long-stale trigger too
    # notices / policy documents (6 months = 183 days)
    tzgg = items("tzgg", "通知公告", [200, 300])
    pager = ("<div class='page'><script>createPageHTML(5, 0, \"index\", \"html\");</script>"
             "<a href='/tzgg/index_1.html'>下一页</a></div>")
    site.page("/tzgg/", list_page("通知公告", "/tzgg/", ul_span(tzgg, brackets=True), pager=pager))
    # the second page of the same list (ColumnName meta too): the same column, not a new one
    site.page("/tzgg/index_1.html", list_page("通知公告", "/tzgg/", ul_span(items("tzgg/p2", "通知公告", [400, 500]))))
    t.stale_columns.add("通知公告")
    # a column no menu links to, found by its ColumnName meta (linked from inside an article)
    site.page("/jddt/", list_page("街道动态", "/jddt/", ul_span(items("jddt", "街道动态", [25, 30]))))
    t.stale_columns.add("街道动态")
    zcwj = items("zcwj", "政策文件", [150, 170], titles=[
        f"关于{as_of.year}年{as_of.month}月{as_of.day}日起调整有关事项的通知",  # a date inside the title is not a publication date
        "示范县人民政府关于印发某某管理办法的通知",
    ])
    site.page("/zcwj/", list_page("政策文件", "/zcwj/", table_rows(zcwj, docno=True)))
    t.fresh_columns.add("政策文件")
    privacy_links = [
        ("2024年第二季度城乡低保对象名单公示", "/gsgg/dibao.html", d(as_of, 184)),
        ("关于某某建设项目的公示", "/gsgg/jubao.html", d(as_of, 190)),
        ("耕地地力保护补贴发放名单公示", "/gsgg/butie.html", d(as_of, 200)),
    ]
    site.page("/gsgg/", list_page("公示公告", "/gsgg/", ul_span(privacy_links)))
    t.stale_columns.add("公示公告")  # 184 days: one day past the 183-day window
    # personnel / plans (1 year)
    site.page("/rsrm/", list_page("人事任免", "/rsrm/", ul_span(items("rsrm", "人事任免", [400]))))
    t.stale_columns.add("人事任免")
    t.longstale_columns.add("人事任免")
    site.page("/ghjh/", list_page("规划计划", "/ghjh/", ul_span(items("ghjh", "规划计划", [300]))))
    t.fresh_columns.add("规划计划")
    # other / excluded
    site.page("/ldjj/", layout("领导简介", "<h2>领导简介</h2><div class='content'><p>县长：张某某，负责县政府全面工作。"
                                        "副县长：李某某，负责农业农村、水利、乡村振兴等方面工作。</p></div>"))
    t.not_judged.add("领导简介")
    site.page("/zcjd/", list_page("政策解读", "/zcjd/", ul_span(items("zcjd", "政策解读", [500]))))
    t.not_judged.add("政策解读")
    # blank columns
    site.page("/xczx/", list_page("乡村振兴", "/xczx/", "<div class='empty'>暂无信息</div>"))
    site.page("/yshj/", list_page("营商环境", "/yshj/", "<p>栏目建设中，敬请期待</p>"))
    site.page("/zdxm/", list_page("重点项目", "/zdxm/", "<ul class='list'></ul>"))
    # /ztzl/ is never routed: the navigation entry leads to a 404
    t.blank_columns |= {"乡村振兴", "营商环境", "重点项目", "专题专栏", "扶贫开发"}
    # 政府信息公开: a channel page whose left menu holds sub-columns
    sub_nav = [("统计信息", "/xxgk/tjxx/"), ("招考录用", "/xxgk/zkly/")]
    site.page("/xxgk/", layout("政府信息公开", "<div class='left-menu'><ul>" + "".join(
        f"<li><a href='{h}'>{n}</a></li>" for n, h in sub_nav) + "</ul></div><div class='xxgk-intro'>"
        "<h2>政府信息公开</h2><p>本栏目按照《中华人民共和国政府信息公开条例》要求主动公开政府信息。</p></div>"))
    site.page("/xxgk/tjxx/", list_page("统计信息", "/xxgk/tjxx/", ul_span(items("xxgk/tjxx", "统计信息", [100]))))
    t.not_judged.add("统计信息")
    site.page("/xxgk/zkly/", list_page("招考录用", "/xxgk/zkly/", ul_span(items("xxgk/zkly", "招考录用", [380]))))
    t.stale_columns.add("招考录用")
    t.longstale_columns.add("招考录用")
    site.page("/lxwm/", layout("联系我们", "<h2>联系我们</h2><p>办公室电话：0791-12345678</p>"
                                        "<p>值班手机：13907910001</p><p>地址：示范县人民路1号</p>"))
    site.page("/en/", layout("English", "<p>Welcome to the county government website.</p>"))
    # homepage: fresh news block, a stale notice block, a block under construction
    home = (
        "<div class='box'><div class='hd'><h3>工作动态</h3><a class='more' href='/gzdt/'>更多&gt;&gt;</a></div>"
        + ul_span(gzdt, date_fmt="%m-%d", brackets=True) + "</div>"
        "<div class='box'><div class='hd'><h3>通知公告</h3><a class='more' href='/tzgg/'>更多&gt;&gt;</a></div>"
        + ul_span(tzgg) + "</div>"
        "<div class='box'><div class='hd'><h3>扶贫开发</h3></div><div class='bd'>正在建设中</div></div>"
    )
    site.page("/", layout("首页", home))
    t.veto_triggers = {"stale", "blank"}
    t.homepage_stale = False
    _privacy_pages(site, t, as_of)
    return site, t


def _privacy_pages(site: Site, t: Truth, as_of: dt.date) -> None:
    full_a = make_id("110105", dt.date(1968, 3, 7), 417)
    full_b = make_id("360102", dt.date(1990, 12, 31), 25)
    masked_src = make_id("360103", dt.date(1975, 6, 1), 123)
    invalid = bad_check(make_id("360104", dt.date(1980, 1, 2), 88))
    future = make_id("360105", as_of + dt.timedelta(days=30), 11)  # born after --as-of: not a real ID
    credit_code = make_id("110108", dt.date(2001, 5, 5), 777)  # 18 digits, valid check: a 统一社会信用代码 trap
    weak = full_b[:16] + "**"  # only the last two hidden: the birth date and more stay visible
    private_1, private_2, private_3 = "13812340001", "15912340002", "18612340003"
    hotline = "13812345678"
    t.full_numbers += [full_a, full_b, masked_src, private_1, private_2, private_3, hotline, FOOTER_PHONE]
    rows = [
        ("1", "张三", full_a, private_1, "450"),
        ("2", "李四", masked_id(masked_src), masked_phone(private_2), "450"),
        ("3", "王五", invalid, private_2, "380"),
        ("4", "赵六", weak, private_3, "380"),
    ]
    table = "<table class='gs'><tr><th>序号</th><th>姓名</th><th>身份证号</th><th>联系电话</th><th>金额（元）</th></tr>" + "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>"
    site.page("/gsgg/dibao.html", article("2024年第二季度城乡低保对象名单公示", d(as_of, 184),
                                          f"<p>现将名单公示如下，公示期7天。</p>{table}<p>监督电话：0791-12345678</p>"))
    t.id_pages["/gsgg/dibao.html"] = 1  # full_a; the masked and the invalid one are not findings
    t.weak_id_pages["/gsgg/dibao.html"] = 1
    t.phone_pages["/gsgg/dibao.html"] = 3  # private_1, private_2, private_3 (the masked one is not counted)
    site.page("/gsgg/jubao.html", article("关于某某建设项目的公示", d(as_of, 190),
        f"<p>建设单位：某某公司，统一社会信用代码：{credit_code}。</p>"
        f"<p>如有异议，请拨打举报电话：{hotline}，或来信反映。</p>"
        f"<p>订单号{invalid}已作废。</p>"
        f"<p>备案：{future}</p>"))
    t.no_phone_pages.add("/gsgg/jubao.html")
    t.full_numbers += [credit_code, future, invalid]
    # attachments
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "身份证号码", "手机号码", "补贴面积（亩）"])
    people = [("陈一", make_id("360121", dt.date(1955, 2, 3), 31), "13712340011"),
              ("周二", make_id("360121", dt.date(1962, 8, 9), 42), "13712340012"),
              ("吴三", make_id("360121", dt.date(1971, 11, 30), 53), "13712340013")]
    for i, (name, number, phone) in enumerate(people, 1):
        ws.append([i, name, number, phone, 3.5])
    buf = io.BytesIO()
    wb.save(buf)
    site.raw("/files/butie_mingdan.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    t.id_pages["/files/butie_mingdan.xlsx"] = 3
    t.phone_pages["/files/butie_mingdan.xlsx"] = 3
    t.full_numbers += [n for _, n, _ in people] + [p for _, _, p in people]
    pdf_id = make_id("360122", dt.date(1983, 4, 15), 64)
    site.raw("/files/gongshi.pdf", make_pdf(["耕地地力保护补贴公示", f"户主 孙七 身份证号 {pdf_id} 面积 2.1亩",
                                             f"户主 钱八 身份证号 {masked_id(pdf_id)} 面积 1.8亩"], []), "application/pdf")
    t.id_pages["/files/gongshi.pdf"] = 1
    t.full_numbers.append(pdf_id)
    docx_id = make_id("360123", dt.date(1949, 10, 1), 5)
    site.raw("/files/shenqing.docx", make_docx("补贴申请人名单", [f"申请人：郑九，公民身份号码：{docx_id}。",
                                                                 "联系电话：0791-12345678（县农业农村局）"], []),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    t.id_pages["/files/shenqing.docx"] = 1
    t.full_numbers.append(docx_id)
    legacy = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    site.raw("/files/old_mingdan.doc", legacy, "application/msword")
    site.raw("/files/old_mingdan.xls", legacy, "application/vnd.ms-excel")
    t.unscanned |= {"/files/old_mingdan.doc", "/files/old_mingdan.xls"}
    site.page("/gsgg/butie.html", article("耕地地力保护补贴发放名单公示", d(as_of, 200),
        "<p>附件：</p><ul class='att'><li><a href='/files/butie_mingdan.xlsx'>补贴发放名单.xlsx</a></li>"
        "<li><a href='/files/gongshi.pdf'>公示.pdf</a></li><li><a href='/files/shenqing.docx'>申请人名单.docx</a></li>"
        "<li><a href='/files/old_mingdan.doc'>名单（旧版）.doc</a></li><li><a href='/files/old_mingdan.xls'>名单（旧版）.xls</a></li></ul>"
        "<p>咨询电话：0791-12345678</p>"))
    t.no_phone_pages |= {"/lxwm/", "/", "/gzdt/"}


# --- homepage scenarios ---------------------------------------------------------------------------

def build_homepage_site(as_of: dt.date, scenario: str) -> tuple[Site, bool]:
    """A small site for one homepage scenario; returns (site, homepage_stale expected).

    ``fresh14``: newest homepage item exactly 14 days old (not stale); ``stale15``: 15 days;
    ``undated``: only undated items; ``navonly_stale``: a navigation-only homepage whose
    second-level pages are all older than 14 days (or undated); ``navonly_fresh``: the same with
    one second-level page updated 5 days ago; ``future``: the only recent item is dated after
    ``--as-of`` (it did not exist on the monitoring day).
    """

    site = Site(f"home-{scenario}")
    nav = [("首页", "/"), ("政务公开", "/zwgk/"), ("办事服务", "/bsfw/"), ("互动交流", "/hdjl/")]

    def block(name: str, ages: list[int | None], prefix: str, fmt: str = "%Y-%m-%d") -> str:
        rows = []
        for i, age in enumerate(ages, 1):
            href = f"/{prefix}/{i}.html"
            day = d(as_of, age) if age is not None else None
            if age is not None and age < 0:
                day = as_of + dt.timedelta(days=-age)
            site.page(href, article(f"{name}第{i}条新闻的标题内容", day or d(as_of, 99), "正文。"), )
            rows.append((f"{name}第{i}条新闻的标题内容", href, day))
        return (f"<div class='box'><div class='hd'><h3>{name}</h3><a class='more' href='/{prefix}/'>更多</a></div>"
                + ul_span(rows, date_fmt=fmt) + "</div>")

    for path, name in (("/zwgk/", "政务公开"), ("/bsfw/", "办事服务"), ("/hdjl/", "互动交流")):
        site.page(path, layout(name, "<p>栏目页</p>", nav=nav))
    if scenario in ("fresh14", "stale15", "undated", "future"):
        ages: list[int | None] = {"fresh14": [14, 20], "stale15": [15, 40], "undated": [None, None, None],
                                  "future": [-3, 20]}[scenario]
        notice_ages: list[int | None] = [None] if scenario == "undated" else [60]
        home = block("要闻动态", ages, "ywdt") + block("通知公告", notice_ages, "tzgg", fmt="%Y年%m月%d日")
        site.page("/", layout("首页", home, nav=nav))
        return site, scenario != "fresh14"
    # navigation-only: big entry buttons, no lists
    entries = "".join(f"<a class='entry' href='{h}'><img src='/img/{i}.png' alt='{n}'>{n}</a>" for i, (n, h) in enumerate(nav[1:]))
    site.page("/", layout("首页", f"<div class='portal'>{entries}</div>", nav=nav))
    fresh_age = 5 if scenario == "navonly_fresh" else 30
    site.page("/zwgk/", layout("政务公开", block("政务动态", [fresh_age, 60], "zwgk/dt"), nav=nav))
    site.page("/bsfw/", layout("办事服务", block("办事指南", [None, None], "bsfw/zn"), nav=nav))
    site.page("/hdjl/", layout("互动交流", block("留言选登", [45], "hdjl/ly"), nav=nav))
    return site, scenario == "navonly_stale"


# --- running the real CLI once per session --------------------------------------------------------

_RUNS: dict[tuple[str, str], dict] = {}


def audit_content_site(as_of: dt.date, workdir: str) -> dict:
    """Serve the content site and audit it with the real ``govaudit check`` (freshness + privacy).

    Cached per process: the freshness and privacy test modules read the same run. Returns
    ``{"report": dict, "html": str, "returncode": int, "truth": Truth, "db": path, "out": path,
    "base": url, "stdout": str, "stderr": str}``.
    """

    import json
    import os

    from tests.support.servers import run_cli, serve

    key = (as_of.isoformat(), "content")
    if key in _RUNS:
        return _RUNS[key]
    site, truth = build_content_site(as_of)
    out = os.path.join(workdir, "content-report")
    db = os.path.join(workdir, "content.sqlite")
    with serve(site) as srv:
        base = srv.base_url.rstrip("/")
        r = run_cli("check", base + "/", "--out", out, "--db", db, "--as-of", as_of.isoformat(), "--profile", "county",
                    "--checks", "freshness", "--checks", "privacy", "--a11y", "off", "--max-pages", "400")
    with open(os.path.join(out, "report.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    with open(os.path.join(out, "report.html"), encoding="utf-8") as fh:
        html = fh.read()
    _RUNS[key] = {"report": report, "html": html, "returncode": r.returncode, "truth": truth, "db": db, "out": out,
                  "base": base, "stdout": r.stdout, "stderr": r.stderr}
    return _RUNS[key]
