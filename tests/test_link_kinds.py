"""Every link kind a page holds, extracted with its tag and attribute (``auditor.crawl.extract``)."""

from __future__ import annotations

import lxml.html

from auditor.crawl.extract import css_urls, html_links, json_ld_urls, meta_refresh_target, srcset_urls

PAGE = "http://127.0.0.1:8000/dir/index.html"
ORIGIN = "http://127.0.0.1:8000"

HTML = """<html><head>
<meta http-equiv="Refresh" content="5; URL='/next.html'">
<meta property="og:image" content="/og.png"><meta name="twitter:image" content="/tw.png">
<meta property="og:title" content="/not-a-link.png">
<link rel="stylesheet" href="/s.css"><link rel="manifest" href="/m.webmanifest"><link rel="icon" href="/f.ico">
<link rel="canonical" href="/canonical.html"><link rel="dns-prefetch" href="//cdn.example">
<style>body{background:url("/bg.png")} @import "/imp.css"; .x{background:url(data:image/png;base64,AAAA)}</style>
<script type="application/ld+json">{"@context":"https://schema.org","image":["http://x.test/a.jpg"],
 "author":{"url":"https://x.test/u"},"name":"http is not a url here"}</script>
<script type="application/ld+json">{broken json</script>
</head><body>
<a href="#sec">same page</a><a href="#">placeholder</a><a href="#top">top</a><a href="p.html#part">other page</a>
<a href="http://127.0.0.1:____">bad port</a><a href="http://localhost]">bad host</a>
<a href="ok.html">still here</a>
<img src="a.png" srcset="b.png 2x, c.png 3x" usemap="#m"><map name="m"><area href="area.html" alt="area"></map>
<picture><source srcset="w1.webp 1x,w2.webp 2x" type="image/webp"></picture>
<video src="v.mp4" poster="p.jpg"><track src="t.vtt"></video><audio src="a.mp3"></audio>
<input type="image" src="i.png"><input type="text" src="no.png">
<blockquote cite="/cite.html">q</blockquote><object data="o.swf" codebase="/cb/"></object>
<form><button formaction="/fa">go</button></form>
<div style="background-image:URL('/st.png')">x</div><a href="mailto:x@y.cn">m</a>
</body></html>"""


def _links() -> list:  # type: ignore[type-arg]
    return list(html_links(lxml.html.document_fromstring(HTML), PAGE, "utf-8"))


def _by_kind() -> dict[tuple[str, str], list[str]]:
    kinds: dict[tuple[str, str], list[str]] = {}
    for link in _links():
        kinds.setdefault((link.tag, link.attribute), []).append(link.url)
    return kinds


def test_every_kind_is_an_edge_with_tag_and_attribute() -> None:
    """Trap: the old extractor knew href/src of eight tags only; each pair below was missed."""

    k = _by_kind()
    assert k[("meta", "refresh")] == [f"{ORIGIN}/next.html"]
    assert k[("meta", "og:image")] == [f"{ORIGIN}/og.png"]
    assert k[("meta", "twitter:image")] == [f"{ORIGIN}/tw.png"]
    assert set(k[("link", "href")]) == {f"{ORIGIN}/s.css", f"{ORIGIN}/m.webmanifest", f"{ORIGIN}/f.ico"}
    assert k[("style", "url")] == [f"{ORIGIN}/bg.png"]
    assert k[("style", "@import")] == [f"{ORIGIN}/imp.css"]
    assert k[("script", "ld+json")] == ["http://x.test/a.jpg", "https://x.test/u"]
    assert k[("img", "srcset")] == [f"{ORIGIN}/dir/b.png", f"{ORIGIN}/dir/c.png"]
    assert k[("source", "srcset")] == [f"{ORIGIN}/dir/w1.webp", f"{ORIGIN}/dir/w2.webp"]
    assert k[("video", "src")] == [f"{ORIGIN}/dir/v.mp4"] and k[("video", "poster")] == [f"{ORIGIN}/dir/p.jpg"]
    assert k[("track", "src")] == [f"{ORIGIN}/dir/t.vtt"] and k[("audio", "src")] == [f"{ORIGIN}/dir/a.mp3"]
    assert k[("input", "src")] == [f"{ORIGIN}/dir/i.png"]  # type=image only
    assert k[("blockquote", "cite")] == [f"{ORIGIN}/cite.html"]
    assert k[("object", "data")] == [f"{ORIGIN}/dir/o.swf"] and k[("object", "codebase")] == [f"{ORIGIN}/cb/"]
    assert k[("button", "formaction")] == [f"{ORIGIN}/fa"]
    assert k[("div", "style")] == [f"{ORIGIN}/st.png"]
    assert k[("img", "usemap")] == [PAGE]
    urls = {u for us in k.values() for u in us}
    assert f"{ORIGIN}/canonical.html" not in urls and f"{ORIGIN}/not-a-link.png" not in urls
    assert not any("cdn.example" in u or u.startswith("data:") or u.startswith("mailto:") for u in urls)


