"""The crawl's per-page CPU work — decoding, the lxml parse, title, soft-404 fingerprint and link
extraction — as one pure function, run either in the Scrapy process or in one worker process.

Why a worker process: a links-only crawl of a fast site is CPU-bound in one Python process (the
GIL), and a profile of it (bench/README.md, "Crawl profile") puts a quarter of that process's time
in parsing and link extraction. Scrapy's own request machinery cannot leave its process, but this
work can: the page callback hands the body to the worker and awaits a compact answer (the page's
facts and its links as plain tuples) while the reactor goes on downloading, so the two cores of an
ordinary server both work. Everything that decides *what* the crawl does next — target triage,
budgets, the run journal, the items — stays in the spider, in the order the pages arrived, so the
breadth-first page set and the stored rows are the same with and without the worker.

The switch: ``GOVAUDIT_PARSE_WORKERS`` (environment, or the Scrapy setting of the same name) is
``0`` (parse in the crawl process) or ``1`` (one worker process); the default is 1 when the machine
has at least two CPUs. Both paths call :func:`run` with the same arguments, so they cannot drift
apart. The worker keeps nothing per page (its memory is flat on a 100,000-page crawl), ignores
SIGINT (the audit's own interrupt handling stops the crawl), and exits when its stdin closes —
also when the crawl process is killed. If it dies, the page it was working on is recorded as a
crawl error (the parser crashed on it), the other waiting pages are sent to a fresh worker, and
after :data:`MAX_RESTARTS` restarts the crawl parses in-process.

The protocol is length-prefixed pickles over the worker's stdin/stdout pipes, read and written by
the asyncio loop Scrapy's reactor runs on (no extra threads in the crawl process). Answers come
back in the order the requests went out (the worker is sequential), so a FIFO of futures pairs them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import logging
import os
import pickle
import re
import select
import signal
import subprocess
import sys
import warnings
import zlib
from typing import Any

from lxml import etree

from auditor.crawl.extract import (
    decode_html,
    fingerprint,
    html_links,
    looks_like_error_page,
    page_title,
    read_attachment_links,
    visible_text,
)

log = logging.getLogger(__name__)

ENV = "GOVAUDIT_PARSE_WORKERS"
MAX_RESTARTS = 3
# a page the parser is still on after this long is given up (the worker killed and restarted): an
# in-process parse could not be stopped at all, one stuck page would hang the whole audit
PAGE_SECONDS = 120.0
_HEADER = 4  # bytes of the big-endian frame length
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

# (encoding, mismatch, parsed, title, fingerprint, error_like, links, packed body); a link is
# (url, anchor, region value, tag, position, attribute, fragment, nav, malformed)
HtmlFacts = tuple[str, "str | None", bool, str, str, bool, list[tuple[Any, ...]], "bytes | None"]
PIPE_BYTES = 1 << 20  # a page body in one write, not 16 partial ones through a 64 KiB pipe


def pack(body: bytes) -> bytes:
    """The body as the store keeps it: zlib at the level of :func:`auditor.store.database.compress`
    (not imported: the worker stays free of SQLAlchemy; a test holds the two equal)."""

    return zlib.compress(body, 3)


def default_workers() -> int:
    """``GOVAUDIT_PARSE_WORKERS`` when set (0 or 1), else 1 on a machine with two CPUs or more."""

    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            return 1 if int(value) > 0 else 0
        except ValueError:
            log.warning("%s=%r is not 0 or 1; using the default", ENV, value)
    return 1 if usable_cpus() >= 2 else 0


def enlarge_pipes(*pipes: Any, size: int = PIPE_BYTES) -> None:
    """Give a helper process's pipes ``size`` bytes of buffer (Linux, up to pipe-max-size; else
    nothing): a page body or a store batch then crosses in one write, not sixteen."""

    for pipe in pipes:
        with contextlib.suppress(OSError, AttributeError, ImportError):
            import fcntl

            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, size)


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's share, not the host's count)."""

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def declared_charset(content_type: str) -> str | None:
    """The ``charset=`` parameter of a Content-Type header, as written (None without one)."""

    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("'\"") or None
    return None


# lxml.html.document_fromstring's parse (the same libxml2 parser and options: lxml.html's parser is
# this one plus a Python element-class lookup) without the lookup: html_facts reads the tree only
# through the _Element API, and the lookup ran in Python for every element proxy made (3 % of the
# worker's time). The tree, and so every text, title and link, is the same.
_HTML_PARSER = etree.HTMLParser()


def _document(text: str) -> Any:
    tree = etree.fromstring(text, _HTML_PARSER)
    if tree is None:
        raise etree.ParserError("Document is empty")  # as lxml.html.document_fromstring says it
    return tree


