"""The crawl: Scrapy, in-process, fetching every page once and checking every distinct link target.

Discovery is level-synchronous breadth-first: a level's pages are all fetched before the next
level is scheduled, and each level is scheduled in sorted URL order with the page budget cut at
the same place. The set of pages audited therefore depends on the site, not on network timing,
so monthly audits compare. So that one slow page (a 20 s answer, a 429 wait) does not leave the
crawler idle at the barrier, the next level's known candidates are fetched *ahead* while the level
finishes, and their answers held until the barrier has selected the level exactly as it would
without them (:mod:`auditor.crawl.frontier`: ``_maybe_promote`` fetches ahead, ``_promote``
replays, admits or drops, ``_on_page``/``_on_error`` hold). Stored rows are the same either way.

crawl → items → pipeline: the spider only makes items (:mod:`auditor.crawl.pipeline`: fetch records,
pages, link edges, skips, errors) and :class:`~auditor.crawl.pipeline.StorePipeline`, enabled in the
crawler settings, commits them in small batches as they come. Each callback hands its one item
group to the pipeline itself (:meth:`AuditSpider._hand_over`) instead of returning it through
Scrapy's output processing and item machinery: that path cost ≈7 % of the reactor thread on a
fast site (a spider-middleware chain, an item task and an ``item_scraped`` signal per page), for
a pipeline that stores synchronously anyway; the order of the groups is the callbacks' order. Link verdicts are not made here:
after the crawl, :func:`auditor.linkjudge.judge_run` judges every distinct target from the stored
fetches under the rule pack, the same way ``govaudit recheck`` re-judges them later. The spider
keeps only URL sets in memory.

A page's CPU work (decode, parse, title, fingerprint, link extraction) runs in one worker process
when ``GOVAUDIT_PARSE_WORKERS`` is 1 (:mod:`auditor.crawl.parsework`; the page callback awaits it),
so the crawl uses two cores; what the spider decides from the answer is the same either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import scrapy
from lxml import etree
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, IgnoreRequest, StopDownload
from scrapy.http import Request, Response, TextResponse
from scrapy.logformatter import LogFormatter

from auditor import interrupt
from auditor.config import AuditConfig
from auditor.crawl.extract import (
    PARSEABLE_ATTACHMENTS,
    attachment_type,
    css_urls,
    normalise_url,
    read_attachment_links,
    url_kind,
)
from auditor.crawl.frontier import FetchAhead, HeldResponseMiddleware, LevelSet
from auditor.crawl.journal import CrawlJournal
from auditor.crawl.journal import group as journal_group
from auditor.crawl.journal import restore as restore_frontier
from auditor.crawl.parsework import ParseWorker, WorkerCrashed, WorkerError, default_workers, html_facts
from auditor.crawl.pipeline import (
    DEFAULT_COMMIT_ROWS,
    DEFAULT_COMMIT_SECONDS,
    ErrorItem,
    FetchItem,
    LinksItem,
    PageItem,
    RecordItem,
    SkipItem,
    StorePipeline,
)
from auditor.crawl.traps import TrapGuard
from auditor.crawl.urls import Resolver as HrefResolver
from auditor.linkjudge import judge_run
from auditor.model import FetchRecord, LinkEdge, Region
from auditor.network.resolve import Resolver, make_twisted_resolver_class
from auditor.store.database import EvidenceStore
from auditor.store.journal import Frontier

log = logging.getLogger(__name__)
# faults these libraries log as warnings are recorded by the crawl itself (fetch error kinds,
# crawl.fault records): their log lines would only reach the terminal as noise. Set when the
# spider is built, after Scrapy's logging setup (its dictConfig resets scrapy.* levels).
QUIET_LOGGERS = ("pypdf", "scrapy.downloadermiddlewares.httpcompression", "scrapy.core.downloader.handlers.http11")

CHECK_BODY_LIMIT = 64 * 1024  # enough for a soft-404 verdict; large attachments are never downloaded whole
KEPT_HEADERS = (
    "content-type", "content-length", "server", "location", "retry-after", "last-modified", "etag",
    "strict-transport-security", "content-security-policy", "x-frame-options", "x-content-type-options",
    "referrer-policy", "x-xss-protection", "permissions-policy", "set-cookie",
)
CRAWL_GC_THRESHOLD = 50_000  # allocations between young-generation collections during a crawl (_crawl_gc)
RETRY_STATUS = {408, 429, 500, 502, 503, 504}  # the pack's links.retry_statuses replaces it (crawl_settings)
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
    resume: Frontier | None = None  # the stored frontier of an interrupted run (``--resume``)
    trap_budgets: dict[str, int] = field(default_factory=dict)  # crawl.trap_budgets from the pack
    reuse: Any = None  # auditor.crawl.conditional.Reuse on an incremental re-audit
    pipeline: Any = None  # the StorePipeline, once the crawl has opened


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
        if isinstance(e, PrivateAddressRefused):
            return "private_address", text
        if isinstance(e, IgnoreRequest):
            # HttpCompressionMiddleware refuses a body that decompresses past DOWNLOAD_MAXSIZE
            # (a gzip bomb) with the same exception robots.txt uses: tell them apart by its words
            if "decompression" in text.lower():
                return "decompression_limit", text
            return "robots", text
        if isinstance(e, sx.DownloadCancelledError) and "max size" in text.lower():
            return "too_large", text  # Content-Length above DOWNLOAD_MAXSIZE: cancelled at the headers
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


class PrivateAddressRefused(IgnoreRequest):
    """The SSRF guard refused the request's host (after DNS): never fetched, never retried."""


