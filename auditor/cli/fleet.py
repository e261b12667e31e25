"""``govaudit registry``, ``govaudit fleet`` and ``govaudit worker``: the provincial inspection commands.

``fleet run`` takes every option of ``check`` without restating them: what it does not know itself is
parsed by ``check``'s own click command (so a typo is refused before 700 audits start, with check's
message) and handed on to each ``govaudit check`` process as written. Logic lives in
:mod:`auditor.fleet`; this module only parses and prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.exceptions import TyperException

from auditor.config import ConfigError, default_as_of

registry_app = typer.Typer(help="网站名单 / the site registry", no_args_is_help=True)
fleet_app = typer.Typer(help="批量巡检 / inspect every registry site and roll the results up", no_args_is_help=True)
err = Console(stderr=True)
out = Console()
EXIT_USAGE = 2
PASS_THROUGH = {"context_settings": {"allow_extra_args": True, "ignore_unknown_options": True}}
# check options the fleet sets per site or itself (never passed through)
FLEET_OWNED = {"url", "out_dir", "db", "as_of", "rules", "config_file"}

DbOpt = Annotated[str | None, typer.Option("--db", help="证据库（SQLite 文件或 postgresql://…）/ evidence store")]


def register(app: typer.Typer) -> None:
    """Hook the commands into the main app (called from ``auditor.cli.main``)."""

    app.add_typer(registry_app, name="registry")
    app.add_typer(fleet_app, name="fleet")
    app.command("worker")(worker)


def _db(db: str | None) -> str:
    from auditor.store.database import default_db_path

    return db or str(default_db_path())


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[red]错误 / error:[/] {exc}")
    return typer.Exit(EXIT_USAGE)


# --- registry -----------------------------------------------------------------------------------

def import_registry(path: Path, db: str) -> tuple[list[str], list[str]]:
    """Import ``path`` into the store; returns (imported codes, problem lines) and prints both."""

    from auditor.fleet.registry import known_rule_packs, parse
    from auditor.fleet.runner import open_store
    from auditor.store.registry import FleetStore

    parsed = parse(path, known_rule_packs())
    for p in parsed.problems:
        err.print(f"[yellow]{p}[/]", soft_wrap=True)
    added, updated = FleetStore(open_store(db)).upsert_sites(parsed.sites, str(path))
    out.print(f"已导入 {len(parsed.sites)} 个网站（新增 {added}，更新 {updated}），跳过 {len(parsed.problems)} 行")
    return [s["site_code"] for s in parsed.sites], [str(p) for p in parsed.problems]


@registry_app.command("import")
def registry_import(
    file: Annotated[Path, typer.Argument(help="名单文件 CSV 或 XLSX（列：网站标识码、网站名称、首页地址、主办单位、行政级别、上级单位、地区、规则包、备注）")],
    db: DbOpt = None,
) -> None:
    """导入网站名单（逐行校验，错误行报告并跳过）/ import a registry file (bad rows reported and skipped)."""

    from auditor.fleet.registry import RegistryFileError

    try:
        if not file.exists():
            raise ConfigError(f"文件不存在 / no such file: {file}")
        _, problems = import_registry(file, _db(db))
    except (RegistryFileError, ConfigError, OSError) as exc:
        raise _fail(exc) from None
    raise typer.Exit(1 if problems else 0)


@registry_app.command("list")
def registry_list(db: DbOpt = None) -> None:
    """列出名单中的网站 / list the registry."""

    from auditor.fleet.runner import open_store
    from auditor.store.registry import FleetStore

    sites = FleetStore(open_store(_db(db))).sites()
    table = Table(title=f"网站名单（{len(sites)} 个）")
    for col in ("网站标识码", "网站名称", "首页地址", "行政级别", "地区", "主办单位", "规则包"):
        table.add_column(col, overflow="fold")
    for s in sites:
        table.add_row(s["site_code"], s["name"], s["homepage"], s["level_label"] or "", s["region"] or "", s["sponsor"] or "",
                      s["rulepack"] or "")
    out.print(table)


# --- fleet run ----------------------------------------------------------------------------------

def check_pass_through(args: list[str]) -> tuple[str | None, list[str], dict[str, Any]]:
    """Parse ``args`` with ``check``'s own command: (the positional REGISTRY, argv for each check, values)."""

    from auditor.cli.main import app as main_app

    check_cmd = typer.main.get_command(main_app).commands["check"]  # type: ignore[attr-defined]
    ctx = check_cmd.make_context("govaudit fleet run", list(args))
    argv: list[str] = []
    for p in check_cmd.params:
        # typer ships its own click: compare by name, not by class
        if getattr(p, "param_type_name", "") != "option" or p.name in FLEET_OWNED or p.name is None:
            continue
        source = ctx.get_parameter_source(p.name)
        if source is None or source.name != "COMMANDLINE":
            continue
        value = ctx.params[p.name]
        if p.is_flag:
            if p.secondary_opts:
                argv.append(p.opts[0] if value else p.secondary_opts[0])
            elif value:
                argv.append(p.opts[0])
        elif p.multiple:
            for v in value or []:
                argv += [p.opts[0], str(v)]
        elif value is not None:
            argv += [p.opts[0], str(value)]
    return (ctx.params.get("url") or None), argv, ctx.params


