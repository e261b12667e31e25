"""Built-in 政务新媒体 account sources (hook ``govaudit_account_sources``): feeds, WeChat article pages,
platform exports.

Public platforms do not publish an account's post list (RSSHub's route code shows every one is
anti-crawl; ``next-capabilities.md`` §c.3), so govaudit reads what an office can give it:

- ``feed``: an RSS/Atom feed of the account (what a self-hosted RSSHub or wechat2rss produces), parsed
  with feedparser. Complete: a feed lists the account's latest posts.
- ``wechat-article``: public ``mp.weixin.qq.com/s/…`` article pages linked from the site or the registry.
  The page carries the publish time (``var ct = "<unix>"``, or ``publish_time``), the title
  (``og:title``), the account's name (``.wx_follow_nickname`` / ``var nickname``) and the body
  (``#js_content``); a deleted or blocked article shows a notice instead, and a platform check (环境异常,
  captcha) shows neither. The source stores what the page shows; the check decides which notice is which
  (pack lists), so a recheck can re-classify. Not complete: a handful of linked articles can show an
  account is active, never that it stopped.
- ``export``: a platform export the office saved (CSV, XLSX or JSON of posts: time, title, text,
  interaction counts, repost flag). Complete.

Every fetch goes through ``ctx.probe("http")`` — the audit's resolver, so ``--resolve`` maps a platform
name to a loopback fixture in tests. What a source cannot read is a not-decidable reading with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import lxml.html

from auditor.hookspecs import hookimpl
from auditor.measure.newmedia import EXPORT, FEED, WECHAT_ARTICLE, Account, Post, Reading, parse_time
from auditor.tables import read_records

MAX_FEED_BYTES = 4 * 1024 * 1024
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
MAX_TEXT = 4000


def _html_text(html: str) -> tuple[str, list[str]]:
    """Visible text and hrefs of an HTML fragment (a feed entry's content)."""

    if not html or "<" not in html:
        return (html or "").strip(), re.findall(r"https?://[^\s<>\"'）)]+", html or "")
    try:
        tree = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return html, []
    links = [a.get("href") for a in tree.iter("a") if a.get("href")]
    text = " ".join(tree.text_content().split())
    return text, links + re.findall(r"https?://[^\s<>\"'）)]+", text)


def _not_decidable(source: str, reason: str, **detail: Any) -> Reading:
    return Reading(source=source, decidable=False, reason=reason, detail=detail)


def _fetch(ctx: Any, url: str, max_body: int) -> tuple[Any, str | None]:
    """The response and, when it is not a usable answer, why (``unreachable:<kind>``, ``http_<status>``)."""

    resp = ctx.probe("http").fetch(url, follow_redirects=5, max_body=max_body)
    if resp.status is None:
        return resp, f"unreachable:{resp.error_kind or 'other'}"
    if resp.status >= 400:
        return resp, f"http_{resp.status}"
    return resp, None


class FeedSource:
    """RSS 2.0 / Atom / RDF feeds (feedparser): every ``feed`` link of the account."""

    name = "feed"

    def accepts(self, account: Account) -> bool:
        return bool(account.urls(FEED))

    def read(self, account: Account, ctx: Any) -> Reading:
        import feedparser

        posts: list[Post] = []
        failures: list[dict[str, Any]] = []
        read_any = False
        title = ""
        for url in account.urls(FEED):
            resp, why = _fetch(ctx, url, MAX_FEED_BYTES)
            if why:
                failures.append({"url": url, "reason": why, "error": resp.error})
                continue
            parsed = feedparser.parse(resp.body, response_headers={"content-type": resp.headers.get("content-type", "")})
            if not parsed.entries and (parsed.bozo or not parsed.feed.get("title")):
                failures.append({"url": url, "reason": "not_a_feed",
                                 "error": str(parsed.get("bozo_exception", ""))[:200]})
                continue
            read_any = True
            title = title or parsed.feed.get("title", "")
            for e in parsed.entries:
                posts.append(_feed_post(e))
        if not read_any:
            reasons = sorted({f["reason"] for f in failures})
            return _not_decidable(self.name, ",".join(reasons) or "no_feed", failures=failures)
        return Reading(source=self.name, decidable=True, complete=True, posts=posts, profile={"name": title},
                       detail={"failures": failures} if failures else {})


def _feed_post(e: Any) -> Post:
    import calendar
    import datetime as dt

    from auditor.measure.newmedia import CHINA

    when = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        st = e.get(key)
        if st:
            when = dt.datetime.fromtimestamp(calendar.timegm(st), dt.UTC).astimezone(CHINA).replace(tzinfo=None)
            break
    html = ""
    if e.get("content"):
        html = " ".join(c.get("value", "") for c in e["content"])
    html = html or e.get("summary", "")
    text, links = _html_text(html)
    counts = None
    if e.get("slash_comments") not in (None, ""):
        try:
            counts = {"comments": int(e["slash_comments"])}
        except (TypeError, ValueError):
            counts = None
    return Post(time=when.isoformat(timespec="seconds") if when else None, title=e.get("title", ""), text=text[:MAX_TEXT],
                url=e.get("link", ""), interactions=counts, links=[lk for lk in links if lk][:50])


_CT = re.compile(r"""\bvar\s+ct\s*=\s*["']?(\d{9,13})""")
_CT_ALT = re.compile(r"""\b(?:ct|create_time)["']?\s*[:=]\s*["']?(\d{9,13})""")
_PUBLISH = re.compile(r"""(?:var\s+)?publish_time\s*=\s*["']([^"']+)["']""")
_NICK = re.compile(r"""var\s+nickname\s*=\s*(?:htmlDecode\()?["']([^"']+)["']""")


class WechatArticleSource:
    """Public WeChat article pages (``mp.weixin.qq.com/s/…``) linked from the site or the registry."""

    name = "wechat-article"
    MAX_ARTICLES = 20

    def accepts(self, account: Account) -> bool:
        return bool(account.urls(WECHAT_ARTICLE))

    def read(self, account: Account, ctx: Any) -> Reading:
        articles: list[dict[str, Any]] = []
        posts: list[Post] = []
        nick = ""
        for url in account.urls(WECHAT_ARTICLE)[: self.MAX_ARTICLES]:
            resp, why = _fetch(ctx, url, MAX_ARTICLE_BYTES)
            if why:
                articles.append({"url": url, "fetched": False, "reason": why})
                continue
            page = read_wechat_page(resp.text())
            page["url"] = url
            page["fetched"] = True
            articles.append(page)
            nick = nick or page.get("nickname", "")
            if page.get("content") and page.get("time"):
                posts.append(Post(time=page["time"], title=page.get("title", ""), text=page.get("text", ""), url=url,
                                  links=page.get("links", [])))
        fetched = [a for a in articles if a["fetched"]]
        if not fetched:
            return Reading(source=self.name, decidable=False, reason="unreachable", articles=articles)
        return Reading(source=self.name, decidable=bool(posts), reason="" if posts else "no_dated_article",
                       complete=False, posts=posts, articles=articles, profile={"name": nick} if nick else {})


def read_wechat_page(html: str) -> dict[str, Any]:
    """What a WeChat article page shows: publish time, title, account name, body text and links — or,
    when there is no article body, the page's notice text (deleted, blocked, platform check…)."""

    out: dict[str, Any] = {"content": False, "time": None, "title": "", "nickname": "", "text": "", "notice": "",
                           "links": []}
    try:
        tree = lxml.html.document_fromstring(html) if html.strip() else None
    except (ValueError, lxml.etree.ParserError):
        tree = None
    m = _CT.search(html) or _CT_ALT.search(html)
    when = parse_time(m.group(1)) if m else None
    if when is None and (p := _PUBLISH.search(html)):
        when = parse_time(p.group(1))
    out["time"] = when.isoformat(timespec="seconds") if when else None
    if (n := _NICK.search(html)):
        out["nickname"] = n.group(1)
    if tree is None:
        out["notice"] = html[:300]
        return out
    og = tree.find(".//meta[@property='og:title']")
    if og is not None:
        out["title"] = (og.get("content") or "").strip()
    for el in tree.find_class("wx_follow_nickname"):
        out["nickname"] = out["nickname"] or " ".join(el.text_content().split())
    body = tree.get_element_by_id("js_content", None)
    if body is not None and " ".join(body.text_content().split()):
        out["content"] = True
        out["text"] = " ".join(body.text_content().split())[:MAX_TEXT]
        out["links"] = [a.get("href") for a in body.iter("a") if a.get("href")][:50]
    else:
        for bad in tree.iter("script", "style"):
            bad.drop_tree()
        out["notice"] = " ".join(tree.text_content().split())[:300]
    return out


# --- exports ---------------------------------------------------------------------------------

_COLUMNS = {
    "time": ("发布时间", "时间", "发布日期", "日期", "time", "published", "created_at", "date"),
    "title": ("标题", "title"),
    "text": ("正文", "内容", "text", "content", "摘要"),
    "url": ("链接", "地址", "url", "link"),
    "repost": ("是否转发", "转发", "repost", "is_repost", "原创/转发", "类型"),
    "comments": ("评论数", "评论", "comments"),
    "replies": ("回复数", "留言数", "留言", "replies", "messages"),
    "likes": ("点赞数", "点赞", "likes"),
    "shares": ("转发数", "分享数", "shares"),
    "reads": ("阅读数", "阅读", "播放量", "reads", "views"),
}
_COUNT_KEYS = ("comments", "replies", "likes", "shares", "reads")
_TRUE = ("1", "true", "yes", "是", "转发", "转载", "y")


def _cell(row: dict[str, Any], key: str) -> Any:
    for alias in _COLUMNS[key]:
        for k, v in row.items():
            if str(k).strip().lower() == alias.lower() and v not in (None, ""):
                return v
    return None


def export_post(row: dict[str, Any]) -> Post:
    when = parse_time(_cell(row, "time"))
    rep = _cell(row, "repost")
    repost = None if rep is None else (str(rep).strip().lower() in _TRUE or str(rep).strip() == "转发")
    counts: dict[str, int] = {}
    for k in _COUNT_KEYS:
        v = _cell(row, k)
        if v is None:
            continue
        try:
            counts[k] = int(float(str(v).replace(",", "")))
        except ValueError:
            continue
    text = str(_cell(row, "text") or "")
    return Post(time=when.isoformat(timespec="seconds") if when else None, title=str(_cell(row, "title") or ""),
                text=text[:MAX_TEXT], url=str(_cell(row, "url") or ""), repost=repost, interactions=counts or None,
                links=re.findall(r"https?://[^\s<>\"'）)]+", text)[:50])


def read_export_file(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of a CSV/XLSX/JSON export and its top-level facts (``interaction_enabled`` in JSON)."""

    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text("utf-8-sig"))
        meta: dict[str, Any] = {}
        if isinstance(data, dict):
            meta = {k: v for k, v in data.items() if k != "posts"}
            data = data.get("posts", [])
        return [r for r in data if isinstance(r, dict)], meta
    return read_records(path), {}


class ExportSource:
    """Platform exports saved by the office (CSV/XLSX/JSON of posts), named by the registry's address
    cell (a path relative to the registry file, or ``file://``)."""

    name = "export"

    def accepts(self, account: Account) -> bool:
        return bool(account.urls(EXPORT))

    def read(self, account: Account, ctx: Any) -> Reading:
        posts: list[Post] = []
        failures = []
        enabled: bool | None = None
        ok = False
        for url in account.urls(EXPORT):
            path = Path(unquote(urlsplit(url).path) if url.startswith("file:") else url)
            try:
                rows, meta = read_export_file(path)
            except (OSError, ValueError, UnicodeDecodeError, KeyError) as exc:
                failures.append({"url": url, "reason": "unreadable", "error": f"{type(exc).__name__}: {exc}"[:200]})
                continue
            ok = True
            posts += [export_post(r) for r in rows]
            if isinstance(meta.get("interaction_enabled"), bool):
                enabled = meta["interaction_enabled"]
        if not ok:
            return _not_decidable(self.name, "unreadable", failures=failures)
        return Reading(source=self.name, decidable=True, complete=True, posts=posts, interaction_enabled=enabled,
                       detail={"failures": failures} if failures else {})


@hookimpl
def govaudit_serves() -> list[str]:
    return ["newmedia"]


@hookimpl
def govaudit_account_sources() -> list[Any]:
    return [FeedSource(), WechatArticleSource(), ExportSource()]
