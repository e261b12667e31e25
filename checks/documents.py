"""Policy documents: validity, publication time and the yearly reports (政务公开 document checks).

Reads the document records of :mod:`auditor.plugins.document_records`, never HTML. Rules:

* ``documents.expired`` — a document whose validity ended before ``--as-of`` (a stated end date,
  or start + stated period, or "自…起废止") or that the site's own 废止 decision or 清理结果 notice
  ends (only its 废止 and 失效 sections — 修改, 适时修改, 拟修改 and 继续有效 leave a document in
  force; a decision ends its documents on its effective date), but that is still shown as 有效 or
  not marked at all. A document correctly marked 失效/废止/已修改 is fine: that is exactly what the
  rule asks offices to do. Interpretations, news and reports have no validity of their own.
* ``documents.validity_unmarked`` — a 行政规范性文件 with no 有效性 marking and no stated validity
  period (兴庆区 2023 要点 (9): "有效性或有效期明确标注").
* ``documents.late_publication`` — published more than N working days (national: 20, 条例第二十六条)
  after it was written (成文/生成日期), counted on the official holiday calendar.
* ``documents.annual_report_missing`` — the 政府信息公开工作年度报告 for the previous year not
  published by 31 Jan (departments) / 31 Mar (a government's own report, 条例第四十九条), gaps in
  the run of past years, and the 政府网站工作年度报表 by 31 Jan (国办函〔2018〕12号).

Unknown dates are never read as violations: a document without a written date is not "late".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Any

from auditor.context import CheckContext, SiteView
from auditor.declarations import load_declarations
from auditor.docmodel.documents import (
    ENDING_DISPOSITIONS,
    DocumentRecord,
    load_documents,
    record_from_title,
    routine_title,
    same_doc_number,
    title_key,
)
from auditor.docmodel.workdays import WorkCalendar, caveat_for
from auditor.hookspecs import hookimpl
from auditor.model import Finding

DECLARED = load_declarations("auditor.checks", "rules/documents.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

EXPIRED_BASIS = DECLARED.bases["expired_basis"]
UNMARKED_BASIS = DECLARED.bases["unmarked_basis"]
LATE_BASIS = DECLARED.bases["late_basis"]
ANNUAL_BASIS = DECLARED.bases["annual_basis"]

# Kinds that have no validity of their own: an interpretation of a repealed document, a news item
# or a report is not "still shown as valid" (its title matches the document's once 解读 is stripped).
_NO_VALIDITY_KINDS = {"interpretation", "news", "annual_report", "consultation"}
_GOV_OWNER = re.compile(r"(人民政府|政府|省|市|县|区|旗|镇|乡|街道|自治州|盟)$")


def _entry_source(ctx: CheckContext, key: str) -> dict[str, Any]:
    entry = ctx.pack.entry(key) or {}
    return {"key": key, "value": entry.get("value"), "source": entry.get("source"), "status": entry.get("status"),
            "pack": entry.get("pack")}


def _doc_evidence(doc: DocumentRecord) -> dict[str, Any]:
    return {
        "title": doc.title,
        "kind": doc.kind_zh,
        "doc_number": doc.doc_number,
        "publish_date": doc.publish_date.isoformat() if doc.publish_date else None,
        "written_date": doc.written_date.isoformat() if doc.written_date else None,
        "validity": doc.validity_zh,
        "validity_raw": doc.validity_raw,
        "value_sources": doc.sources,
    }


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    docs = load_documents(site)
    yield from check_expired(docs, ctx)
    yield from check_unmarked(docs, ctx)
    yield from check_late_publication(docs, ctx)
    yield from check_annual_reports(docs, site, ctx)


# --- documents.expired ---------------------------------------------------------------------------

def check_expired(docs: list[DocumentRecord], ctx: CheckContext) -> Iterator[Finding]:
    as_of = ctx.as_of
    lists = [d for d in docs if d.repeal_list and (d.publish_date is None or d.publish_date <= as_of)]
    for doc in docs:
        if doc.validity not in (None, "valid") or doc.repeal_list or doc.kind in _NO_VALIDITY_KINDS:
            continue
        shown = "有效" if doc.validity == "valid" else "未标注有效性"
        shown_en = "valid" if doc.validity == "valid" else "no validity marking"
        if doc.end_date is not None and doc.end_date < as_of:
            how = {"stated": "文件载明有效期至", "field": "页面载明有效期至", "period": "按施行日期和有效期推算，有效期至",
                   "repeal_stated": "文件载明废止日期"}.get(doc.end_basis or "", "有效期至")
            yield ctx.finding(
                "documents.expired",
                doc.url,
                f"《{doc.title}》{how}{doc.end_date.isoformat()}，已于{ctx.as_of.isoformat()}前到期，但页面仍显示“{shown}”。",
                f"“{doc.title}” was valid until {doc.end_date.isoformat()} ({doc.end_basis}) but is still shown as {shown_en}.",
                key=f"end:{doc.url}",
                column=doc.column,
                evidence={**_doc_evidence(doc), "end_date": doc.end_date.isoformat(), "end_basis": doc.end_basis,
                          "effective_date": doc.effective_date.isoformat() if doc.effective_date else None,
                          "validity_period_years": doc.validity_period_years, "as_of": as_of.isoformat()},
            )
            continue
        for lst in lists:
            if lst.url == doc.url:
                continue
            hit = repeal_match(doc, lst)
            if hit is None or hit["disposition"] not in ENDING_DISPOSITIONS:
                continue  # not listed, or listed under 修改 / 继续有效: still in force
            ends = _list_end(hit, lst)
            if ends is not None and ends > as_of:
                continue  # the decision takes effect later
            issued = lst.publish_date or lst.written_date
            if doc.publish_date and issued and doc.publish_date > issued:
                continue  # published after the notice: a new document of the same title, not the one it ends
            section = hit.get("section") or ""
            what_zh = "废止" if hit["disposition"] == "repealed" else "失效"
            yield ctx.finding(
                "documents.expired",
                doc.url,
                f"《{doc.title}》已被本站《{lst.title}》列为{what_zh}（按{hit['matched_by']}匹配"
                f"{'，所在部分：' + section if section and section != 'title' else ''}"
                f"{'，' + ends.isoformat() + '起' if ends else ''}），但页面仍显示“{shown}”。",
                f"“{doc.title}” is listed as {hit['disposition']} in this site's notice “{lst.title}” "
                f"({'from ' + ends.isoformat() if ends else 'date unknown'}) but is still shown as {shown_en}.",
                key=f"list:{doc.url}",
                source_url=lst.url,
                column=doc.column,
                evidence={**_doc_evidence(doc), "repeal_list_url": lst.url, "repeal_list_title": lst.title,
                          "matched_by": hit["matched_by"], "disposition": hit["disposition"], "section": section,
                          "ends_on": ends.isoformat() if ends else None},
            )
            break


def repeal_match(doc: DocumentRecord, lst: DocumentRecord) -> dict[str, Any] | None:
    """How a 废止/清理 notice lists ``doc``: its item (disposition, section, date) and ``matched_by``.

    A 文号 match wins over a title match; among matches a 继续有效/修改 listing wins over an
    ending one only when it matched the same way, so a title repeated in two sections does not
    end a document the notice keeps. Records stored before items existed fall back to the flat
    ``numbers``/``titles`` lists (all ending).
    """

    data = lst.repeal_list or {}
    items = data.get("items")
    if items is None:
        items = [{"number": n, "title": None, "disposition": "repealed"} for n in data.get("numbers", [])]
        items += [{"number": None, "title": t, "disposition": "repealed"} for t in data.get("titles", [])]
    key = title_key(doc.title) if doc.title else ""
    by_number = [i for i in items if doc.doc_number and i.get("number") and same_doc_number(doc.doc_number, i["number"])]
    if by_number:
        best = next((i for i in by_number if i["disposition"] not in ENDING_DISPOSITIONS), by_number[0])
        return {**best, "matched_by": f"文号 {doc.doc_number}"}
    by_title = [i for i in items if key and i.get("title") and title_key(i["title"]) == key
                and not (doc.doc_number and i.get("number"))]  # a different 文号 is a different document
    if by_title:
        best = next((i for i in by_title if i["disposition"] not in ENDING_DISPOSITIONS), by_title[0])
        return {**best, "matched_by": "标题"}
    return None


def _list_end(item: dict[str, Any], lst: DocumentRecord) -> dt.date | None:
    for value in (item.get("date"), (lst.repeal_list or {}).get("effective_date")):
        if value:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                continue
    return lst.effective_date or lst.publish_date


# --- documents.validity_unmarked ------------------------------------------------------------------

def check_unmarked(docs: list[DocumentRecord], ctx: CheckContext) -> Iterator[Finding]:
    if ctx.pack.value("documents.validity_marking_required") is False:
        return  # a pack may switch the marking requirement off
    patterns = ctx.pack.value("interpretation.scope_exclude_title_patterns")
    routine = tuple(str(p) for p in patterns) if isinstance(patterns, list) else None
    for doc in docs:
        if doc.kind != "normative" or doc.validity is not None:
            continue
        if routine_title(doc.title, routine):
            continue  # a 任职通知 filed under 规范性文件 is not a 行政规范性文件: no validity to mark
        if doc.end_date is not None or doc.validity_period_years:
            continue  # the period is stated in the document: the seed accepts "有效期" as the marking
        yield ctx.finding(
            "documents.validity_unmarked",
            doc.url,
            f"行政规范性文件《{doc.title}》未标注有效性（有效/失效/废止）或有效期。",
            f"Normative document “{doc.title}” has no validity marking or validity period.",
            key=doc.url,
            column=doc.column,
            evidence=_doc_evidence(doc),
        )


# --- documents.late_publication -------------------------------------------------------------------

def check_late_publication(docs: list[DocumentRecord], ctx: CheckContext) -> Iterator[Finding]:
    limit = int(ctx.pack.value("documents.late_publication_working_days"))
    cal = WorkCalendar()
    for doc in docs:
        if doc.written_date is None or doc.publish_date is None or doc.publish_date > ctx.as_of:
            continue
        if doc.publish_date < doc.written_date:
            continue  # contradictory dates: not evidence of lateness
        deadline, estimated = cal.deadline_span(doc.written_date, limit)
        if doc.publish_date <= deadline:
            continue
        span = cal.span(doc.written_date, doc.publish_date)
        years = tuple(sorted(set(estimated) | set(span.estimated_years)))
        caveat = caveat_for(years)
        note_zh = f"（{caveat['zh']}）" if caveat else ""
        note_en = f" ({caveat['en']})" if caveat else ""
        yield ctx.finding(
            "documents.late_publication",
            doc.url,
            f"《{doc.title}》成文于{doc.written_date.isoformat()}，发布于{doc.publish_date.isoformat()}，"
            f"间隔{span.days}个工作日，超过{limit}个工作日（应于{deadline.isoformat()}前公开）{note_zh}。",
            f"“{doc.title}” written {doc.written_date.isoformat()}, published {doc.publish_date.isoformat()}: "
            f"{span.days} working days, more than {limit} (deadline {deadline.isoformat()}){note_en}.",
            key=doc.url,
            column=doc.column,
            evidence={**_doc_evidence(doc), "working_days": span.days, "limit_working_days": limit,
                      "deadline": deadline.isoformat(), "calendar_caveat": caveat,
                      "rule_value": _entry_source(ctx, "documents.late_publication_working_days")},
        )


# --- documents.annual_report_missing --------------------------------------------------------------

def _md(value: str, year: int) -> dt.date:
    month, day = (int(x) for x in str(value).split("-"))
    return dt.date(year, month, day)


def _due_year(as_of: dt.date, deadline_md: str) -> int:
    """The latest report year whose deadline has passed on ``as_of`` (report for Y due in Y+1)."""

    return as_of.year - 1 if as_of > _md(deadline_md, as_of.year) else as_of.year - 2


def _is_government_report(doc: DocumentRecord) -> bool:
    owner = (doc.report or {}).get("owner") or ""
    owner = re.sub(r"[\s《》“”]", "", owner)
    return not owner or bool(_GOV_OWNER.search(owner))


def _anchor_reports(site: SiteView, known: set[str]) -> Iterable[DocumentRecord]:
    """Annual reports known only from link text (a list entry whose page was not crawled)."""

    for edge in site.links():
        anchor = (edge.get("anchor") or "").strip()
        if len(anchor) < 8 or edge["target_url"] in known or ("年度报" not in anchor and "年报" not in anchor):
            continue
        rec = record_from_title(edge["target_url"], anchor, title_source=f"anchor:{edge['source_url']}")
        if rec.report and rec.report.get("year"):
            known.add(edge["target_url"])
            yield rec


def check_annual_reports(docs: list[DocumentRecord], site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    as_of = ctx.as_of
    department = ctx.profile == "department"
    xxgk_key = "documents.annual_report_deadline_department" if department else "documents.annual_report_deadline_government"
    xxgk_deadline = str(ctx.pack.value(xxgk_key))
    site_key = "documents.site_annual_report_deadline"
    site_deadline = str(ctx.pack.value(site_key))
    reports = [d for d in docs if d.report and d.report.get("year")]
    need_anchor_scan = True
    for rtype, deadline_md, key in (("xxgk", xxgk_deadline, xxgk_key), ("website", site_deadline, site_key)):
        due = _due_year(as_of, deadline_md)
        mine = [d for d in reports if d.report["type"] == rtype and (rtype == "website" or department or _is_government_report(d))]
        if need_anchor_scan and not any(d.report["year"] == due for d in mine):
            known = {d.url for d in reports}
            extra = list(_anchor_reports(site, known))
            reports += extra
            need_anchor_scan = False
            mine = [d for d in reports if d.report["type"] == rtype and (rtype == "website" or department or _is_government_report(d))]
        name_zh = "政府信息公开工作年度报告" if rtype == "xxgk" else "政府网站工作年度报表"
        name_en = "OGI annual report" if rtype == "xxgk" else "website annual report"
        whose = ("本部门" if department else "本级政府") if rtype == "xxgk" else "本网站"
        deadline = _md(deadline_md, due + 1)
        by_year: dict[int, list[DocumentRecord]] = {}
        for d in mine:
            by_year.setdefault(d.report["year"], []).append(d)
        base_evidence = {"report_type": rtype, "profile": ctx.profile, "as_of": as_of.isoformat(),
                         "deadline_rule": _entry_source(ctx, key),
                         "reports_found": sorted({(d.report["year"], d.url) for d in mine})[:30]}
        found = by_year.get(due)
        if not found:
            yield ctx.finding(
                "documents.annual_report_missing",
                site.homepage_url,
                f"未找到{whose}{due}年度{name_zh}（应于{deadline.isoformat()}前公布；检查日期{as_of.isoformat()}，"
                f"在已抓取的页面和链接中未找到）。",
                f"No {due} {name_en} found (due by {deadline.isoformat()}; as of {as_of.isoformat()}, "
                "searched the crawled pages and links).",
                key=f"{rtype}:{due}:missing",
                evidence={**base_evidence, "year": due, "deadline": deadline.isoformat()},
            )
        else:
            dated = [d for d in found if d.publish_date]
            if dated and all(d.publish_date > deadline for d in dated):
                first = min(dated, key=lambda d: d.publish_date)
                yield ctx.finding(
                    "documents.annual_report_missing",
                    first.url,
                    f"{whose}{due}年度{name_zh}《{first.title}》发布于{first.publish_date.isoformat()}，"
                    f"晚于{deadline.isoformat()}的期限。",
                    f"The {due} {name_en} “{first.title}” was published {first.publish_date.isoformat()}, "
                    f"after the {deadline.isoformat()} deadline.",
                    key=f"{rtype}:{due}:late",
                    evidence={**base_evidence, "year": due, "deadline": deadline.isoformat(),
                              "publish_date": first.publish_date.isoformat(), "value_sources": first.sources},
                )
        years = sorted(y for y in by_year if y <= due)
        if years:
            for gap in range(years[0] + 1, due):
                if gap in by_year:
                    continue
                yield ctx.finding(
                    "documents.annual_report_missing",
                    site.homepage_url,
                    f"{whose}{name_zh}缺少{gap}年度（已找到{years[0]}–{years[-1]}年间的报告）。",
                    f"The run of {name_en}s has a gap: {gap} missing (found years {years[0]}–{years[-1]}).",
                    key=f"{rtype}:{gap}:gap",
                    evidence={**base_evidence, "year": gap, "years_found": years},
                )
