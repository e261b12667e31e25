"""政务新媒体 accounts: what the measure plugin, the account sources and the checks share (no I/O).

An *account* (:class:`Account`) comes from two places: the site's 政务新媒体 / 新媒体矩阵 page (found in
the stored crawl by :func:`discover`) and the office's 备案 registry file (``--accounts registry.csv``,
read by ``plugins/newmedia_probe.py``). :func:`merge` pairs the two lists (same platform and the same
account ID, address or name) so the checks can tell "on the site but not filed" from "filed but not on
the site". Each account is then read by the *account sources* that accept it (the
``govaudit_account_sources`` hook: RSS/Atom feeds, WeChat article pages, platform exports, or a
third party's Weibo/Douyin reader), and everything is stored as measurements:

- ``newmedia.accounts`` / ``site``: the registry file's rows and problems, the discovery pages, the merged
  account list (version 1);
- ``newmedia.account`` / account uid: the account and one :class:`Reading` per source (version 1).

A source says what it could not read (``decidable: False`` with a reason) — never "no posts". Whether
its post list is the account's whole recent output (``complete``: a feed, an export) or only some of it
(article pages linked from the site) is the source's to say: only a complete reading can show that an
account stopped posting. Judging (stale, zombie, reposts only, ads…) is the checks' (``checks/newmedia.py``),
so ``govaudit recheck`` re-judges the stored readings under another pack or as-of date, offline.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

ACCOUNTS_KIND = "newmedia.accounts"  # key "site"
ACCOUNT_KIND = "newmedia.account"  # key: Account.uid
VERSION = 1
VERSIONS = (1,)

# Platforms as the 全国政务新媒体信息报送系统 and 通报 name them; aliases seen in registries and on pages.
PLATFORMS: dict[str, tuple[str, ...]] = {
    "微信公众号": ("微信公众号", "公众号", "微信", "wechat", "weixin", "服务号", "订阅号"),
    "微信视频号": ("视频号",),
    "微博": ("新浪微博", "微博", "weibo"),
    "抖音": ("抖音", "douyin"),
    "快手": ("快手", "kuaishou"),
    "今日头条": ("今日头条", "头条号", "头条", "toutiao"),
    "小红书": ("小红书", "xiaohongshu"),
    "哔哩哔哩": ("哔哩哔哩", "bilibili", "b站"),
    "移动客户端": ("移动客户端", "客户端"),
}
# the platform a link's host belongs to (a link on the 矩阵 page names its platform this way)
PLATFORM_HOSTS: dict[str, str] = {
    "mp.weixin.qq.com": "微信公众号", "weixin.qq.com": "微信公众号", "channels.weixin.qq.com": "微信视频号",
    "weibo.com": "微博", "weibo.cn": "微博", "m.weibo.cn": "微博", "douyin.com": "抖音", "iesdouyin.com": "抖音",
    "kuaishou.com": "快手", "toutiao.com": "今日头条", "xiaohongshu.com": "小红书", "bilibili.com": "哔哩哔哩",
}
# link kinds: which source can read an address
FEED, WECHAT_ARTICLE, EXPORT, HOME = "feed", "wechat_article", "export", "home"
_FEED_PATH = re.compile(r"(\.(xml|rss|atom)$|/(rss|feed|feeds|atom)(/|$)|[?&](format|type)=(rss|atom))", re.I)
_EXPORT_EXT = (".csv", ".json", ".xlsx")

# words on a 政务新媒体 / 矩阵 page that say it lists accounts
LISTING_MARKERS = ("政务新媒体", "新媒体矩阵", "政务微信", "政务微博", "新媒体平台")


def platform_of(text: str | None) -> str | None:
    """The canonical platform named in ``text`` (a registry cell, an image alt, a caption), or None."""

    if not text:
        return None
    low = text.lower()
    for canon, aliases in PLATFORMS.items():
        # 视频号 before 微信: "微信视频号" is a video account, not a 公众号
        if canon == "微信公众号" and "视频号" in text:
            continue
        if any(a.lower() in low for a in aliases):
            return canon
    return None


def platform_of_url(url: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower()
    for h, canon in PLATFORM_HOSTS.items():
        if host == h or host.endswith("." + h):
            return canon
    return None


def link_kind(url: str) -> str:
    """What an account address is: a feed, a WeChat article page, a local export file, or a home page."""

    parts = urlsplit(url)
    path = parts.path.lower()
    if parts.scheme in ("", "file") and path.endswith(_EXPORT_EXT):
        return EXPORT
    host = (parts.hostname or "").lower()
    if host == "mp.weixin.qq.com" and (path.startswith("/s/") or path == "/s"):
        return WECHAT_ARTICLE
    if _FEED_PATH.search(parts.path + ("?" + parts.query if parts.query else "")):
        return FEED
    return HOME


def norm_name(name: str) -> str:
    """Names compared without spaces, brackets' contents kept, full-width folded."""

    return re.sub(r"[\s\u3000·•]+", "", (name or "")).strip().lower()


