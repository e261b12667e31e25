"""The document model: one stored page → one document record, with where each value came from.

Government pages carry their facts in several places at once — page meta tags (``ArticleTitle``,
``PubDate``, ``ColumnName``…), the 信息公开 metadata table (索引号, 发布机构, 成文日期, 发文字号,
有效性, 发布日期 — as a ``table``, a ``dl`` or "label：value" ``div``/``span``/``li`` layouts), the
breadcrumb, the URL (``…/t20230104_…``) and the body (发布时间：…, 有效期至…, 自…起施行，有效期X年,
落款 date). Checks must not each re-read HTML their own way: this module reads them once, picks a
value per field by a fixed priority, and keeps the source (``meta:PubDate``, ``table:发布日期``,
``url``, ``body:…``) so a finding can show why the tool believes a date.

Only article pages are documents: a column or list page — titled just with a column name
(行政规范性文件, 政策文件…, or its own breadcrumb column), built around a list of dated links,
paginated, or holding a header-row table of linked titles — is not, whatever metadata-like labels
its list table has. A 文号 and a 有效性 field alone do not make a 任职通知 or a 表彰通报 a
行政规范性文件 (:func:`demote_routine`). Repeal decisions and cleanup notices are read section by
section (:func:`parse_repeal_notice`): only 废止 and 失效 end a listed document.

Pure and deterministic: a page's bytes (and URL) in, a :class:`DocumentRecord` out; no clock,
no network. A field the page does not state stays ``None`` — unknown is not false. The keyword
lists that are rule-pack data (column names, routine titles) are passed in by the enrichment; the
module's defaults equal the national pack.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from auditor.crawl.extract import base_url, normalise_url
from auditor.docmodel.dates import add_years, date_from_url, find_dates, normalize, parse_date
from auditor.docmodel.docnumbers import find_doc_numbers, parse_doc_number, same_doc_number

__all__ = [
    "ENDING_DISPOSITIONS",
    "KINDS",
    "VALIDITY_ZH",
    "COLUMN_TITLE_NAMES",
    "ROUTINE_TITLE_PATTERNS",
    "DocumentRecord",
    "classify_kind",
    "demote_routine",
    "extract_document",
    "extract_html",
    "is_column_title",
    "load_documents",
    "record_from_title",
    "routine_text",
    "routine_title",
    "parse_repeal_notice",
    "title_key",
    "validity_from_text",
]

# Document kinds: code → the name users see.
KINDS: dict[str, str] = {
    "normative": "行政规范性文件",
    "policy": "其他政策文件",
    "interpretation": "政策解读",
    "news": "新闻",
    "notice": "通知公告",
    "annual_report": "年度报告",
    "consultation": "征集意见",
    "other": "其他",
}
VALIDITY_ZH = {"valid": "有效", "expired": "失效", "repealed": "废止", "amended": "已修改"}


# --------------------------------------------------------------------------------------------
# Labels of the metadata table / article info line
# --------------------------------------------------------------------------------------------

LABELS: dict[str, tuple[str, ...]] = {
    "index_number": ("信息索引号", "索引号", "索取号", "索引编号"),
    "publisher": ("发布机构", "发文机关", "发文单位", "发布单位", "发文机构", "制发机关", "公开主体", "发布主体",
                  "制发单位", "成文单位"),
    "written_date": ("成文日期", "生成日期", "发文日期", "印发日期", "制发日期", "形成日期", "签发日期", "成文时间",
                     "生成时间", "发文时间", "印发时间", "制文日期"),
    "publish_date": ("信息发布日期", "信息公开日期", "发布日期", "发布时间", "公开日期", "公开时间", "发表时间", "发表日期",
                     "发稿时间", "发稿日期", "上网时间", "上网日期", "上线时间", "刊发时间", "发布于"),
    "publish_generic": ("更新时间", "更新日期", "日期", "时间"),
    "doc_number": ("发文字号", "文号", "发文号", "文件编号", "文件字号", "发文编号"),
    "validity": ("有效性", "效力状态", "时效性", "有效状态", "是否有效", "效力级别", "效力", "时效", "有效标识", "文件效力"),
    "effective_date": ("施行日期", "实施日期", "生效日期", "生效时间", "施行时间", "实施时间", "执行日期"),
    "end_date": ("废止日期", "失效日期", "失效时间", "废止时间", "有效期至", "有效截止日期", "有效期截止"),
    "valid_period": ("有效期", "有效期限"),
    "title": ("文件名称", "信息名称", "文章标题", "名称", "标题"),
    "topic": ("主题分类", "主题词", "体裁分类", "组配分类", "信息分类", "文件类型", "信息类别", "文种", "分类", "类别"),
    "source": ("信息来源", "稿件来源", "文章来源", "来源"),
    "registration": ("规范性文件登记号", "统一登记号", "统一编号", "登记编号", "登记号"),
    "consult_period": ("征求意见时间", "意见征集时间", "征集时间", "征求意见期限", "征集期限", "征求意见日期", "征集日期"),
    "consult_end": ("反馈截止时间", "意见反馈截止时间", "截止时间", "截止日期", "征集截止时间", "结束时间", "结束日期"),
    "consult_start": ("开始时间", "开始日期"),
    # Labels we do not use but must recognise, so their value is not read as the previous label's.
    "ignore": ("浏览次数", "访问次数", "点击数", "点击量", "点击次数", "访问量", "阅读量", "阅读次数", "浏览量", "作者", "责任编辑",
               "编辑", "字号", "字体", "分享到", "分享", "打印", "关闭", "审核", "校对", "公开方式", "公开范围", "公开时限",
               "关键词", "关键字", "所属机构", "摘要", "内容概述", "附件", "相关附件", "扫一扫", "【字体"),
}
_LABEL_FIELD: dict[str, str] = {}
for _f, _names in LABELS.items():
    for _n in _names:
        _LABEL_FIELD.setdefault(_n, _f)
_LABEL_ORDER = sorted(_LABEL_FIELD, key=len, reverse=True)
# A label may be spread with spaces ("索 引 号", "文　　号"); the colon may be full- or half-width.
_LABEL_ALT = "|".join(r"\s*".join(map(re.escape, name)) for name in _LABEL_ORDER)
_RE_LABEL_CELL = re.compile(rf"^[\s【\[(（<《]*(?P<label>{_LABEL_ALT})\s*(?P<colon>[:：]|[】\]]\s*[:：]?)?\s*(?P<rest>.*)$", re.S)
_RE_LABEL_INLINE = re.compile(rf"[【\[]?(?P<label>{_LABEL_ALT})\s*(?:[:：]|[】\]]\s*[:：]?)")
_PUNCT_ONLY = re.compile(r"^[\s:：|｜/\\\-—_·•【】\[\]()（）]*$")


_STRONG_FIELDS = {"index_number", "publisher", "written_date", "publish_date", "doc_number", "validity", "registration",
                  "effective_date", "end_date", "consult_period", "consult_end"}
_WEAK_FIELDS = {"publish_generic", "title", "topic", "source", "consult_start"}


def _label_field(raw: str) -> tuple[str, str]:
    name = re.sub(r"\s+", "", raw)
    return _LABEL_FIELD.get(name, "ignore"), name


# --------------------------------------------------------------------------------------------
# Walking the page: text cells outside navigation, footers and sidebars
# --------------------------------------------------------------------------------------------

_SKIP_TAGS = {"script", "style", "noscript", "template", "select", "option", "head", "nav", "footer", "aside",
              "button", "textarea", "iframe", "object", "svg"}
_BLOCK_TAGS = {"p", "div", "td", "th", "li", "dt", "dd", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "br",
               "section", "article", "ul", "ol", "dl", "header", "blockquote", "pre", "center", "form", "hr"}
_NOISE_MARK = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|sidebar|side|aside|sider|footer|foot|copyright|banquan|related|relate|xgwz|xgxx|"
    r"xgwj|hot|hotnews|rank|ranking|recommend|tuijian|friend|yqlj|links|share|bdshare|toolbar|tools|print|"
    r"dibu|bottom|topbar|top-bar|header-top|login|search|weather|qrcode|ewm)([\s_-]|\d|$)",
    re.I,
)
_HEADING_MARK = re.compile(r"title|biaoti|(^|[\s_-])bt|tit|headline|article-h|art_h|news_h|xl_h|detail-h", re.I)
_BAD_HEADING_MARK = re.compile(r"site|logo|list|nav|column|lanmu|menu|subtitle|small|side|related|hot|btn|button", re.I)
_NAV_ANCESTOR = re.compile(r"(^|[\s_-])(nav|navbar|menu|footer|foot|header|top|dh|daohang)([\s_-]|\d|$)", re.I)
_BREADCRUMB_MARK = re.compile(r"crumb|position|location|dqwz|curpos|current|place|local|path|weizhi|wz[_-]|lujing", re.I)
_BREADCRUMB_TEXT = re.compile(r"^\s*(?:当前位置|您的位置|您现在的位置|所在位置|当前的位置|位置)\s*[:：]?")
_CRUMB_SPLIT = re.compile(r"\s*(?:>>|>|›|»|＞|→|/|\\|»|>)\s*")


def _marker(el: Any) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}"


def _is_noise(el: Any) -> bool:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _SKIP_TAGS:
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    if el.get("hidden") is not None:
        return True
    mark = _marker(el)
    return bool(mark.strip()) and bool(_NOISE_MARK.search(mark))


def _noisy_elements(root: Any) -> set[Any]:
    """Every element that is noise or inside noise, in one walk (document order: parents first)."""

    noisy: set[Any] = set()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        parent = el.getparent()
        if (parent is not None and parent in noisy) or _is_noise(el):
            noisy.add(el)
    return noisy


def _cells(root: Any) -> list[tuple[str, Any]]:
    """Visible text pieces in document order with the element that holds them.

    Each text node becomes its own cell (a ``td``, a ``span``, a line broken by ``br``), which is
    what lets one label parser read table, ``dl`` and inline "label：value" layouts alike.
    """

    out: list[tuple[str, Any]] = []

    def add(text: str | None, holder: Any) -> None:
        if text:
            t = " ".join(text.split())
            if t:
                out.append((t, holder))

    def walk(el: Any) -> None:
        if not isinstance(el.tag, str):
            return
        if _is_noise(el):
            return
        if el.tag == "img":
            add(el.get("alt"), el)  # validity stamps and labels drawn as images carry alt text
        add(el.text, el)
        for child in el:
            walk(child)
            add(child.tail, el)

    walk(root)
    return out


# --------------------------------------------------------------------------------------------
# The record
# --------------------------------------------------------------------------------------------


@dataclass
class DocumentRecord:
    """What one page says about the document it shows. Dates are ``datetime.date`` or None."""

    url: str
    title: str | None = None
    column: str | None = None
    kind: str = "other"
    subkind: str | None = None
    publish_date: dt.date | None = None
    written_date: dt.date | None = None
    effective_date: dt.date | None = None
    end_date: dt.date | None = None
    end_basis: str | None = None  # stated | period | repeal_stated | field
    validity: str | None = None  # valid | expired | repealed | amended | None (not marked)
    validity_raw: str | None = None
    validity_period_years: float | None = None
    doc_number: str | None = None
    doc_number_raw: str | None = None
    index_number: str | None = None
    publisher: str | None = None
    registration: str | None = None
    topic: str | None = None
    related: list[dict[str, str]] = field(default_factory=list)
    refs: dict[str, list[str]] = field(default_factory=dict)  # titles (《…》) and numbers cited
    formats: list[str] = field(default_factory=list)  # 图解 / 视频 / 动画 / H5 (interpretations)
    report: dict[str, Any] | None = None  # annual reports: {"type": "xxgk"|"website", "year", "owner"}
    catalogue_year: int | None = None  # 重大行政决策事项目录
    consultation: dict[str, Any] | None = None  # {"start", "end", "explained"}
    # a 废止 decision or 清理结果 notice (:func:`parse_repeal_notice`): "numbers"/"titles" that end,
    # "kept_numbers"/"kept_titles" that stay (修改, 继续有效), "items" by section, "effective_date"
    repeal_list: dict[str, Any] | None = None
    sources: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @property
    def kind_zh(self) -> str:
        return KINDS.get(self.kind, "其他")

    @property
    def validity_zh(self) -> str | None:
        return VALIDITY_ZH.get(self.validity or "")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in list(data.items()):
            if isinstance(value, dt.date):
                data[key] = value.isoformat()
        if data["consultation"]:
            data["consultation"] = {k: (v.isoformat() if isinstance(v, dt.date) else v)
                                    for k, v in data["consultation"].items()}
        data["kind_zh"] = self.kind_zh
        data["validity_zh"] = self.validity_zh
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentRecord:
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in known}
        for key in ("publish_date", "written_date", "effective_date", "end_date"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = dt.date.fromisoformat(kwargs[key])
        if kwargs.get("consultation"):
            kwargs["consultation"] = {k: (dt.date.fromisoformat(v) if k in ("start", "end") and isinstance(v, str) else v)
                                      for k, v in kwargs["consultation"].items()}
        return cls(**kwargs)


# --------------------------------------------------------------------------------------------
# Validity
# --------------------------------------------------------------------------------------------

_EMPTY_VALUE = re.compile(r"^[\s\-—/／*＊无暂空缺未知不详null none]*$", re.I)


def validity_from_text(value: str | None) -> str | None:
    """有效 / 失效 / 废止 / 已修改 as a code, None when the value says nothing."""

    if not value:
        return None
    v = normalize(value).strip()
    if _EMPTY_VALUE.match(v) or v in ("暂无", "待定"):
        return None
    if "废止" in v or "撤销" in v:
        return "repealed"
    if re.search(r"部分(失效|废止|修改|有效)|修改|修订|修正", v):
        return "amended"
    if re.search(r"失效|过期|不再有效|无效|停止(执行|施行)|已届满|到期", v):
        return "expired"
    if re.search(r"有效|现行|施行中|生效|是", v):
        return "valid"
    return None


_DATE_CN = r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号]?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,3}月[一二三四五六七八九十廿卅]{1,3}日)"
_NUM_CN = r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十两半]+)"
_RE_VALID_UNTIL = re.compile(rf"有效期(?:限)?(?:为|是)?\s*[:：]?\s*(?:自\s*{_DATE_CN}\s*(?:起)?\s*)?(?:至|到|截至|截止(?:到|至)?|止于)\s*({_DATE_CN})")
_RE_VALID_RANGE = re.compile(rf"有效期(?:限)?(?:为|是)?\s*[:：]?\s*({_DATE_CN})\s*(?:起)?\s*(?:至|到|-|—|－|~|～)\s*({_DATE_CN})")
_RE_VALID_PERIOD = re.compile(rf"有效期(?:限)?(?:为|是|暂定为?)?\s*[:：]?\s*({_NUM_CN})\s*(年|个月)")
_RE_START = re.compile(
    rf"自\s*(?P<date>{_DATE_CN}|印发之日|发布之日|公布之日|颁布之日|印发|发布|公布|颁布|下发之日|签发之日|发文之日)\s*(?:之日)?\s*起\s*(?:施行|实施|执行|生效|试行)"
)
_RE_START_BARE = re.compile(rf"(?:^|[，。；,\s])(?:本(?:办法|规定|通知|意见|细则|文件|规则|方案|决定|措施|制度|标准|实施细则|实施意见)\s*)?({_DATE_CN})\s*起\s*(?:施行|实施|执行|生效)")
_RE_OWN_REPEAL = re.compile(
    rf"本(?:办法|规定|通知|意见|细则|文件|规则|方案|决定|措施|制度|标准|实施细则|实施意见)[^。；《》]{{0,24}}?(?:于|自)\s*({_DATE_CN})\s*(?:起)?\s*(?:废止|失效|停止执行)"
)
_RE_BANNER = re.compile(
    rf"(?:该|本|此)(?:规范性)?(?:文件|件|文|政策|办法|规定|通知)?\s*(?:已于\s*({_DATE_CN})\s*|已经|已|现已)\s*(?:被)?\s*(宣布失效|废止|失效|修改|修订|停止执行)"
)
_RE_TITLE_VALIDITY = re.compile(r"[（(【\[]\s*(已废止|废止|已失效|失效|已修改|已修订|部分失效|现行有效|有效)\s*[）)】\]]")
_CN_SIMPLE = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "半": 0.5}


def _number(text: str) -> float | None:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text in _CN_SIMPLE:
        return float(_CN_SIMPLE[text])
    if text.startswith("十") and len(text) == 2 and text[1] in _CN_SIMPLE:
        return 10.0 + _CN_SIMPLE[text[1]]
    return None


# --------------------------------------------------------------------------------------------
# Kind classification
# --------------------------------------------------------------------------------------------

_ANNUAL_XXGK = re.compile(r"(政府信息公开|信息公开|政务公开)(工作)?(年度)?(报告|年报)|政府信息公开年报")
_ANNUAL_SITE = re.compile(r"(政府)?网站(工作)?年度报表|网站年报|网站工作年度报告")
_INTERP_TITLE = re.compile(r"解读|图解|一图(读懂|看懂|了解|速览|读|看|解)|图说|答记者问|政策问答|答问|问答|读懂|起草说明|政策说明|一图全览|划重点")
_INTERP_NOT = re.compile(r"解读会|解读培训|宣讲会|召开|举办|开展|座谈|调研|走访|培训班|会议")
_CONSULT_FEEDBACK = re.compile(r"采纳情况|意见采纳|意见(?:的)?反馈|反馈情况|采纳结果|征求意见(?:情况|结果)|征集(?:情况|结果)|意见建议(?:采纳|办理)")
_CONSULT_CALL = re.compile(r"征求意见|征集意见|意见征集|公开征求|(?:征求|征集).{0,40}?(?:意见|建议)|征求意见稿|草案.{0,6}征求|公开征集")
_NORMATIVE_CUE = re.compile(r"规范性文件")
_NOT_NORMATIVE_COL = re.compile(r"其他文件|其它文件|非规范性|政策解读|解读|清理")
_POLICY_COL = re.compile(r"政策文件|政府文件|部门文件|其他文件|其它文件|政府规章|规章|文件发布|文件公开|政策法规|法规文件|政策$|文件$|公文")
_POLICY_TITLE = re.compile(r"关于印发|办法|规定|细则|实施意见|实施方案|若干措施|决定|^.{0,30}令$|条例|通知$|意见$|规划")
_NOTICE_TITLE = re.compile(r"通知|公告|公示|通告|启事|公布|名单|招聘|招考|遴选|选调|拍卖|出让|挂牌|结果")
_NOTICE_COL = re.compile(r"通知公告|公示公告|通知|公告|公示")
_NEWS_COL = re.compile(r"动态|要闻|新闻|资讯|图片|视频|媒体|工作|头条|聚焦|快讯|简讯|信息$|播报|报道")
_DECISION_CATALOGUE = re.compile(r"重大行政决策.{0,8}(事项)?(目录|清单|计划)")
_REPEAL_LIST = re.compile(
    r"(废止|失效|宣布失效|清理).{0,30}(规范性文件|文件|规章|政策)|规范性文件.{0,12}(清理|废止|失效)|(废止|失效)(文件)?(目录|清单)"
    # single-document decisions: 关于废止《…》的决定, 关于宣布失效…的通知, 关于废止示政规〔2019〕3号文件的通知
    r"|关于(?:宣布)?(?:废止|失效|撤销|停止执行)|(?:废止|宣布失效).{0,60}的(?:决定|通知|公告)$"
)
_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年?度?|([〇○零一二三四五六七八九]{4})\s*年")


def classify_kind(title: str | None, column: str | None = None, *, topic: str | None = None, has_doc_number: bool = False,
                  has_validity_field: bool = False, has_registration: bool = False) -> tuple[str, str | None, str]:
    """(kind, subkind, reason) from the cues a human assessor uses: title, column, metadata.

    Order matters: an interpretation quotes its document's 文号, a consultation notice is a 公告,
    an annual report sits in a 通知 column — so the more specific kinds are decided first.
    """

    t = normalize(title or "")
    c = normalize(column or "")
    tp = normalize(topic or "")
    if _ANNUAL_SITE.search(t):
        return "annual_report", "website_annual_report", "title:网站年度报表"
    if _ANNUAL_XXGK.search(t) and re.search(r"年度|年报|\d{4}|[〇○零一二三四五六七八九]{4}", t):
        return "annual_report", "xxgk_annual_report", "title:信息公开年度报告"
    if _INTERP_TITLE.search(t) and not _INTERP_NOT.search(t):
        return "interpretation", None, "title:解读"
    if re.search(r"解读", c) and not re.search(r"通知公告|动态|新闻", c):
        return "interpretation", None, "column:解读"
    if re.search(r"解读", tp):
        return "interpretation", None, "topic:解读"
    if _CONSULT_FEEDBACK.search(t) and re.search(r"意见|征集|征求|建议", t):
        return "consultation", "consultation_feedback", "title:意见采纳反馈"
    if _CONSULT_CALL.search(t):
        return "consultation", "consultation_call", "title:征求意见"
    if re.search(r"征集|征求|意见", c) and re.search(r"意见|征集|征求", c):
        return "consultation", None, "column:意见征集"
    if has_registration:
        return "normative", None, "field:登记号"
    if _NORMATIVE_CUE.search(tp) and not re.search(r"非规范性|其他", tp):
        return "normative", None, "topic:规范性文件"
    if _NORMATIVE_CUE.search(c) and not _NOT_NORMATIVE_COL.search(c):
        return "normative", None, "column:规范性文件"
    if has_doc_number and has_validity_field and not _POLICY_COL.search(c):
        return "normative", None, "文号+有效性"
    if _POLICY_COL.search(c) or re.search(r"政策文件|公文|文件", tp):
        return "policy", None, "column:政策文件"
    if has_doc_number and (_POLICY_TITLE.search(t) or not c):
        return "policy", None, "文号"
    if _NOTICE_COL.search(c):
        return "notice", None, "column:通知公告"
    if _NEWS_COL.search(c):
        return "news", None, "column:动态"
    if has_doc_number:
        return "policy", None, "文号"
    if re.search(r"通知|公告|公示|通告", tp):
        return "notice", None, "topic:通知公告"
    if _NOTICE_TITLE.search(t):
        return "notice", None, "title:通知公告"
    return "other", None, "no cue"


def title_key(title: str | None) -> str:
    """A title reduced to what identifies a document across pages.

    Strips the wrapper an interpretation or consultation puts around a title ("关于印发《…》的通知",
    "《…》政策解读", "（征求意见稿）"), brackets, punctuation and whitespace.
    """

    t = normalize(title or "")
    t = re.sub(r"[（(【\[]\s*(征求意见稿|草案|送审稿|试行|暂行|修订|修订稿|讨论稿|已废止|废止|已失效|失效|有效|已修改)\s*[）)】\]]", "", t)
    t = re.sub(r"[\s\u3000《》〈〉“”\"'‘’「」『』、，,。.：:；;！!？?·•\-—_（）()【】\[\]〔〕]+", "", t)
    t = re.sub(r"(政策)?(解读|图解|问答)(材料|稿)?$", "", t)
    t = re.sub(r"^(一图(读懂|看懂|了解)|图解|解读|政策解读)", "", t)
    t = re.sub(r"^.{0,30}?关于(印发|转发|公布|发布)?", "", t)
    t = re.sub(r"^(印发|转发|公布|发布)", "", t)
    t = re.sub(r"的(通知|公告|通告|决定|批复|函)$", "", t)
    return t


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------

_ARTICLE_META = {"articletitle": "ArticleTitle", "title": "title", "og:title": "og:title"}
_PUBDATE_META = ("pubdate", "publishdate", "firstpublishedtime", "article:published_time", "dc.date", "dc.date.issued",
                 "publishtime", "releasedate", "createdate", "updatetime")
_RELATION = (
    ("interpretation", re.compile(r"解读|图解|一图|问答|答记者问|图说|政策说明|起草说明")),
    ("original", re.compile(r"原文|原件|文件全文|政策文件|相关文件|关联文件|相关政策|相关链接|原政策")),
)
_RELATED_LABEL = re.compile(
    r"^[\s【\[]*(相关解读|政策解读|解读材料|相关政策解读|解读文章|解读链接|图文解读|图片解读|视频解读|文字解读|"
    r"原文链接|政策原文|文件原文|原文件|相关文件|关联文件|相关政策|关联政策|相关链接|关联解读|解读)[\s】\]]*[:：]?\s*$"
)


@dataclass
class _Found:
    value: Any
    source: str


class _Collector:
    """Keeps, per field, the first value found and any later one that disagrees."""

    def __init__(self) -> None:
        self.values: dict[str, _Found] = {}
        self.conflicts: dict[str, list[dict[str, str]]] = {}

    def put(self, name: str, value: Any, source: str) -> None:
        if value is None or value == "":
            return
        if name not in self.values:
            self.values[name] = _Found(value, source)
        elif self.values[name].value != value:
            self.conflicts.setdefault(name, [{"value": str(self.values[name].value), "source": self.values[name].source}])
            self.conflicts[name].append({"value": str(value), "source": source})

    def get(self, name: str) -> Any:
        found = self.values.get(name)
        return found.value if found else None

    def source(self, name: str) -> str | None:
        found = self.values.get(name)
        return found.source if found else None


def _label_pairs(cells: list[tuple[str, Any]]) -> list[tuple[str, str, str, int]]:
    """(field, label as written, value, cell index) for each "label：value" in the cells."""

    pairs: list[tuple[str, str, str, int]] = []
    n = len(cells)
    i = 0
    while i < n:
        text = normalize(cells[i][0])
        m = _RE_LABEL_CELL.match(text)
        consumed_next = False
        if m:
            fld, name = _label_field(m["label"])
            rest = m["rest"].strip()
            if m["colon"] is None and rest:
                # "日期范围…" or a heading that begins like a label: not a label cell.
                m = None
            else:
                segments = _split_inline(rest)
                first_value = segments[0][1] if segments else rest
                if not first_value.strip() or _PUNCT_ONLY.match(first_value):
                    # value sits in the next cell (table/dl/span layouts)
                    j = i + 1
                    while j < n and _PUNCT_ONLY.match(cells[j][0]):
                        j += 1
                    if j < n and not _starts_with_label(normalize(cells[j][0])):
                        value = normalize(cells[j][0]).strip()
                        pairs.append((fld, name, value, i))
                        consumed_next = True
                        i = j
                    else:
                        pairs.append((fld, name, "", i))
                else:
                    pairs.append((fld, name, first_value.strip(), i))
                for sub_label, sub_value in segments[1:]:
                    sf, sn = _label_field(sub_label)
                    pairs.append((sf, sn, sub_value.strip(), i))
        if not m:
            # labels inside running text: "来源：市政府办 发布时间：2023-05-29 浏览次数：12"
            for sub_label, sub_value in _split_inline(text, require_start=False):
                sf, sn = _label_field(sub_label)
                pairs.append((sf, sn, sub_value.strip(), i))
        if not consumed_next:
            i += 1
        else:
            i += 1
    return pairs


def _header_row_pairs(root: Any, cells: list[tuple[str, Any]], noisy: set[Any]) -> list[tuple[str, str, str, int]]:
    """Tables whose first row holds only labels and the next row the values (column layout)."""

    index = {holder: i for i, (_, holder) in enumerate(cells)}
    pairs: list[tuple[str, str, str, int]] = []
    for tr in root.iter("tr"):
        if tr in noisy:
            continue
        heads = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
        if len(heads) < 2:
            continue
        labels = []
        for c in heads:
            m = _RE_LABEL_CELL.match(normalize(_text(c)))
            if not m or m["rest"].strip():
                labels = []
                break
            labels.append(m["label"])
        if not labels:
            continue
        nxt = tr.getnext()
        while nxt is not None and not (isinstance(nxt.tag, str) and nxt.tag == "tr"):
            nxt = nxt.getnext()
        if nxt is None:
            continue
        following = [r for r in nxt.itersiblings() if isinstance(r.tag, str) and r.tag == "tr"]
        if len(following) >= 2:
            continue  # a header over many rows is a list of documents (标题 | 文号 | 发布日期), not metadata
        values = [c for c in nxt if isinstance(c.tag, str) and c.tag in ("td", "th")]
        if len(values) != len(labels):
            continue
        if any(_label_field(label)[0] == "title" and any(len(_text(a)) >= 6 for a in value.iter("a"))
               for label, value in zip(labels, values, strict=True)):
            continue  # the title links to another page: a (short) list of documents, not this page's metadata
        if any(_starts_with_label(normalize(_text(v))) for v in values):
            continue
        for label, value in zip(labels, values, strict=True):
            fld, name = _label_field(label)
            pairs.append((fld, name, normalize(_text(value)), index.get(heads[0], 0)))
    return pairs


_VALIDITY_WORD = re.compile(r"^[\s【\[(（]*(现行有效|有效|已失效|失效|已废止|废止|已修改|已被修改|部分修改|已修订)[\s】\])）]*$")
_BADGE_MARK = re.compile(r"badge|tag|label|status|state|yxx|sxx|youxiao|shixiao|flag|stamp|mark", re.I)


def _validity_badge(body: Any, cells: list[tuple[str, Any]], heading_idx: int | None, noisy: set[Any]
                    ) -> tuple[str, str] | None:
    """A validity word shown on its own as a badge or stamp next to the heading (no label)."""

    for el in body.iter("span", "em", "i", "b", "div", "p", "label", "sup"):
        mark = _marker(el)
        if mark.strip() and _BADGE_MARK.search(mark) and el not in noisy:
            m = _VALIDITY_WORD.match(normalize(_text(el)))
            if m:
                return m[1], f"badge:{el.tag}.{mark.split()[0]}"
    if heading_idx is not None:
        for k in range(max(0, heading_idx - 2), min(len(cells), heading_idx + 3)):
            m = _VALIDITY_WORD.match(normalize(cells[k][0]))
            if m and k != heading_idx:
                return m[1], "body:beside-heading"
    return None


def _in_list_entry(holder: Any) -> bool:
    """A label inside a list entry that links elsewhere ("<li><a>其他文章</a> 发布时间：…</li>")."""

    el = holder
    for _ in range(4):
        if el is None:
            return False
        if isinstance(el.tag, str) and el.tag in ("li", "dd", "tr"):
            links = [a for a in el.iter("a") if len(_text(a)) >= 4]
            if not links:
                return False
            labels = len(_RE_LABEL_INLINE.findall(normalize(_text(el))))
            return labels <= 1
        el = el.getparent()
    return False


def _starts_with_label(text: str) -> bool:
    m = _RE_LABEL_CELL.match(text)
    return bool(m and (m["colon"] is not None or not m["rest"].strip()))


def _split_inline(text: str, require_start: bool = True) -> list[tuple[str, str]]:
    """Split "A：x B：y" into [(A, x), (B, y)]; with require_start the text starts with a value."""

    hits = list(_RE_LABEL_INLINE.finditer(text))
    out: list[tuple[str, str]] = []
    if require_start:
        # text is the rest after a first label: its value runs up to the first inline label
        cut = hits[0].start() if hits else len(text)
        out.append(("", text[:cut]))
    for k, h in enumerate(hits):
        end = hits[k + 1].start() if k + 1 < len(hits) else len(text)
        if not require_start and h.start() > 0 and re.match(r"[\u4e00-\u9fa5]", text[h.start() - 1]):
            # "本次会议时间：" – the label is the tail of a longer phrase, not a field label;
            # only accept generic words when they start a segment.
            name = re.sub(r"\s+", "", h["label"])
            if _LABEL_FIELD.get(name) in ("publish_generic", "title", "topic", "source", "ignore") or len(name) <= 2:
                continue
        out.append((h["label"], text[h.end():end]))
    return out


def _tree_of(html: str | bytes, encoding: str | None = None) -> Any:
    if isinstance(html, bytes):
        html = html.decode(_codec(encoding), errors="replace")
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _codec(encoding: str | None) -> str:
    enc = (encoding or "utf-8").lower()
    return "gb18030" if enc in ("gb2312", "gbk", "gb_2312-80", "x-gbk") else enc


def _meta(tree: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for el in tree.iter("meta"):
        name = el.get("name") or el.get("property") or el.get("itemprop")
        if name and name not in out:
            out[name] = (el.get("content") or "").strip()
    return out


def _text(el: Any) -> str:
    return " ".join(" ".join(el.itertext()).split())


def _title_tag(tree: Any) -> str:
    t = tree.find(".//title")
    return " ".join((t.text_content() if t is not None else "").split())


def _heading(tree: Any, body: Any, title_tag: str, noisy: set[Any]) -> tuple[str | None, str]:
    """The article heading: an h1/h2 or a title-marked block that agrees with ``<title>``."""

    tnorm = re.sub(r"\s+", "", title_tag)
    candidates: list[tuple[int, str, str]] = []
    order = 0
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        order += 1
        if el in noisy:
            continue
        tag = el.tag
        mark = _marker(el)
        is_h = tag in ("h1", "h2", "h3")
        is_marked = bool(mark.strip()) and bool(_HEADING_MARK.search(mark)) and not _BAD_HEADING_MARK.search(mark)
        if not (is_h or is_marked):
            continue
        text = _text(el)
        if not (4 <= len(text) <= 200):
            continue
        if len(el.findall(".//a")) > 1 or el.find(".//li") is not None or el.find(".//table") is not None:
            continue  # a list, not a heading
        score = 0
        compact = re.sub(r"\s+", "", text)
        if tnorm and compact and (compact in tnorm or tnorm in compact):
            score += 4
        if tag == "h1":
            score += 2
        elif is_marked:
            score += 2
        elif tag == "h2":
            score += 1
        if _RE_LABEL_CELL.match(normalize(text)):
            continue
        candidates.append((score, text, f"heading:{tag}" + (f".{(el.get('class') or el.get('id') or '').split()[0]}" if mark.strip() else "")))
    if not candidates:
        return None, ""
    best = max(candidates, key=lambda c: c[0])  # first of the best (max keeps the first)
    return best[1], best[2]


def _title_from_title_tag(title_tag: str, site_hint: str | None = None) -> str | None:
    if not title_tag:
        return None
    parts = [p.strip() for p in re.split(r"\s*(?:_|\||｜|--|—|–| - |-)\s*", title_tag) if p.strip()]
    if not parts:
        return None
    # the site name is the short part ending in 政府/网/门户…; the article title is the longest part
    parts.sort(key=len, reverse=True)
    return parts[0]


def _breadcrumb(body: Any) -> str | None:
    for el in body.iter("div", "p", "span", "nav", "ul", "ol", "td"):
        mark = _marker(el)
        text = _text(el)
        if not text or len(text) > 160:
            continue
        lead = (el.text or "").strip()
        if not lead and len(el) and isinstance(el[0].tag, str) and el[0].tag in ("span", "strong", "b", "label", "em", "i", "font"):
            lead = _text(el[0])
        if (mark.strip() and _BREADCRUMB_MARK.search(mark)) or _BREADCRUMB_TEXT.match(lead):
            anchors = [_text(a) for a in el.iter("a") if _text(a)]
            body_text = _BREADCRUMB_TEXT.sub("", text)
            parts = [p for p in _CRUMB_SPLIT.split(body_text) if p.strip()]
            if len(parts) < 2 and len(anchors) < 2:
                continue
            items = anchors if len(anchors) >= len(parts) - 1 and anchors else parts
            items = [i for i in items if i not in ("正文", "详情", "内容", "浏览", "文章", "正文内容", "详细内容")]
            if items and items[-1] not in ("首页", "网站首页"):
                return items[-1].strip()
    return None


_ORG_SUFFIX = re.compile(r"(政府|办公室|办公厅|局|委员会|委|厅|部|院|中心|处|所|站|队|会|办|公司|街道办事处|管委会|小组)\s*(（印）|\(印\))?$")


def _content_block(body: Any, noisy: set[Any]) -> Any:
    """The element holding the article text: the parent of the most paragraph text."""

    best, best_len = None, 0
    scores: dict[Any, int] = {}
    for p in body.iter("p", "div", "span", "font", "td"):
        if p in noisy or any(a.tag in ("li", "a", "dd", "dt") for a in p.iterancestors()):
            continue
        if p.tag == "p":
            # a paragraph from Word is a run of spans (TRS keeps every run): its text is all of it
            own = "".join(t for t in p.itertext() if t).strip()
        else:
            own = "".join(t for t in [p.text or ""] + [c.tail or "" for c in p]).strip()
        if len(own) < (2 if p.tag == "p" else 8):
            continue
        parent = p.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + len(own)
    for el, n in scores.items():
        if n > best_len:
            best, best_len = el, n
    return best


# Titles that name a column, not a document: a page titled only this is a column or list page.
# The rule pack's ``documents.column_title_names`` is authoritative (the enrichment passes it in);
# this copy is the default for direct callers and is kept equal to the national pack by a test.
COLUMN_TITLE_NAMES: tuple[str, ...] = (
    "行政规范性文件", "规范性文件", "政策文件", "其他文件", "其它文件", "政府文件", "部门文件", "政府规章", "规章", "政策法规",
    "法规文件", "文件发布", "文件公开", "政策解读", "通知公告", "公示公告", "政务公开", "政府信息公开", "信息公开",
    "法定主动公开内容", "主动公开", "政务动态", "工作动态", "新闻中心", "要闻动态", "政府公报", "废止文件", "失效文件",
    "文件清理", "规范性文件清理", "政府信息公开年报", "重大行政决策", "意见征集",
)
# Titles of routine documents that are never 行政规范性文件 nor need a 解读 (任免, 表彰, 通报,
# 会议通知, 批复…): pack ``interpretation.scope_exclude_title_patterns`` is authoritative; this copy is
# the default for direct callers, kept equal to the national pack by a test.
ROUTINE_TITLE_PATTERNS: tuple[str, ...] = (
    "任免", "任职", "免职", "任命", "聘任", "聘用", "职务", "挂职",
    "试用期", "转正", "干部任前", "表彰", "表扬", "嘉奖", "记功", "授予.{0,30}称号",
    "先进(集体|个人|单位|工作者)", "通报$", "通报批评", "情况的通报", "会议(的)?通知$", "召开.{0,40}会议", "会议纪要", "参加.{0,30}(会议|培训)",
    "举办.{0,30}(培训|活动)", "批复", "复函", "的函$", "答复", "回复", "名单", "公示",
    "放假", "值班", "节假日", "领导小组", "工作专班", "指挥部", "组成人员", "成员(单位)?(调整|名单)",
    "转发", "处分", "处理决定", "工作总结", "工作报告", "述职",
)
_COLUMN_SUFFIX = re.compile(r"(栏目|专栏|列表|目录|首页|频道)$")
_PAGINATION = re.compile(r"共\s*\d+\s*页|共\s*\d+\s*条(?:记录|信息|数据)|下一页|尾页|末页|上一页|第\s*\d+\s*/\s*\d+\s*页|createPageHTML")


def is_column_title(title: str | None, names: tuple[str, ...] | frozenset[str] | list[str] | None = None) -> bool:
    """Whether a title is just a column name (行政规范性文件, 政策文件…), so not a document's."""

    if not title:
        return False
    t = re.sub(r"[\s\u3000《》“”\"'【】\[\]]+", "", normalize(title))
    t = _COLUMN_SUFFIX.sub("", t) or t
    return t in set(COLUMN_TITLE_NAMES if names is None else names)


