"""A 政务公开 site built the way a TRS CMS (WCM) renders one, for interpretation scope and repeal notices.

Page structure follows public TRS 政务公开 portals (e.g. the pingtan.gov.cn 政府信息公开 pages):
a ``div.breadcrumb`` with ``<span>当前位置：</span><ul><li><a>…``, the metadata as
``div.index_box > ul > li`` items ("索&ensp;引&ensp;号：<font>…</font>", "有&ensp;效&ensp;性：
<em class='red_base'>有效</em>"), ``div.article_title``, the 文号 again in ``div.article_title_sec``,
and a ``div.article_content`` whose paragraphs come from Word: every run a ``<span>``, numbers split
across runs ("201</span><span>1〕"), a ``<style>`` block inside the content. Column pages list
documents in a table with a header row (索引号 | 标题 | 文号 | 发布日期) and a TRS pagination bar
(``createPageHTML``, 共N页 / 下一页 / 尾页), titled only with the column name.

Everything is generated here; no downloaded page is stored. ``AS_OF`` = 2024-11-15.

The site holds the cases that made ``interpretation.missing`` and ``documents.expired`` untrustworthy:
personnel notices (任职通知), commendations (表彰通报), meeting notices, a 批复, a 转发 notice and a
领导小组 adjustment, all with a 文号 and a 有效性 field and no interpretation (no finding), next to a
实施方案 and a 行政规范性文件 without one (a finding each); a 清理结果 notice whose 修改 / 适时修改 /
继续有效 sections list 文号 (those documents stay valid); a single-document 废止 decision; and a
文号 printed without 号 (岚综管综〔2015〕207).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

AS_OF = dt.date(2024, 11, 15)
SITE = "示范县人民政府"
D = dt.date


@dataclass
class Doc:
    path: str
    title: str
    column: str  # the breadcrumb's last entry
    publish: dt.date
    number: str | None
    validity: str | None = "有效"
    paragraphs: list[str] = field(default_factory=list)
    related: list[tuple[str, str]] = field(default_factory=list)  # (path, anchor) under 相关链接
    interpretation_of: str | None = None


def _runs(text: str) -> str:
    """A paragraph as Word leaves it in TRS: runs of spans, digits split from the text around them."""

    out, buf, digits = [], "", None
    for ch in text:
        is_digit = ch.isdigit()
        if digits is not None and is_digit != digits and buf:
            out.append(buf)
            buf = ""
        digits = is_digit
        buf += ch
    if buf:
        out.append(buf)
    # split long digit runs once more, as Word does at a font change ("201" + "1〕")
    pieces = []
    for piece in out:
        if piece.isdigit() and len(piece) == 4:
            pieces += [piece[:3], piece[3:]]
        else:
            pieces.append(piece)
    spans = "".join(f"<span style=\"mso-spacerun:'yes';font-family:仿宋_GB2312;font-size:16.0000pt;\">{p}</span>"
                    for p in pieces)
    return f"<p class='p' style='text-indent:34.0000pt;line-height:29.5000pt;'>{spans}</p>"


def _chrome(title: str, inner: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}_{SITE}</title>"
            "<meta name='SiteName' content='示范县人民政府'></head><body>"
            "<div class='header'><div class='nav'><ul><li><a href='/'>首页</a></li><li><a href='/zwgk/'>政务公开</a></li>"
            "<li><a href='/zwgk/zcjd/'>政策解读</a></li></ul></div>"
            "<div class='search_box'><input type='text' placeholder='请输入您要搜索的内容'><button>搜索</button></div></div>"
            f"<div class='main'><div class='content'>{inner}</div></div>"
            f"<div class='footer'><div class='out_links'><ul><li><a href='http://www.gov.cn/'>中国政府网</a></li></ul></div>"
            f"<p>主办：{SITE}办公室 网站标识码：3600000002</p></div></body></html>")


def _breadcrumb(*names: str) -> str:
    items = "".join(f"<li><a href='../' title='{n}' class='CurrChnlCls'>{n}</a></li>" for n in ("首页", "政务公开", *names))
    return (f"<div class='breadcrumb'><span><i class='trt-iconfont trt-icon-weizhi'></i>当前位置：</span>"
            f"<ul>{items}</ul></div>")


def render(doc: Doc) -> bytes:
    sp = "&ensp;"
    items = [
        ("trt-col-12", f"索{sp}引{sp}号：", f"<font>11350128/{doc.publish.year}-{sum(map(ord, doc.path)) % 99999:05d}</font>"),
        ("trt-col-12", "主题分类：", "<font>综合政务</font>"),
        ("trt-col-12", "发文机关：", f"<font>{SITE}办公室</font>"),
        ("trt-col-12", "成文日期：", f"<font>{doc.publish.isoformat()}</font>"),
        ("trt-col-24", f"标{sp}{sp}{sp}{sp}题：", f"<font>{doc.title}</font>"),
        ("trt-col-12", "发文字号：", f"<font>{doc.number or ''}</font>"),
        ("trt-col-12", "发布日期：", f"<font>{doc.publish.isoformat()}</font>"),
    ]
    if doc.validity is not None:
        items.append(("trt-col-12", f"有{sp}效{sp}性：", f"<em class='red_base'>{doc.validity}</em>"))
    meta = "".join(f"<li class='{c} trt-col-sm-24'>{label}{value}</li>" for c, label, value in items)
    related = "".join(f"<p><a href='{p}' title='{a}' target='_blank'>{a}</a></p>" for p, a in doc.related)
    body = "".join(_runs(t) for t in doc.paragraphs)
    inner = (
        f"<div class='row content_bg_02'>{_breadcrumb('政府信息公开', doc.column)}"
        f"<div class='pad_t_base'><div class='index_box shadow_base pad_base'><ul class='trt-row'>{meta}</ul></div>"
        "<div class='article_component'><div class='article_title_group'>"
        f"<div class='article_title text_align_center'>{doc.title}</div></div>"
        + (f"<div class='article_title_sec mar_t_base'><font>{doc.number}</font></div>" if doc.number else "")
        + "<div class='article_extend'><span class='article_source'>来源：示范县人民政府办公室</span>"
        f"<span class='article_time'>时间：{doc.publish.isoformat()} 09:30</span></div>"
        + (f"<div class='links_con mar_b_base'><span>相关链接：</span>{related}</div>" if related else "")
        + "<div class='article_area'><div class='article_content article_content_01 font_family_cn'>"
        "<style>p.MsoNormal { margin: 0pt; font-family: 'Times New Roman'; }</style>"
        f"{body}</div></div></div></div></div>"
    )
    return _chrome(doc.title, inner).encode("utf-8")


def column_page(name: str, docs: list[Doc], page_count: int = 5) -> bytes:
    """A TRS column index page: title = column name, a header-row table, a pagination bar."""

    rows = "".join(f"<tr><td>11350128/{d.publish.year}-{i:05d}</td><td class='tit'><a href='{d.path}' title='{d.title}'>"
                   f"{d.title}</a></td><td>{d.number or ''}</td><td>{d.publish.isoformat()}</td></tr>"
                   for i, d in enumerate(sorted(docs, key=lambda d: d.publish, reverse=True), 1))
    pager = (f"<div class='pagination'><script>createPageHTML({page_count}, 0, 'index', 'htm');</script>"
             f"<span>共{page_count}页</span><a href='index.htm'>首页</a><a href='index_1.htm'>下一页</a>"
             f"<a href='index_{page_count - 1}.htm'>尾页</a></div>")
    inner = (f"<div class='row content_bg_02'>{_breadcrumb('政府信息公开', name)}"
             f"<div class='list_title'><h2>{name}</h2></div>"
             "<div class='gkml_list'><table class='list_table'><tr><th>索引号</th><th>标题</th><th>文号</th><th>发布日期</th></tr>"
             f"{rows}</table></div>{pager}</div>")
    return _chrome(name, inner).encode("utf-8")


BODY = ["各乡镇人民政府，县直各单位：", "现将有关事项通知如下，请认真贯彻执行。"]

# Routine documents: a 文号, 有效性 有效, no interpretation, and none needs one.
ROUTINE = [
    Doc("/zwgk/rsrm/202403/t20240312_101.htm", "示范县人民政府关于张三等同志任职的通知", "人事任免", D(2024, 3, 12),
        "示政任〔2024〕3号", paragraphs=BODY + ["经县人民政府研究决定：张三同志任示范县交通运输局局长。"]),
    Doc("/zwgk/rsrm/202404/t20240408_102.htm", "示范县人民政府关于李四同志免职的通知", "人事任免", D(2024, 4, 8),
        "示政任〔2024〕5号", paragraphs=BODY + ["经县人民政府研究决定：免去李四同志示范县统计局局长职务。"]),
    Doc("/zwgk/qtwj/202402/t20240220_103.htm", "示范县人民政府关于表彰2023年度安全生产先进集体和先进个人的通报", "其他文件",
        D(2024, 2, 20), "示政发〔2024〕4号", paragraphs=BODY + ["为表彰先进，县人民政府决定对以下先进集体和先进个人予以通报表彰。"]),
    Doc("/zwgk/qtwj/202405/t20240510_104.htm", "示范县人民政府办公室关于召开全县防汛工作会议的通知", "其他文件", D(2024, 5, 10),
        "示政办〔2024〕21号", paragraphs=BODY + ["定于2024年5月15日上午9时召开全县防汛工作会议。"]),
    Doc("/zwgk/qtwj/202406/t20240603_105.htm", "示范县人民政府关于同意设立示范县城东社区的批复", "其他文件", D(2024, 6, 3),
        "示政〔2024〕33号", paragraphs=["城关镇人民政府：你镇《关于设立城东社区的请示》收悉。经研究，同意设立。"]),
    Doc("/zwgk/qtwj/202407/t20240702_106.htm", "示范县人民政府办公室关于调整示范县河长制工作领导小组成员的通知", "其他文件",
        D(2024, 7, 2), "示政办〔2024〕30号", paragraphs=BODY + ["因人事变动，现对领导小组成员调整如下。"]),
    Doc("/zwgk/qtwj/202408/t20240805_107.htm", "示范县人民政府办公室关于转发《省农业农村厅关于做好秋粮生产工作的通知》的通知",
        "其他文件", D(2024, 8, 5), "示政办〔2024〕35号", paragraphs=BODY + ["现将省农业农村厅通知转发给你们，请认真贯彻执行。"]),
    Doc("/zwgk/qtwj/202409/t20240902_108.htm", "示范县人民政府关于2024年上半年重点工作督查情况的通报", "其他文件", D(2024, 9, 2),
        "示政发〔2024〕18号", paragraphs=BODY + ["现将上半年重点工作督查情况通报如下。"]),
]

# Policy documents without an interpretation: each is a finding.
POLICY = [
    Doc("/zwgk/qtwj/202403/t20240318_111.htm", "示范县人民政府办公室关于印发示范县农村人居环境整治提升实施方案的通知",
        "其他文件", D(2024, 3, 18), "示政办〔2024〕12号", paragraphs=BODY + ["现将《示范县农村人居环境整治提升实施方案》印发给你们。"]),
    Doc("/zwgk/gfxwj/202404/t20240422_112.htm", "示范县城镇住房保障管理办法", "行政规范性文件", D(2024, 4, 22),
        "示政规〔2024〕2号", paragraphs=BODY + ["本办法自2024年5月1日起施行，有效期5年。"]),
]

# Interpreted normative document (clean) and its interpretation.
INTERPRETED = Doc("/zwgk/gfxwj/202402/t20240205_113.htm", "示范县城市供水管理办法", "行政规范性文件", D(2024, 2, 5),
                  "示政规〔2024〕1号", paragraphs=BODY + ["本办法自2024年3月1日起施行，有效期5年。"],
                  related=[("/zwgk/zcjd/202402/t20240205_114.htm", "《示范县城市供水管理办法》政策解读")])
INTERPRETATION = Doc("/zwgk/zcjd/202402/t20240205_114.htm", "《示范县城市供水管理办法》政策解读", "政策解读", D(2024, 2, 5),
                     None, validity=None,
                     paragraphs=["近日，《示范县城市供水管理办法》（示政规〔2024〕1号）印发实施，现解读如下。"],
                     related=[("/zwgk/gfxwj/202402/t20240205_113.htm", "示范县城市供水管理办法")])

# Documents a cleanup notice and a decision speak about (all still shown 有效 on their pages).
LISTED = [
    Doc("/zwgk/gfxwj/201506/t20150610_121.htm", "示范县城市道路挖掘管理办法", "行政规范性文件", D(2015, 6, 10), "岚综管综〔2015〕207号",
        paragraphs=BODY, related=[("/zwgk/zcjd/201506/t20150610_131.htm", "示范县城市道路挖掘管理办法解读")]),
    Doc("/zwgk/gfxwj/201604/t20160405_122.htm", "示范县户外广告设置管理办法", "行政规范性文件", D(2016, 4, 5), "示政规〔2016〕3号",
        paragraphs=BODY, related=[("/zwgk/zcjd/201604/t20160405_132.htm", "示范县户外广告设置管理办法解读")]),
    Doc("/zwgk/gfxwj/201709/t20170911_123.htm", "示范县公共租赁住房管理办法", "行政规范性文件", D(2017, 9, 11), "示政规〔2017〕6号",
        paragraphs=BODY, related=[("/zwgk/zcjd/201709/t20170911_133.htm", "示范县公共租赁住房管理办法解读")]),
    Doc("/zwgk/gfxwj/201803/t20180320_124.htm", "示范县城市绿化管理办法", "行政规范性文件", D(2018, 3, 20), "示政规〔2018〕2号",
        paragraphs=BODY, related=[("/zwgk/zcjd/201803/t20180320_134.htm", "示范县城市绿化管理办法解读")]),
    Doc("/zwgk/gfxwj/201905/t20190515_125.htm", "示范县物业服务管理办法", "行政规范性文件", D(2019, 5, 15), "示政规〔2019〕4号",
        paragraphs=BODY, related=[("/zwgk/zcjd/201905/t20190515_135.htm", "示范县物业服务管理办法解读")]),
    Doc("/zwgk/gfxwj/201811/t20181106_126.htm", "示范县殡葬管理办法", "行政规范性文件", D(2018, 11, 6), "示政规〔2018〕9号",
        paragraphs=BODY, related=[("/zwgk/zcjd/201811/t20181106_136.htm", "示范县殡葬管理办法解读")]),
]
LISTED_INTERPRETATIONS = [
    Doc(d.related[0][0], d.related[0][1], "政策解读", d.publish, None, validity=None,
        paragraphs=[f"《{d.title}》（{d.number}）已印发，现解读如下。"], related=[(d.path, d.title)])
    for d in LISTED
]

CLEANUP = Doc(
    "/zwgk/gfxwj/202403/t20240328_141.htm", "示范县人民政府关于公布规范性文件清理结果的通知", "行政规范性文件", D(2024, 3, 28),
    "示政综〔2024〕112号",
    paragraphs=[
        "各乡镇人民政府，县直各单位：",
        "根据《国务院办公厅关于全面推行行政规范性文件合法性审核机制的指导意见》（国办发〔2018〕115号）的要求，"
        "对我县现行规范性文件进行了清理。现将清理结果公布如下：",
        "一、废止规范性文件共1份",
        "1.《示范县城市道路挖掘管理办法》（岚综管综〔2015〕207）",
        "二、宣布失效规范性文件共1份",
        "1.《示范县户外广告设置管理办法》（示政规〔2016〕3号）",
        "三、适时修改规范性文件共1份",
        "1.《示范县公共租赁住房管理办法》（示政规〔2017〕6号）责任单位：县住房和城乡建设局",
        "四、继续有效规范性文件共2份",
        "1.《示范县城市绿化管理办法》（示政规〔2018〕2号）",
        "2.《示范县人民政府关于废止部分规范性文件的决定》（示政发〔2019〕1号）",
        "对于废止的规范性文件，自本通知印发之日起一律停止执行，不得作为行政管理的依据。"
        "对于需适时修改的规范性文件，请责任单位抓好落实，立即启动文件修改工作。",
        "示范县人民政府",
        "2024年3月28日",
    ],
)
DECISION = Doc(
    "/zwgk/gfxwj/202405/t20240520_142.htm", "示范县人民政府关于废止《示范县物业服务管理办法》的决定", "行政规范性文件",
    D(2024, 5, 20), "示政综〔2024〕140号",
    paragraphs=["各乡镇人民政府，县直各单位：", "经县人民政府研究，决定废止《示范县物业服务管理办法》（示政规〔2019〕4号）。",
                "本决定自2024年6月1日起施行。"],
)
FUTURE_DECISION = Doc(
    "/zwgk/gfxwj/202411/t20241101_143.htm", "示范县人民政府关于废止《示范县殡葬管理办法》的决定", "行政规范性文件",
    D(2024, 11, 1), "示政综〔2024〕201号",
    paragraphs=["经县人民政府研究，决定废止《示范县殡葬管理办法》（示政规〔2018〕9号）。", "本决定自2025年1月1日起施行。"],
)

ALL = ROUTINE + POLICY + [INTERPRETED, INTERPRETATION, CLEANUP, DECISION, FUTURE_DECISION] + LISTED + LISTED_INTERPRETATIONS

COLUMNS = {
    "/zwgk/gfxwj/": "行政规范性文件",
    "/zwgk/qtwj/": "其他文件",
    "/zwgk/rsrm/": "人事任免",
    "/zwgk/zcjd/": "政策解读",
}


def homepage() -> bytes:
    links = "".join(f"<li><a href='{p}'>{n}</a></li>" for p, n in COLUMNS.items())
    return _chrome(SITE, f"<div class='zwgk_nav'><ul>{links}</ul></div>").replace(
        f"<title>{SITE}_{SITE}</title>", f"<title>{SITE}</title>").encode("utf-8")


def all_pages() -> dict[str, tuple[bytes, str]]:
    pages = {"/": (homepage(), "utf-8")}
    for path, name in COLUMNS.items():
        pages[path] = (column_page(name, [d for d in ALL if d.path.startswith(path)]), "utf-8")
    for d in ALL:
        pages[d.path] = (render(d), "utf-8")
    return pages


# What the checks must say about this site (rule, path); nothing else from interpretation.missing
# and documents.expired.
EXPECTED_MISSING = {p.path for p in POLICY}
EXPECTED_EXPIRED = {LISTED[0].path, LISTED[1].path, LISTED[4].path}  # 废止 (no 号), 宣布失效, decision in effect


_KIND_BY_COLUMN = {"行政规范性文件": "normative", "其他文件": "policy", "人事任免": "policy", "政策解读": "interpretation"}


def build_trs_corpus() -> list:
    """The site as labelled pages for the extraction-accuracy harness (tests/test_documents_accuracy.py):
    what a person reads on each document page, and the column pages, which are not documents."""

    from tests.sites.content_fixture_corpus import LabelledPage

    pages = []
    for d in ALL:
        expected = {"title": d.title, "kind": _KIND_BY_COLUMN[d.column], "publish_date": d.publish,
                    "written_date": d.publish, "validity": "valid" if d.validity == "有效" else None,
                    "doc_number": d.number}
        pages.append(LabelledPage(d.path, render(d), "utf-8", "trs-wcm", expected, True,
                                  ["Word runs", "index_box metadata"]))
    for path, name in COLUMNS.items():
        pages.append(LabelledPage(path, column_page(name, [d for d in ALL if d.path.startswith(path)]), "utf-8",
                                  "trs-wcm-column", {}, False, [f"column page {name}"]))
    return pages
