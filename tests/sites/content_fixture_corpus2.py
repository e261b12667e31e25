"""A second, independently written page generator: layouts the extractor was *not* tuned on.

:mod:`tests.sites.content_fixture_corpus` was used while the extractor was developed; this module
was written afterwards, with other CMS habits, so its figures say how the extractor copes with
pages it has not seen: gov.cn-style ``pages-date`` lines and ``firstpublishedtime`` meta values
(``2023-05-29-10:20:30``), icon-prefixed dates without labels, ``<time datetime>``, metadata
tables placed *after* the text, two labels in one cell, status badges, ``<article>`` templates,
headings that exist only in ``<title>``, and weekday suffixes (``2023年5月9日 星期二``).
The truth (kind, dates, 文号, validity) comes from the same document model as the first corpus.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from tests.sites.content_fixture_corpus import (
    KIND_WEIGHTS,
    CorpusBuilder,
    Doc,
    LabelledPage,
    _esc,
    fmt_date,
)

WEEKDAYS = "一二三四五六日"


def _d(d: dt.date, r: random.Random) -> str:
    form = r.choice(["iso", "cn", "cn_pad", "slash", "single", "weekday", "dot", "fullwidth"])
    if form == "single":
        return f"{d.year}-{d.month}-{d.day}"
    if form == "weekday":
        return f"{d.year}年{d.month}月{d.day}日 星期{WEEKDAYS[d.weekday()]}"
    return fmt_date(d, form)


def _validity_word(v: str, r: random.Random) -> str:
    return r.choice({"valid": ["有效", "现行有效"], "expired": ["失效", "已失效"], "repealed": ["已废止", "废止"],
                     "amended": ["已修改", "已被修改"]}[v])


def _meta_rows(doc: Doc, r: random.Random) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if doc.kind in ("normative", "policy"):
        rows.append((r.choice(["索引号", "索 引 号"]), f"000014349/{(doc.publish or dt.date(2022, 1, 1)).year}-{r.randint(1, 9999):05d}"))
        rows.append((r.choice(["发文机关", "发布机构", "制发机关"]), doc.org))
    if doc.topic:
        rows.append(("主题分类", doc.topic))
    if doc.written:
        rows.append((r.choice(["成文日期", "生成日期"]), _d(doc.written, r)))
    if doc.doc_number:
        rows.append((r.choice(["发文字号", "文号"]), doc.doc_number))
    if doc.registration:
        rows.append(("统一登记号", doc.registration))
    if doc.validity:
        rows.append((r.choice(["有效性", "效力状态", "时效性"]), _validity_word(doc.validity, r)))
    return rows


def render2(doc: Doc, style: str, r: random.Random) -> tuple[str, dict[str, Any]]:
    site = r.choice(["东山县人民政府", "南湖市人民政府网", "梅溪县政府门户网站"])
    rows = _meta_rows(doc, r)
    pub = doc.publish
    head = [f"<title>{_esc(doc.title)}－{site}</title>" if style != "title_only" else f"<title>{_esc(doc.title)}</title>"]
    visible_pub = True
    crumb_col = doc.column
    top = f'<div id="top"><span>{site}</span></div><div id="menu"><a href="/">网站首页</a><a href="/xxgk/">信息公开</a></div>'
    side = ""
    if r.random() < 0.6:
        lis = "".join(
            f'<li><a href="/n/{i}.html">{r.choice(["县领导调研", "通知", "政策", "动态"])}标题{i}</a>'
            f'<em>{_d(dt.date(2020, 1, 1) + dt.timedelta(days=r.randrange(1500)), r)}</em></li>' for i in range(r.randint(4, 10)))
        side = f'<div class="{r.choice(["rightside", "aside-list", "sub-r", "leftbox"])}"><div class="tt">推荐阅读</div><ul>{lis}</ul></div>'
    crumb = ""
    if crumb_col:
        crumb = f'<div class="{r.choice(["bread", "curr-pos", "path"])}"><span>当前位置：</span><a href="/">首页</a> &gt; ' \
                f'<a href="/xxgk/">信息公开</a> &gt; <a href="/l/">{_esc(crumb_col)}</a></div>'
    body_p = "".join(f"<p>{_esc(p)}</p>" for p in doc.body)
    if doc.written and doc.kind in ("normative", "policy") and r.random() < 0.6:
        body_p += f'<p align="right">{_esc(doc.org)}</p><p align="right">{fmt_date(doc.written, r.choice(["hanzi", "cn"]))}</p>'
    title_h = f"<h1>{_esc(doc.title)}</h1>"
    meta_table = ""
    dateline = ""
    if style == "govcn":
        if pub:
            head.append(f'<meta name="firstpublishedtime" content="{pub:%Y-%m-%d}-{r.randint(8, 18):02d}:{r.randint(0, 59):02d}:00">')
            dateline = f'<div class="pages-date">{pub.isoformat()} {r.randint(8, 18):02d}:00 <span class="font">来源： {_esc(doc.org)}</span></div>'
        meta_table = _tbl(rows, r)
        main = f'<div class="article oneColumn pub_border">{title_h}{dateline}{meta_table}<div class="pages_content">{body_p}</div></div>'
    elif style == "icon":
        if pub:
            dateline = (f'<div class="article-meta"><span><i class="icon-time"></i>{_d(pub, r)}</span>'
                        f'<span><i class="icon-eye"></i>阅读 {r.randint(10, 9999)}</span></div>')
        meta_table = _tbl(rows, r)
        main = f'<article class="detail">{crumb}<header class="detail-header">{title_h}{dateline}</header>{meta_table}' \
               f'<section class="detail-body">{body_p}</section></article>'
        crumb = ""
    elif style == "timetag":
        if pub:
            dateline = f'<p class="meta"><time datetime="{pub.isoformat()}">{_d(pub, r)}</time> · {_esc(doc.org)}</p>'
        meta_table = _tbl(rows, r)
        main = f'<div class="post">{title_h}{dateline}<div class="post-content">{body_p}</div>{meta_table}</div>'
    elif style == "bottom_table":
        rows2 = rows + ([("发布日期", _d(pub, r))] if pub else [])
        meta_table = _tbl(rows2, r)
        main = f'<div class="detail">{title_h}<div class="txt">{body_p}</div><div class="gk-meta">{meta_table}</div></div>'
    elif style == "twin_cell":
        cells = [f"{k}：{v}" for k, v in rows] + ([f"发布日期：{_d(pub, r)}"] if pub else [])
        trs = "".join(f"<tr><td>{'　　'.join(cells[i:i + 2])}</td></tr>" for i in range(0, len(cells), 2))
        main = f'<div class="box">{title_h}<table class="info">{trs}</table><div class="TRS_UEDITOR">{body_p}</div></div>'
    elif style == "badge":
        badge = ""
        if doc.validity:
            badge = f'<span class="badge badge-{doc.validity}">{_validity_word(doc.validity, r)}</span>'
            rows = [(k, v) for k, v in rows if k not in ("有效性", "效力状态", "时效性")]
        meta_table = _tbl(rows + ([("发布时间", _d(pub, r))] if pub else []), r)
        main = f'<div class="doc">{badge}<h2 class="doc-title">{_esc(doc.title)}</h2>{meta_table}<div class="doc-body">{body_p}</div></div>'
    else:  # title_only: the heading exists only in <title>, the date in a plain line
        if pub:
            dateline = f'<div class="sj">时间：{_d(pub, r)}</div>'
        meta_table = _tbl(rows, r)
        main = f'<div class="mainbox">{dateline}{meta_table}<div class="wz">{body_p}</div></div>'
        title_h = ""
    if not pub:
        visible_pub = False
    if doc.column and style in ("govcn", "timetag", "bottom_table", "twin_cell", "badge", "title_only") and not crumb:
        head.append(f'<meta name="ColumnName" content="{_esc(doc.column)}">')
    footer = f'<div id="footer">{site} 主办 ICP备12345678号 Copyright © 2008-2025</div>'
    parts = [top, crumb, main, side] if r.random() < 0.5 else [top, side, crumb, main]
    html = f"<!DOCTYPE html><html><head>{{charset}}{''.join(head)}</head><body>{''.join(parts)}{footer}</body></html>"
    expected = {"title": doc.title, "kind": doc.kind, "publish_date": pub if visible_pub else None,
                "validity": doc.validity, "doc_number": doc.doc_number,
                "written_date": doc.written if doc.written and (any(k in ("成文日期", "生成日期") for k, _ in rows)
                                                                or "align=\"right\"" in body_p) else None}
    return html, expected


def _tbl(rows: list[tuple[str, str]], r: random.Random) -> str:
    if not rows:
        return ""
    style = r.choice(["two", "four"])
    if style == "two":
        trs = "".join(f'<tr><td class="t1">{k}</td><td class="t2"><span>{v}</span></td></tr>' for k, v in rows)
    else:
        cells = [f'<td class="t1">{k}：</td><td class="t2">{v}</td>' for k, v in rows]
        trs = "".join(f"<tr>{''.join(cells[i:i + 2])}</tr>" for i in range(0, len(cells), 2))
    return f'<table class="{r.choice(["zwgk-table", "gkxx", "b-table"])}" border="1">{trs}</table>'


STYLES = ["govcn", "icon", "timetag", "bottom_table", "twin_cell", "badge", "title_only"]


def build_corpus2(n: int = 160, seed: int = 4242) -> list[LabelledPage]:
    b = CorpusBuilder(seed)
    r = b.r
    kinds = list(KIND_WEIGHTS)
    weights = [KIND_WEIGHTS[k] for k in kinds]
    pages = []
    for i in range(n):
        doc = b.document(r.choices(kinds, weights=weights)[0])
        if doc.validity and doc.validity_text is None:
            doc.validity_text = _validity_word(doc.validity, r)
        style = STYLES[i % len(STYLES)]
        html, expected = render2(doc, style, r)
        enc = r.choice(["utf-8", "utf-8", "gbk"])
        html = html.replace("{charset}", f'<meta http-equiv="Content-Type" content="text/html; charset={enc}">')
        path = f"/xxgk/{i}/{'art_' if r.random() < 0.5 else ''}{5000 + i}.html"
        pages.append(LabelledPage(path, html.encode(enc, errors="xmlcharrefreplace"), enc, style, expected))
    return pages
