"""``govaudit recheck`` of an audit with a11y and 适老化 on gives the same findings without Chromium.

The audit drives Chromium through a wrapper script that logs every launch; before the recheck the
wrapper is deleted (the stored ``[plugins.browser] executable`` now points at nothing) and the
recheck runs in a network namespace without interfaces when ``unshare -n`` works. The trap: before
the browser move (issue #9) the a11y and elderly checks drove the browser in the check stage, so
this recheck recorded "needs the browser probe" errors and lost every a11y/elderly finding.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.sites.a11y_fixture import ELDERLY_HOST, HOST, build_a11y_site, build_elderly_site
from tests.support.servers import govaudit_executable, run_cli, serve

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")]


def _unshare_works() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def _family_findings(report: dict) -> list[tuple]:
    return sorted((f["id"], f["rule"], f["url"], f["message"]) for f in report["findings"]
                  if f["rule"].startswith(("a11y.", "elderly.")))


def _launches(log: Path) -> int:
    return len(log.read_text("utf-8").splitlines()) if log.exists() else 0


@pytest.mark.parametrize("which", ["a11y", "elderly"])
def test_recheck_judges_stored_browser_measurements_without_a_browser(tmp_path: Path, which: str) -> None:
    site, host = (build_a11y_site(planted=True), HOST) if which == "a11y" else (build_elderly_site("ads"), ELDERLY_HOST)
    log = tmp_path / "launches.log"
    wrapper = tmp_path / "chromium-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$$ $*" >> "{log}"\nexec {CHROMIUM} "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    cfg = tmp_path / "govaudit.toml"
    cfg.write_text(f'[plugins.browser]\nexecutable = "{wrapper}"\n', encoding="utf-8")
    db = tmp_path / "e.sqlite"
    with serve(site) as srv:
        proc = run_cli("check", "--as-of", "2026-11-22", f"http://{host}:{srv.port}/", "--out", str(tmp_path / "a"),
                       "--db", str(db), "--resolve", f"{host}=127.0.0.1", "--config", str(cfg), "--checks", "a11y",
                       "--checks", "elderly", "--a11y", "all", "--timeout", "5", timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    audit = json.loads((tmp_path / "a" / "report.json").read_text("utf-8"))
    assert _launches(log) >= 1  # the audit did use the browser (through the wrapper)
    rules = {f["rule"] for f in audit["findings"]}
    if which == "a11y":
        a11y = [f for f in audit["findings"] if f["rule"].startswith("a11y.")]
        assert any(f["evidence"]["scope"] == "site" for f in a11y) and any(f["evidence"].get("screenshot") for f in a11y)
        assert "elderly.entry_missing" in rules
    else:
        assert {"elderly.care_ads", "elderly.care_inducement", "elderly.toolbar_incomplete", "elderly.care_contrast"} <= rules
    assert not [e for e in audit["errors"] if e.get("stage") in ("check", "measure")], audit["errors"]
    metric = next(m for m in audit["metrics"] if m["name"] == "a11y.pages_audited")

    wrapper.unlink()  # a recheck that tried to start the browser would now fail and say so
    launches = _launches(log)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "COLUMNS": "160",
           "PATH": os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                                   if not (Path(p) / "chromium").exists())}
    cmd = [str(govaudit_executable()), "recheck", audit["run_id"], "--db", str(db), "--out", str(tmp_path / "b")]
    if _unshare_works():  # by its full path: it lives in /usr/bin, which PATH no longer has
        cmd = [str(shutil.which("unshare")), "-n", *cmd]
    re = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert re.returncode == proc.returncode, re.stderr[-3000:]
    again = json.loads((tmp_path / "b" / "report.json").read_text("utf-8"))
    assert _launches(log) == launches  # no browser was started
    assert _family_findings(again) and _family_findings(again) == _family_findings(audit)
    assert again["score"] == audit["score"]
    assert not [e for e in again["errors"] if e.get("stage") == "check"], again["errors"]
    again_metric = next(m for m in again["metrics"] if m["name"] == "a11y.pages_audited")
    assert again_metric["value"] == metric["value"] > 0
    assert again_metric["detail"]["sample"] == metric["detail"]["sample"]  # the stored sample is reported
