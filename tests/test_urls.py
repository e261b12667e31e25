"""The URL layer (``auditor.crawl.urls``): one spelling from extraction to verdict, malformed hrefs alone."""

from __future__ import annotations

import pytest
from scrapy import Request
from w3lib.url import safe_url_string

from auditor.crawl.urls import _PLAIN, Resolver, fragment_candidates, is_fetchable, normalise

BASE = "http://127.0.0.1:8000/dir/page.html"

HREFS = [
    "a.html", "/root.html", "../up.html", "./same.html", "?q=1", "//other.example/x", "http://Other.Example:80/X",
    'q"uote.html', "br<ack>et.html", "pi|pe.html", "/p?q=a|b&c=\"d\"", "sp ace.html", "中文.html", "/%E4%B8%AD.html",
    "/bad%zzescape.html", "back\\slash.html", "x.html#frag", "/p?x=1#a|b", "https://example.org:443/y",
    "http://example.org/foo/ #a=1,2,3", "'single'.html", "/a/./b/../c.html", "{brace}.html", "`tick`.html",
]


@pytest.mark.parametrize("href", HREFS)
def test_the_stored_spelling_is_the_fetched_spelling(href: str) -> None:
    """Trap: the old fast path kept ``"``, ``<>`` and ``|`` raw while Scrapy fetched them
    percent-encoded, so the verdict was filed under another string ("not_checked")."""

    url = Resolver(BASE)(href).url
    assert url is not None
    assert Request(url).url == url  # what Scrapy fetches
    assert safe_url_string(url) == url
    assert normalise(url) == url and is_fetchable(url)
    assert "#" not in url


def test_fast_path_and_general_path_agree() -> None:
    resolve = Resolver(BASE)
    for href in ("a.html", "/b/c.html?x=1&y=2", "d-e_f~g.html", "/h;i=j", "k(l).html", "m!n$o.html"):
        assert _PLAIN.fullmatch(href)
        fast = resolve(href).url
        general = normalise(__import__("urllib.parse").parse.urljoin(BASE, href))
        assert fast == general, href


@pytest.mark.parametrize("href, reason", [
    ("http://127.0.0.1:____", "bad_port"),
    ("http://127.0.0.1:99999/", "bad_port"),
    ("http://localhost]", "bad_host"),
    ("http://[::1", "bad_host"),
    ("//////", "no_host"),
    ("http:", "no_host"),
    ("http:/", "no_host"),
    ("http://", "no_host"),
    ("http:///x", "no_host"),
    ("http:www.example.com/", "no_host"),
    ("http://a b/", "bad_host"),
])
def test_malformed_hrefs_are_malformed_not_the_current_page(href: str, reason: str) -> None:
    """Trap: urljoin sends ``http:`` and ``http://`` back to the page itself (which answers 200)
    and ``http://localhost]`` raised, dropping every link of the page."""

    r = Resolver(BASE)(href)
    assert r.url is None and r.malformed == reason, r
    assert not is_fetchable(href)


def test_skipped_schemes_are_neither_links_nor_malformed() -> None:
    resolve = Resolver(BASE)
    for href in ("mailto:a@b.cn", "javascript:void(0)", "tel:123", "data:image/png;base64,AA", "ftp://x/y", "irc://x", ""):
        r = resolve(href)
        assert r.url is None and r.malformed is None and r.skipped, href


def test_fragment_kept_as_written_and_candidates_decoded() -> None:
    r = Resolver(BASE)("other.html#%E7%AB%A0%E8%8A%82")
    assert r.url == "http://127.0.0.1:8000/dir/other.html"
    assert r.fragment == "%E7%AB%A0%E8%8A%82"
    assert fragment_candidates(r.fragment) == ("%E7%AB%A0%E8%8A%82", "章节")
    assert Resolver(BASE)("other.html").fragment is None
    assert Resolver(BASE)("other.html#").fragment == ""