def routine_text(title: str | None) -> str:
    """The part of a title that says what kind of document it is: without the titles it quotes."""

    return re.sub(r"《[^《》]*》", "", normalize(title or ""))


def routine_title(title: str | None, patterns: tuple[str, ...] | list[str] | None = None) -> str | None:
    """The routine-kind pattern a title matches (任职, 表彰…), None if it matches none.

    Titles quoted in 《》 are left out: "关于印发《干部任职回避办法》的通知" issues a policy,
    "关于《…实施方案》的批复" is still a 批复.
    """

    t = routine_text(title)
    for pattern in ROUTINE_TITLE_PATTERNS if patterns is None else patterns:
        try:
            if re.search(str(pattern), t):
                return str(pattern)
        except re.error:
            continue  # a bad pattern in a local pack is skipped, never fatal
    return None


def demote_routine(rec: DocumentRecord, patterns: tuple[str, ...] | list[str] | None = None) -> None:
    """A 文号 and a 有效性 field are on every TRS 政务公开 page, so "normative" inferred from them
    alone is wrong for a 任职通知 or a 表彰通报: such a record is an ordinary policy document
    (其他文件), with the pattern that decided it in its sources."""

    if rec.kind != "normative" or not (rec.sources.get("kind") or "").startswith("文号+有效性"):
        return
    hit = routine_title(rec.title, patterns)
    if hit:
        rec.kind = "policy"
        rec.sources["kind"] = f"文号; routine title ({hit}), not a 行政规范性文件"


