"""Crawl items and the item pipeline that commits them to the evidence store.

The spider (:class:`auditor.crawl.spider.AuditSpider`) only *makes* items for what it saw — one per
fetch, stored page, page's link edges, skipped URL or handling error — and :class:`StorePipeline`, a
Scrapy item pipeline enabled in the crawler settings (``ITEM_PIPELINES``), writes them (each callback
hands its item group to the pipeline directly, see the spider's docstring). Why:

* the pipeline commits in transactions bounded by count *and* by time (``GOVAUDIT_COMMIT_ROWS``,
  ``GOVAUDIT_COMMIT_SECONDS``; 10,000 rows or 1 s by default), so an audit killed with ``kill -9``
  leaves everything but its last second or two in the store. On a fast site the row count is
  reached in about a second, on a slow one the timer commits first. Why not smaller: every
  commit rewrites the link indexes' dirty pages, and ≈30 edges a page land on random pages of
  the target index, so 1,000-row commits cost the writer a third more CPU than 10,000-row ones
  (5,000-page bench site: 5.5 against 3.7 CPU-s; 200-row commits had cost ≈10 % of the crawl).
* the rows are written by one writer process (:mod:`auditor.store.writer`; ``GOVAUDIT_STORE_WRITER``
  ``process``), by a writer thread (``thread``) or on the reactor thread (``inline``); ``auto``, the
  default on two CPUs or more, starts with the thread and moves to the process once the crawl has
  handed over :data:`PROCESS_AFTER_ROWS` rows. The process keeps SQLite's per-row GIL traffic out of
  the crawl process; it is not worth its start-up on a small site.
* the spider makes no judgement the store cannot replay: link verdicts are a later stage over
  the stored fetches (:func:`auditor.linkjudge.judge_run`), so ``govaudit recheck`` can re-judge
  links under another rule pack.

Items are plain slotted dataclasses (Scrapy accepts dataclass items through ``itemadapter``).
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import task

from auditor.crawl.journal import ItemGroup, JournalItem
from auditor.crawl.journal import add as add_journal_rows
from auditor.model import FetchRecord, LinkEdge

log = logging.getLogger(__name__)

DEFAULT_COMMIT_ROWS = 10000
DEFAULT_COMMIT_SECONDS = 1.0
WRITER_BACKLOG = 4  # batches handed to the writer thread and not yet written
WRITER_ENV = "GOVAUDIT_STORE_WRITER"
WRITER_MODES = ("auto", "process", "thread", "inline")
# "auto": the writer thread until this many rows were handed over, then the writer process. A
# process costs ≈0.45 CPU-s to start (its imports): on a 100-page fleet site that was a quarter
# of the site's CPU (30 sites × 100 pages, 2 workers: 2,702 sites/h against 3,231 with the
# thread), while on a big site the thread's GIL traffic is what costs (bench/README.md).
# 50,000 rows ≈ 1,400 pages of 36 links: a few seconds of a fast crawl.
PROCESS_AFTER_ROWS = 50_000


def default_writer() -> str:
    """Where the crawl's rows are written: ``GOVAUDIT_STORE_WRITER`` when set, else ``auto``
    (thread, then :mod:`auditor.store.writer`'s process once the crawl is big) on a machine with
    two CPUs or more, ``thread`` on one."""

    from auditor.crawl.parsework import usable_cpus

    value = os.environ.get(WRITER_ENV, "").strip().lower()
    if value in WRITER_MODES:
        return value
    if value:
        log.warning("%s=%r is not one of %s; using the default", WRITER_ENV, value, "/".join(WRITER_MODES))
    return "auto" if usable_cpus() >= 2 else "thread"


@dataclass(slots=True)
class FetchItem:
    """One HTTP exchange (page, link check, calibration probe, sitemap…), after retries."""

    record: FetchRecord


@dataclass(slots=True)
class PageItem:
    """A response kept whole (HTML page, parseable attachment, SVG document) for the checks."""

    url: str
    final_url: str
    status: int | None
    content_type: str | None
    encoding: str | None
    depth: int | None
    title: str | None
    kind: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    packed: bytes | None = None  # ``body`` already compressed for the store (by the parse worker)


@dataclass(slots=True)
class LinksItem:
    """Every link edge found on one page (one item per page: ≈30 edges, one pipeline call).

    ``rows``: an HTML page's edges as the parse answer gave them — (source, target, anchor, region
    value, tag, position, attribute, fragment) — stored without a :class:`LinkEdge` each (the
    crawl's hottest objects; see :meth:`auditor.store.database.EvidenceStore.add_link_rows`)."""

    source_url: str
    edges: list[LinkEdge] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(slots=True)
class SkipItem:
    """A URL the crawl chose not to audit as a page (budget, depth, external checks off…)."""

    url: str
    reason: str


@dataclass(slots=True)
class RowItem:
    """A row copied whole from another run (incremental re-audit: a reused fetch or page row)."""

    table: str
    row: dict[str, Any]


@dataclass(slots=True)
class CopyItem:
    """Rows of another run copied inside the database (incremental re-audit: a reused page and
    its edges), ``rows`` of them."""

    table: str
    params: tuple[Any, ...]
    rows: int = 1


@dataclass(slots=True)
class ErrorItem:
    """A failure while handling one response: recorded, never fatal to the audit."""

    stage: str
    message: str
    url: str | None = None


@dataclass(slots=True)
class RecordItem:
    """A crawl fact that is neither a fetch nor a page: a body fault the crawl saw (``crawl.fault``:
    corrupt attachment, charset mismatch) or a crawler trap (``crawl.trap``). Stored as a
    ``records`` row of that kind, kept by ``recheck`` (the crawl does not run again)."""

    kind: str
    key: str
    data: dict[str, Any]


def write_item(store: Any, run_id: str, item: Any) -> int | None:
    """Buffer one crawl item's rows in ``store``; the number of rows, None for a foreign item.
    (Also used by :mod:`auditor.crawl.conditional` for what it reuses from the previous run.)"""

    if isinstance(item, FetchItem):
        store.add_fetch(run_id, item.record)
        return 1
    if isinstance(item, LinksItem):
        store.add_links(run_id, item.edges)
        store.add_link_rows(run_id, item.rows)
        return len(item.edges) + len(item.rows)
    if isinstance(item, PageItem):
        store.add_page(run_id, item.url, item.final_url, item.status, item.content_type, item.encoding,
                       item.depth, item.title, item.kind, item.body, item.headers, packed=item.packed)
        return 1
    if isinstance(item, SkipItem):
        store.add_skip(run_id, item.url, item.reason)
        return 1
    if isinstance(item, ErrorItem):
        store.add_error(run_id, item.stage, item.message, url=item.url)
        return 1
    if isinstance(item, RecordItem):
        store.add_record(run_id, None, item.kind, item.key, item.data)
        return 1
    if isinstance(item, JournalItem):
        return add_journal_rows(store, run_id, item)
    if isinstance(item, CopyItem):
        store.add_copy(item.table, item.params)
        return item.rows
    if isinstance(item, RowItem):
        from auditor.store.database import metadata

        store.add_row(metadata.tables[item.table], {**item.row, "run_id": run_id})
        return 1
    return None


class StorePipeline:
    """Writes crawl items to the run's evidence store, committing every N rows or T seconds.

    Rows are buffered in :class:`~auditor.store.database.EvidenceStore`; when ``rows`` rows arrived since
    the last commit, or ``seconds`` passed with rows pending (a timer checks even when no item
    arrives, so a slow site's last pages are not left in memory), the buffered rows are handed
    to one writer — the writer process of :mod:`auditor.store.writer` (``mode`` ``process``), a
    thread here (``thread``) — that inserts them in one transaction. The reactor never waits for
    SQLite (commits, WAL checkpoints, a disk shared with other jobs); one writer keeps the batches —
    and the fetch ids — in crawl order. SQLite runs in WAL mode: a committed batch survives the
    process being killed. ``inline`` writes on the reactor thread (tests; an in-memory database
    gets ``thread``, since another process cannot open it).
    """

    def __init__(self, crawler: Any, rows: int, seconds: float, threaded: bool = True, writer: str | None = None):
        self.crawler = crawler
        # "process": batches go to auditor.store.writer's process; "thread": to a writer thread
        # here; "auto": the thread, then the process past PROCESS_AFTER_ROWS; "inline": written
        # on the reactor thread (tests, and the last resort)
        self.mode = writer if writer in WRITER_MODES else ("thread" if threaded else "inline")
        self.rows = max(1, rows)
        self.seconds = max(0.05, seconds)
        self.pending = 0
        self.last_commit = time.monotonic()
        self.commits = 0
        self.failed_rows = 0
        self.fallbacks = 0  # batches the writer process did not acknowledge, written here instead
        self.rows_handed = 0
        self.switched_after_rows: int | None = None  # "auto": rows the thread wrote before the process took over
        self._timer: task.LoopingCall | None = None
        # bounded: a writer that falls behind (a slow disk) slows the crawl instead of piling
        # batches up in memory
        self._queue: queue.Queue[dict[str, list[dict[str, Any]]] | None] = queue.Queue(maxsize=WRITER_BACKLOG)
        self._writer: threading.Thread | None = None
        self._process: Any = None  # auditor.store.writer.WriterProcess
        self.store: Any = None
        self.run_id = ""
        self._store_batch: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        s = crawler.settings
        return cls(crawler, s.getint("GOVAUDIT_COMMIT_ROWS", DEFAULT_COMMIT_ROWS),
                   s.getfloat("GOVAUDIT_COMMIT_SECONDS", DEFAULT_COMMIT_SECONDS),
                   writer=s.get(WRITER_ENV) or default_writer())

    # Scrapy ≥2.13 calls these without a spider argument (the crawler has it).
    def open_spider(self) -> None:
        job = self.crawler.spider.job
        job.pipeline = self  # what the crawl reuses from a previous run is written through here too
        self.store = job.store
        self.run_id = job.run_id
        self.store.flush()  # anything buffered before the crawl goes first, in order
        # From here the pipeline alone decides when buffered rows leave: the store's own flush at
        # ``EvidenceStore.BATCH`` rows of one table would commit half an item group (a page with
        # 5,000 links stored with 2,000 of them and without its journal ``done`` row, so a kill
        # then leaves a page without links and a resume fetches it again), and would do so from
        # the reactor thread, ahead of the batches still queued for the writer.
        self._store_batch = vars(self.store).get("BATCH")
        self.store.BATCH = sys.maxsize
        if self.mode in ("process", "auto") and not _file_backed(self.store.url):
            self.mode = "thread"  # an in-memory database exists in this process only
        if self.mode == "process":
            self._start_process()
        if self.mode in ("thread", "auto"):
            self._start_thread()
        self._timer = task.LoopingCall(self._commit_if_due)
        self._timer.start(self.seconds / 2, now=False)  # rows wait at most 1.5 × seconds

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.commit()
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        if self._process is not None:
            self._process.close()
            self.failed_rows += self._process.failed_rows
            self.fallbacks = self._process.fallbacks
            self._process = None
        if self._store_batch is None:
            vars(self.store).pop("BATCH", None)  # the class's batch size again, for later stages
        else:
            self.store.BATCH = self._store_batch
        if self.failed_rows:
            self.store.add_error(self.run_id, "crawl", f"{self.failed_rows} crawl rows could not be stored")

    def summary(self) -> dict[str, Any]:
        """For the run's coverage: where the crawl's rows were written, and whether all of them were."""

        return {"mode": self.mode, "commits": self.commits, "rows": self.rows_handed,
                "process_after_rows": self.switched_after_rows,
                "written_here_after_writer_loss": self.fallbacks, "failed_rows": self.failed_rows}

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ItemGroup):
            # one callback's rows (fetch, page, links, journal): never split by a commit, so a
            # journal "done" row is stored with the evidence it stands for or not at all
            n = sum(self._take(member) or 0 for member in item.items)
        else:
            taken = self._take(item)
            if taken is None:
                return item  # not ours: let later pipelines see it
            n = taken
        self.pending += n
        if self.pending >= self.rows or time.monotonic() - self.last_commit >= self.seconds:
            self.commit()
        return item

    def _take(self, item: Any) -> int | None:
        """Buffer one item's rows; the number of rows, or None for an item that is not ours."""

        return write_item(self.store, self.run_id, item)

    def _commit_if_due(self) -> None:
        if self.pending and time.monotonic() - self.last_commit >= self.seconds:
            self.commit()

    def commit(self) -> None:
        """Hand everything buffered to the writer (or write it here when there is no writer)."""

        if self.store is None:
            return
        batch = self.store.take_buffered()
        self.pending = 0
        self.last_commit = time.monotonic()
        if not batch:
            return
        self.commits += 1
        self.rows_handed += sum(len(rows) for rows in batch.values())
        if self.mode == "auto" and self.rows_handed >= PROCESS_AFTER_ROWS:
            self._to_process()
        if self._process is not None:
            self._process.write(batch)
        elif self._writer is not None:
            self._queue.put(batch)
        else:
            self._write(batch)

    def _start_thread(self) -> None:
        self._writer = threading.Thread(target=self._write_loop, name="govaudit-store-writer", daemon=True)
        self._writer.start()

    def _start_process(self) -> None:
        from auditor.store.writer import WriterProcess

        self._process = WriterProcess(self.store)
        if not self._process.alive:
            self._process = None
            self.mode = "thread"
            self._start_thread()

    def _to_process(self) -> None:
        """``auto``: the crawl is big enough — the thread finishes what it was given (batches stay
        in crawl order), then the process takes over."""

        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        self.switched_after_rows = self.rows_handed
        self.mode = "process"
        self._start_process()

    def _write_loop(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            self._write(batch)

    def _write(self, batch: dict[str, list[dict[str, Any]]]) -> None:
        """One transaction; a locked database is retried, and rows that still fail are counted
        (and logged) rather than killing the crawl."""

        from auditor.store.writer import batch_rows, write_with_retries

        message = write_with_retries(self.store, batch)
        if message is not None:
            log.error("storing a batch of crawl rows failed: %s", message)
            self.failed_rows += batch_rows(batch)


def _file_backed(url: str) -> bool:
    """Can another process open this store? (Not an in-memory SQLite database.)"""

    return not (url in ("sqlite://", "sqlite:///:memory:") or url.endswith("/:memory:") or "mode=memory" in url)
