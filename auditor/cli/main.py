"""``govaudit``: the command line. Chinese by default (``--lang en`` for English).

Exit status of ``check``/``demo``/``recheck``: 0 no single-veto finding, 1 at least one
single-veto finding, 2 usage or configuration error (an unknown ``--format`` included, refused
before the crawl), 3 the audit itself could not run, 4 no verdict (``recheck`` of an interrupted
run: 无法判定), 130/143 the audit was stopped by SIGINT/SIGTERM (a partial report marked 中断 is
written; ``check … --resume`` continues it). Without a terminal (cron, systemd) progress is plain
log lines (:mod:`auditor.cli.progress`), never a live display.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from auditor import __version__
from auditor.cli import validate
from auditor.cli.progress import PlainProgress, interactive
from auditor.config import (
    PROFILES,
    AuditConfig,
    ConfigError,
    build_config,
    default_as_of,
    load_config_file,
    parse_resolve,
)

app = typer.Typer(
    help="govaudit：政府网站与政务新媒体合规自查 / compliance self-check for government websites",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

EXIT_OK, EXIT_VETO, EXIT_USAGE, EXIT_CANNOT_RUN, EXIT_UNDECIDED = 0, 1, 2, 3, 4
LATEST = "latest"  # ``--resume`` without a run id: the newest interrupted run of the site


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


DEFAULT_OUT_ROOT = "govaudit-reports"


def _default_out(cfg: AuditConfig) -> str:
    """``./govaudit-reports/<host>/<as-of>/``: not ``./reports/``, which in a checkout is the
    package folder ``reports/`` (the writers' own code), where report files must never land."""

    return str(Path(DEFAULT_OUT_ROOT) / (cfg.host or "site") / cfg.as_of)


def _make_config(url: str, config_file: Path | None, cli: dict[str, Any]) -> AuditConfig:
    file_values = load_config_file(config_file) if config_file else {}
    cli = dict(cli)
    cli["url"] = url or file_values.get("url") or None
    cfg = build_config(file_values, cli)
    if not cfg.url:
        raise ConfigError("需要网址 / a URL is required")
    if not cfg.out:
        cfg.out = _default_out(cfg)
    return cfg


# Shared options (typer has no option groups; these aliases keep the signatures readable).
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="报告目录 / report directory (default ./govaudit-reports/<host>/<as-of>/)")]
# str, not Path: a Path would fold the "//" of postgresql+psycopg://… into one slash (a SQLite file of that name)
DbOpt = Annotated[str | None, typer.Option("--db", help="证据库 SQLite 文件或 SQLAlchemy URL / evidence store")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="zh | en")]


