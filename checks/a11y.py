"""Accessibility (无障碍) with axe-core in a real browser, on a structural sample of the site.

Basis: GB/T 37668-2019《信息技术 互联网内容无障碍可访问性技术要求与测试方法》 (recommended
national standard; it references WCAG 2.0/2.1) and 国办公开办函〔2021〕28号 (government sites must
be made accessible and age-friendly). Each finding names the WCAG 2.1 success criterion behind the
axe rule (a technical mapping, from axe-core's own rule tags) and the GB/T 37668 indicator **only
where the mapping is known** — for now it is not (条款未核实), so it stays ``null`` in
``a11y_rules.json`` rather than being guessed.

Split of work (issue #9): the measure plugin :mod:`auditor.plugins.a11y_probe` chooses the sample,
runs axe-core in the audit's browser and crops the screenshots, storing measurements ``a11y.sample``,
``a11y.axe`` (one per page) and ``a11y.run``. This module only reads those and judges
(:func:`collect`, :func:`judge`) — no browser, network or file I/O — so ``govaudit recheck`` gives
the same findings offline, and under another pack or ``repeat_min_pages`` different ones.

Why axe-core from ``axe-playwright-python``: axe-selenium-python's release for Python 3.11 bundles
axe-core 3.1 from 2018; axe-playwright-python 0.1.8 bundles axe-core 4.12.1. It is injected once
per browser context (an init script).

What is reported:

- WCAG rules (tags wcag2a/aa, wcag21a/aa): findings whose severity follows axe's impact
  (``a11y.severity_by_impact`` in the pack).
- axe's best-practice rules: 建议 — info severity, no deduction, no WCAG criterion claimed.
- axe's needs-review ("incomplete") results: ``a11y.needs_review`` (info), so an evaluator sees
  what a person still has to look at (e.g. contrast over a background image).

Grouping by the element's identity — its outerHTML with whitespace collapsed and ``src``/``href``
made absolute — never by its CSS selector, which depends on the element's position: the same
spacer image on 28 pages is one site-wide finding listing the 28 pages, not 28 entries. Every node
of every page is kept and counted; only the evidence *shown* is capped (``max_nodes``).

Screenshots: a cropped, downscaled JPEG of the first node(s) of each group, carried as a
``data:`` URI in the evidence (report.html's CSP allows ``img-src data:`` and nothing remote), with
a run-wide byte budget (``screenshot_total_kb``).

Options (``[plugins.a11y]``, ``--a11y MODE``): ``mode`` sample|all|off, ``sample``, ``seed``,
``similarity``, ``max_pages`` (see :mod:`auditor.measure.sampling`), ``tags`` (axe tags, default WCAG 2.x
A+AA and best-practice), ``disable`` (axe rule ids to skip), ``repeat_min_pages`` (pages a node must
appear on to become one site-wide finding, default 2), ``max_nodes`` (nodes shown per finding in
report.html, default 20; all are kept), ``screenshots`` (default true), ``screenshot_total_kb``
(default 1000).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from auditor.context import CheckContext, SiteView
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.measure.axe import DEFAULT_TAGS, node_identity, normalise_html, options  # noqa: F401 - re-exported
from auditor.measure.records import usable
from auditor.measure.sampling import SamplingError, options_from
from auditor.model import Basis, Finding, Parameter, Rule, Severity

log = logging.getLogger(__name__)

REVIEW_RULE = "a11y.needs_review"
IMPACT_ZH = {"critical": "严重", "serious": "较重", "moderate": "中等", "minor": "轻微"}
IMPACT_ORDER = {"critical": 0, "serious": 1, "moderate": 2, "minor": 3, None: 4}
DEFAULT_SEVERITY_BY_IMPACT = {"critical": "major", "serious": "minor", "moderate": "minor", "minor": "info"}
NOTICE = "国办公开办函〔2021〕28号《关于消除“数字鸿沟”，推进政府网站、政务新媒体适老化与无障碍改造的通知》"
GBT = "GB/T 37668-2019《信息技术 互联网内容无障碍可访问性技术要求与测试方法》"
MAX_NODES_KEPT = 500  # per finding in report.json; the count is always the full one
MAX_SELECTORS = 10


@cache
def rules_data() -> dict[str, Any]:
    """``a11y_rules.json``: axe 4.12 rule metadata, zh/en names, WCAG criteria, GB/T 37668 status."""

    text = resources.files("auditor.checks").joinpath("a11y_rules.json").read_text("utf-8")
    return json.loads(text)


@cache
def rules_by_id() -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rules_data()["rules"]}


def is_best_practice(meta: dict[str, Any]) -> bool:
    """A rule with no WCAG success criterion (axe tag ``best-practice``): advice, never a deduction."""

    return not meta.get("wcag")


def _basis(meta: dict[str, Any]) -> Basis:
    sc = "、".join(meta["wcag"]) or "—"
    level = meta.get("wcag_level") or ""
    version = meta.get("wcag_version") or "2.x"
    if meta["wcag"]:
        zh = (f"{GBT}（引用 WCAG 2.0/2.1；对应指标条款未核实）；WCAG {version} 成功准则 {sc}（{level} 级，技术对照）；{NOTICE}")
        en = (f"GB/T 37668-2019 (references WCAG 2.0/2.1; indicator clause not confirmed); WCAG {version} success criterion "
              f"{', '.join(meta['wcag'])} (level {level}, technical mapping); 国办公开办函〔2021〕28号")
        status = "partial"
        source = f"GB/T 37668-2019（条款未核实）; W3C WCAG {version} SC {', '.join(meta['wcag'])}; 国办公开办函〔2021〕28号"
    else:
        zh = (f"{NOTICE}（无障碍改造）；{GBT}（条款未核实）。本条为 axe-core 最佳实践建议，不对应 WCAG 成功准则，"
              "作为建议列出，不扣分")
        en = ("国办公开办函〔2021〕28号 (accessibility retrofit); GB/T 37668-2019 (clause not confirmed). An axe-core "
              "best-practice rule without a WCAG success criterion: listed as advice, never scored")
        status = "unconfirmed"
        source = "国办公开办函〔2021〕28号; GB/T 37668-2019（条款未核实）"
    return Basis(zh=zh, en=en, source=f"{source}; axe-core {rules_data()['axe_core_version']} rule {meta['id']}", status=status)


@hookimpl
def govaudit_configure(config: Any) -> None:
    """``--a11y bogus`` or a bad ``[plugins.a11y]`` value is a usage error (exit 2), found before the crawl."""

    from auditor.config import ConfigError

    try:
        options_from(config)
        options(config)
    except SamplingError as exc:
        raise ConfigError(str(exc)) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[plugins.a11y] 选项无效 / invalid option: {exc}") from exc


DECLARED = load_declarations("auditor.checks", "rules/a11y.json")


@hookimpl
def govaudit_parameters() -> list[Parameter]:
    """The pack parameters declared in ``checks/rules/a11y.json`` (values in the rule packs)."""

    return DECLARED.parameters


@hookimpl
def govaudit_rules() -> list[Rule]:
    """One rule per axe-core rule of ``a11y_rules.json`` (data, generated from axe), plus the review
    rule declared in ``checks/rules/a11y.json``."""

    out = []
    for meta in rules_data()["rules"]:
        advice = is_best_practice(meta)
        out.append(
            Rule(
                id=f"a11y.{meta['id']}",
                name_zh=f"{'无障碍建议' if advice else '无障碍'}：{meta['name_zh']}",
                name_en=f"Accessibility{' advice' if advice else ''}: {meta['name_en']}",
                severity=Severity.INFO if advice else Severity(DEFAULT_SEVERITY_BY_IMPACT.get(meta.get("impact"), "minor")),
                basis=_basis(meta),
                remediation_zh=f"{meta['description_zh']}。逐一修复证据中列出的元素（选择器与 HTML 片段）；"
                f"同一模板（页头、页脚、栏目列表）中的问题在模板中修复一次即可。",
                remediation_en=f"{meta['description_en']}. Fix each element listed in the evidence (selector and HTML "
                f"snippet); a problem in a shared template (header, footer, column list) is fixed once in the template.",
                declared_in="auditor.checks:a11y_rules.json",
            )
        )
    out.append(DECLARED.rule(REVIEW_RULE))
    out.append(DECLARED.rule("a11y.incomplete"))
    return out


def _selector(target: Any) -> str:
    """axe's target: a list of selectors, nested lists for iframes/shadow DOM."""

    if isinstance(target, list):
        return " >>> ".join(_selector(t) for t in target)
    return str(target)


