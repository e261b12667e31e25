"""Scrapy's start-up, minus one needless cost.

``scrapy.core.downloader.tls`` (imported with the HTTP download handler when the crawl opens)
builds a deprecated alias with ``scrapy.utils.deprecate.create_deprecated_class``, which calls
``inspect.stack()`` — reading the source of every frame on the stack — and ``inspect.getmodule``,
which walks ``sys.modules`` resolving paths, only to set the alias's ``__module__``. Deep inside a
running audit that is ≈0.3 s of CPU (measured with 30 frames on the stack, a loaded machine);
py-spy put it at a sixth of a 1,000-page incremental re-audit's samples. Scrapy's code catches any exception there and skips the
attribute, so the handler is imported once here with an ``inspect`` whose ``stack()`` refuses.
"""

from __future__ import annotations

import inspect
import sys
import warnings
from typing import Any


class _NoStack:
    """``inspect`` as Scrapy's deprecation helper sees it during the import: no ``stack()``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @staticmethod
    def stack(*_args: Any, **_kwargs: Any) -> list[Any]:
        raise RuntimeError("stack not inspected at import (govaudit start-up)")


def import_download_handler() -> None:
    """Import Scrapy's HTTP/1.1 download handler without the stack inspection (idempotent)."""

    if "scrapy.core.downloader.handlers.http11" in sys.modules:
        return
    from scrapy.utils import deprecate

    real = deprecate.inspect
    deprecate.inspect = _NoStack()  # type: ignore[assignment]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Error detecting parent module")
            import scrapy.core.downloader.handlers.http11  # noqa: F401
    finally:
        deprecate.inspect = real
