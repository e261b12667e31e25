"""IPv6 support checks against real loopback servers and a local DNS server.

The site is served on 127.0.0.1 and ::1 (same port), its sibling static.x.gov.cn on 127.0.0.2
only (no AAAA): the sibling's URLs lower the support ratio by an amount the fixture states, and
the real CLI must report exactly that ratio.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from auditor.checks import ipv6
from auditor.plugins import ipv6_probe
from tests.sites.net_fixture import STATIC, WWW, dual_stack, free_port, ipv6_site, stored_run
from tests.support import Site, ipv6_available, run_cli

pytestmark = pytest.mark.skipif(not ipv6_available(), reason="::1 cannot be bound on this machine (IPv6 disabled)")


def _check(tmp_path: Path, net, *extra: str, rules: str | None = None) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / "govaudit.toml"
    cfg.write_text(f"[plugins.ipv6]\nns_port = {net.ns_port}\n", encoding="utf-8")
    args = ["check", net.url, "--out", str(tmp_path / "out"), "--db", str(tmp_path / "audit.sqlite"),
            "--dns-server", net.dns, "--config", str(cfg), "--as-of", "2024-06-03", "--checks", "ipv6", *extra]
    if rules:
        args += ["--rules", rules]
    r = run_cli(*args)
    assert r.returncode in (0, 1), r.stderr + r.stdout
    return json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))


def _by_rule(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


def _metric(report: dict, name: str) -> dict:
    return next(m for m in report["metrics"] if m["name"] == name)


def test_cli_reports_exact_ratio_and_the_v4_only_host(tmp_path: Path) -> None:
    sp = free_port()
    www, static, expected = ipv6_site(sp)
    assert expected == {"www": 11, "static": 5}
    with dual_stack(www, static, sp) as net:
        report = _check(tmp_path, net)
    found = _by_rule(report)
    ratio = Fraction(11, 16)
    metric = _metric(report, "ipv6.support_ratio")
    assert metric["value"] == float(ratio) == 0.6875
    assert metric["target"] == 0.85
    assert metric["detail"]["measured_urls"] == 16 and metric["detail"]["testable"] is True
    [low] = found["ipv6.low_support"]
    assert low["evidence"]["support_ratio"] == 0.6875
    assert low["evidence"]["reachable_exact"] == "11"
    pulling = low["evidence"]["hosts_pulling_down"]
    assert [p["origin"] for p in pulling] == [f"http://{STATIC}:{sp}"]
    assert pulling[0]["reason"] == "no_aaaa" and pulling[0]["lost"] == 5
    assert "68.75%" in low["message_zh"] and STATIC in low["message_zh"]
    assert low["basis"]["source"]
    # The homepage loads over IPv6 with the same content, the host has AAAA, ns1 answers over IPv6.
    assert "ipv6.unreachable" not in found and "ipv6.no_aaaa" not in found and "ipv6.not_testable" not in found
    # Far fewer requests than URLs: a connection per reachable origin, a sample of the www URLs.
    req = metric["detail"]["requests"]
    assert req["requests"] <= 2 + 5  # homepage over v6 and v4, five sampled www URLs
    assert req["connections"] <= 4


def test_ratio_between_targets_and_recheck_under_qinghai_pack(tmp_path: Path) -> None:
    """24/27 = 88.9 %: above the national 85 %, below Qinghai 2021's 90 % (青政办〔2021〕47号). The
    Qinghai verdict comes from ``recheck`` after the servers are gone: the stored probe is judged
    again under another pack, nothing is probed twice."""

    sp = free_port()
    www, static, expected = ipv6_site(sp, l2=2, l3_per_l2=10, static_on_l3=0)
    assert expected == {"www": 24, "static": 3}
    with dual_stack(www, static, sp) as net:
        national = _check(tmp_path, net)
    assert _metric(national, "ipv6.support_ratio")["value"] == float(Fraction(24, 27))
    assert "ipv6.low_support" not in _by_rule(national)
    r = run_cli("recheck", national["run_id"], "--db", str(tmp_path / "audit.sqlite"), "--out", str(tmp_path / "q"),
                "--rules", "qinghai-2021")
    assert r.returncode in (0, 1), r.stderr
    qinghai = json.loads((tmp_path / "q" / "report.json").read_text(encoding="utf-8"))
    [low] = _by_rule(qinghai)["ipv6.low_support"]
    assert low["evidence"]["target"] == 0.9 and low["evidence"]["target_pack"] == "qinghai-2021"
    assert low["evidence"]["target_status"] == "local"
    assert low["evidence"]["support_ratio"] == float(Fraction(24, 27))
    assert "88.89%" in low["message_zh"] and "90%" in low["message_zh"]


# --- variants, in process: the full check hook on a stored run, against live servers -------------

def _hook(tmp_path: Path, net, ns_port: int | None = None) -> dict[str, list]:
    run = stored_run(net.url, str(tmp_path / "a.sqlite"), dns=net.dns,
                     plugins={"ipv6": {"ns_port": ns_port or net.ns_port}})
    try:
        run.measure()  # the measure stage probes; the check only reads the stored measurement
        out: dict[str, list] = {}
        for f in ipv6.govaudit_check_site(run.site, run.ctx):
            out.setdefault(f.rule, []).append(f)
        return out
    finally:
        run.close()


def test_placeholder_page_over_ipv6(tmp_path: Path) -> None:
    sp = free_port()
    www, static, _ = ipv6_site(sp)
    placeholder = Site("v6").page("/", "<html><body><h1>It works!</h1></body></html>")
    with dual_stack(www, static, sp, v6_site=placeholder) as net:
        found = _hook(tmp_path, net)
    [f] = found["ipv6.unreachable"]
    assert f.evidence["verdict"] == "placeholder" and f.evidence["markers"] == ["it works!"]
    assert f.evidence["v4_status"] == 200 and f.evidence["v6_status"] == 200
    assert "占位" in f.message_zh


def test_content_differs_over_ipv6(tmp_path: Path) -> None:
    sp = free_port()
    www, static, _ = ipv6_site(sp)
    other = Site("v6").page("/", "<html><body><h1>另一个网站</h1><p>" + "完全不同的内容，与门户无关。" * 40 + "</p></body></html>")
    with dual_stack(www, static, sp, v6_site=other) as net:
        found = _hook(tmp_path, net)
    [f] = found["ipv6.unreachable"]
    assert f.evidence["verdict"] == "content_differs" and f.evidence["similarity"] < 0.8


def test_homepage_error_over_ipv6_only(tmp_path: Path) -> None:
    sp = free_port()
    www, static, _ = ipv6_site(sp)
    broken = Site("v6").page("/", "<h1>502 Bad Gateway</h1>", status=502)
    with dual_stack(www, static, sp, v6_site=broken) as net:
        found = _hook(tmp_path, net)
    [f] = found["ipv6.unreachable"]
    assert f.evidence["verdict"] == "failed" and f.evidence["reason"] == "http_502"


def test_same_site_over_both_families_is_fine(tmp_path: Path) -> None:
    sp = free_port()
    www, static, _ = ipv6_site(sp)
    with dual_stack(www, static, sp) as net:
        found = _hook(tmp_path, net)
    assert found == {}  # no pages stored: no ratio to judge, and homepage, AAAA and NS are all fine


def test_no_aaaa_for_host_and_name_servers(tmp_path: Path) -> None:
    sp = free_port()
    www, static, _ = ipv6_site(sp)
    with dual_stack(www, static, sp, aaaa=False) as net:
        net.records["ns1.x.gov.cn"] = ["127.0.0.1"]  # read live by the DNS server
        found = _hook(tmp_path, net)
    keys = sorted(f.key for f in found["ipv6.no_aaaa"])
    assert keys == [f"host:{WWW}", "ns:x.gov.cn"]
    assert "ipv6.unreachable" not in found and "ipv6.not_testable" not in found


def test_name_servers_not_answering_over_ipv6(tmp_path: Path) -> None:
    sp = free_port()
    www, static, _ = ipv6_site(sp)
    with dual_stack(www, static, sp) as net:
        found = _hook(tmp_path, net, ns_port=_closed_udp_port())
    [f] = found["ipv6.unreachable"]
    assert f.evidence["zone"] == "x.gov.cn"
    answers = {s["name"]: s["answers_v6"] for s in f.evidence["nameservers"]}
    assert answers == {"ns1.x.gov.cn": False, "ns2.x.gov.cn": None}  # ns2 has no AAAA to ask


def _closed_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


# --- a runner without IPv6: "not testable", never "no IPv6" -------------------------------------

NO_ROUTE_SCRIPT = textwrap.dedent(
    """
    import json, subprocess, sys, tempfile, os
    sys.path.insert(0, {root!r})
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    from tests.sites.net_fixture import ipv6_site, free_port
    from tests.support.servers import dns_server, serve, run_cli
    sp = free_port()
    www, static, _ = ipv6_site(sp)
    with serve(www, "127.0.0.1", 0) as w, serve(static, "127.0.0.2", sp), dns_server({{
        "www.x.gov.cn": ["127.0.0.1", "2001:db8::80"], "static.x.gov.cn": ["127.0.0.2"],
    }}) as dns, tempfile.TemporaryDirectory() as d:
        r = run_cli("check", f"http://www.x.gov.cn:{{w.port}}/", "--out", d, "--db", os.path.join(d, "a.sqlite"),
                    "--dns-server", dns, "--checks", "ipv6", "--as-of", "2024-06-03")
        print(json.dumps({{"rc": r.returncode, "err": r.stderr[-2000:],
                          "report": json.load(open(os.path.join(d, "report.json")))}}))
    """
)


def _unshare_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return r.returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -n` (root, util-linux) to make a runner without an IPv6 route")
def test_runner_without_ipv6_route_says_not_testable(tmp_path: Path) -> None:
    root = str(Path(__file__).resolve().parent.parent)
    script = tmp_path / "noroute.py"
    script.write_text(NO_ROUTE_SCRIPT.format(root=root), encoding="utf-8")
    r = subprocess.run(["unshare", "-n", sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    report = out["report"]
    found = _by_rule(report)
    assert "ipv6.not_testable" in found, out["err"]
    assert found["ipv6.not_testable"][0]["evidence"]["reasons"] == ["no_ipv6_route"]
    # The host has an AAAA record (a DNS fact); its reachability is not blamed on the site.
    assert "ipv6.no_aaaa" not in found and "ipv6.unreachable" not in found
    metric = _metric(report, "ipv6.support_ratio")
    assert metric["value"] is None and metric["detail"]["testable"] is False
    assert metric["detail"]["untestable_urls"] == 11
    # static.x.gov.cn has no AAAA (a DNS fact): even if all 11 untestable www URLs worked the share
    # would be 11/16 < 85%, so low support is decided, with an upper bound and no exact ratio.
    [low] = found["ipv6.low_support"]
    assert low["evidence"]["support_ratio"] is None
    assert low["evidence"]["support_ratio_upper_bound"] == 0.6875


@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -n` (root, util-linux)")
def test_route_detection_in_namespaces() -> None:
    code = (
        "import subprocess, sys; sys.path.insert(0, %r); "
        "subprocess.run(['ip','link','set','lo','up'], check=True); %s"
        "from auditor.network.route import RouteCheck; "
        "p = RouteCheck(); print(p.ipv6('::1').reason or 'ok', p.ipv6('2001:db8::1').reason or 'ok')"
    )
    root = str(Path(__file__).resolve().parent.parent)
    plain = subprocess.run(["unshare", "-n", sys.executable, "-c", code % (root, "")], capture_output=True, text=True)
    assert plain.stdout.split() == ["ok", "no_ipv6_route"], plain.stderr
    no_lo6 = subprocess.run(
        ["unshare", "-n", sys.executable, "-c",
         code % (root, "subprocess.run(['sysctl','-qw','net.ipv6.conf.lo.disable_ipv6=1'], check=True); ")],
        capture_output=True, text=True,
    )
    if no_lo6.returncode != 0 and "sysctl" in no_lo6.stderr:
        pytest.skip("cannot disable IPv6 on loopback in a namespace here")
    assert no_lo6.stdout.split() == ["no_ipv6_loopback", "no_ipv6_route"], no_lo6.stderr


# --- pieces ----------------------------------------------------------------------------------------

def test_similarity_and_sample_are_stable() -> None:
    assert ipv6_probe.similarity("政务公开 政务服务 互动交流", "政务公开 政务服务 互动交流") == 1.0
    assert ipv6_probe.similarity("政务公开政务服务互动交流", "It works!") == 0.0
    urls = [f"http://a/{i}.html" for i in range(400)]
    sample = ipv6_probe._sample(urls, 5, 50)
    assert len(sample) == 20  # ceil(sqrt(400)), between the bounds
    assert sample == ipv6_probe._sample(list(reversed(urls)), 5, 50)  # order of discovery does not matter
    assert len(ipv6_probe._sample(urls[:3], 5, 50)) == 3
    assert len(ipv6_probe._sample([f"u{i}" for i in range(10000)], 5, 50)) == 50


def test_probe_pins_the_address_and_keeps_the_host_name(tmp_path: Path) -> None:
    from auditor.network.http import HttpProbe
    from auditor.network.resolve import Resolver

    seen: list[tuple[str, str]] = []

    def record(req):  # noqa: ANN001, ANN202
        seen.append((req.server_host, req.headers.get("host", "")))
        return 200, {"Content-Type": "text/plain"}, "x" * 5000

    sp = free_port()
    www, static, _ = ipv6_site(sp)
    www.handler("/who", record)
    www.redirect("/hop", "/who")
    with dual_stack(www, static, sp) as net:
        probe = HttpProbe(Resolver({}, net.dns), timeout=5)
        r6 = probe.fetch(f"http://{WWW}:{net.port}/who", family=6)
        r4 = probe.fetch(f"http://{WWW}:{net.port}/who", address="127.0.0.1", max_body=1000)
        hop = probe.fetch(f"http://{WWW}:{net.port}/hop", family=6, follow_redirects=3)
        before = probe.stats["connections"]
        session = probe.session("http", WWW, net.port, "::1")
        statuses = [session.get(f"http://{WWW}:{net.port}/l2/{c}.html").status for c in "abc"]
        session.close()
        reused = probe.stats["connections"] - before
    assert seen[0] == ("::1", f"{WWW}:{net.port}") and seen[1] == ("127.0.0.1", f"{WWW}:{net.port}")
    assert r6.address == "::1" and r6.family == 6 and len(r6.body) == 5000
    assert r4.truncated and len(r4.body) == 1000
    assert hop.status == 200 and hop.redirects == [f"http://{WWW}:{net.port}/hop"] and seen[2][0] == "::1"
    assert statuses == [200, 200, 200] and reused == 1  # three requests, one keep-alive connection