def severity_for(ctx: CheckContext, rule: str, impact: str | None) -> Severity:
    if is_best_practice(rules_by_id().get(rule, {"wcag": []})):
        return Severity.INFO
    mapping = ctx.pack.value("a11y.severity_by_impact")
    return Severity(mapping.get(impact or "", "minor"))


# --- reading the measurements (taken by auditor.plugins.a11y_probe in the measure stage) ----------

KIND_SAMPLE = "a11y.sample"
KIND_PAGE = "a11y.axe"
KIND_RUN = "a11y.run"
VERSIONS = (1,)  # measurement versions this module can judge (auditor.plugins.a11y_probe.VERSION)


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    """Judge the stored axe results; no browser (``govaudit recheck`` gives the same findings offline)."""

    run, sample = ctx.measurement(KIND_RUN, "site"), ctx.measurement(KIND_SAMPLE, "site")
    if not usable(run, VERSIONS):
        why = "none stored" if run is None else f"version {run.version} unknown to this check"
        ctx.store.add_error(ctx.run_id, "check", f"没有可用的无障碍测量记录，无障碍未评估 / no usable a11y measurement ({why}): "
                            "accessibility not assessed", url=site.homepage_url, plugin="a11y")
        return
    rdata = dict(run.data)
    sdata = dict(sample.data) if usable(sample, VERSIONS) else {}
    summary = sdata.get("summary") or {}
    for sp in sdata.get("pages", []):
        ctx.record("a11y.sample", sp["url"], {"reasons": sp["reasons"], "template": sp["template"], "depth": sp["depth"]})
    if "error" in rdata:
        ctx.record("a11y.engine", "axe-core", {"version": rdata.get("version"), "error": rdata["error"], "pages": 0})
        return
    if not rdata.get("engine"):
        ctx.record("a11y.engine", "axe-core", {"mode": rdata.get("mode", sdata.get("mode")), "pages": 0, "sample": summary})
        return
    opts = options(ctx.config)
    version = rdata["version"]
    engine = {**rdata, "sample": summary}
    ctx.record("a11y.engine", "axe-core", engine)
    ctx.metric(
        "a11y.pages_audited",
        rdata["pages_audited"],
        label_zh=f"无障碍检测页面数（axe-core {version}）",
        label_en=f"Pages audited for accessibility (axe-core {version})",
        unit="页",
        basis="GB/T 37668-2019; WCAG 2.1",
        detail=engine,
    )
    yield from _incomplete(ctx, rdata, site.homepage_url)
    # ``screenshots`` as the measure stage ran: a recheck cannot photograph what was not taken.
    opts["screenshots"] = bool(rdata.get("screenshots", opts["screenshots"]))
    records = (dict(m.data) for m in ctx.measurements(KIND_PAGE) if m.version in VERSIONS)
    yield from judge(ctx, _in_order(records, sdata.get("urls")), opts, version, site.homepage_url)


