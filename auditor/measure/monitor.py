"""Scheduled availability probing (站点可访问性监测) for the 单项否决 "站点无法访问".

The indicator (国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》单项否决·站点无法访问) is measured over **one week**, with **at least
20 visits a day** at intervals; a visit fails when the site has not opened within **15 s**; failures
reaching **5 %** veto the site (the 3 % warning is this tool's default, not a national rule). A one-shot audit cannot decide that, so
``govaudit monitor`` probes registered sites on that schedule — as a daemon (``--interval``) or one
round per call for cron (``--once``) — and stores every probe in the evidence store as an
``availability_probe`` record (no run id; ``site`` = host). ``checks/availability.py`` later reads the
week before ``--as-of`` from the same store.

A visit is the homepage GET with redirects followed, the whole exchange (DNS, connect, TLS,
redirects, body) inside the time limit — "does not open" rather than "first byte late". Names resolve
through the audit resolver, so ``--dns-server``/``--resolve`` work as in ``govaudit check``. A
certificate that fails verification does not count as a failure (the page still opens after the
browser warning); it is recorded in the probe for the security check to judge.
"""

from __future__ import annotations

import csv
import signal
import threading
import time
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor.config import ConfigError
from auditor.measure.records import MONITOR_RECORD_KIND, iter_monitor_visits
from auditor.network.resolve import Resolver
from auditor.store.database import EvidenceStore

RECORD_KIND = MONITOR_RECORD_KIND


@dataclass(frozen=True)
class MonitoredSite:
    name: str
    url: str

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()


def _site(name: str, url: str, where: str) -> MonitoredSite:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"站点清单中的网址无效 / invalid URL in {where}: {url!r}")
    return MonitoredSite((name or "").strip() or parts.hostname, url)


def load_sites(path: str | Path) -> list[MonitoredSite]:
    """Read the registered sites: TOML (``[[site]] name = … url = …``) or CSV (``name,url``)."""

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(f"站点清单不存在 / sites file not found: {p}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"站点清单须为 UTF-8 / sites file must be UTF-8: {p}") from exc
    sites: list[MonitoredSite] = []
    if p.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"站点清单 TOML 格式错误 / invalid TOML in {p}: {exc}") from exc
        entries = data.get("site", data.get("sites", []))
        if not isinstance(entries, list):
            raise ConfigError(f"{p}: 需要 [[site]] 表 / expected [[site]] tables")
        for i, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                raise ConfigError(f"{p}: site #{i} 不是表 / is not a table")
            sites.append(_site(str(entry.get("name", "")), str(entry.get("url", "")), f"{p} site #{i}"))
    else:
        rows = list(csv.reader(text.splitlines()))
        if rows and [c.strip().lower() for c in rows[0][:2]] == ["name", "url"]:
            rows = rows[1:]
        for lineno, row in enumerate(rows, start=2):
            if not row or not any(c.strip() for c in row) or row[0].strip().startswith("#"):
                continue
            if len(row) < 2:
                raise ConfigError(f"{p}:{lineno}: 需要 name,url 两列 / expected two columns name,url")
            sites.append(_site(row[0], row[1], f"{p}:{lineno}"))
    if not sites:
        raise ConfigError(f"站点清单为空 / no sites in {p}")
    return sites


