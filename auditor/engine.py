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

import pluggy

from auditor import __version__, interrupt
from auditor.config import AuditConfig, ConfigError
from auditor.context import CheckContext, MeasureContext, SiteView, UnknownRuleError
from auditor.interrupt import AuditInterrupted
from auditor.model import Finding, Rule
from auditor.network.resolve import Resolver
from auditor.pluginmanager import PluginHooks, collect_parameters, collect_rules, get_plugin_manager
from auditor.reports.base import ReportInputs, build_report
from auditor.reports.notice import rectification_terms
from auditor.rulepacks import RulePack, load_pack
from auditor.scoring import compute_score
from auditor.siteid import SiteIdentity
from auditor.store.database import EvidenceStore
from auditor.store.history import record_history, triaged_ids

log = logging.getLogger(__name__)


class AuditCannotRun(Exception):
    """The audit itself could not run (site unreachable at start…): exit status 3. ``paths``: the
    reports written anyway (the homepage finding, verdict 无法判定)."""

    def __init__(self, message: str, paths: list[Path] | None = None):
        super().__init__(message)
        self.paths = paths or []


@dataclass
class AuditResult:
    run_id: str
    status: str
    report: dict[str, Any]
    paths: list[Path] = field(default_factory=list)
    interrupted: int | None = None  # the signal that stopped the audit (SIGINT 2, SIGTERM 15)

    @property
    def veto(self) -> bool:
        """A single veto of the website, or of a 政务新媒体 account (exit status 1 either way)."""

        score = self.report["score"]
        return bool(score["veto"] or (score.get("newmedia") or {}).get("veto"))

    @property
    def undecided(self) -> bool:
        """No verdict: the run was interrupted (or its process died) before all evidence was in."""

        return bool(self.report["score"].get("undecided"))


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
        unknown = [f for f in config.formats if f not in self._writers]
        if unknown:  # refused here, before any crawl: a typo must not cost a whole audit
            raise ConfigError(f"未知报告格式 / unknown report format(s): {', '.join(unknown)}; "
                              f"可用 / known: {', '.join(sorted(self._writers))}")
        self._account_sources = self._collect_account_sources()

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
            "dns": lambda ctx: Resolver(ctx.config.resolve, ctx.config.dns_server, timeout=min(ctx.config.timeout, 5.0))
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

    def _collect_account_sources(self) -> list[Any]:
        """The 政务新媒体 account sources (``govaudit_account_sources``), in plugin order; a name
        offered twice is a ConfigError naming both plugins."""

        out: list[Any] = []
        owner: dict[str, str] = {}
        for name, caller in self.hooks("govaudit_account_sources"):
            try:
                offered = PluginHooks.one(caller) or []
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(f"插件 {name} 的 govaudit_account_sources 出错 / plugin {name}: account sources failed: {exc}") from exc
            for src in offered:
                sname = str(getattr(src, "name", "") or "")
                if not sname or not callable(getattr(src, "accepts", None)) or not callable(getattr(src, "read", None)):
                    raise ConfigError(f"插件 {name} 的账号数据源缺少 name/accepts/read / plugin {name}: an account source "
                                      "needs name, accepts(account) and read(account, ctx)")
                if sname in owner:
                    raise ConfigError(f"账号数据源 {sname!r} 同时由 {owner[sname]} 和 {name} 提供 / account source {sname!r} "
                                      f"is offered by both {owner[sname]} and {name}")
                owner[sname] = name
                out.append(src)
        return out

    def account_sources(self) -> list[Any]:
        """The account sources, for the measure stage (``MeasureContext.account_sources``)."""

        return list(self._account_sources)

    def probes(self) -> dict[str, Callable[[MeasureContext], Any]]:
        """The probe factories, by name (for the measure stage's context)."""

        return dict(self._probes)

    def writers(self) -> dict[str, Any]:
        return dict(self._writers)