def html_facts(body: bytes, url: str, content_type: str, links: bool = True) -> HtmlFacts:
    """Everything the crawl reads from an HTML response: the body decoded by validation
    (:func:`auditor.crawl.extract.decode_html`), the lxml document (XHTML with an encoding
    declaration parsed from the bytes), title, soft-404 fingerprint of the visible text, whether it
    reads like an error page, and — with ``links`` (a page, not a link check) — every link as a
    plain tuple (cheap to pickle) and the body compressed for the store. A body lxml cannot parse
    at all gives ``parsed`` False, an empty title and no links."""

    text, encoding, mismatch = decode_html(body, declared_charset(content_type))
    try:
        try:
            tree = _document(text)
        except ValueError:
            # XHTML with an ``<?xml … encoding=…?>`` declaration: lxml refuses it as text. The
            # text is already decoded right; lxml's HTML parser would ignore the declaration in
            # the bytes (a GBK page became mojibake), so the declaration goes, not the decoding.
            tree = _document(_XML_DECLARATION.sub("", text, count=1))
    except (etree.ParserError, ValueError):
        return encoding, mismatch, False, "", fingerprint(""), False, [], None
    title = page_title(tree)
    seen = visible_text(tree)
    found = [(k.url, k.anchor, k.region.value, k.tag, k.position, k.attribute, k.fragment, k.nav, k.malformed)
             for k in html_links(tree, url, encoding)] if links else []
    return (encoding, mismatch, True, title, fingerprint(seen), looks_like_error_page(title, seen), found,
            pack(body) if links else None)


def attachment_facts(kind: str, body: bytes) -> tuple[list[str], str | None]:
    """The links of a PDF/DOCX/XLSX attachment and its fault (:func:`read_attachment_links`)."""

    return read_attachment_links(kind, body)


OPS = {"html": html_facts, "attachment": attachment_facts}


def run(op: str, args: tuple[Any, ...]) -> Any:
    """One unit of page work, the same in the crawl process and in the worker."""

    return OPS[op](*args)


class WorkerError(Exception):
    """The work raised in the worker: ``str()`` is ``"TypeName: message"``, as in-process."""


class WorkerCrashed(Exception):
    """The worker process died while working on this page (the parser crashed on it)."""


class _Gone(Exception):
    """The worker died before it got to this page: send it again."""