class AddressGuardMiddleware:
    """Every request — a page, a link check, each hop of a redirect (RedirectMiddleware hands
    the next hop back through the whole chain) — asks the audit's resolver which addresses of
    its host it may use; a host with none allowed is refused before a connection is opened.

    The Twisted resolver the connection uses answers from the same cached lookup (and filters
    through the same guard), so the address checked here is the one connected to."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressGuardMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
        if not host:
            return None
        if host not in self._verdicts:
            resolver: Resolver = self.crawler.spider.job.resolver  # the audit's (settings would copy it)
            self._verdicts[host] = await asyncio.to_thread(resolver.refuses, host)
        message = self._verdicts[host]
        if message:
            raise PrivateAddressRefused(message)
        return None
def redirect_failure(request: Request) -> tuple[str, str]:
    """(error_kind, message) of a request Scrapy dropped at the redirect limit: a loop when the
    chain comes back to a URL it already visited, else too many redirects (never ``robots``)."""

    chain = [*request.meta.get("redirect_urls", []), request.url]
    if len(set(chain)) < len(chain):
        return "redirect_loop", f"redirect loop after {len(chain) - 1} redirects: " + " → ".join(chain[-4:])[:400]
    return "too_many_redirects", f"more than {len(chain) - 1} redirects: " + " → ".join(chain[-3:])[:400]


class PoliteRetryMiddleware:
    """Retries transient failures with backoff, honouring ``Retry-After`` on 429/503.

    Replaces Scrapy's RetryMiddleware, which retries at once and ignores ``Retry-After``.
    DNS and TLS failures are not retried: they do not heal in seconds.
    """

    def __init__(self, retries: int, cap: float, statuses: set[int] | None = None):
        self.retries = retries
        self.cap = cap
        self.statuses = set(RETRY_STATUS if statuses is None else statuses)

    @classmethod
    def from_crawler(cls, crawler: Any) -> PoliteRetryMiddleware:
        statuses = crawler.settings.getlist("GOVAUDIT_RETRY_STATUSES") or None
        return cls(crawler.settings.getint("GOVAUDIT_RETRIES"), crawler.settings.getfloat("GOVAUDIT_RETRY_AFTER_CAP"),
                   {int(x) for x in statuses} if statuses else None)

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
        if response.status not in self.statuses:
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


class QuietLogFormatter(LogFormatter):
    """No log record per response or item: the store is the audit's record, and building a
    DEBUG ``LogRecord`` for each of tens of thousands of items (logging is off anyway) is
    measurable crawl time. Dropped items and errors are still logged."""

    def crawled(self, request: Any, response: Any, spider: Any) -> None:  # type: ignore[override]
        return None

    def scraped(self, item: Any, response: Any, spider: Any) -> None:  # type: ignore[override]
        return None


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
    """Make a callback hand its requests straight to the engine and yield only its items.

    Requests skip Scrapy's output processing (a spider-middleware chain per request: the crawl
    does its own scoping, depth and dedupe); items go the ordinary way, to the item pipeline.
    """

    def wrapper(self: AuditSpider, arg: Any) -> list[Any]:
        items: list[Any] = []
        self._dispatch_all(method(self, arg) or (), items.append)
        return self._hand_over(items)  # one batch with its journal rows (crash-safe resume)

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
        self.next_level: LevelSet = LevelSet()  # a set that also hands fetch-ahead its smallest URLs
        self.level = 0
        self.pages_scheduled = 0
        self.pages_inflight = 0
        self.pages_fetched = 0  # answered (or failed) page fetches; scheduled ones may be dropped by a budget
        self.targets: set[str] = set()
        self.calibrating: set[str] = set()
        self.parsed_final: set[str] = set()
        self.homepage_url: str | None = None
        self.start_error: str | None = None
        self.skip_counts: dict[str, int] = {}
        self.stop_reason: str | None = None
        self.close_reason = "finished"
        self.limited_by: set[str] = set()
        self.journal = CrawlJournal()
        self.traps = TrapGuard(job.trap_budgets)
        self.fetch_ahead = FetchAhead(self, cfg.fetch_ahead_pages, cfg.fetch_ahead_bytes)
        # pages' parse and link extraction in one worker process (auditor.crawl.parsework), set
        # from the GOVAUDIT_PARSE_WORKERS setting in from_crawler; None: in this process
        self.parse_worker: ParseWorker | None = None

    def closed(self, reason: str) -> None:
        """Scrapy's close reason (``finished``, ``closespider_timeout``, ``shutdown``…)."""

        self.close_reason = reason

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> AuditSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._on_bytes, signal=signals.bytes_received)
        crawler.signals.connect(spider._on_headers, signal=signals.headers_received)
        if crawler.settings.getint("GOVAUDIT_PARSE_WORKERS", default_workers()) > 0:
            spider.parse_worker = ParseWorker()
            crawler.signals.connect(spider._close_parse_worker, signal=signals.spider_closed)
        return spider

    async def _close_parse_worker(self, spider: Any = None) -> None:
        """After the last callback (Scrapy closes the spider only when none is still running)."""

        if self.parse_worker is not None:
            await self.parse_worker.close()

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
        cb = (self._on_page_in_worker if self.parse_worker else self._on_page) if purpose in ("page", "attachment") \
            else self._on_check
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
        if self.job.resume is not None:  # --resume: the stored frontier, nothing fetched again
            for req in restore_frontier(self, self.job.resume, normalise_url):
                yield req
            return
        cal = self._calibration_request(self.start_url)
        if cal is not None:
            self.journal.requested(cal)
            yield cal
        self.seen.add(self.start_url)
        home = self._page_request(self.start_url, 0)
        self.journal.requested(home)
        yield home
        parts = urlsplit(self.start_url)
        sitemap = self._request(urlunsplit((parts.scheme, parts.netloc, "/sitemap.xml", "", "")), "sitemap", None)
        self.journal.requested(sitemap)
        yield sitemap
        for col in self.cfg.columns:
            url = normalise_url(col)
            if url and self._in_scope(url) and url not in self.seen:
                self.seen.add(url)
                self.next_level.add(url)
                self.journal.queued(url)

    def _in_scope(self, url: str) -> bool:
        return (urlsplit(url).hostname or "").lower() in self.scope

    # -- target triage ----------------------------------------------------------------------
    def _target(self, url: str, depth: int, tag: str, out: list[Any], nav: bool | None = None, css: bool = False) -> None:
        """Decide what to do with a link target first seen on a page at ``depth - 1``; the
        request and skip item it needs go to ``out``."""

        self.targets.add(url)
        if url in self.seen:
            return
        self.seen.add(url)
        self.job.stats.targets = len(self.targets)
        kind = url_kind(url)
        nav = tag in ("a", "iframe", "frame") if nav is None else nav
        if kind == "resource" and nav and urlsplit(url).path.lower().endswith(".svg"):
            kind = "page"  # an SVG document one navigates to is a page (and is audited as one)
        if self._in_scope(url):
            if css or urlsplit(url).path.lower().endswith(".css"):
                req = self._request(url, "check", depth)  # GET: its url()/@import targets are links too
                req.meta["ga_css"] = True
                out.append(req)
                return
            if kind == "page" and nav:
                if depth <= self.cfg.max_depth:
                    self.next_level.add(url)
                    self.journal.queued(url, depth)
                    return
                out.append(self._skip(url, "max_depth"))
                out.append(self._request(url, "check", depth))
                return
            if kind == "attachment":
                out.append(self._request(url, "attachment", depth))
                return
            out.append(self._request(url, "check", depth, method="HEAD"))
            return
        if not self.cfg.check_external:
            out.append(self._skip(url, "external_not_checked"))
            return
        if kind == "page" and nav:
            out.append(self._request(url, "check", depth))  # GET, body capped: soft 404s need the text
            return
        out.append(self._request(url, "check", depth, method="HEAD"))

    def _skip(self, url: str, reason: str) -> SkipItem:
        self.skip_counts[reason] = self.skip_counts.get(reason, 0) + 1
        if reason in ("max_pages", "max_depth", "trap"):
            self.limited_by.add(reason)
        return SkipItem(url, reason)

    def _skipped_check(self, url: str, reason: str, depth: int) -> Request:
        """A page cut by the budget from the idle signal, whose link is still checked: a signal
        handler cannot yield items, so its skip item comes with its fetch record."""

        self._skip(url, reason)
        req = self._request(url, "check", depth)
        req.meta["ga_skip"] = reason
        return req

    def _promote(self, in_callback: bool = True) -> list[Any]:
        """Schedule the next BFS level in sorted order, cutting at the page budget (the skip
        items of the cut pages go out at once from a callback, with their fetches from idle)."""

        if not self.next_level or self.stop_reason:
            return []
        out_skips: list[Any] = []
        urls = sorted(self.next_level)
        self.next_level = LevelSet()
        ahead = self.fetch_ahead
        self.level += 1
        self.job.stats.level = self.level
        # trap families first (in sorted order, so the pages kept do not depend on timing): a
        # family past its budget is skipped unfetched, the crawl goes on with everything else
        kept = []
        for u in urls:
            if self.traps.admit(u):
                kept.append(u)
                continue
            ahead.drop(u)  # fetched ahead, cut here: its answer is never used
            if in_callback:
                out_skips.append(self._skip(u, "trap"))
            else:
                skip = self._skip(u, "trap")
                self.job.store.add_skip(self.job.run_id, skip.url, skip.reason)  # idle: no item to yield
        urls = kept
        budget = max(0, self.cfg.max_pages - self.pages_scheduled)
        out = out_skips
        for u in urls[:budget]:
            # fetched ahead: its held answer replayed, or its request (still in flight) admitted
            replay = ahead.admit(u, self.level)
            out.extend(replay if replay is not None else [self._page_request(u, self.level)])
        for u in urls[budget:]:
            ahead.drop(u)
            if in_callback:
                out.append(self._skip(u, "max_pages"))
                out.append(self._request(u, "check", self.level))
            else:
                out.append(self._skipped_check(u, "max_pages", self.level))
        return out

    def _on_idle(self, spider: Any = None) -> None:
        requests = self._promote(in_callback=False)
        if requests:
            self._dispatch_all(requests, lambda item: None)  # from idle, _promote makes no items
            self.journal.write(self.job.store, self.job.run_id, self.job.pipeline)  # no items from a signal handler
            raise DontCloseSpider

    def _dispatch_all(self, outputs: Any, emit: Any) -> None:
        """Requests to the engine — unless the previous run stands in for them (incremental
        re-audit, :mod:`auditor.crawl.conditional`) — and items to ``emit``."""

        reuse = self.job.reuse
        for out in outputs:
            if isinstance(out, Request):
                if out.meta.get("ga_spec"):  # fetch-ahead: journaled when the barrier admits it
                    self.crawler.engine.crawl(out)
                elif reuse is None or not reuse.serve(self, out):
                    self.journal.requested(out)  # only what is really sent: a reused page needs no resume
                    self.crawler.engine.crawl(out)
            else:
                emit(out)

    def _on_bytes(self, data: bytes, request: Request, spider: Any = None) -> None:
        got = request.meta.get("ga_bytes", 0) + len(data)
        request.meta["ga_bytes"] = got
        self.job.stats.bytes += len(data)
        purpose = request.meta.get("ga_purpose")
        limit = CHECK_BODY_LIMIT if purpose in ("check", "calibration") and not request.meta.get("ga_css") else self.cfg.page_max_bytes
        if got > limit:
            # a link check needs only the start of the body; a page or attachment over the cap
            # (no Content-Length, or a lying one) is a fault of its own, ``too_large``
            request.meta["ga_truncated"] = "too_large" if purpose in ("page", "attachment") else "capped"
            raise StopDownload(fail=False)
        if self.job.stats.bytes > self.cfg.byte_budget and not self.stop_reason:
            self.stop_reason = "byte_budget"
            self.limited_by.add("byte_budget")

    def _on_headers(self, headers: Any, body_length: int, request: Request, spider: Any = None) -> None:
        """A declared body over the size cap is not downloaded at all: the status and headers
        are kept (a link to a large file is not dead), a page is marked ``too_large``. This also
        keeps Scrapy from cancelling it (DOWNLOAD_MAXSIZE), which would lose the status."""

        if not isinstance(body_length, int) or body_length < 0:
            return
        purpose = request.meta.get("ga_purpose")
        if body_length > self.cfg.page_max_bytes:
            request.meta["ga_truncated"] = "too_large" if purpose in ("page", "attachment") else "capped"
            request.meta["ga_expected"] = body_length
            raise StopDownload(fail=False)

    # -- recording --------------------------------------------------------------------------
    def _record(self, request: Request, response: Response | None, error: tuple[str, str] | None,
                fp: str | None = None, title: str = "", error_like: bool = False,
                headers: dict[str, str] | None = None) -> list[Any]:
        """The fetch item, with every fact the link-judging stage needs (nothing is judged here),
        preceded by the skip item of a budget-cut page (see :meth:`_skipped_check`). ``headers``:
        the response's kept headers when the caller has them already."""
        meta = request.meta
        purpose = meta.get("ga_purpose", "check")
        redirects = list(meta.get("redirect_urls", []))
        if headers is None:
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
            attempts=meta.get("ga_retries", 0) + 1,
            error_like=error_like,
            body_hash=hashlib.sha1(response.body).hexdigest()[:16] if fp is not None and response is not None else None,
            latency=meta.get("download_latency") if response is not None else None,
        )
        if purpose == "page":
            self.pages_fetched += 1
        self.journal.fetched(rec.url, request)
        if error or (rec.status or 0) >= 400:
            self.job.stats.suspect_dead += purpose in ("check", "attachment", "page")
        self.job.stats.checked += 1
        skip = meta.get("ga_skip")
        if skip and not meta.get("ga_fallback"):
            return [SkipItem(rec.url, skip), FetchItem(rec)]
        return [FetchItem(rec)]

    @staticmethod
    def _html_facts(response: Response) -> tuple[str, str, bool]:
        """(title, fingerprint, looks-like-error) of an HTML response (a link check, a calibration
        probe), by the same code a page's parse runs (:func:`auditor.crawl.parsework.html_facts`)."""

        facts = html_facts(response.body, response.url, response.headers.get(b"Content-Type", b"").decode("latin-1"),
                           links=False)
        return facts[3], facts[4], facts[5]

    # -- callbacks --------------------------------------------------------------------------
    @_schedules
    def _on_calibration(self, response: Response):
        fp, title, error_like = None, "", False
        if isinstance(response, TextResponse):
            title, fp, error_like = self._html_facts(response)
        return self._record(response.request, response, None, fp, title, error_like)

    @_schedules
    def _on_sitemap(self, response: Response):
        out = self._record(response.request, response, None)
        if response.status != 200:
            return out
        try:
            root = etree.fromstring(response.body, parser=etree.XMLParser(resolve_entities=False, no_network=True, recover=True))
        except etree.XMLSyntaxError:
            return out
        if root is None:
            return out
        for loc in root.iter("{*}loc"):
            url = normalise_url((loc.text or "").strip())
            if url and self._in_scope(url) and url not in self.seen and url_kind(url) == "page":
                self.seen.add(url)
                self.next_level.add(url)
                self.journal.queued(url)
        return out

    @_schedules
    def _on_check(self, response: Response):
        request = response.request
        if request.method == "HEAD" and (response.status >= 400 or response.status in (405, 501)) and response.status != 429:
            return [*self._record(request, response, None), self._fallback_get(request)]
        if "dataloss" in response.flags:
            return self._record(request, response, _dataloss(response))
        if request.meta.get("ga_css") and 200 <= response.status < 300 and not request.meta.get("ga_truncated"):
            return [*self._record(request, response, None), *self._stylesheet_links(request, response)]
        fp, title, error_like = None, "", False
        if isinstance(response, TextResponse) and 200 <= response.status < 300 and "html" in (
            response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        ):
            title, fp, error_like = self._html_facts(response)
            cal = self._calibration_request(response.url)
            out = self._record(request, response, None, fp, title, error_like)
            return [cal, *out] if cal is not None else out
        return self._record(request, response, None)

    def _too_large(self, request: Request, response: Response) -> tuple[str, str]:
        expected = request.meta.get("ga_expected")
        got = request.meta.get("ga_bytes", len(response.body))
        size = f"Content-Length {expected}" if expected else f"more than {got} bytes without a Content-Length"
        return "too_large", f"body over the {self.cfg.page_max_bytes}-byte page cap ({size}); not parsed"
    def _stylesheet_links(self, request: Request, response: Response) -> list[Any]:
        """The ``url()`` and ``@import`` targets of an on-site stylesheet, as links of the stylesheet
        (source = the CSS URL), each checked like any asset; imported stylesheets are read too."""

        source = request.meta.get("redirect_urls", [request.url])[0]
        try:
            text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
        except (UnicodeDecodeError, AttributeError):
            text = response.body.decode("utf-8", "replace")
        resolve = HrefResolver(response.url, "utf-8")
        depth = (request.meta.get("ga_depth") or 0) + 1
        edges: list[LinkEdge] = []
        out: list[Any] = []
        for i, (raw, how) in enumerate(css_urls(text), start=1):
            r = resolve(raw)
            if r.skipped:
                continue
            target = r.url or r.raw
            edges.append(LinkEdge(source, target, "", Region.CONTENT, "css", i, attribute=how))
            if r.url is not None:
                self._target(r.url, depth, "css", out, nav=False, css=how == "@import")
        out.append(LinksItem(source, edges))
        self.job.stats.links += len(edges)
        return out

    def _fallback_get(self, request: Request) -> Request:
        new = self._request(request.meta.get("redirect_urls", [request.url])[0], "check", request.meta.get("ga_depth"))
        new.meta["ga_fallback"] = True
        if request.meta.get("ga_css"):
            new.meta["ga_css"] = True
        if request.meta.get("ga_skip"):
            new.meta["ga_skip"] = request.meta["ga_skip"]
        return new

    @_schedules
    def _on_error(self, failure: Any):
        request = failure.request
        if (held := self.fetch_ahead.hold(failure, request)) is not None:
            return held  # fetched ahead of its level: kept until the barrier decides
        kind, message = classify_failure(failure.value)
        if kind == "robots" and "max redirections" in str(failure.value):
            kind, message = redirect_failure(request)
        purpose = request.meta.get("ga_purpose")
        self.job.stats.errors += 1
        if request.method == "HEAD" and kind == "reset":
            return [*self._record(request, None, (kind, message)), self._fallback_get(request)]
        out = self._record(request, None, (kind, message))
        if purpose == "page":
            self.pages_inflight -= 1
            if request.meta.get("ga_depth") == 0 and not request.meta.get("ga_refresh_of_start"):
                self.start_error = f"{kind}: {message}"
            out.extend(self._maybe_promote())
        return out

    def _maybe_promote(self) -> list[Any]:
        if self.pages_inflight == 0:
            return self._promote()
        return self.fetch_ahead.more()  # the level is still in flight: fetch the next one ahead

    @_schedules
    def _on_page(self, response: Response):
        return self._page_output(response, None)

    async def _on_page_in_worker(self, response: Response) -> list[Any]:
        """:meth:`_on_page` with the page's parse and link extraction done by the parse worker
        first: the reactor goes on downloading while it works. Nothing of the spider's state is
        touched before the await; everything after it is :meth:`_on_page`'s, on the worker's answer."""

        if self.stop_reason:
            raise CloseSpider(self.stop_reason)
        meta = response.request.meta
        items: list[Any] = []
        if (held := self.fetch_ahead.hold(response, response.request)) is not None:
            # fetched ahead of its level: held (or dropped) before the worker spends a parse on it
            self._dispatch_all(held, items.append)
            return self._hand_over(items)
        pre: tuple[str, Any] | None = None
        try:
            plan = self._parse_plan(response, meta["ga_purpose"], meta.get("ga_depth") or 0)
            if plan is not None and self.parse_worker is not None:
                pre = (plan[0], await self.parse_worker.run(*plan))
        except (WorkerError, WorkerCrashed) as exc:
            pre = ("failed", exc)
        except Exception:  # noqa: BLE001 - the worker's trouble is never the page's: it is parsed here
            log.warning("parse worker failed; parsing %s in the crawl process", response.url, exc_info=True)
        self._dispatch_all(self._page_output(response, pre), items.append)
        return self._hand_over(items)

    def _hand_over(self, items: list[Any]) -> list[Any]:
        """A callback's items, with its journal rows, as one group straight to the store pipeline
        (see the module docstring); returned to Scrapy only when no pipeline is open."""

        groups = journal_group(items, self.journal)
        pipeline = self.job.pipeline
        if pipeline is None or not groups:
            return groups
        for g in groups:
            try:
                pipeline.process_item(g)
            except Exception:  # noqa: BLE001 - as Scrapy's item path would: logged, the crawl goes on
                log.exception("storing the items of one response failed")
                self.job.stats.errors += 1
        return []

    def _page_output(self, response: Response, pre: tuple[str, Any] | None) -> list[Any]:
        if self.stop_reason:
            raise CloseSpider(self.stop_reason)
        request = response.request
        if (held := self.fetch_ahead.hold(response, request)) is not None:
            return held  # fetched ahead of its level: kept until the barrier decides
        meta = request.meta
        purpose = meta["ga_purpose"]
        depth = meta.get("ga_depth") or 0
        out: list[Any] = []
        try:
            out.extend(self._handle_page(response, purpose, depth, pre))
        except Exception as exc:  # noqa: BLE001 - one broken page never stops the audit
            if isinstance(exc, WorkerError):
                log.warning("page handling failed: %s: %s", response.url, exc)
            else:
                log.exception("page handling failed: %s", response.url)
            message = str(exc) if isinstance(exc, WorkerError) else f"{type(exc).__name__}: {exc}"
            out.append(ErrorItem("crawl", message, url=response.url))
        if purpose == "page":
            self.pages_inflight -= 1
            out.extend(self._maybe_promote())
        return out

    @staticmethod
    def _page_kind(response: Response, purpose: str) -> tuple[str, str, str]:
        """(Content-Type as sent, lowercased, kind: html / pdf / docx … / other)."""

        header = response.headers.get(b"Content-Type", b"").decode("latin-1")
        ctype = header.lower()
        kind = attachment_type(response.url, ctype)
        if purpose == "page" and kind != "html" and not ctype and isinstance(response, TextResponse):
            kind = "html"
        return header, ctype, kind

    def _parse_plan(self, response: Response, purpose: str, depth: int) -> tuple[str, tuple[Any, ...]] | None:
        """The page work :meth:`_handle_page` will want for ``response``, for the worker to do
        first. A guess on the generous side (what it leaves out, _handle_page does in-process):
        its answer depends only on the response, so either way the result is the same."""

        meta = response.request.meta
        if not 200 <= response.status < 300 or "dataloss" in response.flags or meta.get("ga_truncated"):
            return None
        if not (self._in_scope(response.url) or depth == 0):
            return None
        header, ctype, kind = self._page_kind(response, purpose)
        if kind == "html" and isinstance(response, TextResponse):
            return "html", (response.body, response.url, header)
        if kind in PARSEABLE_ATTACHMENTS and not ("image/svg+xml" in ctype and purpose == "page"):
            return "attachment", (kind, response.body)
        return None

    def _handle_page(self, response: Response, purpose: str, depth: int, pre: tuple[str, Any] | None = None) -> list[Any]:
        """``pre``: the parse worker's answer for this response (``(op, result)``, or
        ``("failed", exception)``), used in place of doing that work here."""

        request = response.request
        meta = request.meta
        header, ctype, kind = self._page_kind(response, purpose)
        on_site = self._in_scope(response.url)
        ok = 200 <= response.status < 300
        truncated = request.meta.get("ga_truncated")
        if depth == 0 and purpose == "page":
            if ok:
                self.homepage_url = normalise_url(response.url) or response.url
                self.scope.add((urlsplit(response.url).hostname or "").lower())
            elif not meta.get("ga_refresh_of_start"):  # a dead refresh target is a dead link, not a dead site
                self.start_error = f"HTTP {response.status}"
        url = request.meta.get("redirect_urls", [request.url])[0]
        if "dataloss" in response.flags:
            # the body ended before its Content-Length (reset or FIN mid-body): never parsed as a
            # whole page — a cut page would fail footer, date and link checks it does not deserve
            return self._record(request, response, _dataloss(response))
        if truncated:
            if truncated == "too_large" and purpose == "page":
                return self._record(request, response, self._too_large(request, response))
            return [self._skip(url, "too_large"), *self._record(request, response, None)]  # a big attachment: not parsed
        if not (ok and on_site):
            return self._record(request, response, None)
        if kind == "html" and isinstance(response, TextResponse):
            if pre is not None and pre[0] == "failed" and isinstance(pre[1], WorkerCrashed):
                # the parser took its process down on this body: the fetch stands, the page is an error
                return [*self._record(request, response, None), ErrorItem("crawl", str(pre[1]), url=url)]
            encoding, mismatch, parsed, title, fp, error_like, found, packed = _worked(
                pre, "html", lambda: html_facts(response.body, response.url, header))
            kept = _kept_headers(response)
            out = self._record(request, response, None, fp, title, error_like, kept)
            final = normalise_url(response.url) or response.url
            if final in self.parsed_final or not parsed:
                return out
            self.parsed_final.add(final)
            self.job.stats.pages += 1
            if mismatch:
                out.append(RecordItem("crawl.fault", url, {
                    "url": url, "reason": "charset_mismatch", "declared": mismatch, "used": encoding, "title": title,
                    "content_type": ctype}))
            out.append(PageItem(url, response.url, response.status, ctype, encoding, depth, title, "html",
                                response.body, dict(kept), packed))
            rows = []
            for target, anchor, region, tag, position, attribute, fragment, nav, malformed in found:
                rows.append((url, target, anchor, region, tag, position, attribute, fragment))
                if malformed:
                    continue  # stored as written and judged malformed; nothing to fetch
                if tag == "meta" and attribute == "refresh" and depth == 0 and purpose == "page" \
                        and target not in self.seen and not meta.get("ga_refresh_of_start"):
                    # The start page refreshes elsewhere: its own links are audited (above), and the
                    # refresh target is fetched as the homepage's continuation, at depth 0 — on its
                    # host too, as an HTTP redirect of the homepage would be (x.gov.cn → www.x.gov.cn).
                    self.scope.add((urlsplit(target).hostname or "").lower())
                    self.targets.add(target)
                    self.seen.add(target)
                    req = self._page_request(target, 0)
                    req.meta["ga_refresh_of_start"] = True
                    out.append(req)
                    continue
                self._target(target, depth + 1, tag, out, nav=nav)
            out.append(LinksItem(url, rows=rows))
            self.job.stats.links += len(rows)
            return out
        if "image/svg+xml" in ctype and purpose == "page":
            # A page that is an SVG document: stored (kind ``svg``) so the browser checks audit it.
            out = self._record(request, response, None)
            out.append(PageItem(url, response.url, response.status, ctype, None, depth, "", "svg", response.body))
            self.job.stats.pages += 1
            return out
        # an attachment (or a page URL that served one)
        out = self._record(request, response, None)
        if kind in PARSEABLE_ATTACHMENTS or kind in ("doc", "xls", "wps", "ofd", "txt", "csv"):
            out.append(PageItem(url, response.url, response.status, ctype, None, depth, "", kind, response.body))
            self.job.stats.pages += 1
        if kind in PARSEABLE_ATTACHMENTS:
            if pre is not None and pre[0] == "failed" and isinstance(pre[1], WorkerCrashed):
                return [*out, ErrorItem("crawl", str(pre[1]), url=url)]
            edges = []
            found, fault = _worked(pre, "attachment", lambda: read_attachment_links(kind, response.body))
            if fault:
                out.append(RecordItem("crawl.fault", url, {
                    "url": url, "reason": "corrupt_attachment", "kind": kind, "error": fault, "size": len(response.body)}))
            for i, raw in enumerate(found, start=1):
                target = normalise_url(raw)
                if target is None:
                    continue
                edges.append(LinkEdge(url, target, "", Region.CONTENT, "attachment", i))
                self._target(target, depth + 1, "attachment", out)
            out.append(LinksItem(url, edges))
            self.job.stats.links += len(edges)
        return out


