"""政务新媒体 measure plugin: the accounts of a run and what every account source read of them.

Measure stage only (``govaudit recheck`` replays the stored measurements, offline):

1. the office's 备案 registry (``--accounts registry.csv|xlsx``, option ``[plugins.newmedia] accounts``;
   columns 账号名称, 平台, 主办单位, 账号ID, 主页或订阅地址, 状态 — common aliases accepted). Its rows are
   stored, so a recheck needs neither the file nor the network (``govaudit check --accounts`` refuses a
   missing file; a file gone by the measure stage, or a bad row, is an error record);
2. the accounts the site lists on its 政务新媒体 / 新媒体矩阵 pages (:func:`auditor.measure.newmedia.discover`
   over the stored crawl — no fetch);
3. the two lists paired (:func:`auditor.measure.newmedia.merge`) and every account read by each source
   that accepts it (hook ``govaudit_account_sources``), several accounts at a time (sources must be
   thread-safe; the HTTP probe is). A source that raises gives a not-decidable reading.

Measurements (version 1): ``newmedia.accounts``/``site`` and ``newmedia.account``/<uid>
(see :mod:`auditor.measure.newmedia`).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from auditor.context import MeasureContext, SiteView
from auditor.hookspecs import hookimpl
from auditor.measure.newmedia import (
    ACCOUNT_KIND,
    ACCOUNTS_KIND,
    EXPORT,
    VERSION,
    Account,
    Reading,
    discover,
    link_kind,
    merge,
    platform_of,
)
from auditor.tables import read_records

OPTIONS = "newmedia"
REGISTRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("账号名称", "账号", "名称", "新媒体名称", "account", "name"),
    "platform": ("平台", "平台类型", "所在平台", "platform"),
    "owner": ("主办单位", "开办主体", "运营单位", "开设单位", "主管单位", "owner"),
    "account_id": ("账号ID", "账号id", "ID", "微信号", "账号编号", "account_id"),
    "address": ("主页或订阅地址", "主页地址", "订阅地址", "地址", "链接", "url", "address"),
    "status": ("状态", "运行状态", "账号状态", "status"),
}
_SPLIT = re.compile(r"[\s;；,，]+")


def registry_path(config: Any) -> str | None:
    value = (config.plugin_options.get(OPTIONS) or {}).get("accounts")
    return str(value) if value else None


@hookimpl
def govaudit_serves() -> list[str]:
    return ["newmedia"]


def _pick(row: dict[str, Any], key: str) -> str:
    for alias in REGISTRY_COLUMNS[key]:
        for k, v in row.items():
            if k is not None and str(k).strip().lower() == alias.lower() and v not in (None, ""):
                return str(v).strip()
    return ""


def read_registry(path: Path) -> tuple[list[Account], dict[str, Any]]:
    """Accounts of the registry file and what was wrong with it (unknown platform, missing name…)."""

    info: dict[str, Any] = {"given": True, "file": path.name, "rows": 0, "problems": []}
    try:
        rows = read_records(path)
    except Exception as exc:  # noqa: BLE001 - a broken file is an error record, never a crash
        info["problems"].append({"row": None, "problem": "unreadable", "detail": f"{type(exc).__name__}: {exc}"[:300]})
        return [], info
    info["rows"] = len(rows)
    if rows and not any(_pick(r, "name") for r in rows):
        info["problems"].append({"row": None, "problem": "no_name_column", "detail": ", ".join(map(str, rows[0].keys()))})
    out: list[Account] = []
    for i, row in enumerate(rows, start=2):  # row 1 is the header
        name, platform_cell = _pick(row, "name"), _pick(row, "platform")
        if not name:
            info["problems"].append({"row": i, "problem": "no_name", "detail": ""})
            continue
        platform = platform_of(platform_cell) or (platform_cell or None)
        if platform_cell and not platform_of(platform_cell):
            info["problems"].append({"row": i, "problem": "unknown_platform", "detail": platform_cell})
        acc = Account(name=name, platform=platform, owner=_pick(row, "owner"), account_id=_pick(row, "account_id"),
                      status=_pick(row, "status"),
                      origins={"registry": {"row": i, "cells": {k: _pick(row, k) for k in REGISTRY_COLUMNS}}})
        for addr in filter(None, _SPLIT.split(_pick(row, "address"))):
            if link_kind(addr) == EXPORT and not addr.startswith("file:") and not Path(addr).is_absolute():
                addr = str((path.parent / addr).resolve())  # an export named relative to the registry file
            acc.add_link(addr)
        out.append(acc)
    return out, info


def read_account(account: Account, sources: list[Any], ctx: MeasureContext) -> list[dict[str, Any]]:
    """One reading per source that accepts the account; a source's exception is a not-decidable reading."""

    readings: list[dict[str, Any]] = []
    for src in sources:
        try:
            if not src.accepts(account):
                continue
            got = src.read(account, ctx)
            readings.append(got.as_dict() if isinstance(got, Reading) else dict(got))
        except Exception as exc:  # noqa: BLE001 - a source's failure means "not decidable", not "stale"
            readings.append(Reading(source=str(getattr(src, "name", src)), decidable=False, reason="source_error",
                                    detail={"error": f"{type(exc).__name__}: {exc}"[:300]}).as_dict())
    return readings


@hookimpl
def govaudit_measure(site: SiteView, ctx: MeasureContext) -> None:
    path = registry_path(ctx.config)
    registry: list[Account] = []
    info: dict[str, Any] = {"given": False, "file": None, "rows": 0, "problems": []}
    if path:
        registry, info = read_registry(Path(path))
        for p in info["problems"]:
            ctx.store.add_error(ctx.run_id, "measure", f"备案登记表问题 / registry problem: {p['problem']} {p['detail']}".strip(),
                                url=f"{info['file']}#row{p['row']}" if p["row"] else info["file"], plugin="newmedia_probe")
    listed, pages = discover(site.pages("html"))
    accounts = merge(registry, listed)
    sources = list(ctx.account_sources)
    try:
        ctx.probe("http")  # built once here, before the threads share it (the probe table is not locked)
    except KeyError:
        pass  # an engine without the HTTP probe: network sources say "not decidable"
    workers = max(1, min(16, int(ctx.config.concurrency or 1), len(accounts) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="newmedia") as pool:
        readings = list(pool.map(lambda a: read_account(a, sources, ctx), accounts))
    uids: list[str] = []
    for acc, got in zip(accounts, readings, strict=True):
        uid = acc.uid
        while uid in uids:  # two registry rows for one account: keep both (the duplicate check wants them)
            uid += "#"
        uids.append(uid)
        ctx.measure(ACCOUNT_KIND, uid, {"account": acc.as_dict(), "readings": got}, version=VERSION)
    ctx.measure(ACCOUNTS_KIND, "site", {"registry": info, "listing_pages": pages, "accounts": uids,
                                        "sources": [str(getattr(s, "name", s)) for s in sources]}, version=VERSION)
