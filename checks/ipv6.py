"""IPv6 support (IPv6 支持度), measured the way national IPv6 monitoring measures it.

The national IPv6 support monitoring (中央网信办; its indicator list was not read in an official text,
未核实) asks: the host has an AAAA record; the zone's
authoritative name servers have AAAA records and answer over IPv6; the homepage loads over IPv6
only, with the same status and comparable content as over IPv4 (no placeholder page); and the
share of second- and third-level links reachable over IPv6. The share here is taken over the
crawl's own URL set — the second- and third-level URLs (targets of links on the homepage and on
depth-1 pages, on any host) and the resources (scripts, styles, images, frames…) that depth-1 and
depth-2 pages load — because IPv4-only third-party resources leave "天窗" holes for IPv6 users.

Probes never re-crawl: each distinct origin is tested once (DNS, then one IPv6 connection) and a
bounded, deterministic sample of its URLs is requested over that connection; the origin's share
is extrapolated to all its URLs. URLs the crawl found dead over IPv4 are left out (not an IPv6
problem), and a URL answering over IPv6 with the status it had over IPv4 (a login wall, say) counts
as reachable.

A runner with no IPv6 route (or no ``::1``) says "not testable" (``ipv6.not_testable``, info) and
never "no IPv6" (peer-lessons.md). An AAAA record missing is a DNS fact and is reported from any runner.
The measurement is stored as a ``probe.ipv6`` record, so ``govaudit recheck`` judges it again (under
another rule pack, say) without probing again.

Options (``[plugins.ipv6]`` in the TOML config): ``sample_min``/``sample_max`` (URLs sampled per
origin: √n, bounded, default 5–50), ``sample_body_bytes`` (body read per sample, 256 KiB; a longer body
closes the keep-alive connection), ``workers`` (origins probed at once, 8), ``ns_port`` (port the
name servers are asked on over IPv6, 53), ``content_similarity_min`` (when the pack has no
``ipv6.content_similarity_min``), ``placeholder_markers``.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit

import dns.exception
import dns.message
import dns.query
import lxml.html
from lxml import etree

from auditor.context import CheckContext, SiteView, visible_text
from auditor.hookspecs import hookimpl
from auditor.model import Basis, Finding, Rule, Severity, Verdict
from auditor.net import ResolveError, is_ip

POLICY_BASIS = Basis(
    zh="《推进互联网协议第六版（IPv6）规模部署行动计划》（中办、国办，2017）；《关于加快推进互联网协议第六版（IPv6）规模部署和应用工作的通知》"
    "（中网办发文〔2021〕15号）；监测方法按中央网信办 IPv6 支持度监测指标（AAAA 记录、DNS 授权链、首页 IPv6 访问与内容一致性、二三级链接可达率）",
    en="IPv6 Large-Scale Deployment Action Plan (2017); 中网办发文〔2021〕15号; measured per the national IPv6 monitoring "
    "indicators (AAAA, DNS delegation, homepage over IPv6 and content consistency, level-2/3 link reachability)",
    source="中共中央办公厅、国务院办公厅《推进互联网协议第六版（IPv6）规模部署行动计划》（2017年11月）; 中网办发文〔2021〕15号; "
    "中央网信办 http://www.cac.gov.cn/2022-04/01/c_1650424383211344.htm（监测指标项的官方原文未读到，未核实）",
    status="partial",
)
SUPPORT_BASIS = Basis(
    zh="《深入推进IPv6规模部署和应用2022年工作安排》：县级以上政府门户网站 IPv6 支持率达到85%；二、三级页面支持度目标值取自规则包（如青政办〔2021〕47号 不低于90%）",
    en="2022 IPv6 work plan: 85% IPv6 support for county-level-and-above portals; the level-2/3 page target comes from the rule pack "
    "(e.g. Qinghai 2021: ≥90%)",
    source="中央网信办等《深入推进IPv6规模部署和应用2022年工作安排》（2022年，文号未核实）; 青政办〔2021〕47号 第（13）项（二、三级页面目标，地方）",
    status="partial",
)
RESOURCE_TAGS = {"img", "script", "link", "iframe", "frame", "embed", "object", "source", "video", "audio", "input"}
PLACEHOLDER_MARKERS = (
    "ipv6 test", "ipv6测试", "ipv6 测试", "网站建设中", "正在建设", "建设中", "it works!", "welcome to nginx",
    "apache2 debian default page", "test page for", "默认页面", "iis windows server",
)
TWO_LEVEL_SUFFIXES = {"gov.cn", "com.cn", "org.cn", "net.cn", "edu.cn", "ac.cn", "mil.cn"}


@hookimpl
def govaudit_rules() -> list[Rule]:
    return [
        Rule(
            id="ipv6.no_aaaa",
            name_zh="域名未配置 IPv6 地址（AAAA 记录）",
            name_en="No IPv6 address (AAAA record)",
            severity=Severity.MAJOR,
            basis=POLICY_BASIS,
            remediation_zh="为网站域名（及其权威域名服务器）添加 AAAA 记录，并确认 IPv6 地址上的服务与 IPv4 一致。",
            remediation_en="Publish AAAA records for the site (and its authoritative name servers) and serve the same site on them.",
        ),
        Rule(
            id="ipv6.unreachable",
            name_zh="IPv6 无法访问或内容与 IPv4 不一致",
            name_en="Not reachable over IPv6, or different content over IPv6",
            severity=Severity.MAJOR,
            basis=POLICY_BASIS,
            remediation_zh="检查 IPv6 地址上的监听、防火墙和负载均衡配置，使 IPv6 访问返回与 IPv4 相同的网站内容，不得使用占位页面。",
            remediation_en="Check listeners, firewall and load balancer on the IPv6 address; serve the same site as over IPv4, no placeholder.",
        ),
        Rule(
            id="ipv6.low_support",
            name_zh="二、三级页面及资源 IPv6 支持度低于目标",
            name_en="IPv6 support of level-2/3 pages and resources below target",
            severity=Severity.MAJOR,
            basis=SUPPORT_BASIS,
            remediation_zh="对拉低支持度的主机（含外部引用的脚本、样式、图片、嵌入的服务平台）逐一完成 IPv6 改造，或改用支持 IPv6 的资源。",
            remediation_en="Enable IPv6 on the hosts that pull the ratio down (including third-party scripts, styles, images and embedded portals), or replace them.",
        ),
        Rule(
            id="ipv6.not_testable",
            name_zh="本机无法测试 IPv6 可达性",
            name_en="IPv6 reachability not testable from this runner",
            severity=Severity.INFO,
            basis=POLICY_BASIS,
            remediation_zh="在具备 IPv6 出口的主机上运行检查，才能判断 IPv6 可达性与支持度；本项不代表网站不支持 IPv6。",
            remediation_en="Run the audit from a host with IPv6 connectivity to measure reachability and support; this is not a finding against the site.",
        ),
    ]


# --- measurement ------------------------------------------------------------------------------

def _opts(ctx: CheckContext) -> dict[str, Any]:
    return dict(ctx.config.plugin_options.get("ipv6", {}))


def text_of(body_text: str) -> str:
    if not body_text.strip():
        return ""
    try:
        tree = lxml.html.document_fromstring(body_text)
    except (etree.ParserError, ValueError):
        return ""
    return visible_text(tree)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of character 3-gram sets: linear-time and language-neutral (Chinese has
    no spaces to split words on). 1.0 for identical texts, near 0 for unrelated ones."""

    a, b = re.sub(r"\s+", "", a)[:20000], re.sub(r"\s+", "", b)[:20000]
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    sa = {a[i : i + 3] for i in range(max(1, len(a) - 2))}
    sb = {b[i : i + 3] for i in range(max(1, len(b) - 2))}
    return len(sa & sb) / len(sa | sb)


