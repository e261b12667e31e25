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
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.measure.records import iter_monitor_visits as iter_probes
from auditor.model import Finding

DECLARED = load_declarations("auditor.checks", "rules/availability.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

BASIS = DECLARED.bases["basis"]
WARN_BASIS = DECLARED.bases["warn_basis"]


def homepage_unreachable(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    """The homepage fetch of this run failed and no page was stored: say so as a finding (the
    report of an audit that could not run must still name the reason), never as the veto."""

    if site.homepage is not None:
        return
    home = next((f for f in ctx.store.iter_fetches(ctx.run_id, purpose="page") if f.get("depth") == 0), None)
    if home is None or (home.get("error_kind") is None and (home.get("status") or 0) < 400):
        return
    why = f"{home['error_kind']}: {home.get('error') or ''}".strip(": ") if home.get("error_kind") else f"HTTP {home['status']}"
    yield ctx.finding(
        "availability.homepage_unreachable", home["url"],
        f"本次检查首页无法访问（{why[:200]}），其余检查无法进行；是否构成“站点无法访问”单项否决须按一周监测判定",
        f"The homepage could not be fetched during this audit ({why[:200]}); nothing else could be checked. "
        "Whether this is the 'site unreachable' veto needs a week of monitoring.",
        key=f"homepage:{site.host}", evidence={"url": home["url"], "error_kind": home.get("error_kind"),
                                               "status": home.get("status"), "error": (home.get("error") or "")[:500]},
    )


def window(ctx: CheckContext) -> tuple[dt.datetime, dt.datetime, ZoneInfo]:
    """The seven full days before ``--as-of`` in the pack's time zone (Beijing time by default)."""

    tz = ZoneInfo(str(ctx.pack.value("availability.timezone")))
    days = int(ctx.pack.value("availability.window_days"))
    end = dt.datetime.combine(ctx.as_of, dt.time(0, 0), tz)
    return end - dt.timedelta(days=days), end, tz


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    yield from homepage_unreachable(site, ctx)
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
    n_days = int(ctx.pack.value("availability.window_days"))
    need = int(ctx.pack.value("availability.min_visits_per_day"))
    veto_ratio = float(ctx.pack.value("availability.veto_ratio"))
    warn_ratio = float(ctx.pack.value("availability.warn_ratio"))
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
        label_zh=f"站点无法访问比例（as-of 前{n_days}天）",
        label_en=f"Share of failed visits ({n_days} days before as-of)",
        unit="ratio",
        basis=BASIS.source,
        detail={k: evidence[k] for k in ("window_start", "window_end", "visits", "failures", "decidable", "days")},
    )
    home = ctx.homepage_url
    span = f"{start:%Y-%m-%d}至{(end - dt.timedelta(days=1)):%Y-%m-%d}"
    span_en = f"{start:%Y-%m-%d} to {(end - dt.timedelta(days=1)):%Y-%m-%d}"  # the en message's own words
    if not decidable:
        missing = "、".join(f"{d}（{c}次）" for d, c in list(short_days.items())[:7])
        seen = f"，已有 {total} 次访问、失败 {failed} 次（{ratio:.2%}）" if total else "，没有任何监测记录"
        yield ctx.finding(
            "availability.undecided",
            home,
            f"{span} 的可访问性监测数据不足，无法判定是否“站点无法访问”：需每天至少 {need} 次访问，"
            f"不足的日期：{missing}{seen}。单次检查无法得出该项结论，请用 govaudit monitor 持续监测",
            f"Availability for {span_en} is not decidable: {need} visits a day are needed and {len(short_days)} day(s) fall short"
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
            f"{failed} of {total} visits failed in {span_en} ({ratio:.2%}), at or above the {veto_ratio:.0%} veto line",
            key=f"unreachable:{site.host}",
            evidence=evidence,
        )
    elif ratio >= warn_ratio:
        yield ctx.finding(
            "availability.degraded",
            home,
            f"{span} 共监测 {total} 次，无法访问 {failed} 次，占 {ratio:.2%}，超过 {warn_ratio:.0%} 预警线（否决线 {veto_ratio:.0%}）",
            f"{failed} of {total} visits failed in {span_en} ({ratio:.2%}), above the {warn_ratio:.0%} warning line",
            key=f"degraded:{site.host}",
            evidence=evidence,
        )