class Monitor:
    """Probe every registered site once per round and store each visit."""

    def __init__(
        self,
        sites: list[MonitoredSite],
        store: EvidenceStore,
        resolver: Resolver,
        timeout: float = 15.0,
        interval: float = 3600.0,
        verify: bool = True,
        user_agent: str | None = None,
        clock: Callable[[], float] = time.time,
        on_probe: Callable[[dict[str, Any]], None] | None = None,
    ):
        from auditor.network.http import USER_AGENT, HttpProbe

        self.sites = sites
        self.store = store
        self.timeout = timeout
        self.interval = interval
        self.clock = clock  # when a visit is stamped; a simulated week in tests, wall time otherwise
        self.on_probe = on_probe
        self.probe = HttpProbe(resolver, timeout=timeout, verify=verify, user_agent=user_agent or USER_AGENT)
        self.stop = threading.Event()
        self.rounds = 0

    def visit(self, site: MonitoredSite) -> dict[str, Any]:
        at = self.clock()
        started = time.monotonic()
        r = self.probe.fetch(site.url, follow_redirects=5, max_body=512 * 1024)
        elapsed = time.monotonic() - started
        ok = r.status is not None and r.status < 400 and elapsed <= self.timeout
        return {
            "name": site.name,
            "url": site.url,
            "at": at,
            "ok": ok,
            "status": r.status,
            "error_kind": r.error_kind if not ok else None,
            "error": (r.error or (f"HTTP {r.status}" if r.status else None)) if not ok else None,
            "elapsed": round(elapsed, 3),
            "timeout": self.timeout,
            "final_url": r.final_url,
            "address": r.address,
            "redirects": r.redirects,
            "tls_error": r.tls.verify_error if r.tls and not r.tls.verified else None,
        }

    def round(self) -> list[dict[str, Any]]:
        """One visit to every site (concurrently, so one slow site does not delay the others)."""

        with ThreadPoolExecutor(max_workers=max(1, min(16, len(self.sites))), thread_name_prefix="monitor") as pool:
            results = list(pool.map(self.visit, self.sites))
        for site, data in zip(self.sites, results, strict=True):
            self.store.add_record(None, site.host, RECORD_KIND, site.url, data)
            if self.on_probe:
                self.on_probe(data)
        self.store.flush()
        self.rounds += 1
        return results

    def run(self, count: int | None = None) -> int:
        """Rounds every ``interval`` seconds (measured start to start) until ``count`` or ``stop``."""

        while not self.stop.is_set():
            started = time.monotonic()
            self.round()
            if count is not None and self.rounds >= count:
                break
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        return self.rounds


def iter_probes(store: EvidenceStore, hosts: Iterable[str]) -> Iterable[dict[str, Any]]:
    """Every stored visit of these hosts (the record's ``at`` in the data is the visit time)."""

    return iter_monitor_visits(store, hosts)


def cli_monitor(
    sites_file: Path | None,
    urls: list[str] | None,
    db: str | None,
    interval: float | None,
    once: bool,
    count: int | None,
    timeout: float | None,
    dns_server: str | None,
    resolve: dict[str, str],
    rules: str,
    insecure: bool,
    echo: Callable[[str], None],
) -> int:
    """What ``govaudit monitor`` does; returns the exit status (0 ok, 2 configuration error)."""

    from auditor.config import parse_hostport
    from auditor.pluginmanager import collect_parameters, get_plugin_manager
    from auditor.rulepacks import load_pack

    sites: list[MonitoredSite] = []
    if sites_file:
        sites += load_sites(sites_file)
    for u in urls or []:
        sites.append(_site("", u, "--url"))
    if not sites:
        raise ConfigError("需要 --sites 文件或 --url / give --sites FILE or --url URL")
    if dns_server:
        parse_hostport(dns_server, 53)
    pack = load_pack(rules, collect_parameters(get_plugin_manager()))  # a bad pack is refused here too
    timeout = float(timeout if timeout is not None else pack.value("availability.timeout_seconds"))
    interval = float(interval if interval is not None else pack.value("availability.probe_interval_seconds"))
    if interval <= 0 or timeout <= 0:
        raise ConfigError("--interval 与 --timeout 须大于 0 / must be positive")
    per_day = int(pack.value("availability.min_visits_per_day"))
    if not once and interval > 86400 / per_day:
        echo(f"注意：间隔 {interval:g} 秒每天不足 {per_day} 次访问，监测结果将无法判定 / "
             f"warning: fewer than {per_day} visits a day at this interval; the week will not be decidable")
    store = EvidenceStore(db)
    monitor = Monitor(
        sites, store, Resolver(resolve, dns_server, timeout=min(timeout, 5.0)), timeout=timeout, interval=interval,
        verify=not insecure,
        on_probe=lambda d: echo(
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(d['at']))} {d['name']} "
            + (f"正常 OK HTTP {d['status']} {d['elapsed']}s" if d["ok"] else f"失败 FAIL {d['error_kind'] or ''} {d['error'] or ''}")
        ),
    )

    def stop(_signum: int, _frame: Any) -> None:
        monitor.stop.set()

    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    if threading.current_thread() is threading.main_thread():
        for s in previous:
            signal.signal(s, stop)
    try:
        monitor.run(count=1 if once else count)
    finally:
        if threading.current_thread() is threading.main_thread():
            for s, h in previous.items():
                signal.signal(s, h)
        store.close()
    echo(f"完成 {monitor.rounds} 轮监测，记录已写入 / {monitor.rounds} round(s) stored in {store.url}")
    return 0
