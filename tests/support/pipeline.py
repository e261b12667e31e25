"""A store pipeline outside Scrapy, for tests that feed it item groups by hand."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest


class NoTimer:
    """Stands in for Twisted's ``LoopingCall``: no reactor runs, so the row count alone decides
    when the pipeline commits."""

    def __init__(self, *_a: Any) -> None:
        self.running = False

    def start(self, *_a: Any, **_k: Any) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False


def bare_pipeline(monkeypatch: pytest.MonkeyPatch, store: Any, run_id: str, **options: Any) -> Any:
    """A :class:`StorePipeline` over ``store`` without a crawler or a reactor (``options``: rows,
    seconds, threaded, writer)."""

    from auditor.crawl import pipeline as pl

    monkeypatch.setattr(pl.task, "LoopingCall", NoTimer)
    crawler = SimpleNamespace(spider=SimpleNamespace(job=SimpleNamespace(store=store, run_id=run_id)))
    return pl.StorePipeline(crawler, **options)
