"""The crawl: Scrapy, in-process, fetching every page once and checking every distinct link target.

Discovery is level-synchronous breadth-first: a level's pages are all fetched before the next
level is scheduled, and each level is scheduled in sorted URL order with the page budget cut at
the same place. The set of pages audited therefore depends on the site, not on network timing,
so monthly audits compare.

Everything goes to the evidence store as it happens (fetches, pages, links, skips); the spider
keeps only URLs and a compact :class:`~auditor.linkcheck.Outcome` per distinct target in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import lxml.html
import scrapy
from lxml import etree
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, IgnoreRequest, StopDownload
from scrapy.http import Request, Response, TextResponse

from auditor.config import AuditConfig
from auditor.context import visible_text
from auditor.extract import (
    PARSEABLE_ATTACHMENTS,
    attachment_links,
    attachment_type,
    fingerprint,
    html_links,
    looks_like_error_page,
    normalise_url,
    page_title,
    url_kind,
)
from auditor.linkcheck import Outcome, judge
from auditor.model import FetchRecord, LinkEdge, Region, Verdict
from auditor.net import Resolver, make_twisted_resolver_class
from auditor.store import EvidenceStore

log = logging.getLogger(__name__)

CHECK_BODY_LIMIT = 64 * 1024  # enough for a soft-404 verdict; large attachments are never downloaded whole
KEPT_HEADERS = (
    "content-type", "content-length", "server", "location", "retry-after", "last-modified",
    "strict-transport-security", "content-security-policy", "x-frame-options", "x-content-type-options",
    "referrer-policy", "x-xss-protection", "permissions-policy", "set-cookie",
)
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
NON_REDIRECT_STATUSES = [s for s in range(100, 1000) if s not in (301, 302, 303, 307, 308)]


@dataclass
class CrawlStats:
    """Counters the progress display reads while the crawl runs."""

    pages: int = 0
    links: int = 0
    targets: int = 0
    checked: int = 0
    suspect_dead: int = 0
    errors: int = 0
    bytes: int = 0
    level: int = 0
    stage: str = "crawl"  # crawl → checks
    findings: int = 0
    started: float = field(default_factory=time.time)


@dataclass
class CrawlJob:
    config: AuditConfig
    store: EvidenceStore
    run_id: str
    resolver: Resolver
    stats: CrawlStats = field(default_factory=CrawlStats)


@dataclass
class CrawlResult:
    homepage_url: str | None
    start_error: str | None
    close_reason: str
    coverage: dict[str, Any]
    link_counts: dict[str, int]


def classify_failure(exc: BaseException) -> tuple[str, str]:
    """(error_kind, message) for a download failure.

    Scrapy ≥2.18 wraps Twisted's errors in its own (``CannotResolveHostError``…), keeping the
    original as ``__cause__``; the whole chain is looked at, TLS failures included, which arrive
    as ``ResponseFailed``/``ResponseNeverReceived`` carrying OpenSSL reasons.
    """

    from scrapy import exceptions as sx
    from twisted.internet import error as terr
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    chain: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and len(chain) < 6:
        chain.append(node)
        node = node.__cause__ or node.__context__
    text = f"{type(exc).__name__}: {exc}"
    inner = ""
    for e in chain:
        for r in getattr(e, "reasons", None) or []:
            inner += f" {type(r.value).__module__}.{type(r.value).__name__}: {r.value}"
    detail = (text + inner)[:500]
    for e in chain:
        if isinstance(e, IgnoreRequest):
            return "robots", text
        if isinstance(e, sx.CannotResolveHostError | terr.DNSLookupError):
            return "dns", text
        if isinstance(e, sx.DownloadConnectionRefusedError | terr.ConnectionRefusedError):
            return "refused", text
        if isinstance(e, sx.DownloadTimeoutError | terr.TimeoutError | terr.TCPTimedOutError | TimeoutError):
            return "timeout", text
    if "ssl" in detail.lower() or "certificate" in detail.lower() or "tls" in detail.lower():
        return "tls", detail
    for e in chain:
        if isinstance(e, sx.DownloadFailedError | ResponseNeverReceived | ResponseFailed | terr.ConnectionLost
                      | terr.ConnectionDone | sx.ResponseDataLossError):
            return "reset", detail
        if isinstance(e, terr.ConnectError):
            return "refused", detail
    return "other", detail


class PoliteRetryMiddleware:
    """Retries transient failures with backoff, honouring ``Retry-After`` on 429/503.

    Replaces Scrapy's RetryMiddleware, which retries at once and ignores ``Retry-After``.
    DNS and TLS failures are not retried: they do not heal in seconds.
    """

    def __init__(self, retries: int, cap: float):
        self.retries = retries
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Any) -> PoliteRetryMiddleware:
        return cls(crawler.settings.getint("GOVAUDIT_RETRIES"), crawler.settings.getfloat("GOVAUDIT_RETRY_AFTER_CAP"))

    def _again(self, request: Request, delay_hint: float | None) -> Request | None:
        n = request.meta.get("ga_retries", 0)
        if n >= self.retries or request.meta.get("dont_retry"):
            return None
        new = request.copy()
        new.meta["ga_retries"] = n + 1
        new.meta["ga_delay"] = min(self.cap, delay_hint if delay_hint is not None else 0.5 * 2**n)
        new.dont_filter = True
        return new

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Response | Request:
        if response.status not in RETRY_STATUS:
            return response
        hint = _retry_after(response) if response.status in (429, 503) else None
        new = self._again(request, hint)
        if new is None:
            return response
        await asyncio.sleep(new.meta["ga_delay"])
        return new

    async def process_exception(self, request: Request, exception: BaseException, spider: Any = None) -> Request | None:
        kind, _ = classify_failure(exception)
        if kind not in ("timeout", "reset", "refused"):
            return None
        new = self._again(request, None)
        if new is None:
            return None
        await asyncio.sleep(new.meta["ga_delay"])
        return new


def _kept_headers(response: Response) -> dict[str, str]:
    headers = {}
    for name in KEPT_HEADERS:
        value = response.headers.getlist(name)
        if value:
            headers[name] = "; ".join(v.decode("latin-1") for v in value)[:2000]
    return headers


def _retry_after(response: Response) -> float | None:
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _schedules(method: Any) -> Any:
    """Make a callback hand its requests straight to the engine and yield nothing.

    Going through Scrapy's output processing costs a spider-middleware chain and a task pool per
    callback; the crawl does its own scoping, depth and dedupe, so it skips that.
    """

    def wrapper(self: AuditSpider, arg: Any) -> None:
        for request in method(self, arg) or ():
            self.crawler.engine.crawl(request)

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class AuditSpider(scrapy.Spider):
    name = "govaudit"

    def __init__(self, job: CrawlJob, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.job = job
        cfg = job.config
        self.cfg = cfg
        start = normalise_url(cfg.url) or cfg.url
        self.start_url = start
        self.scope: set[str] = {cfg.host, *(h.lower() for h in cfg.sibling_hosts)}
        self.seen: set[str] = set()
        self.next_level: set[str] = set()
        self.level = 0
        self.pages_scheduled = 0
        self.pages_inflight = 0
        self.pages_fetched = 0  # answered (or failed) page fetches; scheduled ones may be dropped by a budget
        self.outcomes: dict[str, Outcome] = {}
        self.targets: set[str] = set()
        self.calibration: dict[str, Outcome] = {}
        self.calibrating: set[str] = set()
        self.parsed_final: set[str] = set()
        self.homepage_url: str | None = None
        self.start_error: str | None = None
        self.skip_counts: dict[str, int] = {}
        self.stop_reason: str | None = None
        self.limited_by: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> AuditSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._on_bytes, signal=signals.bytes_received)
        return spider

    # -- requests ---------------------------------------------------------------------------
    def _request(self, url: str, purpose: str, depth: int | None, method: str = "GET", priority: int = 0) -> Request:
        meta = {
            "ga_purpose": purpose,
            "ga_depth": depth,
            "ga_started": time.time(),
            # every status reaches the callbacks, except redirects, which RedirectMiddleware
            # must still follow (handle_httpstatus_all would stop it)
            "handle_httpstatus_list": NON_REDIRECT_STATUSES,
            "download_timeout": self.cfg.timeout,
        }
        if purpose != "page":
            meta["dont_obey_robotstxt"] = True
        cb = self._on_page if purpose in ("page", "attachment") else self._on_check
        if purpose == "sitemap":
            cb = self._on_sitemap
        if purpose == "calibration":
            cb = self._on_calibration
        return Request(url, method=method, callback=cb, errback=self._on_error, meta=meta, dont_filter=True, priority=priority)

    def _page_request(self, url: str, depth: int) -> Request:
        self.pages_scheduled += 1
        self.pages_inflight += 1
        return self._request(url, "page", depth, priority=10)

    def _calibration_request(self, url: str) -> Request | None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host in self.calibrating:
            return None
        self.calibrating.add(host)
        probe = urlunsplit((parts.scheme, parts.netloc, f"/govaudit-{secrets.token_hex(6)}-not-found.html", "", ""))
        req = self._request(probe, "calibration", None, priority=100)
        req.meta["ga_host"] = host
        return req

    async def start(self):  # Scrapy ≥2.13 calls this, not start_requests()
        cal = self._calibration_request(self.start_url)
        if cal is not None:
            yield cal
        self.seen.add(self.start_url)
        yield self._page_request(self.start_url, 0)
        parts = urlsplit(self.start_url)
        yield self._request(urlunsplit((parts.scheme, parts.netloc, "/sitemap.xml", "", "")), "sitemap", None)
        for col in self.cfg.columns:
            url = normalise_url(col)
            if url and self._in_scope(url) and url not in self.seen:
                self.seen.add(url)
                self.next_level.add(url)

    def _in_scope(self, url: str) -> bool:
        return (urlsplit(url).hostname or "").lower() in self.scope

    # -- target triage ----------------------------------------------------------------------
    def _target(self, url: str, depth: int, tag: str) -> Request | None:
        """Decide what to do with a link target first seen on a page at ``depth - 1``."""

        self.targets.add(url)
        if url in self.seen:
            return None
        self.seen.add(url)
        self.job.stats.targets = len(self.targets)
        kind = url_kind(url)
        if kind == "resource" and tag in ("a", "iframe", "frame") and urlsplit(url).path.lower().endswith(".svg"):
            kind = "page"  # an SVG document one navigates to is a page (and is audited as one)
        if self._in_scope(url):
            if kind == "page" and tag in ("a", "iframe", "frame"):
                if depth <= self.cfg.max_depth:
                    self.next_level.add(url)
                    return None
                self._skip(url, "max_depth")
                return self._request(url, "check", depth)
            if kind == "attachment":
                return self._request(url, "attachment", depth)
            return self._request(url, "check", depth, method="HEAD")
        if not self.cfg.check_external:
            self._skip(url, "external_not_checked")
            return None
        if kind == "page" and tag in ("a", "iframe", "frame"):
            return self._request(url, "check", depth)  # GET, body capped: soft 404s need the text
        return self._request(url, "check", depth, method="HEAD")

    def _skip(self, url: str, reason: str) -> None:
        self.skip_counts[reason] = self.skip_counts.get(reason, 0) + 1
        self.job.store.add_skip(self.job.run_id, url, reason)
        if reason in ("max_pages", "max_depth"):
            self.limited_by.add(reason)

    def _promote(self) -> list[Request]:
        """Schedule the next BFS level in sorted order, cutting at the page budget."""

        if not self.next_level or self.stop_reason:
            return []
        urls = sorted(self.next_level)
        self.next_level = set()
        self.level += 1
        self.job.stats.level = self.level
        budget = max(0, self.cfg.max_pages - self.pages_scheduled)
        out = [self._page_request(u, self.level) for u in urls[:budget]]
        for u in urls[budget:]:
            self._skip(u, "max_pages")
            out.append(self._request(u, "check", self.level))
        return out

    def _on_idle(self, spider: Any = None) -> None:
        requests = self._promote()
        if requests:
            for r in requests:
                self.crawler.engine.crawl(r)
            raise DontCloseSpider

    def _on_bytes(self, data: bytes, request: Request, spider: Any = None) -> None:
        got = request.meta.get("ga_bytes", 0) + len(data)
        request.meta["ga_bytes"] = got
        self.job.stats.bytes += len(data)
        purpose = request.meta.get("ga_purpose")
        limit = CHECK_BODY_LIMIT if purpose in ("check", "calibration") else self.cfg.page_max_bytes
        if got > limit:
            request.meta["ga_truncated"] = True
            raise StopDownload(fail=False)
        if self.job.stats.bytes > self.cfg.byte_budget and not self.stop_reason:
            self.stop_reason = "byte_budget"

    # -- recording --------------------------------------------------------------------------
    def _record(self, request: Request, response: Response | None, error: tuple[str, str] | None,
                fp: str | None = None, title: str = "", error_like: bool = False) -> Outcome:
        """Store the fetch record and keep the compact outcome the link verdict needs."""
        meta = request.meta
        purpose = meta.get("ga_purpose", "check")
        redirects = list(meta.get("redirect_urls", []))
        headers = _kept_headers(response) if response is not None else {}
        rec = FetchRecord(
            url=redirects[0] if redirects else request.url,
            purpose=purpose,
            method=request.method,
            final_url=response.url if response is not None else None,
            status=response.status if response is not None else None,
            content_type=headers.get("content-type"),
            size=len(response.body) if response is not None else None,
            elapsed=time.time() - meta.get("ga_started", time.time()),
            error_kind=error[0] if error else None,
            error=error[1] if error else None,
            redirects=redirects[1:] + ([response.url] if response is not None and redirects else []),
            headers=headers,
            depth=meta.get("ga_depth"),
            fingerprint=fp,
            title=title or None,
            fetched_at=time.time(),
        )
        self.job.store.add_fetch(self.job.run_id, rec)
        outcome = Outcome(
            status=rec.status,
            error_kind=rec.error_kind,
            error=rec.error,
            final_url=rec.final_url,
            redirects=rec.redirects,
            content_type=rec.content_type or "",
            fingerprint=fp,
            title=title,
            error_like=error_like,
            body_hash=hashlib.sha1(response.body).hexdigest()[:16] if fp is not None and response is not None else None,
            method=request.method,
            purpose=purpose,
            attempts=meta.get("ga_retries", 0) + 1,
        )
        self.outcomes[rec.url] = outcome
        if purpose == "page":
            self.pages_fetched += 1
        if error or (rec.status or 0) >= 400:
            self.job.stats.suspect_dead += purpose in ("check", "attachment", "page")
        self.job.stats.checked += 1
        return outcome

    def _html_facts(self, response: Response) -> tuple[Any, str, str, bool]:
        """(tree, title, fingerprint, looks-like-error) of an HTML response."""

        try:
            try:
                tree = lxml.html.document_fromstring(response.text)
            except ValueError:
                # XHTML with an ``<?xml … encoding=…?>`` declaration: lxml refuses it as text.
                tree = lxml.html.document_fromstring(response.body)
        except (etree.ParserError, ValueError):
            return None, "", fingerprint(""), False
        title = page_title(tree)
        text = visible_text(tree)
        return tree, title, fingerprint(text), looks_like_error_page(title, text)

    # -- callbacks --------------------------------------------------------------------------
    @_schedules
    def _on_calibration(self, response: Response):
        host = response.meta["ga_host"]
        fp, title, error_like = None, "", False
        if isinstance(response, TextResponse):
            _, title, fp, error_like = self._html_facts(response)
        self.calibration[host] = self._record(response.request, response, None, fp, title, error_like)
        return []

    @_schedules
    def _on_sitemap(self, response: Response):
        self._record(response.request, response, None)
        if response.status != 200:
            return []
        try:
            root = etree.fromstring(response.body, parser=etree.XMLParser(resolve_entities=False, no_network=True, recover=True))
        except etree.XMLSyntaxError:
            return []
        if root is None:
            return []
        for loc in root.iter("{*}loc"):
            url = normalise_url((loc.text or "").strip())
            if url and self._in_scope(url) and url not in self.seen and url_kind(url) == "page":
                self.seen.add(url)
                self.next_level.add(url)
        return []

    @_schedules
    def _on_check(self, response: Response):
        request = response.request
        if request.method == "HEAD" and (response.status >= 400 or response.status in (405, 501)) and response.status != 429:
            self._record(request, response, None)
            return [self._fallback_get(request)]
        fp, title, error_like = None, "", False
        if isinstance(response, TextResponse) and 200 <= response.status < 300 and "html" in (
            response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        ):
            _, title, fp, error_like = self._html_facts(response)
            cal = self._calibration_request(response.url)
            self._record(request, response, None, fp, title, error_like)
            return [cal] if cal is not None else []
        self._record(request, response, None)
        return []

    def _fallback_get(self, request: Request) -> Request:
        new = self._request(request.meta.get("redirect_urls", [request.url])[0], "check", request.meta.get("ga_depth"))
        new.meta["ga_fallback"] = True
        return new

    @_schedules
    def _on_error(self, failure: Any):
        request = failure.request
        kind, message = classify_failure(failure.value)
        purpose = request.meta.get("ga_purpose")
        self.job.stats.errors += 1
        if request.method == "HEAD" and kind == "reset":
            self._record(request, None, (kind, message))
            return [self._fallback_get(request)]
        self._record(request, None, (kind, message))
        if purpose == "page":
            self.pages_inflight -= 1
            if request.meta.get("ga_depth") == 0:
                self.start_error = f"{kind}: {message}"
            return self._maybe_promote()
        return []

    def _maybe_promote(self) -> list[Request]:
        if self.pages_inflight == 0:
            return self._promote()
        return []

    @_schedules
    def _on_page(self, response: Response):
        if self.stop_reason:
            raise CloseSpider(self.stop_reason)
        request = response.request
        meta = request.meta
        purpose = meta["ga_purpose"]
        depth = meta.get("ga_depth") or 0
        out: list[Request] = []
        try:
            out.extend(self._handle_page(response, purpose, depth))
        except Exception as exc:  # noqa: BLE001 - one broken page never stops the audit
            log.exception("page handling failed: %s", response.url)
            self.job.store.add_error(self.job.run_id, "crawl", f"{type(exc).__name__}: {exc}", url=response.url)
        if purpose == "page":
            self.pages_inflight -= 1
            out.extend(self._maybe_promote())
        return out

    def _handle_page(self, response: Response, purpose: str, depth: int) -> list[Request]:
        request = response.request
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        kind = attachment_type(response.url, ctype)
        if purpose == "page" and kind != "html" and not ctype and isinstance(response, TextResponse):
            kind = "html"
        on_site = self._in_scope(response.url)
        ok = 200 <= response.status < 300
        truncated = bool(request.meta.get("ga_truncated"))
        if depth == 0 and purpose == "page":
            if ok:
                self.homepage_url = normalise_url(response.url) or response.url
                self.scope.add((urlsplit(response.url).hostname or "").lower())
            else:
                self.start_error = f"HTTP {response.status}"
        if not (ok and on_site) or truncated:
            self._record(request, response, None)
            return []
        url = request.meta.get("redirect_urls", [request.url])[0]
        if kind == "html" and isinstance(response, TextResponse):
            tree, title, fp, error_like = self._html_facts(response)
            self._record(request, response, None, fp, title, error_like)
            final = normalise_url(response.url) or response.url
            if final in self.parsed_final or tree is None:
                return []
            self.parsed_final.add(final)
            self.job.stats.pages += 1
            self.job.store.add_page(
                self.job.run_id, url, response.url, response.status, ctype, response.encoding, depth, title, "html",
                response.body, _kept_headers(response),
            )
            edges = []
            requests = []
            for link in html_links(tree, response.url, response.encoding):
                edges.append(LinkEdge(url, link.url, link.anchor, link.region, link.tag, link.position))
                req = self._target(link.url, depth + 1, link.tag)
                if req is not None:
                    requests.append(req)
            self.job.store.add_links(self.job.run_id, edges)
            self.job.stats.links += len(edges)
            return requests
        if "image/svg+xml" in ctype and purpose == "page":
            # A page that is an SVG document: stored (kind ``svg``) so the browser checks audit it.
            self._record(request, response, None)
            self.job.store.add_page(
                self.job.run_id, url, response.url, response.status, ctype, None, depth, "", "svg", response.body
            )
            self.job.stats.pages += 1
            return []
        # an attachment (or a page URL that served one)
        self._record(request, response, None)
        if kind in PARSEABLE_ATTACHMENTS or kind in ("doc", "xls", "wps", "ofd", "txt", "csv"):
            self.job.store.add_page(
                self.job.run_id, url, response.url, response.status, ctype, None, depth, "", kind, response.body
            )
            self.job.stats.pages += 1
        if kind in PARSEABLE_ATTACHMENTS:
            edges, requests = [], []
            for i, raw in enumerate(attachment_links(kind, response.body), start=1):
                target = normalise_url(raw)
                if target is None:
                    continue
                edges.append(LinkEdge(url, target, "", Region.CONTENT, "attachment", i))
                req = self._target(target, depth + 1, "attachment")
                if req is not None:
                    requests.append(req)
            self.job.store.add_links(self.job.run_id, edges)
            self.job.stats.links += len(edges)
            return requests
        return []


def crawl_settings(job: CrawlJob) -> dict[str, Any]:
    cfg = job.config
    settings: dict[str, Any] = {
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_ENABLED": False,
        "STATS_DUMP": False,
        "ROBOTSTXT_OBEY": cfg.obey_robots,
        "CONCURRENT_REQUESTS": max(16, cfg.concurrency * 2),
        "CONCURRENT_REQUESTS_PER_DOMAIN": cfg.concurrency,
        "DOWNLOAD_DELAY": cfg.delay,
        "AUTOTHROTTLE_ENABLED": cfg.delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(cfg.delay, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(cfg.concurrency),
        "DOWNLOAD_TIMEOUT": cfg.timeout,
        "DOWNLOAD_MAXSIZE": cfg.page_max_bytes + 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_FAIL_ON_DATALOSS": False,
        "DOWNLOAD_VERIFY_CERTIFICATES": cfg.verify_tls,
        "RETRY_ENABLED": False,
        "GOVAUDIT_RETRIES": cfg.retries,
        "GOVAUDIT_RETRY_AFTER_CAP": cfg.retry_after_cap,
        # Only the middlewares an audit uses: each one runs on every request, and Scrapy's
        # per-request overhead is most of the crawl's CPU time on a fast site.
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
            "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
            "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
            PoliteRetryMiddleware: 550,
        },
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": None,
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
        },
        "EXTENSIONS": {
            "scrapy.extensions.logcount.LogCount": None,
            "scrapy.extensions.memdebug.MemoryDebugger": None,
            "scrapy.extensions.feedexport.FeedExporter": None,
            "scrapy.extensions.logstats.LogStats": None,
            "scrapy.extensions.spiderstate.SpiderState": None,
        },
        "REDIRECT_MAX_TIMES": 10,
        "METAREFRESH_MAXDELAY": 10,
        "COOKIES_ENABLED": True,
        "USER_AGENT": cfg.user_agent,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
        },
        "TWISTED_DNS_RESOLVER": make_twisted_resolver_class(job.resolver),
        "CLOSESPIDER_TIMEOUT": cfg.time_budget,
        "HTTPERROR_ALLOW_ALL": True,
        "MEMUSAGE_ENABLED": False,
        "REACTOR_THREADPOOL_MAXSIZE": 8,
        "SCHEDULER_DEBUG": False,
        # Callbacks schedule their requests with engine.crawl() and yield nothing, so Scrapy's
        # per-output worker pool (CONCURRENT_ITEMS tasks per callback) would be pure overhead.
        "CONCURRENT_ITEMS": 1,
    }
    return settings


def run_crawl(job: CrawlJob) -> CrawlResult:
    """Crawl the site, store everything, then judge every distinct link target."""

    from scrapy.crawler import AsyncCrawlerProcess

    settings = crawl_settings(job)
    settings["LOG_INSTALL_ROOT_HANDLER"] = False
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(AuditSpider)
    process.crawl(crawler, job=job)
    process.start()
    spider: AuditSpider = crawler.spider
    stats = crawler.stats.get_stats() if crawler.stats else {}
    close_reason = spider.stop_reason or str(stats.get("finish_reason", "finished"))
    job.store.flush()
    counts = judge_links(job, spider)
    coverage = {
        "pages_found": len(spider.seen),
        "pages_fetched": spider.pages_fetched,
        "pages_scheduled": spider.pages_scheduled,
        "pages_stored": job.stats.pages,
        "levels": spider.level + 1,
        "skipped": dict(sorted(spider.skip_counts.items())),
        "limited_by": sorted(spider.limited_by),
        "close_reason": close_reason,
        "bytes": job.stats.bytes,
        "link_targets": len(spider.targets),
    }
    return CrawlResult(spider.homepage_url, spider.start_error, close_reason, coverage, counts)


def judge_links(job: CrawlJob, spider: AuditSpider) -> dict[str, int]:
    counts = {str(v): 0 for v in Verdict}
    for url in sorted(spider.targets):
        outcome = spider.outcomes.get(url)
        if outcome is None and url not in spider.seen:
            continue  # never fetched by choice (external checks off): no verdict to give
        result = judge(url, outcome, spider.calibration, spider.homepage_url, spider._in_scope(url))
        counts[str(result.verdict)] += 1
        job.store.add_link_result(job.run_id, result)
    job.store.flush()
    return counts
