"""Imported once by the fleet's forkserver (:mod:`auditor.fleet.launch`), never by the fleet itself.

It does, once per fleet worker, the work every audit's interpreter otherwise repeats: the imports of
``govaudit check`` (Scrapy, Twisted's modules, SQLAlchemy, lxml, openpyxl, Jinja), every plugin entry
point, the rule declarations (validated against their JSON Schema, memoised), the national rule pack and
the compiled HTML report template. Forked children inherit all of it copy-on-write.

It must not install Twisted's reactor: the reactor cannot be restarted and each forked audit installs
its own (Scrapy's asyncio reactor). That is checked here — a preload that installed one would make
every audit fail, so the forkserver refuses to start instead (the runner then reports it).
"""

from __future__ import annotations

import os
import sys

# what the supervisor sets for an exec'd child; rich decides on colour when its consoles are created
# (at import), so it must be set before auditor.cli.main is imported here
os.environ.setdefault("NO_COLOR", "1")
os.environ["TERM"] = "dumb"
os.environ.setdefault("PYTHONIOENCODING", "utf-8")


def warm() -> None:
    import auditor.cli.main  # noqa: F401 - the typer app and its command modules
    import auditor.cli.newmedia  # noqa: F401
    import auditor.crawl.conditional  # noqa: F401
    import auditor.crawl.spider  # noqa: F401 - Scrapy and Twisted modules (not the reactor)
    import auditor.engine  # noqa: F401
    from auditor.crawl.startup import import_download_handler
    from auditor.pluginmanager import collect_parameters, collect_rules, get_plugin_manager
    from auditor.rulepacks import load_pack

    import_download_handler()
    import scrapy.crawler  # noqa: F401 - what run_crawl imports when it starts (not the reactor)

    _scrapy_components()
    _database_dialects()
    pm = get_plugin_manager()  # imports every plugin module
    load_pack("national", collect_parameters(pm))  # declarations and pack: memoised (both spellings used)
    load_pack("national")
    collect_rules(pm)
    from auditor.reports.writers import warm_templates

    warm_templates()


def _scrapy_components() -> None:
    """Import the classes Scrapy's default settings name (extensions, middlewares, handlers, scheduler
    …): a crawler loads them by dotted path when it starts, i.e. in every audit. Importing is all
    this does — none is instantiated, no reactor is touched."""

    from scrapy.settings import default_settings
    from scrapy.utils.misc import load_object

    paths: list[str] = []
    for name in dir(default_settings):
        value = getattr(default_settings, name)
        if name.endswith("_BASE") and isinstance(value, dict):
            paths += [p for p in (value.values() if name == "DOWNLOAD_HANDLERS_BASE" else value) if isinstance(p, str)]
        elif isinstance(value, str) and value.startswith("scrapy.") and value.count(".") >= 2:
            paths.append(value)
    for path in paths:
        try:
            load_object(path)
        except Exception:  # noqa: BLE001, S112 - an optional component (missing extra) is the audit's business
            continue


def _database_dialects() -> None:
    import contextlib

    import sqlalchemy

    for url in ("sqlite://", "postgresql+psycopg://localhost/x"):  # dialect and DB-API imports, no connection
        with contextlib.suppress(Exception):
            sqlalchemy.create_engine(url).dispose()


warm()
if "twisted.internet.reactor" in sys.modules:  # pragma: no cover - a regression in an import above
    raise RuntimeError("preload installed Twisted's reactor: forked audits could not start theirs")
