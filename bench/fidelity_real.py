"""Part (b) of the fidelity bench: real archive pages, labelled by a parser of our own.

The pages come from a public archive of a government portal's 政务公开 section (see
bench/README.md for how to obtain them; nothing downloaded is committed). Each ``page.html`` under
``--real DIR`` is served on loopback at the path of its original address (``<meta name="Url">``),
with a list page at ``/`` and at each page's column folder linking to all of them, as the real
column does. Absolute links to the portal's own host are pointed at the loopback server; links
to any other host are pointed at a closed loopback port, so nothing leaves the machine.

The labeller here is written from the pages themselves, not from :mod:`auditor.docmodel.documents`: it reads
the TRS 信息公开 box (标题, 发文字号, 成文日期, 发布日期, 有效性) with regular expressions over
the page text, tells documents from list pages, and reads 废止/失效 notices (which 文号 they end,
as opposed to the ones they cite as their basis). From those labels it derives the findings a
correct audit of the sample must report:

* ``documents.expired`` — a page of the sample marked 有效 or unmarked whose 文号 a 废止/失效
  notice of the sample ends, or whose stated 有效期 ended before the as-of date;
* ``documents.validity_unmarked`` — a 行政规范性文件 page without an 有效性 value;
* ``documents.late_publication`` — 发布日期 more than 20 working days after 成文日期;
* ``interpretation.missing`` — a 行政规范性文件 in force that is not itself a 废止/失效 notice and
  links to no 解读 page (the archive's pages load related 解读 by JavaScript, so a static
  audit sees none: the label follows what the served pages show);
* ``documents.annual_report_missing`` (政府信息公开年报) — from the 年报 column's list: the report
  for the year due on the as-of date missing or later than 31 March, or a gap in the years listed;
* no ``decisions.*`` finding (the sample has no consultation).

Site-level rules a sample cannot settle (the decision catalogue, the website's 年度报表) are not
scored. Field agreement (文号, dates, 有效性, notice or not, numbers a notice ends) is
compared with govaudit's stored document records.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fidelity import Score, closed_port, run_audit, score, url_target
from fidelity_site import Label

from auditor.demo.servers import Hosts, Site, serve

FAMILIES = ["documents", "interpretation", "decisions"]


def not_scored(f: dict[str, Any]) -> bool:
    """Site-level rules a sample cannot settle: the decision catalogue and the website's 年度报表."""

    return f["rule"] == "decisions.catalogue_missing" or (
        f["rule"] == "documents.annual_report_missing" and (f.get("evidence") or {}).get("report_type") == "website")
DOC_NO = re.compile(r"[\u4e00-\u9fa5]{1,12}[〔\[［(（]\s*(\d{4})\s*[〕\]］)）]\s*第?\s*(\d{1,4})\s*号?")


class _Text(HTMLParser):
    """Visible text, one line per block element (scripts and styles dropped)."""

    BLOCKS = {"p", "div", "li", "tr", "br", "h1", "h2", "h3", "h4", "td", "ul", "table", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._anchor: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._anchor = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._anchor).strip()))
            self._href = None

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)
            if self._href is not None:
                self._anchor.append(data)


def text_of(raw: str) -> tuple[str, list[tuple[str, str]]]:
    p = _Text()
    p.feed(raw)
    lines = [re.sub(r"[\s\u3000\u2002\u2003\xa0]+", " ", x).strip() for x in "".join(p.parts).split("\n")]
    return "\n".join(x for x in lines if x), p.links