def _origin(url: str) -> tuple[str, str, int] | None:
    p = urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        return None
    try:
        port = p.port or (443 if p.scheme == "https" else 80)
    except ValueError:
        return None
    return p.scheme, p.hostname.lower(), port


def _origin_label(o: tuple[str, str, int]) -> str:
    scheme, host, port = o
    h = f"[{host}]" if ":" in host else host
    return f"{scheme}://{h}" + ("" if port == (443 if scheme == "https" else 80) else f":{port}")


def collect_urls(ctx: CheckContext) -> tuple[dict[str, int], dict[str, int | None], int]:
    """The URLs the ratio is taken over, with their level (2, 3; resources get their page's level + 1),
    the IPv4 status the crawl saw for each, and how many were left out as dead over IPv4."""

    depth: dict[str, int] = {}
    v4_status: dict[str, int | None] = {}
    for row in ctx.store.iter_pages(ctx.run_id, with_body=False):
        if row.get("depth") is None:
            continue
        for u in (row["url"], row.get("final_url")):
            if u and u not in depth:
                depth[u] = row["depth"]
                v4_status[u] = row.get("status")
    urls: dict[str, int] = {}
    for u, d in depth.items():
        if d in (1, 2):
            urls[u] = d + 1
    for edge in ctx.store.iter_links(ctx.run_id):
        d = depth.get(edge["source_url"])
        if d is None:
            continue
        tag = (edge.get("tag") or "a").lower()
        target = edge["target_url"]
        if _origin(target) is None:
            continue
        if tag == "a" and d in (0, 1):
            urls.setdefault(target, d + 2)
        elif tag in RESOURCE_TAGS and d in (1, 2):
            urls.setdefault(target, d + 2)
    dead: set[str] = set()
    for result in ctx.store.iter_link_results(ctx.run_id):
        if result.target_url in urls:
            v4_status.setdefault(result.target_url, result.status)
            if result.verdict == Verdict.DEAD:
                dead.add(result.target_url)
    for u in list(urls):
        st = v4_status.get(u)
        if u in dead or (st is not None and st >= 400 and u in depth):
            del urls[u]
    return urls, {u: v4_status.get(u) for u in urls}, len(dead)