def extract_html(url: str, html: str | bytes, encoding: str | None = None, *,
                 column_names: tuple[str, ...] | list[str] | None = None,
                 routine_titles: tuple[str, ...] | list[str] | None = None) -> DocumentRecord | None:
    """Convenience for tests and tools: extract from raw HTML."""

    tree = _tree_of(html, encoding)
    if tree is None:
        return None
    return extract_document_tree(url, tree, _meta(tree), column_names=column_names, routine_titles=routine_titles)


def extract_document(page: Any, *, column_names: tuple[str, ...] | list[str] | None = None,
                     routine_titles: tuple[str, ...] | list[str] | None = None) -> DocumentRecord | None:
    """The document record of a stored page (:class:`auditor.context.PageView`), None if the page
    is not a document (a list page, the homepage, an error page, an attachment).

    ``column_names`` are the titles that name a column rather than a document (pack
    ``documents.column_title_names``; :data:`COLUMN_TITLE_NAMES` when not given);
    ``routine_titles`` the routine kinds that are never 行政规范性文件 (pack
    ``interpretation.scope_exclude_title_patterns``; :data:`ROUTINE_TITLE_PATTERNS`).
    """

    if getattr(page, "kind", "html") != "html" or getattr(page, "tree", None) is None:
        return None
    status = getattr(page, "status", 200)
    if status is not None and status >= 400:
        return None
    return extract_document_tree(page.final_url or page.url, page.tree, dict(page.meta or {}),
                                 encoding=getattr(page, "encoding", "utf-8"), key_url=page.url,
                                 column_names=column_names, routine_titles=routine_titles)


