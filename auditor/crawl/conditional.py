"""Incremental re-audit: what the previous run of the same site already knows, reused when the
site says nothing changed.

Before the crawl (:func:`prepare`), every page and attachment the previous complete or partial run
fetched with a validator (``ETag`` / ``Last-Modified``, answered 2xx without a redirect) is asked
again with a *conditional* GET (``If-None-Match`` / ``If-Modified-Since``) by a lean asyncio client
(aiohttp; Scrapy's per-request machinery is most of a crawl's CPU time, see bench/README.md). A
``304 Not Modified`` marks the URL *unchanged*; anything else (200, an error, a timeout) leaves it
to the ordinary crawl, with its retries and rules.

During the crawl the spider hands each request to :meth:`Reuse.serve` first. For an unchanged page
it writes the previous run's fetch (a real request was made: ``fetched_at`` is now, the header
``x-govaudit-conditional: 304`` says how it was obtained; the body hash is the previous one),
copies its stored page row (the body as stored) inside the database (``INSERT … SELECT``: it never
passes through Python), writes one *reference* to its link edges instead of copying them
(:mod:`auditor.store.edges`: ≈36 edge rows a page were most of an unchanged re-audit's time), writes
again what the crawl recorded about that page's body (``crawl.fault`` records — a charset mismatch, a
corrupt attachment — and the ``too_large`` skip of an attachment over the cap), and triages its links
exactly as if the page had just been parsed — the BFS level order, the page budget and the set of
pages audited are the same as a full crawl's, so the findings are too. Link targets the previous
run judged **ok**, checked (really, not reused) within ``links.verdict_cache_days`` of the rule
pack (national default 0: off — a target that broke since would read ok, and the findings would no
longer be a full re-audit's), reuse that fetch unchanged (``fetched_at`` stays the check's time, so the limit counts from
the real check); dead, unverifiable and failed targets are always checked again. The homepage,
the calibration probe and the sitemap are always fetched.

Nothing here judges anything: the link-judging stage and the checks read the stored rows as they
would after a full crawl. ``--no-incremental`` turns it all off (a full re-audit).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from auditor.crawl.pipeline import CopyItem, RecordItem, RowItem, SkipItem, write_item
from auditor.store.database import fetches, link_results, links, pages, records, runs, skips
from auditor.store.edges import ref_row

log = logging.getLogger(__name__)

REUSED_HEADER = "x-govaudit-conditional"
REVALIDATE_PURPOSES = ("page", "attachment")
# One look-up per reused page (its previous edges), on one DB-API connection held for the crawl:
# through SQLAlchemy's execution layer it was most of the time a reused page costs. The previous
# run's page rows and references are read once in prepare(); the page row is copied inside the
# database (CopyItem → INSERT … SELECT), the edges are referred to (auditor.store.edges).
_LINKS_SQL = "SELECT target_url, tag FROM links WHERE run_id = ? AND source_url = ? AND origin_run IS NULL ORDER BY id"


@dataclass
class Reuse:
    """The previous run's facts the current crawl may reuse (see the module docstring)."""

    store: Any
    run_id: str
    previous_run: str
    unchanged: dict[str, dict[str, Any]] = field(default_factory=dict)  # url → previous fetch row
    cached_ok: dict[str, dict[str, Any]] = field(default_factory=dict)  # url → previous check fetch row
    page_rows: dict[str, tuple[int, str]] = field(default_factory=dict)  # url → previous (page id, kind)
    edge_origin: dict[str, str] = field(default_factory=dict)  # url → run holding its previous edges, if not the previous
    faults: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # url → previous crawl.fault data
    too_large: set[str] = field(default_factory=set)  # attachments the previous run skipped as too_large
    asked: int = 0  # conditional requests sent
    not_modified: int = 0  # of which answered 304
    served_pages: int = 0
    served_checks: int = 0
    revalidate_seconds: float = 0.0
    pipeline: Any = None  # the crawl's StorePipeline (set once the crawl runs)
    _raw: Any = None  # DB-API connection for the lookups
    _marker: str = "?"

    def summary(self) -> dict[str, Any]:
        return {"previous_run": self.previous_run, "conditional_requests": self.asked,
                "not_modified": self.not_modified, "pages_reused": self.served_pages,
                "verdicts_reused": self.served_checks, "revalidate_seconds": round(self.revalidate_seconds, 2)}

    # -- during the crawl ---------------------------------------------------------------------
    def serve(self, spider: Any, request: Any) -> bool:
        """Stand in for ``request`` from the previous run when allowed; False: fetch it."""

        meta = request.meta
        purpose = meta.get("ga_purpose")
        self.pipeline = spider.job.pipeline
        if purpose in REVALIDATE_PURPOSES and request.method == "GET":
            prior = self.unchanged.pop(request.url, None)
            if prior is not None:
                self._serve_page(spider, request, prior)
                return True
            return False
        if purpose == "check":
            prior = self.cached_ok.pop(request.url, None)
            if prior is not None:
                if meta.get("ga_skip"):
                    self._write(SkipItem(request.url, meta["ga_skip"]))
                self._write_fetch(prior, depth=meta.get("ga_depth"), fetched_at=prior.get("fetched_at"))
                spider.job.stats.checked += 1
                self.served_checks += 1
                return True
        return False

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self._raw is None:
            self._raw = self.store.engine.raw_connection()
            self._marker = "?" if self.store.engine.dialect.paramstyle == "qmark" else "%s"
        cur = self._raw.cursor()
        try:
            cur.execute(sql if self._marker == "?" else sql.replace("?", self._marker), params)
            return list(cur.fetchall())
        finally:
            cur.close()

    def close(self) -> None:
        """Return the lookup connection (after the crawl)."""

        if self._raw is not None:
            self._raw.close()
            self._raw = None

    def _write(self, item: Any) -> None:
        """Through the crawl's item pipeline when it is open (its commits, its writer),
        else straight into the store's buffers."""

        if self.pipeline is not None:
            self.pipeline.process_item(item)
        else:
            write_item(self.store, self.run_id, item)

    def _write_fetch(self, prior: dict[str, Any], depth: int | None, fetched_at: float | None, mark: bool = False) -> None:
        row = {k: v for k, v in prior.items() if k != "id"}
        row["depth"] = depth
        row["fetched_at"] = fetched_at or time.time()
        if mark:
            row["headers"] = {**(row.get("headers") or {}), REUSED_HEADER: "304"}
        self._write(RowItem("fetches", row))

    def _serve_page(self, spider: Any, request: Any, prior: dict[str, Any]) -> None:
        meta = request.meta
        purpose = meta["ga_purpose"]
        depth = meta.get("ga_depth") or 0
        self._write_fetch(prior, depth=depth, fetched_at=None, mark=True)
        spider.job.stats.checked += 1
        self.served_pages += 1
        if purpose == "page":
            spider.pages_fetched += 1
        out: list[Any] = []
        url = request.url
        if url in self.too_large:
            out.append(spider._skip(url, "too_large"))
        found = self.page_rows.get(url)
        final = prior.get("final_url") or url
        if found and final not in spider.parsed_final:
            page_id, kind = found
            if kind == "html":
                spider.parsed_final.add(final)
            # what the crawl saw in this body is true of the same body now (findings as a full re-audit's)
            out.extend(RecordItem("crawl.fault", url, data) for data in self.faults.get(url, ()))
            self._write(CopyItem("pages", (self.run_id, depth, page_id)))
            spider.job.stats.pages += 1
            # a reference never points at a reference: to the run that last parsed this page
            origin = self.edge_origin.get(url, self.previous_run)
            edges = self._query(_LINKS_SQL, (origin, url))
            if edges:
                self._write(RowItem("links", ref_row(url, origin)))
                spider.job.stats.links += len(edges)
                for target, tag in edges:
                    spider._target(target, depth + 1, tag, out)
        if purpose == "page":
            spider.pages_inflight -= 1
            out.extend(spider._maybe_promote())
        spider._dispatch_all(out, self._write)