def _incomplete(ctx: CheckContext, rdata: dict[str, Any], home: str) -> Iterator[Finding]:
    """Browser errors on most sampled pages (``pages_failed`` of ``a11y.run``): the verdict is incomplete."""

    failed, audited = int(rdata.get("pages_failed") or 0), int(rdata.get("pages_audited") or 0)
    tried = failed + audited
    if not tried or failed / tried <= ctx.pack.value("a11y.incomplete_failed_share"):
        return
    kinds = Counter(f.get("kind") or "error" for f in rdata.get("failed") or [])
    why = "、".join(f"{k}×{n}" for k, n in kinds.most_common())
    yield ctx.finding(
        "a11y.incomplete", home,
        f"无障碍评估不完整：{tried} 个抽样页面中 {failed} 个浏览器检测出错（{why}），无障碍结论不完整，不代表没有问题",
        f"Accessibility assessment incomplete: the browser failed on {failed} of {tried} sampled pages ({why}); "
        "the accessibility result is incomplete, not clean",
        key="site", evidence={"pages_failed": failed, "pages_audited": audited, "failed": rdata.get("failed") or []},
    )


def _in_order(records: Iterable[dict[str, Any]], urls: list[str] | None) -> list[dict[str, Any]]:
    """The page records in the order the pages were audited (sample order), as the audit judged them:
    the first page of a group supplies its HTML snippet and selector."""

    rank = {u: i for i, u in enumerate(urls or [])}
    return sorted(records, key=lambda r: (rank.get(r["url"], len(rank)), r["url"]))


# --- judgement: a pure function of the stored records ---------------------------------------------