@dataclass
class Account:
    """One 政务新媒体 account as the sources see it (``accepts(account)`` / ``read(account, ctx)``).

    ``links`` are ``{"url", "kind"}`` (kinds above); ``origins`` says where the account was found
    (``"site"``: the page and the entry's text; ``"registry"``: the row number and its cells)."""

    name: str
    platform: str | None
    owner: str = ""  # 主办单位
    account_id: str = ""
    status: str = ""  # the registry's 状态 cell, verbatim
    links: list[dict[str, str]] = field(default_factory=list)
    origins: dict[str, Any] = field(default_factory=dict)

    @property
    def uid(self) -> str:
        """Stable key: platform + account ID, else platform + name (the measurement key)."""

        ident = self.account_id.strip() or norm_name(self.name) or (self.links[0]["url"] if self.links else "?")
        return f"{self.platform or '未知平台'}:{ident}"

    def urls(self, kind: str | None = None) -> list[str]:
        return [lk["url"] for lk in self.links if kind is None or lk["kind"] == kind]

    def add_link(self, url: str) -> None:
        url = url.strip()
        if url and url not in self.urls():
            self.links.append({"url": url, "kind": link_kind(url)})

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["uid"] = self.uid
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Account:
        return cls(name=d.get("name", ""), platform=d.get("platform"), owner=d.get("owner", ""),
                   account_id=d.get("account_id", ""), status=d.get("status", ""), links=list(d.get("links", [])),
                   origins=dict(d.get("origins", {})))


@dataclass
class Post:
    """One post as a source read it. ``time`` is ISO 8601 (None: the source gave no date).
    ``repost`` is the platform's own flag (None: not said); ``interactions`` are counts by kind
    (``comments``, ``likes``, ``shares``, ``reads``…) when the source has them."""

    time: str | None
    title: str = ""
    text: str = ""
    url: str = ""
    repost: bool | None = None
    interactions: dict[str, int] | None = None
    links: list[str] = field(default_factory=list)


@dataclass
class Reading:
    """What one source read of one account.

    ``decidable`` False: the source could not read it (``reason``: ``unreachable``, ``not_a_feed``,
    ``blocked_by_platform``…) — the account is *not decidable* from this source, never stale.
    ``complete`` True: ``posts`` are every recent post (a feed, an export); False: some posts only
    (article pages linked from the site) — enough to show an account is active, never that it stopped.
    ``interaction_enabled``: the platform's comment/message switch when the source knows it.
    ``articles``: article pages the source checked, each ``{"url", "state": live|deleted|blocked|
    undecidable, "reason", "time"}``. ``profile``: what the platform says of the account (name…)."""

    source: str
    decidable: bool
    reason: str = ""
    complete: bool = False
    posts: list[Post] = field(default_factory=list)
    interaction_enabled: bool | None = None
    articles: list[dict[str, Any]] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AccountSource(Protocol):
    """What ``govaudit_account_sources()`` returns: a source of account data.

    ``name`` is unique per audit; ``accepts(account)`` says whether it can read that account (cheap, no
    I/O); ``read(account, ctx)`` returns a :class:`Reading` (or a dict of the same shape), reading the
    network only through ``ctx.probe("http")`` / ``ctx.probe("dns")`` (the audit's resolver) — an
    exception is stored as a not-decidable reading, never as a stale account."""

    name: str

    def accepts(self, account: Account) -> bool: ...

    def read(self, account: Account, ctx: Any) -> Reading | dict[str, Any]: ...


# --- discovery on stored pages ---------------------------------------------------------------

_BLOCKS = ("li", "tr", "dd", "dl", "figure", "article")


def listing_pages(pages: Iterable[Any]) -> Iterator[Any]:
    """Stored HTML pages that present the site's 政务新媒体 (title or a heading names it)."""

    for page in pages:
        if not page.is_html or page.tree is None or page.is_error_page:
            continue
        heads = [page.title] + [el.text_content() for el in page.tree.iter("h1", "h2", "h3")]
        if any(m in (h or "") for h in heads for m in LISTING_MARKERS):
            yield page


def _block_of(el: Any) -> Any:
    node = el
    while node is not None:
        if isinstance(node.tag, str) and node.tag in _BLOCKS:
            return node
        if isinstance(node.tag, str) and node.tag == "div" and "account" in (node.get("class") or "") + (node.get("id") or ""):
            return node
        node = node.getparent()
    return el.getparent() if el.getparent() is not None else el


_QR_WORDS = re.compile(r"(二维码|扫码关注|扫一扫|官方账号|官方帐号|账号|帐号|[:：])")


