"""The bundled demo audited twice, each time on a fresh random port: the same problems, the same ids.

Before ids were port-free only 25 of the demo's 101 finding ids survived a second run (the port is in
every URL and in every hash built from one), so a monthly comparison of the demo was all 新增/已整改.
Accessibility and 适老化 are skipped to keep the two audits cheap (their element identities are pinned
port- and date-free in tests/test_history.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.servers import run_cli

pytestmark = pytest.mark.slow

AS_OF = "2026-01-10"


def test_two_demo_runs_on_different_ports_share_every_id(tmp_path: Path) -> None:
    reports = []
    for n in (1, 2):
        out = tmp_path / f"run{n}"
        proc = run_cli("demo", "--out", str(out), "--db", str(tmp_path / "d.sqlite"), "--as-of", AS_OF,
                       "--skip", "a11y,elderly", timeout=900)
        assert proc.returncode in (0, 1), proc.stderr[-4000:]
        reports.append(json.loads((out / "report.json").read_text("utf-8")))
    first, second = reports
    ports = {r["site"]["url"].rsplit(":", 1)[1] for r in reports}
    assert len(ports) == 2, ports  # the trap: two ports, or the test proves nothing
    ids1, ids2 = ({f["id"] for f in r["findings"]} for r in reports)
    assert ids1 == ids2 and len(ids1) >= 25
    changes = second["changes"]
    assert changes["previous_run"] == first["run_id"]
    assert changes["counts"]["persisting"] == len(ids2)
    assert changes["counts"]["new"] == changes["counts"]["fixed"] == changes["counts"]["not_rechecked"] == 0
    assert all(f["history"]["first_seen"] == AS_OF and f["history"]["runs_seen"] == 2 for f in second["findings"])
