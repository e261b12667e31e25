"""SIGINT and SIGTERM during an audit: stop every stage, keep what was stored, say so.

Why not Scrapy's handlers: they stop the crawl gracefully but stay installed afterwards, so a
Ctrl-C during the measure or check stage only reached Chromium (same process group) and the run
carried on to a "complete" report. :class:`InterruptGuard` owns both signals for the whole audit:

* during the crawl (:meth:`InterruptGuard.crawling`) the first signal asks Scrapy to stop (in-flight
  answers are still stored; the journal keeps the rest for ``--resume``), a second one stops the
  event loop at once;
* afterwards (measure, checks, reports) it raises :class:`AuditInterrupted`, a ``KeyboardInterrupt``
  so that asyncio and Playwright re-raise it instead of logging it, and the engine's per-plugin
  guard (``except Exception``) cannot swallow it.

The engine then writes a partial report marked 中断 and the CLI exits 128 + signal (130, 143).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class AuditInterrupted(KeyboardInterrupt):  # noqa: N818 - it is an interruption, like its base
    """The audit got SIGINT or SIGTERM (``signum``) outside the crawl."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class InterruptGuard:
    """Installs the audit's SIGINT/SIGTERM handlers (main thread only) and remembers the first signal."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.stage = ""
        self._stopper: Callable[[], None] | None = None
        self._forcer: Callable[[], None] | None = None
        self._previous: dict[int, Any] = {}
        self.active = False

    @property
    def name(self) -> str | None:
        return signal.Signals(self.signum).name if self.signum else None

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def install(self) -> InterruptGuard:
        if threading.current_thread() is not threading.main_thread():
            return self  # in-process use from a worker thread: signals stay with the main thread
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        self.active = True
        return self

    def uninstall(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        self.active = False

    def __enter__(self) -> InterruptGuard:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def _handle(self, signum: int, _frame: Any) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if self._stopper is not None:
            (self._stopper if first else (self._forcer or self._stopper))()
            return
        raise AuditInterrupted(self.signum or signum)

    def check(self) -> None:
        """Raise if a signal arrived while it could not be raised (during the crawl)."""

        if self.signum is not None:
            raise AuditInterrupted(self.signum)

    @contextlib.contextmanager
    def crawling(self, process: Any) -> Iterator[None]:
        """While Scrapy's loop runs: a signal stops the crawl instead of raising into the reactor."""

        import asyncio

        def stop() -> None:
            loop = asyncio.get_running_loop()
            loop.call_soon_threadsafe(lambda: loop.create_task(process.stop()))

        def force() -> None:
            loop = asyncio.get_running_loop()
            loop.call_soon_threadsafe(loop.stop)

        self._stopper, self._forcer = stop, force
        try:
            yield
        finally:
            self._stopper = self._forcer = None


_current: InterruptGuard | None = None


def current() -> InterruptGuard | None:
    """The guard of the audit running in this process, if it installed one."""

    return _current if _current is not None and _current.active else None


@contextlib.contextmanager
def guarding() -> Iterator[InterruptGuard]:
    global _current
    guard = InterruptGuard().install()
    previous, _current = _current, guard
    try:
        yield guard
    finally:
        guard.uninstall()
        _current = previous


@contextlib.contextmanager
def crawling(process: Any) -> Iterator[bool]:
    """For :func:`auditor.crawl.spider.run_crawl`: yields whether Scrapy should install its own
    signal handlers (only when no audit guard owns the signals)."""

    guard = current()
    if guard is None:
        yield True
        return
    with guard.crawling(process):
        yield False
