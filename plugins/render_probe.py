"""Rendering (measure stage): pages whose static HTML shows no content, opened in the audit's browser.

Government CMSs often load a column's list by script (an empty ``<ul id="list">`` and an AJAX
call; TRS ``createPageHTML``, Hanweb ``jpage``…): without rendering, every freshness and column
check would see a blank column. This plugin finds those pages in the stored crawl, renders them in
the audit's Chromium (``ctx.probe("browser")``) and stores what it saw as measurements:

- ``render``/``site`` — the index: ``rendered`` (URLs whose DOM gained content or links),
  ``unchanged`` (rendered, nothing gained), ``candidates``, ``over_limit``, ``max_pages``;
- ``render.page``/page URL — the rendered DOM (``html``) and the content facts before and after.

The stored page itself is never changed: the crawled bytes stay as fetched, and
:class:`auditor.context.SiteView` shows a rendered page's DOM as its body (``page.rendered`` is
True, ``page.original_body`` keeps the fetched bytes), so every check reads what a visitor sees and
``govaudit recheck`` sees the same thing offline. Links the rendered DOM adds are stored as edges
of the page. Bounded by ``[plugins.browser] render_max_pages`` (default 50); ``render = false``
turns it off.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.hookspecs import hookimpl
from auditor.plugins.browser import BrowserUnavailable, PageJob

if TYPE_CHECKING:
    from auditor.context import CheckContext, MeasureContext, SiteView

from auditor.context import RENDER_KIND as KIND  # noqa: E402
from auditor.context import RENDER_PAGE_KIND as PAGE_KIND  # noqa: E402

VERSION = 1


# Rendering serves the checks that read page content or column links; with only these off (e.g.
# ``--checks links``) the engine skips the plugin and Chromium never starts.
@hookimpl
def govaudit_serves() -> list[str]:
    return ["columns", "freshness", "documents", "interpretation", "decisions", "privacy", "identity", "a11y", "elderly"]


_LIST_MARKER = re.compile(r"list|news|lb|liebiao|item|article|content|con|data|info", re.I)
_AJAX_HINT = re.compile(r"fetch\(|XMLHttpRequest|\$\.(ajax|get|post|getJSON)|\.load\(|axios|jsonp|createElement", re.I)
_CHARSET_META = re.compile(r"(<meta[^>]+charset\s*=\s*[\"']?)([\w-]+)", re.I)


@dataclass
class RenderOptions:
    enabled: bool = True
    max_pages: int = 50
    min_text: int = 40  # content characters below which a scripted page counts as empty
    wait: float = 3.0  # seconds to wait for the network to go quiet after load

    @classmethod
    def from_config(cls, config: Any) -> RenderOptions:
        opts = dict((getattr(config, "plugin_options", None) or {}).get("browser", {}) or {})
        return cls(
            enabled=bool(opts.get("render", True)),
            max_pages=max(0, int(opts.get("render_max_pages", 50))),
            min_text=max(0, int(opts.get("render_min_text", 40))),
            wait=max(0.0, float(opts.get("render_wait", 3.0))),
        )


def content_facts(tree: Any) -> dict[str, Any]:
    """How much a reader would see in the content area of a stored page, and why it may be empty.

    Header, navigation and footer (found as :func:`auditor.crawl.extract.region_of` finds them) do not
    count: a column page whose list is loaded by script still has its menus in the static HTML.
    """

    from auditor.crawl.extract import region_of
    from auditor.model import Region

    cache: dict[object, Region] = {}
    chars = 0
    scripts = 0
    ajax = False
    empty_lists: list[str] = []
    body = tree.find(".//body") if tree is not None else None
    if body is None:
        return {"chars": 0, "scripts": 0, "ajax": False, "empty_lists": []}
    for el in tree.iter("script"):
        scripts += 1
        # An external script may load anything; an inline one must show an AJAX call.
        ajax = ajax or bool(el.get("src")) or bool(_AJAX_HINT.search(el.text or ""))
    for el in body.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in ("script", "style", "noscript", "template") or not tag:
            continue
        if region_of(el, cache) != Region.CONTENT:
            continue
        chars += len((el.text or "").strip())
        if el.getparent() is not None and el.getparent().tag not in ("script", "style", "noscript", "template"):
            chars += len((el.tail or "").strip())
        if tag in ("ul", "ol", "tbody", "table", "div", "dl") and len(el) == 0 and not (el.text or "").strip():
            marker = f"{el.get('id') or ''} {el.get('class') or ''}"
            if tag in ("ul", "ol", "tbody") or _LIST_MARKER.search(marker):
                empty_lists.append(f"{tag}#{el.get('id')}" if el.get("id") else f"{tag}.{(el.get('class') or '').split()[0] if el.get('class') else ''}")
    return {"chars": chars, "scripts": scripts, "ajax": ajax, "empty_lists": empty_lists[:5]}


def _static_list(tree: Any, source: str) -> bool:
    """True when the stored HTML already shows a list (≥2 entries in the content, or Hanweb datastore records)."""

    from auditor.docmodel import listing
    from auditor.model import Region

    if any(b.region == str(Region.CONTENT) and len(b.items) >= 2
           for b in listing.extract_blocks(tree, "http://render.invalid/", "utf-8")):
        return True
    return bool(source) and bool(listing.datastore_items(source, "http://render.invalid/")[0])


def needs_render(tree: Any, min_text: int, js_markers: list[str] | None = None, source: str = "") -> dict[str, Any] | None:
    """The facts when a stored page looks empty without JavaScript, else None.

    Two triggers: a page with little content and a script that may load it; or a page whose
    source carries a script-filled list marker (``columns.js_list_markers``: TRS ``trsapi``/
    ``createPageHTML``, Hanweb ``jpage``/``dataproxy.jsp``, ``unitbuild``…) and shows no list in
    its static HTML, or an empty list container next to static ones (a homepage whose 要闻 block
    is script-filled) — however much other text surrounds the empty list.
    """

    if tree is None:
        return None
    facts = content_facts(tree)
    if js_markers and (facts["empty_lists"] or not _static_list(tree, source)):
        facts["js_list_markers"] = list(js_markers)
        return facts
    if not facts["ajax"]:
        return None
    # An empty list container only counts on a page with little else: a long article with an
    # empty decorative <ul> is not a script-loaded column.
    if facts["chars"] < min_text or (facts["empty_lists"] and facts["chars"] < 10 * min_text):
        return facts
    return None


def make_render_job(wait: float) -> PageJob:
    async def job(page: Any, url: str) -> str:
        from playwright.async_api import TimeoutError as PWTimeout

        if wait > 0:
            with contextlib.suppress(PWTimeout):
                await page.wait_for_load_state("networkidle", timeout=wait * 1000)
        return await page.content()

    return job


@hookimpl
def govaudit_configure(config: Any) -> None:
    """Refuse unusable render options (``[plugins.browser] render*``) before the crawl."""

    from auditor.config import ConfigError

    try:
        RenderOptions.from_config(config)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[plugins.browser] 选项无效 / invalid option: {exc}") from exc


@hookimpl
def govaudit_measure(site: SiteView, ctx: MeasureContext) -> None:
    """Render the stored pages that look empty without JavaScript and store the DOMs."""

    import lxml.html
    from lxml import etree

    from auditor.crawl.extract import html_links
    from auditor.docmodel import listing
    from auditor.model import LinkEdge

    opts = RenderOptions.from_config(ctx.config)
    if not opts.enabled or opts.max_pages == 0:
        return
    candidates: list[tuple[str, dict[str, Any]]] = []
    over = 0
    for page in site.pages("html"):
        if page.status is not None and not 200 <= page.status < 300:
            continue
        if page.rendered:
            continue
        markers = (listing.js_list_markers(page.text, ctx.pack) + listing.js_list_markers(
            page.text, ctx.pack, "columns.js_pager_markers")) if page.tree is not None else []
        facts = needs_render(page.tree, opts.min_text, markers, page.text)
        if facts is None:
            continue
        if len(candidates) >= opts.max_pages:
            over += 1
            continue
        candidates.append((page.url, facts))
    index: dict[str, Any] = {"rendered": [], "unchanged": [], "candidates": len(candidates), "over_limit": over,
                             "max_pages": opts.max_pages}
    if not candidates:
        ctx.measure(KIND, "site", index, VERSION)
        return
    try:
        probe = ctx.probe("browser")
    except KeyError:
        return
    try:
        outcomes = probe.map([u for u, _ in candidates], make_render_job(opts.wait), pool="render", plugin="render")
        facts_by_url = dict(candidates)
        for outcome in outcomes:
            if not outcome.ok or not outcome.value:
                continue
            html = _CHARSET_META.sub(lambda m: m.group(1) + "utf-8", outcome.value, count=1)
            try:
                tree = lxml.html.document_fromstring(html)
            except (ValueError, etree.ParserError):
                continue
            before = facts_by_url[outcome.url]
            after = content_facts(tree)
            gained = after["chars"] - before["chars"]
            known = {(e["target_url"], e["anchor"] or "") for e in site.links(source_url=outcome.url)}
            new_edges = []
            for link in html_links(tree, outcome.url, "utf-8"):
                if (link.url, link.anchor) not in known:
                    known.add((link.url, link.anchor))
                    new_edges.append(LinkEdge(outcome.url, link.url, link.anchor, link.region, link.tag, link.position,
                                              attribute=link.attribute, fragment=link.fragment))
            if gained <= 0 and not new_edges:
                index["unchanged"].append(outcome.url)
                continue
            if new_edges:
                ctx.store.add_links(ctx.run_id, new_edges)
            index["rendered"].append(outcome.url)
            ctx.measure(PAGE_KIND, outcome.url, {"html": html, "before": before, "after_chars": after["chars"],
                                                "links_added": len(new_edges)}, VERSION)
    except BrowserUnavailable as exc:
        ctx.store.add_error(ctx.run_id, "probe", str(exc), plugin="render")
        index["error"] = str(exc)
    ctx.measure(KIND, "site", index, VERSION)


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> None:
    """The report's figure of how many pages were rendered (from the stored index, offline)."""

    m = site.measurement(KIND)
    if m is None or m.version != VERSION or not isinstance(m.data, dict):
        return None
    data = m.data
    ctx.metric("render.pages_rendered", len(data.get("rendered", [])), label_zh="经浏览器渲染的页面（静态 HTML 无内容）",
               label_en="Pages rendered in the browser (no content in static HTML)", unit="页",
               detail={"candidates": data.get("candidates", 0), "over_limit": data.get("over_limit", 0),
                       "max_pages": data.get("max_pages"), "unchanged": len(data.get("unchanged", []))})
    return None