def _prose_length(block: Any) -> int:
    """Characters of text in the block that are not link text."""

    total = len(_text(block))
    links = sum(len(_text(a)) for a in block.iter("a"))
    return max(0, total - links)


def _dated_links(root: Any, noisy: set[Any]) -> tuple[int, Any]:
    """The largest list of links that sit next to dates: (its number of dated links, the list element).

    A list page is built around such a list; an article page may have one too, beside the article
    (a sidebar of other items), which is why callers compare it with the article block.
    """

    counts: dict[Any, int] = {}
    for a in root.iter("a"):
        if a in noisy:
            continue
        parent = a.getparent()
        if parent is None:
            continue
        around = _text(parent)
        if len(around) < 120 and find_dates(around, year_hint=2000):
            container = next((x for x in a.iterancestors() if x.tag in ("ul", "ol", "table", "tbody", "dl")), None)
            if container is None:
                container = parent.getparent() if parent.getparent() is not None else parent
            counts[container] = counts.get(container, 0) + 1
    if not counts:
        return 0, None
    container, n = max(counts.items(), key=lambda kv: kv[1])
    return n, container


def _is_related(a: Any, b: Any) -> bool:
    """Whether one element contains the other."""

    return a is b or any(x is a for x in b.iterancestors()) or any(x is b for x in a.iterancestors())