@dataclass
class NodeGroup:
    """One element (rule + identity) and every page it fails on."""

    kind: str  # violation | review
    rule: str
    html: str
    summary: str
    impact: str | None
    selectors: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    shot: dict[str, Any] | None = None


@dataclass
class PageRuleHit:
    """One axe rule on one page: how many nodes axe reported and which groups they are."""

    url: str
    kind: str
    rule: str
    impact: str | None
    count: int
    keys: list[str] = field(default_factory=list)


def collect(records: Iterable[dict[str, Any]]) -> tuple[dict[str, NodeGroup], list[PageRuleHit]]:
    """Fold page records into element groups and per-page hits; every node kept and counted."""

    groups: dict[str, NodeGroup] = {}
    hits: list[PageRuleHit] = []
    for rec in records:
        url = rec["url"]
        base = rec.get("document_url") or url
        shots = rec.get("shots") or {}
        for kind, results in (("violation", rec.get("violations", [])), ("review", rec.get("incomplete", []))):
            for v in results:
                hit = PageRuleHit(url, kind, v["id"], v.get("impact"), max(int(v.get("count", 0)), len(v["nodes"])))
                in_hit: set[str] = set()
                for n in v["nodes"]:
                    ident = node_identity(v["id"], n, base)
                    key = f"{kind}:{ident}"
                    g = groups.get(key)
                    if g is None:
                        g = groups[key] = NodeGroup(kind, v["id"], (n.get("html") or "")[:1000],
                                                    (n.get("summary") or "")[:1000], n.get("impact") or v.get("impact"))
                    sel = _selector(n.get("target"))
                    if sel not in g.selectors and len(g.selectors) < MAX_SELECTORS:
                        g.selectors.append(sel)
                    if g.shot is None and ident in shots:
                        g.shot = {k: shots[ident][k] for k in ("src", "width", "height") if k in shots[ident]}
                    if not g.pages or g.pages[-1] != url:
                        g.pages.append(url)
                    if key not in in_hit:
                        in_hit.add(key)
                        hit.keys.append(key)
                hits.append(hit)
    return groups, hits


