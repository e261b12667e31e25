"""Site availability (站点无法访问, 单项否决) from the probes ``govaudit monitor`` stored.

The indicator is a week-long measurement (国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》单项否决·站点无法访问): ≥20 visits on each day of one
week, a visit failing when the site has not opened within 15 s, veto at a failure share of 5 %
or more (inclusive); vendors warn at 3 %. A single audit run cannot decide it, so this check reads
the ``availability_probe`` records of the audited host for the seven full days before ``--as-of``
(days in Beijing time, from the pack) and:

- decides the veto (``availability.site_unreachable``, Severity.VETO) or the warning
  (``availability.degraded``) only when every day of the week has enough visits;
- otherwise says plainly that the figure is not decidable yet (``availability.undecided``, info),
  with what is missing and how to collect it — never a veto from too few samples.

The failure share is also a report metric (``availability.failure_ratio``) either way.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from auditor.context import CheckContext, SiteView
from auditor.hookspecs import hookimpl
from auditor.measure import iter_monitor_visits as iter_probes
from auditor.model import Basis, Finding, Rule, Severity

BASIS = Basis(
    zh="《政府网站与政务新媒体检查指标》单项否决·站点无法访问：监测1周，每天间隔访问20次以上，超过15秒网站仍打不开视为无法访问，"
    "无法访问次数占比达到（含）5%即单项否决",
    en="Inspection indicators (国办秘函〔2019〕19号), single veto 'site unreachable': one week, ≥20 visits a day, "
    "a visit fails after 15 s, veto at ≥5% failures",
    source="国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》单项否决·站点无法访问；国办发〔2015〕15号附件2（全国政府网站普查评分表）措辞相同",
    status="confirmed",
)
WARN_BASIS = Basis(
    zh="国办秘函〔2019〕19号单项否决·站点无法访问（5% 否决线）之下的预警；3% 预警线非国家规定，为本工具默认值（可在规则包中调整）；"
    "国办发〔2015〕15号附件2 首页可用性扣分项（分值未核实）",
    en="A warning below the 5% veto of 国办秘函〔2019〕19号; the 3% line is this tool's default, not a national rule "
    "(the homepage-availability deduction of 国办发〔2015〕15号 annex 2 is unconfirmed)",
    source="国办秘函〔2019〕19号 单项否决·站点无法访问; 国办发〔2015〕15号附件2 首页可用性（分值未核实）; 3% 预警线为本工具约定",
    status="partial",
)


@hookimpl
def govaudit_rules() -> list[Rule]:
    return [
        Rule(
            id="availability.site_unreachable",
            name_zh="站点无法访问（单项否决）",
            name_en="Site unreachable (single veto)",
            severity=Severity.VETO,
            basis=BASIS,
            remediation_zh="排查服务器、网络与域名解析故障，建立可用性监测和故障告警，保障网站持续稳定访问。",
            remediation_en="Fix the server, network or DNS faults; set up availability monitoring and alerts.",
        ),
        Rule(
            id="availability.degraded",
            name_zh="站点可访问性接近否决线",
            name_en="Availability close to the veto line",
            severity=Severity.MINOR,
            basis=WARN_BASIS,
            remediation_zh="失败率已超过预警线，应尽快排查偶发故障，避免达到5%的单项否决线。",
            remediation_en="Failures exceed the warning line; fix intermittent faults before they reach the 5% veto line.",
        ),
        Rule(
            id="availability.undecided",
            name_zh="站点可访问性尚无法判定（监测数据不足）",
            name_en="Availability not decidable yet (not enough monitoring data)",
            severity=Severity.INFO,
            basis=BASIS,
            remediation_zh="用 `govaudit monitor` 按计划持续监测（每天不少于20次、连续7天），数据齐全后再次检查即可得出结论。",
            remediation_en="Run `govaudit monitor` on schedule (≥20 visits a day for 7 days); check again once the week is complete.",
        ),
    ]


def window(ctx: CheckContext) -> tuple[dt.datetime, dt.datetime, ZoneInfo]:
    """The seven full days before ``--as-of`` in the pack's time zone (Beijing time by default)."""

    tz = ZoneInfo(str(ctx.pack.value("availability.timezone", "Asia/Shanghai")))
    days = int(ctx.pack.value("availability.window_days", 7))
    end = dt.datetime.combine(ctx.as_of, dt.time(0, 0), tz)
    return end - dt.timedelta(days=days), end, tz


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    start, end, tz = window(ctx)
    lo, hi = start.timestamp(), end.timestamp()
    hosts = [site.host, ctx.config.host, (urlsplit(ctx.homepage_url).hostname or "").lower()]
    per_day: Counter[str] = Counter()
    fails_per_day: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    total = failed = 0
    for probe in iter_probes(ctx.store, hosts):
        at = probe.get("at")
        if not isinstance(at, int | float) or not lo <= at < hi:
            continue
        day = dt.datetime.fromtimestamp(at, tz).date().isoformat()
        per_day[day] += 1
        total += 1
        if not probe.get("ok"):
            failed += 1
            fails_per_day[day] += 1
            failures.append({k: probe.get(k) for k in ("at", "url", "status", "error_kind", "error", "elapsed")})
    n_days = int(ctx.pack.value("availability.window_days", 7))
    need = int(ctx.pack.value("availability.min_visits_per_day", 20))
    veto_ratio = float(ctx.pack.value("availability.veto_ratio", 0.05))
    warn_ratio = float(ctx.pack.value("availability.warn_ratio", 0.03))
    all_days = [(start + dt.timedelta(days=i)).date().isoformat() for i in range(n_days)]
    short_days = {d: per_day.get(d, 0) for d in all_days if per_day.get(d, 0) < need}
    decidable = not short_days
    ratio = failed / total if total else None
    days = [{"date": d, "visits": per_day.get(d, 0), "failures": fails_per_day.get(d, 0)} for d in all_days]
    evidence: dict[str, Any] = {
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "visits": total,
        "failures": failed,
        "failure_ratio": ratio,
        "veto_ratio": veto_ratio,
        "warn_ratio": warn_ratio,
        "min_visits_per_day": need,
        "days": days,
        "decidable": decidable,
        "failed_visits": failures[:50],
        "failed_visit_count": len(failures),
    }
    ctx.metric(
        "availability.failure_ratio",
        ratio,
        target=veto_ratio,
        label_zh="站点无法访问比例（as-of 前7天）",
        label_en="Share of failed visits (7 days before as-of)",
        unit="ratio",
        basis=BASIS.source,
        detail={k: evidence[k] for k in ("window_start", "window_end", "visits", "failures", "decidable", "days")},
    )
    home = ctx.homepage_url
    span = f"{start:%Y-%m-%d}至{(end - dt.timedelta(days=1)):%Y-%m-%d}"
    if not decidable:
        missing = "、".join(f"{d}（{c}次）" for d, c in list(short_days.items())[:7])
        seen = f"，已有 {total} 次访问、失败 {failed} 次（{ratio:.2%}）" if total else "，没有任何监测记录"
        yield ctx.finding(
            "availability.undecided",
            home,
            f"{span} 的可访问性监测数据不足，无法判定是否“站点无法访问”：需每天至少 {need} 次访问，"
            f"不足的日期：{missing}{seen}。单次检查无法得出该项结论，请用 govaudit monitor 持续监测",
            f"Availability for {span} is not decidable: {need} visits a day are needed and {len(short_days)} day(s) fall short"
            + (f"; {total} visits so far, {failed} failed ({ratio:.2%})" if total else "; no monitoring data at all")
            + ". A single audit cannot decide this item; run govaudit monitor.",
            key=f"undecided:{site.host}",
            evidence={**evidence, "short_days": short_days},
        )
        return
    assert ratio is not None
    if ratio >= veto_ratio:
        yield ctx.finding(
            "availability.site_unreachable",
            home,
            f"{span} 共监测 {total} 次，无法访问 {failed} 次，占 {ratio:.2%}，达到 {veto_ratio:.0%} 的单项否决线",
            f"{failed} of {total} visits failed in {span} ({ratio:.2%}), at or above the {veto_ratio:.0%} veto line",
            key=f"unreachable:{site.host}",
            evidence=evidence,
        )
    elif ratio >= warn_ratio:
        yield ctx.finding(
            "availability.degraded",
            home,
            f"{span} 共监测 {total} 次，无法访问 {failed} 次，占 {ratio:.2%}，超过 {warn_ratio:.0%} 预警线（否决线 {veto_ratio:.0%}）",
            f"{failed} of {total} visits failed in {span} ({ratio:.2%}), above the {warn_ratio:.0%} warning line",
            key=f"degraded:{site.host}",
            evidence=evidence,
        )