@dataclass
class _Draft:
    """What the extraction steps of :func:`extract_document_tree` read and fill in, in order."""

    all_text: Any = None
    anchor: Any = None
    article_signals: Any = None
    banner_end: Any = None
    banner_text: Any = None
    block: Any = None
    block_text: Any = None
    body: Any = None
    cells: Any = None
    col: Any = None
    column: Any = None
    column_names: Any = None
    dated_candidates: Any = None
    dated_here: Any = None
    dated_links: Any = None
    eff_src: Any = None
    effective: Any = None
    encoding: Any = None
    end_basis: Any = None
    end_date: Any = None
    end_src: Any = None
    generic_far: Any = None
    has_table: Any = None
    heading: Any = None
    heading_idx: Any = None
    heading_src: Any = None
    key_url: Any = None
    kind: Any = None
    kind_reason: Any = None
    labelled_fields: Any = None
    list_el: Any = None
    meta: Any = None
    meta_l: Any = None
    names: Any = None
    noisy: Any = None
    number: Any = None
    number_src: Any = None
    own_column: Any = None
    paginated: Any = None
    pairs: Any = None
    period: Any = None
    prose: Any = None
    raw_no: Any = None
    rec: Any = None
    routine_titles: Any = None
    short_ok: Any = None
    strong_idx: Any = None
    subkind: Any = None
    text_for_rules: Any = None
    title: Any = None
    title_tag: Any = None
    topic: Any = None
    tree: Any = None
    url: Any = None
    url_date: Any = None
    validity: Any = None
    validity_raw: Any = None
    validity_src: Any = None


def extract_document_tree(url: str, tree: Any, meta: dict[str, str], *, encoding: str = "utf-8",
                          key_url: str | None = None,
                          column_names: tuple[str, ...] | list[str] | None = None,
                          routine_titles: tuple[str, ...] | list[str] | None = None) -> DocumentRecord | None:
    """One document record from a parsed page, or None when the page is not an article page.

    The steps run in order, each reading what the earlier ones found (:class:`_Draft`); a step that
    decides the page is not a document (only a column name as title; a list page) ends it."""

    st = _Draft(url=url, tree=tree, meta=meta, encoding=encoding, key_url=key_url, column_names=column_names,
                routine_titles=routine_titles)
    st.body = tree.find(".//body")
    if st.body is None:
        st.body = st.tree
    st.col = _Collector()
    st.title_tag = _title_tag(st.tree)

    _read_meta_tags(st)
    _read_metadata_table(st)
    if not _read_headings(st):
        return None
    _read_body_dates(st)
    _read_doc_number(st)
    _read_validity(st)
    if not _judge_page_and_build(st):
        return None
    _read_relations(st)
    _read_kind_details(st)
    return st.rec


def _read_meta_tags(st: _Draft) -> None:
    """Step 1: meta tags."""

    st.meta_l = {k.lower(): v for k, v in st.meta.items()}
    if st.meta_l.get("articletitle"):
        st.col.put("title", " ".join(st.meta_l["articletitle"].split()), "meta:ArticleTitle")
    for name in _PUBDATE_META:
        d = parse_date(st.meta_l.get(name)) or parse_date(st.meta_l.get(name), compact=True)
        if d:
            st.col.put("publish_date", d, f"meta:{_meta_name(st.meta, name)}")
            break
    if st.meta_l.get("columnname"):
        st.col.put("column", st.meta_l["columnname"].strip(), "meta:ColumnName")


