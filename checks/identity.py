"""Site identity (网站标识): page meta tags and the footer items every government page must show.

From the website development guideline (《政府网站发展指引》, 国办发〔2017〕47号) as far as it could be
confirmed (footer items: partly — the 47号 wording was not read; meta tag list: 未核实): every page carries the site meta
tags (SiteName, SiteDomain, SiteIDCode), content pages the article tags (ColumnName, ArticleTitle,
PubDate, ContentSource…), column pages the column tags; every page footer shows the 网站标识码
(10 digits, or ``bm`` + 8 digits for State Council departments — the same code as SiteIDCode),
the 主办单位 and contact details, the ICP 备案号, the 公安机关备案号 and the 党政机关网站标识
(linking to its certificate page). The tag lists and the certificate hosts are rule-pack data.

Footers and head tags come from one template, so a problem is usually on every page. Each page's
facts are recorded once (``identity.page`` records, from the per-page hook, which reuses the page's
parsed tree); the site-level hook then reports **site-wide patterns once** — one finding with the
share of pages, a capped page list and the count — and page-level findings only for the few pages
that deviate from what the rest of the site does.

Error pages are left out (``PageView.is_error_page``: an HTTP 4xx/5xx answer, or a 200 page the link
checker judged a soft 404 against the host's calibration): a removed article served as "页面不存在"
lacks the footer and the tags because it is the CMS's error template, and it is already reported once
as a dead link. The count left out is in the evidence (``error_pages_excluded``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from auditor.context import CheckContext, PageView, SiteView, visible_text
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.model import Finding

DECLARED = load_declarations("auditor.checks", "rules/identity.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

FOOTER_BASIS = DECLARED.bases["footer_basis"]
META_BASIS = DECLARED.bases["meta_basis"]
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
CODE_VALID = re.compile(r"^(?:\d{10}|[bB][mM]\d{8})$")
ICP = re.compile(rf"[{PROVINCES}]\s*ICP\s*备\s*\d{{6,10}}\s*号?(?:\s*-\s*\d+)?", re.I)
PSB = re.compile(rf"[{PROVINCES}]\s*公网安备\s*\d{{14}}\s*号?")
SPONSOR = re.compile(r"主办(?:单位)?\s*[:：]\s*\S|[\u4e00-\u9fa5]{2,}(?:人民政府|办公室|委员会|局|厅|部)\s*主办")
PHONE = re.compile(r"(?<!\d)(?:0\d{2,3}[-－—\s]?\d{7,8}|400[-－]?\d{3}[-－]?\d{4}|1[3-9]\d{9})(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CONTACT_WORDS = ("联系我们", "联系方式")
FINDFAULT = re.compile(r"我为政府网站找错")
FINDFAULT_HOSTS = ("zfwzzc.www.gov.cn",)
FOOTER_MARK = re.compile(r"foot|bottom|copyright|dibu|banquan|bqxx|bq_|wzdb|gywm|db_|_db", re.I)
ARTICLE_URL = re.compile(
    r"/t\d{8}_\d+|/art/\d{4}/|content_\d+|/content/\d|post_\d+|/\d{4}-?\d{2}/\d{2}/|/detail|/info/\d+/\d+|/article", re.I
)
ARTICLE_TEXT = re.compile(r"(发布时间|发布日期|发文日期|成文日期|信息来源|文章来源|来源)\s*[:：]")
ARTICLE_META = ("ArticleTitle", "PubDate", "ContentSource")
PAGE_LIST_CAP = 20

ITEMS: dict[str, dict[str, str]] = {
    "site_code": {"rule": "identity.site_code_missing", "zh": "网站标识码", "en": "site ID code (网站标识码)"},
    "icp": {"rule": "identity.icp_missing", "zh": "ICP备案编号", "en": "ICP filing number"},
    "psb": {"rule": "identity.psb_missing", "zh": "公安机关备案号", "en": "public-security filing number (公网安备)"},
    "sponsor": {"rule": "identity.sponsor_missing", "zh": "网站主办单位", "en": "sponsoring unit (主办单位)"},
    "contact": {"rule": "identity.contact_missing", "zh": "联系方式", "en": "contact details"},
    "conac": {"rule": "identity.conac_missing", "zh": "党政机关网站标识", "en": "Party and government website mark (党政机关网站标识)"},
    "findfault": {"rule": "identity.findfault_missing", "zh": "“我为政府网站找错”入口", "en": "“我为政府网站找错” entry"},
}


# --- per page: facts ------------------------------------------------------------------------------

@cache
def _site_code_pattern(pattern: str) -> re.Pattern[str]:
    """The pack's 网站标识码 pattern (group 1 is the code), compiled once per pattern text."""

    return re.compile(pattern)


