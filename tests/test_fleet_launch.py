"""How a fleet starts each audit (:mod:`auditor.fleet.launch`): forked from a warm forkserver or exec'd.

The forked audit must be the same audit as a fresh ``govaudit check`` (findings, exit code, its own
evidence run under its own pid), get a reactor of its own every time, and die with the worker that
asked for it. Also: what a fleet site writes by default, and ``govaudit demo --fleet`` from a shell
that allows no private network.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from auditor.demo.fleet_sites import serve_fleet
from auditor.fleet import launch
from auditor.fleet.runner import FleetOptions, check_argv, open_store
from auditor.store.database import runs
from tests.support.servers import run_cli

AS_OF = "2026-11-30"
FAST = ["--a11y", "off", "--skip", "elderly", "--timeout", "3"]
ROOT = Path(__file__).resolve().parents[1]


def _findings(report: Path) -> list[tuple[str, str]]:
    data = json.loads(report.read_text("utf-8"))
    return sorted((f["rule"], f.get("url") or "") for f in data["findings"])


def test_forked_audits_equal_a_fresh_interpreter_and_each_runs_its_own_reactor(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    with serve_fleet(1, 5, dt.date.fromisoformat(AS_OF)) as fleet:
        site = fleet.members[0]
        results = {}
        # two forks from the same forkserver (a reactor left in the server would fail both; one shared
        # between audits would fail the second) and one exec'd interpreter
        for name, how in (("fork1", "fork"), ("fork2", "fork"), ("exec", "exec")):
            out = tmp_path / name
            argv = ["check", site.url, *FAST, *fleet.resolve_args(), "--out", str(out), "--db", str(db), "--as-of", AS_OF,
                    "--format", "json"]
            out.mkdir()
            audit = launch.start(argv, str(out / "audit.log"), {"NO_COLOR": "1"}, how)
            code = audit.wait(timeout=240)
            results[name] = (audit.pid, code, out)
    for name, (_, code, out) in results.items():
        assert code in (0, 1), (name, (out / "audit.log").read_text("utf-8")[-2000:])
    assert len({code for _, code, _ in results.values()}) == 1
    expected = _findings(results["exec"][2] / "report.json")
    assert expected and _findings(results["fork1"][2] / "report.json") == expected == _findings(results["fork2"][2] / "report.json")
    # each forked audit is its own process with its own evidence run (the runner finds a run by pid)
    store = open_store(str(db))
    with store.engine.connect() as conn:
        by_pid = {r.pid: r.status for r in conn.execute(runs.select())}
    assert {pid for pid, _, _ in results.values()} <= set(by_pid) and results["fork1"][0] != results["fork2"][0]
    assert os.getpid() not in by_pid
    log = (results["fork1"][2] / "audit.log").read_text("utf-8")
    assert "运行编号" in log and "\x1b[" not in log and "Traceback" not in log  # check's own output, no colour codes


SUPERVISOR = """
import sys, time
sys.path.insert(0, {root!r})
from auditor.fleet import launch
if __name__ == "__main__":
    audit = launch.start({argv!r}, {log!r}, {{}}, "fork")
    print(audit.pid, flush=True)
    time.sleep(120)
"""


def test_kill_9_of_the_supervisor_ends_its_forked_audit(tmp_path: Path) -> None:
    """The forkserver outlives its client while a forked child holds multiprocessing's alive pipe: the
    audit must close it, or a killed worker leaves its crawler running while the retry starts another."""

    with socket.socket() as silent:  # accepts, never answers: the audit waits on it
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        argv = ["check", f"http://127.0.0.1:{silent.getsockname()[1]}/", "--timeout", "60", "--as-of", AS_OF,
                "--db", str(tmp_path / "a.sqlite"), "--out", str(tmp_path / "o")]
        script = tmp_path / "supervisor.py"
        script.write_text(SUPERVISOR.format(root=str(ROOT), argv=argv, log=str(tmp_path / "audit.log")), "utf-8")
        sup = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
        try:
            audit_pid = int(sup.stdout.readline())  # type: ignore[union-attr]
            deadline = time.time() + 60
            while "开始自查" not in _read(tmp_path / "audit.log") and time.time() < deadline:  # the audit is running
                time.sleep(0.2)
            assert _alive(audit_pid), _read(tmp_path / "audit.log")
            os.kill(sup.pid, signal.SIGKILL)
            sup.wait(10)
            deadline = time.time() + 10
            while _alive(audit_pid) and time.time() < deadline:
                time.sleep(0.1)
            assert not _alive(audit_pid), "the forked audit outlived its killed supervisor"
        finally:
            if sup.poll() is None:
                sup.kill()


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"  # a zombie has finished
    except (FileNotFoundError, IndexError):
        return False


def test_fleet_sites_write_json_and_html_unless_the_fleet_names_formats() -> None:
    site = {"site_code": "3300000001", "homepage": "http://www.a.gov.cn/", "level": "county", "rulepack": None}
    argv = check_argv(site, FleetOptions(db="a.sqlite", out="o", as_of=AS_OF, check_args=["--max-pages", "5"]))
    assert argv[:2] == ["check", "http://www.a.gov.cn/"] and argv[argv.index("--format") + 1] == "json,html"
    named = check_argv(site, FleetOptions(db="a.sqlite", out="o", as_of=AS_OF, check_args=["--format", "json,xlsx"]))
    assert named.count("--format") == 1 and named[named.index("--format") + 1] == "json,xlsx"
    old = FleetOptions.from_dict({"db": "a.sqlite", "out": "o", "as_of": AS_OF})  # options stored before launchers existed
    assert old.launcher == launch.default_launcher() and old.site_formats == ["json", "html"]


def test_demo_fleet_from_a_shell_that_allows_no_private_network(tmp_path: Path) -> None:
    """``govaudit demo --fleet`` (the issue's spelling) on a fresh machine: the demo's own loopback sites
    are allowed for its audits, nothing else (the suite's GOVAUDIT_ALLOW_NETWORKS is emptied here)."""

    res = run_cli("demo", "--fleet", "--out", tmp_path / "d", "--as-of", AS_OF, env={"GOVAUDIT_ALLOW_NETWORKS": ""},
                  timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    rollup = json.loads((tmp_path / "d" / "rollup.json").read_text("utf-8"))
    status = sorted(s["status"] for s in rollup["sites"])
    assert status == ["done"] * 5 + ["unreachable"] and rollup["summary"]["passed"] >= 1
    assert "合格率" in res.stdout and (tmp_path / "d" / "检查情况通报.docx").exists()
    assert run_cli("fleet", "demo", "--help").returncode == 0  # the old spelling still there
