"""``govaudit history``, ``diff``, ``triage`` and ``ledger import``: the monthly audit's commands.

The logic lives in :mod:`auditor.store.history` (statuses, coverage, triage rows) and
:mod:`auditor.reports.ledger` (the 整改台账); these functions parse options, print and write files.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True)
out = Console()
EXIT_OK, EXIT_USAGE = 0, 2

DbOpt = Annotated[Path | None, typer.Option("--db", help="证据库 SQLite 文件或 SQLAlchemy URL / evidence store")]
LangOpt = Annotated[str, typer.Option("--lang", help="zh | en")]


def _store(db: Path | None) -> Any:
    from auditor.store.database import EvidenceStore

    return EvidenceStore(str(db) if db else None)


def _site_of(text: str) -> str:
    """``www.x.gov.cn`` from a host or a URL (what ``runs.site`` holds)."""

    text = text.strip()
    return (urlsplit(text).hostname or "").lower() if "://" in text else text.lower().rstrip("/")


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]错误 / error:[/] {message}")
    return typer.Exit(EXIT_USAGE)


def history_cmd(
    site: Annotated[str, typer.Argument(help="网站主机名或网址 / the site's host or URL")],
    db: DbOpt = None,
    lang: LangOpt = "zh",
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出 / print JSON")] = False,
) -> None:
    """列出一个网站的历次检查 / the runs of a site: date, as-of, status, score, verdict, vetoes, new/fixed."""

    from auditor.store.history import site_runs, status_counts

    zh = lang != "en"
    store = _store(db)
    host = _site_of(site)
    runs = site_runs(store, host)
    if not runs:
        raise _fail(f"没有该网站的运行记录 / no runs of {host}")
    counts = status_counts(store, [r["id"] for r in runs])
    rows = []
    for r in runs:
        score = r.get("score") or {}
        vetoes = [v for v in score.get("veto_items", []) if v.get("state") == "triggered"]
        c = counts.get(r["id"], {})
        rows.append({
            "run_id": r["id"], "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(r["started_at"])), "as_of": r["as_of"],
            "status": r["status"], "score": score.get("score"),
            "verdict": (score.get("verdict_zh") if zh else score.get("verdict_en")) or "",
            "vetoes": [v["name_zh"] if zh else v["name_en"] for v in vetoes],
            "new": c.get("new", 0) + c.get("reopened", 0), "reopened": c.get("reopened", 0), "fixed": c.get("fixed", 0),
            "not_rechecked": c.get("not_rechecked", 0),
        })
    if as_json:
        out.print_json(json.dumps({"site": host, "runs": rows}, ensure_ascii=False))
        return
    table = Table(title=("检查记录 " if zh else "Runs of ") + host)
    for zh_label, en_label in (("运行编号", "run"), ("检查时间", "date"), ("评估基准日", "as of"), ("状态", "status"),
                               ("得分", "score"), ("结论", "verdict"), ("单项否决", "vetoes"), ("新增", "new"),
                               ("已整改", "fixed"), ("未复查", "not re-checked")):
        table.add_column(zh_label if zh else en_label, overflow="fold")
    for r in rows:
        table.add_row(r["run_id"], r["date"], r["as_of"], r["status"], "" if r["score"] is None else f"{r['score']:g}",
                      r["verdict"], "、".join(r["vetoes"]) or ("无" if zh else "none"),
                      str(r["new"]) + (f" ({'复现' if zh else 'reopened'} {r['reopened']})" if r["reopened"] else ""),
                      str(r["fixed"]), str(r["not_rechecked"]))
    out.print(table)


def diff_markdown(d: dict[str, Any], zh: bool = True) -> str:
    """The comparison of two runs as Markdown (for a mail or a ticket)."""

    names = {"new": "新增", "persisting": "持续", "fixed": "已整改", "not_rechecked": "本次未复查"} if zh else \
        {"new": "new", "persisting": "persisting", "fixed": "fixed", "not_rechecked": "not re-checked"}
    a, b = d["run_a"], d["run_b"]
    lines = [f"# {'检查对比' if zh else 'Comparison'}: {a['id']} → {b['id']}", "",
             f"| | {a['id']} | {b['id']} |", "| --- | --- | --- |",
             f"| {'网站' if zh else 'site'} | {a['site']} | {b['site']} |",
             f"| {'评估基准日' if zh else 'as of'} | {a['as_of']} | {b['as_of']} |",
             f"| {'得分' if zh else 'score'} | {a['score']} | {b['score']} |",
             f"| {'问题数' if zh else 'findings'} | {a['findings']} | {b['findings']} |", ""]
    lines.append(" · ".join(f"{names[k]} {v}" for k, v in d["counts"].items()))
    for key in ("new", "fixed", "not_rechecked"):
        items = d["findings"][key]
        if not items:
            continue
        lines += ["", f"## {names[key]} ({len(items)})", ""]
        for f in items:
            msg = (f.get("message") or "").replace("|", "\\|").replace("\n", " ")
            lines.append(f"- `{f['id']}` {f['rule']}: {msg} <{f.get('url') or ''}>")
    return "\n".join(lines) + "\n"


def diff_cmd(
    run_a: Annotated[str, typer.Argument(help="较早的运行编号 / the earlier run")],
    run_b: Annotated[str, typer.Argument(help="较晚的运行编号 / the later run")],
    db: DbOpt = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="写出 diff.json 与 diff.md 的目录 / write diff.json and diff.md here")] = None,
    lang: LangOpt = "zh",
) -> None:
    """对比任意两次检查 / compare any two runs: new, persisting, fixed, not re-checked."""

    from auditor.store.history import compare_runs

    zh = lang != "en"
    store = _store(db)
    try:
        d = compare_runs(store, run_a, run_b)
    except KeyError as exc:
        raise _fail(f"没有这个运行记录 / no such run: {exc.args[0]}") from None
    if not d["same_site"]:
        err.print("[yellow]注意：两次检查不是同一网站 / the runs are of different sites[/]")
    table = Table(title=f"{run_a} → {run_b}")
    table.add_column("状态" if zh else "status")
    table.add_column("数量" if zh else "count", justify="right")
    names = {"new": "新增", "persisting": "持续", "fixed": "已整改", "not_rechecked": "本次未复查"}
    for k, v in d["counts"].items():
        table.add_row(names[k] if zh else k, str(v))
    out.print(table)
    for key in ("new", "fixed", "not_rechecked"):
        for f in d["findings"][key]:
            out.print(f"{names[key] if zh else key}\t{f['id']}\t{f['rule']}\t{f.get('url') or ''}", soft_wrap=True)
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "diff.json").write_text(json.dumps(d, ensure_ascii=False, indent=1), encoding="utf-8")
        (out_dir / "diff.md").write_text(diff_markdown(d, zh), encoding="utf-8")
        out.print(("已写出 " if zh else "written: ") + str(out_dir / "diff.json") + ", " + str(out_dir / "diff.md"))


def triage_cmd(
    finding_id: Annotated[str, typer.Argument(help="问题编号（16位）/ the finding id")],
    false_positive: Annotated[bool, typer.Option("--false-positive", help="标记为误报 / mark as a false positive")] = False,
    defer: Annotated[bool, typer.Option("--defer", help="暂缓/豁免 / defer (exempt for now)")] = False,
    clear: Annotated[bool, typer.Option("--clear", help="撤销标记 / remove the mark")] = False,
    note: Annotated[str | None, typer.Option("--note", help="理由 / the reason")] = None,
    until: Annotated[str | None, typer.Option("--until", help="有效期至 YYYY-MM-DD / the mark applies up to this as-of date")] = None,
    site: Annotated[str | None, typer.Option("--site", help="网站（编号在多个网站出现时必填）/ the site, when the id is ambiguous")] = None,
    db: DbOpt = None,
) -> None:
    """标记误报或暂缓，后续检查沿用且不计分 / mark a finding as a false positive or deferred (kept, not scored)."""

    from auditor.store.history import set_triage, sites_of_finding

    chosen = [name for name, on in (("false_positive", false_positive), ("deferred", defer)) if on]
    if len(chosen) + int(clear) != 1:
        raise _fail("请且仅请指定 --false-positive、--defer 或 --clear 之一 / give exactly one of --false-positive, --defer, --clear")
    fid = finding_id.strip().lower()
    if len(fid) != 16 or any(c not in "0123456789abcdef" for c in fid):
        raise _fail(f"问题编号应为16位十六进制 / a finding id is 16 hex digits: {finding_id!r}")
    if until:
        try:
            dt.date.fromisoformat(until)
        except ValueError:
            raise _fail(f"--until 日期无效 / invalid date: {until!r}") from None
    if chosen and not (note or "").strip():
        raise _fail("请用 --note 写明理由 / say why with --note")
    store = _store(db)
    sites = [_site_of(site)] if site else sites_of_finding(store, fid)
    if not sites:
        raise _fail(f"证据库中没有这个问题编号 / no finding {fid} in the store")
    if len(sites) > 1:
        raise _fail(f"问题编号在多个网站出现，请用 --site 指定 / the id occurs for several sites: {', '.join(sites)}")
    from auditor.store.history import latest_finding

    f = latest_finding(store, sites[0], fid)
    row = set_triage(store, sites[0], fid, mark=chosen[0] if chosen else None, note=note, until=until, source="cli",
                     rule=f.rule if f else None, clear_mark=clear)
    label = {"false_positive": "误报 / false positive", "deferred": "暂缓 / deferred"}.get(row["mark"] or "", "无标记 / no mark")
    out.print(f"{sites[0]} {fid}: {label}" + (f"（至 {row['until']}）" if row.get("until") else "")
              + (f" · {f.rule}: {f.message_zh}" if f else ""), soft_wrap=True)


def ledger_import_cmd(
    path: Annotated[Path, typer.Argument(help="整改台账 ledger.xlsx")],
    site: Annotated[str | None, typer.Option("--site", help="网站（默认取台账“说明”页）/ the site (default: from the ledger)")] = None,
    db: DbOpt = None,
) -> None:
    """读回整改台账：责任单位、整改时限、整改情况与误报/暂缓标记 / read an edited ledger back into the store."""

    from auditor.reports.ledger import read_ledger
    from auditor.store.history import set_triage, triage_of

    try:
        about, rows = read_ledger(path)
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(f"无法读取台账 / cannot read the ledger {path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a damaged workbook is bad input, not a crash
        raise _fail(f"台账文件无效 / not a readable ledger {path}: {type(exc).__name__}: {exc}") from None
    host = _site_of(site) if site else _site_of(about.get("网站") or about.get("site") or "")
    if not host:
        raise _fail("台账未注明网站，请用 --site 指定 / the ledger names no site: pass --site")
    store = _store(db)
    known = triage_of(store, host)
    marked = updated = 0
    for r in rows:
        if not any((r.responsible, r.deadline, r.progress, r.mark, r.note)) and r.finding_id not in known:
            continue
        note = r.note
        if r.mark and note:
            for word in ("误报", "暂缓", "豁免", "false positive", "deferred"):
                note = note.removeprefix(word).lstrip("；;:： ")
        set_triage(store, host, r.finding_id, mark=r.mark, note=note or None, responsible=r.responsible,
                   deadline=r.deadline, progress=r.progress, source="ledger",
                   clear_mark=r.mark is None and (known.get(r.finding_id) or {}).get("source") == "ledger"
                   and bool((known.get(r.finding_id) or {}).get("mark")))
        updated += 1
        marked += int(r.mark is not None)
    out.print(f"已读回 {updated} 行（其中误报/暂缓 {marked} 行）/ imported {updated} rows ({marked} marked) for {host}")


def register(app: typer.Typer) -> None:
    """Add the commands to the ``govaudit`` app (one call in auditor/cli/main.py)."""

    app.command("history")(history_cmd)
    app.command("diff")(diff_cmd)
    app.command("triage")(triage_cmd)
    ledger = typer.Typer(help="整改台账 / the rectification ledger", no_args_is_help=True)
    ledger.command("import")(ledger_import_cmd)
    app.add_typer(ledger, name="ledger")