def _read_metadata_table(st: _Draft) -> None:
    """Step 2: metadata table / info lines."""

    st.noisy = _noisy_elements(st.body)
    st.cells = _cells(st.body)
    st.pairs = _header_row_pairs(st.body, st.cells, st.noisy) + _label_pairs(st.cells)
    st.heading, st.heading_src = _heading(st.tree, st.body, st.title_tag, st.noisy)
    st.heading_idx = None
    if st.heading:
        st.heading_idx = next((i for i, (c, _) in enumerate(st.cells) if c.strip() == st.heading.strip()), None)
    # Strong labels only occur in a metadata table or info line; weak ones (名称, 日期, 分类, 来源…)
    # also occur in ordinary prose and tables, so they count only next to a strong one or the heading.
    st.strong_idx = [idx for fld, _, _, idx in st.pairs if fld in _STRONG_FIELDS]
    st.labelled_fields: set[str] = set()
    st.generic_far = None
    st.dated_candidates: dict[str, list[tuple[int, dt.date, str]]] = {}
    st.anchor = st.heading_idx if st.heading_idx is not None else (st.strong_idx[len(st.strong_idx) // 2] if st.strong_idx else 0)
    for fld, name, value, idx in st.pairs:
        if fld == "ignore":
            continue
        if fld in ("publish_date", "written_date", "publish_generic", "validity") and _in_list_entry(st.cells[idx][1]):
            continue  # "other article … 发布时间：…" in a sidebar list, not this page's metadata
        if fld in ("publish_date", "written_date"):
            d = parse_date(value)
            if d:
                st.dated_candidates.setdefault(fld, []).append((idx, d, f"table:{name}"))
            st.labelled_fields.add(fld)
            continue
        near_strong = any(abs(idx - k) <= 8 for k in st.strong_idx)
        near_heading = st.heading_idx is not None and 0 <= idx - st.heading_idx <= 6
        if fld in _WEAK_FIELDS and not (near_strong or near_heading):
            if fld == "publish_generic" and st.generic_far is None:
                st.generic_far = (parse_date(value), f"table:{name}")
            continue
        st.labelled_fields.add(fld)
        src = f"table:{name}"
        if fld == "effective_date":
            st.col.put(fld, parse_date(value), src)
        elif fld == "publish_generic":
            st.col.put("publish_generic", parse_date(value), src)
        elif fld == "end_date":
            st.col.put("end_date_field", parse_date(value), src)
        elif fld == "valid_period":
            dates = find_dates(value)
            if len(dates) >= 2:
                st.col.put("effective_date", dates[0][0], src)
                st.col.put("end_date_field", dates[1][0], src)
            elif len(dates) == 1 and re.search(r"至|到|截", value):
                st.col.put("end_date_field", dates[0][0], src)
            else:
                pm = re.match(rf"\s*({_NUM_CN})\s*(年|个月)", value)
                if pm and _number(pm[1]):
                    years = _number(pm[1]) or 0
                    st.col.put("period_years", years / 12 if pm[2] == "个月" else years, src)
            st.col.put("validity_hint", value, src)
        elif fld == "validity":
            st.col.put("validity_raw", value or "", src)
            ends = find_dates(value)
            if ends:
                st.col.put("end_date_field", ends[-1][0], src)
        elif fld == "doc_number":
            st.col.put("doc_number_raw", value, src)
        elif fld == "title":
            if 4 <= len(value) <= 300:
                st.col.put("title", value, src)
        elif fld == "consult_period":
            dates = find_dates(value)
            if dates:
                st.col.put("consult_start", dates[0][0], src)
            if len(dates) >= 2:
                st.col.put("consult_end", dates[1][0], src)
        elif fld == "consult_end":
            st.col.put("consult_end", parse_date(value), src)
        elif fld == "consult_start":
            st.col.put("consult_start", parse_date(value), src)
        else:
            st.col.put(fld, value[:200], src)

    for fld, cands in st.dated_candidates.items():
        # the value nearest the heading (or the metadata block) wins; others are kept as conflicts
        for _, d, src in sorted(cands, key=lambda c: (abs(c[0] - st.anchor), c[0])):
            st.col.put(fld, d, src)


def _read_headings(st: _Draft) -> bool:
    """Step 3: headings, <title>, breadcrumb."""

    if st.heading:
        st.col.put("title", st.heading, st.heading_src)
    st.col.put("title", _title_from_title_tag(st.title_tag), "title-tag")
    st.col.put("column", _breadcrumb(st.body), "breadcrumb")
    st.title = st.col.get("title")
    st.names = tuple(COLUMN_TITLE_NAMES if st.column_names is None else st.column_names)
    if is_column_title(st.title, st.names):
        # "行政规范性文件" as the heading of a column page; a real document page that carries the
        # column name as a heading still has its own title in another place (meta, table, <title>)
        others = [c["value"] for c in st.col.conflicts.get("title", [])]
        own = next((t for t in others if not is_column_title(t, st.names) and t != st.title
                    and not re.search(r"(政府|门户|网站|网)$", t)), None)
        if own is None:
            return False  # only a column name: a column or list page, not a document
        st.col.values["title"] = _Found(own, next(c["source"] for c in st.col.conflicts["title"] if c["value"] == own))
        st.title = own
    return True


def _read_body_dates(st: _Draft) -> None:
    """Step 4: body text: the article block, for dates near the title, the 落款 and validity phrases."""

    st.block = _content_block(st.body, st.noisy)
    # lines as rendered: inline runs joined as they are ("201</span><span>1〕" is "2011〕"), blocks apart
    st.block_text = normalize(" ".join(t for t, _ in _block_lines(st.block))) if st.block is not None else ""
    st.all_text = normalize(" ".join(c for c, _ in st.cells))

    # an unlabelled date just under the heading ("2023-05-29 来源：…")
    if st.col.get("publish_date") is None and st.col.get("publish_generic") is None and st.heading_idx is not None:
        for c, _ in st.cells[st.heading_idx + 1: st.heading_idx + 4]:
            cn = normalize(c)
            if len(cn) <= 80 and not _RE_LABEL_CELL.match(cn) or re.search(r"来源|浏览|点击|作者", cn):
                d = parse_date(cn)
                if d:
                    st.col.put("publish_date", d, "body:near-title")
                    break
    if st.col.get("publish_date") is None and st.col.get("publish_generic") is not None:
        st.col.put("publish_date", st.col.get("publish_generic"), st.col.source("publish_generic") or "table:日期")
    st.url_date = date_from_url(st.url)
    if st.url_date:
        st.col.put("publish_date", st.url_date, "url")
    if st.generic_far and st.generic_far[0]:
        st.col.put("publish_date", st.generic_far[0], st.generic_far[1] + "(far)")

    # 落款: a date alone on the last lines of the article block (often Chinese numerals)
    if st.block is not None:
        block_cells = _cells(st.block)[-6:]
        for k in range(len(block_cells) - 1, 0, -1):
            cn = normalize(block_cells[k][0]).strip()
            hits = find_dates(cn)
            if not (hits and len(cn) <= 20 and hits[-1][1][1] - hits[-1][1][0] >= len(cn) - 2):
                continue
            before = normalize(block_cells[k - 1][0]).strip()
            if _ORG_SUFFIX.search(before) and len(before) <= 40:
                st.col.put("written_date", hits[-1][0], "body:落款")
            break


def _read_doc_number(st: _Draft) -> None:
    """Step 5: 文号."""

    st.raw_no = st.col.get("doc_number_raw")
    st.number = parse_doc_number(st.raw_no) if st.raw_no else None
    st.number_src = st.col.source("doc_number_raw") if st.number else None
    if st.number is None and st.title:
        st.number = parse_doc_number(st.title)
        st.number_src = "title" if st.number else None
    if st.number is None and st.block is not None:
        # a 文号 printed on its own line at the top of the document (not one cited in a sentence)
        for c, holder in _cells(st.block)[:4]:
            if holder.tag in ("td", "th") or any(a.tag in ("td", "th") for a in holder.iterancestors()):
                continue  # a 文号 in a table cell is a listed document's, not this page's
            cn = normalize(c).strip()
            hits = find_doc_numbers(cn)
            if hits and len(cn) <= len(str(hits[0][0])) + 6:
                st.number, st.number_src = hits[0][0], "body:head"
                break


def _read_validity(st: _Draft) -> None:
    """Step 6: validity: marking, stated end, period."""

    st.validity_raw = st.col.get("validity_raw")
    st.validity = validity_from_text(st.validity_raw) if st.validity_raw is not None else None
    st.validity_src = st.col.source("validity_raw") if st.validity else None
    if st.validity is None and st.col.get("validity_hint"):
        v = validity_from_text(st.col.get("validity_hint"))
        if v:
            st.validity, st.validity_src = v, st.col.source("validity_hint")
    if st.validity is None and st.title:
        tm = next((m for m in (_RE_TITLE_VALIDITY.search(normalize(t)) for t in (st.title, st.heading or "", st.title_tag)) if m), None)
        if tm:
            st.validity, st.validity_src, st.validity_raw = validity_from_text(tm[1]), "title", tm[1]
    if st.validity is None:
        badge = _validity_badge(st.body, st.cells, st.heading_idx, st.noisy)
        if badge:
            st.validity, st.validity_src, st.validity_raw = validity_from_text(badge[0]), badge[1], badge[0]
    st.banner_text = normalize(st.all_text)
    bm = _RE_BANNER.search(st.banner_text)
    st.banner_end = None
    if bm:
        v = validity_from_text(bm[2])
        if st.validity is None and v:
            st.validity, st.validity_src, st.validity_raw = v, "body:banner", bm[0]
        if bm[1]:
            st.banner_end = parse_date(bm[1])
    st.text_for_rules = st.block_text or st.all_text
    st.effective = st.col.get("effective_date")
    st.eff_src = st.col.source("effective_date")
    sm = _RE_START.search(st.text_for_rules)
    if sm and st.effective is None:
        token = sm["date"]
        d = parse_date(token)
        if d:
            st.effective, st.eff_src = d, "body:自…起施行"
        elif "印发" in token or "下发" in token or "签发" in token or "发文" in token:
            st.effective = st.col.get("written_date") or st.col.get("publish_date")
            st.eff_src = "body:自印发之日起施行→" + (st.col.source("written_date") or st.col.source("publish_date") or "")
        else:
            st.effective = st.col.get("publish_date") or st.col.get("written_date")
            st.eff_src = "body:自发布之日起施行→" + (st.col.source("publish_date") or st.col.source("written_date") or "")
    if st.effective is None:
        bare = _RE_START_BARE.search(st.text_for_rules)
        if bare:
            st.effective, st.eff_src = parse_date(bare[1]), "body:…起施行"
    st.end_date, st.end_basis, st.end_src = None, None, None
    if st.col.get("end_date_field"):
        st.end_date, st.end_basis, st.end_src = st.col.get("end_date_field"), "field", st.col.source("end_date_field")
    st.period = st.col.get("period_years")
    m_until = _RE_VALID_UNTIL.search(st.text_for_rules) or _RE_VALID_RANGE.search(st.text_for_rules)
    if st.end_date is None and m_until:
        st.end_date = parse_date(m_until.groups()[-1])
        st.end_basis, st.end_src = "stated", "body:有效期至"
        if m_until.re is _RE_VALID_RANGE and st.effective is None:
            st.effective, st.eff_src = parse_date(m_until[1]), "body:有效期"
    if st.period is None:
        pm = _RE_VALID_PERIOD.search(st.text_for_rules)
        if pm and _number(pm[1]):
            n = _number(pm[1]) or 0
            st.period = n / 12 if pm[2] == "个月" else n
            st.col.put("period_years", st.period, "body:有效期X年")
    if st.end_date is None and st.period:
        start = st.effective or st.col.get("written_date") or st.col.get("publish_date")
        if start:
            st.end_date = _add_period(start, st.period)
            start_src = st.eff_src if st.effective else (st.col.source("written_date") if st.col.get("written_date") else st.col.source("publish_date"))
            st.end_basis, st.end_src = "period", f"{st.col.source('period_years')}+{start_src}"
    own = _RE_OWN_REPEAL.search(st.text_for_rules)
    if own and (st.end_date is None or st.end_basis == "period"):
        st.end_date, st.end_basis, st.end_src = parse_date(own[1]), "repeal_stated", "body:自…起废止"
    if st.banner_end and st.end_date is None:
        st.end_date, st.end_basis, st.end_src = st.banner_end, "repeal_stated", "body:banner"


def _judge_page_and_build(st: _Draft) -> bool:
    """Step 7: page type: only article pages become documents."""

    st.has_table = len(st.labelled_fields & {"index_number", "publisher", "written_date", "doc_number", "validity",
                                       "publish_date"}) >= 2
    if not st.title:
        return False
    st.dated_links, st.list_el = _dated_links(st.body, st.noisy)
    st.prose = _prose_length(st.block) if st.block is not None else 0
    st.dated_here = st.col.source("publish_date") not in (None, "url")
    # a short article is still an article when the page dates it and has a title of its own
    st.short_ok = st.dated_here and st.prose >= 15
    st.article_signals = bool(st.meta_l.get("articletitle")) or st.has_table or st.prose >= 60 or st.short_ok or (
        bool(st.heading) and st.prose >= 20)
    st.paginated = bool(_PAGINATION.search(st.all_text))
    st.own_column = st.col.get("column")
    if st.own_column and (st.paginated or st.dated_links >= 2) and is_column_title(st.title, (re.sub(r"\s+", "", normalize(st.own_column)),)):
        return False  # titled with its own column's name (人事任免) and listing dated links: the column page
    if st.dated_links >= 6 and (st.paginated or not st.has_table and not st.meta_l.get("articletitle")):
        beside = st.block is not None and st.list_el is not None and not _is_related(st.block, st.list_el)
        if not (beside and (st.heading or st.dated_here) and (st.prose >= 40 or st.short_ok)):
            return False  # a list/column page: its main content is a list of dated links
    if not st.article_signals:
        return False

    st.column = st.col.get("column")
    st.topic = st.col.get("topic")
    st.kind, st.subkind, st.kind_reason = classify_kind(
        st.title, st.column, topic=st.topic, has_doc_number=st.number is not None,
        has_validity_field="validity" in st.labelled_fields or st.validity is not None,
        has_registration=bool(st.col.get("registration")),
    )

    st.rec = DocumentRecord(url=st.key_url or st.url, title=st.title, column=st.column, kind=st.kind, subkind=st.subkind)
    st.rec.publish_date = st.col.get("publish_date")
    st.rec.written_date = st.col.get("written_date")
    st.rec.effective_date = st.effective
    st.rec.end_date = st.end_date
    st.rec.end_basis = st.end_basis
    st.rec.validity = st.validity
    st.rec.validity_raw = st.validity_raw if st.validity_raw not in ("",) else None
    st.rec.validity_period_years = st.period
    st.rec.doc_number = str(st.number) if st.number else None
    st.rec.doc_number_raw = st.raw_no
    st.rec.index_number = st.col.get("index_number")
    st.rec.publisher = st.col.get("publisher") or st.meta_l.get("contentsource") or st.col.get("source")
    if st.rec.publisher and not st.col.get("publisher"):
        st.col.put("publisher", st.rec.publisher, "meta:ContentSource" if st.meta_l.get("contentsource") else st.col.source("source") or "")
    st.rec.registration = st.col.get("registration")
    st.rec.topic = st.topic
    sources = {k: f.source for k, f in st.col.values.items()
               if k in ("title", "column", "publish_date", "written_date", "index_number", "publisher", "topic",
                        "registration")}
    sources["kind"] = st.kind_reason
    if st.number_src:
        sources["doc_number"] = st.number_src
    if st.validity_src:
        sources["validity"] = st.validity_src
    if st.eff_src and st.effective:
        sources["effective_date"] = st.eff_src
    if st.end_src and st.end_date:
        sources["end_date"] = st.end_src
    st.rec.sources = sources
    demote_routine(st.rec, st.routine_titles)
    st.kind = st.rec.kind
    st.rec.conflicts = {k: v for k, v in st.col.conflicts.items()
                     if k in ("publish_date", "written_date") or k == "title" and all(c["source"] != "title-tag" for c in v)}
    return True


def _read_relations(st: _Draft) -> None:
    """Step 8: links to and from interpretations / originals."""

    st.rec.related = list(_related_links(st.body, st.url, st.encoding, st.noisy))
    refs_titles = [t for t in re.findall(r"《([^《》]{4,80})》", st.text_for_rules)][:20]
    if st.title:
        refs_titles = re.findall(r"《([^《》]{4,80})》", normalize(st.title)) + refs_titles
    refs_numbers = [str(n) for n, _ in find_doc_numbers(st.text_for_rules[:4000])][:20]
    st.rec.refs = {"titles": _dedupe(refs_titles)[:20], "numbers": _dedupe(refs_numbers)[:20]}


def _read_kind_details(st: _Draft) -> None:
    """Step 9: kind-specific details."""

    if st.kind == "interpretation":
        st.rec.formats = _formats(st.title, st.body)
    if st.kind == "annual_report":
        st.rec.report = _report_info(st.title, st.subkind)
    if _DECISION_CATALOGUE.search(normalize(st.title)):
        st.rec.subkind = st.rec.subkind or "decision_catalogue"
        st.rec.catalogue_year = _year_of(st.title) or (st.rec.publish_date.year if st.rec.publish_date else None)
    if st.kind == "consultation":
        st.rec.consultation = _consultation(st.col, st.text_for_rules, st.rec.publish_date)
        if st.rec.subkind is None:
            st.rec.subkind = "consultation_feedback" if _CONSULT_FEEDBACK.search(normalize(st.title)) else "consultation_call"
    if _REPEAL_LIST.search(normalize(st.title)) and st.kind not in ("interpretation", "news"):
        ends_on = st.rec.effective_date or st.rec.publish_date or st.rec.written_date
        scope = st.block if st.block is not None else st.body
        while scope.tag in ("tr", "tbody", "thead", "td", "th", "table") and scope.getparent() is not None:
            scope = scope.getparent()  # a list held in a table: read the whole table and the text around it
        st.rec.repeal_list = parse_repeal_notice(st.title, _block_lines(scope),
                                              own_number=st.rec.doc_number, own_title=st.title, effective=ends_on)
        st.rec.subkind = st.rec.subkind or "repeal_list"


# --------------------------------------------------------------------------------------------
# Repeal and cleanup notices (废止决定, 清理结果): which listed documents end, and which do not
# --------------------------------------------------------------------------------------------

# What a section or clause decides about the documents it lists. Only 废止 and 失效 end a
# document's validity; 修改 (also 适时修改, 拟修改) and 继续有效 leave it in force.
_DISPOSITION_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("keep", re.compile(r"继续有效|继续执行|继续施行|予以保留|保留|现行有效")),
    ("amend", re.compile(r"修改|修订|修正")),
    ("repealed", re.compile(r"废止|撤销|停止执行")),
    ("expired", re.compile(r"失效|不再执行|不再施行")),
)
ENDING_DISPOSITIONS = ("repealed", "expired")
_PARTIAL_END = re.compile(r"部分(?:条款|内容|规定)?(?:失效|废止|停止执行)")
_HEADING_LEAD = re.compile(r"^\s*(?:[(（]?[一二三四五六七八九十\d]{1,3}[)）、.．]|附件\s*\d*\s*[:：]?|第[一二三四五六七八九十\d]+部分)")
_BASIS_LEAD = re.compile(r"^\s*(?:根据|按照|依据|依照|为了|为|鉴于|经)")
_CLAUSE_SPLIT = re.compile(r"[，,；;。]")
_DATED_END = re.compile(rf"(?:于|自)\s*({_DATE_CN})\s*(?:起)?\s*(?:废止|失效|停止执行)")
_ROW_NOISE = re.compile(r"^(?:序号|文件名称|名称|标题|文号|发文字号|制发机关|发文机关|成文日期|发布日期|备注|清理结果|清理意见|处理意见|"
                        r"清理情况|处理结果|处理建议|\d{1,4}|[-—/]+)$")


def _disposition(text: str) -> str | None:
    """What a heading, clause or table cell decides, None when it says nothing or is ambiguous.

    Cited titles (《…》) and 文号 are blanked first: a title such as 《关于废止…的决定》 listed
    under 继续有效 is not itself a 废止 decision.
    """

    bare = re.sub(r"《[^《》]*》", "", normalize(text))
    for _number, (a, b) in reversed(find_doc_numbers(bare)):
        bare = bare[:a] + bare[b:]
    if _PARTIAL_END.search(bare):
        # 部分失效 / 部分条款废止: the rest stays in force, like an amendment
        bare = _PARTIAL_END.sub("修改", bare)
    found = {name for name, rx in _DISPOSITION_WORDS if rx.search(bare)}
    if not found:
        return None
    if found & {"keep", "amend"}:
        if found & set(ENDING_DISPOSITIONS):
            return None  # "拟修改或废止", "废止X件、修改Y件、继续有效Z件": not one decision
        return "keep" if "keep" in found and "amend" not in found else "amend"
    return "repealed" if "repealed" in found else "expired"


def _block_lines(block: Any) -> list[tuple[str, list[str] | None]]:
    """The block's text as lines (blocks and ``br`` break them); a table row is one line with its cells."""

    lines: list[tuple[str, list[str] | None]] = []
    buf: list[str] = []
    row: list[str] | None = None

    def flush() -> None:
        text = " ".join("".join(buf).split())
        buf.clear()
        if text:
            if row is not None:
                row.append(text)
            else:
                lines.append((text, None))

    def walk(el: Any) -> None:
        nonlocal row
        if not isinstance(el.tag, str) or _is_noise(el):
            return
        if el.tag == "tr" and row is None:
            flush()
            row = []
            buf.append(el.text or "")
            for child in el:
                walk(child)
                buf.append(child.tail or "")
            flush()
            cells, row = row, None
            if cells:
                lines.append((" ".join(cells), cells))
            return
        block_tag = el.tag in _BLOCK_TAGS
        if block_tag:
            flush()
        buf.append(el.text or "")
        for child in el:
            walk(child)
            buf.append(child.tail or "")
        if block_tag:
            flush()

    walk(block)
    flush()
    return lines


def _items(text: str, cells: list[str] | None) -> list[tuple[str | None, str | None]]:
    """(文号, title) pairs a line lists: each 《title》 with the 文号 that follows it, lone 文号, and
    in a table row without 《》 the longest cell that is a name."""

    norm = normalize(text)
    titles = [(m.start(), m.end(), m[1].strip()) for m in re.finditer(r"《([^《》]{4,120})》", norm)]
    numbers = [(a, b, str(n)) for n, (a, b) in find_doc_numbers(norm)]
    out: list[tuple[str | None, str | None]] = []
    used: set[int] = set()
    for k, (_, end, title) in enumerate(titles):
        nxt = titles[k + 1][0] if k + 1 < len(titles) else len(norm)
        number = next(((i, n) for i, (a, _, n) in enumerate(numbers) if end <= a < nxt and i not in used), None)
        if number:
            used.add(number[0])
        out.append((number[1] if number else None, title))
    for i, (a, _b, n) in enumerate(numbers):
        if i in used or any(s <= a < e for s, e, _ in titles):
            continue  # a 文号 inside a quoted title belongs to the title
        title = None
        if cells and not titles:
            names = [c for c in cells if len(c) >= 6 and not _ROW_NOISE.match(c) and not find_doc_numbers(c)
                     and _disposition(c) is None and not find_dates(c)]
            title = max(names, key=len).strip("《》 ") if names else None
        out.append((n, title))
    if cells and not titles and not numbers:
        names = [c for c in cells if len(c) >= 8 and not _ROW_NOISE.match(c) and _disposition(c) is None]
        if names:
            out.append((None, max(names, key=len).strip("《》 ")))
    return out


_SECTION_MARK = re.compile(r"(?<![\d〔（(〈《、])(?=[一二三四五六七八九十]{1,3}、)")


def _section_split(lines: list[tuple[str, list[str] | None]]) -> Iterator[tuple[str, list[str] | None]]:
    """Lines, with a line that runs several numbered sections together ("一、废止…1.《A》二、适时修改…")
    cut at each "二、" so every section keeps its own heading."""

    for text, cells in lines:
        if cells is not None:
            yield text, cells
            continue
        for part in _SECTION_MARK.split(normalize(text)):
            if part.strip():
                yield part, None


def parse_repeal_notice(title: str | None, lines: list[tuple[str, list[str] | None]], *, own_number: str | None = None,
                        own_title: str | None = None, effective: dt.date | None = None) -> dict[str, Any]:
    """Read a 废止决定 or 清理结果 notice section by section.

    Each listed document gets the disposition of the nearest thing that decides it: a table cell
    of its row (``废止``/``继续有效``…), else its own clause ("《A》同时废止"), else the section
    heading above it ("一、决定废止的规范性文件", "三、拟修改的规范性文件"), else the title
    ("关于废止《某某办法》的决定"). Items under no decision — the preamble's legal basis, a
    cleanup notice's summary line — end nothing. Returns ``numbers``/``titles`` of the documents
    that end (废止/失效), ``kept_numbers``/``kept_titles`` of those that stay in force (修改,
    继续有效), every ``items`` entry with its section, and ``effective_date``: the day they end
    (a clause's "自…起废止" date wins for its items).
    """

    default = _disposition(title or "")
    items: list[dict[str, Any]] = []
    for number, name in _items(title or "", None):
        if default:
            items.append({"number": number, "title": name, "disposition": default, "section": "title", "date": None})
    current, section = default, "title"
    for text, cells in _section_split(lines):
        norm = normalize(text)
        listed = _items(text, cells)
        if cells is not None:
            decided_by = next(((c, d) for c, d in ((c, _disposition(c)) for c in cells if len(c) <= 16) if d), None)
            decision = decided_by[1] if decided_by else current
            for number, name in listed:
                if decision:
                    items.append({"number": number, "title": name, "disposition": decision,
                                  "section": f"表格：{decided_by[0]}" if decided_by else section, "date": None})
            continue
        heading = _disposition(norm)
        if heading and (not listed or _HEADING_LEAD.match(norm) or len(norm) <= 40 and norm.rstrip().endswith((":", "："))):
            current, section = heading, norm[:60]
        for clause in _CLAUSE_SPLIT.split(norm):
            clause_items = _items(clause, None)
            if not clause_items:
                continue
            decision = _disposition(clause)
            if decision is None and _BASIS_LEAD.match(clause):
                continue  # "根据《…》（国办发〔2018〕37号）要求": the legal basis, not a listed document
            decision = decision or current
            if decision is None:
                continue
            when = _DATED_END.search(clause)
            for number, name in clause_items:
                items.append({"number": number, "title": name, "disposition": decision, "section": section,
                              "date": parse_date(when[1]).isoformat() if when and parse_date(when[1]) else None})
    own_key = title_key(own_title) if own_title else None
    seen: set[tuple[str | None, str | None, str]] = set()
    kept: list[dict[str, Any]] = []
    for it in items:
        if own_number and it["number"] and same_doc_number(it["number"], own_number):
            continue
        if it["title"] and own_key and title_key(it["title"]) == own_key and not it["number"]:
            continue
        key = (it["number"], it["title"], it["disposition"])
        if key not in seen:
            seen.add(key)
            kept.append(it)
    ending = [i for i in kept if i["disposition"] in ENDING_DISPOSITIONS]
    staying = [i for i in kept if i["disposition"] not in ENDING_DISPOSITIONS]
    return {
        "numbers": _dedupe([i["number"] for i in ending if i["number"]])[:500],
        "titles": _dedupe([i["title"] for i in ending if i["title"]])[:500],
        "kept_numbers": _dedupe([i["number"] for i in staying if i["number"]])[:500],
        "kept_titles": _dedupe([i["title"] for i in staying if i["title"]])[:500],
        "items": kept[:1000],
        "effective_date": effective.isoformat() if effective else None,
    }


def record_from_title(url: str, title: str, *, publish_date: dt.date | None = None, title_source: str = "anchor",
                      date_source: str | None = None, column: str | None = None) -> DocumentRecord:
    """A record for a page known only by its title (an attachment, a list entry): kind and the
    kind-specific details that a title carries (annual report year, catalogue year)."""

    kind, subkind, reason = classify_kind(title, column)
    rec = DocumentRecord(url=url, title=title, column=column, kind=kind, subkind=subkind)
    rec.publish_date = publish_date or date_from_url(url)
    rec.sources = {"title": title_source, "kind": reason}
    if rec.publish_date:
        rec.sources["publish_date"] = date_source or ("url" if publish_date is None else "list")
    number = parse_doc_number(title)
    if number:
        rec.doc_number, rec.sources["doc_number"] = str(number), "title"
    if kind == "annual_report":
        rec.report = _report_info(title, subkind)
    if _DECISION_CATALOGUE.search(normalize(title)):
        rec.subkind = rec.subkind or "decision_catalogue"
        rec.catalogue_year = _year_of(title) or (rec.publish_date.year if rec.publish_date else None)
    rec.refs = {"titles": re.findall(r"《([^《》]{4,80})》", normalize(title)), "numbers": []}
    return rec


def load_documents(site: Any) -> list[DocumentRecord]:
    """Every document record the enrichment stored for this run (``site.records("document")``)."""

    out = []
    for row in site.records("document"):
        data = row.get("data") or {}
        try:
            out.append(DocumentRecord.from_dict(data))
        except (TypeError, ValueError):
            continue
    return out


def _meta_name(meta: dict[str, str], lower: str) -> str:
    for k in meta:
        if k.lower() == lower:
            return k
    return lower


def _add_period(start: dt.date, years: float) -> dt.date:
    """End of a validity period: "自2023年1月1日起施行，有效期5年" ends on 2027-12-31."""

    if float(years).is_integer():
        return add_years(start, int(years)) - dt.timedelta(days=1)
    months = round(years * 12)
    y, m = divmod(start.month - 1 + months, 12)
    day = min(start.day, 28)
    return dt.date(start.year + y, m + 1, day) - dt.timedelta(days=1)


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _year_of(title: str | None) -> int | None:
    found = _year_span(title)
    return found[0] if found else None


def _report_info(title: str, subkind: str | None) -> dict[str, Any]:
    found = _year_span(title)
    owner = normalize(title)[:found[1]].strip(" 《“") if found else ""
    return {"type": "website" if subkind == "website_annual_report" else "xxgk", "year": found[0] if found else None,
            "owner": owner or None}


def _year_span(title: str | None) -> tuple[int, int] | None:
    """(year, where it starts) of the first plausible year written in a title."""

    t = normalize(title or "")
    for m in _YEAR_IN_TITLE.finditer(t):
        if m[1]:
            y = int(m[1])
        else:
            digits = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
            y = int("".join(str(digits[ch]) for ch in m[2]))
        if 1990 <= y <= 2100:
            return y, m.start()
    return None


def _formats(title: str, body: Any) -> list[str]:
    t = normalize(title or "")
    out = []
    if re.search(r"图解|一图|图说|长图|漫画|图读|图文解读|海报", t):
        out.append("图解")
    has_video = body.find(".//video") is not None or any(
        re.search(r"\.(mp4|flv|m3u8|mov)(\?|$)", (el.get("src") or el.get("href") or el.get("data") or ""), re.I)
        for el in body.iter("source", "embed", "a", "iframe", "object")
    )
    if re.search(r"视频|微视频|短视频|访谈", t) or has_video:
        out.append("视频")
    if re.search(r"动画|动漫|漫解", t):
        out.append("动画")
    if re.search(r"(?<![A-Za-z])H5(?![A-Za-z0-9])", t, re.I):
        out.append("H5")
    if not out:
        out.append("文字")
    return out


_CONSULT_SENT = re.compile(r"[^。；;\n]*?(?:征求意见|征集|反馈|意见|建议|截止)[^。；;\n]*")


def _consultation(col: _Collector, text: str, publish: dt.date | None) -> dict[str, Any]:
    start = col.get("consult_start")
    end = col.get("consult_end")
    source = col.source("consult_end") or col.source("consult_start")
    if start is None or end is None:
        for m in _CONSULT_SENT.finditer(text):
            sentence = m.group(0)
            hits = find_dates(sentence)
            if not hits:
                continue
            between = sentence[hits[0][1][1]: hits[1][1][0]] if len(hits) >= 2 else ""
            if len(hits) >= 2 and re.fullmatch(r"\s*(?:起)?\s*(?:至|到|-|—|－|~|～)\s*", between):
                start = start or hits[0][0]
                end = end or hits[1][0]
                source = source or "body:征求意见时间"
                break
            if re.search(r"截止|截至|前|之前|止", sentence[hits[-1][1][1]: hits[-1][1][1] + 8]) or "截止" in sentence:
                end = end or hits[-1][0]
                source = source or "body:截止"
                break
    start_src = "stated" if start else None
    if start is None and publish is not None:
        start, start_src = publish, "publish_date"
    explained = bool(re.search(r"(少于|不足|短于)\s*30\s*(日|天)|缩短.{0,10}(期限|时间)|紧急|情况特殊", text))
    return {"start": start, "end": end, "start_source": start_src, "end_source": source, "explained": explained}


def _related_links(body: Any, page_url: str, encoding: str, noisy: set[Any]) -> Iterator[dict[str, str]]:
    """Links to interpretations and originals: by their anchor text or a 相关解读/原文链接 label."""

    base = base_url(body.getroottree().getroot(), page_url)
    seen: set[str] = set()

    def emit(a: Any, relation_hint: str | None) -> dict[str, str] | None:
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            return None
        url = normalise_url(urljoin(base, href), encoding)
        if url is None or url in seen or url.split("#")[0] == page_url:
            return None
        anchor = _text(a) or a.get("title") or ""
        relation = relation_hint
        for rel, rx in _RELATION:
            if rx.search(anchor):
                relation = relation or rel
                break
        if relation is None:
            return None
        if re.fullmatch(r"\s*(政策解读|解读|政策文件|文件|相关文件|相关政策|原文)\s*", anchor) and re.search(r"/$|/index\.s?html?$", url):
            return None  # a link to a column, not to a document
        seen.add(url)
        return {"url": url, "anchor": anchor[:200], "relation": relation}

    # labelled blocks: "相关解读：<a>…</a>", <div><h4>相关解读</h4><ul><li><a>…
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag == "a":
            continue
        own = normalize(" ".join((el.text or "").split()))
        if not own or not _RELATED_LABEL.match(own):
            continue
        if any(a.tag in ("nav", "header", "footer") or _NAV_ANCESTOR.search(_marker(a)) for a in el.iterancestors()):
            continue  # a menu entry named 政策解读, not a block of related links
        label = _RELATED_LABEL.match(own)[1]
        relation = "interpretation" if "解读" in label else "original"
        container = el if el.findall(".//a") else el.getparent()
        # a heading's links live in its following sibling list
        if container is not None and container is el.getparent() and len(container.findall(".//a")) == 0:
            continue
        anchors = list(container.iter("a")) if container is not None else []
        for a in anchors[:15]:
            item = emit(a, relation)
            if item:
                yield item
    for a in body.iter("a"):
        if a in noisy and any(x in noisy and _is_noise(x) and not _RELATED_LABEL.search(normalize(_text(x))[:12])
                              for x in a.iterancestors()):
            continue
        item = emit(a, None)
        if item:
            yield item