def _name_from(text: str, platform: str) -> str:
    """The account's name in a caption: ``示范县发布（微信公众号）`` → ``示范县发布``."""

    t = re.sub(r"[（(【\[][^）)】\]]*[）)】\]]", " ", text)
    for alias in sorted((a for a in PLATFORMS.get(platform, ())), key=len, reverse=True):
        t = re.sub(re.escape(alias), " ", t, flags=re.I)
    t = _QR_WORDS.sub(" ", t)
    parts = [p for p in re.split(r"[\s|/、,，]+", t) if len(p) >= 2]
    return parts[0] if parts else ""


def discover(pages: Iterable[Any]) -> tuple[list[Account], list[str]]:
    """Accounts a site lists on its 政务新媒体 pages: name, platform, links (feeds, article pages,
    platform pages) from each entry's block (``li``/``tr``/``dd``/a ``div.account``), its text, its
    images' ``alt``/``title`` and captions; an entry with neither an image nor an address of its own is a menu
    item, not an account. Returns the accounts and the URLs of the pages that listed at least one."""

    found: dict[str, Account] = {}
    where: list[str] = []
    for page in listing_pages(pages):
        before = len(found)
        blocks: list[Any] = []
        for el in page.tree.iter("img", "a"):
            b = _block_of(el)
            if b not in blocks:
                blocks.append(b)
        for b in blocks:
            alts = " ".join((i.get("alt") or "") + " " + (i.get("title") or "") for i in b.iter("img"))
            caption = " ".join(b.text_content().split())
            hrefs = [a.get("href") for a in b.iter("a") if a.get("href")]
            urls = [_absolute(page.final_url, h) for h in hrefs]
            urls = [u for u in urls if u.startswith(("http://", "https://"))]
            platform = platform_of(caption) or platform_of(alts) or next(filter(None, map(platform_of_url, urls)), None)
            if not platform:
                continue
            name = _name_from(caption, platform) or _name_from(alts, platform)
            if not name:
                continue
            acc = Account(name=name, platform=platform, origins={"site": {"page": page.url, "text": caption[:200],
                                                                              "alt": alts.strip()[:200]}})
            for u in urls:
                if urlsplit(u).hostname == urlsplit(page.final_url).hostname and link_kind(u) == HOME:
                    continue  # navigation inside the site, not the account's address
                acc.add_link(u)
            if not acc.links and not any(True for _ in b.iter("img")):
                continue  # a menu entry (政务微博 → a column of this site), not an account: no QR, no address
            prev = found.get(acc.uid)
            if prev is None:
                found[acc.uid] = acc
            else:
                for u in acc.urls():
                    prev.add_link(u)
        if len(found) > before or any(a.origins["site"]["page"] == page.url for a in found.values()):
            where.append(page.url)  # a page that lists accounts (a 政务微博 column of news is not one)
    return list(found.values()), where


def _absolute(base: str, href: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, href.strip())


# --- pairing the site's list with the registry -----------------------------------------------

def _same(a: Account, b: Account) -> bool:
    if a.platform and b.platform and a.platform != b.platform:
        return False
    if a.account_id and b.account_id:
        return a.account_id.strip().lower() == b.account_id.strip().lower()
    shared = {u.rstrip("/") for u in a.urls()} & {u.rstrip("/") for u in b.urls()}
    return bool(shared) or (norm_name(a.name) == norm_name(b.name) and bool(a.name))


def merge(registry: list[Account], site: list[Account]) -> list[Account]:
    """One account per real account: a registry row and the site entry for the same account (same
    platform and the same ID, a shared address or the same name) become one, keeping both origins and
    the registry's name (the filed one; the site's stays in ``origins['site']``)."""

    out = [Account.from_dict(a.as_dict()) for a in registry]
    for s in site:
        match = next((r for r in out if "registry" in r.origins and "site" not in r.origins and _same(r, s)), None)
        if match is None:
            out.append(Account.from_dict(s.as_dict()))
            continue
        match.origins["site"] = s.origins["site"]
        match.origins["site"]["name"] = s.name
        for u in s.urls():
            match.add_link(u)
    return out


def parse_time(value: Any) -> dt.datetime | None:
    """A post time from an ISO string, a unix timestamp, or a ``YYYY-MM-DD[ HH:MM[:SS]]`` cell."""

    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            n = float(value)
            return dt.datetime.fromtimestamp(n / 1000 if n > 1e11 else n, dt.UTC).astimezone(CHINA).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip().replace("/", "-").replace("年", "-").replace("月", "-").replace("日", " ").strip()
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(CHINA).replace(tzinfo=None) if t.tzinfo else t


CHINA = dt.timezone(dt.timedelta(hours=8))
