"""Progress of a running audit: a live panel on a terminal, plain log lines everywhere else.

The monthly audit runs from cron or a systemd timer, where stdout/stderr are a file or the journal:
a rich ``Live`` display there writes cursor-control escapes and redraws into the log. So the live
panel is used only when both stdout and stderr are terminals; otherwise a small thread prints one
self-contained line every ``GOVAUDIT_PROGRESS_INTERVAL`` seconds (default 5) to stderr, e.g.::

    2026-12-01T20:13:25+08:00 govaudit progress: stage=crawl pages=120 links_checked=80 link_targets=201 …
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_INTERVAL = 5.0


def interactive() -> bool:
    """A person is watching: both streams are terminals (``| tee``, cron, systemd are not)."""

    return sys.stdout.isatty() and sys.stderr.isatty()


def interval() -> float:
    try:
        return max(0.1, float(os.environ.get("GOVAUDIT_PROGRESS_INTERVAL", DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


def progress_line(job: Any) -> str:
    """One plain line (ASCII keys, no colour) a log reader or ``grep`` can follow."""

    s = job.stats
    elapsed = max(0.001, time.time() - s.started)
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).isoformat(timespec="seconds")
    return (f"{now} govaudit progress: stage={s.stage} pages={s.pages} links_checked={s.checked} "
            f"link_targets={s.targets} suspected_dead={s.suspect_dead} findings={s.findings} "
            f"elapsed={elapsed:.0f}s")


class PlainProgress:
    """Prints :func:`progress_line` every ``every`` seconds until :meth:`stop` (then once more)."""

    def __init__(self, job: Any, every: float | None = None, stream: Any = None) -> None:
        self.job = job
        self.every = every if every is not None else interval()
        self.stream = stream or sys.stderr
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="govaudit-progress", daemon=True)

    def start(self) -> PlainProgress:
        self._thread.start()
        return self

    def _emit(self) -> None:
        try:
            print(progress_line(self.job), file=self.stream, flush=True)
        except (OSError, ValueError):  # the log went away (closed pipe): the audit goes on
            self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._emit()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=2)
        self._emit()