def test_navigation_links_carry_their_fragment_and_same_page_anchors_are_links() -> None:
    """Trap: ``#sec`` was skipped as a scheme and fragments were dropped before storing."""

    links = _links()
    frag = {(link.url, link.fragment) for link in links if link.fragment}
    assert (PAGE, "sec") in frag  # same page
    assert (f"{ORIGIN}/dir/p.html", "part") in frag
    assert (PAGE, "m") in frag  # usemap="#m"
    assert not any(link.fragment in ("", "top") for link in links)
    nav = {link.url for link in links if link.nav}
    assert f"{ORIGIN}/next.html" in nav and f"{ORIGIN}/dir/area.html" in nav and f"{ORIGIN}/dir/a.png" not in nav


def test_malformed_hrefs_come_alone_and_the_page_keeps_its_other_links() -> None:
    """Trap: ``http://localhost]`` raised inside the loop and the page lost every link."""

    links = _links()
    bad = {link.url: link.malformed for link in links if link.malformed}
    assert bad == {"http://127.0.0.1:____": "bad_port", "http://localhost]": "bad_host"}
    assert f"{ORIGIN}/dir/ok.html" in {link.url for link in links}
    assert len(links) >= 30


def test_srcset_candidates_by_the_html_standard() -> None:
    assert srcset_urls("_site/foo.html, _site/bar.html") == ["_site/foo.html", "_site/bar.html"]
    assert srcset_urls("a.png,b.png") == ["a.png,b.png"]  # a URL may hold commas: only whitespace ends it
    assert srcset_urls(" a.png 1x ,  b.png 2x, ") == ["a.png", "b.png"]
    assert srcset_urls("a.png 100w, b.png (min-width: 10px, x) 2x, c.png") == ["a.png", "b.png", "c.png"]
    assert srcset_urls("data:image/png;base64,AA,BB 1x, d.png 2x") == ["data:image/png;base64,AA,BB", "d.png"]


def test_css_urls_and_imports() -> None:
    css = """@import url("i1.css"); @import 'i2.css'; @import url(i3.css) screen;
    .a{background:url('x.png'), url(y.png)} /* url(comment.png) */ .b{content:"url(text.png)"}
    @font-face{src:url(f.woff2) format("woff2")}"""
    assert css_urls(css) == [("i1.css", "@import"), ("i2.css", "@import"), ("i3.css", "@import"), ("x.png", "url"),
                             ("y.png", "url"), ("f.woff2", "url")]


def test_json_ld_and_meta_refresh() -> None:
    assert json_ld_urls('{"@context": "https://schema.org", "@type": "https://schema.org/X", "logo": {"url": "http://a/l.png"}}') \
        == ["http://a/l.png"]
    assert json_ld_urls("not json") == []
    assert meta_refresh_target("0;url=http://a/b") == "http://a/b"
    assert meta_refresh_target("5; URL='/x.html'") == "/x.html"
    assert meta_refresh_target("30") is None


def test_meta_refresh_forms_and_a_malformed_target() -> None:
    """Trap: w3lib's get_meta_refresh escapes the URL and raises on ``http://localhost]``: the
    whole page (and every link on it) was lost."""

    assert meta_refresh_target("0; URL=\"/a b.html\"") == "/a b.html"
    assert meta_refresh_target("3,url='x.html' junk") == "x.html"
    assert meta_refresh_target("0;url=http://localhost]") == "http://localhost]"
    assert meta_refresh_target("2.5 ; next.html") == "next.html"
    html = '<html><head><meta http-equiv="refresh" content="0;url=http://localhost]"></head><body><a href="/ok.html">ok</a></body></html>'
    links = list(html_links(lxml.html.document_fromstring(html), PAGE, "utf-8"))
    assert [(lk.url, lk.malformed) for lk in links] == [("http://localhost]", "bad_host"), (f"{ORIGIN}/ok.html", None)]
