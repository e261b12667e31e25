"""``govaudit recheck`` runs fully offline: in a network namespace with no interfaces at all (not
even loopback up) it gives the audit's findings, ids and score again.

The audit measures the IPv6 fixture (11/16 reachable over IPv6, a v4-only sibling) and a TLS
endpoint whose certificate expires in ten days, through a local DNS server. Before the measure
stage, the ipv6 and security checks probed the network themselves, so the same recheck would have
found no DNS server (``ipv6.no_aaaa`` with a DNS error) and no HTTPS (``security.no_https``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import trustme

from tests.sites.net_fixture import WWW, dual_stack, free_port, ipv6_site, serve_tls, server_context
from tests.support import Site, ipv6_available, run_cli
from tests.support.servers import govaudit_executable


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


pytestmark = [
    pytest.mark.skipif(not ipv6_available(), reason="::1 cannot be bound on this machine (IPv6 disabled)"),
    pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -n` (root, util-linux) for a namespace without network"),
]


def _probe_fetches(db: Path, run_id: str) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("select count(*) from fetches where run_id=? and purpose='probe'", (run_id,)).fetchone()[0]


def _essentials(report: dict) -> list[tuple]:
    return sorted((f["id"], f["rule"], f["message_zh"] if "message_zh" in f else f.get("message")) for f in report["findings"])


def test_recheck_in_a_namespace_without_network(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert = ca.issue_cert(WWW, not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=10, hours=12))
    sp = free_port()
    www, static, _ = ipv6_site(sp)
    https = Site("https").page("/", "<html><head><meta charset='utf-8'><title>首页</title></head><body>首页</body></html>")
    db, cfg = tmp_path / "audit.sqlite", tmp_path / "govaudit.toml"
    with dual_stack(www, static, sp) as net, serve_tls(https, server_context(cert)) as tls:
        cfg.write_text(f'[plugins.ipv6]\nns_port = {net.ns_port}\n[plugins.netprobe]\nca_file = "{ca_file}"\n'
                       f'[plugins.security]\nhttps_url = "https://{WWW}:{tls.port}/"\n', encoding="utf-8")
        r = run_cli("check", net.url, "--out", str(tmp_path / "a"), "--db", str(db), "--dns-server", net.dns,
                    "--config", str(cfg), "--as-of", "2024-06-03", "--checks", "ipv6,security,links")
    assert r.returncode in (0, 1), r.stderr[-3000:]
    audit = json.loads((tmp_path / "a" / "report.json").read_text(encoding="utf-8"))
    rules = {f["rule"] for f in audit["findings"]}
    assert {"ipv6.low_support", "security.cert_expiring", "security.no_https_redirect"} <= rules, rules
    assert "ipv6.no_aaaa" not in rules and "security.no_https" not in rules
    ratio = next(m for m in audit["metrics"] if m["name"] == "ipv6.support_ratio")
    assert ratio["value"] == 0.6875
    probes = _probe_fetches(db, audit["run_id"])
    assert probes > 0  # the audit did measure over the network

    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "COLUMNS": "160"}
    re = subprocess.run(["unshare", "-n", str(govaudit_executable()), "recheck", audit["run_id"], "--db", str(db),
                         "--out", str(tmp_path / "b")], capture_output=True, text=True, timeout=300, env=env)
    assert re.returncode == r.returncode, re.stderr[-3000:]
    again = json.loads((tmp_path / "b" / "report.json").read_text(encoding="utf-8"))
    assert _essentials(again) == _essentials(audit)
    assert again["score"] == audit["score"]
    assert next(m for m in again["metrics"] if m["name"] == "ipv6.support_ratio")["value"] == 0.6875
    assert _probe_fetches(db, audit["run_id"]) == probes  # nothing was sent, not even an attempt
    assert not [e for e in again["errors"] if e.get("stage") == "check"], again["errors"]