# -- before the crawl ---------------------------------------------------------------------------

def previous_run(store: Any, site: str, current: str) -> str | None:
    """The latest finished (complete or partial) run of ``site`` other than ``current``."""

    with store.engine.connect() as conn:
        row = conn.execute(select(runs.c.id).where(runs.c.site == site, runs.c.id != current,
                                                   runs.c.status.in_(("complete", "partial")))
                           .order_by(runs.c.started_at.desc()).limit(1)).first()
    return row[0] if row else None


def _validators(headers: dict[str, Any] | None) -> dict[str, str]:
    h = headers or {}
    out = {}
    if h.get("etag"):
        out["If-None-Match"] = str(h["etag"])
    if h.get("last-modified"):
        out["If-Modified-Since"] = str(h["last-modified"])
    return out


def prepare(store: Any, run_id: str, config: Any, pack: Any, resolver: Any) -> Reuse | None:
    """Load the previous run's candidates and revalidate its pages; None without a previous run."""

    prev = previous_run(store, config.host, run_id)
    if prev is None:
        return None
    reuse = Reuse(store, run_id, prev)
    days = pack.value("links.verdict_cache_days")
    horizon = time.time() - float(days) * 86400 if isinstance(days, int | float) and days > 0 else None
    last: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(select(fetches).where(fetches.c.run_id == prev).order_by(fetches.c.id)).mappings():
            if row["purpose"] in ("page", "attachment", "check"):
                last[row["url"]] = dict(row)  # later answers win, as in the link-judging stage
        reuse.page_rows = {}
        for url, page_id, kind in conn.execute(select(pages.c.url, pages.c.id, pages.c.kind)
                                               .where(pages.c.run_id == prev).order_by(pages.c.id.desc())):
            reuse.page_rows[url] = (page_id, kind)  # the first row of a URL wins, as a look-up by id would
        reuse.edge_origin = {url: origin for url, origin in conn.execute(
            select(links.c.source_url, links.c.origin_run).where(links.c.run_id == prev, links.c.origin_run.is_not(None)))}
        for row in conn.execute(select(records.c.key, records.c.data).where(
                records.c.run_id == prev, records.c.kind == "crawl.fault").order_by(records.c.id)):
            reuse.faults.setdefault(row.key, []).append(row.data)
        reuse.too_large = {r[0] for r in conn.execute(select(skips.c.url).where(
            skips.c.run_id == prev, skips.c.reason == "too_large"))}
        ok = set()
        if horizon is not None:
            ok = {r[0] for r in conn.execute(select(link_results.c.target_url).where(
                link_results.c.run_id == prev, link_results.c.verdict == "ok"))}
    candidates: dict[str, dict[str, str]] = {}
    for url, row in last.items():
        status = row.get("status") or 0
        clean = not row.get("error_kind") and not row.get("redirects") and 200 <= status < 300
        if row["purpose"] in REVALIDATE_PURPOSES and clean and row.get("depth") != 0 and (row.get("final_url") or url) == url:
            conditions = _validators(row.get("headers"))
            if conditions:
                candidates[url] = conditions
                continue
        if (row["purpose"] == "check" and url in ok and horizon is not None and (row.get("fetched_at") or 0) >= horizon
                and REUSED_HEADER not in (row.get("headers") or {})):
            reuse.cached_ok[url] = row
    started = time.perf_counter()
    if candidates:
        answers = asyncio.run(_revalidate(candidates, config, resolver))
        reuse.asked = len(candidates)
        for url, status in answers.items():
            if status == 304:
                reuse.unchanged[url] = last[url]
        reuse.not_modified = len(reuse.unchanged)
    reuse.revalidate_seconds = time.perf_counter() - started
    log.info("incremental: %d of %d pages unchanged since run %s, %d ok verdicts reusable",
             len(reuse.unchanged), len(candidates), prev, len(reuse.cached_ok))
    return reuse