@app.command()
def check(
    url: Annotated[str, typer.Argument(help="网站首页地址 / the site's homepage URL")] = "",
    out_dir: OutOpt = None,
    db: DbOpt = None,
    max_pages: Annotated[int | None, typer.Option("--max-pages", min=1, help="最多抓取页面数 / page budget")] = None,
    max_depth: Annotated[int | None, typer.Option("--max-depth", min=0, help="最大链接深度 / link depth limit")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="评估基准日 YYYY-MM-DD (default today)")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="|".join(PROFILES))] = None,
    rules: Annotated[str | None, typer.Option("--rules", help="规则包 / rule pack (national, qinghai-2021, …)")] = None,
    lang: LangOpt = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="TOML 配置文件 / config file")] = None,
    dns_server: Annotated[str | None, typer.Option("--dns-server", help="HOST:PORT，所有解析走该服务器")] = None,
    resolve: Annotated[list[str] | None, typer.Option("--resolve", help="HOST=ADDR（可重复）")] = None,
    checks: Annotated[list[str] | None, typer.Option("--checks", help="只运行这些规则族 / only these families")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="跳过这些规则族 / skip families")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", min=1, max=256, help="每主机并发 / per-host concurrency")] = None,
    delay: Annotated[float | None, typer.Option("--delay", min=0.0, help="请求间隔秒 / delay between requests")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0.1, help="单次请求超时秒 / per-request timeout (15)")] = None,
    obey_robots: Annotated[bool | None, typer.Option("--obey-robots/--ignore-robots", help="遵守 robots.txt")] = None,
    sibling_host: Annotated[list[str] | None, typer.Option("--sibling-host", help="同属本站的其他主机名")] = None,
    column: Annotated[list[str] | None, typer.Option("--column", help="额外的栏目入口地址（种子）")] = None,
    time_budget: Annotated[float | None, typer.Option("--time-budget", help="抓取时间预算秒 / crawl time budget")] = None,
    byte_budget: Annotated[
        int | None, typer.Option("--byte-budget", min=1, help="抓取字节预算 / crawl byte budget (bytes received)")
    ] = None,
    fetch_ahead: Annotated[int | None, typer.Option("--fetch-ahead", min=0, help="层级屏障前预取的页面数（0 关闭）/ next-level pages fetched ahead of a slow level (0: off)")] = None,
    formats: Annotated[list[str] | None, typer.Option("--format", help="json,html,xlsx,ledger,docx,pdf（默认 json,html,xlsx,ledger；ledger=整改台账，docx=整改通知书，pdf=HTML 报告的 PDF）")] = None,
    a11y: Annotated[str | None, typer.Option("--a11y", help="无障碍抽样: sample | all | off")] = None,
    incremental: Annotated[bool | None, typer.Option("--incremental/--no-incremental",
                                                     help="复用上次检查未变化的页面（条件请求）/ reuse unchanged pages of the last run")] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="不校验 TLS 证书 / do not verify certificates")] = False,
    plugin: Annotated[list[str] | None, typer.Option("--plugin", "-p", help="运行时加载的插件模块 / plugin module to load")] = None,
    accounts: Annotated[Path | None, typer.Option("--accounts", help="政务新媒体备案登记表 CSV/XLSX / new-media account registry")] = None,
    resume: Annotated[str | None, typer.Option("--resume", metavar="[RUN_ID]",
                                               help="继续被中断的运行（省略编号：最近一次）/ continue an interrupted run "
                                                    "(no id: the latest)")] = None,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="允许访问内网/回环地址（内网审计）/ allow private, loopback and reserved targets")] = False,
) -> None:
    """自查一个网站 / audit one site (the pre-assessment self-check)."""

    if plugin:
        import os

        os.environ["GOVAUDIT_PLUGINS"] = ",".join(filter(None, [os.environ.get("GOVAUDIT_PLUGINS", ""), *plugin]))
    try:
        plugin_options: dict[str, dict[str, Any]] = {}
        if a11y:
            plugin_options["a11y"] = {"mode": a11y}
        from auditor.cli.newmedia import accounts_options

        if (nm := accounts_options(accounts)) is not None:
            plugin_options["newmedia"] = nm
        cli = {
            "out": str(out_dir) if out_dir else None,
            "db": str(db) if db else None,
            "max_pages": max_pages,
            "max_depth": max_depth,
            "as_of": as_of,
            "profile": profile,
            "rules": rules,
            "lang": lang,
            "dns_server": dns_server,
            "resolve": parse_resolve(resolve) or None,
            "checks": _split(checks),
            "skip": _split(skip),
            "concurrency": concurrency,
            "delay": delay,
            "timeout": timeout,
            "obey_robots": obey_robots,
            "sibling_hosts": sibling_host,
            "columns": column,
            "time_budget": time_budget,
            "byte_budget": byte_budget,
            "fetch_ahead_pages": fetch_ahead,
            "formats": _split(formats),
            "verify_tls": False if insecure else None,
            "allow_private": True if allow_private else None,
            "incremental": incremental,
        }
        validate.check_cli(url, cli, config_file)
        cfg = _make_config(url, config_file, cli)
        if plugin_options:
            for name, opts in plugin_options.items():
                cfg.plugin_options.setdefault(name, {}).update(opts)
        validate.check_config(cfg)
    except ConfigError as exc:
        err.print(f"[red]{'error' if lang == 'en' else '错误'}:[/] {validate.message(exc, lang)}", soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    raise typer.Exit(run_audit(cfg, resume=resume))


def run_audit(cfg: AuditConfig, resume: str | None = None) -> int:
    """Run one audit with a live progress display; return the exit status."""

    from auditor import interrupt
    from auditor.engine import AuditCannotRun, Engine, audit
    from auditor.pluginmanager import PluginError

    zh = cfg.lang != "en"
    try:
        engine = Engine(cfg)
        validate.check_engine(cfg, engine)
        store, run_id = resume_target(cfg, resume)
    except (ConfigError, PluginError) as exc:
        err.print(f"[red]{'错误' if zh else 'error'}:[/] {validate.message(exc, cfg.lang)}", soft_wrap=True)
        return EXIT_USAGE
    live_holder: dict[str, Any] = {}

    def on_start(job: Any) -> None:
        # the run id first: a run killed later can be found (recheck, --resume) without the report
        err.print(("运行编号：" if zh else "run id: ") + job.run_id + ("（继续）" if zh and resume else " (resumed)" if resume else ""))
        if not interactive():  # cron, systemd, a pipe: plain lines every few seconds, no live panel
            print(("开始自查 " if zh else "Auditing ") + cfg.url + _cap_note(cfg.max_pages, zh), file=sys.stderr, flush=True)
            live_holder["live"] = PlainProgress(job).start()
            return
        live = Live(get_renderable=lambda: _progress(job, zh), console=err, refresh_per_second=4, transient=True)
        err.print(("开始自查 " if zh else "Auditing ") + cfg.url + _cap_note(cfg.max_pages, zh))
        live.start()
        live_holder["live"] = live

    log_file = validate.file_logging(cfg.db)  # warnings and tracebacks: a file, not the terminal
    guard = None
    try:
        with interrupt.guarding() as guard:
            result = audit(cfg, engine, store=store, on_crawl_start=on_start, resume=run_id)
    except AuditCannotRun as exc:
        _stop_live(live_holder)
        err.print(f"[red]{exc}[/]", soft_wrap=True)
        for p in exc.paths:
            out.print(("报告：" if zh else "report: ") + str(p))
        if log_file.exists() and log_file.stat().st_size:
            err.print(("详情见日志：" if zh else "details in the log: ") + str(log_file), soft_wrap=True)
        return EXIT_CANNOT_RUN
    except ConfigError as exc:
        _stop_live(live_holder)
        err.print(f"[red]{'错误' if zh else 'error'}:[/] {validate.message(exc, cfg.lang)}", soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:  # a second signal while the partial report was being written
        _stop_live(live_holder)
        err.print("已中断 / interrupted")
        return guard.exit_code if guard is not None else 130
    _stop_live(live_holder)
    _summary(result.report, result.paths, zh)
    if log_file.exists() and log_file.stat().st_size:
        err.print(("运行日志（警告与错误详情）：" if zh else "log (warnings and error details): ") + str(log_file), soft_wrap=True)
    if result.interrupted:
        err.print(("已中断，部分报告已写出；继续：govaudit check --resume " if zh else
                   "interrupted; a partial report was written; continue with: govaudit check --resume ") + result.run_id)
        return 128 + result.interrupted
    return EXIT_VETO if result.veto else EXIT_OK



def resume_target(cfg: AuditConfig, resume: str | None) -> tuple[Any, str | None]:
    """The store, and the run ``--resume`` continues (None: a new run). Opening the store marks
    runs whose process died ``interrupted``; only those (and runs stopped by a signal) resume."""

    from auditor.store.database import EvidenceStore
    from auditor.store.journal import RESUMABLE, latest_resumable

    store = EvidenceStore(cfg.db)
    if resume is None:
        return store, None
    run_id = latest_resumable(store, cfg.host) if resume == LATEST else resume
    if run_id is None:
        raise validate.OptionError("--resume", f"没有可继续的中断运行（{cfg.host}）", f"no interrupted run of {cfg.host} to resume")
    run = store.get_run(run_id)
    if run is None:
        raise validate.OptionError("--resume", f"没有这个运行记录：{run_id}", f"no such run: {run_id}")
    if run["status"] not in RESUMABLE:
        raise validate.OptionError("--resume", f"运行 {run_id} 的状态是 {run['status']}，只能继续被中断的运行",
                                   f"run {run_id} is {run['status']}; only interrupted runs resume")
    if run["site"] != cfg.host:
        raise validate.OptionError("--resume", f"运行 {run_id} 审计的是 {run['site']}，不是 {cfg.host}",
                                   f"run {run_id} audited {run['site']}, not {cfg.host}")
    if run["as_of"] != cfg.as_of:
        raise validate.OptionError("--resume", f"运行 {run_id} 的评估基准日是 {run['as_of']}（--as-of {cfg.as_of}）",
                                   f"run {run_id} has --as-of {run['as_of']}, not {cfg.as_of}")
    return store, run_id


def _cap_note(max_pages: int, zh: bool) -> str:
    """The page budget, said before the crawl (the default 5,000 included: no silent cap)."""

    return f"（页面上限 {max_pages}，可用 --max-pages 调整）" if zh else f" (page cap {max_pages}; --max-pages to change)"


def _stop_live(holder: dict[str, Any]) -> None:
    live = holder.pop("live", None)
    if live is not None:
        live.stop()


def _progress(job: Any, zh: bool) -> Any:
    s = job.stats
    elapsed = max(0.001, time.time() - s.started)
    labels = (
        ("阶段", "已抓取页面", "已检查链接", "链接目标", "疑似不可用", "已发现问题", "用时")
        if zh
        else ("stage", "pages crawled", "links checked", "link targets", "suspected dead", "findings so far", "elapsed")
    )
    stage = {"crawl": "抓取与链接检查", "measure": "网络测量", "checks": "规则检查"}.get(s.stage, s.stage) if zh else s.stage
    values = (stage, s.pages, s.checked, s.targets, s.suspect_dead, s.findings, f"{elapsed:.0f}s ({s.pages / elapsed:.0f} p/s)")
    t = Table.grid(padding=(0, 2))
    for label, value in zip(labels, values, strict=True):
        t.add_row(Text(label, style="bold"), str(value))
    return Group(Text(job.config.url, style="cyan"), t)


def _summary(report: dict[str, Any], paths: list[Path], zh: bool) -> None:
    score = report["score"]
    table = Table(title=("自查结果 " if zh else "Audit result ") + report["site"]["host"], show_lines=False)
    table.add_column("项目" if zh else "item")
    table.add_column("结果" if zh else "value")
    table.add_row("结论" if zh else "verdict", score["verdict_zh"] if zh else score["verdict_en"])
    table.add_row("扣分部分得分" if zh else "deduction-part score",
                  f"{score['score']} / {score.get('max_points', 100):g}（{'合格线' if zh else 'pass line'} {score['pass_line']:g}）")
    hit = [v for v in score.get("veto_items", []) if v["state"] == "triggered"]
    vetoes = ", ".join(f"{v['name_zh'] if zh else v['name_en']}×{len(v['findings'])}" for v in hit) or ("无" if zh else "none")
    table.add_row("单项否决" if zh else "single veto", vetoes)
    if report.get("newmedia"):  # 政务新媒体: judged per account (issue #12)
        nm = score.get("newmedia") or {}
        table.add_row("政务新媒体" if zh else "new media", f"{len(report['newmedia']['accounts'])} · "
                      + (nm.get("verdict_zh", "") if zh else nm.get("verdict_en", "")))
    cov = report.get("coverage") or {}
    table.add_row("抓取页面" if zh else "pages", str(cov.get("pages_fetched", report["stats"].get("pages", 0)))
                  + (f" / {'上限' if zh else 'cap'} {cov['max_pages']}" if cov.get("max_pages") else ""))
    table.add_row("链接目标" if zh else "link targets", str(cov.get("link_targets", 0)))
    table.add_row("状态" if zh else "status", report["status"] + (f" ({', '.join(cov.get('limited_by', []))})" if cov.get("limited_by") else ""))
    if report.get("limits_note"):
        table.add_row("抓取受限" if zh else "limited by", report["limits_note"])
    out.print(table)
    for line in score.get("explanation_zh" if zh else "explanation_en", []):
        out.print("· " + line, soft_wrap=True)
    per_rule = report["stats"]["findings_per_rule"]
    if per_rule:
        cost: dict[str, float] = {}
        for f in report["findings"]:
            cost[f["rule"]] = cost.get(f["rule"], 0.0) + (f.get("deduction") or 0.0)
        vetoed = {f["rule"] for f in report["findings"] if f["severity"] == "veto"}
        rt = Table(title="各规则问题数（先改这些：否决项与扣分多的在前）" if zh else "Findings per rule (fix these first)")
        rt.add_column("规则" if zh else "rule")
        rt.add_column("名称" if zh else "name")
        rt.add_column("数量" if zh else "count", justify="right")
        rt.add_column("扣分" if zh else "deducted", justify="right")
        for rid, n in sorted(per_rule.items(), key=lambda kv: (kv[0] not in vetoed, -cost.get(kv[0], 0.0), kv[0])):
            info = report["rules"].get(rid, {})
            mark = ("否决" if zh else "veto") if rid in vetoed else (f"{cost[rid]:.2f}" if cost.get(rid) else "")
            rt.add_row(rid, info.get("name", ""), str(n), mark)
        out.print(rt)
    for p in paths:
        out.print(("报告：" if zh else "report: ") + str(p))
    out.print(("运行编号：" if zh else "run id: ") + report["run_id"])


@app.command()
def demo(
    out_dir: OutOpt = None,
    db: DbOpt = None,
    lang: LangOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="评估基准日 (default today)")] = None,
    checks: Annotated[list[str] | None, typer.Option("--checks")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip")] = None,
    fleet: Annotated[bool, typer.Option("--fleet", help="批量巡检演示：演示名单中的 6 个网站与汇总、通报 / the fleet demo")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, help="--fleet：并行审计数")] = 2,
) -> None:
    """审计内置的演示政府网站（本机回环地址）/ audit the bundled demo government site on loopback."""

    if fleet:  # issue #11: the demo registry through `govaudit fleet run`'s machinery
        from auditor.cli.fleet import fleet_demo_command

        raise typer.Exit(fleet_demo_command(out_dir, db, as_of, workers))
    from auditor.demo.site import serve_demo

    try:
        as_of_date = as_of or default_as_of()
        with serve_demo(as_of=dt.date.fromisoformat(as_of_date)) as site:
            cli = {
                "out": str(out_dir) if out_dir else None,
                "db": str(db) if db else None,
                "lang": lang,
                "as_of": as_of_date,
                "resolve": dict(site.resolve),
                # the SSRF guard lets the demo reach its own loopback server, nothing else private
                "allow_networks": [str(ipaddress.ip_network(site.address))],
                "checks": _split(checks),
                "skip": _split(skip),
                "timeout": 5.0,
                "retry_after_cap": 2.0,
                "obey_robots": True,
            }
            cfg = _make_config(site.url, None, cli)
            code = run_audit(cfg)
    except (ConfigError, ValueError) as exc:
        err.print(f"[red]错误 / error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    raise typer.Exit(code)


@app.command()
def recheck(
    run_id: Annotated[str, typer.Argument(help="运行编号 / run id")],
    out_dir: OutOpt = None,
    db: DbOpt = None,
    lang: LangOpt = None,
    rules: Annotated[str | None, typer.Option("--rules", help="换用规则包 / another rule pack")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    formats: Annotated[list[str] | None, typer.Option("--format", help="json,html,xlsx,ledger,docx,pdf")] = None,
) -> None:
    """在已存储的审计上重新运行检查（不重新抓取）/ re-run checks on a stored audit without re-crawling."""

    from auditor.engine import Engine
    from auditor.engine import recheck as do_recheck
    from auditor.store.database import EvidenceStore

    try:
        store = EvidenceStore(str(db) if db else None)
        run = store.get_run(run_id)
        if run is None:
            raise ConfigError(f"没有这个运行记录 / no such run: {run_id}")
        # None values (no --dns-server…) were never options: the schema refuses them as strings
        stored = {k: v for k, v in (run["options"] or {}).items() if k != "plugin_options" and v is not None}
        overrides = {"lang": lang, "rules": rules, "as_of": as_of, "db": str(db) if db else stored.get("db"),
                     "out": str(out_dir) if out_dir else None, "formats": _split(formats)}
        cfg = build_config({**stored, **{k: v for k, v in overrides.items() if v is not None}}, {})
        cfg.plugin_options = (run["options"] or {}).get("plugin_options") or {}
        if not out_dir:
            cfg.out = str(Path(_default_out(cfg)) / f"recheck-{run_id}")
        engine = Engine(cfg)
        result = do_recheck(cfg, run_id, engine, store)
    except ConfigError as exc:
        err.print(f"[red]错误 / error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    _summary(result.report, result.paths, cfg.lang != "en")
    if result.undecided:  # an interrupted run: judged on part of its evidence, no verdict
        raise typer.Exit(EXIT_UNDECIDED)
    raise typer.Exit(EXIT_VETO if result.veto else EXIT_OK)


@app.command("rules")
def rules_cmd(
    pack: Annotated[str | None, typer.Option("--pack", help="显示该规则包的有效取值 / show this pack's effective values")] = None,
    profile: Annotated[str, typer.Option("--profile")] = "county",
    lang: Annotated[str, typer.Option("--lang")] = "zh",
) -> None:
    """列出已注册的规则 / list every registered rule (and a rule pack's effective values)."""

    from auditor.pluginmanager import collect_parameters, collect_rules, get_plugin_manager
    from auditor.rulepacks import load_pack

    zh = lang != "en"
    try:
        pm = get_plugin_manager()
        declared = collect_rules(pm)
        table = Table(title="已注册规则" if zh else "Registered rules", show_lines=False)
        for col in (("规则", "rule"), ("中文名称", "Chinese name"), ("英文名称", "English name"), ("严重程度", "severity"),
                    ("依据", "basis"), ("插件", "plugin")):
            table.add_column(col[0] if zh else col[1], overflow="fold")
        for rid, r in declared.items():
            table.add_row(rid, r.name_zh, r.name_en, str(r.severity), r.basis.zh if zh else (r.basis.en or r.basis.zh), r.plugin)
        out.print(table)
        if pack:
            p = load_pack(pack, collect_parameters(pm))
            vt = Table(title=f"{p.name_zh if zh else p.name_en} ({' → '.join(p.chain)})")
            for col in (("键", "key"), ("类型", "type"), ("取值", "value"), ("来源规则包", "from pack"), ("核实状态", "status"),
                        ("出处", "source")):
                vt.add_column(col[0] if zh else col[1], overflow="fold")
            for key, entry in sorted(p.values.items()):
                vt.add_row(key, p.parameters[key].type_label(), str(entry["value"]), entry["pack"], entry["status"],
                           entry["source"])
            out.print(vt)
            if p.requirements:
                rt = Table(title="地方要求（尚无规则检查）" if zh else "Local requirements (no rule checks them yet)")
                for col in (("键", "key"), ("取值", "value"), ("来源规则包", "from pack"), ("出处", "source")):
                    rt.add_column(col[0] if zh else col[1], overflow="fold")
                for key, entry in sorted(p.requirements.items()):
                    rt.add_row(key, str(entry["value"]), entry["pack"], entry["source"])
                out.print(rt)
            ct = Table(title=("必设栏目（" if zh else "Required columns (") + profile + ("）" if zh else ")"))
            for col in (("栏目", "column"), ("分组", "group"), ("来源规则包", "from pack"), ("依据", "basis")):
                ct.add_column(col[0] if zh else col[1], overflow="fold")
            for c in p.columns_for(profile):
                ct.add_row(c["name"], c["group"], c["pack"], f"{c['basis']['source']} ({c['basis']['status']})")
            out.print(ct)
    except ConfigError as exc:
        err.print(f"[red]错误 / error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None


@app.command()
def version() -> None:
    """显示版本 / show the version."""

    out.print(f"govaudit {__version__}")


# --- extra commands (monitor, history, …) register below this line ---------------------------


@app.command()
def monitor(
    sites: Annotated[Path | None, typer.Option("--sites", help="站点清单：TOML（site 表数组，含 name、url）或 CSV（name,url）")] = None,
    url: Annotated[list[str] | None, typer.Option("--url", help="监测的网址（可重复）/ URL to probe (repeatable)")] = None,
    db: DbOpt = None,
    interval: Annotated[float | None, typer.Option("--interval", help="两轮间隔秒（默认取规则包，3600）/ seconds between rounds")] = None,
    once: Annotated[bool, typer.Option("--once", help="只探测一轮后退出（供 cron 调用）/ one round, for cron")] = False,
    count: Annotated[int | None, typer.Option("--count", min=1, help="探测若干轮后退出 / stop after N rounds")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="打不开判定秒数（默认15）/ failure limit in seconds")] = None,
    dns_server: Annotated[str | None, typer.Option("--dns-server", help="HOST:PORT")] = None,
    resolve: Annotated[list[str] | None, typer.Option("--resolve", help="HOST=ADDR（可重复）")] = None,
    rules: Annotated[str, typer.Option("--rules", help="规则包 / rule pack")] = "national",
    incremental: Annotated[bool | None, typer.Option("--incremental/--no-incremental",
                                                     help="复用上次检查未变化的页面（条件请求）/ reuse unchanged pages of the last run")] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="不校验 TLS 证书")] = False,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="允许探测内网/回环地址 / allow private targets")] = False,
) -> None:
    """站点可访问性监测（1周、每天≥20次、15秒）/ probe registered sites for the availability indicator."""

    from auditor.measure.monitor import cli_monitor

    try:
        code = cli_monitor(sites, url, str(db) if db else None, interval, once, count, timeout, dns_server,
                           parse_resolve(resolve), rules, insecure, out.print, allow_private=allow_private)
    except ConfigError as exc:
        err.print(f"[red]错误 / error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    raise typer.Exit(code)


from auditor.cli.fleet import register as _register_fleet  # noqa: E402 - registry, fleet, worker (issue #11)
from auditor.cli.history import register as _register_history  # noqa: E402 - history, diff, triage, ledger import

_register_fleet(app)

_register_history(app)


def _argv_value(option: str) -> str | None:
    """``--db X`` or ``--db=X`` from the command line (where a traceback log goes)."""

    args = sys.argv[1:]
    for i, a in enumerate(args):
        if a == option and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(option + "="):
            return a.split("=", 1)[1]
    return None


def _optional_value(args: list[str], option: str, default: str) -> list[str]:
    """``--resume`` with its value left out (last, or before another option or the URL) means
    ``--resume latest``: typer has no options with an optional value."""

    out = list(args)
    for i, a in enumerate(out):
        if a == option and (i + 1 == len(out) or out[i + 1].startswith("-") or "://" in out[i + 1]):
            out.insert(i + 1, default)
            break
    return out


def main() -> None:
    """Console-script entry point: no traceback on the terminal — an unexpected error is one
    line naming the log file (beside the evidence store) that holds its traceback."""

    sys.argv[1:] = _optional_value(sys.argv[1:], "--resume", LATEST)
    try:
        app()
    except KeyboardInterrupt as exc:
        err.print("已中断 / interrupted")
        sys.exit(128 + getattr(exc, "signum", 2))
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the terminal
        db = _argv_value("--db")
        try:
            where = str(validate.log_traceback(exc, db))
        except Exception:  # noqa: BLE001
            where = "(日志写入失败 / the log could not be written)"
        err.print(f"内部错误 / internal error: {type(exc).__name__}: {str(exc)[:300]} — 详情见 / traceback in {where}",
                  soft_wrap=True, markup=False, highlight=False)
        sys.exit(EXIT_CANNOT_RUN)


if __name__ == "__main__":
    main()
