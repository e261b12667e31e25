"""A small county site for the 政务公开 content checks, with planted problems and traps.

Audit date ``AS_OF`` = 2024-11-15, profile county (a government's own annual report is due 31 Mar).
Every page is built by code; ``EXPECTED`` lists what the checks must report on it under the
national pack and ``EXPECTED_XINGQING`` the differences under the xingqing-2023 overlay (3 working
days for interpretations). Traps are pages that look wrong to a naive checker but are fine:

* ``/gfxwj/jcgz.html`` expired *and correctly marked* 失效 → no ``documents.expired``;
* ``/gfxwj/202409/t20240930_7.html`` written 2024-09-05, published 2024-09-30: 25 calendar days
  but 17 working days (中秋 off, 14 Sep and 29 Sep 调休 on) → no ``documents.late_publication``;
  its interpretation came 2024-10-10, 10 calendar days later but only 3 working days across 国庆
  → late nationally (同步), not late under xingqing-2023;
* a consultation open exactly 30 days (inclusive) and one shortened with a stated reason;
* a department's annual report (not the government's own) does not fill the government's gap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

AS_OF = dt.date(2024, 11, 15)
SITE_NAME = "示范县人民政府"


@dataclass
class P:
    path: str
    title: str
    column: str
    publish: dt.date | None
    written: dt.date | None = None
    number: str | None = None
    validity: str | None = None  # shown 有效性 text
    body: list[str] = field(default_factory=list)
    related: list[tuple[str, str, str]] = field(default_factory=list)  # (label, path, anchor)
    layout: str = "trs"
    encoding: str = "utf-8"
    extra_html: str = ""


def _fmt(d: dt.date) -> str:
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def render(p: P) -> bytes:
    rows: list[tuple[str, str]] = [("索引号", f"11360000/{(p.publish or AS_OF).year}-{sum(map(ord, p.path)) % 99999:05d}"),
                                   ("发布机构", SITE_NAME)]
    if p.written:
        rows.append(("成文日期", _fmt(p.written)))
    if p.number:
        rows.append(("发文字号", p.number))
    if p.validity is not None:
        rows.append(("有效性", p.validity))
    if p.publish:
        rows.append(("发布日期", p.publish.isoformat() if p.layout == "trs" else _fmt(p.publish)))
    if p.layout == "trs":
        meta = "".join(f"<tr><td class='t'>{k}：</td><td>{v}</td></tr>" for k, v in rows)
        meta = f"<table class='xxgk-table'>{meta}</table>"
    else:
        meta = "<dl class='gk'>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"
    related = ""
    for label, path, anchor in p.related:
        related += f"<div class='rel'><h4>{label}</h4><ul><li><a href='{path}'>{anchor}</a></li></ul></div>"
    body = "".join(f"<p>{b}</p>" for b in p.body)
    charset = "gbk" if p.encoding == "gbk" else "utf-8"
    html = (f"<html><head><meta charset='{charset}'><title>{p.title}_{SITE_NAME}</title>"
            f"<meta name='ColumnName' content='{p.column}'></head><body>"
            f"<div class='nav'><a href='/'>首页</a><a href='/zcjd/'>政策解读</a><a href='/gfxwj/'>规范性文件</a></div>"
            f"<div class='position'>当前位置：<a href='/'>首页</a> &gt; <a href='#'>{p.column}</a></div>"
            f"<h1 class='title'>{p.title}</h1>{meta}<div class='content'>{body}</div>{related}{p.extra_html}"
            f"<div class='footer'>{SITE_NAME}主办 版权所有 2015-2024</div></body></html>")
    return html.encode("gbk" if p.encoding == "gbk" else "utf-8", errors="xmlcharrefreplace")


D = dt.date
BODY = ["各乡镇人民政府，县直各单位：现将有关事项印发给你们，请认真贯彻执行。",
        "一、总体要求。坚持问题导向，压实工作责任，推动各项工作提质增效。"]

DOCS: list[P] = [
    # N1 valid, interpreted on the same day, linked both ways: clean
    P("/gfxwj/202301/t20230105_1.html", "示范县城市管理办法", "行政规范性文件", D(2023, 1, 5), D(2022, 12, 28),
      "示政规〔2022〕9号", "有效", BODY + ["本办法自2023年1月1日起施行，有效期5年。"],
      [("相关解读", "/zcjd/202301/t20230105_11.html", "《示范县城市管理办法》政策解读")]),
    # N2 period ended 2022-12-31 but shown 有效 → documents.expired
    P("/gfxwj/hgbf.html", "示范县户外广告管理办法", "行政规范性文件", D(2020, 1, 2), D(2019, 12, 20),
      "示政规〔2019〕12号", "有效", BODY + ["本办法自2020年1月1日起施行，有效期3年。"],
      [("相关解读", "/zcjd/hgbf_jd.html", "《示范县户外广告管理办法》解读")], layout="dl"),
    # N3 trap: ended and correctly marked 失效
    P("/gfxwj/jcgz.html", "示范县旧城改造暂行办法", "行政规范性文件", D(2019, 3, 1), D(2019, 2, 20),
      "示政规〔2019〕2号", "失效", BODY + ["本办法自2019年3月1日起施行，有效期2年。"]),
    # N4 no validity marking at all, no interpretation
    P("/gfxwj/202405/t20240506_4.html", "示范县养老服务补贴实施细则", "行政规范性文件", D(2024, 5, 6), D(2024, 4, 28),
      "示政规〔2024〕3号", None, BODY, encoding="gbk"),
    # N5 named in the site's repeal list but still 有效
    P("/gfxwj/dxgx.html", "示范县地下管线管理规定", "行政规范性文件", D(2019, 6, 3), D(2019, 5, 20),
      "示政规〔2019〕8号", "有效", BODY, [("相关解读", "/zcjd/dxgx_jd.html", "地下管线管理规定解读")]),
    # N6 written 2024-03-01, published 2024-04-15: 30 working days → late; interpretation links only one way
    P("/gfxwj/202404/t20240415_6.html", "示范县高标准农田建设管理办法", "行政规范性文件", D(2024, 4, 15), D(2024, 3, 1),
      "示政规〔2024〕1号", "有效", BODY, [("相关解读", "/zcjd/202404/t20240415_16.html", "一图读懂高标准农田建设管理办法")]),
    # N7 trap: 25 calendar days but 17 working days; interpretation 3 working days later across 国庆
    P("/gfxwj/202409/t20240930_7.html", "示范县生活垃圾分类管理办法", "行政规范性文件", D(2024, 9, 30), D(2024, 9, 5),
      "示政规〔2024〕5号", "有效", BODY, [("相关解读", "/zcjd/202410/t20241010_17.html", "《示范县生活垃圾分类管理办法》政策解读")]),
    # N8 interpretation 8 working days later (端午 10 June off) → late under every pack
    P("/gfxwj/202406/t20240603_8.html", "示范县残疾人两项补贴实施办法", "行政规范性文件", D(2024, 6, 3), D(2024, 5, 27),
      "示政规〔2024〕4号", "有效", BODY, [("相关解读", "/zcjd/202406/t20240614_18.html", "残疾人两项补贴实施办法解读")]),
    # P1 government policy document (示政发) without interpretation → interpretation.missing
    P("/zcwj/202402/t20240220_21.html", "示范县人民政府关于印发2024年重点工作任务分工的通知", "其他文件",
      D(2024, 2, 20), D(2024, 2, 18), "示政发〔2024〕2号", None, BODY),
    # P2 a department letter: not in interpretation scope
    P("/zcwj/202403/t20240311_22.html", "关于做好2024年春季学校安全工作的通知", "其他文件", D(2024, 3, 11), D(2024, 3, 8),
      "示教函〔2024〕3号", None, BODY),
    # repeal list naming N5
    P("/zcwj/202407/t20240701_23.html", "示范县人民政府关于废止部分规范性文件的决定", "其他文件", D(2024, 7, 1),
      D(2024, 6, 28), "示政发〔2024〕6号", "有效",
      ["经清理，决定废止以下规范性文件：", "1.《示范县地下管线管理规定》（示政规〔2019〕8号）",
       "2.《示范县路灯管理办法》（示政规〔2018〕4号）"]),
]

INTERPRETATIONS: list[P] = [
    P("/zcjd/202301/t20230105_11.html", "《示范县城市管理办法》政策解读", "政策解读", D(2023, 1, 5),
      body=["近日，《示范县城市管理办法》（示政规〔2022〕9号）印发实施，现解读如下。"],
      related=[("政策原文", "/gfxwj/202301/t20230105_1.html", "示范县城市管理办法")]),
    P("/zcjd/hgbf_jd.html", "《示范县户外广告管理办法》解读", "政策解读", D(2020, 1, 2),
      body=["《示范县户外广告管理办法》已印发，现就主要内容解读如下。"],
      related=[("原文链接", "/gfxwj/hgbf.html", "示范县户外广告管理办法")]),
    P("/zcjd/dxgx_jd.html", "地下管线管理规定解读", "政策解读", D(2019, 6, 3),
      body=["《示范县地下管线管理规定》已印发，现解读如下。"],
      related=[("原文链接", "/gfxwj/dxgx.html", "示范县地下管线管理规定")]),
    # no link back to N6
    P("/zcjd/202404/t20240415_16.html", "一图读懂《示范县高标准农田建设管理办法》", "政策解读", D(2024, 4, 15),
      body=["一图读懂高标准农田建设管理办法的主要内容。"], encoding="gbk"),
    P("/zcjd/202410/t20241010_17.html", "《示范县生活垃圾分类管理办法》政策解读", "政策解读", D(2024, 10, 10),
      body=["近日，《示范县生活垃圾分类管理办法》（示政规〔2024〕5号）印发，现解读如下。"],
      related=[("政策原文", "/gfxwj/202409/t20240930_7.html", "示范县生活垃圾分类管理办法")]),
    P("/zcjd/202406/t20240614_18.html", "视频解读：示范县残疾人两项补贴实施办法", "政策解读", D(2024, 6, 14),
      body=["视频解读残疾人两项补贴实施办法。"],
      related=[("原文链接", "/gfxwj/202406/t20240603_8.html", "示范县残疾人两项补贴实施办法")],
      extra_html="<video src='/media/jd.mp4' controls></video>"),
]

REPORTS: list[P] = [
    P("/ndbg/2021/t20210320_31.html", "示范县人民政府2020年政府信息公开工作年度报告", "政府信息公开年报", D(2021, 3, 20),
      body=["本报告根据《中华人民共和国政府信息公开条例》要求编制。"]),
    P("/ndbg/2022/t20220325_32.html", "示范县人民政府2021年政府信息公开工作年度报告", "政府信息公开年报", D(2022, 3, 25),
      body=["本报告根据《中华人民共和国政府信息公开条例》要求编制。"]),
    # 2022 missing; a department's 2022 report does not count for the government
    P("/ndbg/2023/t20230130_33.html", "示范县教育局2022年政府信息公开工作年度报告", "政府信息公开年报", D(2023, 1, 30),
      body=["本报告根据《中华人民共和国政府信息公开条例》要求编制。"]),
    P("/ndbg/2024/t20240320_34.html", "示范县人民政府二〇二三年政府信息公开工作年度报告", "政府信息公开年报", D(2024, 3, 20),
      body=["本报告根据《中华人民共和国政府信息公开条例》要求编制。"]),
    # website annual report for 2023 published 5 Feb: after 31 Jan
    P("/ndbg/2024/t20240205_35.html", "示范县人民政府门户网站2023年政府网站工作年度报表", "政府信息公开年报", D(2024, 2, 5),
      body=["根据国办函〔2018〕12号要求，现将本网站2023年度工作情况报告如下。"]),
]

DECISIONS: list[P] = [
    # 2024 catalogue published 10 April: after 31 March
    P("/zdjc/202404/t20240410_41.html", "示范县2024年度重大行政决策事项目录", "重大行政决策", D(2024, 4, 10),
      body=["经县委同意，现将示范县2024年度重大行政决策事项目录予以公布。"]),
    # 30 days inclusive, feedback within 10 working days: clean
    P("/yjzj/202405/t20240501_42.html", "关于公开征求《示范县物业管理办法（征求意见稿）》意见的公告", "意见征集", D(2024, 5, 1),
      body=["现将《示范县物业管理办法（征求意见稿）》向社会公开征求意见。", "征求意见时间为2024年5月1日至2024年5月30日。"]),
    P("/yjzj/202406/t20240607_43.html", "关于《示范县物业管理办法（征求意见稿）》征求意见采纳情况的说明", "意见征集",
      D(2024, 6, 7), body=["征求意见期间共收到意见12条，采纳8条，未采纳4条的理由如下。"]),
    # 15 days, no reason; no feedback at all
    P("/yjzj/202407/t20240701_44.html", "关于公开征求《示范县停车管理办法（征求意见稿）》意见的公告", "意见征集", D(2024, 7, 1),
      body=["现将《示范县停车管理办法（征求意见稿）》向社会公开征求意见。", "征求意见时间为2024年7月1日至2024年7月15日。"]),
    # 31 days; feedback published two months later
    P("/yjzj/202408/t20240801_45.html", "关于公开征求《示范县犬只管理规定（征求意见稿）》意见的公告", "意见征集", D(2024, 8, 1),
      body=["现将《示范县犬只管理规定（征求意见稿）》向社会公开征求意见。", "征求意见时间为2024年8月1日至2024年8月31日。"]),
    P("/yjzj/202410/t20241021_46.html", "关于《示范县犬只管理规定（征求意见稿）》征求意见采纳情况的说明", "意见征集",
      D(2024, 10, 21), body=["征求意见期间共收到意见5条，全部采纳。"]),
    # shortened with a stated reason, feedback in time: no finding
    P("/yjzj/202409/t20240902_47.html", "关于公开征求《示范县防汛应急预案（征求意见稿）》意见的公告", "意见征集", D(2024, 9, 2),
      body=["因汛期情况紧急，征求意见期限缩短为10日。", "征求意见时间为2024年9月2日至2024年9月11日。"]),
    P("/yjzj/202409/t20240920_48.html", "关于《示范县防汛应急预案（征求意见稿）》征求意见采纳情况的说明", "意见征集",
      D(2024, 9, 20), body=["共收到意见3条，采纳2条。"]),
]

COLUMNS = {
    "/gfxwj/": ("行政规范性文件", [p for p in DOCS if p.path.startswith("/gfxwj/")]),
    "/zcwj/": ("其他文件", [p for p in DOCS if p.path.startswith("/zcwj/")]),
    "/zcjd/": ("政策解读", INTERPRETATIONS),
    "/ndbg/": ("政府信息公开年报", REPORTS),
    "/zdjc/": ("重大行政决策", [p for p in DECISIONS if p.path.startswith("/zdjc/")]),
    "/yjzj/": ("意见征集", [p for p in DECISIONS if p.path.startswith("/yjzj/")]),
}


def column_page(name: str, items: list[P]) -> bytes:
    lis = "".join(f"<li><a href='{p.path}'>{p.title}</a><span>{p.publish.isoformat() if p.publish else ''}</span></li>"
                  for p in sorted(items, key=lambda p: p.publish or AS_OF, reverse=True))
    return (f"<html><head><meta charset='utf-8'><title>{name}_{SITE_NAME}</title><meta name='ColumnName' content='{name}'>"
            f"</head><body><div class='nav'><a href='/'>首页</a></div><h2>{name}</h2><ul class='list'>{lis}</ul>"
            f"<div class='footer'>{SITE_NAME}主办</div></body></html>").encode()


def homepage() -> bytes:
    nav = "".join(f"<a href='{path}'>{name}</a>" for path, (name, _) in COLUMNS.items())
    latest = sorted(DOCS + INTERPRETATIONS, key=lambda p: p.publish or AS_OF, reverse=True)[:6]
    lis = "".join(f"<li><a href='{p.path}'>{p.title}</a><span>{p.publish.isoformat()}</span></li>" for p in latest)
    return (f"<html><head><meta charset='utf-8'><title>{SITE_NAME}</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a>{nav}</div><div class='news'><h3>最新信息</h3><ul>{lis}</ul></div>"
            f"<div class='footer'>{SITE_NAME}主办 网站标识码：3600000001</div></body></html>").encode()


def all_pages() -> dict[str, tuple[bytes, str]]:
    """path → (body, encoding)."""

    pages = {"/": (homepage(), "utf-8")}
    for path, (name, items) in COLUMNS.items():
        pages[path] = (column_page(name, items), "utf-8")
    for p in DOCS + INTERPRETATIONS + REPORTS + DECISIONS:
        pages[p.path] = (render(p), p.encoding)
    return pages


# (rule, path or key fragment) the national pack must report; nothing else from these families.
EXPECTED = {
    ("documents.expired", "/gfxwj/hgbf.html"),
    ("documents.expired", "/gfxwj/dxgx.html"),
    ("documents.validity_unmarked", "/gfxwj/202405/t20240506_4.html"),
    ("documents.late_publication", "/gfxwj/202404/t20240415_6.html"),
    ("documents.annual_report_missing", "xxgk:2022:gap"),
    ("documents.annual_report_missing", "website:2023:late"),
    ("interpretation.missing", "/gfxwj/202405/t20240506_4.html"),
    ("interpretation.missing", "/zcwj/202402/t20240220_21.html"),
    ("interpretation.unlinked", "/gfxwj/202404/t20240415_6.html"),
    ("interpretation.late", "/gfxwj/202409/t20240930_7.html"),
    ("interpretation.late", "/gfxwj/202406/t20240603_8.html"),
    ("decisions.catalogue_missing", "catalogue:2024:late"),
    ("decisions.consultation_short", "/yjzj/202407/t20240701_44.html"),
    ("decisions.feedback_missing", "/yjzj/202407/t20240701_44.html"),
    ("decisions.feedback_missing", "/yjzj/202408/t20240801_45.html"),
}
# Under xingqing-2023 (3 working days for interpretations) the 国庆 case is no longer late.
EXPECTED_XINGQING = EXPECTED - {("interpretation.late", "/gfxwj/202409/t20240930_7.html")}