def _worked(pre: tuple[str, Any] | None, op: str, here: Any) -> Any:
    """The worker's result for ``op`` when it did it, its failure raised where the work would have
    raised in-process, else the work done here (``here()``)."""

    if pre is not None:
        if pre[0] == op:
            return pre[1]
        if pre[0] == "failed":
            raise pre[1]
    return here()


def _dataloss(response: Response) -> tuple[str, str]:
    declared = response.headers.get(b"Content-Length", b"?").decode("latin-1")
    return "truncated", f"body ended after {len(response.body)} of {declared} bytes (connection closed or reset mid-body)"


def crawl_settings(job: CrawlJob, pack: Any = None) -> dict[str, Any]:
    """Scrapy's settings for an audit; the fetch-time part of the link policy (which statuses are
    retried, the redirect limit) comes from the rule pack's ``links.*`` values when given."""

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
            # a meta refresh is a link of its page (auditor.crawl.extract), never a silent redirect
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            # HTTPCACHE_ENABLED is off: listed, it would only be imported and refuse itself
            "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
            # the User-Agent is one of DEFAULT_REQUEST_HEADERS below: one middleware less per request
            "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
            PoliteRetryMiddleware: 550,
            AddressGuardMiddleware: 1,  # before anything else, on every request and redirect hop
            HeldResponseMiddleware: 0,  # fetch-ahead's held answers, replayed at the level barrier
        },
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": None,
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
            # callbacks hand their requests to the engine directly, so it never saw them; what it
            # still did was a request_scheduled signal handler on every request (redirect hops)
            "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
        },
        "EXTENSIONS": {
            "scrapy.extensions.logcount.LogCount": None,
            "scrapy.extensions.memdebug.MemoryDebugger": None,
            "scrapy.extensions.feedexport.FeedExporter": None,
            "scrapy.extensions.logstats.LogStats": None,
            "scrapy.extensions.spiderstate.SpiderState": None,
            # CoreStats listens to item_scraped: one signal task per item for a counter nobody
            # reads (the close reason comes from AuditSpider.closed instead)
            "scrapy.extensions.corestats.CoreStats": None,
            # off by the settings above anyway; listed they are still imported at every audit
            # (RemoteControl pulls in aiohttp.web: ≈0.4 s)
            "scrapy.extensions.telnet.TelnetConsole": None,
            "scrapy.extensions.memusage.MemoryUsage": None,
            "scrapy.extensions.remote_control.RemoteControl": None,
            **({} if cfg.delay > 0 else {"scrapy.extensions.throttle.AutoThrottle": None}),
        },
        "REDIRECT_MAX_TIMES": 10,
        "METAREFRESH_MAXDELAY": 10,
        "COOKIES_ENABLED": True,
        "USER_AGENT": cfg.user_agent,
        "DEFAULT_REQUEST_HEADERS": {
            "User-Agent": cfg.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
        },
        "TWISTED_DNS_RESOLVER": make_twisted_resolver_class(job.resolver),
        "CLOSESPIDER_TIMEOUT": cfg.time_budget,
        "HTTPERROR_ALLOW_ALL": True,
        "MEMUSAGE_ENABLED": False,
        "REACTOR_THREADPOOL_MAXSIZE": 8,
        "SCHEDULER_DEBUG": False,
        # Callbacks schedule their requests with engine.crawl() and yield only items, which the
        # store pipeline handles synchronously: more than one item worker would be pure overhead,
        # and one keeps the stored fetches in the order they were made (later answers win).
        "CONCURRENT_ITEMS": 1,
        "ITEM_PIPELINES": {StorePipeline: 300},
        "LOG_FORMATTER": QuietLogFormatter,
        "GOVAUDIT_COMMIT_ROWS": DEFAULT_COMMIT_ROWS,
        "GOVAUDIT_COMMIT_SECONDS": DEFAULT_COMMIT_SECONDS,
        # 1: pages parsed (and their links extracted) in a worker process, so the crawl uses a
        # second core; 0: in this process (auditor.crawl.parsework)
        "GOVAUDIT_PARSE_WORKERS": default_workers(),
    }
    if pack is not None:
        settings["REDIRECT_MAX_TIMES"] = int(pack.value("links.redirect_max"))
        settings["GOVAUDIT_RETRY_STATUSES"] = [int(x) for x in pack.value("links.retry_statuses")]
    return settings