class _PinnedResolver:
    """aiohttp resolver over the audit's :class:`~auditor.network.resolve.Resolver` (``--resolve``
    pins, the configured DNS server, the SSRF guard), so the revalidation connects where the crawl would."""

    def __init__(self, resolver: Any):
        self.resolver = resolver

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        # through the SSRF guard like every fetch: a refused host fails here and the crawl reports it
        addrs = await asyncio.get_running_loop().run_in_executor(None, self.resolver.connectable, host)
        return [{"hostname": host, "host": a, "port": port, "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for a in addrs]

    async def close(self) -> None:
        return None


async def _revalidate(candidates: dict[str, dict[str, str]], config: Any, resolver: Any) -> dict[str, int | None]:
    """Conditional GET of every candidate, ``config.concurrency`` at a time; URL → status (None:
    failed — the crawl fetches it with its own retries)."""

    import aiohttp

    answers: dict[str, int | None] = {}
    connector = aiohttp.TCPConnector(limit=max(1, config.concurrency), resolver=_PinnedResolver(resolver),  # type: ignore[arg-type]
                                     ssl=None if config.verify_tls else False)
    timeout = aiohttp.ClientTimeout(total=config.timeout)
    headers = {"User-Agent": config.user_agent}
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in candidates:
        queue.put_nowait(url)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            url = queue.get_nowait()
            try:
                async with session.get(url, headers=candidates[url], allow_redirects=False) as resp:
                    answers[url] = resp.status
                    if resp.status != 304:
                        await resp.read()  # keep the connection reusable
            except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
                log.debug("revalidation of %s failed: %s", url, exc)
                answers[url] = None

    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:
        await asyncio.gather(*(worker(session) for _ in range(max(1, config.concurrency))))
    return answers
