"""The audit pipeline: crawl once → measure → evidence store → checks → findings → score → reports.

``audit()`` runs all of it for a URL; ``recheck()`` runs everything after the measure stage again
on a stored run — enrichers, checks, score, reports — with no probe at all, so it needs no network
and judges exactly what the audit measured. Each plugin implementation is called on its own
(:class:`auditor.pluginmanager.PluginHooks`), so an exception in one plugin becomes an error record
and never blanks the others' findings.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pluggy

from auditor import __version__
from auditor.config import AuditConfig, ConfigError
from auditor.context import CheckContext, MeasureContext, SiteView, UnknownRuleError
from auditor.model import Finding, Rule
from auditor.network.guard import AddressGuard
from auditor.network.resolve import Resolver
from auditor.pluginmanager import PluginHooks, collect_parameters, collect_rules, get_plugin_manager
from auditor.reports.base import ReportInputs, build_report
from auditor.rulepacks import RulePack, load_pack
from auditor.scoring import compute_score
from auditor.store.database import EvidenceStore

log = logging.getLogger(__name__)


class AuditCannotRun(Exception):
    """The audit itself could not run (site unreachable at start…): exit status 3."""


@dataclass
class AuditResult:
    run_id: str
    status: str
    report: dict[str, Any]
    paths: list[Path] = field(default_factory=list)

    @property
    def veto(self) -> bool:
        return bool(self.report["score"]["veto"])


class Engine:
    """Plugins, rules and rule pack for one configuration."""

    def __init__(self, config: AuditConfig, pm: pluggy.PluginManager | None = None, extra_plugins: list[Any] | None = None):
        self.config = config
        self.pm = pm or get_plugin_manager(extra_plugins)
        for name, caller in PluginHooks(self.pm, "govaudit_configure"):
            try:
                PluginHooks.one(caller, config=config)
            except ConfigError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(f"插件 {name} 配置失败 / plugin {name} rejected the configuration: {exc}") from exc
        self.rules: dict[str, Rule] = collect_rules(self.pm)
        self.parameters = collect_parameters(self.pm)
        self.pack: RulePack = load_pack(config.rules, self.parameters)
        self.plugin_families = self._plugin_families()
        self.serves = self._serves()
        self._probes = self._collect_probes()
        self._writers = self._collect_writers()

    def _plugin_families(self) -> dict[str, set[str]]:
        fams: dict[str, set[str]] = {}
        for rule in self.rules.values():
            fams.setdefault(rule.plugin, set()).add(rule.family)
        return fams

    def _serves(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, caller in PluginHooks(self.pm, "govaudit_serves"):
            try:
                answer = PluginHooks.one(caller)
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(f"插件 {name} 的 govaudit_serves 出错 / plugin {name}: govaudit_serves failed: {exc}") from exc
            out[name] = [str(f) for f in (answer or [])]
        return out

    def plugin_enabled(self, plugin_name: str) -> bool:
        short = plugin_name.removeprefix("auditor.checks.").removeprefix("auditor.plugins.")
        fams = self.plugin_families.get(short)
        if not fams:
            # A plugin that declares no rules (an enricher, a measure plugin) may say which rule
            # families it serves (the govaudit_serves hook): it is skipped when none of them runs, so
            # ``--checks links`` does not pay for document extraction or IPv6 probing.
            serves = self.serves.get(plugin_name)
            return not serves or any(self.config.family_enabled(f) for f in serves)
        return any(self.config.family_enabled(f) for f in fams)

    def hooks(self, hook_name: str) -> PluginHooks:
        """Per-plugin callers of ``hook_name`` for the enabled plugins."""

        return PluginHooks(self.pm, hook_name, self.plugin_enabled)

    def _collect_probes(self) -> dict[str, Callable[[MeasureContext], Any]]:
        factories: dict[str, Callable[[MeasureContext], Any]] = {
            "dns": lambda ctx: audit_resolver(ctx.config)
        }
        owner = {"dns": "engine"}
        for name, caller in PluginHooks(self.pm, "govaudit_probes"):
            try:
                offered = PluginHooks.one(caller) or {}
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(f"插件 {name} 的 govaudit_probes 出错 / plugin {name}: govaudit_probes failed: {exc}") from exc
            for probe, factory in offered.items():
                if probe in owner:
                    raise ConfigError(f"探针名 {probe!r} 同时由 {owner[probe]} 和 {name} 提供 / probe {probe!r} is offered by "
                                      f"both {owner[probe]} and {name}")
                owner[probe] = name
                factories[probe] = factory
        return factories

    def _collect_writers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        owner: dict[str, str] = {}
        for name, caller in PluginHooks(self.pm, "govaudit_report_writers"):
            try:
                offered = PluginHooks.one(caller) or []
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(f"插件 {name} 的 govaudit_report_writers 出错 / plugin {name}: report writers failed: {exc}") from exc
            for w in offered:
                if w.name in owner:
                    raise ConfigError(f"报告格式 {w.name!r} 同时由 {owner[w.name]} 和 {name} 提供 / report format {w.name!r} "
                                      f"is offered by both {owner[w.name]} and {name}")
                owner[w.name] = name
                out[w.name] = w
        return out

    def probes(self) -> dict[str, Callable[[MeasureContext], Any]]:
        """The probe factories, by name (for the measure stage's context)."""

        return dict(self._probes)

    def writers(self) -> dict[str, Any]:
        return dict(self._writers)


def audit_resolver(config: AuditConfig) -> Resolver:
    """The audit's resolver, carrying its SSRF guard: every fetch of the crawl and the measure
    stage connects only to addresses :meth:`Resolver.connectable` allows."""

    return Resolver(config.resolve, config.dns_server, timeout=min(config.timeout, 5.0),
                    guard=AddressGuard.from_config(config))


def refuse_private_start(resolver: Resolver, config: AuditConfig) -> None:
    """A start URL whose host is refused by the guard is a usage error (exit 2) before anything
    runs: the message names the way to audit an intranet site on purpose."""

    host = urlsplit(config.url).hostname or ""
    message = resolver.refuses(host) if host else None
    if message:
        raise ConfigError(f"起始网址指向内部或保留地址，已拒绝 / the start URL is refused by the SSRF guard: {message}. "
                          "审计内网网站请加 --allow-private 或在配置中设置 allow_networks / "
                          "pass --allow-private (or allow_networks in the config) to audit an intranet site")


def audit(config: AuditConfig, engine: Engine | None = None, store: EvidenceStore | None = None,
          on_crawl_start: Callable[[Any], None] | None = None) -> AuditResult:
    """Audit ``config.url``: crawl, check, score, write reports to ``config.out``."""

    from auditor.crawl.spider import CrawlJob, run_crawl

    engine = engine or Engine(config)
    resolver = audit_resolver(config)
    refuse_private_start(resolver, config)
    store = store or EvidenceStore(config.db)
    options = config.to_dict()
    run_id = store.start_run(config.host, config.url, config.as_of, options, __version__)
    job = CrawlJob(config=config, store=store, run_id=run_id, resolver=resolver)
    if on_crawl_start:
        on_crawl_start(job)
    status = "running"
    try:
        result = run_crawl(job)
        # any budget that cut the crawl (pages — the default cap too —, depth, time, bytes, a trap)
        # makes the run partial; coverage.limited_by says which
        limited = bool(result.coverage.get("limited_by"))
        status = "complete" if result.close_reason == "finished" and not limited else "partial"
        stats = {
            "homepage_url": result.homepage_url or config.url,
            "pages": job.stats.pages,
            "links": job.stats.links,
            "link_verdicts": result.link_counts,
            "crawl_seconds": round(time.time() - job.stats.started, 2),
        }
        if result.start_error and not job.stats.pages:
            store.add_error(run_id, "crawl", f"site unreachable at start: {result.start_error}", url=config.url)
            store.finish_run(run_id, "failed", stats, result.coverage)
            raise AuditCannotRun(f"网站首页无法访问 / site unreachable at start: {config.url} ({result.start_error})")
        store.finish_run(run_id, status, stats, result.coverage)
    except (KeyboardInterrupt, SystemExit):
        store.flush()
        store.finish_run(run_id, "partial", {"homepage_url": config.url, "interrupted": True}, {"close_reason": "interrupted"})
        raise
    job.stats.stage = "measure"

    def progress(what: str, count: int) -> None:
        if what == "stage":
            job.stats.stage = "checks"
        else:
            job.stats.findings = count

    return check_and_report(config, engine, store, run_id, progress, measure=True)


def recheck(config: AuditConfig, run_id: str, engine: Engine | None = None, store: EvidenceStore | None = None) -> AuditResult:
    """Re-run enrichers, checks, scoring and reports on a stored run: no crawl, no measure stage,
    no probes — the stored measurements are judged again, offline."""

    engine = engine or Engine(config)
    store = store or EvidenceStore(config.db)
    rejudge_links(config, engine, store, run_id)  # link verdicts: a stage over the stored fetches
    store.clear_derived(run_id)
    return check_and_report(config, engine, store, run_id, measure=False)


def rejudge_links(config: AuditConfig, engine: Engine, store: EvidenceStore, run_id: str) -> None:
    """Judge a stored run's links again under this engine's pack, from the stored fetches only
    (no network): ``recheck --rules PACK`` changes link verdicts when the pack's ``links.*``
    values change (which statuses are dead, soft-404 calibration, the time limit…)."""

    from auditor.linkjudge import judge_run

    if store.get_run(run_id) is not None:
        judge_run(store, run_id, config, engine.pack)


def check_and_report(config: AuditConfig, engine: Engine, store: EvidenceStore, run_id: str,
                     progress: Callable[[str, int], None] | None = None, measure: bool = False) -> AuditResult:
    run = store.get_run(run_id)
    if run is None:
        raise ConfigError(f"没有这个运行记录 / no such run: {run_id}")
    site = SiteView(store, run)
    # recheck gets no probe factories at all: nothing after this line can reach the network.
    ctx = CheckContext(config, engine.pack, engine.rules, store, run_id, engine.probes() if measure else {},
                       site.homepage_url)
    t0 = time.time()
    measure_seconds = None
    try:
        if measure:
            run_measure(engine, ctx, site)
            measure_seconds = round(time.time() - t0, 2)
            if progress:
                progress("stage", 0)
        run_checks(engine, ctx, site, progress)
    finally:
        ctx.close_probes()
    store.flush()
    t1 = time.time()
    score = compute_score(store.iter_findings(run_id), engine.rules, engine.pack, config.family_enabled)
    store.set_score(run_id, score)
    report = build_report(ReportInputs(store, run_id, engine.rules, config.lang, score))
    report["stats"]["check_seconds"] = round(t1 - t0, 2)
    if measure_seconds is not None:
        report["stats"]["measure_seconds"] = measure_seconds
    paths = write_reports(engine, report, config)
    report["stats"]["report_seconds"] = round(time.time() - t1, 2)
    return AuditResult(run_id, report["status"], report, paths)


def write_reports(engine: Engine, report: dict[str, Any], config: AuditConfig) -> list[Path]:
    out = Path(config.out or ".")
    out.mkdir(parents=True, exist_ok=True)
    writers = engine.writers()
    paths = []
    for fmt in config.formats:
        writer = writers.get(fmt)
        if writer is None:
            raise ConfigError(f"没有插件提供报告格式 / no writer for format {fmt!r}; known: {sorted(writers)}")
        paths.append(writer.write(report, out))
    return paths


class _Sink:
    """Validates and stores findings; the first finding with a given stable id wins."""

    def __init__(self, ctx: CheckContext, engine: Engine):
        self.ctx = ctx
        self.engine = engine
        self.ids: set[str] = set()
        self.count = 0

    def take(self, plugin: str, produced: Iterable[Finding] | Finding | None, url: str | None = None) -> None:
        if produced is None:
            return
        if isinstance(produced, Finding):
            produced = [produced]
        for f in produced:
            if f.rule not in self.engine.rules:
                raise UnknownRuleError(f"plugin {plugin} reported undeclared rule {f.rule!r}")
            if not self.ctx.config.rule_enabled(f.rule):
                continue
            if f.id in self.ids:
                continue
            if not f.plugin:
                f.plugin = self.engine.rules[f.rule].plugin
            self.ids.add(f.id)
            self.count += 1
            self.ctx._store.add_finding(self.ctx.run_id, f)  # the engine writes; checks cannot


def _guarded(ctx: CheckContext, plugin: str, url: str | None, fn: Callable[[], Any], sink: _Sink | None,
             stage: str = "check") -> None:
    try:
        result = fn()
        if sink is not None:
            sink.take(plugin, result, url)
    except Exception as exc:  # noqa: BLE001 - isolate every plugin call
        log.warning("plugin %s failed on %s: %s", plugin, url, exc)
        ctx.store.add_error(ctx.run_id, stage, f"{type(exc).__name__}: {exc}", url=url, plugin=plugin,
                            detail=traceback.format_exc())


def run_measure(engine: Engine, ctx: CheckContext, site: SiteView) -> None:
    """The measure stage: every enabled ``govaudit_measure`` plugin, each with its own
    :class:`MeasureContext` (the probes and the right to write its measurement kinds).

    Errors are stored with stage ``measure``: ``recheck`` keeps them (it does not measure again),
    so a recheck reports the same "could not measure" as the audit did."""

    for name, caller in engine.hooks("govaudit_measure"):
        mctx = ctx.measure_context(name)
        _guarded(ctx, name, site.homepage_url, lambda caller=caller, mctx=mctx: PluginHooks.one(caller, site=site, ctx=mctx),
                 None, stage="measure")
        ctx.store.flush()


def run_checks(engine: Engine, ctx: CheckContext, site: SiteView, progress: Callable[[str, int], None] | None = None) -> int:
    """enrich → per-page → per-link → site-level; returns the number of findings stored."""

    sink = _Sink(ctx, engine)
    one = PluginHooks.one

    with ctx.stage("enrich"):
        for name, caller in engine.hooks("govaudit_enrich"):
            _guarded(ctx, name, None, lambda caller=caller: one(caller, site=site, ctx=ctx), None)
    ctx.store.flush()

    page_hooks = engine.hooks("govaudit_check_page")
    if page_hooks:
        for page in site.pages():
            for name, caller in page_hooks:
                _guarded(ctx, name, page.url, lambda caller=caller, page=page: _drain(one(caller, page=page, ctx=ctx)), sink)
            if progress:
                progress("findings", sink.count)

    link_hooks = engine.hooks("govaudit_check_link")
    if link_hooks:
        for result in site.link_results():
            for name, caller in link_hooks:
                _guarded(ctx, name, result.target_url,
                         lambda caller=caller, result=result: _drain(one(caller, result=result, ctx=ctx)), sink)
        if progress:
            progress("findings", sink.count)
    for name, caller in engine.hooks("govaudit_check_site"):
        _guarded(ctx, name, site.homepage_url, lambda caller=caller: _drain(one(caller, site=site, ctx=ctx)), sink)
        if progress:
            progress("findings", sink.count)
    ctx.store.flush()
    return sink.count


def _drain(result: Any) -> list[Finding]:
    """Materialise a generator inside the guard, so a failure mid-way is caught there."""

    if result is None:
        return []
    if isinstance(result, Finding):
        return [result]
    return list(result)