def _summary(rollup: dict[str, Any], paths: dict[str, Path]) -> None:
    sm = rollup["summary"]
    t = Table(title=f"巡检结果 {rollup['fleet_id']}（评估基准日 {rollup['as_of']}）")
    t.add_column("项目")
    t.add_column("结果")
    for label, value in (("应检网站", sm["sites"]), ("完成检查", sm["audited"]), ("合格", sm["passed"]),
                         ("合格率", f"{sm['pass_rate']:.1%}"), ("无法访问", sm["unreachable"]), ("未完成", sm["not_completed"])):
        t.add_row(label, str(value))
    out.print(t)
    for p in paths.values():
        out.print("输出：" + str(p))


@fleet_app.command("run", **PASS_THROUGH)
def fleet_run(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="巡检输出目录（每站报告与汇总）/ output directory")],
    db: DbOpt = None,
    workers: Annotated[int | None, typer.Option("--workers", min=0, help="并行审计数（本机）/ audits at once on this machine")] = None,
    engine: Annotated[str, typer.Option("--engine", help="local（默认，本机进程 + SQLite）| procrastinate（PostgreSQL 作业队列）")] = "local",
    as_of: Annotated[str | None, typer.Option("--as-of", help="评估基准日 YYYY-MM-DD")] = None,
    rules: Annotated[str | None, typer.Option("--rules", help="名单未填规则包时使用的规则包 / default rule pack")] = None,
    per_ip: Annotated[int, typer.Option("--per-ip", min=1, help="同一 IP（集约化平台）同时审计的站点数上限")] = 2,
    deadline_days: Annotated[int | None, typer.Option("--deadline-days", min=1, help="通报中的整改期限（工作日；默认取规则包 report.rectify_working_days）")] = None,
    audit_timeout: Annotated[float, typer.Option("--audit-timeout", min=1, help="单站审计最长秒数")] = 3600.0,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="procrastinate：等全部完成后写汇总")] = True,
    launcher: Annotated[str | None, typer.Option("--launcher", help="每站审计进程：fork（默认，Linux：预加载的父进程派生）| exec（全新解释器）")] = None,
) -> None:
    """巡检名单中的全部网站并生成汇总与检查情况通报 / audit every registry site, then write the roll-up.

    REGISTRY (optional, first argument): a CSV/XLSX registry imported first, then only its sites are
    audited. Every ``govaudit check`` option (--max-pages, --resolve, --dns-server, --a11y, --checks …)
    may follow and applies to each audit.
    """

    from auditor.fleet.registry import RegistryFileError
    from auditor.fleet.rollup import write_all
    from auditor.fleet.runner import FleetOptions, create_fleet, open_store, run_local

    try:
        registry, argv, params = check_pass_through(ctx.args)
        if engine not in ("local", "procrastinate"):
            raise ConfigError(f"--engine 只能是 local 或 procrastinate / unknown engine {engine!r}")
        from auditor.fleet.launch import LAUNCHERS, default_launcher

        if launcher is not None and launcher not in LAUNCHERS:
            raise ConfigError(f"--launcher 只能是 fork 或 exec / unknown launcher {launcher!r}")
        store_db = _db(db)
        if engine == "procrastinate":
            from auditor.fleet.jobs import store_url

            store_db = store_url(store_db)
        codes = None
        if registry:
            path = Path(registry)
            if not path.exists():
                raise ConfigError(f"名单文件不存在 / no such registry file: {registry}")
            codes, _ = import_registry(path, store_db)
        from auditor.config import parse_resolve

        opts = FleetOptions(db=store_db, out=str(out_dir.resolve()), as_of=as_of or default_as_of(), check_args=argv,
                            rules=rules, per_ip=per_ip, audit_timeout=audit_timeout,
                            resolve=parse_resolve(params.get("resolve")), dns_server=params.get("dns_server"),
                            deadline_days=deadline_days, codes=codes, launcher=launcher or default_launcher())
        fleet_id = create_fleet(store_db, opts, engine)
    except TyperException as exc:  # check's parser refused an option (typer's click UsageError)
        raise _fail(ConfigError(exc.format_message() if hasattr(exc, "format_message") else str(exc))) from None
    except (ConfigError, RegistryFileError, OSError, ValueError) as exc:
        raise _fail(exc) from None
    store = open_store(store_db)
    n = len(opts.codes) if opts.codes is not None else None
    out.print(f"巡检 {fleet_id} 开始" + (f"（{n} 个网站）" if n is not None else ""))
    if engine == "local":
        def done(item: dict[str, Any]) -> None:
            out.print(f"  {item.get('site_code')}: {item.get('status')}")

        run_local(store_db, fleet_id, workers or max(1, min(4, os.cpu_count() or 1)), on_done=done)
    else:
        from auditor.fleet.jobs import defer_sites, ensure_schema, make_app

        app = make_app(store_db)
        try:
            ensure_schema(app, store_db)
            ids = defer_sites(app, store_db, fleet_id)
        except Exception as exc:  # noqa: BLE001 - a database that refuses is a usage error, not a traceback
            raise _fail(ConfigError(f"无法提交作业 / cannot defer jobs: {exc}")) from None
        out.print(f"已提交 {len(ids)} 个作业到 PostgreSQL 队列；在任意机器上运行 govaudit worker --db … 执行")
        if not wait:
            out.print(f"巡检编号：{fleet_id}（完成后运行 govaudit fleet rollup {fleet_id} --db … 生成汇总）")
            raise typer.Exit(0)
        local = [_spawn_worker(store_db) for _ in range(workers or 0)]
        try:
            _wait_fleet(store_db, fleet_id)
        finally:
            for p in local:
                p.terminate()
            for p in local:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        from auditor.store.registry import FleetStore

        FleetStore(store).finish_fleet(fleet_id)
    paths = write_all(store, fleet_id, out_dir, deadline_days)
    import json

    _summary(json.loads(paths["json"].read_text("utf-8")), paths)


