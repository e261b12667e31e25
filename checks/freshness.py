"""Homepage and column freshness (首页不更新, 栏目不更新, 空白栏目): the update vetoes of the indicators.

国办秘函〔2019〕19号 makes two of its 单项否决 items about updates:

* 首页不更新 — nothing new on the homepage in the 2 weeks before the monitoring point; a homepage
  that is only a navigation entry moves the test to *all* second-level pages. Items without a
  publication date count as not updated (国办发〔2015〕15号附件2 note).
* 栏目不更新 — any of: (1) ≥5 columns stale in total among 动态/要闻 (2 weeks) and 通知公告/政策文件
  (6 months); (2) ≥10 columns that should be updated but long were not; (3) ≥5 blank columns
  (栏目有名无内容). The three triggers produce *one* veto finding listing the columns; each stale
  or blank column is also reported on its own (non-veto) so it can be fixed.

Windows, thresholds, class keywords and placeholders are rule-pack values (``freshness.*``). The
date window is inclusive: an item dated exactly 14 days before ``--as-of`` still counts as new.
Columns come from the homepage blocks, the homepage navigation (and the channel pages and
sub-menus it leads to) and pages whose ``ColumnName`` meta marks them as column pages. Dead
same-site navigation entries are blank columns (the verdicts of the link checker are reused).

A veto must survive an operator's audit, so:

* a column is counted once: entries with the same canonical address, or the same name where one
  is a homepage block (or has no address, or shows the same dated items), are merged, and the
  veto lists every counted column with its URL, class, newest date and the reason it counts;
* things that are not columns are left out and recorded (``freshness.not_columns``): other
  sites' links, hidden elements, article pages, form/interface endpoints (``columns.*`` patterns);
* a list filled by script (``columns.js_list_markers``) is judged on the browser-rendered page
  (plugins/browser.py renders such pages) or on Hanweb datastore records; when neither shows an
  item it is *not decidable* (``freshness.column_undecidable``, info), never blank or stale.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from auditor.context import RENDER_KIND, CheckContext, PageView, SiteView
from auditor.declarations import load_declarations
from auditor.docmodel import listing
from auditor.docmodel.listing import Block, ColumnClass, ColumnPage, Item
from auditor.hookspecs import hookimpl
from auditor.model import Finding, Verdict

INDICATORS_BASIS = "国办秘函〔2019〕19号; 国办发〔2015〕15号附件2"

DECLARED = load_declarations("auditor.checks", "rules/freshness.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

HOMEPAGE_BASIS = DECLARED.bases["homepage_basis"]
COLUMN_BASIS = DECLARED.bases["column_basis"]
EMPTY_BASIS = DECLARED.bases["empty_basis"]
BLANK_VETO_BASIS = DECLARED.bases["blank_veto_basis"]
UNDECIDABLE_BASIS = DECLARED.bases["undecidable_basis"]


# --- the columns of a site -------------------------------------------------------------------


def render_unchanged(site: SiteView) -> set[str]:
    """Pages rendered in the browser (plugins/render_probe.py) whose DOM showed nothing new."""

    m = site.measurement(RENDER_KIND)
    return set(m.data.get("unchanged") or ()) if m is not None and isinstance(m.data, dict) else set()

@dataclass
class Column:
    """One column as the audit saw it, with where it was found (and every other place it showed up)."""

    name: str
    url: str | None
    source: str  # homepage | nav | channel | subnav | meta
    found_on: str
    items: list[Item] = field(default_factory=list)
    placeholder: str | None = None
    is_error: bool = False
    error_reason: str | None = None
    content_chars: int = 0
    page_count: int = 1
    visited: bool = False
    js_markers: list[str] = field(default_factory=list)  # script-filled list markers on an itemless page
    rendered: bool = False  # the stored page is the browser-rendered DOM
    render_tried: bool = False  # rendered in the browser, but the DOM showed nothing new
    list_source: str = "html"
    declared_total: int | None = None
    aliases: list[dict[str, Any]] = field(default_factory=list)  # the same column seen elsewhere
    first_key: str = ""

    @property
    def key(self) -> str:
        return self.first_key or self.url or f"{self.found_on}#{self.name}"

    @property
    def undecidable(self) -> bool:
        """A script-filled list with nothing to read: not decidable, never blank (nor stale).

        Unless the browser ran its scripts and the page then says it is empty (暂无信息…): that
        is the site's own word, a blank column.
        """

        if self.is_error or self.items or not self.js_markers:
            return False
        return not (self.placeholder and (self.rendered or self.render_tried))

    def blank_reason(self) -> str | None:
        if self.is_error:
            return "error_page"
        if self.items or self.undecidable:
            return None
        if self.placeholder:
            return "placeholder"
        if self.visited and self.content_chars >= 30:
            return None  # a static page column (机构职能, 领导简介): content, just not a list
        return "no_content"


BLANK_REASON_ZH = {"error_page": "栏目入口打不开（错误页）", "placeholder": "仅有占位内容", "no_content": "有名无内容"}
BLANK_REASON_EN = {"error_page": "entry leads to an error page", "placeholder": "placeholder only", "no_content": "no content"}
NOT_COLUMN_ZH = {"off_site": "外站链接", "hidden": "页面上隐藏的元素", "article_url": "文章页地址", "endpoint": "表单/接口地址",
                 "article_page": "文章页（带文章元数据、无列表）"}

_INDEX_FILE = re.compile(r"/(?:index|default|list)\.(?:s?html?|jsp|php|aspx?)$", re.I)


def _canon(url: str) -> str:
    """One spelling per column address: ``/tzgg/index.html`` and ``/tzgg/`` are the same column."""

    parts = urlsplit(url)
    path = _INDEX_FILE.sub("/", parts.path or "/")
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}{path}" + (f"?{parts.query}" if parts.query else "")


def _norm_name(name: str) -> str:
    return re.sub(r"[\s\u3000:：>»·•|]+", "", name or "")


def _item_key(it: Item) -> tuple[str, str]:
    return (it.url or it.title, it.date.isoformat() if it.date else "")


def _same_list(a: Column, b: Column) -> bool:
    """Two entries show the same list when their dated items overlap (a homepage block shows the head of its page)."""

    ka = {_item_key(i) for i in a.items if i.date}
    kb = {_item_key(i) for i in b.items if i.date}
    return bool(ka and kb) and len(ka & kb) >= max(1, min(len(ka), len(kb)) // 2)


class ColumnCollector:
    """Finds the site's columns once; both column rules read the same list.

    A column is counted once however many entries lead to it: entries are the same column when
    their addresses are the same after canonicalisation (``index.html`` and redirects folded),
    or when they carry the same name and one of them is a homepage block, has no address, or
    shows the same dated items. Everything that is not a column (see :mod:`auditor.docmodel.listing`) is
    left out and listed in ``excluded`` with the reason, so the count can be audited.
    """

    def __init__(self, site: SiteView, ctx: CheckContext):
        self.site = site
        self.ctx = ctx
        self.as_of = ctx.as_of
        self.placeholders: list[str] = list(ctx.pack.value("freshness.placeholder_patterns") or [])
        self.limit = int(ctx.pack.value("freshness.max_columns"))
        self.min_title_chars = int(ctx.pack.value("columns.min_title_chars"))
        self.columns: dict[str, Column] = {}
        self.by_url: dict[str, str] = {}
        self.by_name: dict[str, list[str]] = {}
        self.truncated = 0
        self.unvisited = 0
        self.excluded: list[dict[str, Any]] = []
        self._excluded_urls: set[str] = set()
        self._excluded_keys: set[tuple[str, str | None]] = set()
        self._dead: dict[str, Any] | None = None
        self._pages: dict[str, ColumnPage | None] = {}
        self._page_facts: dict[str, dict[str, Any]] = {}
        self._hidden: dict[str, set[str]] = {}
        self._render_tried: set[str] | None = None
        # the site's own host and the hosts the operator declared part of it (--sibling-host)
        self.hosts = [site.host] + [h.lower() for h in (getattr(ctx.config, "sibling_hosts", None) or []) if h]

    # dead link verdicts, by target
    @property
    def dead(self) -> dict[str, Any]:
        if self._dead is None:
            self._dead = {r.target_url: r for r in self.site.link_results(Verdict.DEAD)}
        return self._dead

    @property
    def render_tried(self) -> set[str]:
        """Pages the measure stage rendered in the browser without gaining content."""

        if self._render_tried is None:
            self._render_tried = render_unchanged(self.site)
        return self._render_tried

    def hidden_targets(self, page_url: str) -> set[str]:
        if page_url not in self._hidden:
            page = self.site.page(page_url)
            self._hidden[page_url] = (listing.hidden_link_targets(page.tree, page.final_url, page.encoding)
                                      if page is not None and page.tree is not None else set())
        return self._hidden[page_url]

    def column_page(self, url: str) -> ColumnPage | None:
        if url not in self._pages:
            page = self.site.page(url)
            if page is None or not (page.is_html or (page.status or 200) >= 400):
                self._pages[url] = None
            else:
                cp = listing.read_column_page(page, self.as_of, self.placeholders, min_title_chars=self.min_title_chars)
                facts: dict[str, Any] = {"rendered": page.rendered, "js_markers": [],
                                         "final_url": page.final_url}
                if not cp.items and not cp.is_error and cp.list_source != "datastore":
                    markers = listing.js_list_markers(page.text, self.ctx.pack)
                    pagers = listing.js_list_markers(page.text, self.ctx.pack, "columns.js_pager_markers")
                    # a TRS pager (createPageHTML) over a static list that says it has one page is a
                    # static empty list: decidable. Any other script-filled list marker is not.
                    facts["js_markers"] = markers + (pagers if cp.page_count > 1 else [])
                    facts["render_tried"] = bool(facts["js_markers"]) and url in self.render_tried
                if not cp.is_error and listing.is_article_page(page, cp, self.ctx.pack):
                    facts["article"] = True
                self._page_facts[url] = facts
                self._pages[url] = cp
        return self._pages[url]

    def exclude(self, name: str, url: str | None, reason: str, found_on: str) -> None:
        if (name, url) in self._excluded_keys:
            return
        self._excluded_keys.add((name, url))
        if url:
            self._excluded_urls.add(url)
        self.excluded.append({"name": name, "url": url, "reason": reason, "reason_zh": NOT_COLUMN_ZH.get(reason, reason),
                              "found_on": found_on})

    def reject(self, url: str, found_on: str) -> str | None:
        """Why the entry at ``url`` (linked from ``found_on``) is not a column, or None."""

        if not any(listing.same_site(url, h) for h in self.hosts):
            return "off_site"
        if url in self.hidden_targets(found_on):
            return "hidden"
        return listing.not_a_column_url(url, self.ctx.pack)

    def _find(self, col: Column) -> Column | None:
        if col.url:
            k = self.by_url.get(_canon(col.url))
            if k is not None:
                return self.columns[k]
        name = _norm_name(col.name)
        for k in self.by_name.get(name, []) if name else []:
            known = self.columns[k]
            if "homepage" in (known.source, col.source) or not known.url or not col.url or _same_list(known, col):
                return known
        return None

    def _merge(self, known: Column, col: Column) -> None:
        known.aliases.append({"name": col.name, "url": col.url, "found_via": col.source, "found_on": col.found_on})
        seen = {_item_key(i) for i in known.items}
        known.items.extend(i for i in col.items if _item_key(i) not in seen)
        if col.url:
            known.url = known.url or col.url
            self.by_url.setdefault(_canon(col.url), known.first_key)
        if col.visited and not known.visited:
            known.visited, known.content_chars, known.page_count = True, col.content_chars, col.page_count
            known.js_markers, known.rendered, known.render_tried = col.js_markers, col.rendered, col.render_tried
            known.list_source, known.declared_total = col.list_source, col.declared_total
        known.placeholder = known.placeholder or col.placeholder
        if col.is_error and not known.is_error:
            known.is_error, known.error_reason = True, col.error_reason
        known.name = known.name or col.name

    def add(self, col: Column) -> Column | None:
        known = self._find(col)
        if known is not None:
            self._merge(known, col)
            return None
        if len(self.columns) >= self.limit:
            self.truncated += 1
            return None
        col.first_key = col.url or f"{col.found_on}#{col.name}"
        if col.first_key in self.columns:
            self._merge(self.columns[col.first_key], col)
            return None
        self.columns[col.first_key] = col
        if col.url:
            self.by_url[_canon(col.url)] = col.first_key
        if _norm_name(col.name):
            self.by_name.setdefault(_norm_name(col.name), []).append(col.first_key)
        return col

    def from_page(self, name: str, url: str, source: str, found_on: str, block_items: list[Item] | None = None,
                  placeholder: str | None = None, descend: bool = False) -> None:
        """A column entry pointing at ``url``: read its page if the crawl stored it."""

        dead = self.dead.get(url)
        if dead is not None:
            self.add(Column(name, url, source, found_on, is_error=True,
                            error_reason=f"{dead.reason or 'dead'}{' HTTP ' + str(dead.status) if dead.status else ''}"))
            return
        cp = self.column_page(url)
        if cp is None:
            if block_items is not None or placeholder:
                self.add(Column(name, url, source, found_on, items=list(block_items or []), placeholder=placeholder))
            else:
                self.unvisited += 1
            return
        if cp.is_error:
            self.add(Column(name, url, source, found_on, is_error=True, visited=True,
                            error_reason=f"HTTP {cp.status}" if cp.status and cp.status >= 400 else "soft_404"))
            return
        facts = self._page_facts.get(url, {})
        if facts.get("article"):
            # an article page is not a column; a homepage block pointing at one is judged on its own items
            self.exclude(name or cp.name, url, "article_page", found_on)
            if block_items:
                self.add(Column(name, None, source, found_on, items=list(block_items)))
            return
        final = facts.get("final_url")
        if final and final != url and _canon(final) != _canon(url) and _canon(final) in self.by_url:
            url = final  # a redirect to a column already known: the same column
        if descend and cp.is_channel and not block_items:
            # a second-level channel page: its named blocks are the columns
            for b in cp.blocks:
                if b.name and b.region == "content" and (b.items or b.placeholder):
                    self.block_column(b, url, "channel")
            return
        items = cp.items or list(block_items or [])
        self.add(Column(name or cp.name, url, source, found_on, items=items,
                        placeholder=cp.placeholder or (placeholder if not items else None),
                        content_chars=cp.content_chars, page_count=cp.page_count, visited=True,
                        js_markers=list(facts.get("js_markers") or []) if not items else [],
                        rendered=bool(facts.get("rendered")), render_tried=bool(facts.get("render_tried")),
                        list_source=cp.list_source,
                        declared_total=cp.declared_total))

    def block_column(self, block: Block, found_on: str, source: str) -> None:
        more = block.more_url if block.more_url and block.more_url != found_on else None
        if more:
            reason = self.reject(more, found_on)
            if reason:
                self.exclude(block.name, more, reason, found_on)
                more = None
                if not block.items:
                    return  # a heading over a form/interface/other site's link: nothing of a column here
        if more:
            self.from_page(block.name, more, source, found_on, block.items, block.placeholder)
        else:
            self.add(Column(block.name, None, source, found_on, items=list(block.items), placeholder=block.placeholder))

    def entry(self, anchor: str, target: str, source: str, found_on: str, descend: bool = False) -> bool:
        """A navigation entry: a column unless it is something else (then listed in ``excluded``)."""

        reason = self.reject(target, found_on)
        if reason:
            self.exclude(anchor, target, reason, found_on)
            return False
        self.from_page(anchor, target, source, found_on, descend=descend)
        return True

    def collect(self) -> list[Column]:
        site, home = self.site, self.site.homepage
        if home is None or home.tree is None:
            return []
        home_url = home.url
        for b in listing.extract_blocks(home.tree, home.final_url, home.encoding, self.as_of, self.min_title_chars):
            if b.name and b.region == "content":
                self.block_column(b, home_url, "homepage")
        ignore = self.ctx.pack.value("freshness.nav_ignore") or []
        nav = [(a, t) for a, t in listing.nav_entries(site.links(source_url=home_url), ignore)
               if t not in (home_url, home.final_url)]
        kept = [(a, t) for a, t in nav if self.entry(a, t, "nav", home_url, descend=True)]
        # sub-menus of the second-level pages (left menus of 政府信息公开 and channel pages)
        top = {home_url} | {t for _, t in nav}
        for _anchor, target in kept:
            if self.column_page(target) is None:
                continue
            for sub_anchor, sub_target in listing.nav_entries(site.links(source_url=target), ignore):
                if sub_target in top:
                    continue
                self.entry(sub_anchor, sub_target, "subnav", target)
        # pages that call themselves column pages (ColumnName meta, no ArticleTitle) and show a list:
        # level-3 columns the menus did not reach. Later pages of a list (index_1.html) and detail
        # pages sharing a known column's folder are that column, not new ones.
        folders = {_folder(c.url) for c in self.columns.values() if c.url}
        for page in site.pages("html"):
            if page.url in self._pages or page.url in self.columns or page.url in (home_url, home.final_url) \
                    or page.url in self._excluded_urls:
                continue  # read already, or left out as not a column (hidden, endpoint…) by the menus
            body = page.body
            if b"ColumnName" not in body or b"ArticleTitle" in body or _PAGED.search(page.url):
                continue
            if _folder(page.url) in folders or listing.not_a_column_url(page.url, self.ctx.pack):
                continue
            if _canon(page.url) in self.by_url:
                continue
            cp = self.column_page(page.url)
            if cp is None or not (len(cp.items) >= 2 or cp.is_blank) or self._page_facts.get(page.url, {}).get("article"):
                continue
            folders.add(_folder(page.url))
            self.from_page("", page.url, "meta", page.url)
        return list(self.columns.values())


_PAGED = re.compile(r"(?:index|list|default|more)_\d+\.s?html?$|[?&](?:page|pageno|pageindex|curpage|p)=\d+", re.I)


def _folder(url: str | None) -> str:
    """The folder of a column URL (``/zwdt/zwyw/index.html`` → ``/zwdt/zwyw/``)."""

    if not url:
        return ""
    path = url.split("?", 1)[0]
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


# --- judging -----------------------------------------------------------------------------------

def _age(d: dt.date, as_of: dt.date) -> int:
    return (as_of - d).days


def _item_ref(item: Item | None) -> dict[str, Any] | None:
    return item.as_dict() if item else None


def _entry(ctx: CheckContext, key: str) -> dict[str, Any] | None:
    e = ctx.pack.entry(key)
    return {k: e[k] for k in ("value", "source", "status", "pack") if k in e} if e else None


@dataclass
class Judgement:
    column: Column
    cls: ColumnClass
    newest: Item | None
    state: str  # fresh | stale | blank | not_judged | undecidable
    age_days: int | None
    blank_reason: str | None = None
    longstale: bool = False
    future_items: int = 0


def judge(col: Column, ctx: CheckContext, longstale_days: int, longstale_classes: set[str]) -> Judgement:
    cls = listing.classify_column(col.name, ctx.pack)
    as_of = ctx.as_of
    newest = listing.newest_item(col.items, as_of)
    age = _age(newest.date, as_of) if newest and newest.date else None
    future = sum(1 for i in col.items if i.date and i.date > as_of)
    blank = col.blank_reason()
    if blank:
        return Judgement(col, cls, newest, "blank", age, blank, future_items=future)
    if col.undecidable:
        return Judgement(col, cls, newest, "undecidable", age, future_items=future)
    if cls.window_days is None:
        return Judgement(col, cls, newest, "not_judged", age, future_items=future)
    if not col.items and not col.visited:
        return Judgement(col, cls, newest, "not_judged", age, future_items=future)
    if age is None and col.items and not ctx.pack.value("freshness.undated_counts_as_stale"):
        # a pack that does not count undated items as "not updated": a column of undated items is not judged
        return Judgement(col, cls, newest, "not_judged", age, future_items=future)
    stale = age is None or age > cls.window_days
    longstale = cls.id in longstale_classes and (age is None or age > max(cls.window_days, longstale_days))
    return Judgement(col, cls, newest, "stale" if stale else "fresh", age, longstale=longstale, future_items=future)


def _column_evidence(j: Judgement, ctx: CheckContext) -> dict[str, Any]:
    col = j.column
    return {
        "column_name": col.name,
        "column_url": col.url,
        "found_on": col.found_on,
        "found_via": col.source,
        "class": j.cls.id,
        "class_keyword": j.cls.keyword,
        "window_days": j.cls.window_days,
        "window": _entry(ctx, j.cls.window_key) if j.cls.window_key else None,
        "newest_item": _item_ref(j.newest),
        "age_days": j.age_days,
        "as_of": ctx.as_of.isoformat(),
        "item_count": len(col.items),
        "undated_count": sum(1 for i in col.items if i.date is None),
        "future_dated_count": j.future_items,
        "page_count": col.page_count,
        "long_stale": j.longstale,
        "list_source": col.list_source,
        "declared_total": col.declared_total,
        "rendered": col.rendered,
        "also_seen_as": col.aliases,
    }


def _counted(j: Judgement, trigger: str) -> dict[str, Any]:
    """One counted column of a veto trigger: enough for a person to check it by opening the URL."""

    col, newest = j.column, j.newest
    row: dict[str, Any] = {
        # a homepage block without a column page of its own is checked where it is shown
        "name": col.name, "url": col.url or col.found_on, "url_is": "column_page" if col.url else "shown_on_page",
        "found_on": col.found_on, "found_via": col.source,
        "class": j.cls.id, "class_keyword": j.cls.keyword, "window_days": j.cls.window_days,
        "newest": newest.date.isoformat() if newest and newest.date else None,
        "newest_title": newest.title if newest else None, "newest_url": newest.url if newest else None,
        "age_days": j.age_days, "item_count": len(col.items), "blank_reason": j.blank_reason,
        "also_seen_as": col.aliases,
    }
    if trigger == "blank":
        reason = j.blank_reason or "no_content"
        zh = BLANK_REASON_ZH[reason] + (f"（“{col.placeholder}”）" if reason == "placeholder" else
                                        f"（{col.error_reason}）" if reason == "error_page" and col.error_reason else "")
        en = BLANK_REASON_EN[reason]
    else:
        window = j.cls.window_days if trigger == "stale" else max(j.cls.window_days or 0, j.age_days or 0)
        if newest is None or newest.date is None:
            zh, en = "无带发布日期的信息，视为未更新", "no dated item: counts as not updated"
        elif trigger == "stale":
            zh = f"{j.cls.label_zh}，最新信息 {newest.date.isoformat()}，已 {j.age_days} 天，超过更新周期 {window} 天"
            en = f"{j.cls.label_en}, newest item {newest.date.isoformat()}, {j.age_days} days old, beyond its {window}-day cycle"
        else:
            zh = f"{j.cls.label_zh}，最新信息 {newest.date.isoformat()}，已 {j.age_days} 天未更新（长期未更新）"
            en = f"{j.cls.label_en}, newest item {newest.date.isoformat()}, not updated for {j.age_days} days"
    row["reason_zh"], row["reason_en"] = zh, en
    return row


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> list[Finding]:
    """Both parts run on their own: a failure in one is an error record, not the loss of the other."""

    findings: list[Finding] = []
    for part in (check_homepage, check_columns):
        try:
            findings.extend(part(site, ctx))
        except Exception as exc:  # noqa: BLE001 - bad input becomes an error record, never a crash
            ctx.store.add_error(ctx.run_id, "check", f"{type(exc).__name__}: {exc}", url=site.homepage_url,
                                plugin="freshness", detail=traceback.format_exc())
    return findings


# --- homepage ----------------------------------------------------------------------------------

def _dated_items(page: PageView, as_of: dt.date, min_title_chars: int) -> list[Item]:
    blocks = listing.extract_blocks(page.tree, page.final_url, page.encoding, as_of, min_title_chars)
    return [i for b in blocks for i in b.items]


def check_homepage(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    """首页不更新, unless the homepage fills lists by script the browser did not show us.

    A homepage whose news list is loaded by script (``columns.js_list_markers``) and that was not
    rendered (rendering off, failed, or nothing gained) may hold today's news: the veto is then
    *not decidable* (``freshness.homepage_undecidable``, info), never a false 单项否决.
    """

    home = site.homepage
    for f in _homepage_findings(site, ctx):
        if f.rule == "freshness.homepage_stale" and home is not None and not home.rendered:
            markers = listing.js_list_markers(home.text, ctx.pack)
            if markers:
                tried = home.url in render_unchanged(site)
                yield ctx.finding(
                    "freshness.homepage_undecidable", f.url,
                    f"首页有由脚本加载的列表（{'、'.join(markers[:3])}），"
                    + ("在浏览器中渲染后仍未读到" if tried else "未在浏览器中渲染")
                    + f"；静态页面显示：{f.message_zh}。首页是否更新无法判定，请人工核对",
                    f"The homepage fills lists by script ({', '.join(markers[:3])}) and "
                    + ("still showed nothing after rendering" if tried else "was not rendered")
                    + f"; the static page shows: {f.message_en}. Not decidable; check by hand",
                    key="homepage", evidence={**f.evidence, "js_list_markers": markers, "render_tried": tried,
                                              "static_verdict_zh": f.message_zh})
                continue
        yield f


def _homepage_findings(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    home = site.homepage
    if home is None or home.tree is None:
        return  # the crawl could not read the homepage: reachability rules report that, not this one
    as_of = ctx.as_of
    days = int(ctx.pack.value("freshness.homepage_days"))
    blocks = listing.extract_blocks(home.tree, home.final_url, home.encoding, as_of,
                                    int(ctx.pack.value("columns.min_title_chars")))
    nav_only = listing.is_navigation_only(blocks, int(ctx.pack.value("freshness.navonly_max_article_links")))
    window = _entry(ctx, "freshness.homepage_days")
    if not nav_only:
        items = [i for b in blocks for i in b.items if b.region == "content" or i.date is not None]
        newest = listing.newest_item(items, as_of)
        new_items = [i for i in items if i.date and 0 <= _age(i.date, as_of) <= days]
        undated = [i for i in items if i.date is None]
        ctx.metric("freshness.homepage_new_items", len(new_items), label_zh=f"首页近{days}天新增信息条数",
                   label_en=f"New homepage items in the last {days} days", unit="条",
                   basis="国办发〔2015〕15号附件2 首页栏目信息更新",
                   detail={"newest": _item_ref(newest), "undated": len(undated), "as_of": as_of.isoformat()})
        if new_items:
            return
        if newest is None and undated and not ctx.pack.value("freshness.undated_counts_as_stale"):
            return  # only undated items, and the pack does not count them as not updated
        age = _age(newest.date, as_of) if newest and newest.date else None
        evidence = {
            "as_of": as_of.isoformat(),
            "window_days": days,
            "window": window,
            "navigation_only": False,
            "newest_item": _item_ref(newest),
            "age_days": age,
            "dated_items": sum(1 for i in items if i.date),
            "undated_items": len(undated),
            "undated_examples": [i.as_dict() for i in undated[:5]],
            "future_dated_items": sum(1 for i in items if i.date and i.date > as_of),
            "blocks": [{"name": b.name, "items": len(b.items), "newest": _item_ref(b.newest(as_of))} for b in blocks if b.items][:30],
        }
        if newest is None:
            zh = (f"首页无带发布日期的信息（{len(undated)} 条信息均未标注日期，视为未更新），"
                  f"截至 {as_of.isoformat()} 前{days}天内无更新")
            en = (f"No dated item on the homepage ({len(undated)} undated items count as not updated); "
                  f"nothing new in the {days} days before {as_of.isoformat()}")
        else:
            zh = (f"首页最新信息发布于 {newest.date.isoformat()}（“{newest.title[:40]}”），"
                  f"距 {as_of.isoformat()} 已 {age} 天，超过{days}天未更新")
            en = (f"Newest homepage item is dated {newest.date.isoformat()} (“{newest.title[:40]}”), "
                  f"{age} days before {as_of.isoformat()}: no update within {days} days")
        yield ctx.finding("freshness.homepage_stale", home.url, zh, en, key="homepage", evidence=evidence)
        return
    # navigation-only homepage: the test moves to all second-level pages
    checked: list[dict[str, Any]] = []
    targets: list[str] = []
    for edge in site.links(source_url=home.url):
        t = edge["target_url"]
        if edge["tag"] == "a" and t not in targets and t not in (home.url, home.final_url) \
                and listing.same_site(t, site.host) and listing.url_kind(t) == "page" \
                and listing.not_a_column_url(t, ctx.pack) != "endpoint":
            targets.append(t)  # forms and interfaces (search, login, writeLetter.do) are no second-level pages
    updated: list[dict[str, Any]] = []
    for t in targets:
        page = site.page(t)
        if page is None or page.tree is None or (page.status or 200) >= 400:
            continue
        items = _dated_items(page, as_of, int(ctx.pack.value("columns.min_title_chars")))
        newest = listing.newest_item(items, as_of)
        row = {"url": t, "newest": _item_ref(newest), "items": len(items),
               "undated": sum(1 for i in items if i.date is None)}
        checked.append(row)
        if newest and newest.date and _age(newest.date, as_of) <= days:
            updated.append(row)
    ctx.metric("freshness.level2_updated_pages", len(updated), label_zh=f"首页为导航页：近{days}天有更新的二级页面数",
               label_en=f"Navigation-only homepage: second-level pages updated in {days} days", unit="个",
               detail={"checked": len(checked), "linked": len(targets)})
    if updated or not checked:
        return  # updated somewhere, or no second-level page was crawled (nothing to judge on)
    yield ctx.finding(
        "freshness.homepage_stale",
        home.url,
        f"首页仅为导航页，且检查的 {len(checked)} 个二级页面在 {as_of.isoformat()} 前{days}天内均无更新（无日期信息视为未更新）",
        f"Navigation-only homepage and none of the {len(checked)} second-level pages checked has a new item in the "
        f"{days} days before {as_of.isoformat()}",
        key="homepage",
        evidence={"as_of": as_of.isoformat(), "window_days": days, "window": window, "navigation_only": True,
                  "second_level_pages": checked[:50], "second_level_checked": len(checked),
                  "second_level_linked": len(targets)},
    )


# --- columns -----------------------------------------------------------------------------------

def check_columns(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    collector = ColumnCollector(site, ctx)
    columns = collector.collect()
    if collector.excluded:
        ctx.record("freshness.not_columns", "summary", {"count": len(collector.excluded), "entries": collector.excluded[:500]})
    if not columns:
        return
    longstale_days = int(ctx.pack.value("freshness.longstale_days") or 365)
    longstale_classes = set(ctx.pack.value("freshness.longstale_classes") or [])
    judgements = [judge(c, ctx, longstale_days, longstale_classes) for c in columns]
    home_url = site.homepage_url
    for j in judgements:
        col = j.column
        ctx.record("freshness.column", col.key, {**_column_evidence(j, ctx), "state": j.state, "blank_reason": j.blank_reason})
        if j.state == "stale":
            ev = _column_evidence(j, ctx)
            if j.newest is None:
                zh = (f"栏目“{col.name}”（{j.cls.label_zh}，更新周期{j.cls.window_days}天）无带发布日期的信息，视为未更新")
                en = (f"Column “{col.name}” ({j.cls.label_en}, cycle {j.cls.window_days} days) has no dated item: "
                      "counts as not updated")
            else:
                zh = (f"栏目“{col.name}”（{j.cls.label_zh}）最新信息发布于 {j.newest.date.isoformat()}，"  # type: ignore[union-attr]
                      f"距 {ctx.as_of.isoformat()} 已 {j.age_days} 天，超过更新周期{j.cls.window_days}天")
                en = (f"Column “{col.name}” ({j.cls.label_en}): newest item {j.newest.date.isoformat()}, "  # type: ignore[union-attr]
                      f"{j.age_days} days before {ctx.as_of.isoformat()}, beyond its {j.cls.window_days}-day cycle")
            yield ctx.finding("freshness.column_stale", col.url or col.found_on, zh, en, key=f"column:{col.key}",
                              source_url=col.found_on, column=col.name, evidence=ev)
        elif j.state == "blank":
            reason = j.blank_reason or "no_content"
            detail_zh = BLANK_REASON_ZH[reason]
            if reason == "placeholder":
                detail_zh += f"（“{col.placeholder}”）"
            elif reason == "error_page" and col.error_reason:
                detail_zh += f"（{col.error_reason}）"
            ev = {**_column_evidence(j, ctx), "blank_reason": reason, "placeholder": col.placeholder,
                  "error": col.error_reason}
            if reason == "error_page":
                ev["note"] = "该入口同时计入链接可用性，不重复扣分以评估方规则为准"
            yield ctx.finding(
                "freshness.column_empty", col.url or col.found_on,
                f"空白栏目“{col.name}”：{detail_zh}",
                f"Blank column “{col.name}”: {BLANK_REASON_EN[reason]}"
                + (f" (“{col.placeholder}”)" if reason == "placeholder" else ""),
                key=f"column:{col.key}", source_url=col.found_on, column=col.name, evidence=ev,
            )
        elif j.state == "undecidable":
            tried = col.rendered or col.render_tried
            ev = {**_column_evidence(j, ctx), "js_list_markers": col.js_markers, "rendered": col.rendered,
                  "render_tried": col.render_tried,
                  "render_note": "已在浏览器中渲染，列表仍为空" if tried else "未在浏览器中渲染（渲染关闭、失败或超出渲染页数上限）"}
            yield ctx.finding(
                "freshness.column_undecidable", col.url or col.found_on,
                f"栏目“{col.name}”的列表由脚本加载（{'、'.join(col.js_markers[:3])}），"
                + ("在浏览器中渲染后仍未读到信息" if tried else "未在浏览器中渲染")
                + "，无法判断是否更新或空白，不计入栏目不更新/空白栏目；请人工打开核对",
                f"Column “{col.name}” fills its list by script ({', '.join(col.js_markers[:3])}) and "
                + ("still shows no item after rendering" if tried else "was not rendered in a browser")
                + ": not decidable, not counted as stale or blank; check it by hand",
                key=f"column:{col.key}", source_url=col.found_on, column=col.name, evidence=ev,
            )
    yield from _veto(judgements, ctx, home_url, collector)


def _span_zh(days: Any) -> str:
    """A pack window as the indicators write it: 14 → 2周, 183 → 6个月, 365 → 1年, else N天."""

    if not isinstance(days, int) or days <= 0:
        return "不判定"
    if days % 365 == 0:
        return f"{days // 365}年"
    if days <= 56 and days % 7 == 0:
        return f"{days // 7}周"
    months = round(days / 30.5)
    if months and abs(days - months * 30.5) <= 1.5:
        return f"{months}个月"
    return f"{days}天"


def _veto(judgements: list[Judgement], ctx: CheckContext, home_url: str, collector: ColumnCollector) -> Iterator[Finding]:
    stale_main = [j for j in judgements if j.state == "stale" and j.cls.id in ("dynamic", "notice")]
    longstale = [j for j in judgements if j.state == "stale" and j.longstale]
    blank = [j for j in judgements if j.state == "blank"]
    thresholds = {
        "stale": int(ctx.pack.value("freshness.veto_stale_count")),
        "longstale": int(ctx.pack.value("freshness.veto_longstale_count")),
        "blank": int(ctx.pack.value("freshness.veto_blank_count")),
    }
    counts = {"stale": len(stale_main), "longstale": len(longstale), "blank": len(blank)}
    lists = {"stale": stale_main, "longstale": longstale, "blank": blank}
    states: dict[str, int] = {}
    for j in judgements:
        states[j.state] = states.get(j.state, 0) + 1
    ctx.metric("freshness.columns", len(judgements), label_zh="判定的栏目数", label_en="Columns judged", unit="个",
               detail={"states": states, "counts": counts, "thresholds": thresholds,
                       "unvisited_entries": collector.unvisited, "over_limit": collector.truncated,
                       "not_columns": len(collector.excluded),
                       "not_column_reasons": _tally(e["reason"] for e in collector.excluded)})
    met = [k for k in ("stale", "longstale", "blank") if counts[k] >= thresholds[k]]
    undecidable = [j for j in judgements if j.state == "undecidable"]
    longstale_classes = set(ctx.pack.value("freshness.longstale_classes") or [])
    could = {  # the not-decidable columns that would count for each trigger if they turned out stale/blank
        "stale": [j for j in undecidable if j.cls.id in ("dynamic", "notice")],
        "longstale": [j for j in undecidable if j.cls.id in longstale_classes],
        "blank": undecidable,
    }
    # the windows in the labels are the pack's, so a local pack's 30-day news window reads as 30 天
    news_days, notice_days = (ctx.pack.value(f"freshness.window_{c}_days") for c in ("dynamic", "notice"))
    label_zh = {"stale": f"动态要闻类（{_span_zh(news_days)}）和通知公告政策文件类（{_span_zh(notice_days)}）未更新栏目合计",
                "longstale": "应更新但长期未更新的栏目", "blank": "空白栏目"}
    label_en = {"stale": f"stale news ({news_days} days) + notice/policy ({notice_days} days) columns",
                "longstale": "columns long not updated", "blank": "blank columns"}
    counted = {k: [_counted(j, k) for j in lists[k]] for k in ("stale", "longstale", "blank")}

    def names(k: str, sep: str) -> str:
        return sep.join(c["name"] or (c["url"] or "") for c in counted[k])

    def evidence(triggers: tuple[str, ...]) -> dict[str, Any]:
        return {
            "as_of": ctx.as_of.isoformat(),
            "triggers": {
                k: {"count": counts[k], "threshold": thresholds[k], "met": k in met,
                    "threshold_entry": _entry(ctx, f"freshness.veto_{k}_count"),
                    "columns": counted[k],
                    "undecidable_could_count": [{"name": j.column.name, "url": j.column.url} for j in could[k]]}
                for k in triggers
            },
            "dedup_note": "同一栏目（首页区块、导航入口、栏目页，地址或名称相同）只计一次；also_seen_as 列出合并的入口",
            "not_columns": len(collector.excluded),
            "not_columns_note": "外站链接、隐藏元素、文章页、表单/接口不是栏目，不计入（记录 freshness.not_columns）",
        }

    # 栏目不更新 items (1) and (2) are one veto item, (3) 空白栏目 its own (国办秘函〔2019〕19号 lists them apart)
    for rule, undecided_rule, triggers, key, title_zh, title_en in (
            ("freshness.column_stale", "freshness.column_stale_veto_undecided", ("stale", "longstale"), "veto",
             "栏目不更新", "Columns not updated"),
            ("freshness.column_blank_veto", "freshness.column_blank_veto_undecided", ("blank",), "veto_blank",
             "空白栏目", "Blank columns")):
        hit = [k for k in triggers if k in met]
        if hit:
            zh = "；".join(f"{label_zh[k]} {counts[k]} 个，达到否决阈值 {thresholds[k]} 个（{names(k, '、')}）" for k in hit)
            en = "; ".join(f"{counts[k]} {label_en[k]}, veto threshold {thresholds[k]} ({names(k, ', ')})" for k in hit)
            yield ctx.finding(rule, home_url, f"{title_zh}（单项否决）：{zh}", f"{title_en} (veto): {en}",
                              key=key, variant="veto" if rule == "freshness.column_stale" else None,
                              evidence=evidence(triggers))
            continue
        open_ = [k for k in triggers if could[k] and counts[k] + len(could[k]) >= thresholds[k]]
        if not open_:
            continue
        zh = "；".join(f"{label_zh[k]}已确认 {counts[k]} 个，另有 {len(could[k])} 个栏目由脚本加载无法判定，"
                      f"合计可能达到否决阈值 {thresholds[k]} 个" for k in open_)
        en = "; ".join(f"{counts[k]} {label_en[k]} confirmed and {len(could[k])} script-filled columns not decidable: "
                       f"together they could reach the veto threshold {thresholds[k]}" for k in open_)
        yield ctx.finding(undecided_rule, home_url, f"{title_zh}单项否决无法判定：{zh}；请人工核对这些栏目",
                          f"{title_en} veto not decidable: {en}; check those columns by hand",
                          key=f"undecided:{key}", evidence=evidence(triggers))


def _tally(values: Iterator[str] | list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out
