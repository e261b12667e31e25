"""The audit pipeline: crawl once → evidence store → checks → findings → score → reports.

``audit()`` runs all of it for a URL; ``recheck()`` runs everything after the crawl again on a
stored run. Each plugin implementation is called on its own, so an exception in one check becomes
an error record and never blanks the others' findings.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from auditor import __version__
from auditor.config import AuditConfig, ConfigError
from auditor.context import CheckContext, SiteView, UnknownRuleError
from auditor.model import Finding, Rule
from auditor.net import Resolver
from auditor.pluginmanager import call_impl, collect_rules, get_plugin_manager, iter_impls
from auditor.reports.base import ReportInputs, build_report
from auditor.rulepacks import RulePack, load_pack
from auditor.scoring import compute_score
from auditor.store import EvidenceStore

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
        for name, impl in iter_impls(self.pm, "govaudit_configure"):
            try:
                call_impl(impl, config=config)
            except ConfigError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(f"插件 {name} 配置失败 / plugin {name} rejected the configuration: {exc}") from exc
        self.rules: dict[str, Rule] = collect_rules(self.pm)
        self.pack: RulePack = load_pack(config.rules)
        self.plugin_families = self._plugin_families()

    def _plugin_families(self) -> dict[str, set[str]]:
        fams: dict[str, set[str]] = {}
        for rule in self.rules.values():
            fams.setdefault(rule.plugin, set()).add(rule.family)
        return fams

    def plugin_enabled(self, plugin_name: str) -> bool:
        short = plugin_name.removeprefix("auditor.checks.").removeprefix("auditor.plugins.")
        fams = self.plugin_families.get(short)
        if not fams:
            # A plugin that declares no rules (an enricher, a probe) may say which rule families
            # it serves (``govaudit_serves = ("documents", …)``): it is skipped when none of them
            # runs, so ``--checks links`` does not pay for document extraction.
            serves = getattr(self.pm.get_plugin(plugin_name), "govaudit_serves", None)
            return not serves or any(self.config.family_enabled(f) for f in serves)
        return any(self.config.family_enabled(f) for f in fams)

    def probes(self) -> dict[str, Callable[[CheckContext], Any]]:
        factories: dict[str, Callable[[CheckContext], Any]] = {
            "dns": lambda ctx: Resolver(ctx.config.resolve, ctx.config.dns_server, timeout=min(ctx.config.timeout, 5.0))
        }
        for _name, impl in iter_impls(self.pm, "govaudit_probes"):
            factories.update(call_impl(impl) or {})
        return factories

    def writers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for _name, impl in iter_impls(self.pm, "govaudit_report_writers"):
            for w in call_impl(impl) or []:
                out[w.name] = w
        return out


def audit(config: AuditConfig, engine: Engine | None = None, store: EvidenceStore | None = None,
          on_crawl_start: Callable[[Any], None] | None = None) -> AuditResult:
    """Audit ``config.url``: crawl, check, score, write reports to ``config.out``."""

    from auditor.crawl import CrawlJob, run_crawl

    engine = engine or Engine(config)
    store = store or EvidenceStore(config.db)
    options = config.to_dict()
    run_id = store.start_run(config.host, config.url, config.as_of, options, __version__)
    resolver = Resolver(config.resolve, config.dns_server, timeout=min(config.timeout, 5.0))
    job = CrawlJob(config=config, store=store, run_id=run_id, resolver=resolver)
    if on_crawl_start:
        on_crawl_start(job)
    status = "running"
    try:
        result = run_crawl(job)
        status = "complete" if result.close_reason == "finished" else "partial"
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
    job.stats.stage = "checks"

    def progress(_what: str, count: int) -> None:
        job.stats.findings = count

    return check_and_report(config, engine, store, run_id, progress)


def recheck(config: AuditConfig, run_id: str, engine: Engine | None = None, store: EvidenceStore | None = None) -> AuditResult:
    """Re-run enrichers, checks, scoring and reports on a stored run, without re-crawling."""

    engine = engine or Engine(config)
    store = store or EvidenceStore(config.db)
    rejudge_links(config, engine, store, run_id)  # link verdicts: a stage over the stored fetches
    store.clear_derived(run_id)
    return check_and_report(config, engine, store, run_id)


def rejudge_links(config: AuditConfig, engine: Engine, store: EvidenceStore, run_id: str) -> None:
    """Judge a stored run's links again under this engine's pack, from the stored fetches only
    (no network): ``recheck --rules PACK`` changes link verdicts when the pack's ``links.*``
    values change (which statuses are dead, soft-404 calibration, the time limit…)."""

    from auditor.linkcheck import judge_run

    if store.get_run(run_id) is not None:
        judge_run(store, run_id, config, engine.pack)


def check_and_report(config: AuditConfig, engine: Engine, store: EvidenceStore, run_id: str,
                     progress: Callable[[str, int], None] | None = None) -> AuditResult:
    run = store.get_run(run_id)
    if run is None:
        raise ConfigError(f"没有这个运行记录 / no such run: {run_id}")
    site = SiteView(store, run)
    ctx = CheckContext(config, engine.pack, engine.rules, store, run_id, engine.probes(), site.homepage_url)
    t0 = time.time()
    try:
        run_checks(engine, ctx, site, progress)
    finally:
        ctx.close_probes()
    store.flush()
    t1 = time.time()
    score = compute_score(store.iter_findings(run_id), engine.rules, engine.pack, config.family_enabled)
    store.set_score(run_id, score)
    report = build_report(ReportInputs(store, run_id, engine.rules, config.lang, score))
    report["stats"]["check_seconds"] = round(t1 - t0, 2)
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
            self.ctx.store.add_finding(self.ctx.run_id, f)


def _guarded(ctx: CheckContext, plugin: str, url: str | None, fn: Callable[[], Any], sink: _Sink | None) -> None:
    try:
        result = fn()
        if sink is not None:
            sink.take(plugin, result, url)
    except Exception as exc:  # noqa: BLE001 - isolate every plugin call
        log.warning("plugin %s failed on %s: %s", plugin, url, exc)
        ctx.store.add_error(ctx.run_id, "check", f"{type(exc).__name__}: {exc}", url=url, plugin=plugin,
                            detail=traceback.format_exc())


def run_checks(engine: Engine, ctx: CheckContext, site: SiteView, progress: Callable[[str, int], None] | None = None) -> int:
    """enrich → per-page → per-link → site-level; returns the number of findings stored."""

    sink = _Sink(ctx, engine)

    def impls(hook: str) -> list[tuple[str, Any]]:
        return [(n, i) for n, i in iter_impls(engine.pm, hook) if engine.plugin_enabled(n)]

    for name, impl in impls("govaudit_enrich"):
        _guarded(ctx, name, None, lambda impl=impl: call_impl(impl, site=site, ctx=ctx), None)
    ctx.store.flush()

    page_impls = impls("govaudit_check_page")
    if page_impls:
        for page in site.pages():
            for name, impl in page_impls:
                _guarded(ctx, name, page.url, lambda impl=impl, page=page: _drain(call_impl(impl, page=page, ctx=ctx)), sink)
            if progress:
                progress("findings", sink.count)

    link_impls = impls("govaudit_check_link")
    if link_impls:
        for result in site.link_results():
            for name, impl in link_impls:
                _guarded(ctx, name, result.target_url,
                         lambda impl=impl, result=result: _drain(call_impl(impl, result=result, ctx=ctx)), sink)
        if progress:
            progress("findings", sink.count)
    for name, impl in impls("govaudit_check_site"):
        _guarded(ctx, name, site.homepage_url, lambda impl=impl: _drain(call_impl(impl, site=site, ctx=ctx)), sink)
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