def judge(ctx: CheckContext, records: Iterable[dict[str, Any]], opts: dict[str, Any], version: str,
          homepage: str) -> Iterator[Finding]:
    """Repeated elements → one site-wide finding each; the rest → one finding per page and rule."""

    groups, hits = collect(records)
    meta = rules_by_id()
    repeated = {k for k, g in groups.items() if len(g.pages) >= opts["repeat_min_pages"]}

    def common(kind: str, rule: str, impact: str | None) -> dict[str, Any]:
        m = meta.get(rule, {})
        gbt = m.get("gbt37668") or {}
        return {
            "axe_rule": rule,
            "axe_rule_name": m.get("name_zh", rule) if ctx.lang != "en" else m.get("name_en", rule),
            "result": "needs_review" if kind == "review" else "violation",
            "best_practice": bool(m) and is_best_practice(m),
            "impact": impact,
            "impact_zh": IMPACT_ZH.get(impact or "", ""),
            "wcag": m.get("wcag", []),
            "wcag_level": m.get("wcag_level"),
            "wcag_version": m.get("wcag_version"),
            "gbt37668": {
                "indicator": gbt.get("indicator"),
                "principle": gbt.get("principle"),
                "status": gbt.get("status", "unknown"),
                "note": "GB/T 37668-2019 指标条款与 WCAG 的对照未核实，不作推测 / clause mapping not confirmed",
            },
            "help_url": f"https://dequeuniversity.com/rules/axe/{'.'.join(version.split('.')[:2])}/{rule}",
            "axe_version": version,
            "max_nodes_shown": opts["max_nodes"],
        }

    def rule_id(kind: str, rule: str) -> str:
        return REVIEW_RULE if kind == "review" else f"a11y.{rule}"

    def severity(kind: str, rule: str, impact: str | None) -> Severity:
        return Severity.INFO if kind == "review" else severity_for(ctx, rule, impact)

    def label(kind: str, rule: str) -> tuple[str, str]:
        m = meta.get(rule, {})
        zh, en = m.get("name_zh", rule), m.get("name_en", rule)
        if kind == "review":
            return f"需人工复核“{zh}”", f"needs a manual check “{en}”"
        if m and is_best_practice(m):
            return f"无障碍建议“{zh}”（最佳实践，不扣分）", f"accessibility advice “{en}” (best practice, not scored)"
        return f"无障碍问题“{zh}”", f"accessibility problem “{en}”"

    def home_first(pages: list[str]) -> list[str]:
        return sorted(pages, key=lambda u: (u != homepage, u))

    for key in sorted(repeated, key=lambda k: (groups[k].kind, IMPACT_ORDER.get(groups[k].impact, 4), groups[k].rule, k)):
        g = groups[key]
        rid = rule_id(g.kind, g.rule)
        if rid not in ctx.rules:
            continue
        pages = home_first(g.pages)
        ev = common(g.kind, g.rule, g.impact)
        ev.update({
            "scope": "site",
            "selector": g.selectors[0] if g.selectors else "",
            "selectors": g.selectors,
            "html": g.html,
            "failure_summary": g.summary,
            "node_hash": key,
            "pages": pages,
            "page_count": len(pages),
            "screenshot": g.shot,
            "nodes": [{"selector": g.selectors[0] if g.selectors else "", "html": g.html, "failure_summary": g.summary}],
        })
        if opts["screenshots"] and g.shot is None:
            ev["screenshot_note"] = "未截图：元素不可见、位于 iframe/shadow DOM 中，或截图总量已达上限 / no screenshot"
        wcag = "、".join(ev["wcag"]) or "—"
        zh, en = label(g.kind, g.rule)
        yield ctx.finding(
            rid,
            pages[0],
            f"全站重复的{zh}：同一元素出现在 {len(pages)} 个页面（{g.html[:80]}；影响程度："
            f"{IMPACT_ZH.get(g.impact or '', g.impact or '未知')}；WCAG {wcag}）",
            f"Site-wide {en}: the same element on {len(pages)} pages ({g.html[:80]}; impact {g.impact}; "
            f"WCAG {wcag.replace('、', ', ')})",
            key=f"site:{g.rule}:{key}",
            evidence=ev,
            severity=severity(g.kind, g.rule, g.impact),
        )

    for hit in sorted(hits, key=lambda h: (h.url != homepage, h.url, h.kind, h.rule)):
        rid = rule_id(hit.kind, hit.rule)
        if rid not in ctx.rules:
            continue
        own = [k for k in hit.keys if k not in repeated]
        if not own:
            continue  # every node of this rule here is in a site-wide finding that lists this page
        shared = len(hit.keys) - len(own)
        unlisted = max(0, hit.count - len(hit.keys))  # beyond the browser's safety bound, or duplicates
        headline = next((k for k in own if groups[k].shot), None)
        shot = groups[headline].shot if headline else None
        node_list = [
            {"selector": groups[k].selectors[0] if groups[k].selectors else "", "html": groups[k].html,
             "failure_summary": groups[k].summary, "impact": groups[k].impact,
             # the headline node's image is ``evidence.screenshot``: carried once, not twice
             "screenshot": groups[k].shot if k != headline else None, "screenshot_is_headline": k == headline}
            for k in own[:MAX_NODES_KEPT]
        ]
        ev = common(hit.kind, hit.rule, hit.impact)
        ev.update({
            "scope": "page",
            "selector": node_list[0]["selector"],
            "html": node_list[0]["html"],
            "failure_summary": node_list[0]["failure_summary"],
            "nodes": node_list,
            "node_count": len(own),
            "page_node_count": hit.count,
            "nodes_in_site_wide_findings": shared,
            "nodes_not_listed": unlisted + max(0, len(own) - MAX_NODES_KEPT),
            "screenshot": shot,
            "pages": [hit.url],
        })
        wcag = "、".join(ev["wcag"]) or "—"
        zh, en = label(hit.kind, hit.rule)
        also = f"，另有 {shared} 处见全站重复项" if shared else ""
        yield ctx.finding(
            rid,
            hit.url,
            f"页面{zh}：本页 {len(own)} 处{also}（影响程度：{IMPACT_ZH.get(hit.impact or '', hit.impact or '未知')}；"
            f"WCAG {wcag}），首个元素 {node_list[0]['selector']}",
            f"Page {en}: {len(own)} element(s){f', {shared} more in site-wide findings' if shared else ''} "
            f"(impact {hit.impact}; WCAG {wcag.replace('、', ', ')}), first {node_list[0]['selector']}",
            key=f"page:{hit.url}:{hit.rule}" if hit.kind == "review" else f"page:{hit.url}",
            evidence=ev,
            severity=severity(hit.kind, hit.rule, hit.impact),
        )
