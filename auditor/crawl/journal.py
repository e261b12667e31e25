"""The crawl's side of the run journal (:mod:`auditor.store.journal`): rows as the spider works, and
the spider's state rebuilt from the store for ``govaudit check … --resume``.

Three hooks in the spider, each one line: :meth:`CrawlJournal.queued` where a page URL joins the
next breadth-first level, :meth:`CrawlJournal.requested` where a request is handed to Scrapy, and
:meth:`CrawlJournal.fetched` where an answer (or failure) is recorded. A callback's items and the
journal rows it produced leave the spider as one :class:`ItemGroup`, which the store pipeline
writes in one batch: a ``done`` row is committed with the fetch, page and link rows it stands for,
or not at all, so a ``kill -9`` at any moment leaves a journal that matches the evidence.

:func:`restore` puts a resumed spider where the killed one was: the URLs it had seen, the stored
pages (never fetched again), the hosts it had calibrated, the page budget it had used, the level it
was on, and the requests still unanswered, sent again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from auditor.store.database import fetches, pages, skips
from auditor.store.journal import Frontier, crawl_journal

if TYPE_CHECKING:  # the spider imports this module
    from scrapy.http import Request

FLAG_KEYS = ("ga_skip", "ga_fallback", "ga_host")


@dataclass(slots=True)
class JournalItem:
    """Journal rows for the store pipeline (see :class:`auditor.store.journal.crawl_journal`)."""

    rows: list[dict[str, Any]]


@dataclass(slots=True)
class ItemGroup:
    """Everything one callback produced, committed in one batch (never split by a commit)."""

    items: list[Any] = field(default_factory=list)


class CrawlJournal:
    """Collects journal rows in crawl order until the next item group (or idle signal) takes them."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def queued(self, url: str, depth: int | None = None) -> None:
        self.rows.append({"state": "queued", "url": url, "purpose": "page", "method": "GET", "depth": depth,
                          "flags": {}, "at": time.time()})

    def requested(self, request: Request) -> None:
        meta = request.meta
        self.rows.append({"state": "pending", "url": request.url, "purpose": meta.get("ga_purpose"),
                          "method": request.method, "depth": meta.get("ga_depth"),
                          "flags": {k: meta[k] for k in FLAG_KEYS if meta.get(k)}, "at": time.time()})

    def fetched(self, url: str, request: Request) -> None:
        """``url``: the URL first asked for (before redirects), as in the fetch record."""

        self.rows.append({"state": "done", "url": url, "purpose": request.meta.get("ga_purpose"),
                          "method": request.method, "depth": request.meta.get("ga_depth"), "flags": {},
                          "at": time.time()})

    def item(self) -> JournalItem | None:
        if not self.rows:
            return None
        rows, self.rows = self.rows, []
        return JournalItem(rows)

    def write(self, store: Any, run_id: str, pipeline: Any = None) -> None:
        """From a signal handler, which has no callback output: through ``pipeline`` (the crawl's
        store pipeline: its commits, in :func:`group`'s chunks), else into the store's buffers."""

        if pipeline is not None:
            for g in group([], self):
                pipeline.process_item(g)
            return
        item = self.item()
        if item is not None:
            add(store, run_id, item)


def add(store: Any, run_id: str, item: JournalItem) -> int:
    for row in item.rows:
        store.add_row(crawl_journal, {"run_id": run_id, **row})
    return len(item.rows)


# A level barrier requests a whole level at once: 60,000 "pending" rows in one callback on a
# 100,000-page site. In one group they were one transaction, one pickled batch and one unpickled
# copy in the store writer (its memory never came back down: +80 MB). A pending row only says "sent";
# what a resume needs from it holds row by row (the frontier is pending minus done, plus queued
# pages never requested, and a page's queued row was committed when its link was found), so
# beyond this many they follow the group in groups of their own, which the pipeline commits by
# its row count like any others — after the group, before any answer to those requests.
PENDING_CHUNK = 5_000


def group(items: list[Any], journal: CrawlJournal) -> list[Any]:
    """A callback's output as one :class:`ItemGroup`, its journal rows last (the pending rows of a
    whole level in chunks after it, see :data:`PENDING_CHUNK`)."""

    j = journal.item()
    if j is None:
        return [ItemGroup(items)] if items else []
    pending = [r for r in j.rows if r["state"] == "pending"]
    if len(pending) <= PENDING_CHUNK:
        items.append(j)
        return [ItemGroup(items)]
    rest = [r for r in j.rows if r["state"] != "pending"]
    groups = [ItemGroup([*items, JournalItem(rest)])] if items or rest else []
    groups += [ItemGroup([JournalItem(pending[i:i + PENDING_CHUNK])]) for i in range(0, len(pending), PENDING_CHUNK)]
    return groups


def restore(spider: Any, frontier: Frontier, normalise: Any) -> list[Request]:
    """Rebuild ``spider``'s state from the store and return the requests to send again."""

    job = spider.job
    store, run_id = job.store, job.run_id
    store.flush()
    with store.engine.connect() as conn:
        stored = conn.execute(select(pages.c.url, pages.c.final_url, pages.c.depth, pages.c.kind)
                              .where(pages.c.run_id == run_id).order_by(pages.c.id)).all()
        job.stats.bytes = int(conn.execute(select(func.coalesce(func.sum(fetches.c.size), 0))
                                           .where(fetches.c.run_id == run_id)).scalar_one())
        for reason, n in conn.execute(select(skips.c.reason, func.count()).where(skips.c.run_id == run_id)
                                      .group_by(skips.c.reason)):
            spider.skip_counts[reason] = int(n)
            if reason in ("max_pages", "max_depth"):
                spider.limited_by.add(reason)
    # through the store: edges an incremental run referred to in an earlier run are this run's too
    targets = list(store.iter_link_targets(run_id))
    job.stats.links = store.count("links", run_id)
    spider.targets.update(targets)
    spider.seen.update(targets)
    spider.seen.update(frontier.seen)
    spider.seen.add(spider.start_url)
    spider.calibrating.update(frontier.calibrated_hosts)
    spider.pages_scheduled = frontier.pages_scheduled
    spider.pages_fetched = frontier.pages_fetched
    spider.level = frontier.level
    job.stats.level = frontier.level
    job.stats.targets = len(spider.targets)
    job.stats.pages = len(stored)
    for _url, final_url, depth, kind in stored:
        if kind == "html":
            spider.parsed_final.add(normalise(final_url) or final_url)
        if depth == 0 and spider.homepage_url is None:
            spider.homepage_url = normalise(final_url) or final_url
            spider.scope.add(_host(final_url))
    spider.next_level.update(r["url"] for r in frontier.queued)
    again = []
    for r in frontier.pending:
        purpose = r["purpose"] or "check"
        if purpose == "page":
            spider.pages_inflight += 1
            req = spider._request(r["url"], "page", r["depth"], priority=10)
        else:
            req = spider._request(r["url"], purpose, r["depth"], method=r["method"] or "GET",
                                  priority=100 if purpose == "calibration" else 0)
        req.meta.update(r["flags"])
        again.append(req)
    return again


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower()
