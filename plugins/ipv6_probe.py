"""IPv6 measurement (measure stage): what ``checks/ipv6.py`` judges, measured once per audit.

Measured the way national IPv6 monitoring measures it: the host's AAAA record; the zone's
authoritative name servers, their AAAA records and whether they answer over IPv6; the homepage over
IPv6 only, compared with IPv4 (status, text similarity, placeholder markers); and the share of
second- and third-level URLs reachable over IPv6. The share is taken over the crawl's own URL set —
the second- and third-level URLs (targets of links on the homepage and on depth-1 pages, on any
host) and the resources (scripts, styles, images, frames…) that depth-1 and depth-2 pages load —
because IPv4-only third-party resources leave "天窗" holes for IPv6 users.

Probes never re-crawl: each distinct origin is tested once (DNS, then one IPv6 connection) and a
bounded, deterministic sample of its URLs is requested over that connection; the origin's share is
extrapolated to all its URLs. URLs the crawl found dead over IPv4 are left out (not an IPv6
problem), and a URL answering over IPv6 with the status it had over IPv4 (a login wall, say) counts
as reachable. A runner with no IPv6 route (or no ``::1``) is recorded as such ("not testable").

Every name goes through the audit's resolver (``ctx.probe("dns")``: ``--resolve``/``--dns-server``),
including the question put to each name server's IPv6 address (:meth:`auditor.network.resolve.Resolver.server_answers`).
The result is the ``ipv6`` measurement (key ``site``, :data:`VERSION`); ``govaudit recheck`` judges it
again without probing.

Options (``[plugins.ipv6]``): ``sample_min``/``sample_max`` (URLs sampled per origin: √n, bounded;
default the pack's ``ipv6.sample_min``/``ipv6.sample_max``, 5–50), ``sample_body_bytes`` (body read per
sample, 256 KiB; a longer body closes the keep-alive connection), ``workers`` (origins probed at once, 8), ``ns_port`` (port the name servers
are asked on over IPv6, 53), ``placeholder_markers``.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from auditor.context import MeasureContext, SiteView, visible_text
from auditor.hookspecs import hookimpl
from auditor.model import Verdict
from auditor.network.resolve import ResolveError, is_ip

KIND = "ipv6"
# 1: the homepage entry holds facts only (``verdict`` None unless not testable/failed); the check
#    applies the pack's similarity threshold. 0 (runs before the measure stage): verdict precomputed.
VERSION = 1
RESOURCE_TAGS = {"img", "script", "link", "iframe", "frame", "embed", "object", "source", "video", "audio", "input"}
PLACEHOLDER_MARKERS = (
    "ipv6 test", "ipv6测试", "ipv6 测试", "网站建设中", "正在建设", "建设中", "it works!", "welcome to nginx",
    "apache2 debian default page", "test page for", "默认页面", "iis windows server",
)
TWO_LEVEL_SUFFIXES = {"gov.cn", "com.cn", "org.cn", "net.cn", "edu.cn", "ac.cn", "mil.cn"}


@hookimpl
def govaudit_serves() -> list[str]:
    return ["ipv6"]


@hookimpl
def govaudit_measure(site: SiteView, ctx: MeasureContext) -> None:
    ctx.measure(KIND, "site", measure(site, ctx), version=VERSION)


def _opts(ctx: MeasureContext) -> dict[str, Any]:
    """``[plugins.ipv6]`` options over the pack's sampling bounds (``ipv6.sample_min``/``sample_max``)."""

    pack = {"sample_min": ctx.pack.value("ipv6.sample_min"), "sample_max": ctx.pack.value("ipv6.sample_max")}
    return {**pack, **dict(ctx.config.plugin_options.get("ipv6", {}))}


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


def collect_urls(ctx: MeasureContext) -> tuple[dict[str, int], dict[str, int | None], int]:
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
    ctx: MeasureContext, origin: tuple[str, str, int], urls: list[str], v4: dict[str, int | None], opts: dict[str, Any]
) -> dict[str, Any]:
    probe = ctx.probe("http")
    routes = ctx.probe("route")
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
    route = routes.ipv6(aaaa[0])
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
    sample = _sample(urls, int(opts["sample_min"]), int(opts["sample_max"]))
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


def _nameservers(ctx: MeasureContext, host: str) -> dict[str, Any]:
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
            if not ctx.probe("route").ipv6(addr).testable:
                entry["answers_v6"] = None
                entry["v6_query"] = "not_testable"
                continue
            probe.count("dns_v6")
            answered, error = dns_probe.server_answers(addr, out["zone"], "SOA", port=port, timeout=min(3.0, probe.timeout))
            entry["answers_v6"] = answered
            if error:
                entry["v6_query"] = error
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


def _homepage(ctx: MeasureContext, url: str, aaaa: list[str], a: list[str]) -> dict[str, Any]:
    probe = ctx.probe("http")
    opts = _opts(ctx)
    out: dict[str, Any] = {"url": url}
    route = ctx.probe("route").ipv6(aaaa[0])
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
    lowered = v6_text.lower()
    # Placeholder markers found over IPv6 and not over IPv4: a fact about the two texts. Whether the
    # texts are "too different" is the check's judgement (pack ``ipv6.content_similarity_min``).
    out["markers"] = [m for m in opts.get("placeholder_markers", PLACEHOLDER_MARKERS) if m in lowered and m not in v4_text.lower()]
    out["v6_ok"] = v6.ok
    out["verdict"] = None  # decided by checks/ipv6.py from the facts above
    return out


def measure(site: SiteView, ctx: MeasureContext) -> dict[str, Any]:
    """Everything the IPv6 findings are judged from (the ``ipv6`` measurement, key ``site``)."""

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
        "sampling": {"min": int(opts["sample_min"]), "max": int(opts["sample_max"])},
    }
    result["support"] = support
    result["hosts"] = hosts
    result["requests"] = {k: v - before.get(k, 0) for k, v in probe.stats.items() if v - before.get(k, 0)}
    return result