def audit(config: AuditConfig, engine: Engine | None = None, store: EvidenceStore | None = None,
          on_crawl_start: Callable[[Any], None] | None = None, resume: str | None = None) -> AuditResult:
    """Audit ``config.url``: crawl, check, score, write reports to ``config.out``.

    ``resume``: the id of an interrupted run of the same site (``--resume``): its crawl goes on
    from the stored frontier (:mod:`auditor.store.journal`) under the same run id, then link
    judging, the measure stage and the checks run again over all its stored evidence. The run row
    stays ``running`` until the report is written, so a kill at any point reads ``interrupted``.
    """

    from auditor.crawl.spider import CrawlJob, run_crawl
    from auditor.store import journal

    engine = engine or Engine(config)
    store = store or EvidenceStore(config.db)
    frontier = None
    if resume is not None:
        run_id = resume
        journal.prepare_resume(store, run_id)
        frontier = journal.load_frontier(store, run_id)
    else:
        run_id = store.start_run(config.host, config.url, config.as_of, config.to_dict(), __version__)
        journal.claim_host(store, run_id)
    resolver = Resolver(config.resolve, config.dns_server, timeout=min(config.timeout, 5.0))
    job = CrawlJob(config=config, store=store, run_id=run_id, resolver=resolver, resume=frontier)
    if on_crawl_start:
        on_crawl_start(job)
    guard = interrupt.current()
    stats: dict[str, Any] = {"homepage_url": config.url}
    coverage: dict[str, Any] = {}
    try:
        result = run_crawl(job)
        stats = {
            "homepage_url": result.homepage_url or config.url,
            "pages": job.stats.pages,
            "links": job.stats.links,
            "link_verdicts": result.link_counts,
            "crawl_seconds": round(time.time() - job.stats.started, 2),
        }
        coverage = result.coverage
        if guard is not None:
            guard.check()  # a signal during the crawl stopped it: nothing more to do but say so
        status = "complete" if result.close_reason == "finished" else "partial"
        if result.start_error and not job.stats.pages:
            store.add_error(run_id, "crawl", f"site unreachable at start: {result.start_error}", url=config.url)
            journal.set_running_stats(store, run_id, stats, coverage)
            paths = unreachable_report(config, engine, store, run_id)
            raise AuditCannotRun(f"网站首页无法访问 / site unreachable at start: {config.url} ({result.start_error})", paths)
        journal.set_running_stats(store, run_id, stats, coverage)
    except AuditInterrupted as exc:
        return interrupted_report(config, engine, store, run_id, "crawl", exc.signum, stats, coverage)
    except (KeyboardInterrupt, SystemExit):
        journal.set_running_stats(store, run_id, {**stats, "interrupted": True}, {**coverage, "close_reason": "interrupted"})
        journal.set_status(store, run_id, "interrupted")
        raise
    job.stats.stage = "measure"

    def progress(what: str, count: int) -> None:
        if what == "stage":
            job.stats.stage = "checks"
        else:
            job.stats.findings = count

    try:
        return check_and_report(config, engine, store, run_id, progress, measure=True, final_status=status)
    except AuditInterrupted as exc:  # between the stages (check_and_report handles its own)
        return interrupted_report(config, engine, store, run_id, job.stats.stage, exc.signum)


def interrupted_report(config: AuditConfig, engine: Engine, store: EvidenceStore, run_id: str, stage: str, signum: int,
                       stats: dict[str, Any] | None = None, coverage: dict[str, Any] | None = None) -> AuditResult:
    """SIGINT/SIGTERM: mark the run ``interrupted`` (resumable), score what was stored, write a
    partial report marked 中断 whose verdict is 无法判定 — never a pass on half the evidence."""

    import signal as _signal

    from auditor.store import journal

    name = _signal.Signals(signum).name
    run = store.get_run(run_id) or {}
    cov = dict(coverage if coverage is not None else (run.get("coverage") or {}))
    cov["close_reason"] = "interrupted"
    cov["limited_by"] = sorted({*cov.get("limited_by", []), "interrupted"})
    cov["interrupted"] = {"signal": name, "stage": stage}
    st = dict(stats if stats is not None else (run.get("stats") or {}))
    st["interrupted"] = True
    try:
        store.flush()
    except Exception:  # noqa: BLE001 - a half-written batch must not hide the interruption
        log.exception("flushing the store after %s failed", name)
    journal.set_running_stats(store, run_id, st, cov)
    journal.set_status(store, run_id, journal.INTERRUPTED)
    score = undecided(compute_score(store.iter_findings(run_id), engine.rules, engine.pack, config.family_enabled), run_id,
                      stage, name, config.url)
    store.set_score(run_id, score)
    report = build_report(ReportInputs(store, run_id, engine.rules, config.lang, score))
    paths = write_reports(engine, report, config)
    return AuditResult(run_id, report["status"], report, paths, interrupted=signum)


def unreachable_report(config: AuditConfig, engine: Engine, store: EvidenceStore, run_id: str) -> list[Path]:
    """The homepage never answered: only the availability family runs (it says so as a finding,
    ``availability.homepage_unreachable``), the run is ``failed`` and the verdict 无法判定."""

    import dataclasses

    only = dataclasses.replace(config, checks=["availability"], skip=[])
    try:
        result = check_and_report(only, Engine(only, pm=engine.pm), store, run_id, final_status="failed")
    except ConfigError:
        return []
    return result.paths


