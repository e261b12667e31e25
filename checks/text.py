"""Text quality (issue #13): 错别字, 严重表述错误, 暗链 and prohibited content — the 严重问题 veto.

国办秘函〔2019〕19号 makes 严重问题 (严重错别字、严重表述错误, links to or content of reactionary, violent,
pornographic or gambling material) the first single veto. A false 严重问题 fails a site, so this family
is built for precision first:

- ``text.typo``: a curated confusion dictionary (``text_typos.json``: wrong form → right form, class,
  source). A wrong form is matched literally and then dropped when the hit lies inside a correct word
  that contains it (the entry's ``ok`` list, cross-checked against jieba's 349k-word dictionary when the
  data was built): 发布署名 is not 布署, 按装修标准 is not 按装. Only the classes the pack lists in
  ``text.veto_classes`` (the country's name, fixed political formulations) are veto class; every other
  typo is minor.
- ``text.misstatement``: leaders' names and titles with their terms (``text_leaders.json``; the office's
  own leaders in the pack value ``text.local_leaders``). A miswritten name or a title the person never
  held, right next to the name, is veto class; a title used outside its term is judged against the
  page's own date (an old article naming the leader of its day is not an error) and is minor, because
  historical mentions without 时任 are common. Wording rules on 台湾/港澳 (``text.wording_rules``) are minor.
- ``text.hidden_link``: links and text hidden from visitors (display:none, visibility:hidden,
  off-screen, zero size, same colour, marquee, noscript…) pointing at or naming gambling/porn/loan spam
  (``text.spam_keywords``), and cloaking — the page a search-engine user agent or referer gets carries
  spam the browser's page does not (measured by ``plugins/cloaking_probe.py``, kind ``text.cloak``).
- ``text.prohibited``: spam phrases (``text.prohibited_words``) in visible text: minor, 疑似.

Where: every stored HTML page (title, meta description, visible text, image alt) and PDF/DOCX
attachment text. Each finding names the field, the offset and the sentence. Terms an office confirms
are right go in ``text.allowlist`` (an overlay pack value, per site host or for all sites), so a
recheck keeps them quiet like a triage decision. Everything here is pure: no I/O beyond reading the
package's own data files.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from auditor.context import CheckContext, PageView, SiteView
from auditor.crawl.extract import PARSEABLE_ATTACHMENTS, attachment_text
from auditor.declarations import load_declarations
from auditor.docmodel.dates import date_from_url, find_dates
from auditor.hookspecs import hookimpl
from auditor.model import Finding, Severity

CLOAK_KIND = "text.cloak"
CLOAK_VERSIONS = (1,)

DECLARED = load_declarations("auditor.checks", "rules/text.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

TYPO_BASIS = DECLARED.bases["typo_basis"]
WORDING_BASIS = DECLARED.bases["wording_basis"]
HIDDEN_BASIS = DECLARED.bases["hidden_basis"]


# --- data -------------------------------------------------------------------------------------

def _data(name: str) -> Any:
    return json.loads(resources.files("auditor.checks").joinpath(name).read_text("utf-8"))


@cache
def typo_entries() -> tuple[dict[str, Any], ...]:
    """``text_typos.json``: the confusion dictionary."""

    return tuple(_data("text_typos.json")["entries"])


@cache
def leader_data() -> dict[str, Any]:
    """``text_leaders.json``: national leaders and their titles with terms."""

    return _data("text_leaders.json")


class TypoMatcher:
    """All wrong forms in one alternation (longest first), each hit checked against its ``ok`` words."""

    def __init__(self, entries: list[dict[str, Any]] | tuple[dict[str, Any], ...],
                 words: frozenset[str] | None = None):
        self.words = boundary_words() if words is None else words
        self.by_wrong = {e["wrong"]: e for e in entries}
        forms = sorted(self.by_wrong, key=len, reverse=True)
        self.rx = re.compile("|".join(re.escape(f) for f in forms)) if forms else None
        self.ok = {w: [(o, k) for o in e.get("ok", []) for k in _offsets(o, w)] for w, e in self.by_wrong.items()}

    def find(self, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.rx is None or not text:
            return
        for m in self.rx.finditer(text):
            w = m.group(0)
            pos = m.start()
            if any(text.startswith(o, pos - k) for o, k in self.ok[w] if pos - k >= 0):
                continue
            if self.words and (straddles(text, pos, w, self.words) if len(w) <= 3
                               else runs_on(text, pos + len(w) - 1, self.words)):
                continue
            yield pos, self.by_wrong[w]


@cache
def boundary_words() -> frozenset[str]:
    """``text_words.json``: the jieba-derived words the boundary test looks up."""

    return frozenset(_data("text_words.json")["words"])


def straddles(text: str, pos: int, wrong: str, words: frozenset[str], longest: int = 5) -> bool:
    """True when ``text[pos:pos+len(wrong)]`` is better read as the end of one word and the start of
    another: 按|排序 (a word starts inside the hit and runs past it), 可以|经常 (a word ends inside the
    hit, begun before it). A segmenter's verdict without the segmenter: only the splits that matter
    for a short wrong form are looked up."""

    n = len(wrong)
    for k in range(1, n):
        left, right = wrong[:k], wrong[k:]
        # a word starts at pos+k and runs past the end of the hit
        if k == 1 or left in words:
            for m in range(n - k + 1, longest + 1):
                if text[pos + k:pos + k + m] in words and pos + k + m <= len(text):
                    return True
        # a word begun before the hit ends at pos+k-1
        if n - k == 1 or right in words:
            for m in range(k + 1, longest + 1):
                start = pos + k - m
                if start >= 0 and text[start:pos + k] in words:
                    return True
    return False


def runs_on(text: str, pos: int, words: frozenset[str], longest: int = 5) -> bool:
    """True when the character at ``pos`` (a long hit's last one) begins a word that runs past it:
    科学发展现|状 is 科学发展 + 现状, not a miswritten 科学发展观."""

    return any(text[pos:pos + m] in words for m in range(2, longest + 1) if pos + m <= len(text))


def _offsets(word: str, part: str) -> list[int]:
    out, i = [], word.find(part)
    while i >= 0:
        out.append(i)
        i = word.find(part, i + 1)
    return out


@cache
def _default_matcher() -> TypoMatcher:
    return TypoMatcher(typo_entries())


# --- text of a page ---------------------------------------------------------------------------

_SENT_END = "。！？!?；;\n"


def sentence(text: str, pos: int, length: int, width: int = 60) -> str:
    """The sentence around ``text[pos:pos+length]``, at most ``width`` characters each side."""

    start = pos
    while start > 0 and pos - start < width and text[start - 1] not in _SENT_END:
        start -= 1
    end = pos + length
    while end < len(text) and end - pos < width and text[end] not in _SENT_END:
        end += 1
    if end < len(text) and text[end] in _SENT_END:
        end += 1
    return text[start:end].strip()


def html_fields(tree: Any) -> list[tuple[str, str]]:
    """(field, text) pairs a visitor or a search engine reads: title, meta description, body text, alt."""

    out: list[tuple[str, str]] = []
    title = tree.find(".//title")
    if title is not None and title.text_content().strip():
        out.append(("title", title.text_content().strip()))
    for meta in tree.iter("meta"):
        if (meta.get("name") or "").lower() in ("description", "keywords") and meta.get("content"):
            out.append((f"meta:{meta.get('name').lower()}", meta.get("content")))
    body = tree.find(".//body")
    root = body if body is not None else tree
    parts: list[str] = []
    for node in root.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("script", "style", "template"):
            continue
        parent = node.getparent()
        ptag = parent.tag if parent is not None and isinstance(parent.tag, str) else ""
        if node.text and tag not in ("title",) and tag:
            parts.append(node.text)
        if node.tail and ptag not in ("script", "style", "template") and node is not root:
            parts.append(node.tail)
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parts))
    text = re.sub(r"\s*\n\s*", "\n", text)
    out.append(("body", text))
    alts = [img.get("alt") for img in root.iter("img") if img.get("alt")]
    if alts:
        out.append(("alt", "\n".join(alts)))
    return out


def page_fields(page: PageView) -> list[tuple[str, str]]:
    """Fields of an HTML page, or the text of a PDF/DOCX attachment (field ``attachment``)."""

    if page.is_html:
        tree = page.tree
        return html_fields(tree) if tree is not None else []
    if page.kind in PARSEABLE_ATTACHMENTS and page.kind in ("pdf", "docx"):
        try:
            return [("attachment", attachment_text(page.kind, page.body))]
        except Exception:  # noqa: BLE001 - a broken attachment is not a text finding
            return []
    return []


# --- dates ------------------------------------------------------------------------------------

_DATE_LABELS = ("发布时间", "发布日期", "发文日期", "成文日期", "日期", "时间")


def page_date(fields: list[tuple[str, str]], url: str, as_of: dt.date, is_homepage: bool) -> dt.date | None:
    """The page's own date: a labelled date in the body, else the URL's date, else the as-of for the homepage."""

    body = next((t for f, t in fields if f in ("body", "attachment")), "")
    for label in _DATE_LABELS:
        i = body.find(label)
        if i >= 0:
            got = find_dates(body[i:i + 40])
            if got and got[0][0] <= as_of:
                return got[0][0]
    d = date_from_url(url)
    if d is not None and d <= as_of:
        return d
    return as_of if is_homepage else None


# --- misstatements ----------------------------------------------------------------------------

_TENURE_PREFIX = ("时任", "原", "前", "历任", "曾任", "卸任", "离任", "当时", "时为")


def _leaders(ctx_local: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """National leaders (scope national) and the office's own (scope local, from the pack)."""

    return ([{**x, "scope": "national"} for x in leader_data()["leaders"]]
            + [{**x, "scope": "local"} for x in (ctx_local or [])])


@cache
def _leader_index(local_json: str) -> tuple[Any, ...]:
    leaders = _leaders(json.loads(local_json))
    titles = sorted({t["title"] for lead in leaders for t in lead["titles"]}, key=len, reverse=True)
    names = {lead["name"] for lead in leaders}
    known = names | set(leader_data().get("not_misspellings", []))
    title_rx = re.compile("|".join(re.escape(t) for t in titles)) if titles else None
    return leaders, titles, names, known, title_rx


def _is_cjk(s: str) -> bool:
    return bool(s) and all("\u4e00" <= c <= "\u9fff" for c in s)


def misstatements(text: str, when: dt.date | None, local: list[dict[str, Any]] | None = None
                  ) -> Iterator[dict[str, Any]]:
    """Leader name/title problems in ``text``: dicts with kind, pos, length, name, title, expected, veto."""

    leaders, _titles, _names, known, title_rx = _leader_index(json.dumps(local or [], ensure_ascii=False, sort_keys=True))
    if title_rx is None:
        return
    for m in title_rx.finditer(text):
        title = m.group(0)
        if m.start() > 0 and text[m.start() - 1] in "副":
            continue  # 副总理/国家副主席: another title
        for side in ("after", "before"):  # title after the name (习近平总书记) / before it (国家主席习近平)
            for lead in leaders:
                n = len(lead["name"])
                if side == "after":
                    cand, start = text[max(0, m.start() - n):m.start()], m.start() - n
                else:
                    cand, start = text[m.end():m.end() + n], m.end()
                if start < 0 or len(cand) != n or not _is_cjk(cand):
                    continue
                held = [t for t in lead["titles"] if t["title"] == title]
                if cand == lead["name"]:
                    pre = text[max(0, min(start, m.start()) - 3):min(start, m.start())]
                    if not held:
                        other = [x for x in leaders if x["name"] == cand and any(t["title"] == title for t in x["titles"])]
                        if not other and lead["scope"] == "national" and _national_title(leaders, title):
                            # veto class only when, at the page's date, someone else on the list holds the title:
                            # the list's title history is incomplete (国家副主席习近平 on a 2010 page is right)
                            holder = when is not None and any(
                                x["name"] != cand and any(t["title"] == title and _in_term(t, when) for t in x["titles"])
                                for x in leaders)
                            yield {"kind": "wrong_title", "pos": min(start, m.start()), "length": n + len(title),
                                   "name": cand, "title": title, "veto": bool(holder),
                                   "expected": "、".join(sorted({t["title"] for t in lead["titles"]}))}
                    elif when is not None and not any(_in_term(t, when) for t in held) and not pre.endswith(_TENURE_PREFIX):
                        yield {"kind": "out_of_term", "pos": min(start, m.start()), "length": n + len(title),
                               "name": cand, "title": title, "veto": False, "date": when.isoformat(),
                               "expected": "; ".join(f"{t['from']}–{t['to'] or '今'}" for t in held)}
                elif (n >= 3 and held and cand not in known
                      and sum(a != b for a, b in zip(cand, lead["name"], strict=True)) == 1):
                    # veto class for national leaders only: a local list rarely holds every predecessor,
                    # and 张三峰县长 may be the previous 县长 rather than 张三丰 miswritten
                    yield {"kind": "misspelt_name", "pos": min(start, m.start()), "length": n + len(title),
                           "name": cand, "title": title, "veto": lead["scope"] == "national", "expected": lead["name"]}


def _sentence_year_in_term(sent: str, hit: dict[str, Any], local: list[dict[str, Any]] | None) -> bool:
    """True when the sentence names a year (2010年) inside one of the person's terms in that title."""

    years = {int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年", sent)}
    if not years:
        return False
    for lead in _leaders(local):
        if lead["name"] != hit["name"]:
            continue
        for t in lead["titles"]:
            if t["title"] != hit["title"]:
                continue
            first = int(t["from"][:4])
            last = int(t["to"][:4]) if t.get("to") else 9999
            if any(first <= y <= last for y in years):
                return True
    return False


def _national_title(leaders: list[dict[str, Any]], title: str) -> bool:
    """A title some national leader on the list held: only those can make a wrong-title finding."""

    return any(t["title"] == title for lead in leaders if lead["scope"] == "national" for t in lead["titles"])


def _in_term(t: dict[str, Any], when: dt.date) -> bool:
    start = dt.date.fromisoformat(t["from"])
    end = dt.date.fromisoformat(t["to"]) if t.get("to") else None
    return start <= when and (end is None or when <= end)


_QUOTES = (("“", "”"), ("《", "》"), ("「", "」"), ("\"", "\""), ("『", "』"))


def quoted(text: str, pos: int) -> bool:
    """True when ``pos`` lies inside quotation marks or 书名号 opened in the same sentence."""

    start = pos
    while start > 0 and text[start - 1] not in _SENT_END and pos - start < 200:
        start -= 1
    before = text[start:pos]
    for o, c in _QUOTES:
        if o == c:
            if before.count(o) % 2 == 1:
                return True
        elif before.count(o) > before.count(c):
            return True
    return False


def wording(text: str, rules: list[dict[str, Any]]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """Hits of the pack's wording rules (regex ``pattern``; ``unless_before`` words; quoted text is exempt)."""

    for rule in rules:
        for m in re.finditer(rule["pattern"], text):
            pre = text[max(0, m.start() - 6):m.start()]
            if any(pre.endswith(u) for u in rule.get("unless_before", [])):
                continue
            if rule.get("quoted_ok", True) and quoted(text, m.start()):
                continue
            yield m.start(), m.end() - m.start(), rule


# --- hidden elements --------------------------------------------------------------------------

_DECL = re.compile(r"([a-z-]+)\s*:\s*([^;]+)")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def _style_hides(style: str) -> str | None:
    """The hiding technique an inline/class style uses, or None."""

    d = {k.strip().lower(): v.strip().lower().replace("!important", "").strip() for k, v in _DECL.findall(style or "")}
    if d.get("display") == "none":
        return "display:none"
    if d.get("visibility") in ("hidden", "collapse"):
        return "visibility:hidden"
    if d.get("opacity") in ("0", "0.0", ".0"):
        return "opacity:0"
    for k in ("left", "top", "text-indent", "margin-left", "margin-top"):
        v = d.get(k, "")
        m = re.match(r"-\s*(\d+)", v)
        if m and int(m.group(1)) >= 500 and (k.startswith(("text-indent", "margin")) or d.get("position") in ("absolute", "fixed")):
            return f"off-screen ({k}:{v})"
    if re.fullmatch(r"0(px|em|pt|%)?", d.get("font-size", "x")):
        return "font-size:0"
    w, h = d.get("width", ""), d.get("height", "")
    if (re.fullmatch(r"[01](px)?", w) or re.fullmatch(r"[01](px)?", h)) and d.get("overflow") == "hidden":
        return "zero-size"
    if d.get("color") and d.get("color") == d.get("background-color", d.get("background")):
        return "same colour as background"
    return None


def _css_hidden(tree: Any) -> dict[str, str]:
    """``.cls``/``#id`` selectors that hide, from the page's own <style> blocks."""

    out: dict[str, str] = {}
    for st in tree.iter("style"):
        css = re.sub(r"/\*.*?\*/", "", st.text_content() or "", flags=re.S)
        for sel, body in _RULE.findall(css):
            how = _style_hides(body)
            if not how:
                continue
            for s in sel.split(","):
                s = s.strip()
                if re.fullmatch(r"[.#][\w-]+", s):
                    out[s] = how
    return out


def hidden_how(el: Any, css: dict[str, str]) -> str | None:
    """How ``el`` (or an ancestor) is hidden from a visitor, or None when it is visible."""

    node = el
    while node is not None and isinstance(node.tag, str):
        tag = node.tag.lower()
        if tag == "noscript":
            return "noscript"
        if tag == "marquee":
            w, h = node.get("width", ""), node.get("height", "")
            if re.fullmatch(r"[0-2](px)?", w) or re.fullmatch(r"[0-2](px)?", h) or (node.get("scrollamount") or "0").isdigit() \
                    and int(node.get("scrollamount") or "0") >= 1000:
                return "marquee (tiny or too fast)"
        if node.get("hidden") is not None:
            return "hidden attribute"
        how = _style_hides(node.get("style") or "")
        if how:
            return how
        for c in (node.get("class") or "").split():
            if f".{c}" in css:
                return f"{css['.' + c]} (class {c})"
        if node.get("id") and f"#{node.get('id')}" in css:
            return f"{css['#' + node.get('id')]} (id {node.get('id')})"
        node = node.getparent()
    return None


def spam_categories(text: str, spam: dict[str, list[str]]) -> list[str]:
    low = text.lower()
    return [cat for cat, words in spam.items() if any(w.lower() in low for w in words)]


def _site_of(host: str) -> str:
    parts = host.lower().split(".")
    if len(parts) >= 3 and parts[-2] in ("gov", "com", "org", "net", "edu") and parts[-1] == "cn":
        return ".".join(parts[-3:])
    return ".".join(parts[-2:])


def reporting(text: str, context_words: list[str]) -> bool:
    """True for text that reports on or warns against the spam (严厉打击网上赌场, 警惕裸聊敲诈): a
    government page's own news, often in a collapsed tab, is not spam."""

    return any(w in text for w in context_words)


def hidden_findings(tree: Any, page_url: str, spam: dict[str, list[str]], veto_cats: list[str],
                    context_words: list[str] = ()) -> Iterator[dict[str, Any]]:
    """Hidden links and hidden text carrying spam: dicts with element, technique, target, categories, veto.

    A link counts only when it leaves the site for a host outside .gov.cn; text (of a link or a hidden
    block) that reports on the spam (``context_words``) does not count: tabs and menus are hidden by
    design and carry the site's own news about gambling crackdowns.
    """

    css = _css_hidden(tree)
    home_site = _site_of(urlsplit(page_url).hostname or "")
    seen: set[int] = set()
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        how = hidden_how(a, css)
        if not how:
            continue
        host = urlsplit(href).hostname or ""
        external = bool(host) and _site_of(host) != home_site and not host.lower().endswith(".gov.cn")
        anchor = (a.text_content() or "").strip()
        label = f"{anchor} {a.get('title') or ''}"
        cats = spam_categories(f"{label} {href}", spam)
        if not cats or not external or reporting(label, context_words):
            continue
        seen.add(id(a))
        yield {"what": "link", "technique": how, "target": href, "anchor": anchor[:80], "categories": cats,
               "element": _outer(a), "veto": any(c in veto_cats for c in cats)}
    # hidden text (no link) naming spam
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "template", "a"):
            continue
        how_self = _style_hides(el.get("style") or "") or (el.tag == "noscript" and "noscript") or \
            next((f"{css['.' + c]} (class {c})" for c in (el.get("class") or "").split() if f".{c}" in css), None)
        if not how_self:
            continue
        text = el.text_content() or ""
        cats = spam_categories(text, spam)
        if cats and not reporting(text, context_words) and not any(id(x) in seen for x in el.iter("a")):
            yield {"what": "text", "technique": how_self, "target": "", "anchor": text.strip()[:80], "categories": cats,
                   "element": _outer(el), "veto": any(c in veto_cats for c in cats)}


def _outer(el: Any) -> str:
    import lxml.html

    try:
        return lxml.html.tostring(el, encoding="unicode")[:300]
    except Exception:  # noqa: BLE001
        return el.tag


# --- the hooks --------------------------------------------------------------------------------

def _allowlist(ctx: CheckContext, url: str) -> set[str]:
    allow = ctx.pack.value("text.allowlist")
    host = (urlsplit(url).hostname or "").lower()
    return set(allow.get("*", [])) | set(allow.get(host, []))


def _typo_matcher(ctx: CheckContext) -> TypoMatcher:
    extra = ctx.pack.value("text.extra_typos")
    if not extra:
        return _default_matcher()
    return TypoMatcher(list(typo_entries()) + list(extra))


@hookimpl
def govaudit_check_page(page: PageView, ctx: CheckContext) -> Iterator[Finding]:
    if page.is_error_page:
        return
    fields = page_fields(page)
    if not fields:
        return
    cap = int(ctx.pack.value("text.page_findings_cap"))
    allow = _allowlist(ctx, page.url)
    veto_classes = set(ctx.pack.value("text.veto_classes"))
    out: list[Finding] = []
    out += _typos(page, ctx, fields, allow, veto_classes)
    out += _misstatements(page, ctx, fields, allow)
    hidden = _hidden(page, ctx) if page.is_html and page.tree is not None else []
    out += hidden
    # spam already reported as hidden is not reported again as visible prohibited text
    shown = " ".join(f.evidence.get("anchor", "") for f in hidden)
    out += [f for f in _prohibited(page, ctx, fields, allow) if f.evidence["word"].lower() not in shown.lower()]
    out.sort(key=lambda f: (f.severity != Severity.VETO, f.rule))
    yield from out[:cap]


def _typos(page: PageView, ctx: CheckContext, fields: list[tuple[str, str]], allow: set[str],
           veto_classes: set[str]) -> list[Finding]:
    matcher = _typo_matcher(ctx)
    hits: dict[str, dict[str, Any]] = {}
    for field, text in fields:
        for pos, e in matcher.find(text):
            if e["wrong"] in allow:
                continue
            h = hits.setdefault(e["wrong"], {"entry": e, "field": field, "pos": pos, "text": text, "count": 0})
            h["count"] += 1
    out = []
    for wrong, h in hits.items():
        e = h["entry"]
        sent = sentence(h["text"], h["pos"], len(wrong))
        veto = e["class"] in veto_classes and e.get("severity") == "veto"
        out.append(ctx.finding(
            "text.typo", page.url,
            f"疑似错别字“{wrong}”（应为“{e['right']}”）：{sent}",
            f"Suspected typo '{wrong}' (should be '{e['right']}'): {sent}",
            key=f"typo:{wrong}", variant="veto" if veto else None,
            evidence={"wrong": wrong, "right": e["right"], "class": e["class"], "field": h["field"], "offset": h["pos"],
                      "sentence": sent, "occurrences": h["count"], "source": e.get("source", ""), "suspected": True}))
    return out


def _misstatements(page: PageView, ctx: CheckContext, fields: list[tuple[str, str]], allow: set[str]) -> list[Finding]:
    local = ctx.pack.value("text.local_leaders")
    when = page_date(fields, page.url, ctx.as_of, page.is_homepage)
    rules = ctx.pack.value("text.wording_rules")
    out: list[Finding] = []
    seen: set[str] = set()
    for field, text in fields:
        for hit in misstatements(text, when, local):
            phrase = text[hit["pos"]:hit["pos"] + hit["length"]]
            key = f"{hit['kind']}:{phrase}"
            if key in seen or phrase in allow or quoted(text, hit["pos"]):
                continue
            sent = sentence(text, hit["pos"], hit["length"])
            if hit["kind"] == "out_of_term" and _sentence_year_in_term(sent, hit, local):
                continue  # 2010年，国家副主席习近平…: the sentence dates itself
            seen.add(key)
            what = {"misspelt_name": f"领导人姓名疑似写错（应为“{hit['expected']}”）",
                    "wrong_title": f"领导人职务疑似错误（{hit['name']}的职务为{hit['expected']}）",
                    "out_of_term": f"职务与页面日期{hit.get('date')}不符（任期 {hit['expected']}），若为历史表述请加“时任”"}[hit["kind"]]
            out.append(ctx.finding(
                "text.misstatement", page.url, f"疑似严重表述错误“{phrase}”：{what}：{sent}",
                f"Suspected misstatement '{phrase}' ({hit['kind']}): {sent}", key=key,
                variant="veto" if hit["veto"] else None,
                evidence={**hit, "phrase": phrase, "field": field, "offset": hit["pos"], "sentence": sent, "suspected": True}))
        for pos, length, rule in wording(text, rules):
            phrase = text[pos:pos + length]
            key = f"wording:{rule['id']}:{phrase}"
            if key in seen or phrase in allow:
                continue
            seen.add(key)
            sent = sentence(text, pos, length)
            out.append(ctx.finding(
                "text.misstatement", page.url, f"疑似表述不规范“{phrase}”：{rule['zh']}：{sent}",
                f"Suspected wording problem '{phrase}': {rule.get('en', rule['id'])}: {sent}", key=key,
                evidence={"kind": "wording", "rule": rule["id"], "phrase": phrase, "field": field, "offset": pos,
                          "sentence": sent, "suspected": True}))
    return out


def _hidden(page: PageView, ctx: CheckContext) -> list[Finding]:
    spam = ctx.pack.value("text.spam_keywords")
    veto_cats = ctx.pack.value("text.hidden_veto_categories")
    out = []
    context_words = ctx.pack.value("text.spam_context_exclude")
    for h in hidden_findings(page.tree, page.final_url, spam, veto_cats, context_words):
        key = f"hidden:{h['what']}:{h['target'] or h['anchor'][:30]}"
        out.append(ctx.finding(
            "text.hidden_link", page.url,
            f"疑似暗链（{h['technique']}，{'/'.join(h['categories'])}）：“{h['anchor']}” → {h['target'] or '隐藏文字'}",
            f"Suspected hidden {h['what']} ({h['technique']}, {'/'.join(h['categories'])}): '{h['anchor']}' -> {h['target']}",
            key=key, variant=None if h["veto"] else "minor", evidence={**h, "suspected": True}))
    return out


def _prohibited(page: PageView, ctx: CheckContext, fields: list[tuple[str, str]], allow: set[str]) -> list[Finding]:
    words = [w for w in ctx.pack.value("text.prohibited_words") if w not in allow]
    if not words:
        return []
    context_words = ctx.pack.value("text.spam_context_exclude")
    out = []
    for field, text in fields:
        low = text.lower()
        for w in words:
            i = low.find(w.lower())
            if i < 0:
                continue
            sent = sentence(text, i, len(w))
            if reporting(sent, context_words):
                continue  # 破获一起利用裸聊敲诈的案件: reporting, not spam
            out.append(ctx.finding("text.prohibited", page.url, f"疑似违规内容“{w}”：{sent}",
                                   f"Suspected prohibited content '{w}': {sent}", key=f"prohibited:{w}",
                                   evidence={"word": w, "field": field, "offset": i, "sentence": sent, "suspected": True}))
    return out


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    """Cloaking: spam in what a search engine is served that the browser's page does not carry."""

    spam = ctx.pack.value("text.spam_keywords")
    veto_cats = ctx.pack.value("text.hidden_veto_categories")
    for m in site.measurements(CLOAK_KIND):
        if m.version not in CLOAK_VERSIONS:
            ctx.store.add_error(ctx.run_id, "check", f"text.cloak measurement version {m.version} not understood", url=m.key,
                                plugin="text")
            continue
        yield from judge_cloak(m.key, m.data, spam, veto_cats, ctx)


def judge_cloak(url: str, data: dict[str, Any], spam: dict[str, list[str]], veto_cats: list[str],
                ctx: CheckContext) -> Iterator[Finding]:
    variants = data.get("variants", {})
    base = variants.get("browser") or {}
    if base.get("error") or not base:
        return
    base_cats = set(spam_categories(base.get("text", "") + " " + base.get("title", ""), spam))
    for name, v in variants.items():
        if name == "browser" or v.get("error"):
            continue
        cats = [c for c in spam_categories(v.get("text", "") + " " + v.get("title", "") + " " + (v.get("location") or ""), spam)
                if c not in base_cats]
        if not cats:
            continue
        yield ctx.finding(
            "text.hidden_link", url,
            f"疑似针对搜索引擎的暗链/劫持（{name}）：以{v.get('as', name)}访问时页面出现{'/'.join(cats)}内容，浏览器访问时没有",
            f"Suspected cloaking ({name}): the page served as {v.get('as', name)} carries {'/'.join(cats)} content the browser's page lacks",
            key=f"cloak:{name}", variant=None if any(c in veto_cats for c in cats) else "minor",
            evidence={"technique": f"cloaking ({name})", "categories": cats, "title": v.get("title", ""),
                      "browser_title": base.get("title", ""), "location": v.get("location"), "status": v.get("status"),
                      "suspected": True})