class ParseWorker:
    """The crawl process's end of one worker process; :meth:`run` is awaited by page callbacks."""

    def __init__(self, page_seconds: float = PAGE_SECONDS) -> None:
        self.page_seconds = page_seconds
        self.restarts = 0
        self.failed = False  # past MAX_RESTARTS: everything runs in-process
        self.sent = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._writer: asyncio.WriteTransport | None = None
        self._reader: asyncio.ReadTransport | None = None
        self._starting: asyncio.Task[None] | None = None
        self._pending: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._buf = bytearray()
        self._stuck = False  # the worker was killed for overrunning page_seconds on the head page
        self._ready = False  # the worker said it has started (its imports take a second or so)
        self._head_since = 0.0  # when the worker began on the oldest page waiting
        self._watchdog: asyncio.TimerHandle | None = None
        # frames sent in one turn of the event loop go out in one write (fewer system calls, and
        # fewer wake-ups of the worker when several answers arrive together)
        self._outbox: list[bytes] = []
        self._flushing = False

    async def run(self, op: str, args: tuple[Any, ...]) -> Any:
        """``run(op, args)`` in the worker (in-process once the worker has failed for good)."""

        while not self.failed:
            fut = await self._send(op, args)
            try:
                return await fut
            except _Gone:
                continue  # a fresh worker takes it
        return run(op, args)

    async def _send(self, op: str, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        if self._writer is None:
            if self._starting is None:
                self._starting = asyncio.ensure_future(self._start())
            await self._starting
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        if self.failed or self._writer is None:
            fut.set_exception(_Gone())
            return fut
        payload = pickle.dumps((op, args), protocol=pickle.HIGHEST_PROTOCOL)
        if not self._pending:
            self._head_since = loop.time()
        self._pending.append(fut)
        self._outbox.append(len(payload).to_bytes(_HEADER, "big"))
        self._outbox.append(payload)
        if not self._flushing:
            self._flushing = True
            loop.call_soon(self._flush)
        self.sent += 1
        return fut

    def _flush(self) -> None:
        self._flushing = False
        data, self._outbox = b"".join(self._outbox), []
        if data and self._writer is not None:
            self._writer.write(data)

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            # stderr nowhere: what a parser warns about (pypdf's "EOF marker not found") comes back
            # as the page's fault and is recorded by the crawl; the terminal shows no log lines
            proc = subprocess.Popen([sys.executable, "-m", "auditor.crawl.parsework"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
            assert proc.stdin is not None and proc.stdout is not None
            enlarge_pipes(proc.stdin, proc.stdout)
            self._writer, _ = await loop.connect_write_pipe(lambda: _PipeEnd(self, False), proc.stdin)
            self._reader, _ = await loop.connect_read_pipe(lambda: _PipeEnd(self, True), proc.stdout)
            self._proc = proc
            self._ready = False
            self._watchdog = loop.call_later(min(5.0, self.page_seconds / 4), self._watch)
        except OSError as exc:
            log.warning("parse worker could not start (%s): parsing in the crawl process", exc)
            self.failed = True
        finally:
            self._starting = None

    def _watch(self) -> None:
        """Every few seconds: is the worker still on the same page after ``page_seconds``? Then
        only that page is stuck (the ones queued behind it wait on): the worker is killed, its
        pipe closes, :meth:`_lost` fails that page and sends the rest to a fresh worker."""

        self._watchdog = None
        if self._proc is None:
            return
        loop = asyncio.get_running_loop()
        if self._ready and self._pending and loop.time() - self._head_since > self.page_seconds:
            self._stuck = True
            self._proc.kill()
            return
        self._watchdog = loop.call_later(min(5.0, self.page_seconds / 4), self._watch)

    def _data(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        while len(buf) >= _HEADER:
            n = int.from_bytes(buf[:_HEADER], "big")
            if len(buf) < _HEADER + n:
                break
            status, value = pickle.loads(bytes(buf[_HEADER:_HEADER + n]))
            del buf[:_HEADER + n]
            if status == "ready":  # the worker's first frame: from now on page time counts
                self._ready = True
                self._head_since = asyncio.get_running_loop().time()
                continue
            fut = self._pending.popleft()
            self._head_since = asyncio.get_running_loop().time()
            if fut.done():
                continue
            if status == "ok":
                fut.set_result(value)
            else:
                fut.set_exception(WorkerError(value))

    def _lost(self) -> None:
        """The worker's stdout closed: unless we closed it, the worker died (crash, OOM, kill)."""

        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for t in (self._writer, self._reader):
            if t is not None:
                t.close()
        self._writer = self._reader = None
        self._buf = bytearray()
        self._outbox = []  # frames for the dead worker: their pages are sent again below
        pending, self._pending = self._pending, collections.deque()
        if not pending:
            return
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            self.failed = True
        log.warning("parse worker exited (%s) with %d pages waiting", code, len(pending))
        head = pending.popleft()
        if not head.done():
            head.set_exception(WorkerCrashed(
                f"the page parser was still on this page after {self.page_seconds:g} s and was stopped" if self._stuck
                else f"the page parser's process died on this page (exit status {code})"))
        self._stuck = False
        for fut in pending:
            if not fut.done():
                fut.set_exception(_Gone())

    async def close(self) -> None:
        """End the worker (its stdin closes, it exits) and reap it."""

        proc, self._proc = self._proc, None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if proc is None:
            return
        self._flush()
        if self._writer is not None:
            self._writer.close()
        self._writer = None
        for _ in range(50):
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.02)
        else:
            proc.kill()
            proc.wait()
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class _PipeEnd(asyncio.Protocol):
    """Either end of the worker's pipes. Only the reading end's close means the worker is gone:
    the answers it wrote before dying are read first, so none is lost or misattributed."""

    def __init__(self, worker: ParseWorker, reading: bool) -> None:
        self.worker = worker
        self.reading = reading

    def data_received(self, data: bytes) -> None:
        self.worker._data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.reading:
            self.worker._lost()


def main() -> None:
    """The worker: frames in on stdin, answers out on stdout, until stdin closes."""

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the crawl stops us
    logging.disable(logging.CRITICAL)  # faults come back in the answers (see ParseWorker._start)
    gc.set_threshold(50_000, 10, 10)  # a page's link tuples die with its answer (see auditor.crawl.spider._crawl_gc)
    warnings.simplefilter("ignore")
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library printing to stdout must not corrupt the frames
    inp = sys.stdin.buffer
    ready = pickle.dumps(("ready", None))
    out.write(len(ready).to_bytes(_HEADER, "big") + ready)
    out.flush()
    while True:
        head = inp.read(_HEADER)
        if len(head) < _HEADER:
            return
        payload = inp.read(int.from_bytes(head, "big"))
        try:
            op, args = pickle.loads(payload)
            answer: tuple[str, Any] = ("ok", run(op, args))
        except Exception as exc:  # noqa: BLE001 - the crawl records it like an in-process failure
            answer = ("error", f"{type(exc).__name__}: {exc}")
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(len(data).to_bytes(_HEADER, "big") + data)
        if not select.select([inp], [], [], 0)[0]:
            out.flush()  # caught up: answer now; behind: answers leave together (or as the buffer fills)


if __name__ == "__main__":
    main()