def _sample(urls: list[str], n_min: int, n_max: int) -> list[str]:
    """A deterministic sample: the same URLs next month, whatever order the crawl found them in."""

    k = min(len(urls), max(n_min, min(n_max, math.ceil(math.sqrt(len(urls))))))
    return sorted(urls, key=lambda u: hashlib.sha1(u.encode("utf-8")).hexdigest())[:k]


def _test_origin(
    ctx: CheckContext, origin: tuple[str, str, int], urls: list[str], v4: dict[str, int | None], opts: dict[str, Any]
) -> dict[str, Any]:
    probe = ctx.probe("http")
    scheme, host, port = origin
    out: dict[str, Any] = {"origin": _origin_label(origin), "host": host, "urls": len(urls), "aaaa": [], "samples": []}
    try:
        aaaa = probe.addresses(host, 6)
    except ResolveError as exc:
        out.update(testable=True, reachable=0.0, reachable_exact="0", reason="dns", error=str(exc))
        return out
    out["aaaa"] = aaaa
    if not aaaa:
        out.update(testable=True, reachable=0.0, reachable_exact="0", reason="no_aaaa")
        return out
    route = probe.ipv6_route(aaaa[0])
    if not route.testable:
        out.update(testable=False, reason=route.reason)
        return out
    session = None
    opened = None
    for addr in aaaa[:2]:
        session = probe.session(scheme, host, port, addr, verify=False)
        opened = session.open()
        if not opened.error_kind:
            break
        session.close()
        session = None
    out["connect"] = opened.as_dict() if opened else None
    if session is None:
        out.update(testable=True, reachable=0.0, reachable_exact="0", reason=opened.error_kind if opened else "connect")
        return out
    sample = _sample(urls, int(opts.get("sample_min", 5)), int(opts.get("sample_max", 50)))
    ok = 0
    tried = 0
    consecutive_timeouts = 0
    try:
        for url in sample:
            r = session.get(url, max_body=int(opts.get("sample_body_bytes", 256 * 1024)))
            tried += 1
            good = r.status is not None and (r.status < 400 or r.status == v4.get(url))
            ok += good
            out["samples"].append({"url": url, "status": r.status, "v4_status": v4.get(url), "ok": good,
                                   "error_kind": r.error_kind, "error": r.error})
            consecutive_timeouts = consecutive_timeouts + 1 if r.error_kind == "timeout" else 0
            if consecutive_timeouts >= 2:
                break  # a host that stalls: do not spend 15 s on every sampled URL
    finally:
        session.close()
    share = Fraction(ok, tried) if tried else Fraction(0)
    reachable = share * len(urls)
    out.update(
        testable=True,
        sampled=tried,
        sampled_ok=ok,
        reachable=float(reachable),
        reachable_exact=str(reachable),
        reason=None if ok == tried else "http",
    )
    return out


