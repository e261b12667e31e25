"""The URL layer: one spelling of a link target from extraction to verdict.

Every URL the crawl stores as a link target is the exact string Scrapy fetches: resolved against
the page's base (``urllib.parse.urljoin``, RFC 3986), percent-encoded the way a browser does and
Scrapy's ``Request`` does (``w3lib.url.safe_url_string``: path in UTF-8, query in the page's
encoding, ``"``, ``<>``, ``|`` and spaces escaped, ``\\`` read as ``/``), host lower-cased and
IDNA-encoded, default port dropped, fragment split off. Because the fetch records carry that same
string, the link-judging stage finds the answer for every target — a target spelled one way on the
page and fetched another would otherwise be judged "not_checked" whatever the server said.

Hosts and ports are validated with ``yarl`` (a kept parser, not hand-written rules): a href such as
``http://127.0.0.1:____``, ``http://localhost]``, ``http://[::1``, ``//////`` or ``http:`` is
*malformed* — :func:`resolve` says so for that one href and the page's other links are untouched.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import yarl
from w3lib.url import safe_url_string

# Characters ``safe_url_string`` leaves as they are in a path and a query (measured, see
# tests/test_urls.py): an href made only of them needs no escaping pass.
_PLAIN = re.compile(r"[0-9A-Za-z!$%&()*+,\-./:;=?@_~]*")
# An href that names http(s) itself: then it must carry an authority with a host (``http:``,
# ``http:/``, ``http://`` and ``http:///x`` are broken links, not the current page).
_HTTP_SCHEME = re.compile(r"^\s*https?:", re.I)
_HTTP_AUTHORITY = re.compile(r"^\s*https?://[^/?#\\]", re.I)
_SCHEME_RELATIVE = re.compile(r"^//[^/?#\\]")
# Schemes a crawler never fetches (nor reports): the reader's mail client, phone, scripts…
SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "sms:", "weixin:", "blob:", "callto:", "fax:",
                "ftp:", "file:", "news:", "irc:", "skype:", "geo:", "market:", "intent:", "chrome:", "ws:", "wss:")


class Resolved(NamedTuple):
    """What one href resolves to.

    ``url`` is the fetchable spelling (None when skipped or malformed); ``fragment`` the text after
    ``#`` as written (None when there was no ``#``); ``malformed`` the reason the href cannot be a
    URL at all (``bad_port``, ``bad_host``, ``no_host``) — its ``raw`` is what the report shows.
    """

    raw: str
    url: str | None
    fragment: str | None = None
    malformed: str | None = None
    skipped: bool = False


def _checked(url: str) -> tuple[str | None, str | None]:
    """(normalised url, None) or (None, reason) for an absolute URL string, escaped already."""

    try:
        parsed = yarl.URL(url)
        port = parsed.explicit_port  # raises on a port that is not a number in 0..65535
    except (ValueError, TypeError):
        try:
            _ = urlsplit(url).port
        except ValueError:
            return None, "bad_port" if "[" not in url and "]" not in url else "bad_host"
        return None, "bad_host"
    if parsed.scheme not in ("http", "https"):
        return None, None
    host = parsed.raw_host
    if not host:
        return None, "no_host"
    try:
        yarl.URL.build(scheme=parsed.scheme, host=host)
    except ValueError:
        return None, "bad_host"
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    hostport = netloc[-1].lower()
    if port is not None and (port == 80 and parts.scheme == "http" or port == 443 and parts.scheme == "https"):
        hostport = hostport.rsplit(":", 1)[0]
    netloc = f"{netloc[0]}@{hostport}" if len(netloc) == 2 else hostport
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, "")), None


def normalise(url: str, encoding: str = "utf-8") -> str | None:
    """The one spelling of an absolute http(s) URL (fragment dropped), or None when it is none."""

    url = url.strip()
    if not _PLAIN.fullmatch(url.split("#", 1)[0]):
        try:
            url = safe_url_string(url, encoding=encoding)
        except ValueError:
            return None
    return _checked(url)[0]


def fragment_of(raw: str) -> str | None:
    """The fragment of an href as written, or None when it has no ``#``."""

    return raw.split("#", 1)[1] if "#" in raw else None


def fragment_candidates(fragment: str) -> tuple[str, ...]:
    """The ids a fragment may name: as written, then percent-decoded (the HTML standard's order)."""

    decoded = unquote(fragment)
    return (fragment,) if decoded == fragment else (fragment, decoded)


class Resolver:
    """Resolves the hrefs of one page against its base URL, with a fast path for the common
    plain-ASCII root-relative and relative hrefs (most links; the general path is urljoin plus
    w3lib's escaping, most of the parsing cost on a 30-link page). Both paths give the same
    string (tests/test_urls.py compares them)."""

    def __init__(self, base: str, encoding: str = "utf-8"):
        self.encoding = encoding
        self.base = normalise(base, encoding) or base
        parts = urlsplit(self.base)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.dir = parts.path[: parts.path.rfind("/") + 1] or "/"

    def __call__(self, raw: str) -> Resolved:
        raw = raw.strip()
        if not raw:
            return Resolved(raw, None, skipped=True)
        head = raw[:12]
        if ":" in head and raw.lower().startswith(SKIP_SCHEMES):
            return Resolved(raw, None, skipped=True)
        href, sep, frag = raw.partition("#")
        fragment = frag if sep else None
        if ":" in head and _HTTP_SCHEME.match(href) and not _HTTP_AUTHORITY.match(href):
            return Resolved(raw, None, fragment, malformed="no_host")
        if href.startswith("//") and not _SCHEME_RELATIVE.match(href):
            return Resolved(raw, None, fragment, malformed="no_host")
        if _PLAIN.fullmatch(href) and "/." not in href and not href.startswith("."):
            if href.startswith("/") and not href.startswith("//"):
                return Resolved(raw, self.origin + href, fragment)
            if href and ":" not in href.split("/", 1)[0] and not href.startswith(("?", "//")):
                return Resolved(raw, self.origin + self.dir + href, fragment)
        try:
            # the whole href, fragment included: "foo/ #x" keeps its space (foo/%20), as a browser does
            joined = urljoin(self.base, raw)
        except ValueError:
            return Resolved(raw, None, fragment, malformed="bad_host")
        if not _PLAIN.fullmatch(joined.split("#", 1)[0]):
            try:
                joined = safe_url_string(joined, encoding=self.encoding)
            except ValueError:
                return Resolved(raw, None, fragment, malformed="bad_host")
        if urlsplit(joined).scheme.lower() not in ("http", "https"):
            return Resolved(raw, None, skipped=True)
        url, problem = _checked(joined)
        if url is None:
            return Resolved(raw, None, fragment, malformed=problem or "no_host")
        return Resolved(raw, url, fragment)


def is_fetchable(target: str) -> bool:
    """Whether a stored link target is a URL at all (a malformed href is stored as written)."""

    return normalise(target) == target
