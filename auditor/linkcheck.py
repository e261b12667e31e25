"""Link verdicts: ok, dead or unverifiable, from what the crawl recorded for each target.

Judged after the crawl, when every calibration answer is in: a 200 page that matches the site's
own error page (fetched at a random non-existent path first) or says it does not exist is a
soft 404; a site whose error page *is* its homepage does not turn links to the homepage dead.
Unverifiable (403 bot walls, 429 after retries, login walls) is never counted as dead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from auditor.model import LinkResult, Verdict

UNVERIFIABLE_STATUS = {401: "login_wall", 403: "bot_wall", 407: "proxy_auth", 429: "rate_limited", 451: "legal", 999: "bot_wall"}
NETWORK_REASON = {"dns": "dns", "refused": "refused", "reset": "refused", "timeout": "timeout", "tls": "tls"}
_ERROR_PATH = re.compile(r"(^|/)(404|error|errors|notfound|not[-_]found|pagenotfound)(\.[a-z]+)?(/|$)|/404\.|/error\.", re.I)
_LOGIN_PATH = re.compile(r"(login|signin|sign-in|passport|/sso/|/cas/|/auth/|oauth)", re.I)
_INDEX_PATH = re.compile(r"^/?((index|default|home|main)\.(s?html?|jsp|php|aspx?))?$", re.I)


@dataclass(slots=True)
class Outcome:
    """The last answer for one URL (after redirects, retries and HEAD→GET fallback)."""

    status: int | None = None
    error_kind: str | None = None
    error: str | None = None
    final_url: str | None = None
    redirects: list[str] = field(default_factory=list)
    content_type: str = ""
    fingerprint: str | None = None
    title: str = ""
    error_like: bool = False
    body_hash: str | None = None  # exact bytes, to tell a catch-all host from an error template
    method: str = "GET"
    purpose: str = "check"
    attempts: int = 1


def _same_page(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.hostname, pa.port, pa.path.rstrip("/") or "/", pa.query) == (pb.hostname, pb.port, pb.path.rstrip("/") or "/", pb.query)


def _is_index(url: str) -> bool:
    return bool(_INDEX_PATH.match(urlsplit(url).path))


def judge(url: str, o: Outcome | None, calibration: dict[str, Outcome], homepage_url: str | None, on_site: bool) -> LinkResult:
    """The verdict for one target. Pure: tests feed it outcomes directly."""

    if o is None:
        return LinkResult(url, Verdict.UNVERIFIABLE, "not_checked", on_site=on_site)
    detail = {"method": o.method, "attempts": o.attempts}
    if o.redirects:
        detail["redirects"] = o.redirects
    if o.error_kind:
        detail["error"] = o.error
        if o.error_kind in NETWORK_REASON:
            return LinkResult(url, Verdict.DEAD, NETWORK_REASON[o.error_kind], None, o.final_url, detail, on_site)
        return LinkResult(url, Verdict.UNVERIFIABLE, o.error_kind, None, o.final_url, detail, on_site)
    status = o.status or 0
    final = o.final_url or url
    if status in UNVERIFIABLE_STATUS:
        return LinkResult(url, Verdict.UNVERIFIABLE, UNVERIFIABLE_STATUS[status], status, final, detail, on_site)
    if 300 <= status < 400:  # redirect loop or a 3xx without a usable Location
        return LinkResult(url, Verdict.DEAD, "http_status", status, final, detail, on_site)
    if status >= 400 or status < 100:
        return LinkResult(url, Verdict.DEAD, "http_status", status, final, detail, on_site)
    # 2xx from here: is it really the page, or an error page in disguise?
    if o.redirects and _LOGIN_PATH.search(urlsplit(final).path + "?" + urlsplit(final).query) and not _LOGIN_PATH.search(url):
        return LinkResult(url, Verdict.UNVERIFIABLE, "login_wall", status, final, detail, on_site)
    home = homepage_url
    if (home and _same_page(url, home)) or (_is_index(urlsplit(url).path) and _is_index(urlsplit(final).path)
                                             and urlsplit(url).netloc == urlsplit(final).netloc):
        # A site's front page (/, /index.html…) is never its own error page, even when the CMS
        # sends unknown paths there.
        return LinkResult(url, Verdict.OK, None, status, final, detail, on_site)
    host = (urlsplit(final).hostname or "").lower()
    cal = calibration.get(host)
    if cal is not None and cal.status and 200 <= cal.status < 300:
        detail["calibration"] = {"final_url": cal.final_url, "title": cal.title}
        if o.redirects and cal.redirects and _same_page(final, cal.final_url):
            return LinkResult(url, Verdict.DEAD, "soft_404", status, final, detail, on_site)  # sent where nonsense goes
        if cal.fingerprint and o.fingerprint == cal.fingerprint:
            if o.body_hash and o.body_hash == cal.body_hash and not (o.error_like or cal.error_like or o.redirects):
                # Byte-identical to the answer for a random path, and nothing says "not found":
                # a catch-all host (a single-page app, a stand-in) — it cannot be told apart from
                # a soft 404, so it goes to manual review instead of being counted dead.
                return LinkResult(url, Verdict.UNVERIFIABLE, "catch_all", status, final, detail, on_site)
            return LinkResult(url, Verdict.DEAD, "soft_404", status, final, detail, on_site)
    if o.redirects and _ERROR_PATH.search(urlsplit(final).path) and not _ERROR_PATH.search(urlsplit(url).path):
        return LinkResult(url, Verdict.DEAD, "soft_404", status, final, detail, on_site)
    if o.error_like:
        return LinkResult(url, Verdict.DEAD, "soft_404", status, final, detail, on_site)
    return LinkResult(url, Verdict.OK, None, status, final, detail, on_site)