def _nameservers(ctx: CheckContext, host: str) -> dict[str, Any]:
    """The zone's NS records, their AAAA records, and whether they answer over IPv6."""

    dns_probe = ctx.probe("dns")
    probe = ctx.probe("http")
    out: dict[str, Any] = {"zone": None, "servers": [], "status": "unknown"}
    if is_ip(host):
        out["status"] = "skipped_ip"
        return out
    if host in getattr(dns_probe, "overrides", {}) and not getattr(dns_probe, "dns_server", None):
        out["status"] = "skipped_pinned"  # --resolve pins the name: there is no delegation to look at
        return out
    labels = host.split(".")
    min_labels = 3 if ".".join(labels[-2:]) in TWO_LEVEL_SUFFIXES else 2
    ns: list[str] = []
    for i in range(0, max(1, len(labels) - min_labels + 1)):
        name = ".".join(labels[i:])
        probe.count("dns")
        try:
            ns = dns_probe.records(name, "NS")
        except ResolveError as exc:
            if exc.kind == "nxdomain":
                continue
            out.update(status="error", error=str(exc))
            return out
        if ns:
            out["zone"] = name
            break
    if not ns:
        out["status"] = "no_ns"
        return out
    port = int(_opts(ctx).get("ns_port", 53))
    for name in sorted(n.rstrip(".").lower() for n in ns):
        entry: dict[str, Any] = {"name": name, "aaaa": [], "answers_v6": None}
        try:
            entry["aaaa"] = probe.addresses(name, 6)
        except ResolveError as exc:
            entry["error"] = str(exc)
        for addr in entry["aaaa"][:1]:
            if not probe.ipv6_route(addr).testable:
                entry["answers_v6"] = None
                entry["v6_query"] = "not_testable"
                continue
            probe.count("dns_v6")
            try:
                dns.query.udp(dns.message.make_query(out["zone"], "SOA"), addr, port=port, timeout=min(3.0, probe.timeout))
                entry["answers_v6"] = True
            except (dns.exception.DNSException, OSError) as exc:
                entry["answers_v6"] = False
                entry["v6_query"] = f"{type(exc).__name__}: {exc}"[:200]
        out["servers"].append(entry)
    with_aaaa = [s for s in out["servers"] if s["aaaa"]]
    if not with_aaaa:
        out["status"] = "no_aaaa"
    elif any(s["answers_v6"] for s in with_aaaa):
        out["status"] = "ok"
    elif all(s["answers_v6"] is None for s in with_aaaa):
        out["status"] = "not_testable"
    else:
        out["status"] = "no_answer_v6"
    return out