def undecided(score: dict[str, Any], run_id: str, stage: str | None, signal_name: str | None, url: str,
              unreachable: bool = False) -> dict[str, Any]:
    """The score of an interrupted run: the deductions found so far stay for reference, the
    verdict is 无法判定 (a site is neither passed nor failed on part of its evidence)."""

    score = dict(score)
    score["passed"] = False
    score["undecided"] = True
    if unreachable:
        score["verdict_zh"] = "无法判定（首页无法访问）"
        score["verdict_en"] = "undecided (homepage unreachable)"
        score["explanation_zh"] = ["本次检查首页无法访问，其余检查未能进行，结论无法判定。"]
        score["explanation_en"] = ["The homepage could not be fetched, nothing else was checked: no verdict."]
        return score
    score["verdict_zh"] = "无法判定（审计中断）"
    score["verdict_en"] = "undecided (audit interrupted)"
    where_zh = f"在{ {'crawl': '抓取', 'measure': '网络测量', 'checks': '规则检查', 'report': '报告'}.get(stage or '', stage or '')}阶段" if stage else ""
    sig = f"（{signal_name}）" if signal_name else ""
    score["explanation_zh"] = [f"审计{where_zh}被中断{sig}，证据不完整，结论无法判定；已存证据保留，"
                               f"可用 govaudit check {url} --resume {run_id} 继续。", *score.get("explanation_zh", [])]
    score["explanation_en"] = [f"The audit was interrupted{' during ' + stage if stage else ''}"
                               f"{' (' + signal_name + ')' if signal_name else ''}: the evidence is incomplete and no "
                               f"verdict is given; what was stored is kept — continue with govaudit check {url} --resume "
                               f"{run_id}.", *score.get("explanation_en", [])]
    return score


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
                     progress: Callable[[str, int], None] | None = None, measure: bool = False,
                     final_status: str | None = None) -> AuditResult:
    """Measure (audit only), check, score and write the reports; ``final_status`` is the run's
    status once the report is written (the audit's; a recheck leaves the status alone)."""

    run = store.get_run(run_id)
    if run is None:
        raise ConfigError(f"没有这个运行记录 / no such run: {run_id}")
    site = SiteView(store, run)
    # recheck gets no probe factories at all: nothing after this line can reach the network.
    ctx = CheckContext(config, engine.pack, engine.rules, store, run_id, engine.probes() if measure else {},
                       site.homepage_url)
    ctx.account_sources = engine.account_sources() if measure else []
    t0 = time.time()
    measure_seconds = None
    stage = "measure" if measure else "checks"
    try:
        try:
            if measure:
                run_measure(engine, ctx, site)
                measure_seconds = round(time.time() - t0, 2)
                if progress:
                    progress("stage", 0)
            stage = "checks"
            run_checks(engine, ctx, site, progress)
        finally:
            _close_probes(ctx)
    except AuditInterrupted as exc:
        if final_status is None:
            raise  # a recheck writes nothing half-way: its run keeps the last full report
        return interrupted_report(config, engine, store, run_id, stage, exc.signum)
    store.flush()
    t1 = time.time()
    # 回头看: each finding's status against the site's previous run; triaged findings are not scored
    record_history(store, run_id, engine.rules)
    triaged = triaged_ids(store, run["site"], run["as_of"])
    score = compute_score((f for f in store.iter_findings(run_id) if f.id not in triaged), engine.rules, engine.pack,
                          config.family_enabled)
    if final_status is not None:
        from auditor.store import journal

        journal.set_status(store, run_id, final_status)
        if final_status == "failed":
            score = undecided(score, run_id, "crawl", None, run["start_url"], unreachable=True)
    elif run["status"] in ("interrupted", "running", "incomplete"):
        score = undecided(score, run_id, (run.get("coverage") or {}).get("interrupted", {}).get("stage"),
                          (run.get("coverage") or {}).get("interrupted", {}).get("signal"), run["start_url"])
    store.set_score(run_id, score)
    report = build_report(ReportInputs(store, run_id, engine.rules, config.lang, score))
    report["rectification"] = rectification_terms(engine.pack, report["as_of"])  # the notice's and ledger's 整改时限
    report["stats"]["check_seconds"] = round(t1 - t0, 2)
    if measure_seconds is not None:
        report["stats"]["measure_seconds"] = measure_seconds
    paths = write_reports(engine, report, config)
    report["stats"]["report_seconds"] = round(time.time() - t1, 2)
    return AuditResult(run_id, report["status"], report, paths)


def _close_probes(ctx: CheckContext) -> None:
    """Close the probes (Chromium…) even when a signal broke one off mid-call."""

    try:
        ctx.close_probes()
    except Exception:  # noqa: BLE001 - an interrupted browser may fail to close cleanly
        log.warning("closing the probes failed", exc_info=True)


def write_reports(engine: Engine, report: dict[str, Any], config: AuditConfig) -> list[Path]:
    out = Path(config.out or ".")
    out.mkdir(parents=True, exist_ok=True)
    writers = engine.writers()
    paths = []
    for fmt in config.formats:
        writer = writers.get(fmt)
        if writer is None:
            raise ConfigError(f"没有插件提供报告格式 / no writer for format {fmt!r}; known: {sorted(writers)}")
        try:
            paths.append(writer.write(report, out))
        except Exception as exc:  # noqa: BLE001 - one writer failing (no Chromium for the PDF) keeps the others
            log.error("报告格式 %s 未能写出 / report format %s not written: %s", fmt, fmt, exc)
    return paths


class _Sink:
    """Validates and stores findings; the first finding with a given stable id wins."""

    def __init__(self, ctx: CheckContext, engine: Engine):
        self.ctx = ctx
        self.engine = engine
        self.ids: set[str] = set()
        self.count = 0
        # ids never depend on the port a loopback server bound (auditor.siteid)
        self.identity = SiteIdentity.of(ctx.config.url, ctx.config.resolve_pairs())

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
            f.key = self.identity.key(f.key, f.url)
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
