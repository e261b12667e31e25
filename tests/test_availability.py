"""Availability monitoring: ``govaudit monitor`` against a local server that fails on demand, and the
week-long veto decided from stored probes by ``govaudit check``.

The monitor's HTTP visits are real (loopback server, real timeouts, dropped connections); only for
the week-long scenarios is the *timestamp* of each visit taken from a simulated clock (a week of
hourly visits runs in seconds), through the monitor's ``clock`` parameter.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError

from auditor.checks import availability
from auditor.config import ConfigError
from auditor.measure.monitor import RECORD_KIND, Monitor, load_sites
from auditor.network.resolve import Resolver
from auditor.store.database import EvidenceStore
from tests.sites.net_fixture import stored_run
from tests.support import Request, Site, dns_server, run_cli, serve
from tests.support.servers import govaudit_executable

HOST = "www.avail.gov.cn"
AS_OF = dt.date(2024, 6, 10)
TZ = ZoneInfo("Asia/Shanghai")


class Switch:
    """Fail modes chosen by visit number: ``{3: "500", 5: "slow", 6: "drop"}``; ``slow`` sleeps past the limit."""

    def __init__(self, plan: dict[int, str] | None = None, slow: float = 1.5):
        self.plan = plan or {}
        self.visits = 0
        self.enabled = True
        self.slow = slow
        self.lock = threading.Lock()

    def __call__(self, req: Request) -> tuple[int, dict[str, str], str]:
        with self.lock:
            n = self.visits if self.enabled else -1
            if self.enabled:
                self.visits += 1
        mode = self.plan.get(n)
        if mode == "500":
            return 500, {"Content-Type": "text/html; charset=utf-8"}, "<h1>服务器错误</h1>"
        if mode == "drop":
            return 0, {}, ""
        if mode == "slow":
            time.sleep(self.slow)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, (
            "<html><head><meta charset='utf-8'><title>某某县人民政府</title></head><body><h1>首页</h1></body></html>"
        )


@pytest.fixture
def flaky() -> Iterator[tuple[Switch, str, str]]:
    switch = Switch()
    site = Site("avail").handler("/", switch)
    with serve(site) as srv, dns_server({HOST: ["127.0.0.1"]}) as dns:
        yield switch, f"http://{HOST}:{srv.port}/", dns


def stored(db: Path) -> list[dict]:
    store = EvidenceStore(db)
    try:
        return [r["data"] for r in store.iter_records(RECORD_KIND, site=HOST)]
    finally:
        store.close()


# --- the sites file ------------------------------------------------------------------------------

def test_sites_file_toml_and_csv(tmp_path: Path) -> None:
    toml = tmp_path / "sites.toml"
    toml.write_text('[[site]]\nname = "某某县人民政府"\nurl = "http://www.x.gov.cn/"\n\n[[site]]\nurl = "https://y.gov.cn/"\n',
                    encoding="utf-8")
    sites = load_sites(toml)
    assert [(s.name, s.url, s.host) for s in sites] == [
        ("某某县人民政府", "http://www.x.gov.cn/", "www.x.gov.cn"), ("y.gov.cn", "https://y.gov.cn/", "y.gov.cn")]
    csv = tmp_path / "sites.csv"
    csv.write_text("name,url\n某某市人民政府,http://www.z.gov.cn/\n# comment,\n\n", encoding="utf-8-sig")
    assert [s.url for s in load_sites(csv)] == ["http://www.z.gov.cn/"]
    bad = tmp_path / "bad.csv"
    bad.write_text("name,url\nx,ftp://nope\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.csv:2"):
        load_sites(bad)
    with pytest.raises(ConfigError):
        load_sites(tmp_path / "missing.toml")


def test_monitor_usage_errors(tmp_path: Path) -> None:
    r = run_cli("monitor", "--db", str(tmp_path / "a.sqlite"), "--once")
    assert r.returncode == 2 and "--sites" in r.stderr


# --- the command, against a server failing on demand -------------------------------------------

def test_monitor_counts_errors_timeouts_and_drops(tmp_path: Path, flaky: tuple[Switch, str, str]) -> None:
    switch, url, dns = flaky
    switch.plan = {1: "500", 3: "slow", 4: "drop"}
    db = tmp_path / "a.sqlite"
    started = time.monotonic()
    r = run_cli("monitor", "--url", url, "--db", str(db), "--interval", "0.2", "--count", "7", "--timeout", "1",
                "--dns-server", dns)
    assert r.returncode == 0, r.stderr
    probes = stored(db)
    assert [p["ok"] for p in probes] == [True, False, True, False, False, True, True]
    assert probes[1]["status"] == 500
    assert probes[3]["error_kind"] == "timeout" and probes[3]["elapsed"] < 1.5
    assert probes[4]["error_kind"] in ("reset", "other") and probes[4]["status"] is None
    assert all(p["url"] == url and p["timeout"] == 1.0 for p in probes)
    assert time.monotonic() - started >= 6 * 0.2  # rounds are spaced by the interval
    assert "失败 FAIL" in r.stdout and "正常 OK" in r.stdout


def test_once_for_cron_probes_every_site_once(tmp_path: Path, flaky: tuple[Switch, str, str]) -> None:
    _, url, dns = flaky
    sites = tmp_path / "sites.csv"
    sites.write_text(f"name,url\n主站,{url}\n镜像,{url}index.html\n", encoding="utf-8")
    db = tmp_path / "a.sqlite"
    for _ in range(2):  # two cron calls
        r = run_cli("monitor", "--sites", str(sites), "--db", str(db), "--once", "--dns-server", dns)
        assert r.returncode == 0, r.stderr
    probes = stored(db)
    assert sorted(p["name"] for p in probes) == ["主站", "主站", "镜像", "镜像"]
    assert sorted(p["ok"] for p in probes) == [False, False, True, True]  # /index.html is a 404 here


def test_daemon_stops_cleanly_on_sigterm(tmp_path: Path, flaky: tuple[Switch, str, str]) -> None:
    _, url, dns = flaky
    db = tmp_path / "a.sqlite"
    proc = subprocess.Popen([str(govaudit_executable()), "monitor", "--url", url, "--db", str(db), "--interval", "0.2",
                             "--dns-server", dns], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                if db.exists() and len(stored(db)) >= 3:
                    break
            except OperationalError:
                pass  # the daemon is still creating the schema (EvidenceStore's create_all is not atomic)
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, errs = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, errs
    assert len(stored(db)) >= 3
    assert "轮监测" in out


# --- the week before --as-of --------------------------------------------------------------------

def simulate_week(db: Path, url: str, dns: str, switch: Switch, per_day: int = 24, days: int = 7) -> int:
    """Real visits, stamped hour by hour over the 7 days before AS_OF (Beijing time)."""

    start = dt.datetime.combine(AS_OF - dt.timedelta(days=days), dt.time(0, 30), TZ).timestamp()
    step = 86400 / per_day
    stamps = iter(start + i * step for i in range(per_day * days))
    store = EvidenceStore(db)
    mon = Monitor([load_sites_url(url)], store, Resolver({}, dns), timeout=1.0, interval=0, clock=lambda: next(stamps))
    n = mon.run(count=per_day * days)
    store.close()
    return n


def load_sites_url(url: str):  # noqa: ANN201 - small helper
    from auditor.measure.monitor import MonitoredSite

    return MonitoredSite("测试站", url)


def check(tmp_path: Path, url: str, dns: str, db: Path) -> tuple[int, dict]:
    out = tmp_path / "out"
    r = run_cli("check", url, "--out", str(out), "--db", str(db), "--dns-server", dns, "--checks", "availability",
                "--as-of", AS_OF.isoformat())
    assert r.returncode in (0, 1), r.stderr + r.stdout
    return r.returncode, json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_week_with_5_percent_failures_is_a_veto(tmp_path: Path, flaky: tuple[Switch, str, str]) -> None:
    switch, url, dns = flaky
    failing = [5, 20, 33, 47, 60, 90, 110, 130, 150]  # 9 of 168 = 5.36 %
    switch.plan = {n: "500" for n in failing}
    db = tmp_path / "a.sqlite"
    assert simulate_week(db, url, dns, switch) == 168
    switch.enabled = False  # the audit's own crawl sees a healthy site
    code, report = check(tmp_path, url, dns, db)
    assert code == 1  # exit status 1: a single-veto finding
    [f] = [f for f in report["findings"] if f["rule"] == "availability.site_unreachable"]
    assert f["severity"] == "veto"
    assert f["evidence"]["visits"] == 168 and f["evidence"]["failures"] == 9
    assert all(d["visits"] == 24 for d in f["evidence"]["days"])
    assert f["evidence"]["days"][0]["date"] == "2024-06-03" and f["evidence"]["days"][-1]["date"] == "2024-06-09"
    metric = next(m for m in report["metrics"] if m["name"] == "availability.failure_ratio")
    assert metric["value"] == 9 / 168 and metric["target"] == 0.05
    assert report["score"]["veto"]


def judge(tmp_path: Path, url: str, db: Path) -> list:
    """The availability hook on a stored run in the monitor's database (in process)."""

    run = stored_run(url, str(db), as_of=AS_OF.isoformat())
    try:
        return list(availability.govaudit_check_site(run.site, run.ctx))
    finally:
        run.close()


