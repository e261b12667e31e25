"""Hook specifications: the one place that says what a govaudit plugin can do.

Modelled on pytest's ``hookspec.py``. A plugin is any module or object with functions named like
these and marked with :data:`hookimpl`; built-in checks register through the ``govaudit``
entry-point group, exactly as third-party packages do. A ``@hookimpl`` whose name matches no spec
here is refused at load time (a typo would otherwise never run), and the engine reads nothing else
from a plugin: every question it asks is a hook below.

Stages (ARCHITECTURE.md): crawl → **measure** (:func:`govaudit_measure`: the only stage with network
probes; writes measurement records) → **enrich** (:func:`govaudit_enrich`: derives records from what
is stored) → **checks** (:func:`govaudit_check_page`, :func:`govaudit_check_link`,
:func:`govaudit_check_site`: pure judgements of stored evidence and measurements) → score → reports
(:func:`govaudit_report_writers`). ``govaudit recheck`` skips the crawl and the measure stage.

Calling convention. The engine calls hooks through ``pm.hook``, one implementation at a time (a
:meth:`pluggy.PluginManager.subset_hook_caller` per plugin, built once), so an exception in one
plugin becomes an error record in the run and never blanks another's results, while hook wrappers
(``@hookimpl(wrapper=True)``) still wrap every call. No hook is ``firstresult``: every plugin's answer
is wanted (rules, probes, writers, findings are merged; a name claimed twice is a ConfigError).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from auditor.config import AuditConfig
    from auditor.context import CheckContext, MeasureContext, PageView, SiteView
    from auditor.measure.newmedia import AccountSource
    from auditor.model import Finding, LinkResult, Parameter, Rule
    from auditor.reports.base import ReportWriter

PROJECT = "govaudit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def govaudit_rules() -> list[Rule]:
    """Declare the rules this plugin can report. Result: a list of :class:`~auditor.model.Rule`.

    Each :class:`~auditor.model.Rule` carries its id (``family.name``), Chinese and English names,
    severity (veto | major | minor | info), basis (regulation and clause, with source and how sure
    it is) and remediation text. ``govaudit rules`` lists them; a finding whose rule was not
    declared is an error. Built-in families read their rules from data
    (``checks/rules/<family>.json``, :func:`auditor.declarations.load_declarations`); a rule written in
    code is as good. Thresholds are not declared here: they are pack parameters
    (:func:`govaudit_parameters`), their values in rule packs.
    """


@hookspec
def govaudit_parameters() -> list[Parameter]:
    """Declare the rule-pack values this plugin reads, each with its type. Result: a list of
    :class:`~auditor.model.Parameter`.

    The pack loader refuses a pack value nobody declares and a value of the wrong type
    (``ConfigError``), and ``pack.value(key)`` has no inline default: built-in families take theirs
    from ``national.json``; a third-party parameter may carry ``default``. Two plugins may declare
    the same key only with the same type.
    """


@hookspec
def govaudit_configure(config: AuditConfig) -> None:
    """Inspect or adjust the audit configuration before anything runs.

    Raise :class:`auditor.config.ConfigError` with a clear message to refuse a configuration
    (the CLI turns it into exit status 2). Plugin options live in ``config.plugin_options``
    (the ``[plugins.NAME]`` tables of the TOML config file). Result ignored; any other exception
    is reported as that plugin rejecting the configuration.
    """


@hookspec
def govaudit_serves() -> list[str] | None:
    """The rule families a plugin that declares no rules works for (an enricher, a measure plugin).

    Result: a list of family names (``["documents", "freshness"]``). The engine skips every hook of
    such a plugin when none of those families is selected, so ``--checks links`` neither renders
    pages nor probes IPv6. A plugin that declares rules is enabled by their families instead; a plugin
    that declares neither always runs.
    """


@hookspec
def govaudit_measure(site: SiteView, ctx: MeasureContext) -> None:
    """The measure stage: after the crawl, before enrichment and checks; **not** run by ``recheck``.

    ``site`` is the stored crawl (read it to decide what to measure); ``ctx.probe(name)`` gives the
    audit's network probes (``"dns"`` honours ``--resolve``/``--dns-server``, ``"http"`` pins addresses,
    plugins add more through :func:`govaudit_probes`). Store every answer with
    ``ctx.measure(kind, key, data, version=N)``: checks read it back with ``ctx.measurement(kind, key)``.
    Result ignored. One kind belongs to one plugin (a second writer is an error record). An exception
    becomes an error record (stage ``measure``) and the check then finds no measurement.
    """


@hookspec
def govaudit_enrich(site: SiteView, ctx: CheckContext) -> None:
    """After the measure stage, before any check: derive records from what is stored.

    For work that makes the evidence better for every check rather than judging it: document
    records from stored pages (``ctx.record``). Runs again on ``govaudit recheck``, so it must not
    need the network (``ctx.probe`` refuses: browser rendering is a measure plugin,
    :mod:`auditor.plugins.render_probe`, whose DOMs page views show as the pages' bodies).
    Result ignored.
    """


@hookspec
def govaudit_check_page(page: PageView, ctx: CheckContext) -> Iterable[Finding] | None:
    """Check one stored page (HTML or attachment). Called once per stored page, streaming.

    Keep it cheap: it runs on every page of a 100k-page site. Result: findings (return a list or
    yield them; None for none), made with ``ctx.finding`` for a declared rule. A generator is drained
    inside the engine's guard, so a wrapper sees its creation, not its iteration.
    """


@hookspec
def govaudit_check_link(result: LinkResult, ctx: CheckContext) -> Iterable[Finding] | None:
    """Check one distinct link target's verdict (after retries and soft-404 calibration).

    Result: findings, as for :func:`govaudit_check_page`."""


@hookspec
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterable[Finding] | None:
    """Site-level checks, after the crawl and the per-page and per-link checks.

    ``site`` gives streaming access to pages, links, link verdicts, derived records and
    measurements (``site.measurement(kind, key)``). Result: findings, as for :func:`govaudit_check_page`.
    """


@hookspec
def govaudit_probes() -> dict[str, Callable[[MeasureContext], Any]] | None:
    """Offer network probes to the measure stage (``ctx.probe(name)`` in :func:`govaudit_measure`).

    Result: ``{name: factory}``; the factory gets a :class:`~auditor.context.MeasureContext`
    (resolver settings, timeouts, the store to log fetches in) and returns the probe object (a
    ``close()`` method is called at the end of the audit). The engine builds each probe at most once
    per audit. A name offered by two plugins (or the engine's own ``"dns"``) is a ConfigError naming
    both. Checks cannot reach probes.
    """


@hookspec
def govaudit_report_writers() -> list[ReportWriter] | None:
    """Offer report writers (JSON, HTML, XLSX…).

    Result: a list of objects with a ``name`` (the ``--format`` value) and ``write(report, out_dir) -> Path``.
    A name offered by two plugins is a ConfigError naming both."""


@hookspec
def govaudit_account_sources() -> list[AccountSource] | None:
    """Offer sources of 政务新媒体 account data (posts, interaction, article states) to the measure stage.

    Result: a list of objects with a ``name``, ``accepts(account) -> bool`` (cheap, no I/O) and
    ``read(account, ctx) -> Reading`` (:class:`auditor.measure.newmedia.Reading` or a dict of its shape),
    where ``account`` is an :class:`auditor.measure.newmedia.Account` (name, platform, 主办单位, ID, links
    with their kind) and ``ctx`` the :class:`~auditor.context.MeasureContext` of the new-media measure
    plugin: network only through ``ctx.probe("http")`` (the audit's resolver, ``--resolve``). The engine
    collects them once per audit (a name offered twice is a ConfigError naming both) and hands them to
    the measure stage as ``ctx.account_sources``; ``plugins/newmedia_probe.py`` asks every source that
    accepts an account and stores the readings (kind ``newmedia.account``), so ``recheck`` replays them.
    A source that cannot read an account says so (``decidable=False`` and a reason): the account is then
    "not decidable", never stale. Built in: RSS/Atom feeds, WeChat article pages, platform exports
    (``plugins/newmedia_sources.py``); a Weibo or Douyin reader is a third-party plugin of this hook.
    """