def footer_text(tree: Any) -> tuple[str, bool]:
    """Visible text of the footer region (outermost ``<footer>`` or foot/bottom/copyright blocks),
    or the page's last 1,500 characters when no footer element can be told apart."""

    found: list[Any] = []
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        marker = f"{el.get('id') or ''} {el.get('class') or ''}"
        if el.tag == "footer" or (el.tag in ("div", "section", "table", "td", "p", "ul") and FOOTER_MARK.search(marker)):
            if not any(parent in found for parent in el.iterancestors()):
                found.append(el)
    if found:
        return " ".join(visible_text(el) for el in found), True
    return visible_text(tree)[-1500:], False


def page_class(page: PageView) -> str:
    if page.is_homepage:
        return "home"
    if ARTICLE_URL.search(urlsplit(page.url).path) or any(page.meta.get(k) for k in ARTICLE_META):
        return "article"
    head = page.visible_text[:3000]
    if ARTICLE_TEXT.search(head):
        return "article"
    return "column"


def page_facts(page: PageView, ctx: CheckContext) -> dict[str, Any] | None:
    tree = page.tree
    if tree is None:
        return None
    cls = page_class(page)
    required = list(ctx.pack.value("identity.meta_site"))
    if cls == "article":
        required += ctx.pack.value("identity.meta_article")
    elif cls == "column":
        required += ctx.pack.value("identity.meta_column")
    meta = page.meta
    missing = sorted({t for t in required if not (meta.get(t) or "").strip()}, key=required.index)
    text, has_footer = footer_text(tree)
    m = _site_code_pattern(str(ctx.pack.value("identity.site_code_pattern"))).search(text)
    conac_hosts = tuple(ctx.pack.value("identity.conac_hosts"))
    hosts = set()
    anchors = []
    for el in tree.iter("a", "img", "script", "iframe"):
        ref = el.get("href") or el.get("src") or ""
        if ref.startswith("//"):
            ref = "http:" + ref
        h = (urlsplit(ref).hostname or "").lower() if ref.startswith(("http:", "https:")) else ""
        if h:
            hosts.add(h)
        if el.tag == "a":
            anchors.append(" ".join("".join(el.itertext()).split()))
    full_text = page.visible_text
    return {
        "class": cls,
        "meta_missing": missing,
        "meta_code": (meta.get("SiteIDCode") or "").strip() or None,
        "footer_found": has_footer,
        "code": m.group(1) if m else None,
        "icp": _clean(ICP.search(text)),
        "psb": _clean(PSB.search(text)),
        "sponsor": bool(SPONSOR.search(text)),
        "contact": bool(PHONE.search(text) or EMAIL.search(text) or any(w in text for w in CONTACT_WORDS)),
        "conac": any(h == c or h.endswith("." + c) for h in hosts for c in conac_hosts),
        "findfault": bool(FINDFAULT.search(full_text) or any(FINDFAULT.search(a) for a in anchors)
                          or any(h in FINDFAULT_HOSTS for h in hosts)),
    }


def _clean(m: re.Match[str] | None) -> str | None:
    return re.sub(r"\s+", "", m.group(0)) if m else None