BUDGET_OPTIONS = {"max_pages": "max_pages", "max_depth": "max_depth", "time_budget": "time_budget",
                  "byte_budget": "byte_budget"}


def budget_limits(cfg: AuditConfig, limited_by: set[str]) -> dict[str, dict[str, Any]]:
    """``{"max_pages": {"value": 5000, "default": true}, …}`` for every budget in ``limited_by``:
    a default cap that cut the crawl must be visible as such, not look like the site's size."""

    defaults = AuditConfig(as_of="2000-01-01")
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(limited_by):
        attr = BUDGET_OPTIONS.get(name)
        if attr is None:
            continue
        value = getattr(cfg, attr)
        out[name] = {"value": value, "default": value == getattr(defaults, attr)}
    return out


@contextlib.contextmanager
def _crawl_gc() -> Iterator[None]:
    """Python's cyclic collector, tuned for the crawl: a young-generation collection every
    :data:`CRAWL_GC_THRESHOLD` allocations instead of every 700.

    Why: a crawl allocates a few hundred objects per request (Scrapy's requests, responses,
    Deferreds, headers) that die young, and with 15,000 requests queued the older generations are
    large, so the default thresholds ran ≈3,900 young, 350 middle and 32 full collections on the
    20,000-page bench site (bench/README.md). Cycles are still collected — at 50,000 allocations the
    collections are 7 young ones — and the peak RSS was the same (170–175 MB) with and without."""

    before = gc.get_threshold()
    gc.set_threshold(CRAWL_GC_THRESHOLD, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def run_crawl(job: CrawlJob) -> CrawlResult:
    """Crawl the site (the pipeline stores everything), then judge every distinct link target
    from the store under the configured rule pack."""

    from scrapy.crawler import AsyncCrawlerProcess

    from auditor.crawl.startup import import_download_handler
    from auditor.rulepacks import load_pack

    import_download_handler()
    pack = load_pack(job.config.rules)
    if not job.trap_budgets:
        job.trap_budgets = {str(k): int(v) for k, v in (pack.value("crawl.trap_budgets") or {}).items()}
    settings = crawl_settings(job, pack)
    settings["LOG_INSTALL_ROOT_HANDLER"] = False
    if job.config.incremental:
        from auditor.crawl.conditional import prepare

        job.reuse = prepare(job.store, job.run_id, job.config, pack, job.resolver)
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(AuditSpider)
    process.crawl(crawler, job=job)
    try:
        with interrupt.crawling(process) as scrapy_handles_signals, _crawl_gc():  # the audit's guard stops the crawl itself
            process.start(install_signal_handlers=scrapy_handles_signals)
    finally:
        if job.reuse is not None:
            job.reuse.close()
    spider: AuditSpider = crawler.spider
    close_reason = spider.stop_reason or spider.close_reason
    if close_reason == "closespider_timeout":
        spider.limited_by.add("time_budget")
    elif close_reason == "byte_budget":
        spider.limited_by.add("byte_budget")
    for fam in spider.traps.tripped():
        job.store.add_record(job.run_id, None, "crawl.trap", fam.pattern, fam.as_dict())
    job.store.flush()

    counts = judge_run(job.store, job.run_id, job.config, pack)
    coverage = {
        "pages_found": len(spider.seen),
        "pages_fetched": spider.pages_fetched,
        "pages_scheduled": spider.pages_scheduled,
        "pages_stored": job.stats.pages,
        "max_pages": job.config.max_pages,
        "levels": spider.level + 1,
        "skipped": dict(sorted(spider.skip_counts.items())),
        "limited_by": sorted(spider.limited_by),
        # the values of the budgets that cut the crawl, so a report can say "5000 pages (default)"
        "limits": budget_limits(job.config, spider.limited_by),
        "traps": [f.as_dict() for f in spider.traps.tripped()],
        "close_reason": close_reason,
        "bytes": job.stats.bytes,
        "link_targets": len(spider.targets),
        "fetch_ahead": spider.fetch_ahead.summary(),
    }
    if spider.parse_worker is not None:  # how the pages were parsed (auditor.crawl.parsework)
        w = spider.parse_worker
        coverage["parse_worker"] = {"pages": w.sent, "restarts": w.restarts, "in_process_after_failure": w.failed}
    if job.pipeline is not None:  # where the rows were written (auditor.crawl.pipeline, auditor.store.writer)
        coverage["store_writer"] = job.pipeline.summary()
    if job.reuse is not None:
        coverage["incremental"] = job.reuse.summary()
    return CrawlResult(spider.homepage_url, spider.start_error, close_reason, coverage, counts)