def _field(text: str, label: str) -> str | None:
    """The value after ``标 题：`` etc. (labels are spaced with &ensp; on TRS pages)."""

    spaced = r"\s*".join(label)
    m = re.search(spaced + r"\s*[:：]\s*\n?\s*([^\n]*)", text)
    return m.group(1).strip() or None if m else None


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    m = re.search(r"(\d{4})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})", value)
    return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def number_key(value: str) -> tuple[int, int] | None:
    m = DOC_NO.search(value or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def number_prefix(value: str) -> str:
    m = re.match(r"\s*([\u4e00-\u9fa5]+)", value or "")
    return m.group(1) if m else ""


def same_number(a: str, b: str) -> bool:
    """Same 文号: same year and number, and one issuer prefix ends the other (闽岚综实管综 ~ 岚综管综 is *not* enough)."""

    ka, kb = number_key(a), number_key(b)
    if not ka or ka != kb:
        return False
    pa, pb = number_prefix(a), number_prefix(b)
    return pa == pb or pa.endswith(pb) or pb.endswith(pa)


def repealed_numbers(text: str, own: str | None) -> list[str]:
    """文号 a 废止/失效 notice ends: in a 废止/失效 sentence, or listed under a 废止/失效 heading.

    Numbers cited as the notice's basis (根据…（国发〔2016〕41号）) sit in no such sentence and
    under no such heading, and sections such as 修改/继续有效 switch the list off.
    """

    out: list[str] = []
    active = False
    for line in text.split("\n"):
        heading = len(line) < 40 and not DOC_NO.search(line)
        if heading and re.search(r"废止|失效", line) and re.search(r"目录|文件|清单|[（(]\d+件[)）]|^[一二三四五六七八九十]+、", line):
            active = True
            continue
        if heading and re.search(r"修改|修订|继续有效|保留", line):
            active = False
            continue
        if active and DOC_NO.fullmatch(line.strip()):
            out.append(line.strip())  # a table cell holding only the 文号 (序号 | 文号 | 文件名称)
            continue
        if active and re.match(r"^\s*\d+\s*[.．、]", line):
            out += [m.group(0) for m in DOC_NO.finditer(line)]
            continue
        for sent in re.split(r"[。；;]", line):
            m = re.search(r"(决定|予以|现将|宣布)?(废止|失效)", sent)
            if not m:
                continue
            tail = sent[m.start():]
            out += [x.group(0) for x in DOC_NO.finditer(tail)]
    own_key = number_key(own or "")
    seen: list[str] = []
    for n in out:
        if number_key(n) != own_key and not any(same_number(n, s) for s in seen):
            seen.append(n)
    return seen


def label_page(raw: str) -> dict[str, Any]:
    text, links = text_of(raw)
    url = (re.search(r'<meta\s+name="Url"\s+content="([^"]+)"', raw) or [None, None])[1]
    title = _field(text, "标题")
    number = _field(text, "发文字号")
    validity = _field(text, "有效性")
    crumbs = re.findall(r'class="CurrChnlCls">([^<]+)</a>', raw)
    column = crumbs[-1] if crumbs else (re.search(r'<meta name="ColumnName" content="([^"]*)"', raw) or [None, None])[1]
    boxed = bool(title and (number or _field(text, "发布日期")))
    heading = re.search(r'class="article_title[^"]*">\s*([^<]+?)\s*</div>', raw)
    if not title and heading:
        title = html.unescape(heading.group(1)).strip()
    published = _date(_field(text, "发布日期")) or _date(_field(text, "时间"))
    # a list page: no article heading, several links with a date beside them
    report = bool(title and re.search(r"(\d{4})年度?政府信息公开工作年度报告$", title))
    is_doc = boxed or report
    notice = bool(boxed and title and re.search(r"废止|失效", title) and re.search(r"通知|决定|公告", title))
    listed = []
    for m in re.finditer(r'<a[^>]+href="([^"]+)"[^>]*>([^<]{6,})</a>\s*</dd>\s*<dd[^>]*>\s*(\d{4}-\d{2}-\d{2})', raw):
        listed.append({"href": m.group(1), "title": m.group(2).strip(), "date": _date(m.group(3))})
    return {
        "url": url, "title": title, "doc_number": number, "written_date": _date(_field(text, "成文日期")),
        "publish_date": published, "validity": validity, "column": column, "is_document": is_doc, "boxed": boxed,
        "report": report, "listed": listed,
        "repeal_notice": notice, "repealed": repealed_numbers(text, number) if notice else [],
        "interp_links": [h for h, a in links if "解读" in a], "text": text,
    }


def expected_labels(pages: list[dict[str, Any]], as_of: dt.date, host: str) -> list[Label]:
    from chinese_calendar import is_workday  # the official calendar, not govaudit's wrapper of it

    labels: list[Label] = []
    ends = [(p, n) for p in pages if p["repeal_notice"] and (p["publish_date"] or as_of) <= as_of for n in p["repealed"]]
    # annual reports: the year due on the as-of date (a government's report by 31 March)
    due = as_of.year - 1 if as_of > dt.date(as_of.year, 3, 31) else as_of.year - 2
    years: dict[int, dt.date | None] = {}
    for p in pages:
        for t, d in [(p["title"], p["publish_date"])] + [(x["title"], x["date"]) for x in p["listed"]]:
            m = re.search(r"(\d{4})年度?政府信息公开工作年度报告$", t or "")
            if m:
                years.setdefault(int(m.group(1)), d)
    if years:
        on_time = years.get(due) and years[due] <= dt.date(due + 1, 3, 31)
        gaps = [y for y in range(min(years), due) if y not in years]
        labels.append(Label("documents.annual_report_missing", "xxgk", not on_time or bool(gaps),
                            f"{due} report {'published ' + str(years.get(due)) if years.get(due) else 'absent'}; "
                            f"years {min(years)}–{max(years)} listed, gaps {gaps or 'none'}"))
    for p in pages:
        if not p["is_document"]:
            labels.append(Label("documents.*", url_target(p["url"], host), False, "a list page is not a document"))
            continue
        if not p["boxed"]:
            labels.append(Label("documents.expired", url_target(p["url"], host), False, "an annual report"))
            labels.append(Label("interpretation.*", url_target(p["url"], host), False, "an annual report needs no 解读"))
            continue
        path = url_target(p["url"], host)
        in_force = p["validity"] in (None, "有效")
        hit = [q for q, n in ends if q is not p and p["doc_number"] and same_number(p["doc_number"], n)]
        if in_force and hit:
            labels.append(Label("documents.expired", path, True, f"ended by {hit[0]['title']}"))
        else:
            labels.append(Label("documents.expired", path, False, f"有效性 {p['validity']}; no notice of the sample ends it"))
        normative = (p["column"] or "").endswith("规范性文件")
        if normative and not p["validity"]:
            labels.append(Label("documents.validity_unmarked", path, True, "行政规范性文件 without 有效性"))
        w, pub = p["written_date"], p["publish_date"]
        if w and pub and pub > w:
            days, d = 0, w
            while d < pub:
                d += dt.timedelta(days=1)
                days += is_workday(d)
            labels.append(Label("documents.late_publication", path, days > 20, f"{days} working days from 成文 to 发布"))
        if normative and in_force and not hit and not p["repeal_notice"] and not p["interp_links"]:
            labels.append(Label("interpretation.missing", path, True, "行政规范性文件 in force, no 解读 linked"))
        elif p["repeal_notice"]:
            labels.append(Label("interpretation.*", path, False, "a 废止/失效 notice needs no 解读"))
        labels.append(Label("decisions.*", path, False, "not a consultation"))
    return labels


# --- serving ---------------------------------------------------------------------------------------

# The sample measured (paths inside changwu/pingtan-gov-zwgk-archive; commits in bench/README.md). When
# these files are under --real DIR (a full checkout or excerpts), only they are served; otherwise every
# page.html and _lists/index.html under DIR is, up to MAX_PAGES.
SAMPLE = (
    "pingtan/zwgk/zfxxgk/gwhwj/hzgfxwj/201610/79826_平潭综合实验区管委会关于废止部分规范性文件的通知/page.html",
    "pingtan/zwgk/zfxxgk/gwhwj/hzgfxwj/201705/79834_平潭综合实验区管委会关于废止《平潭综合实验区办公建筑和商业建筑规划管理实施细则》/page.html",
    "pingtan/zwgk/zfxxgk/gwhwj/hzgfxwj/201707/79989_平潭综合实验区管委会关于印发《平潭综合实验区停车收费管理暂行办法》的通知/page.html",
    "pingtan/zwgk/zfxxgk/gwhwj/hzgfxwj/201603/79824_平潭综合实验区管委会印发平潭综合实验区财税优惠政策兑现实施方案的通知/page.html",
    "pingtan/zwgk/zfxxgk/gwhwj/hzgfxwj/201704/79829_平潭综合实验区管委会关于宣布失效一批规范性文件的通知/page.html",
    "pingtan/zwgk/zfxxgk/gwhwj/hzgfxwj/201304/79670_平潭综合实验区管委会关于平潭综合实验区防洪防潮工程建设征地范围内禁止新增建设项目/page.html",
    "pingtan/zwgk/zfxxgk/zfxxgknb/202603/105587_平潭综合实验区2025年度政府信息公开工作年度报告/page.html",
    "pingtan/zwgk/zfxxgk/zfxxgknb/_lists/index.html",
)
MAX_PAGES = 300


def load(real: Path) -> list[tuple[Path, str, dict[str, Any]]]:
    """Document pages (``…/page.html`` with ``<meta name="Url">``) and column lists (``…/_lists/index.html``).

    A list file carries no address: it is the column's own page, so its URL is the column folder
    on the portal's host (the archive's first folder is the site's name, e.g. ``pingtan/``).
    """

    out = []
    lists = []
    files = [real / p for p in SAMPLE if (real / p).exists()] or sorted(real.rglob("*.html"))[: MAX_PAGES * 3]
    for f in files:
        raw = f.read_text(encoding="utf-8", errors="replace")
        lab = label_page(raw)
        if f.name == "page.html" and lab["url"]:
            out.append((f, raw, lab))
        elif f.parent.name == "_lists" and f.name == "index.html":
            lists.append((f, raw, lab))
    out = out[:MAX_PAGES]
    host = (urlsplit(out[0][2]["url"]).hostname if out else None) or "www.example.gov.cn"
    for f, raw, lab in lists:
        rel = f.parent.parent.relative_to(real).parts[1:]
        lab["url"] = f"https://{host}/{'/'.join(rel)}/"
        out.append((f, raw, lab))
    return out


def build_site(pages: list[tuple[Path, str, dict[str, Any]]], port: int, closed: int) -> tuple[Site, str]:
    host = (urlsplit(pages[0][2]["url"]).hostname or "").lower()
    site = Site(host)

    def rewrite(raw: str) -> str:
        def repl(m: re.Match[str]) -> str:
            url = m.group(2)
            h = (urlsplit(url).hostname or "").lower()
            new = (f"http://{host}:{port}{urlsplit(url).path}" if h == host else f"http://127.0.0.1:{closed}/")
            return f"{m.group(1)}{new}"

        return re.sub(r'((?:href|src)\s*=\s*["\'])(https?://[^"\']+)', repl, raw)

    items = []
    real_lists = set()
    for _f, raw, lab in pages:
        path = urlsplit(lab["url"]).path
        site.page(path, rewrite(raw))
        if lab["is_document"]:
            items.append((lab["title"] or path, path, lab["publish_date"], lab["column"] or ""))
        else:
            real_lists.add(path)
            items.append((lab["column"] or "栏目", path, None, ""))
    items.sort(key=lambda x: x[2] or dt.date.min, reverse=True)

    def ul(rows: list[tuple[str, str, dt.date | None, str]]) -> str:
        return "<ul>" + "".join(f"<li><a href='{p}' title='{html.escape(t)}'>{html.escape(t)}</a><span>{d or ''}</span></li>"
                                for t, p, d, _c in rows) + "</ul>"

    # the portal's own column pages are not in the sample: a plain list stands in for each
    by_folder: dict[str, list[tuple[str, str, dt.date | None, str]]] = {}
    for row in items:
        if row[2] is not None:
            by_folder.setdefault(row[1].rsplit("/", 2)[0] + "/", []).append(row)
    for folder, rows in by_folder.items():
        if folder not in real_lists:
            name = rows[0][3] or "栏目"
            site.page(folder, f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name}</title></head><body>"
                              f"<div class='list'><h2>{name}</h2>{ul(rows)}</div></body></html>")
    site.page("/", "<!DOCTYPE html><html><head><meta charset='utf-8'><title>首页</title></head><body>"
                   f"<div class='list'><h2>样本页面</h2>{ul(items)}</div></body></html>")
    return site, host