@hookimpl
def govaudit_check_page(page: PageView, ctx: CheckContext) -> None:
    # An error page (HTTP 4xx/5xx, or a soft 404 as the link checker judged it) shows the CMS's
    # error template, not the site's: its missing footer and meta tags are not the site's
    # defects, and the dead link to it is already reported once under links.dead.
    if not page.is_html:
        return
    if page.is_error_page:
        ctx.record("identity.skipped", page.url, {"reason": page.error_reason})
        return
    facts = page_facts(page, ctx)
    if facts is not None:
        ctx.record("identity.page", page.url, facts)


# --- site level: patterns once, deviations per page ---------------------------------------------

class _Tally:
    """Pages failing one requirement, out of the pages it applies to."""

    def __init__(self) -> None:
        self.applies = 0
        self.failing: list[str] = []

    def add(self, url: str, ok: bool) -> None:
        self.applies += 1
        if not ok:
            self.failing.append(url)


def _records(site: SiteView) -> Iterator[tuple[str, dict[str, Any]]]:
    latest: dict[str, dict[str, Any]] = {}
    for rec in site.records("identity.page"):
        latest[rec["key"]] = rec["data"]
    yield from sorted(latest.items())


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    items = list(ctx.pack.value("identity.footer_items"))
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    classes: Counter[str] = Counter()
    footer_codes: dict[str, list[str]] = defaultdict(list)
    meta_codes: dict[str, list[str]] = defaultdict(list)
    mismatched: list[dict[str, str]] = []
    no_footer: list[str] = []
    pages = 0
    for url, f in _records(site):
        pages += 1
        classes[f["class"]] += 1
        for tag in _all_tags(ctx):
            if _applies(tag, f["class"], ctx):
                tallies[("meta", f"{tag}|{_scope(tag, ctx)}")].add(url, tag not in f["meta_missing"])
        for item in items:
            if item in ITEMS:
                tallies[("footer", item)].add(url, bool(f.get("code") if item == "site_code" else f.get(item)))
        if f.get("code"):
            footer_codes[f["code"]].append(url)
        if f.get("meta_code"):
            meta_codes[f["meta_code"]].append(url)
        if f.get("code") and f.get("meta_code") and f["code"].lower() != f["meta_code"].lower():
            mismatched.append({"url": url, "footer": f["code"], "meta": f["meta_code"]})
        if not f.get("footer_found"):
            no_footer.append(url)
    if not pages:
        return
    share = float(ctx.pack.value("identity.site_pattern_share"))
    cap = int(ctx.pack.value("identity.page_findings_cap"))
    home = site.homepage_url
    note = {"pages_without_footer_element": len(no_footer), "page_classes": dict(classes),
            "error_pages_excluded": sum(1 for _ in site.records("identity.skipped"))}

    for (kind, name), t in sorted(tallies.items()):
        if not t.failing:
            continue
        if kind == "meta":
            tag, scope = name.split("|")
            rule, label_zh, label_en = "identity.meta_missing", f"<meta name=\"{tag}\"> 标签", f"the <meta name=\"{tag}\"> tag"
            scope_zh = {"all": "页面", "article": "内容页", "column": "栏目页", "content": "栏目页和内容页"}[scope]
            key_base = f"meta:{tag}:{scope}"
            extra = {"tag": tag, "page_class": scope}
        else:
            spec = ITEMS[name]
            rule, label_zh, label_en, scope_zh = spec["rule"], spec["zh"], spec["en"], "页面"
            key_base = f"footer:{name}"
            extra = {"item": name}
        yield from _pattern(ctx, rule, key_base, t, share, cap, home, label_zh, label_en, scope_zh, {**extra, **note})

    # The code itself: format, footer vs meta, one code site-wide.
    for code, urls in sorted({**_merge(footer_codes, meta_codes)}.items()):
        if CODE_VALID.match(code):
            continue
        yield ctx.finding(
            "identity.site_code_invalid", urls[0],
            f"网站标识码“{code}”格式不正确（应为10位数字或 bm 加8位数字），出现在 {len(urls)} 个页面",
            f"Site ID code “{code}” is malformed (10 digits, or bm + 8 digits) on {len(urls)} page(s)",
            key=f"code_invalid:{code}",
            evidence={"code": code, "pages": sorted(urls)[:PAGE_LIST_CAP], "page_count": len(urls)},
        )
    codes = sorted(set(c.lower() for c in footer_codes) | set(c.lower() for c in meta_codes))
    if len(codes) > 1 or mismatched:
        counts = {c: len(v) for c, v in _merge(footer_codes, meta_codes).items()}
        yield ctx.finding(
            "identity.site_code_mismatch", mismatched[0]["url"] if mismatched else home,
            f"网站标识码不一致：全站出现 {len(codes)} 个不同的标识码（{'、'.join(codes)}），"
            f"{len(mismatched)} 个页面的底部标识码与 SiteIDCode 标签不同",
            f"Inconsistent site ID codes: {len(codes)} distinct codes ({', '.join(codes)}); on {len(mismatched)} page(s) the "
            "footer code differs from the SiteIDCode tag",
            key="code_mismatch",
            evidence={"codes": counts, "mismatched_pages": mismatched[:PAGE_LIST_CAP], "mismatched_count": len(mismatched)},
        )


