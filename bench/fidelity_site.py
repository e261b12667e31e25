"""A labelled county portal for ``bench/fidelity.py``: pages built by code, expected findings as data.

Written apart from the test fixtures (``tests/sites``) and the demo (``auditor/demo/site.py``) on
purpose: the fidelity bench must not measure govaudit against the sites its own tests were tuned
on. Only the HTTP server (:mod:`auditor.demo.servers`) is shared — infrastructure, not fixtures.

The portal is a fictional county, 青岚县 (``www.qinglan.gov.cn``), laid out like a TRS-CMS site:
columns at ``/<channel>/<column>/index.html``, articles at ``…/YYYYMM/tYYYYMMDD_NNNNNNN.html``,
a 政府信息公开 section with a left menu of 法定主动公开内容 columns, 规范性文件 with the
索引号/发文字号/有效性 box, a 清理结果 notice, 县长信箱 letters (GBK), 公示 tables, a
Hanweb ``jpage`` column whose list sits in ``<script type="text/xml">`` and a TRS ``trsapi``
column filled by an API call.

Every expected finding and every trap is a :class:`Label` in :func:`build` — read them there.
A label names the rule, the target (a URL path, a column folder, or a key such as ``veto``,
``homepage``, a column id) and why. ``expect=True`` labels are findings a correct audit must
report (once); ``expect=False`` labels are traps: a finding of that rule on that target is wrong.

Two variants differ in the 图片新闻 column: ``A`` has 4 stale 动态/通知公告 columns
(threshold − 1: no 栏目不更新 veto), ``B`` has 5 (threshold: veto); ``B`` also holds a 县长信箱 letter
pending for over 3 months (互动回应差 veto), where ``A``'s letters all sit just on the safe side.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from auditor.demo.servers import Hosts, Request, Site

HOST = "www.qinglan.gov.cn"
SITE_NAME = "青岚县人民政府"
SITE_CODE = "3501280001"
AS_OF = dt.date(2026, 11, 20)
# Other governments' sites linked from the header, and the marks in the footer: served by a
# catch-all host so link checks succeed (they are not what is measured).
OTHER_HOSTS = ["www.gov.cn", "www.fujian.gov.cn", "www.fuzhou.gov.cn", "bszs.conac.cn", "zfwzzc.www.gov.cn"]
FAMILIES = ["links", "columns", "freshness", "documents", "interpretation", "decisions", "privacy", "identity", "service",
            "interaction"]


@dataclass
class Label:
    """One expected finding (``expect=True``) or one trap (``expect=False``)."""

    rule: str  # rule id; for a trap also "freshness.*" (any rule of that family)
    target: str  # URL path, column folder ("/zwgk/tzgg/"), or key ("veto", "homepage", column id)
    expect: bool
    why: str

    @property
    def family(self) -> str:
        return self.rule.split(".", 1)[0]


@dataclass
class Portal:
    variant: str
    site: Site
    labels: list[Label] = field(default_factory=list)
    vetoes: list[str] = field(default_factory=list)  # rule ids that must veto in this variant

    def labels_json(self) -> str:
        return json.dumps({"variant": self.variant, "as_of": AS_OF.isoformat(), "vetoes": self.vetoes,
                           "labels": [asdict(x) for x in self.labels]}, ensure_ascii=False, indent=1)


def d(days: int) -> dt.date:
    """A date ``days`` before the as-of date."""

    return AS_OF - dt.timedelta(days=days)


# --- templates -----------------------------------------------------------------------------------

HEADER_GOVS = [("国务院", "www.gov.cn"), ("福建省人民政府", "www.fujian.gov.cn"), ("福州市人民政府", "www.fuzhou.gov.cn")]
NAV = [
    ("首页", "/"),
    ("政务公开", "/zwgk/"),
    ("政府信息公开", "/zwgk/zfxxgk/"),
    ("新闻中心", "/xwzx/"),
    ("通知公告", "/zwgk/tzgg/index.html"),
    ("办事服务", "/bsfw/"),
    ("互动交流", "/hdjl/"),
    ("县长信箱", "/hdjl/xzxx/writeLetter.do"),
    ("热门搜索", "/search/hotwords.do"),
    ("2020年政府工作报告", "/zwgk/zfgzbg/202012/t20201215_2702345.html"),
]


class Builder:
    """Pages in one shared template, so only what a page is about differs."""

    def __init__(self, port_hint: str = "{PORT}") -> None:  # noqa: D107
        self.site = Site(HOST)
        self.port = port_hint
        self.seq = 2702400
        self.interps: list[tuple[str, str, dt.date]] = []

    def ext(self, host: str) -> str:
        return f"http://{host}:{self.port}/"

    def header(self) -> str:
        govs = "".join(f"<a href='{self.ext(h)}' target='_blank'>{n}</a>" for n, h in HEADER_GOVS)
        nav = "".join(f"<li><a href='{u}'>{n}</a></li>" for n, u in NAV)
        return (
            "<div class='header'><div class='top-links'>" + govs + "</div>"
            "<div class='login-bar'><a href='/uc/login.do'>登录</a>"
            "<span class='login-ok' style='display:none'>您好，<a href='/uc/indexs/index.do'>个人中心</a>"
            "<a href='/uc/logout.do'>注销</a></span></div>"
            f"<div class='logo'><a href='/'><img src='/images/logo.png' alt='{SITE_NAME}'></a></div>"
            f"<div class='nav'><ul>{nav}</ul></div></div>"
        )

    def footer(self, icp: bool = True) -> str:
        icp_txt = "闽ICP备05012345号" if icp else ""
        return (
            "<div class='footer'><p>主办单位：青岚县人民政府办公室　承办：青岚县大数据中心</p>"
            "<p>地址：青岚县城关镇府前路1号　联系电话：0591-28321234　邮编：350128</p>"
            f"<p>网站标识码：{SITE_CODE}　{icp_txt}　<img src='/images/ga.png'>闽公网安备 35012802000123号</p>"
            f"<p><a href='{self.ext('bszs.conac.cn')}sitename?method=show&id=1A2B3C' target='_blank'>"
            "<img src='/images/dzjg.png' alt='党政机关'></a>"
            f"<a href='{self.ext('zfwzzc.www.gov.cn')}check_web/errorInfo_querySiteId.action?siteid={SITE_CODE}'>"
            "<img src='/images/jiucuo.png' alt='我为政府网站找错'></a></p></div>"
        )

    def page(self, title: str, body: str, *, column: str | None = None, article: dict[str, str] | None = None,
             icp: bool = True, encoding: str = "utf-8", pubdate_meta: bool = True) -> str:
        charset = "gbk" if encoding == "gbk" else "utf-8"
        meta = [f"<meta name='SiteName' content='{SITE_NAME}'>", f"<meta name='SiteDomain' content='{HOST}'>",
                f"<meta name='SiteIDCode' content='{SITE_CODE}'>"]
        if column:
            meta.append(f"<meta name='ColumnName' content='{column}'>")
            if article is None:
                meta += [f"<meta name='ColumnDescription' content='{SITE_NAME}{column}'>",
                         f"<meta name='ColumnKeywords' content='{column}'>", f"<meta name='ColumnType' content='{column}'>"]
        if article is not None:
            meta.append(f"<meta name='ArticleTitle' content='{title}'>")
            if pubdate_meta:
                meta.append(f"<meta name='PubDate' content='{article.get('date', '')}'>")
            meta.append(f"<meta name='ContentSource' content='{article.get('source', '青岚县人民政府办公室')}'>")
        head = f"<meta charset='{charset}'><title>{title}_{SITE_NAME}</title>" + "".join(meta)
        return (f"<!DOCTYPE html><html><head>{head}</head><body>{self.header()}"
                f"<div class='main'>{body}</div>{self.footer(icp)}</body></html>")

    def add(self, path: str, html: str, encoding: str = "utf-8") -> str:
        self.site.page(path, html, encoding=encoding)
        return path

    def art_path(self, folder: str, day: dt.date) -> str:
        self.seq += 7
        return f"{folder}{day:%Y%m}/t{day:%Y%m%d}_{self.seq}.html"

    # --- generic pages -----------------------------------------------------------------------
    def article(self, folder: str, column: str, title: str, day: dt.date, body: str = "", *, path: str | None = None,
                icp: bool = True, encoding: str = "utf-8", pubdate_meta: bool = True, crumbs: str = "") -> str:
        path = path or self.art_path(folder, day)
        text = body or ("<p>" + f"{title}。为进一步做好相关工作，现将有关情况公布如下。" * 3 + "</p>")
        html = self.page(title, f"<div class='crumb'>当前位置：<a href='/'>首页</a> &gt; {crumbs}<a href='{folder}'>{column}</a></div>"
                         f"<div class='article'><h1>{title}</h1><div class='info'>发布时间：{day:%Y-%m-%d}　来源：青岚县人民政府办公室</div>"
                         f"<div class='content'>{text}</div></div>",
                         column=column, article={"date": f"{day:%Y-%m-%d} 09:30"}, icp=icp, encoding=encoding,
                         pubdate_meta=pubdate_meta)
        return self.add(path, html, encoding)

    def column(self, folder: str, name: str, items: list[tuple[str, str, dt.date]], *, encoding: str = "utf-8",
               placeholder: str | None = None, menu: str = "") -> str:
        """A list page: items are (title, href, date)."""

        if placeholder:
            lis = f"<div class='nodata'>{placeholder}</div>"
        else:
            lis = "<ul class='list'>" + "".join(
                f"<li><a href='{h}' title='{t}'>{t}</a><span class='date'>{day:%Y-%m-%d}</span></li>" for t, h, day in items
            ) + "</ul><div class='page'>共1页</div>"
        html = self.page(name, f"{menu}<div class='crumb'>当前位置：<a href='/'>首页</a> &gt; {name}</div>"
                               f"<div class='list-box'><h2 class='col-title'>{name}</h2>{lis}</div>",
                         column=name, encoding=encoding)
        return self.add(folder + "index.html", html, encoding) and self.add(folder, html, encoding)

    def filled_column(self, folder: str, name: str, ages: list[int], *, encoding: str = "utf-8", menu: str = "",
                      prefix: str | None = None) -> list[tuple[str, str, dt.date]]:
        items = []
        for k, age in enumerate(ages):
            day = d(age)
            title = f"{prefix or name}第{k + 1}期工作信息（{day.month}月）"
            items.append((title, self.article(folder, name, title, day, encoding=encoding), day))
        self.column(folder, name, items, encoding=encoding, menu=menu)
        return items


# --- documents -----------------------------------------------------------------------------------

@dataclass
class Doc:
    key: str
    title: str
    number: str | None
    written: dt.date
    published: dt.date
    validity: str | None  # 有效 / 失效 / 废止 / None (no field)
    body: str = ""
    interp: bool = False
    folder: str = "/zwgk/zfxxgk/fdzdgknr/gfxwj/"
    column: str = "行政规范性文件"
    path: str = ""


def doc_page(b: Builder, doc: Doc, interp_path: str | None, seq: int) -> str:
    box = [
        ("索&ensp;引&ensp;号", f"003512800/{doc.published:%Y}-{10000 + 37 * seq:05d}"),
        ("主题分类", "综合政务"), ("发文机关", "青岚县人民政府" if "政办" not in (doc.number or "") else "青岚县人民政府办公室"),
        ("成文日期", f"{doc.written:%Y-%m-%d}"), ("标&emsp;&emsp;题", doc.title),
        ("发文字号", doc.number or ""), ("发布日期", f"{doc.published:%Y-%m-%d}"),
    ]
    if doc.validity:
        box.append(("有&ensp;效&ensp;性", f"<em class='red_base'>{doc.validity}</em>"))
    cells = "".join(f"<li><label>{k}：</label><span>{v}</span></li>" for k, v in box)
    rel = f"<div class='xgjd'>相关解读：<a href='{interp_path}'>《{doc.title}》政策解读</a></div>" if interp_path else ""
    body = doc.body or (f"<p>各乡镇人民政府，县直各单位：</p><p>现将《{doc.title}》印发给你们，请认真贯彻执行。</p>"
                        "<p>第一条 为规范管理，根据有关法律法规，结合本县实际，制定本办法。</p>"
                        "<p>第二条 本办法适用于本县行政区域内的相关管理活动。</p>")
    html = b.page(doc.title, f"<div class='crumb'>当前位置：<a href='/'>首页</a> &gt; <a href='/zwgk/zfxxgk/'>政府信息公开</a>"
                             f" &gt; <a href='{doc.folder}'>{doc.column}</a></div>"
                             f"<div class='xxgk-box'><ul>{cells}</ul></div>"
                             f"<div class='article'><h1>{doc.title}</h1><div class='wh'>{doc.number or ''}</div>"
                             f"<div class='content'>{body}</div>{rel}</div>",
                  column=doc.column, article={"date": f"{doc.published:%Y-%m-%d} 10:00"})
    return b.add(doc.path, html)


def interp_page(b: Builder, doc: Doc, day: dt.date) -> str:
    title = f"《{doc.title.split('《')[-1].split('》')[0] if '《' in doc.title else doc.title}》政策解读"
    path = b.art_path("/jdhy/zcjd/", day)
    body = (f"<p>一、出台背景。为贯彻落实上级部署，县政府印发了《{doc.title}》（{doc.number or ''}）。</p>"
            "<p>二、主要内容。明确了适用范围、职责分工和保障措施。</p>"
            f"<p>政策原文：<a href='{doc.path}'>{doc.title}</a></p>")
    b.article("/jdhy/zcjd/", "政策解读", title, day, body, path=path)
    b.interps.append((title, path, day))
    return path


# --- the portal ----------------------------------------------------------------------------------

def build(variant: str = "A", port: str = "{PORT}") -> Portal:
    """The whole portal for one variant, with its labels. ``port`` is written into absolute links."""

    assert variant in ("A", "B")
    b = Builder(port)
    L: list[Label] = []

    def expect(rule: str, target: str, why: str) -> None:
        L.append(Label(rule, target, True, why))

    def trap(rule: str, target: str, why: str) -> None:
        L.append(Label(rule, target, False, why))

    # ---- news columns (新闻中心) --------------------------------------------------------------
    yw = [(f"新闻{k}", b.article("/xwzx/yw/", "要闻", f"新闻{k}", d(5 + k)), d(5 + k)) for k in range(12)]
    b.column("/xwzx/yw/", "要闻", yw)
    trap("freshness.*", "/xwzx/yw/", "要闻 column: 12 items titled 新闻0…新闻11, newest 5 days old")
    bmdt = b.filled_column("/xwzx/bmdt/", "部门动态", [2, 4, 9, 15])
    xzdt = b.filled_column("/xwzx/xzdt/", "乡镇动态", [30, 41, 60], encoding="gbk")  # stale (dynamic, 14 days)
    expect("freshness.column_stale", "/xwzx/xzdt/", "乡镇动态: newest item 30 days old, dynamic window 14 days (GBK pages)")
    tpxw_age = 6 if variant == "A" else 16
    tpxw = b.filled_column("/xwzx/tpxw/", "图片新闻", [tpxw_age, tpxw_age + 9])
    if variant == "B":
        expect("freshness.column_stale", "/xwzx/tpxw/", "图片新闻: newest 16 days old (variant B: the 5th stale column)")
    else:
        trap("freshness.column_stale", "/xwzx/tpxw/", "图片新闻: newest 6 days old (variant A)")
    b.filled_column("/zwgk/zfgzbg/", "政府工作报告", [260], prefix="2026年青岚县政府工作报告")
    xwzx = b.page("新闻中心", "".join(
        f"<div class='block'><div class='block-hd'><h3>{n}</h3><a class='more' href='{f}'>更多</a></div><ul>"
        + "".join(f"<li><a href='{h}'>{t}</a><span>{day:%Y-%m-%d}</span></li>" for t, h, day in items[:3]) + "</ul></div>"
        for n, f, items in (("要闻", "/xwzx/yw/", yw), ("部门动态", "/xwzx/bmdt/", bmdt), ("乡镇动态", "/xwzx/xzdt/", xzdt),
                            ("图片新闻", "/xwzx/tpxw/", tpxw))),
        column="新闻中心")
    b.add("/xwzx/", xwzx)
    b.add("/xwzx/index.html", xwzx)

    # ---- 通知公告: a homepage block and the column page it shows (must count once) -----------------
    tzgg = b.filled_column("/zwgk/tzgg/", "通知公告", [200, 230, 260], prefix="关于做好有关工作的通知")
    expect("freshness.column_stale", "/zwgk/tzgg/", "通知公告: newest 200 days old (notice window 183); shown as a homepage "
           "block (更多 → /zwgk/tzgg/) and in the nav (/zwgk/tzgg/index.html): one column, one finding")
    # privacy traps inside 通知公告: office landlines, hotlines, a labelled unit mobile
    contact = b.article("/zwgk/tzgg/", "通知公告", "关于开展2026年度城乡居民医保集中参保缴费工作的通知", d(200),
                        "<p>请各村（社区）做好宣传动员。</p><p>咨询电话：0591-28325678（县医保局待遇保障股），"
                        "服务热线：12345，县就业服务中心值班手机：13805910001。</p>"
                        "<p>联系人：县医保局办公室 陈科长，联系电话：0591-28326789。</p>")
    trap("privacy.phone_number", contact, "office landlines, 12345 hotline and a unit's labelled duty mobile are official contacts")

    # ---- 政府信息公开: left menu of 法定主动公开内容 columns --------------------------------------
    fd = "/zwgk/zfxxgk/fdzdgknr/"
    columns: list[tuple[str, str]] = [
        ("政府信息公开指南", "/zwgk/zfxxgk/zfxxgkzn/"), ("政府信息公开制度", "/zwgk/zfxxgk/zfxxgkzd/"),
        ("法定主动公开内容", fd), ("政府信息公开年报", "/zwgk/zfxxgk/zfxxgknb/"),
        ("行政规范性文件", fd + "gfxwj/"), ("部门文件", fd + "bmwj/"), ("机构职能", fd + "jgzn/"), ("规划信息", fd + "ghxx/"),
        ("统计信息", fd + "tjxx/"), ("行政许可", fd + "xzxk/"), ("行政处罚和行政强制", fd + "xzcf/"),
        ("财政预决算", fd + "czyjs/"), ("政府采购", fd + "zfcg/"), ("重大建设项目", fd + "zdxm/"),
        ("乡村振兴", fd + "xczx/"), ("教育", fd + "jy/"), ("医疗卫生", fd + "ylws/"), ("应急管理", fd + "yjgl/"),
        ("生态环境", fd + "sthj/"), ("人事信息", fd + "rsxx/"), ("市政建设", fd + "szjs/"), ("公共服务", fd + "ggfw/"),
        ("公益事业", fd + "gysy/"), ("土地征收", fd + "tdzs/"), ("治安管理", fd + "zagl/"), ("社会救助", fd + "shjz/"),
        ("政府文件", fd + "zfwj/"), ("重大行政决策", fd + "zdxzjc/"), ("意见征集", fd + "yjzj/"),
        ("工作动态", "/zwgk/zfxxgk/gzdt/"),
    ]
    # not present on purpose: 收费信息 (a20_8_fees) and 房屋征收 (a21_city_5)
    expect("columns.missing", "a20_8_fees", "no 收费信息/行政事业性收费 column anywhere")
    expect("columns.missing", "a21_city_5", "no 房屋征收/征收补偿 column anywhere")
    menu = "<div class='left-menu'><ul>" + "".join(f"<li><a href='{u}'>{n}</a></li>" for n, u in columns) + "</ul></div>"
    zwgk = b.page("政务公开", "<div class='block'><h3>政务公开</h3><ul>"
                  "<li><a href='/zwgk/zfxxgk/'>政府信息公开</a></li><li><a href='/zwgk/tzgg/'>通知公告</a></li></ul></div>",
                  column="政务公开")
    b.add("/zwgk/", zwgk)
    b.add("/zwgk/index.html", zwgk)

    plain = {"政府信息公开指南": [40], "政府信息公开制度": [90], "机构职能": [20], "规划信息": [60], "统计信息": [12],
             "行政许可": [5, 8], "行政处罚和行政强制": [3, 9], "重大建设项目": [11], "乡村振兴": [7], "教育": [4],
             "医疗卫生": [6], "应急管理": [2], "生态环境": [8], "市政建设": [10], "公共服务": [9],
             "土地征收": [33], "治安管理": [13]}
    for name, url in columns:
        if name in plain:
            b.filled_column(url, name, plain[name], menu=menu)
    b.filled_column(fd + "bmwj/", "部门文件", [250, 300], menu=menu, prefix="县直部门关于做好有关工作的通知")
    expect("freshness.column_stale", fd + "bmwj/", "部门文件: newest 250 days old (notice window 183)")
    b.filled_column("/zwgk/zfxxgk/gzdt/", "工作动态", [20, 27], menu=menu)
    expect("freshness.column_stale", "/zwgk/zfxxgk/gzdt/", "工作动态: newest 20 days old (dynamic window 14)")
    b.column(fd + "gysy/", "公益事业", [], placeholder="暂无信息", menu=menu)
    expect("freshness.column_empty", fd + "gysy/", "公益事业: only the placeholder 暂无信息")
    newest = "<ul class='list'>" + "".join(f"<li><a href='{h}'>{t}</a><span>{day:%Y-%m-%d}</span></li>" for t, h, day in bmdt[:3]) + "</ul>"
    xxgk = b.page("政府信息公开", menu + "<div class='xxgk-home'><p>青岚县人民政府信息公开平台，按照《中华人民共和国政府信息公开条例》"
                  f"设置政府信息公开指南、制度、法定主动公开内容和年报等栏目。</p><h3>最新公开</h3>{newest}</div>", column="政府信息公开")
    b.add("/zwgk/zfxxgk/", xxgk)
    b.add("/zwgk/zfxxgk/index.html", xxgk)
    fdzd = b.page("法定主动公开内容", menu + "<p>法定主动公开内容目录：依据《中华人民共和国政府信息公开条例》第二十条、第二十一条，"
                  f"本县主动公开下列信息。</p><h3>最新公开</h3>{newest}", column="法定主动公开内容")
    b.add(fd, fdzd)
    b.add(fd + "index.html", fdzd)

    # Hanweb jpage column: the list is in <script type="text/xml">, 25 records (not blank, fresh)
    recs = []
    for k in range(25):
        day = d(3 + 6 * k)
        title = f"2026年第{25 - k}批部门预算公开信息"
        path = b.article(fd + "czyjs/", "财政预决算", title, day, path=f"/art/{day:%Y}/{day.month}/{day.day}/art_1234_{56000 + k}.html")
        recs.append(f"<record><![CDATA[<li><a href='{path}' title='{title}' target='_blank'>{title}</a>"
                    f"<span class='bt-data-time'>{day:%Y-%m-%d}</span></li>]]></record>")
    jpage = b.page("财政预决算", menu + "<div class='list-box'><h2>财政预决算</h2><div id='4815162'>"
                   "<script type='text/xml'><datastore><nextgroup><![CDATA[<a href=\"/module/web/jpage/dataproxy.jsp?page=1"
                   "&webid=1&path=/&columnid=1234&unitid=4815162\"></a>]]></nextgroup>"
                   f"<recordset>{''.join(recs)}</recordset></datastore></script>"
                   "<script src='/module/web/jpage/jpage.js'></script>"
                   "<script>var jpage = new Jpage({'unitid':'4815162','perpage':15,'totalRecord':25});</script></div></div>",
                   column="财政预决算")
    b.add(fd + "czyjs/", jpage)
    b.add(fd + "czyjs/index.html", jpage)
    trap("freshness.*", fd + "czyjs/", "Hanweb jpage list: 25 records inside <script type='text/xml'>, newest 3 days old")
    # TRS trsapi column: the list is fetched by JavaScript from an API
    api_items = []
    for k in range(40):
        day = d(2 + 5 * k)
        title = f"青岚县政府采购意向公开（第{40 - k}批）"
        path = b.article(fd + "zfcg/", "政府采购", title, day)
        api_items.append({"title": title, "url": path, "pubDate": f"{day:%Y-%m-%d}"})
    b.site.raw("/trsapi/search?channelid=8123&page=1", json.dumps({"total": 40, "data": api_items}, ensure_ascii=False),
               "application/json; charset=utf-8")
    trs = b.page("政府采购", menu + "<div class='list-box'><h2>政府采购</h2><ul id='trs-list' class='list'></ul>"
                 "<div id='trs-page'></div><script>"
                 # the stand-in jquery.min.js is an empty file (none can be shipped), so the list is
                 # filled with fetch(): what matters is that only a browser sees the 40 documents
                 "fetch('/trsapi/search?channelid=8123&page=1').then(function(r){return r.json();}).then(function(r){"
                 "var ul=document.getElementById('trs-list');r.data.forEach(function(e){var li=document.createElement('li');"
                 "li.innerHTML='<a href=\"'+e.url+'\">'+e.title+'</a><span>'+e.pubDate+'</span>';ul.appendChild(li);});});"
                 "</script></div>", column="政府采购")
    b.add(fd + "zfcg/", trs)
    b.add(fd + "zfcg/index.html", trs)
    trap("freshness.column_empty", fd + "zfcg/", "TRS trsapi list filled by JavaScript from an API holding 40 documents")

    # ---- 规范性文件 ----------------------------------------------------------------------------
    docs = [
        Doc("D1", "青岚县人民政府关于印发《青岚县城区停车管理办法》的通知", "岚政规〔2024〕3号", dt.date(2024, 6, 10),
            dt.date(2024, 6, 14), "有效", interp=True,
            body="<p>第一条 为加强城区停车管理，制定本办法。</p><p>第二十条 本办法自2024年7月1日起施行，有效期2年。</p>"),
        Doc("D2", "青岚县人民政府办公室关于印发《青岚县农村集体资产管理办法》的通知", "岚政办规〔2023〕2号",
            dt.date(2023, 4, 3), dt.date(2023, 4, 7), "有效", interp=True),
        Doc("D3", "青岚县人民政府办公室关于印发《青岚县城乡环境整治三年行动实施方案》的通知", "岚政办发〔2025〕12号",
            dt.date(2025, 3, 3), dt.date(2025, 3, 6), "有效", interp=True),
        Doc("D4", "青岚县人民政府关于印发《青岚县户外广告设置管理规定》的通知", "岚政规〔2022〕5号", dt.date(2022, 8, 1),
            dt.date(2022, 8, 4), "有效", interp=True),
        Doc("D5", "青岚县人民政府关于印发《青岚县促进民营经济发展若干措施》的通知", "岚政规〔2023〕4号", dt.date(2023, 9, 1),
            dt.date(2023, 9, 5), "有效", interp=True),
        Doc("D6", "青岚县综合管理委员会关于加强城区渣土运输管理的通知", "岚综管综〔2015〕207号", dt.date(2015, 11, 2),
            dt.date(2015, 11, 6), "有效", interp=True),
        Doc("D7", "青岚县人民政府关于印发《青岚县物业服务收费管理办法》的通知", "岚政规〔2021〕1号", dt.date(2021, 3, 1),
            dt.date(2021, 3, 4), "有效", interp=True),
        Doc("D8", "青岚县人民政府关于印发《青岚县农村宅基地管理办法》的通知", "岚政规〔2026〕1号", dt.date(2026, 5, 6),
            dt.date(2026, 5, 9), None, interp=False),
        Doc("D9", "青岚县人民政府办公室关于印发《青岚县优化营商环境三年行动实施方案》的通知", "岚政办发〔2026〕21号",
            dt.date(2026, 6, 2), dt.date(2026, 6, 5), "有效", interp=False),
        Doc("D10", "青岚县人民政府关于印发《青岚县政府投资项目管理办法》的通知", "岚政发〔2026〕9号", dt.date(2026, 4, 1),
            dt.date(2026, 4, 3), "有效", interp=False),
        Doc("D11", "青岚县人民政府关于印发《青岚县城市供水管理规定》的通知", "岚政规〔2026〕2号", dt.date(2026, 7, 1),
            dt.date(2026, 7, 3), "有效", interp=True),
        Doc("D12", "青岚县人民政府关于印发《青岚县公共资源交易管理办法》的通知", "岚政规〔2026〕3号", dt.date(2026, 7, 1),
            dt.date(2026, 8, 20), "有效", interp=True),
        Doc("D13", "青岚县人民政府关于印发《青岚县殡葬管理办法》的通知", "岚政规〔2019〕2号", dt.date(2019, 5, 5),
            dt.date(2019, 5, 8), "废止", interp=True),
        # interpretation-scope traps: government 文号, not policy to be interpreted
        Doc("T1", "青岚县人民政府关于李明等同志职务任免的通知", "岚政发〔2026〕15号", dt.date(2026, 9, 1), dt.date(2026, 9, 2),
            "有效", body="<p>经县人民政府研究决定：</p><p>任命李明同志为县发展和改革局副局长；免去王强同志县交通运输局副局长职务。</p>",
            folder=fd + "rsxx/", column="人事信息"),
        Doc("T2", "青岚县人民政府关于表彰2025年度安全生产工作先进单位和先进个人的通报", "岚政发〔2026〕11号",
            dt.date(2026, 3, 1), dt.date(2026, 3, 3), "有效",
            body="<p>2025年，全县各级各部门认真落实安全生产责任制。为表彰先进，县政府决定对城关镇等10个先进单位、张华等20名先进个人予以通报表彰。</p>"),
        Doc("T3", "青岚县人民政府办公室关于召开全县安全生产工作会议的通知", "岚政办发〔2026〕30号", dt.date(2026, 10, 8),
            dt.date(2026, 10, 9), "有效",
            body="<p>经县政府同意，定于2026年10月15日上午9时在县政府三楼会议室召开全县安全生产工作会议。</p><p>参会人员：各乡镇分管领导。</p>"),
        Doc("T4", "青岚县人民政府关于同意设立青岚县城东社区居民委员会的批复", "岚政办〔2026〕33号", dt.date(2026, 8, 5),
            dt.date(2026, 8, 7), "有效", body="<p>城关镇人民政府：</p><p>你镇《关于设立城东社区居民委员会的请示》收悉。经研究，同意设立。此复。</p>"),
    ]
    zfwj = fd + "zfwj/"
    for doc in docs:
        if doc.key in ("D3", "D9", "D10", "T2", "T3", "T4"):
            doc.folder, doc.column = zfwj, "政府文件"
    for k, doc in enumerate(docs):
        doc.path = f"{doc.folder}{doc.published:%Y%m}/t{doc.published:%Y%m%d}_{2702345 + 100 + k}.html"

    # The 清理结果 notice and the single-document repeal decision
    def line(doc: Doc, number: str | None = None) -> str:
        return f"<p>{doc.title}（{number or doc.number}）</p>"

    by = {x.key: x for x in docs}
    cleanup = Doc("R1", "青岚县人民政府关于公布规范性文件清理结果的通知", "岚政发〔2026〕20号", dt.date(2026, 9, 10),
                  dt.date(2026, 9, 15), "有效",
                  body="<p>各乡镇人民政府，县直各单位：</p><p>根据上级部署，县政府对截至2026年6月底的规范性文件进行了全面清理。现将清理结果公布如下：</p>"
                       "<p>一、决定废止的规范性文件（3件）</p>" + line(by["D2"]) + line(by["D6"], "岚综管综〔2015〕207") + line(by["D13"])
                       + "<p>二、决定宣布失效的规范性文件（1件）</p>" + line(by["D3"])
                       + "<p>三、适时修改的规范性文件（1件）</p>" + line(by["D4"])
                       + "<p>四、继续有效的规范性文件（2件）</p>" + line(by["D5"]) + line(by["D11"])
                       + "<p>废止、宣布失效的规范性文件自本通知印发之日起停止执行。</p>")
    repeal = Doc("R2", "青岚县人民政府关于废止《青岚县物业服务收费管理办法》的决定", "岚政发〔2026〕22号", dt.date(2026, 10, 9),
                 dt.date(2026, 10, 12), "有效",
                 body="<p>经县人民政府研究，决定废止《青岚县物业服务收费管理办法》（岚政规〔2021〕1号）。</p><p>本决定自公布之日起施行。</p>")
    for k, doc in enumerate((cleanup, repeal)):
        doc.path = f"{doc.folder}{doc.published:%Y%m}/t{doc.published:%Y%m%d}_{2702345 + 300 + k}.html"
    docs += [cleanup, repeal]

    for k, doc in enumerate(docs):
        ip = interp_page(b, doc, doc.published) if doc.interp else None
        doc_page(b, doc, ip, k)

    def listed(folder: str) -> list[tuple[str, str, dt.date]]:
        return [(x.title, x.path, x.published) for x in sorted(docs, key=lambda x: x.published, reverse=True) if x.folder == folder]

    gfx = listed(fd + "gfxwj/")
    b.column(fd + "gfxwj/", "行政规范性文件", gfx, menu=menu)
    b.column(zfwj, "政府文件", listed(zfwj), menu=menu)
    rs_day = d(25)
    rs_extra = ("青岚县2026年公开招聘中小学教师公告", b.article(fd + "rsxx/", "人事信息", "青岚县2026年公开招聘中小学教师公告", rs_day), rs_day)
    b.column(fd + "rsxx/", "人事信息", listed(fd + "rsxx/") + [rs_extra], menu=menu)
    b.column("/jdhy/zcjd/", "政策解读", sorted(b.interps, key=lambda x: x[2], reverse=True))

    for key in ("D1", "D2", "D3", "D6", "D7"):
        expect("documents.expired", by[key].path, {
            "D1": "有效期2年 from 2024-07-01 ended 2026-06-30, still 有效",
            "D2": "named in the 废止 section of the 清理结果 notice, still 有效",
            "D3": "named in the 失效 section of the 清理结果 notice, still 有效",
            "D6": "named in the 废止 section by 文号 written without 号 (岚综管综〔2015〕207), still 有效",
            "D7": "repealed by the single-document decision 关于废止《…》的决定, still 有效"}[key])
    trap("documents.expired", by["D4"].path, "listed under 适时修改: still in force")
    trap("documents.expired", by["D5"].path, "listed under 继续有效")
    trap("documents.expired", by["D11"].path, "listed under 继续有效")
    trap("documents.expired", by["D13"].path, "listed under 废止 and already marked 废止")
    trap("documents.expired", cleanup.path, "the 清理结果 notice itself")
    expect("documents.validity_unmarked", by["D8"].path, "行政规范性文件 without the 有效性 field or a stated period")
    trap("documents.validity_unmarked", fd + "gfxwj/", "the column index page titled 行政规范性文件 is not a document")
    trap("interpretation.*", fd + "gfxwj/", "the column index page titled 行政规范性文件 is not a document")
    expect("documents.late_publication", by["D12"].path, "成文 2026-07-01, 发布 2026-08-20: more than 20 working days")
    for key in ("D8", "D9", "D10"):
        expect("interpretation.missing", by[key].path, {"D8": "行政规范性文件 without 解读", "D9": "实施方案 (岚政办发) without 解读",
                                                        "D10": "管理办法 (岚政发) without 解读"}[key])
    for key in ("T1", "T2", "T3", "T4"):
        trap("interpretation.missing", by[key].path, {"T1": "任职通知 needs no 解读", "T2": "表彰通报 needs no 解读",
                                                      "T3": "会议通知 needs no 解读", "T4": "批复 needs no 解读"}[key])
    trap("interpretation.*", cleanup.path, "a 清理结果 notice (repeal list) needs no 解读")
    trap("interpretation.*", repeal.path, "a 关于废止《…》的决定 needs no 解读 (nor a link to the repealed document's 解读)")
    trap("interpretation.*", by["D11"].path, "行政规范性文件 with a 解读 linked both ways")

    # ---- decisions: catalogue, consultations, feedback ----------------------------------------
    cat = b.article(fd + "zdxzjc/", "重大行政决策", "青岚县人民政府2026年度重大行政决策事项目录", dt.date(2026, 3, 10),
                    "<table><tr><th>序号</th><th>决策事项</th><th>承办单位</th></tr>"
                    "<tr><td>1</td><td>青岚县国土空间总体规划</td><td>县自然资源局</td></tr>"
                    "<tr><td>2</td><td>青岚县城区供水价格调整</td><td>县发改局</td></tr></table>")
    b.column(fd + "zdxzjc/", "重大行政决策", [("青岚县人民政府2026年度重大行政决策事项目录", cat, dt.date(2026, 3, 10))], menu=menu)
    trap("decisions.catalogue_missing", "catalogue", "the 2026 catalogue was published 2026-03-10")

    def call(title: str, start: dt.date, end: dt.date) -> str:
        return b.article(fd + "yjzj/", "意见征集", title, start,
                         f"<p>为提高立法质量，现将《{title.split('《')[1].split('》')[0]}》全文公布，公开征求社会各界意见。</p>"
                         f"<p>征求意见时间：{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日。</p>"
                         "<p>意见可通过电子邮件发送至 qlxsfj@163.com，或邮寄至县司法局。</p>")

    c1 = call("关于公开征求《青岚县养犬管理规定（征求意见稿）》意见的公告", dt.date(2026, 10, 1), dt.date(2026, 10, 15))
    fb1 = b.article(fd + "yjzj/", "意见征集", "《青岚县养犬管理规定（征求意见稿）》意见采纳情况反馈", dt.date(2026, 10, 22),
                    f"<p>征求意见期间共收到意见12条，采纳8条。</p><p><a href='{c1}'>征求意见公告</a></p>")
    c2 = call("关于公开征求《青岚县农贸市场管理办法（征求意见稿）》意见的公告", dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    c3 = call("关于公开征求《青岚县城市绿化管理办法（征求意见稿）》意见的公告", dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    fb3 = b.article(fd + "yjzj/", "意见征集", "《青岚县城市绿化管理办法（征求意见稿）》意见采纳情况反馈", dt.date(2026, 10, 10),
                    f"<p>共收到意见5条，采纳3条。</p><p><a href='{c3}'>征求意见公告</a></p>")
    b.column(fd + "yjzj/", "意见征集", [("《青岚县养犬管理规定（征求意见稿）》意见采纳情况反馈", fb1, dt.date(2026, 10, 22)),
                                        ("关于公开征求《青岚县养犬管理规定（征求意见稿）》意见的公告", c1, dt.date(2026, 10, 1)),
                                        ("《青岚县城市绿化管理办法（征求意见稿）》意见采纳情况反馈", fb3, dt.date(2026, 10, 10)),
                                        ("关于公开征求《青岚县城市绿化管理办法（征求意见稿）》意见的公告", c3, dt.date(2026, 9, 1)),
                                        ("关于公开征求《青岚县农贸市场管理办法（征求意见稿）》意见的公告", c2, dt.date(2026, 8, 1))],
             menu=menu)
    expect("decisions.consultation_short", c1, "consultation 2026-10-01 to 2026-10-15 (15 days), no reason given")
    expect("decisions.feedback_missing", c2, "consultation closed 2026-08-31, no feedback published")
    trap("decisions.*", c3, "31-day consultation with its feedback published 2026-10-10")
    trap("decisions.feedback_missing", c1, "feedback published 2026-10-22")

    # ---- annual reports -----------------------------------------------------------------------
    nb = []
    for year, pub in ((2025, dt.date(2026, 3, 25)), (2024, dt.date(2025, 3, 20)), (2023, dt.date(2024, 3, 18))):
        title = f"青岚县人民政府{year}年政府信息公开工作年度报告"
        nb.append((title, b.article("/zwgk/zfxxgk/zfxxgknb/", "政府信息公开年报", title, pub,
                                    "<p>一、总体情况</p><p>二、主动公开政府信息情况</p><p>三、收到和处理政府信息公开申请情况</p>"), pub))
    b.column("/zwgk/zfxxgk/zfxxgknb/", "政府信息公开年报", nb, menu=menu)
    wz = b.article("/zwgk/zfxxgk/zfxxgknb/", "政府信息公开年报", "青岚县人民政府门户网站2025年政府网站工作年度报表", dt.date(2026, 1, 20),
                   "<table><tr><td>网站名称</td><td>青岚县人民政府</td></tr><tr><td>网站标识码</td><td>3501280001</td></tr></table>")
    trap("documents.annual_report_missing", "*", "2025 OGI report (2026-03-25) and 2025 website report (2026-01-20) published")

    # ---- privacy ------------------------------------------------------------------------------
    def idnum(first17: str) -> str:
        w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        return first17 + "10X98765432"[sum(int(c) * k for c, k in zip(first17, w, strict=True)) % 11]

    rows = "".join(f"<tr><td>{k + 1}</td><td>{n}</td><td>{idnum(f'35012819{60 + k}0{k + 1}0{k + 1}12{k}')}</td>"
                   f"<td>{v}</td><td>139{k}05{k}1{k}2{k}</td><td>{m}</td></tr>"
                   for k, (n, v, m) in enumerate((("林某华", "城关村", 650), ("陈某明", "东山村", 420), ("黄某英", "西林村", 530),
                                                  ("郑某福", "南坑村", 380))))
    db = b.article(fd + "shjz/", "社会救助", "青岚县2026年10月城乡最低生活保障新增对象公示", d(35),
                   "<p>经个人申请、入户调查、民主评议，现将拟新增低保对象公示如下：</p><table border='1'>"
                   "<tr><th>序号</th><th>户主姓名</th><th>身份证号码</th><th>村（社区）</th><th>联系电话</th><th>月保障金额</th></tr>"
                   f"{rows}</table><p>公示期7天。监督电话：0591-28327777。</p>")
    b.column(fd + "shjz/", "社会救助", [("青岚县2026年10月城乡最低生活保障新增对象公示", db, d(35))], menu=menu)
    expect("privacy.id_number", db, "低保公示 table with four full resident ID numbers")
    expect("privacy.phone_number", db, "低保公示 table with the households' mobile numbers")
    letters = []
    for who, phone, topic, age in (("张先生", "13912345678", "小区门口路灯损坏", 15),
                                                   ("王女士", "13698765432", "学校周边交通拥堵", 18)):
        title = f"关于{topic}的问题"
        path = b.article("/hdjl/xzxx/", "县长信箱", title, d(age),
                         f"<table class='letter'><tr><td>信件标题：</td><td>{title}</td></tr>"
                         f"<tr><td>来信人：</td><td>{who}</td></tr><tr><td>联系电话：</td><td>{phone}</td></tr>"
                         f"<tr><td>来信时间：</td><td>{d(age + 3):%Y-%m-%d}</td></tr>"
                         f"<tr><td>来信内容：</td><td>{topic}，希望有关部门尽快处理。</td></tr>"
                         "<tr><td>答复单位：</td><td>县住房和城乡建设局</td></tr>"
                         "<tr><td>答复内容：</td><td>您好！来信收悉，我局已安排人员处理。如有疑问请致电0591-28324567。</td></tr></table>",
                         encoding="gbk")
        letters.append((title, path, d(age)))
        expect("privacy.phone_number", path, f"县长信箱 letter showing the correspondent's mobile ({who})")
    # 互动回应差 traps: answered late but within 3 months, pending but younger than 3 months, older
    # than the 1-year window, and a 网上信访 letter (that column is excluded); one positive: unanswered
    # for 4 months — but that is a single veto, so it lives only in variant B (see below)
    for topic, age, took in (("农贸市场营业时间", 120, 80), ("老旧小区加装电梯", 70, None), ("村道维修", 420, None)):
        title = f"关于{topic}的咨询"
        reply = (f"<tr><td>答复时间：</td><td>{d(age - took):%Y-%m-%d}</td></tr><tr><td>答复内容：</td><td>已转相关部门办理。</td></tr>"
                 if took is not None else "<tr><td>办理状态：</td><td>办理中</td></tr>")
        path = b.article("/hdjl/xzxx/", "县长信箱", title, d(age),
                         f"<table class='letter'><tr><td>信件标题：</td><td>{title}</td></tr><tr><td>来信人：</td><td>群众</td></tr>"
                         f"<tr><td>来信时间：</td><td>{d(age):%Y-%m-%d}</td></tr><tr><td>来信内容：</td><td>{topic}。</td></tr>"
                         f"{reply}</table>")
        letters.append((title, path, d(age)))
        trap("interaction.unanswered", path, f"letter {age} days old, {'answered after ' + str(took) + ' days' if took else 'pending'}: "
             "not over 3 months inside the 1-year window")
    if variant == "B":  # the 4-month-old pending letter: 互动回应差 (a veto, like B's 5th stale column)
        title = "关于城区供暖不足的咨询"
        path = b.article("/hdjl/xzxx/", "县长信箱", title, d(125),
                         f"<table class='letter'><tr><td>信件标题：</td><td>{title}</td></tr><tr><td>来信人：</td><td>群众</td></tr>"
                         f"<tr><td>来信时间：</td><td>{d(125):%Y-%m-%d}</td></tr><tr><td>来信内容：</td><td>供暖不足。</td></tr>"
                         "<tr><td>办理状态：</td><td>办理中</td></tr></table>")
        letters.append((title, path, d(125)))
        expect("interaction.unanswered", path, "letter 125 days old, still pending: over 3 months (variant B)")
    xf = b.article("/hdjl/wsxf/", "网上信访", "关于征地补偿的信访事项", d(200),
                   "<table class='letter'><tr><td>来信时间：</td><td>" + f"{d(200):%Y-%m-%d}" + "</td></tr>"
                   "<tr><td>来信内容：</td><td>征地补偿。</td></tr><tr><td>办理状态：</td><td>办理中</td></tr></table>")
    trap("interaction.unanswered", xf, "网上信访 letters are excluded from 互动回应差")
    trap("interaction.no_channel", "/", "the site has a 县长信箱 (网上信访 alone would not count)")
    # 办事服务: one complete guide, one missing 4 of the 8 key elements (a deduction; 5 would be a veto)
    full = [("事项名称", "城乡居民医保参保登记"), ("设定依据", "《中华人民共和国社会保险法》第二十五条"), ("申请条件", "本县户籍居民"),
            ("办理材料", "居民身份证"), ("办理地点", "县政务服务中心一楼"), ("办理时间", "工作日"), ("联系电话", "0591-28321234"),
            ("办理流程", "申请—受理—审核—办结")]
    poor = [("事项名称", "个体工商户注册登记"), ("办理地点", "县政务服务中心二楼"), ("办理时间", "工作日"), ("联系电话", "0591-28321235")]
    guides = []
    for k, (name, rows) in enumerate((("城乡居民医保参保登记", full), ("个体工商户注册登记", poor))):
        table = "<table class='bszn'>" + "".join(f"<tr><th>{a}</th><td>{v}</td></tr>" for a, v in rows) + "</table>"
        gpath = f"/bsfw/bszn/{k + 1:03d}.html"
        b.add(gpath, b.page(f"{name}办事指南", f"<div class='article'><h1>{name}办事指南</h1>{table}</div>", column="办事指南"))
        guides.append((f"{name}办事指南", gpath))
    trap("service.guide_incomplete", guides[0][1], "a guide with all 8 key elements")
    expect("service.guide_incomplete", guides[1][1], "a guide missing 设定依据、申请条件、办理材料、办理流程 (4 of 8)")
    trap("service.impractical", "/", "one incomplete guide, not the 5 the veto needs")
    trap("service.no_entry", "/", "办事服务 in the navigation")
    bsfw = b.page("办事服务", "<div class='list-box'><h2>办事指南</h2><ul>"
                  + "".join(f"<li><a href='{h}'>{t}</a></li>" for t, h in guides) + "</ul></div>", column="办事服务")
    b.add("/bsfw/", bsfw)
    b.add("/bsfw/index.html", bsfw)
    b.column("/hdjl/xzxx/", "县长信箱", letters, encoding="gbk")
    b.add("/hdjl/xzxx/writeLetter.do", b.page("我要写信", "<form method='post' action='/hdjl/xzxx/saveLetter.do'>"
                                                    "<input name='title'><textarea name='content'></textarea>"
                                                    "<button>提交</button></form>", column="县长信箱"))
    b.site.raw("/search/hotwords.do", json.dumps({"words": ["社保", "公积金", "医保"]}, ensure_ascii=False),
               "application/json; charset=utf-8")
    hdjl = b.page("互动交流", "<div class='block'><div class='block-hd'><h3>县长信箱</h3><a href='/hdjl/xzxx/'>更多</a></div><ul>"
                  + "".join(f"<li><a href='{h}'>{t}</a><span>{day:%Y-%m-%d}</span></li>" for t, h, day in letters) + "</ul></div>",
                  column="互动交流")
    b.add("/hdjl/", hdjl)
    b.add("/hdjl/index.html", hdjl)

    # ---- nav traps: not columns ---------------------------------------------------------------
    old = b.article("/zwgk/zfgzbg/", "政府工作报告", "2020年政府工作报告", dt.date(2020, 12, 15),
                    path="/zwgk/zfgzbg/202012/t20201215_2702345.html")
    for path, why in ((old, "an article page linked from the nav is not a column"),
                      ("/hdjl/xzxx/writeLetter.do", "a letter-writing form endpoint is not a column"),
                      ("/search/hotwords.do", "a JSON interface endpoint is not a column"),
                      ("/uc/indexs/index.do", "the hidden login greeting's link (display:none) is not a column"),
                      ("/uc/login.do", "the login link is not a column"), ("/uc/logout.do", "the logout link is not a column")):
        trap("freshness.*", path, why)
    for _n, h in HEADER_GOVS:
        trap("freshness.*", f"//{h}:{{PORT}}/", "another government's site linked from the header is not a column")
    for path in ("/uc/login.do", "/uc/indexs/index.do", "/uc/logout.do"):
        b.add(path, b.page("用户登录", "<form><input name='u'><input type='password' name='p'></form>", column="用户中心"))

    # ---- links: planted dead links ------------------------------------------------------------
    dead_body = ("<p>相关链接：<a href='/zwgk/tzgg/202401/t20240105_1000001.html'>2024年春节值班安排</a>；"
                 "<a href='/xwzx/old/index.html'>旧版新闻栏目</a>；"
                 "<a href='/uploads/2026/P020260910123456.pdf'>附件：实施细则.pdf</a>；"
                 "<a href='http://127.0.0.1:{CLOSED}/qlxjy/'>青岚县教育网（旧址）</a>；"
                 "<a href='/zwgk/zfxxgk/zfxxgkzn/'>政府信息公开指南</a>；"
                 "<a href='/uploads/2026/%E5%AE%9E%E6%96%BD%E7%BB%86%E5%88%99%E9%99%84%E4%BB%B6.pdf'>附件：实施细则附件.pdf</a></p>")
    links_page = b.article("/xwzx/bmdt/", "部门动态", "县教育局召开2026年秋季学期工作会议", d(3), dead_body)
    extra_bmdt = [("县教育局召开2026年秋季学期工作会议", links_page, d(3))]
    b.site.raw("/uploads/2026/实施细则附件.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")
    expect("links.dead", "/zwgk/tzgg/202401/t20240105_1000001.html", "HTTP 404 article")
    expect("links.dead", "/xwzx/old/index.html", "soft 404: HTTP 200 page saying 页面不存在")
    expect("links.dead", "/uploads/2026/P020260910123456.pdf", "HTTP 404 attachment")
    expect("links.dead", "//127.0.0.1:{CLOSED}/qlxjy/", "connection refused")
    trap("links.dead", "/uploads/2026/%E5%AE%9E%E6%96%BD%E7%BB%86%E5%88%99%E9%99%84%E4%BB%B6.pdf",
         "percent-encoded Chinese attachment name that exists")
    trap("identity.*", "/xwzx/old/index.html", "soft-404 page without footer or meta tags: not a page of the site")
    trap("identity.*", "/zwgk/tzgg/202401/t20240105_1000001.html", "HTTP 404 page")
    b.column("/xwzx/bmdt/", "部门动态", sorted(bmdt + extra_bmdt, key=lambda x: x[2], reverse=True))

    # ---- identity: two deviating pages --------------------------------------------------------
    noicp = b.article("/xwzx/bmdt/", "部门动态", "县市场监管局开展秋季食品安全检查", d(4), icp=False)
    nopub = b.article("/xwzx/bmdt/", "部门动态", "县农业农村局部署秋冬种工作", d(5), pubdate_meta=False)
    extra_bmdt += [("县市场监管局开展秋季食品安全检查", noicp, d(4)), ("县农业农村局部署秋冬种工作", nopub, d(5))]
    b.column("/xwzx/bmdt/", "部门动态", sorted(bmdt + extra_bmdt, key=lambda x: x[2], reverse=True))
    expect("identity.icp_missing", noicp, "the only page whose footer lacks the ICP number")
    expect("identity.meta_missing", nopub, "the only article page without the PubDate meta tag")
    trap("identity.*", "site", "no identity item is missing site-wide")

    # ---- homepage -----------------------------------------------------------------------------
    def block(name: str, more: str, items: list[tuple[str, str, dt.date]]) -> str:
        return (f"<div class='block'><div class='block-hd'><h3>{name}</h3><a class='more' href='{more}'>更多&gt;&gt;</a></div><ul>"
                + "".join(f"<li><a href='{h}' title='{t}'>{t}</a><span>{day:%m-%d}</span></li>" for t, h, day in items)
                + "</ul></div>")

    gfx_items = gfx[:5]
    home_body = (block("要闻", "/xwzx/yw/", yw) + block("通知公告", "/zwgk/tzgg/", tzgg) + block("部门动态", "/xwzx/bmdt/", bmdt)
                 + block("政策文件", fd + "gfxwj/", gfx_items)
                 + f"<div class='bnr'><a href='{wz}'>2025年政府网站工作年度报表</a><a href='/zwgk/zfxxgk/'>政府信息公开</a>"
                   f"<a href='{fd}'>法定主动公开内容</a></div>")
    b.add("/", b.page(SITE_NAME, home_body))
    trap("freshness.homepage_stale", "homepage", "12 dated items titled 新闻0…新闻11 (MM-DD dates), newest 5 days old")
    if variant == "A":
        trap("freshness.column_stale", "veto", "4 stale 动态/通知公告 columns: threshold − 1")
    else:
        expect("freshness.column_stale", "veto", "5 stale 动态/通知公告 columns: the 栏目不更新 threshold")

    # ---- the error pages ----------------------------------------------------------------------
    soft404 = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>页面不存在</title></head><body>"
               "<div class='err'><img src='/images/404.png'><p>抱歉，您访问的页面不存在或已被删除！</p>"
               "<p><a href='/'>返回首页</a></p></div></body></html>")

    def fallback(req: Request) -> tuple[int, dict[str, str], str]:
        if req.path.startswith(("/xwzx/", "/zwgk/zfxxgk/old")) or "." not in req.path.rsplit("/", 1)[-1]:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, soft404
        return 404, {"Content-Type": "text/html; charset=utf-8"}, ("<html><head><title>404</title></head><body>"
                                                                   "<h1>404 Not Found</h1></body></html>")

    b.site.fallback(fallback)
    b.site.raw("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
    for img in ("logo", "ga", "dzjg", "jiucuo", "404"):
        b.site.raw(f"/images/{img}.png", png, "image/png")
    for js in ("/js/jquery.min.js", "/module/web/jpage/jpage.js"):
        b.site.raw(js, "/* library */", "application/javascript")
    for _t, path, _day in b.interps:
        trap("documents.*", path, "an interpretation page (titled 《…》政策解读) is not the document it explains")
    return Portal(variant, b.site, L, ["freshness.column_stale", "interaction.unanswered"] if variant == "B" else [])


def other_hosts_site() -> Site:
    """The other governments' sites and the footer marks: every path answers 200."""

    s = Site("others")
    def answer(req: Request) -> tuple[int, dict[str, str], str]:
        if req.path == "/" or req.path.startswith(("/sitename", "/check_web/")):
            return 200, {"Content-Type": "text/html; charset=utf-8"}, (
                f"<html><head><meta charset='utf-8'><title>{req.host}</title></head><body><p>{req.host}</p></body></html>")
        return 404, {"Content-Type": "text/html; charset=utf-8"}, "<html><body><h1>404 Not Found</h1></body></html>"

    s.fallback(answer)
    return s


def hosts(portal: Portal) -> Hosts:
    return Hosts({HOST: portal.site, **{h: other_hosts_site() for h in OTHER_HOSTS}})


def finalize(portal: Portal, port: int, closed: int) -> None:
    """Write the real ports into pages and labels (pages are built before the server has a port)."""

    for route in portal.site.routes.values():
        if route.body and (b"{PORT}" in route.body or b"{CLOSED}" in route.body):
            route.body = route.body.replace(b"{PORT}", str(port).encode()).replace(b"{CLOSED}", str(closed).encode())
    for lab in portal.labels:
        lab.target = lab.target.replace("{PORT}", str(port)).replace("{CLOSED}", str(closed))


def summary(portal: Portal) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lab in portal.labels:
        f = out.setdefault(lab.family, {"expected": 0, "traps": 0})
        f["expected" if lab.expect else "traps"] += 1
    return out