def records(db: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with sqlite3.connect(db) as con:
        last = con.execute("select run_id from records order by id desc limit 1").fetchone()
        for key, data in con.execute("select key, data from records where kind='document' and run_id=?", (last[0] if last else "",)):
            out[key] = json.loads(data) if isinstance(data, str) else data
    return out


VALIDITY = {"valid": "有效", "expired": "失效", "repealed": "废止", "amended": "已修改"}


def run(real: Path, work: Path, as_of: str) -> tuple[dict[str, Score], dict[str, Any]]:
    pages = load(real)
    work.mkdir(parents=True, exist_ok=True)
    if not pages:
        raise SystemExit(f"no page.html with a <meta name='Url'> under {real}")
    closed = closed_port()
    site = Site("placeholder")
    with serve(Hosts({"placeholder": site}), "127.0.0.1") as running:
        built, host = build_site(pages, running.port, closed)
        running.site.sites[host] = built  # type: ignore[union-attr]
        running.site.default = built  # type: ignore[union-attr]
        report, secs, rc = run_audit(f"http://{host}:{running.port}/", work, FAMILIES, {host: "127.0.0.1"}, as_of)
    labs = [p[2] for p in pages]
    labels = expected_labels(labs, dt.date.fromisoformat(as_of), host)
    findings = [f for f in report.get("findings", []) if not not_scored(f)]
    scores = score(findings, labels, FAMILIES, host, "real")
    recs = records(work / "evidence.sqlite")
    fields: dict[str, list[int]] = {k: [0, 0] for k in ("is_document", "doc_number", "written_date", "publish_date", "validity",
                                                         "repeal_notice", "repealed_numbers")}
    rows = []
    for lab in labs:
        rec = next((r for k, r in recs.items() if urlsplit(k).path == urlsplit(lab["url"]).path), None)
        got = {
            "is_document": rec is not None and rec.get("kind") not in (None, "other"),
            "doc_number": (rec or {}).get("doc_number"), "written_date": (rec or {}).get("written_date"),
            "publish_date": (rec or {}).get("publish_date"), "validity": VALIDITY.get((rec or {}).get("validity") or "", None),
            "repeal_notice": bool((rec or {}).get("repeal_list")),
            "repealed_numbers": sorted(number_key(n) for n in ((rec or {}).get("repeal_list") or {}).get("numbers", [])
                                       if number_key(n)),
        }
        want = {
            "is_document": lab["is_document"], "doc_number": lab["doc_number"],
            "written_date": lab["written_date"].isoformat() if lab["written_date"] else None,
            "publish_date": lab["publish_date"].isoformat() if lab["publish_date"] else None,
            "validity": lab["validity"], "repeal_notice": lab["repeal_notice"],
            "repealed_numbers": sorted(number_key(n) for n in lab["repealed"] if number_key(n)),
        }
        for k in fields:
            ok = got[k] == want[k] if k != "doc_number" else (got[k] or "") .replace(" ", "") == (want[k] or "").replace(" ", "")
            fields[k][0] += ok
            fields[k][1] += 1
            if not ok:
                rows.append({"url": urlsplit(lab["url"]).path, "field": k, "labelled": want[k], "govaudit": got[k]})
    info = {"pages": len(pages), "seconds": round(secs, 1), "exit": rc, "fields": fields, "field_mismatches": rows,
            "labels": [vars(x) for x in labels], "findings": len(findings),
            "not_scored": sorted({f["rule"] + ("" if f["rule"] != "documents.annual_report_missing" else
                                               f" ({(f.get('evidence') or {}).get('report_type')})")
                                  for f in report.get("findings", []) if not_scored(f)})}
    return scores, info


def field_table(info: dict[str, Any]) -> str:
    labs = info["labels"]
    lines = [f"  labels: {sum(1 for x in labs if x['expect'])} expected findings, {sum(1 for x in labs if not x['expect'])} traps",
             "  field agreement with the independent labeller (govaudit document records):"]
    for k, (ok, n) in info["fields"].items():
        lines.append(f"    {k:<18} {ok}/{n}")
    for row in info["field_mismatches"]:
        lines.append(f"    mismatch {row['field']:<16} {row['url'][:70]}  labelled={row['labelled']!r} govaudit={row['govaudit']!r}")
    if info["not_scored"]:
        lines.append(f"  site-level rules not scored on a sample: {', '.join(info['not_scored'])}")
    return "\n".join(lines)