def _spawn_worker(db: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "auditor.cli.main", "worker", "--db", db],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_fleet(db: str, fleet_id: str, poll: float = 1.0) -> None:
    from auditor.fleet.runner import open_store
    from auditor.store.registry import FleetStore

    fs = FleetStore(open_store(db))
    while any(i["status"] in ("queued", "running") for i in fs.items(fleet_id)):
        time.sleep(poll)


@fleet_app.command("rollup")
def fleet_rollup(
    fleet_id: Annotated[str, typer.Argument(help="巡检编号 / fleet run id")],
    out_dir: Annotated[Path | None, typer.Option("--out", "-o")] = None,
    db: DbOpt = None,
    deadline_days: Annotated[int | None, typer.Option("--deadline-days", min=1, help="整改期限（工作日）")] = None,
) -> None:
    """重新生成某次巡检的汇总（只读已存储的结果）/ rebuild a fleet run's roll-up from what is stored."""

    import json

    from auditor.fleet.rollup import write_all
    from auditor.fleet.runner import open_store
    from auditor.store.registry import FleetStore

    store = open_store(_db(db))
    fleet = FleetStore(store).fleet(fleet_id)
    if fleet is None:
        raise _fail(ConfigError(f"没有这个巡检 / no such fleet run: {fleet_id}"))
    paths = write_all(store, fleet_id, out_dir or Path(fleet["out"]), deadline_days)
    _summary(json.loads(paths["json"].read_text("utf-8")), paths)


