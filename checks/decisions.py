"""Major administrative decisions (重大行政决策): catalogue, consultation period, published feedback.

《重大行政决策程序暂行条例》(国务院令第713号) is confirmed for: a 决策事项目录 published after
approval (Art. 3; departments and townships by reference, Art. 42), public consultation of at
least 30 days with any shorter period explained (Art. 15), and publication of decisions with how
public opinions were used (Art. 32). The date the year's catalogue must be out (31 March) and the
feedback window (10 working days) are local practice (兴庆区 2023 要点 (16), (18)) and live in the
rule pack, marked as such.

Consultation periods are counted inclusively (5月1日至5月30日 = 30 days), the reading most
favourable to the site, because the national text does not say how to count them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Any

from auditor.context import CheckContext, SiteView
from auditor.declarations import load_declarations
from auditor.docmodel.documents import DocumentRecord, load_documents, record_from_title, title_key
from auditor.docmodel.workdays import WorkCalendar, caveat_for
from auditor.hookspecs import hookimpl
from auditor.model import Finding

DECLARED = load_declarations("auditor.checks", "rules/decisions.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

CATALOGUE_BASIS = DECLARED.bases["catalogue_basis"]
CONSULTATION_BASIS = DECLARED.bases["consultation_basis"]
FEEDBACK_BASIS = DECLARED.bases["feedback_basis"]


def _md(value: str, year: int) -> dt.date:
    month, day = (int(x) for x in str(value).split("-"))
    return dt.date(year, month, day)


def consultation_keys(doc: DocumentRecord) -> set[str]:
    """Title keys naming the draft a consultation (or its feedback) is about."""

    keys = {title_key(t) for t in (doc.refs or {}).get("titles", [])}
    if not keys and doc.title:
        stripped = re.sub(r"(关于)?(公开)?(征求|征集)", "", doc.title)
        stripped = re.sub(r"(社会)?(公众)?意见(建议)?(的)?(公告|通知|公示|启事|采纳情况.*|反馈.*)?$", "", stripped)
        keys.add(title_key(stripped))
    return {k for k in keys if len(k) >= 4}


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    docs = load_documents(site)
    yield from check_catalogue(docs, site, ctx)
    yield from check_consultations(docs, site, ctx)


def _anchor_catalogues(site: SiteView, known: set[str]) -> Iterable[DocumentRecord]:
    for edge in site.links():
        anchor = (edge.get("anchor") or "").strip()
        if "重大行政决策" not in anchor or edge["target_url"] in known:
            continue
        rec = record_from_title(edge["target_url"], anchor, title_source=f"anchor:{edge['source_url']}")
        if rec.subkind == "decision_catalogue":
            known.add(edge["target_url"])
            yield rec


def check_catalogue(docs: list[DocumentRecord], site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    if ctx.pack.value("decisions.catalogue_required") is False:
        return
    as_of = ctx.as_of
    deadline_md = str(ctx.pack.value("decisions.catalogue_deadline"))
    year = as_of.year if as_of > _md(deadline_md, as_of.year) else as_of.year - 1
    deadline = _md(deadline_md, year)
    cats = [d for d in docs if d.subkind == "decision_catalogue" and d.catalogue_year]
    if not any(d.catalogue_year == year for d in cats):
        cats += list(_anchor_catalogues(site, {d.url for d in docs}))
    found = [d for d in cats if d.catalogue_year == year]
    entry = ctx.pack.entry("decisions.catalogue_deadline") or {}
    evidence: dict[str, Any] = {"year": year, "deadline": deadline.isoformat(), "as_of": as_of.isoformat(),
                                "profile": ctx.profile, "rule_value": entry,
                                "catalogues_found": sorted({(d.catalogue_year, d.url) for d in cats})[:20]}
    if not found:
        yield ctx.finding(
            "decisions.catalogue_missing",
            site.homepage_url,
            f"未找到{year}年度重大行政决策事项目录（规则包要求{deadline.isoformat()}前公布，"
            f"该期限为{'地方要求' if entry.get('status') in ('local', 'unconfirmed') else '规定'}；在已抓取的页面和链接中未找到）。",
            f"No {year} catalogue of major administrative decisions found (due {deadline.isoformat()} per the rule pack).",
            key=f"catalogue:{year}",
            evidence=evidence,
        )
        return
    dated = [d for d in found if d.publish_date]
    if dated and all(d.publish_date > deadline for d in dated):
        first = min(dated, key=lambda d: d.publish_date)
        yield ctx.finding(
            "decisions.catalogue_missing",
            first.url,
            f"{year}年度重大行政决策事项目录《{first.title}》发布于{first.publish_date.isoformat()}，晚于{deadline.isoformat()}。",
            f"The {year} decision catalogue was published {first.publish_date.isoformat()}, after {deadline.isoformat()}.",
            key=f"catalogue:{year}:late",
            evidence={**evidence, "publish_date": first.publish_date.isoformat(), "value_sources": first.sources},
        )


def check_consultations(docs: list[DocumentRecord], site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    min_days = int(ctx.pack.value("decisions.consultation_min_days"))
    window = int(ctx.pack.value("decisions.feedback_working_days"))
    cal = WorkCalendar()
    calls = [d for d in docs if d.kind == "consultation" and d.subkind == "consultation_call"]
    feedback = [d for d in docs if d.kind == "consultation" and d.subkind == "consultation_feedback"]
    fb_keys = [(f, consultation_keys(f)) for f in feedback]
    by_url = {d.url: d for d in docs}
    for call in calls:
        info = call.consultation or {}
        start, end = info.get("start"), info.get("end")
        if start and end and start <= end <= ctx.as_of + dt.timedelta(days=366):
            days = (end - start).days + 1
            if days < min_days and not info.get("explained"):
                yield ctx.finding(
                    "decisions.consultation_short",
                    call.url,
                    f"《{call.title}》征求意见期限为{start.isoformat()}至{end.isoformat()}，共{days}日，少于{min_days}日且未说明理由"
                    f"{'（起始日按发布日期计）' if info.get('start_source') == 'publish_date' else ''}。",
                    f"“{call.title}” was open {start.isoformat()}–{end.isoformat()} ({days} days), fewer than {min_days}, "
                    "with no stated reason.",
                    key=call.url,
                    column=call.column,
                    evidence={"start": start.isoformat(), "end": end.isoformat(), "days_inclusive": days,
                              "min_days": min_days, "start_source": info.get("start_source"),
                              "end_source": info.get("end_source"),
                              "rule_value": ctx.pack.entry("decisions.consultation_min_days") or {}},
                )
        if end is None or end > ctx.as_of:
            continue
        deadline, estimated = cal.deadline_span(end, window)
        keys = consultation_keys(call)
        linked = {r["url"] for r in call.related}
        matches = [f for f, fk in fb_keys if (keys & fk) or f.url in linked
                   or call.url in {r["url"] for r in f.related}]
        matches += [by_url[u] for u in linked if u in by_url and by_url[u].subkind == "consultation_feedback"
                    and by_url[u] not in matches]
        if deadline >= ctx.as_of and not matches:
            continue  # the window is still open
        caveat = caveat_for(estimated)
        base = {"consultation_end": end.isoformat(), "window_working_days": window, "deadline": deadline.isoformat(),
                "calendar_caveat": caveat, "rule_value": ctx.pack.entry("decisions.feedback_working_days") or {},
                "note": "窗口自征求意见截止日起算（网站上通常看不到决策日期）"}
        if not matches:
            yield ctx.finding(
                "decisions.feedback_missing",
                call.url,
                f"《{call.title}》征求意见已于{end.isoformat()}截止，至{ctx.as_of.isoformat()}未找到意见采纳情况反馈"
                f"（规则包：截止后{window}个工作日内，即{deadline.isoformat()}前）。",
                f"“{call.title}” closed {end.isoformat()}; no published feedback on the comments found by "
                f"{ctx.as_of.isoformat()} (pack window: {window} working days, by {deadline.isoformat()}).",
                key=call.url,
                column=call.column,
                evidence={**base, "searched_feedback_pages": len(feedback)},
            )
            continue
        dated = [f for f in matches if f.publish_date]
        if dated and all(f.publish_date > deadline for f in dated):
            first = min(dated, key=lambda f: f.publish_date)
            yield ctx.finding(
                "decisions.feedback_missing",
                first.url,
                f"《{call.title}》的意见采纳情况《{first.title}》发布于{first.publish_date.isoformat()}，"
                f"晚于截止后{window}个工作日（{deadline.isoformat()}）。",
                f"Feedback “{first.title}” published {first.publish_date.isoformat()}, after the {window}-working-day "
                f"window ({deadline.isoformat()}).",
                key=f"{call.url}|late",
                source_url=call.url,
                column=call.column,
                evidence={**base, "feedback_url": first.url, "feedback_date": first.publish_date.isoformat()},
            )