def _merge(a: dict[str, list[str]], b: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for src in (a, b):
        for code, urls in src.items():
            out[code] += [u for u in urls if u not in out[code]]
    return dict(out)


def _all_tags(ctx: CheckContext) -> list[str]:
    seen: list[str] = []
    for key in ("identity.meta_site", "identity.meta_article", "identity.meta_column"):
        for t in ctx.pack.value(key) or []:
            if t not in seen:
                seen.append(t)
    return seen


def _scope(tag: str, ctx: CheckContext) -> str:
    if tag in (ctx.pack.value("identity.meta_site") or []):
        return "all"
    in_article = tag in (ctx.pack.value("identity.meta_article") or [])
    in_column = tag in (ctx.pack.value("identity.meta_column") or [])
    if in_article and in_column:
        return "content"  # column and article pages, not the homepage (ColumnName)
    return "article" if in_article else "column" if in_column else "all"


def _applies(tag: str, cls: str, ctx: CheckContext) -> bool:
    scope = _scope(tag, ctx)
    if scope == "all":
        return True
    if scope == "content":
        return cls in ("article", "column")
    return scope == cls


def _pattern(
    ctx: CheckContext, rule: str, key_base: str, t: _Tally, share: float, cap: int, home: str,
    label_zh: str, label_en: str, scope_zh: str, extra: dict[str, Any],
) -> Iterator[Finding]:
    """One site-wide finding when the problem is the site's pattern (or too widespread to list page by
    page); otherwise one finding per page that deviates from a site that otherwise gets it right."""

    n, total = len(t.failing), t.applies
    failing = sorted(t.failing, key=lambda u: (u != home, u))
    if n / total >= share or n > cap:
        scope = f"全部 {total} 个{scope_zh}" if n == total else f"{n}/{total} 个{scope_zh}"
        yield ctx.finding(
            rule, failing[0],
            f"{scope}缺少{label_zh}（全站性问题，只报告一次）",
            f"{label_en[0].upper() + label_en[1:]} missing on {n} of {total} page(s) (a site-wide pattern, reported once)",
            key=f"{key_base}:site",
            evidence={**extra, "pattern": "site", "pages": failing[:PAGE_LIST_CAP], "page_count": n, "checked_pages": total},
        )
        return
    for url in failing:
        yield ctx.finding(
            rule, url,
            f"该页面缺少{label_zh}（全站其他 {total - n} 个{scope_zh}均有）",
            f"{label_en[0].upper() + label_en[1:]} missing on this page ({total - n} other page(s) have it)",
            key=f"{key_base}:{url}",
            evidence={**extra, "pattern": "page", "checked_pages": total, "deviating_pages": n},
        )