@fleet_app.command("list")
def fleet_list(db: DbOpt = None) -> None:
    """列出巡检记录 / list fleet runs."""

    from auditor.fleet.runner import open_store
    from auditor.store.registry import FleetStore

    fs = FleetStore(open_store(_db(db)))
    t = Table(title="巡检记录")
    for col in ("巡检编号", "评估基准日", "状态", "引擎", "网站数", "输出"):
        t.add_column(col, overflow="fold")
    for f in fs.fleets():
        t.add_row(f["id"], f["as_of"], f["status"], f["engine"], str(len(fs.items(f["id"]))), f["out"])
    out.print(t)


@fleet_app.command("schedule", **PASS_THROUGH)
def fleet_schedule(
    ctx: typer.Context,
    monthly: Annotated[int, typer.Option("--monthly", help="每月几号巡检（1–28）/ day of the month")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="巡检输出目录")],
    db: DbOpt = None,
    rules: Annotated[str | None, typer.Option("--rules")] = None,
    per_ip: Annotated[int, typer.Option("--per-ip", min=1)] = 2,
    hour: Annotated[int, typer.Option("--hour", min=0, max=23, help="几点开始（UTC）")] = 2,
    deadline_days: Annotated[int | None, typer.Option("--deadline-days", min=1, help="整改期限（工作日）")] = None,
) -> None:
    """登记每月定期巡检（由 govaudit worker 执行）/ register the monthly fleet run (run by the workers)."""

    from auditor.config import parse_resolve
    from auditor.fleet.jobs import schedule_monthly, store_url
    from auditor.fleet.runner import FleetOptions

    try:
        registry, argv, params = check_pass_through(ctx.args)
        if registry:
            raise ConfigError("定期巡检使用数据库中的名单：先运行 govaudit registry import")
        store_db = store_url(_db(db))
        opts = FleetOptions(db=store_db, out=str(out_dir.resolve()), as_of="", check_args=argv, rules=rules, per_ip=per_ip,
                            resolve=parse_resolve(params.get("resolve")), dns_server=params.get("dns_server"),
                            deadline_days=deadline_days)
        cron = schedule_monthly(store_db, monthly, opts.to_dict(), hour)
    except TyperException as exc:  # check's parser refused an option (typer's click UsageError)
        raise _fail(ConfigError(exc.format_message() if hasattr(exc, "format_message") else str(exc))) from None
    except ConfigError as exc:
        raise _fail(exc) from None
    out.print(f"已登记每月巡检：cron “{cron}”（UTC）；运行中的 govaudit worker 重启后按此定期提交巡检")


@fleet_app.command("demo")
def fleet_demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("fleet-demo"),
    db: DbOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1)] = 2,
) -> None:
    """演示：本机回环地址上的 6 个演示网站（含无法访问、跳转、标识码不符）组成的名单巡检（同 govaudit demo --fleet）。"""

    raise typer.Exit(fleet_demo_command(out_dir, db, as_of, workers))


def fleet_demo_command(out_dir: Path | None, db: str | Path | None, as_of: str | None, workers: int) -> int:
    """``govaudit demo --fleet`` and ``govaudit fleet demo``: the demo registry, inspected end to end."""

    from auditor.fleet.demo import run_demo

    out_dir = out_dir or Path("fleet-demo")
    try:
        return run_demo(out_dir, _db(str(db)) if db else str(out_dir / "fleet.sqlite"), as_of or default_as_of(), workers,
                        out.print)
    except ConfigError as exc:
        raise _fail(exc) from None


# --- worker -------------------------------------------------------------------------------------

def worker(
    db: Annotated[str, typer.Option("--db", help="PostgreSQL：postgresql://用户@主机:端口/库名")],
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="本 worker 同时审计的站点数")] = 1,
    heartbeat: Annotated[float, typer.Option("--heartbeat", min=0.5, help="心跳间隔秒")] = 10.0,
    stalled_after: Annotated[float, typer.Option("--stalled-after", min=1.0, help="多少秒无心跳视为 worker 已死并重试其作业")] = 30.0,
    burst: Annotated[bool, typer.Option("--burst", help="队列空了就退出")] = False,
) -> None:
    """启动巡检 worker（任何能连到数据库的机器）/ run fleet jobs from the PostgreSQL queue."""

    from auditor.fleet.jobs import run_worker, store_url

    try:
        store_url(db)
        run_worker(db, concurrency, heartbeat, stalled_after, wait=not burst)
    except ConfigError as exc:
        raise _fail(exc) from None
