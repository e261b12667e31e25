"""Hook specifications: the one place that says what a govaudit plugin can do.

Modelled on pytest's ``hookspec.py``. A plugin is any module or object with functions named like
these and marked with :data:`hookimpl`; built-in checks register through the ``govaudit``
entry-point group, exactly as third-party packages do.

Data flows one way (crawl once → evidence store → checks → findings → score → reports), so
checks never fetch pages: they read what the crawl stored, through :class:`auditor.context.PageView`
and :class:`auditor.context.SiteView`, and ask the engine for extra network probes (DNS, IPv6, a
browser) with ``ctx.probe(name)``. Probes are themselves provided by plugins
(:func:`govaudit_probes`).

Every implementation is called on its own: an exception in one plugin becomes an error record
in the run and never blanks the findings of another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from auditor.config import AuditConfig
    from auditor.context import CheckContext, PageView, SiteView
    from auditor.model import Finding, LinkResult, Rule
    from auditor.reports.base import ReportWriter

PROJECT = "govaudit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def govaudit_rules() -> list[Rule]:
    """Declare the rules this plugin can report.

    Each :class:`~auditor.model.Rule` carries its id (``family.name``), Chinese and English names,
    severity (veto | major | minor | info), basis (regulation and clause, with source and how sure
    it is) and remediation text. ``govaudit rules`` lists them; a finding whose rule was not
    declared is an error. Thresholds are not declared here: they live in rule packs.
    """


@hookspec
def govaudit_configure(config: AuditConfig) -> None:
    """Inspect or adjust the audit configuration before anything runs.

    Raise :class:`auditor.config.ConfigError` with a clear message to refuse a configuration
    (the CLI turns it into exit status 2). Plugin options live in ``config.plugin_options``
    (the ``[plugins.NAME]`` tables of the TOML config file).
    """


@hookspec
def govaudit_enrich(site: SiteView, ctx: CheckContext) -> None:
    """After the crawl, before any check: add to what the crawl stored.

    For work that makes the evidence better for every check rather than judging it: render a
    page whose content needs JavaScript (``ctx.store.replace_page_body``), derive document
    records (``ctx.record``). Runs again on ``govaudit recheck``.
    """


@hookspec
def govaudit_check_page(page: PageView, ctx: CheckContext) -> Iterable[Finding] | None:
    """Check one stored page (HTML or attachment). Called once per stored page, streaming.

    Keep it cheap: it runs on every page of a 100k-page site. Return or yield findings.
    """


@hookspec
def govaudit_check_link(result: LinkResult, ctx: CheckContext) -> Iterable[Finding] | None:
    """Check one distinct link target's verdict (after retries and soft-404 calibration)."""


@hookspec
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterable[Finding] | None:
    """Site-level checks, after the crawl and the per-page and per-link checks.

    ``site`` gives streaming access to pages, links, link verdicts and derived records.
    """


@hookspec
def govaudit_probes() -> dict[str, Callable[[CheckContext], Any]] | None:
    """Offer network probes that checks may ask for with ``ctx.probe(name)``.

    Return ``{name: factory}``; the factory gets the check context (resolver settings, timeouts)
    and returns the probe object. The engine builds each probe at most once per audit.
    """


@hookspec
def govaudit_report_writers() -> list[ReportWriter] | None:
    """Offer report writers (JSON, HTML, XLSX…). Each has a ``name`` and ``write(report, out_dir)``."""
