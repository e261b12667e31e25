"""Policy interpretation (政策解读): present, linked both ways, published in time; coverage figures.

National rule: policy documents and their interpretations are 同步组织、同步审签、同步部署
(国办发〔2016〕80号) and inspectors deduct for 政策文件未被解读 and 解读稿未与原文双向关联.
Local plans set a working-day allowance (兴庆区 2023: 图解 within 3 working days) and targets
(解读 coverage 100%, diverse formats 20% / 70%) — all rule-pack values.

Documents in scope (:class:`Scope`, all rule-pack data): every 行政规范性文件, plus policy documents
whose title says they issue policy (pack ``interpretation.scope_policy_title_patterns``: 规划, 方案,
办法, 意见, 关于印发…) and whose 文号 says a government or its office issued them
(``interpretation.scope_doc_number_pattern``). Routine kinds never are, whatever their column or
文号 (``interpretation.scope_exclude_title_patterns``: 任免, 表彰, 通报, 会议通知, 批复, 转发…); a
"normative" kind inferred only from a 文号 plus a 有效性 field — which every TRS 政务公开 page
shows — needs a policy title too. Documents marked 失效/废止 and repeal decisions are left out. An interpretation belongs to a document when either page links to the other, or the
interpretation cites the document's 文号 or its title (in 《》 or as its own title). Documents are
matched from their records (:mod:`auditor.docmodel.documents`); link edges of the crawl count as links too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from auditor.context import CheckContext, SiteView
from auditor.declarations import load_declarations
from auditor.docmodel.dates import normalize
from auditor.docmodel.documents import (
    DocumentRecord,
    load_documents,
    parse_doc_number,
    routine_text,
    same_doc_number,
    title_key,
)
from auditor.docmodel.workdays import WorkCalendar, caveat_for
from auditor.hookspecs import hookimpl
from auditor.model import Finding

DECLARED = load_declarations("auditor.checks", "rules/interpretation.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

MISSING_BASIS = DECLARED.bases["missing_basis"]
UNLINKED_BASIS = DECLARED.bases["unlinked_basis"]
LATE_BASIS = DECLARED.bases["late_basis"]


@dataclass(frozen=True)
class Scope:
    """Which documents need a 解读, from the pack (``interpretation.scope_*``).

    ``exclude`` names kinds that never do (任免, 表彰, 通报 of individual matters, 会议通知,
    批复…): it wins over everything, because a personnel notice filed in a 规范性文件 column is
    still a personnel notice. ``policy_titles`` names what a policy document that issues policy
    is called (规划, 实施方案, 办法, 意见, 关于印发…的通知…). ``doc_number`` says which issuers make
    a policy document a government one (政发, 政办发…).
    """

    exclude: tuple[re.Pattern[str], ...] = ()
    policy_titles: tuple[re.Pattern[str], ...] = ()
    doc_number: re.Pattern[str] | None = None

    @classmethod
    def from_pack(cls, pack: Any) -> Scope:
        def patterns(key: str) -> tuple[re.Pattern[str], ...]:
            out = []
            for item in pack.value(key) or []:
                try:
                    out.append(re.compile(str(item)))
                except re.error:
                    continue  # a bad pattern in a local pack is skipped, never fatal
            return tuple(out)

        number = pack.value("interpretation.scope_doc_number_pattern")
        try:
            number_rx = re.compile(number) if number else None
        except re.error:
            number_rx = None
        return cls(patterns("interpretation.scope_exclude_title_patterns"),
                   patterns("interpretation.scope_policy_title_patterns"), number_rx)

    def decide(self, doc: DocumentRecord) -> tuple[bool, str]:
        """(in scope, why) for one document."""

        if doc.validity in ("expired", "repealed") or doc.repeal_list:
            return False, "not in force, or a decision that only repeals others"
        title = normalize(doc.title or "")
        kind_part = routine_text(doc.title)  # 《干部任职回避办法》 is quoted, not what this document is
        hit = next((rx for rx in self.exclude if rx.search(kind_part)), None)
        if hit:
            return False, f"routine kind ({hit.pattern})"
        policy_title = any(rx.search(title) for rx in self.policy_titles)
        if doc.kind == "normative":
            if (doc.sources or {}).get("kind", "").startswith("文号+有效性") and not policy_title:
                # only inferred from a 文号 and a 有效性 field, which every TRS 政务公开 page has:
                # a routine notice, not a 行政规范性文件, unless its title says it issues policy
                return False, "inferred normative, routine title"
            return True, "行政规范性文件"
        if doc.kind == "policy" and doc.doc_number and self.doc_number and policy_title:
            if self.doc_number.search(doc.doc_number.split("〔")[0]):
                return True, "government policy document"
        return False, f"kind {doc.kind}"


def in_scope(doc: DocumentRecord, pattern: str | None, scope: Scope | None = None) -> bool:
    """Whether ``doc`` needs an interpretation (kept for callers that only have the 文号 pattern)."""

    scope = scope or Scope(doc_number=re.compile(pattern) if pattern else None,
                           policy_titles=(re.compile("."),))
    return scope.decide(doc)[0]


class InterpretationIndex:
    """Interpretations indexed by what links them to a document, so matching stays linear.

    A site with 10,000 documents and 5,000 interpretations must not compare every pair: links are
    looked up per page (the crawl's edges plus the records' related links), 文号 by (year, number),
    titles by their key and by the key's substrings (an interpretation titled "城市管理办法解读"
    belongs to "示范县城市管理办法").
    """

    MIN_KEY = 6

    def __init__(self, site: SiteView, docs: list[DocumentRecord], interps: list[DocumentRecord]):
        self.site = site
        self.interps = {it.url: it for it in interps}
        self.related = {d.url: {r["url"] for r in d.related} for d in docs}
        self._edges: dict[str, set[str]] = {}
        self.linking_to: dict[str, set[str]] = {}  # document url → interpretations that link to it
        self.by_number: dict[tuple[int, int], set[str]] = {}
        self.by_key: dict[str, set[str]] = {}
        for it in interps:
            for target in self.targets(it.url):
                self.linking_to.setdefault(target, set()).add(it.url)
            for n in (it.refs or {}).get("numbers", []):
                parsed = parse_doc_number(n)
                if parsed:
                    self.by_number.setdefault((parsed.year, parsed.num), set()).add(it.url)
            for t in (it.refs or {}).get("titles", []) + [it.title or ""]:
                k = title_key(t)
                if len(k) >= 4:
                    self.by_key.setdefault(k, set()).add(it.url)

    def targets(self, url: str) -> set[str]:
        if url not in self._edges:
            self._edges[url] = {e["target_url"] for e in self.site.links(source_url=url)
                                if e.get("tag", "a") == "a" and e.get("region") not in ("nav", "footer")}
        return self._edges[url] | self.related.get(url, set())

    def match(self, doc: DocumentRecord) -> dict[str, list[str]]:
        """Interpretation URL → how it was matched (linked_from_doc, links_to_doc, doc_number, title)."""

        out: dict[str, list[str]] = {}

        def add(url: str, how: str) -> None:
            if how not in out.setdefault(url, []):
                out[url].append(how)

        for url in self.targets(doc.url) & self.interps.keys():
            add(url, "linked_from_doc")
        for url in self.linking_to.get(doc.url, set()):
            add(url, "links_to_doc")
        number = parse_doc_number(doc.doc_number) if doc.doc_number else None
        if number:
            for url in self.by_number.get((number.year, number.num), set()):
                if any(same_doc_number(doc.doc_number, n) for n in (self.interps[url].refs or {}).get("numbers", [])):
                    add(url, "doc_number")
        key = title_key(doc.title)
        if len(key) >= 4:
            for url in self.by_key.get(key, set()):
                add(url, "title")
            for i in range(len(key)):
                for j in range(i + self.MIN_KEY, len(key) + 1):
                    if (i, j) != (0, len(key)):
                        for url in self.by_key.get(key[i:j], set()):
                            add(url, "title")
        for url, how in out.items():
            # links both ways are only known once both directions were looked at
            if "linked_from_doc" not in how and url in self.targets(doc.url):
                how.append("linked_from_doc")
            if "links_to_doc" not in how and doc.url in self.targets(url):
                how.append("links_to_doc")
        return out


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    docs = load_documents(site)
    rules = Scope.from_pack(ctx.pack)
    decided = [(d, *rules.decide(d)) for d in docs if d.kind in ("normative", "policy")]
    scope = [d for d, ok, _ in decided if ok]
    why_in = {d.url: why for d, ok, why in decided if ok}
    left_out: dict[str, int] = {}
    for _, ok, why in decided:
        if not ok:
            left_out[why] = left_out.get(why, 0) + 1
    interps = [d for d in docs if d.kind == "interpretation"]
    by_url = {d.url: d for d in docs}
    index = InterpretationIndex(site, docs, interps)
    allowance = int(ctx.pack.value("interpretation.late_working_days"))
    cal = WorkCalendar()
    interpreted = 0
    diverse = 0
    video = 0
    diverse_set = set(ctx.pack.value("interpretation.diverse_formats"))
    per_doc: list[dict[str, Any]] = []
    for doc in scope:
        matched = index.match(doc)
        # a "相关解读" link to a page the crawl did not store still shows an interpretation exists
        uncrawled = [r for r in doc.related if r["relation"] == "interpretation" and r["url"] not in by_url]
        if not matched and not uncrawled:
            if doc.publish_date and cal.add(doc.publish_date, allowance) >= ctx.as_of:
                continue  # still inside the allowance: not due yet
            yield ctx.finding(
                "interpretation.missing",
                doc.url,
                f"{doc.kind_zh}《{doc.title}》{('（' + doc.doc_number + '）') if doc.doc_number else ''}"
                "在全站未找到对应的政策解读（无互链，解读栏目中也无引用其标题或文号的解读）。",
                f"No interpretation found for “{doc.title}” (no link either way, none citing its title or number).",
                key=doc.url,
                column=doc.column,
                evidence={"title": doc.title, "doc_number": doc.doc_number, "kind": doc.kind_zh,
                          "publish_date": doc.publish_date.isoformat() if doc.publish_date else None,
                          "interpretations_on_site": len(interps), "in_scope_because": why_in.get(doc.url),
                          "scope_rule": {k: (ctx.pack.entry(k) or {}).get("source") for k in (
                              "interpretation.scope_exclude_title_patterns", "interpretation.scope_policy_title_patterns",
                              "interpretation.scope_doc_number_pattern")}},
            )
            per_doc.append({"url": doc.url, "interpreted": False})
            continue
        interpreted += 1
        formats = {f for u in matched for f in by_url[u].formats}
        if formats & diverse_set:
            diverse += 1
        if formats & {"视频", "动画"}:
            video += 1
        per_doc.append({"url": doc.url, "interpreted": True, "interpretations": sorted(matched) or [r["url"] for r in uncrawled],
                        "formats": sorted(formats)})
        for it_url, how in sorted(matched.items()):
            it = by_url[it_url]
            missing_dirs = []
            if "linked_from_doc" not in how:
                missing_dirs.append(("文件→解读", "document → interpretation"))
            if "links_to_doc" not in how:
                missing_dirs.append(("解读→原文", "interpretation → document"))
            if missing_dirs:
                yield ctx.finding(
                    "interpretation.unlinked",
                    doc.url,
                    f"《{doc.title}》与解读《{it.title}》未双向关联：缺少{'、'.join(z for z, _ in missing_dirs)}的链接。",
                    f"“{doc.title}” and its interpretation “{it.title}” are not linked both ways: missing "
                    f"{', '.join(e for _, e in missing_dirs)}.",
                    key=f"{doc.url}|{it.url}",
                    source_url=it.url,
                    column=doc.column,
                    evidence={"document": doc.url, "interpretation": it.url, "matched_by": how,
                              "missing": [e for _, e in missing_dirs]},
                )
        dated = [by_url[u] for u in matched if by_url[u].publish_date]
        if doc.publish_date and dated:
            first = min(dated, key=lambda d: d.publish_date)
            deadline, estimated = cal.deadline_span(doc.publish_date, allowance)
            if first.publish_date > deadline:
                span = cal.span(doc.publish_date, first.publish_date)
                caveat = caveat_for(tuple(sorted(set(estimated) | set(span.estimated_years))))
                rule_zh = "与文件同步发布" if allowance == 0 else f"文件发布后{allowance}个工作日内发布"
                yield ctx.finding(
                    "interpretation.late",
                    first.url,
                    f"解读《{first.title}》发布于{first.publish_date.isoformat()}，文件《{doc.title}》发布于"
                    f"{doc.publish_date.isoformat()}，相隔{span.days}个工作日；规则要求{rule_zh}"
                    f"{('（' + caveat['zh'] + '）') if caveat else ''}。",
                    f"Interpretation “{first.title}” published {first.publish_date.isoformat()}, {span.days} working days "
                    f"after the document ({doc.publish_date.isoformat()}); allowed: {allowance}"
                    f"{(' (' + caveat['en'] + ')') if caveat else ''}.",
                    key=f"{doc.url}|late",
                    source_url=doc.url,
                    column=doc.column,
                    evidence={"document": doc.url, "interpretation": first.url,
                              "document_date": doc.publish_date.isoformat(),
                              "interpretation_date": first.publish_date.isoformat(), "working_days": span.days,
                              "allowed_working_days": allowance, "deadline": deadline.isoformat(),
                              "calendar_caveat": caveat, "date_sources": {"document": doc.sources.get("publish_date"),
                                                                         "interpretation": first.sources.get("publish_date")},
                              "rule_value": (ctx.pack.entry("interpretation.late_working_days") or {})},
                )
    coverage_target = ctx.pack.value("interpretation.coverage_target")
    diverse_target = ctx.pack.value("interpretation.diverse_format_target")
    ctx.metric(
        "interpretation.coverage",
        round(interpreted / len(scope), 4) if scope else None,
        target=coverage_target,
        label_zh="政策文件解读率",
        label_en="Share of in-scope policy documents with an interpretation",
        unit="ratio",
        basis="国办发〔2016〕80号；兴庆区2023年政务公开工作要点(12)图文解读100%（地方）",
        detail={"documents_in_scope": len(scope), "interpreted": interpreted, "interpretations": len(interps),
                "left_out_of_scope": dict(sorted(left_out.items())),
                "documents": per_doc[:200]},
    )
    ctx.metric(
        "interpretation.diverse_format_share",
        round(diverse / interpreted, 4) if interpreted else None,
        target=diverse_target,
        label_zh=f"多样化解读（{'/'.join(ctx.pack.value('interpretation.diverse_formats'))}）占比",
        label_en="Share of interpreted documents with a graphic/video/animation/H5 interpretation",
        unit="ratio",
        basis="丰城市2023年政务公开工作要点(3)：图解、视频等多样化解读≥70%；兴庆区2023年政务公开工作要点(12)：动漫、视频≥20%（地方）",
        detail={"interpreted": interpreted, "diverse": diverse, "formats": sorted(diverse_set)},
    )
    ctx.metric(
        "interpretation.video_share",
        round(video / interpreted, 4) if interpreted else None,
        target=ctx.pack.value("interpretation.video_share_target"),
        label_zh="动漫、视频解读占比",
        label_en="Share of interpreted documents with a video or animation interpretation",
        unit="ratio",
        basis="兴庆区2023年政务公开工作要点(12)：动漫、视频解读占比20%（地方）",
        detail={"interpreted": interpreted, "video_or_animation": video},
    )
