"""Cloaking measurement (measure stage) for ``checks/text.py``: the homepage (and the first few stored
pages) fetched three ways — as a browser, with a search engine's user agent, and with a search
engine's referer — so the check can compare what each is served.

Hijacked government pages commonly serve gambling or porn spam only to Baiduspider, or redirect
visitors who arrive from a search result, and show the normal page to everyone else: the crawl (a
browser-like UA) never sees it. The judgement (which words are spam, which differences matter) stays
in the check, so a recheck under another pack can decide differently; this plugin stores each
variant's status, redirect target, title and visible text (truncated).

Options (``[plugins.text]``): ``cloak_pages`` (default 3: the homepage plus the next stored pages),
``spider_ua`` and ``referer`` to override the defaults below.
"""

from __future__ import annotations

from typing import Any

import lxml.html

from auditor.context import MeasureContext, SiteView, visible_text
from auditor.hookspecs import hookimpl

KIND = "text.cloak"
VERSION = 1
BROWSER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
SPIDER_UA = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"
REFERER = "https://www.baidu.com/s?wd=site"
TEXT_MAX = 20_000


@hookimpl
def govaudit_serves() -> list[str]:
    return ["text"]


def _variant(probe: Any, url: str, headers: dict[str, str], label: str) -> dict[str, Any]:
    r = probe.fetch(url, headers=headers, max_body=512 * 1024)
    out: dict[str, Any] = {"as": label, "status": r.status, "location": r.location, "error": r.error}
    body = r.body or b""
    if r.status and 200 <= r.status < 300 and body:
        try:
            tree = lxml.html.document_fromstring(body)
            t = tree.find(".//title")
            out["title"] = (t.text_content().strip() if t is not None else "")[:200]
            out["text"] = visible_text(tree)[:TEXT_MAX]
        except Exception as exc:  # noqa: BLE001 - an unparseable body is stored as such
            out["title"], out["text"], out["parse_error"] = "", "", type(exc).__name__
    return out


@hookimpl
def govaudit_measure(site: SiteView, ctx: MeasureContext) -> None:
    opts = dict(ctx.config.plugin_options.get("text", {}))
    n = int(opts.get("cloak_pages", 3))
    probe = ctx.probe("http")
    urls = [site.homepage_url]
    for page in site.pages("html"):
        if len(urls) >= n:
            break
        if page.url not in urls and page.status == 200:
            urls.append(page.url)
    spider = opts.get("spider_ua", SPIDER_UA)
    referer = opts.get("referer", REFERER)
    for url in urls:
        variants = {
            "browser": _variant(probe, url, {"User-Agent": BROWSER_UA}, "浏览器"),
            "spider": _variant(probe, url, {"User-Agent": spider}, "搜索引擎爬虫 UA"),
            "referer": _variant(probe, url, {"User-Agent": BROWSER_UA, "Referer": referer}, "搜索引擎来源 Referer"),
        }
        ctx.measure(KIND, url, {"variants": variants, "spider_ua": spider, "referer": referer}, version=VERSION)
