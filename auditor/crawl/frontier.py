"""Speculative fetch-ahead across the breadth-first level barrier.

Why: the crawl is level-synchronous (:mod:`auditor.crawl.spider`): level L+1 is chosen only when
no page of level L is in flight, so the pages audited depend on the site, never on network timing.
But one slow page of level L — a 20 s answer, a 429 with ``Retry-After`` — then leaves the crawler
idle until it ends, on every host of the site.

What: while level L still has pages in flight, the next level's candidates (``next_level``: found
on *finished* level-L pages, so their depth is exactly L+1) are already fetched, smallest URL
first, as ordinary page requests marked speculative (``ga_spec`` in their meta). Nothing is
decided early:

- a speculative answer that arrives before its level is promoted is **held** — the Scrapy
  response (or failure) kept in memory; nothing yielded, triaged or journaled;
- at the barrier the spider selects the level exactly as without fetch-ahead (sorted order, trap
  budgets, page budget). A selected URL whose answer is held is *replayed*: its request goes back
  through Scrapy and :class:`HeldResponseMiddleware` hands it the held answer, so it reaches the
  page callback (or errback) by the normal path; a selected URL still in flight is marked
  admitted and processed normally when it lands; a URL the selection cuts is dropped (held
  answer discarded, or discarded on arrival) and gets the same skip item and link check as
  without fetch-ahead.

So the stored pages, links, skips and findings are those of the crawl without fetch-ahead; only
wall time differs. The run journal never sees a speculative request: its URL stays ``queued``
until the barrier admits it (then one ``pending`` row for the URL), so ``--resume`` after a kill
fetches again every answer that was only held.

Limits (:class:`~auditor.config.AuditConfig`): ``fetch_ahead_pages`` speculative pages held or in
flight at once (0 turns fetch-ahead off: the crawl of before), ``fetch_ahead_bytes`` of held
bodies — an answer that would pass it is discarded on arrival (its URL is fetched again when
admitted), so the held bytes never exceed the cap — and never more than the page budget left.
URLs of a budgeted trap family (calendar, pagination, session ids, growing queries:
:mod:`auditor.crawl.traps`) are never fetched ahead: the barrier may cut them, and their fetches
are what the trap budget bounds. On an incremental re-audit, pages the
previous run says are unchanged are served from it at the barrier and never fetched ahead.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from twisted.python.failure import Failure

if TYPE_CHECKING:  # the spider imports this module
    from scrapy.http import Request

PAGE_PRIORITY = 10  # the spider's page requests (AuditSpider._page_request)
SPEC_PRIORITY = 5  # below the current level's pages, above link checks (0)


class LevelSet(set[str]):
    """The next BFS level: a set (what the spider tests and sorts) that also keeps its members in
    a heap, so fetch-ahead takes the smallest URL not yet taken in O(log n), not a sort per page."""

    def __init__(self, items: Iterable[str] = ()):
        super().__init__(items)
        self.heap: list[str] = sorted(self)

    def add(self, url: str) -> None:
        if url not in self:
            super().add(url)
            heapq.heappush(self.heap, url)

    def update(self, *others: Iterable[str]) -> None:
        for other in others:
            for url in other:
                self.add(url)

    def pop_smallest(self) -> str | None:
        """The smallest member not taken before (it stays a member), or None."""

        while self.heap:
            url = heapq.heappop(self.heap)
            if url in self:
                return url
        return None


@dataclass
class FetchAheadStats:
    """What fetch-ahead did (the run's coverage ``fetch_ahead``); ``held_bytes_peak`` ≤ the cap."""

    requested: int = 0  # speculative requests sent
    used: int = 0  # answers the barrier admitted (held and replayed, or landed after admission)
    replayed: int = 0  # of those, answers that were held
    discarded: int = 0  # answers the barrier cut (the page budget): fetched, never used
    overflow: int = 0  # answers discarded on arrival: the byte cap was reached (fetched again if admitted)
    held_pages_peak: int = 0
    held_bytes_peak: int = 0
    cap_pages: int = 0
    cap_bytes: int = 0


@dataclass(slots=True)
class _Spec:
    request: Request  # as sent: the URL the level holds, its depth
    state: str = "flight"  # flight | held | admitted | replay | dropped
    result: Any = None  # the held Response, or the held Failure
    size: int = 0
    arrived: float = 0.0


class FetchAhead:
    """The spider's speculative requests and held answers (one per crawl)."""

    def __init__(self, spider: Any, pages: int, max_bytes: int):
        self.spider = spider
        self.cap_pages = max(0, int(pages))
        self.cap_bytes = max(0, int(max_bytes))
        self.specs: dict[str, _Spec] = {}
        self.replays: dict[int, Any] = {}  # id(request) → held result, for the middleware
        self.open = 0  # speculative URLs in flight or held
        self.held = 0
        self.held_bytes = 0
        self.stats = FetchAheadStats(cap_pages=self.cap_pages, cap_bytes=self.cap_bytes)

    @property
    def enabled(self) -> bool:
        return self.cap_pages > 0 and self.cap_bytes > 0

    # -- while a level is in flight ---------------------------------------------------------
    def more(self) -> list[Request]:
        """Speculative requests for the smallest next-level URLs, within the caps."""

        sp = self.spider
        if not self.enabled or sp.stop_reason or self.held_bytes >= self.cap_bytes:
            return []
        room = min(self.cap_pages - self.open, sp.cfg.max_pages - sp.pages_scheduled - self.open)
        if self.held:
            # what the answers already in flight will likely take, at the held ones' average size:
            # sending more than the byte cap can hold would only fetch pages to throw away
            average = self.held_bytes / self.held
            room = min(room, int((self.cap_bytes - self.held_bytes) / max(average, 1.0)) - (self.open - self.held))
        out: list[Request] = []
        reuse = sp.job.reuse
        while room > 0:
            url = sp.next_level.pop_smallest()
            if url is None:
                break
            if url in self.specs:
                continue
            if reuse is not None and url in getattr(reuse, "unchanged", ()):
                continue  # served from the previous run at the barrier: nothing to gain
            if sp.traps.budgeted(url):
                continue  # a trap family (calendar, pagination…): its fetches are what the budget bounds
            req = sp._request(url, "page", sp.level + 1, priority=SPEC_PRIORITY)
            req.meta["ga_spec"] = url
            self.specs[url] = _Spec(req)
            self.open += 1
            self.stats.requested += 1
            out.append(req)
            room -= 1
        return out

    def hold(self, result: Any, request: Request) -> list[Request] | None:
        """Called first by the page callback and errback. None: process ``result`` as usual.
        A list: the answer was held or discarded (nothing else may be done with it); the list
        holds any further speculative requests to send."""

        url = request.meta.get("ga_spec")
        spec = self.specs.get(url) if url else None
        if spec is None:
            return None
        if spec.state in ("admitted", "replay"):
            del self.specs[url]
            return None
        if spec.state == "dropped":
            del self.specs[url]
            self.stats.discarded += 1
            return []
        size = len(getattr(result, "body", b"") or b"")
        if self.held_bytes + size > self.cap_bytes:
            # over the memory cap: not kept; its URL is fetched again if the barrier admits it
            del self.specs[url]
            self.open -= 1
            self.stats.overflow += 1
            return self.more()
        spec.state, spec.result, spec.size, spec.arrived = "held", result, size, time.time()
        self.held += 1
        self.held_bytes += size
        self.stats.held_pages_peak = max(self.stats.held_pages_peak, self.held)
        self.stats.held_bytes_peak = max(self.stats.held_bytes_peak, self.held_bytes)
        return []

    # -- at the barrier -----------------------------------------------------------------------
    def admit(self, url: str, level: int) -> list[Request] | None:
        """The barrier selected ``url`` for ``level``. None: not fetched ahead (request it as
        usual). Else the page is counted as scheduled and in flight, its ``pending`` journal row
        written, and the list holds the replay of a held answer (empty while still in flight)."""

        spec = self.specs.get(url)
        if spec is None:
            return None
        if spec.request.meta.get("ga_depth") != level:  # cannot happen; never trust a mismatch
            self._forget(url, spec)
            return None
        sp = self.spider
        sp.pages_scheduled += 1
        sp.pages_inflight += 1
        sp.journal.requested(spec.request)
        self.open -= 1
        self.stats.used += 1
        if spec.state == "flight":
            spec.state = "admitted"
            return []
        # held: the answer goes back through Scrapy to the callback (HeldResponseMiddleware)
        self._release(spec)
        result = spec.result
        # a copy, not the request itself: the callback that held this answer may still be inside
        # Scrapy's scraper, and one Request object scraped twice at once is a KeyError in Scrapy
        # (Scraper.finish_response) that loses the second answer — seen under load in CI
        req = result.request.copy()
        if not isinstance(result, Failure):
            result.request = req  # the callback reads response.request: this one, with its meta
        req.meta["ga_replay"] = True
        req.priority = PAGE_PRIORITY  # nothing to download: process it as soon as the engine can
        # the fetch record's ``elapsed`` is the download's, not the wait at the barrier
        req.meta["ga_started"] = req.meta.get("ga_started", spec.arrived) + (time.time() - spec.arrived)
        self.replays[id(req)] = result
        spec.state, spec.result = "replay", None
        self.stats.replayed += 1
        return [req]

    def drop(self, url: str) -> None:
        """The barrier cut ``url`` (page budget, trap): its answer is never used."""

        spec = self.specs.get(url)
        if spec is not None:
            self._forget(url, spec)

    def take(self, request: Request) -> Any:
        """The held answer of a replayed request (for :class:`HeldResponseMiddleware`)."""

        return self.replays.pop(id(request), None)

    def summary(self) -> dict[str, int]:
        return asdict(self.stats)

    def _release(self, spec: _Spec) -> None:
        if spec.state == "held":
            self.held -= 1
            self.held_bytes -= spec.size

    def _forget(self, url: str, spec: _Spec) -> None:
        if spec.state in ("flight", "held"):
            self.open -= 1
        if spec.state == "flight":
            spec.state = "dropped"  # discarded when it lands
            return
        self._release(spec)
        del self.specs[url]
        self.stats.discarded += 1


class HeldResponseMiddleware:
    """Hands a replayed request its held answer instead of downloading it again.

    First in the chain (before the SSRF guard: the answer was already fetched under it). Scrapy
    still runs every middleware's ``process_response`` / ``process_exception`` on it; those the
    audit uses give the same result a second time (the retry counter and redirect history are the
    request's own, the body is already decompressed)."""

    def __init__(self, crawler: Any):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> HeldResponseMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> Any:
        if not request.meta.get("ga_replay"):
            return None
        held = self.crawler.spider.fetch_ahead.take(request)
        if held is None:
            return None  # nothing held (cannot happen): fetch it
        if isinstance(held, Failure):  # a held download failure: to the errback, as the first time
            raise held.value
        return held
