"""Synthetic 政务新媒体 fixtures, built by code: RSS 2.0 and Atom feeds, WeChat-like article pages (live,
deleted, blocked, platform check), and a 政务新媒体矩阵 page body. Used by the demo site, the tests and
``bench/newmedia_speed.py``; nothing here touches the network.

The WeChat pages imitate what public ``mp.weixin.qq.com/s/…`` pages carry (``next-capabilities.md``
§c.3): ``var ct = "<unix>"``, ``og:title``, ``.wx_follow_nickname`` and ``#js_content`` for a live
article; a notice instead of the body for a deleted or blocked one; a verification page (环境异常).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.utils import format_datetime
from html import escape

CHINA = dt.timezone(dt.timedelta(hours=8))


@dataclass
class FeedPost:
    when: dt.datetime  # naive = China time
    title: str
    text: str = ""
    link: str = ""
    comments: int | None = None


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=CHINA)


def rss(title: str, link: str, posts: list[FeedPost]) -> str:
    """An RSS 2.0 feed (what RSSHub serves), with ``slash:comments`` when a post has a count."""

    items = []
    for i, p in enumerate(posts):
        extra = f"<slash:comments>{p.comments}</slash:comments>" if p.comments is not None else ""
        items.append(
            f"<item><title>{escape(p.title)}</title><link>{escape(p.link or f'{link}#p{i}')}</link>"
            f"<guid>{escape(p.link or f'{link}#p{i}')}</guid><pubDate>{format_datetime(_aware(p.when))}</pubDate>"
            f"<description>{escape(p.text)}</description>{extra}</item>"
        )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">'
            f"<channel><title>{escape(title)}</title><link>{escape(link)}</link><description>{escape(title)}</description>"
            + "".join(items) + "</channel></rss>")


def atom(title: str, link: str, posts: list[FeedPost]) -> str:
    entries = []
    for i, p in enumerate(posts):
        href = p.link or f"{link}#e{i}"
        entries.append(
            f"<entry><title>{escape(p.title)}</title><link href=\"{escape(href)}\"/><id>{escape(href)}</id>"
            f"<updated>{_aware(p.when).isoformat()}</updated><published>{_aware(p.when).isoformat()}</published>"
            f"<content type=\"html\">{escape(p.text)}</content></entry>"
        )
    newest = max((p.when for p in posts), default=dt.datetime(2000, 1, 1))
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>{escape(link)}</id><link href=\"{escape(link)}\"/>"
            f"<updated>{_aware(newest).isoformat()}</updated>" + "".join(entries) + "</feed>")


def wechat_article(nickname: str, title: str, when: dt.datetime, text: str) -> str:
    ct = int(_aware(when).timestamp())
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<meta property=\"og:title\" content=\"{escape(title)}\"><meta name=\"author\" content=\"{escape(nickname)}\">"
        f"<title>{escape(title)}</title></head><body><div id=\"img-content\"><h1 class=\"rich_media_title\">{escape(title)}</h1>"
        f"<span class=\"wx_follow_nickname\">{escape(nickname)}</span><em id=\"publish_time\"></em>"
        f"<div class=\"rich_media_content\" id=\"js_content\"><p>{escape(text)}</p></div></div>"
        f"<script>var nickname = htmlDecode(\"{escape(nickname)}\"); var ct = \"{ct}\"; var item_show_type = \"0\";</script>"
        "</body></html>"
    )


def _notice(text: str) -> str:
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>微信公众平台</title></head><body>"
            f"<div class=\"weui-msg\"><div class=\"weui-msg__text-area\"><h2 class=\"weui-msg__title\">{text}</h2></div></div>"
            "</body></html>")


def wechat_deleted() -> str:
    return _notice("该内容已被发布者删除")


def wechat_blocked() -> str:
    return _notice("此内容因违规无法查看")


def wechat_check() -> str:
    """The platform's verification page (WAF): says nothing about the article."""

    return _notice("环境异常，完成验证后即可继续访问。<a href=\"#\">去验证</a>")


@dataclass
class MatrixEntry:
    name: str
    platform: str
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, href)
    qr: bool = True


def matrix_body(entries: list[MatrixEntry], heading: str = "政务新媒体矩阵") -> str:
    """The body of a 政务新媒体 page: one ``li`` per account with its QR image (alt names the account),
    caption and links."""

    lis = []
    for e in entries:
        img = f"<img src=\"/images/qr.png\" alt=\"{escape(e.name)}{escape(e.platform)}二维码\" width=\"120\" height=\"120\">" if e.qr else ""
        links = " ".join(f"<a href=\"{escape(h)}\">{escape(t)}</a>" for t, h in e.links)
        lis.append(f"<li class=\"account\">{img}<p>{escape(e.name)}（{escape(e.platform)}）</p><p>{links}</p></li>")
    return f"<h2>{escape(heading)}</h2><ul class=\"matrix\">" + "".join(lis) + "</ul>"