def _homepage(ctx: CheckContext, url: str, aaaa: list[str], a: list[str]) -> dict[str, Any]:
    probe = ctx.probe("http")
    opts = _opts(ctx)
    out: dict[str, Any] = {"url": url}
    route = probe.ipv6_route(aaaa[0])
    if not route.testable:
        out.update(verdict="not_testable", reason=route.reason)
        return out
    v6 = probe.fetch(url, family=6, follow_redirects=5, verify=False, cache=True)
    out["v6"] = v6.as_dict(body_chars=200)
    if v6.status is None:
        out.update(verdict="failed", reason=v6.error_kind)
        return out
    if a:
        v4 = probe.fetch(url, family=4, follow_redirects=5, verify=False, cache=True)
        out["v4"] = v4.as_dict(body_chars=200)
        v4_status, v4_text = v4.status, (text_of(v4.text()) if v4.status is not None else "")
    else:
        v4_status, v4_text = None, ""
    if v4_status is None:  # no IPv4 answer to compare with: fall back to the crawl's stored homepage
        page = ctx.store.get_page(ctx.run_id, url)
        if page is not None:
            from auditor.context import PageView

            pv = PageView(page)
            v4_status, v4_text = pv.status, pv.visible_text
            out["v4_reference"] = "stored_page"
    v6_text = text_of(v6.text())
    sim = similarity(v4_text, v6_text) if v4_text or v6_text else 1.0
    out.update(v4_status=v4_status, v6_status=v6.status, similarity=round(sim, 4),
               v4_text_chars=len(v4_text), v6_text_chars=len(v6_text))
    threshold = float(ctx.pack.value("ipv6.content_similarity_min", opts.get("content_similarity_min", 0.8)))
    lowered = v6_text.lower()
    markers = [m for m in opts.get("placeholder_markers", PLACEHOLDER_MARKERS) if m in lowered and m not in v4_text.lower()]
    if not v6.ok:
        out.update(verdict="failed", reason=f"http_{v6.status}")
    elif v4_status is not None and (v4_status // 100) != (v6.status // 100):
        out.update(verdict="status_differs")
    elif markers or (len(v4_text) > 200 and len(v6_text) < 0.25 * len(v4_text)):
        out.update(verdict="placeholder", markers=markers)
    elif v4_text and sim < threshold:
        out.update(verdict="content_differs", threshold=threshold)
    else:
        out.update(verdict="ok")
    return out


def measure(site: SiteView, ctx: CheckContext) -> dict[str, Any]:
    """Everything the IPv6 findings are judged from; stored as the ``probe.ipv6`` record."""

    probe = ctx.probe("http")
    opts = _opts(ctx)
    host = site.host
    before = dict(probe.stats)
    result: dict[str, Any] = {"host": host, "homepage_url": site.homepage_url}
    try:
        result["aaaa"] = probe.addresses(host, 6)
        result["a"] = probe.addresses(host, 4)
    except ResolveError as exc:
        result.update(aaaa=[], a=[], dns_error=str(exc))
    result["nameservers"] = _nameservers(ctx, host)
    result["homepage"] = _homepage(ctx, site.homepage_url, result["aaaa"], result["a"]) if result["aaaa"] else {"verdict": "no_aaaa"}

    urls, v4, dead = collect_urls(ctx)
    by_origin: dict[tuple[str, str, int], list[str]] = defaultdict(list)
    for u in sorted(urls):
        o = _origin(u)
        if o is not None:
            by_origin[o].append(u)
    hosts: list[dict[str, Any]] = []
    lock = threading.Lock()

    def run(o: tuple[str, str, int]) -> None:
        try:
            res = _test_origin(ctx, o, by_origin[o], v4, opts)
        except Exception as exc:  # noqa: BLE001 - one origin's failure never sinks the measurement
            res = {"origin": _origin_label(o), "host": o[1], "urls": len(by_origin[o]), "testable": False,
                   "reason": "probe_error", "error": f"{type(exc).__name__}: {exc}"[:300], "samples": []}
        res["levels"] = {str(lv): sum(1 for u in by_origin[o] if urls[u] == lv) for lv in sorted({urls[u] for u in by_origin[o]})}
        with lock:
            hosts.append(res)

    workers = max(1, min(int(opts.get("workers", 8)), len(by_origin)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ipv6-probe") as pool:
        list(pool.map(run, sorted(by_origin)))
    hosts.sort(key=lambda h: h["origin"])

    total = sum(h["urls"] for h in hosts)
    testable = [h for h in hosts if h["testable"]]
    untestable_urls = sum(h["urls"] for h in hosts if not h["testable"])
    reachable = sum((Fraction(h["reachable_exact"]) for h in testable), Fraction(0))
    measured = total - untestable_urls
    support: dict[str, Any] = {
        "total_urls": total,
        "measured_urls": measured,
        "untestable_urls": untestable_urls,
        "excluded_dead_v4": dead,
        "reachable_urls": float(reachable),
        "reachable_exact": str(reachable),
        "ratio": float(reachable / measured) if measured and not untestable_urls else None,
        # bounds when part of the set could not be tested: all untestable URLs failing / all working
        "ratio_low": float(reachable / total) if total else None,
        "ratio_high": float((reachable + untestable_urls) / total) if total else None,
        "sampling": {"min": int(opts.get("sample_min", 5)), "max": int(opts.get("sample_max", 50))},
    }
    result["support"] = support
    result["hosts"] = hosts
    result["requests"] = {k: v - before.get(k, 0) for k, v in probe.stats.items() if v - before.get(k, 0)}
    return result


# --- judgement -------------------------------------------------------------------------------

@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    result = ctx.measured("probe.ipv6", lambda: measure(site, ctx))
    yield from judge(result, site, ctx)


def judge(result: dict[str, Any], site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    home = site.homepage_url
    host = result["host"]
    entry = ctx.pack.entry("ipv6.support_target") or {}
    target = float(entry.get("value", 0.85))
    support = result["support"]
    hosts = result["hosts"]

    # AAAA of the host: a DNS fact, testable from any runner.
    if not result.get("aaaa"):
        reason_zh = f"（DNS 错误：{result['dns_error']}）" if result.get("dns_error") else ""
        yield ctx.finding(
            "ipv6.no_aaaa",
            home,
            f"网站域名 {host} 没有 AAAA 记录，IPv6 用户无法访问{reason_zh}",
            f"{host} has no AAAA record: IPv6-only users cannot reach the site",
            key=f"host:{host}",
            evidence={"host": host, "a": result.get("a", []), "dns_error": result.get("dns_error")},
        )
    ns = result["nameservers"]
    if ns["status"] == "no_aaaa":
        names = [s["name"] for s in ns["servers"]]
        yield ctx.finding(
            "ipv6.no_aaaa",
            home,
            f"域名 {ns['zone']} 的权威域名服务器（{'、'.join(names)}）均没有 AAAA 记录，DNS 解析链不支持 IPv6",
            f"None of the authoritative name servers of {ns['zone']} ({', '.join(names)}) has an AAAA record",
            key=f"ns:{ns['zone']}",
            evidence={"zone": ns["zone"], "nameservers": ns["servers"]},
        )
    elif ns["status"] == "no_answer_v6":
        yield ctx.finding(
            "ipv6.unreachable",
            home,
            f"域名 {ns['zone']} 的权威域名服务器有 IPv6 地址，但通过 IPv6 查询无应答",
            f"The authoritative name servers of {ns['zone']} have IPv6 addresses but do not answer over IPv6",
            key=f"ns:{ns['zone']}",
            evidence={"zone": ns["zone"], "nameservers": ns["servers"]},
        )

    hp = result["homepage"]
    not_testable_reasons: list[str] = []
    if hp.get("verdict") == "not_testable":
        not_testable_reasons.append(hp.get("reason") or "no_ipv6_route")
    elif hp.get("verdict") not in (None, "ok", "no_aaaa"):
        zh = {
            "failed": "首页无法通过 IPv6 访问",
            "status_differs": f"首页 IPv6 访问状态（HTTP {hp.get('v6_status')}）与 IPv4（HTTP {hp.get('v4_status')}）不一致",
            "placeholder": "首页通过 IPv6 访问返回的是占位页面，而非网站内容",
            "content_differs": f"首页 IPv6 与 IPv4 内容不一致（文本相似度 {hp.get('similarity')}）",
        }[hp["verdict"]]
        en = {
            "failed": "the homepage does not load over IPv6",
            "status_differs": f"homepage status over IPv6 (HTTP {hp.get('v6_status')}) differs from IPv4 (HTTP {hp.get('v4_status')})",
            "placeholder": "the homepage over IPv6 is a placeholder page, not the site",
            "content_differs": f"homepage content over IPv6 differs from IPv4 (text similarity {hp.get('similarity')})",
        }[hp["verdict"]]
        detail = hp.get("v6") or {}
        err = f"（{detail.get('error_kind')}: {detail.get('error')}）" if detail.get("error") else ""
        yield ctx.finding(
            "ipv6.unreachable",
            home,
            f"{zh}{err}",
            en[0].upper() + en[1:],
            key=f"homepage:{host}",
            evidence={k: v for k, v in hp.items() if k != "url"},
        )

    # The support ratio.
    untestable_hosts = [h for h in hosts if not h["testable"]]
    not_testable_reasons += sorted({h.get("reason") or "" for h in untestable_hosts} - {""})
    pulling = sorted(
        (
            {
                "origin": h["origin"],
                "urls": h["urls"],
                "reachable": h["reachable"],
                "lost": round(h["urls"] - h["reachable"], 4),
                "reason": h.get("reason"),
                "levels": h.get("levels"),
                "failed_samples": [s for s in h.get("samples", []) if not s["ok"]][:3],
            }
            for h in hosts
            if h["testable"] and h["reachable"] < h["urls"]
        ),
        key=lambda h: (-h["lost"], h["origin"]),
    )
    ratio = support["ratio"]
    decided_low = ratio is not None and ratio < target
    if ratio is None and support["ratio_high"] is not None and support["ratio_high"] < target:
        decided_low = True  # even if every untestable URL worked, the share stays below target
    ctx.metric(
        "ipv6.support_ratio",
        ratio,
        target=target,
        label_zh="IPv6 支持度（二、三级页面及其加载资源）",
        label_en="IPv6 support of level-2/3 pages and the resources they load",
        unit="ratio",
        basis=entry.get("source", ""),
        detail={
            "reachable_urls": support["reachable_urls"],
            "reachable_exact": support["reachable_exact"],
            "measured_urls": support["measured_urls"],
            "total_urls": support["total_urls"],
            "untestable_urls": support["untestable_urls"],
            "ratio_low": support["ratio_low"],
            "ratio_high": support["ratio_high"],
            "testable": not untestable_hosts and hp.get("verdict") != "not_testable",
            "target_pack": entry.get("pack"),
            "target_status": entry.get("status"),
            "hosts": len(hosts),
            "requests": result.get("requests", {}),
        },
    )
    if decided_low:
        shown = ratio if ratio is not None else support["ratio_high"]
        worst = "、".join(p["origin"] for p in pulling[:5])
        yield ctx.finding(
            "ipv6.low_support",
            home,
            f"二、三级页面及其加载资源的 IPv6 支持度为 {shown:.2%}（{support['reachable_exact']}/{support['measured_urls']} 个地址），"
            f"低于目标 {target:.0%}；主要拉低支持度的主机：{worst}",
            f"IPv6 support of level-2/3 pages and their resources is {shown:.2%} ({support['reachable_exact']}/{support['measured_urls']} URLs), "
            f"below the target {target:.0%}; hosts pulling it down: {', '.join(p['origin'] for p in pulling[:5])}",
            key=f"support:{host}",
            evidence={
                "support_ratio": ratio,
                "support_ratio_upper_bound": None if ratio is not None else support["ratio_high"],
                "reachable_urls": support["reachable_urls"],
                "reachable_exact": support["reachable_exact"],
                "measured_urls": support["measured_urls"],
                "total_urls": support["total_urls"],
                "excluded_dead_v4": support["excluded_dead_v4"],
                "target": target,
                "target_source": entry.get("source"),
                "target_status": entry.get("status"),
                "target_pack": entry.get("pack"),
                "hosts_pulling_down": pulling[:20],
                "hosts_pulling_down_count": len(pulling),
                "sampling": support["sampling"],
            },
        )
    if not_testable_reasons:
        reasons = sorted(set(not_testable_reasons))
        why_zh = {"no_ipv6_route": "本机没有 IPv6 路由", "no_ipv6_loopback": "本机回环接口未启用 IPv6",
                  "disabled": "配置声明本机 IPv6 不可用", "canary_failed": "本机 IPv6 出口探测失败"}
        yield ctx.finding(
            "ipv6.not_testable",
            home,
            f"无法从本机测试 IPv6 可达性（{'；'.join(why_zh.get(r, r) for r in reasons)}），"
            f"{'支持度仅能给出上限，' if decided_low else '首页 IPv6 访问和支持度未评估，'}"
            f"涉及 {len(untestable_hosts)} 个主机；这不表示网站不支持 IPv6",
            f"IPv6 reachability could not be tested from this runner ({', '.join(reasons)}) for {len(untestable_hosts)} host(s); "
            f"{'only an upper bound of the support ratio is known' if decided_low else 'homepage-over-IPv6 and the support ratio were not assessed'}. "
            "This does not mean the site lacks IPv6.",
            key=f"not_testable:{host}",
            evidence={"reasons": reasons, "untestable_hosts": [h["origin"] for h in untestable_hosts][:20],
                      "homepage": hp.get("verdict"), "ratio_bounds": [support["ratio_low"], support["ratio_high"]]},
        )
