"""办事服务 and 互动交流: the two single vetoes about what a site offers its users.

国办秘函〔2019〕19号 makes both a 单项否决:

- **服务不实用**: (1) no 办事服务 at all; (2) ≥5 service guides (办事指南) each missing ≥4 of the key
  elements (事项名称、设定依据、申请条件、办理材料、办理地点、办理时间、联系电话、办理流程).
- **互动回应差**: (1) no effective consultation/suggestion channel (网上信访 and 纪检举报 channels do not
  count); (2) in the year before the monitoring point, a 政务咨询 column holds valid messages left
  unanswered for more than 3 months (在线访谈、调查征集、网上信访、纪检举报 columns excluded).

Everything is read from what the crawl stored: the homepage's and first-level pages' links, guide
pages with element labels, and letter pages with their 留言时间/答复时间. Keywords, element lists and
thresholds are rule-pack values (``service.*``, ``interaction.*``). A veto from a keyword search is
reported as 疑似 (suspected) with what was searched, so a person can confirm it: a false 单项否决 is
worse than a missed one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from auditor.context import CheckContext, PageView, SiteView
from auditor.declarations import load_declarations
from auditor.docmodel.dates import find_dates
from auditor.hookspecs import hookimpl
from auditor.model import Finding, Region, Verdict

_IND = "国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》"
DECLARED = load_declarations("auditor.checks", "rules/channels.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

SERVICE_BASIS = DECLARED.bases["service_basis"]
GUIDE_BASIS = DECLARED.bases["guide_basis"]
INTERACTION_BASIS = DECLARED.bases["interaction_basis"]


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def _candidate_links(site: SiteView) -> list[dict[str, Any]]:
    """Links of the homepage (every region) and the navigation of the pages it links to."""

    home = site.homepage_url
    edges = [e for e in site.links(source_url=home) if e["tag"] == "a"]
    firsts = {e["target_url"] for e in edges if e["region"] in (str(Region.NAV), str(Region.HEADER))}
    for url in sorted(firsts)[:40]:
        edges += [e for e in site.links(source_url=url)
                  if e["tag"] == "a" and e["region"] in (str(Region.NAV), str(Region.HEADER))]
    return edges


def _matches(edge: dict[str, Any], words: list[str], url_patterns: list[str], excluded: list[str]) -> bool:
    anchor = _norm(edge.get("anchor") or "")
    if any(x in anchor for x in excluded):
        return False
    if any(w in anchor for w in words):
        return True
    target = (edge.get("target_url") or "").lower()
    return any(re.search(p, target) for p in url_patterns)


def _entry_finding(site: SiteView, ctx: CheckContext, family: str, rule_id: str, dead: set[str],
                   edges: list[dict[str, Any]]) -> Finding | None:
    words = ctx.pack.value(f"{family}.entry_keywords")
    patterns = ctx.pack.value(f"{family}.entry_url_patterns")
    excluded = ctx.pack.value(f"{family}.entry_excluded_keywords")
    hits = [e for e in edges if _matches(e, words, patterns, excluded)]
    live = [e for e in hits if e["target_url"] not in dead]
    if live:
        return None
    home = site.homepage_url
    what_zh = "办事服务入口" if family == "service" else "咨询建言渠道（领导信箱、咨询、留言等）"
    what_en = "a 办事服务 entry" if family == "service" else "a consultation channel (mailbox, Q&A, messages)"
    if hits:
        zh = f"疑似{what_zh}均不可用：找到 {len(hits)} 个入口，全部为不可用链接，请人工核实"
        en = f"Suspected: every link to {what_en} is dead ({len(hits)} found); check by hand"
    else:
        zh = f"疑似未提供{what_zh}：首页及 {len({e['source_url'] for e in edges})} 个页面的导航中未找到相关链接，请人工核实"
        en = f"Suspected: no link to {what_en} on the homepage or in the navigation of {len({e['source_url'] for e in edges})} pages; check by hand"
    return ctx.finding(rule_id, home, zh, en, key="entry", evidence={
        "searched_pages": sorted({e["source_url"] for e in edges})[:30],
        "links_searched": len(edges),
        "keywords": words, "url_patterns": patterns, "excluded_keywords": excluded,
        "dead_entries": [{"url": e["target_url"], "anchor": e["anchor"]} for e in hits][:20],
        "suspected": True,
    })


# --- service guides ---------------------------------------------------------------------------

def _labels(page: PageView) -> set[str]:
    """Text of table headers, definition terms and bold/label cells: where guides name their elements."""

    tree = page.tree
    if tree is None:
        return set()
    out = set()
    for el in tree.iter("th", "dt", "strong", "b", "label"):
        out.add(_norm(el.text_content())[:20])
    for td in tree.iter("td"):  # two-column tables with the label in the first cell
        text = _norm(td.text_content())
        if 1 < len(text) <= 10 and td.getnext() is not None:
            out.add(text)
    return out


def _guide_elements(page: PageView, elements: dict[str, list[str]]) -> tuple[list[str], list[str]] | None:
    """(present, missing) element ids of a guide page, or None when the page is not a guide."""

    title = page.title or ""
    if not any(w in title for w in ("办事指南", "服务指南", "办理指南")):
        return None
    labels = _labels(page)
    text = _norm(page.visible_text)
    present, missing = [], []
    for elem, synonyms in elements.items():
        found = any(any(s in label for label in labels) for s in synonyms) or any(f"{s}：" in text or f"{s}:" in text for s in synonyms)
        (present if found else missing).append(elem)
    if len(present) < 2:  # an index page titled 办事指南, not a guide
        return None
    return present, missing


def _check_guides(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    elements: dict[str, list[str]] = ctx.pack.value("service.guide_elements")
    min_missing = int(ctx.pack.value("service.guide_min_missing"))
    veto_count = int(ctx.pack.value("service.impractical_guide_count"))
    incomplete = []
    for page in site.pages("html"):
        got = _guide_elements(page, elements)
        if got is None:
            continue
        present, missing = got
        if len(missing) < min_missing:
            continue
        incomplete.append({"url": page.url, "title": page.title, "missing": missing})
        yield ctx.finding(
            "service.guide_incomplete", page.url,
            f"办事指南《{page.title}》缺少 {len(missing)} 个要素：{'、'.join(missing)}（≥{min_missing} 个即计入服务不实用）",
            f"Service guide “{page.title}” misses {len(missing)} key elements: {', '.join(missing)}",
            key=page.url, evidence={"present": present, "missing": missing, "min_missing": min_missing},
        )
    if len(incomplete) >= veto_count:
        yield ctx.finding(
            "service.impractical", site.homepage_url,
            f"服务不实用（单项否决）：{len(incomplete)} 个办事指南各缺少 {min_missing} 个以上要素（≥{veto_count} 个）",
            f"Services impractical (veto): {len(incomplete)} guides each miss ≥{min_missing} elements (≥{veto_count})",
            key="veto", evidence={"count": len(incomplete), "threshold": veto_count, "guides": incomplete[:100]},
        )


# --- unanswered messages ------------------------------------------------------------------------

def _labelled_date(text: str, labels: list[str], as_of: dt.date) -> dt.date | None:
    for label in labels:
        for m in re.finditer(r"\s*".join(map(re.escape, label)) + r"\s*[:：]?\s*", text):
            dates = find_dates(text[m.end(): m.end() + 30])
            if dates and dates[0][0] <= as_of:
                return dates[0][0]
    return None


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return dt.date(year, month, 28)


def _is_letter(page: PageView, ctx: CheckContext) -> bool:
    text = _norm(page.visible_text)
    asks = ctx.pack.value("interaction.asked_labels")
    hits = sum(text.count(a) for a in asks)
    if hits != 1:  # a list page shows many; an article none
        return False
    # the column a letter sits in: its title, ColumnName meta and breadcrumb (not the site-wide navigation,
    # which names every column, 网上信访 included)
    crumb = text.partition("当前位置")[2][:60]
    where = _norm(page.title) + _norm(page.meta.get("ColumnName", "")) + crumb
    return not any(x in where for x in ctx.pack.value("interaction.excluded_columns"))


def _check_messages(site: SiteView, ctx: CheckContext, dead_pages: set[str]) -> Iterator[Finding]:
    as_of = ctx.as_of
    months = int(ctx.pack.value("interaction.reply_months"))
    window = int(ctx.pack.value("interaction.window_days"))
    asks = ctx.pack.value("interaction.asked_labels")
    replies = ctx.pack.value("interaction.reply_labels")
    pending = ctx.pack.value("interaction.pending_words")
    for page in site.pages("html"):
        if page.url in dead_pages or not _is_letter(page, ctx):
            continue
        text = page.visible_text  # whitespace kept: "2026-07-15 16:45" must not read as day 1516
        asked = _labelled_date(text, asks, as_of)
        if asked is None or (as_of - asked).days > window:
            continue
        deadline = _add_months(asked, months)
        replied = _labelled_date(text, replies, as_of)
        if replied is not None and replied <= deadline:
            continue
        if replied is None and deadline >= as_of:
            continue  # still within its 3 months
        state = "late" if replied else "unanswered"
        status_word = next((w for w in pending if w in _norm(text)), None)
        zh = (f"留言《{page.title}》{asked:%Y-%m-%d} 提交，{'于 ' + replied.isoformat() + ' 才答复' if replied else '至今未答复'}"
              f"（超过 {months} 个月{('，状态：' + status_word) if status_word else ''}）")
        en = (f"Message “{page.title}” of {asked:%Y-%m-%d} {'answered only on ' + replied.isoformat() if replied else 'still unanswered'}"
              f" (over {months} months)")
        yield ctx.finding("interaction.unanswered", page.url, zh, en, key=page.url, evidence={
            "asked": asked.isoformat(), "replied": replied.isoformat() if replied else None, "deadline": deadline.isoformat(),
            "state": state, "status_text": status_word, "window_days": window, "as_of": as_of.isoformat(),
        })


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    if site.homepage is None:
        return  # nothing to judge: the unreachable homepage is the availability rule's finding
    dead = {r.target_url for r in site.link_results(Verdict.DEAD)}
    edges = _candidate_links(site)
    if ctx.config.family_enabled("service"):
        f = _entry_finding(site, ctx, "service", "service.no_entry", dead, edges)
        if f:
            yield f
        yield from _check_guides(site, ctx)
    if ctx.config.family_enabled("interaction"):
        f = _entry_finding(site, ctx, "interaction", "interaction.no_channel", dead, edges)
        if f:
            yield f
        yield from _check_messages(site, ctx, dead)