@pytest.mark.parametrize(("failing", "rule"), [
    (7, "availability.site_unreachable"),  # 7/140 = exactly 5 %: the veto line is inclusive
    (6, "availability.degraded"),  # 4.29 %: above the 3 % warning line
    (5, "availability.degraded"),  # 3.57 %
    (4, None),  # 2.86 %: fine
])
def test_thresholds_at_the_minimum_schedule(tmp_path: Path, flaky: tuple[Switch, str, str], failing: int,
                                            rule: str | None) -> None:
    switch, url, dns = flaky
    switch.plan = {n: "500" for n in list(range(1, 140, 20))[:failing]}  # spread over the days
    db = tmp_path / "a.sqlite"
    assert simulate_week(db, url, dns, switch, per_day=20) == 140  # the indicator's minimum: 20 a day
    found = judge(tmp_path, url, db)
    assert [f.rule for f in found] == ([rule] if rule else [])
    if rule:
        assert found[0].evidence["failures"] == failing and found[0].evidence["visits"] == 140
        assert found[0].severity == ("veto" if rule.endswith("unreachable") else "minor")


def test_too_few_samples_is_not_decidable(tmp_path: Path, flaky: tuple[Switch, str, str]) -> None:
    switch, url, dns = flaky
    switch.plan = {0: "500", 1: "500"}  # 2 of 12 failed: 17 %, but a week is not measured
    db = tmp_path / "a.sqlite"
    simulate_week(db, url, dns, switch, per_day=12, days=1)  # 12 visits, all on the last day
    [f] = judge(tmp_path, url, db)
    assert f.rule == "availability.undecided" and f.severity == "info"
    assert f.evidence["visits"] == 12 and f.evidence["failures"] == 2
    assert len(f.evidence["short_days"]) == 7  # the one measured day has 12 < 20 visits
    assert "govaudit monitor" in f.message_zh


def test_visits_outside_the_week_do_not_count(tmp_path: Path, flaky: tuple[Switch, str, str]) -> None:
    switch, url, dns = flaky
    switch.plan = {n: "500" for n in range(168)}  # a bad week …
    db = tmp_path / "a.sqlite"
    simulate_week(db, url, dns, switch)
    run = stored_run(url, str(db), as_of=(AS_OF + dt.timedelta(days=8)).isoformat())  # … judged a week later
    try:
        [f] = list(availability.govaudit_check_site(run.site, run.ctx))
    finally:
        run.close()
    assert f.rule == "availability.undecided" and f.evidence["visits"] == 0


def test_no_monitoring_data_at_all(tmp_path: Path, flaky: tuple[Switch, str, str]) -> None:
    _, url, dns = flaky
    code, report = check(tmp_path, url, dns, tmp_path / "a.sqlite")
    assert code == 0
    [f] = report["findings"]
    assert f["rule"] == "availability.undecided" and "没有任何监测记录" in f["message_zh"]
