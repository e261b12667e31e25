"""IPv6 support (IPv6 支持度): judged from the ``ipv6`` measurement, never measured here.

The national IPv6 support monitoring (中央网信办; its indicator list was not read in an official text,
未核实) asks: the host has an AAAA record; the zone's
authoritative name servers have AAAA records and answer over IPv6; the homepage loads over IPv6
only, with the same status and comparable content as over IPv4 (no placeholder page); and the
share of second- and third-level links reachable over IPv6 (the URL set and the sampling are
described in :mod:`auditor.plugins.ipv6_probe`, the measure plugin that probes all of it once per
audit and stores it as the ``ipv6`` measurement, key ``site``).

This module only reads that measurement, so ``govaudit recheck`` — under another rule pack or
as-of date — re-judges the audit's own measurement with no network. A runner with no IPv6 route
(or no ``::1``) says "not testable" (``ipv6.not_testable``, info) and never "no IPv6"
(peer-lessons.md). An AAAA record missing is a DNS fact and is reported from any runner.

Pack values (declared in ``checks/rules/ipv6.json``): ``ipv6.support_target``,
``ipv6.content_similarity_min``; ``ipv6.sample_min``/``ipv6.sample_max`` are read by the measure plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.context import CheckContext, SiteView
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.model import Finding

DECLARED = load_declarations("auditor.checks", "rules/ipv6.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

POLICY_BASIS = DECLARED.bases["policy_basis"]
SUPPORT_BASIS = DECLARED.bases["support_basis"]


# --- judgement -------------------------------------------------------------------------------

KIND = "ipv6"
VERSIONS = (0, 1)  # measurement versions this module can judge (auditor.plugins.ipv6_probe.VERSION)


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    m = ctx.measurement(KIND, "site") or ctx.measurement(KIND, "summary")  # "summary": runs before the measure stage
    if m is None or m.version not in VERSIONS:
        why = "none stored" if m is None else f"version {m.version} unknown to this check"
        ctx.store.add_error(ctx.run_id, "check",
                            f"没有可用的 IPv6 测量记录，IPv6 未评估 / no usable ipv6 measurement ({why}): IPv6 not assessed",
                            url=site.homepage_url, plugin="ipv6")
        return
    yield from judge(dict(m.data), site, ctx)


def homepage_verdict(hp: dict[str, Any], ctx: CheckContext) -> dict[str, Any]:
    """The homepage entry with its verdict: the measurement holds the facts (statuses, similarity,
    markers); the threshold is the pack's, so a recheck under another pack can judge differently."""

    if hp.get("verdict") is not None or "v6_status" not in hp:
        return hp  # no_aaaa / not_testable / failed before any HTTP answer, or a version-0 record
    out = dict(hp)
    threshold = float(ctx.pack.value("ipv6.content_similarity_min"))
    v4_status, v6_status = hp.get("v4_status"), hp["v6_status"]
    v4_chars, v6_chars = hp.get("v4_text_chars", 0), hp.get("v6_text_chars", 0)
    markers = hp.get("markers") or []
    if not hp.get("v6_ok"):
        out.update(verdict="failed", reason=f"http_{v6_status}")
    elif v4_status is not None and (v4_status // 100) != (v6_status // 100):
        out.update(verdict="status_differs")
    elif markers or (v4_chars > 200 and v6_chars < 0.25 * v4_chars):
        out.update(verdict="placeholder", markers=markers)
    elif v4_chars and hp.get("similarity", 1.0) < threshold:
        out.update(verdict="content_differs", threshold=threshold)
    else:
        out.update(verdict="ok")
    return out


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

    hp = homepage_verdict(result["homepage"], ctx)
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
