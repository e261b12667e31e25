"""Accessibility (无障碍) with axe-core in a real browser, on a structural sample of the site.

Basis: GB/T 37668-2019 (recommended national standard, in force March 2020, references WCAG
2.0/2.1) and 国办公开办函〔2021〕28号 (government sites must be made accessible and age-friendly).
Each finding names the WCAG success criterion behind the axe rule (from axe-core's own rule tags)
and the GB/T 37668 indicator **only where the mapping is known** — for now it is not: the
clause-by-clause table needs the standard's text (rules.md §10 ❌), so it stays ``null`` in
``a11y_rules.json`` rather than being guessed.

Why axe-core from ``axe-playwright-python``: axe-selenium-python's release for Python 3.11 bundles
axe-core 3.1 from 2018 (its current release needs Python ≥ 3.12); axe-playwright-python 0.1.8
bundles axe-core 4.12.1. Its ``axe.min.js`` is injected once per browser context (an init script)
and ``axe.run`` returns only violations — the passes would double the time (browser.md).

Evidence a site operator can act on: impact, WCAG criterion, the selector and HTML of each failing
node, and a cropped PNG of the first failing node(s), written next to the report under
``a11y-shots/`` (referenced by relative path, so report.json stays small). A node that repeats
across pages (same rule, same selector, same HTML) — the header logo on every page — becomes one
finding whose ``evidence.pages`` lists every page, not 5,000 findings.

Options (``[plugins.a11y]``, ``--a11y MODE``): ``mode`` sample|all|off, ``sample``, ``seed``,
``similarity``, ``max_pages`` (see :mod:`auditor.sampling`), ``tags`` (axe tags, default WCAG 2.x
A+AA), ``disable`` (axe rule ids to skip), ``repeat_min_pages`` (pages a node must appear on to
become one site-wide finding, default 2), ``max_nodes`` (nodes kept per rule and page, default 20),
``screenshots`` (default true).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from auditor.context import CheckContext, SiteView
from auditor.hookspecs import hookimpl
from auditor.model import Basis, Finding, Rule, Severity
from auditor.sampling import SamplingError, options_from, sample_for

log = logging.getLogger(__name__)

DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS_DIR = "a11y-shots"
IMPACT_ZH = {"critical": "严重", "serious": "较重", "moderate": "中等", "minor": "轻微"}
IMPACT_ORDER = {"critical": 0, "serious": 1, "moderate": 2, "minor": 3, None: 4}
DEFAULT_SEVERITY_BY_IMPACT = {"critical": "major", "serious": "minor", "moderate": "minor", "minor": "info"}

# Runs inside the page. Only violations come back, trimmed to what a report needs.
AXE_RUN_JS = """
async (o) => {
  const axe = window.__govaudit_axe || window.axe;
  if (!axe) { return {error: 'axe-core not present in the page'}; }
  const options = {resultTypes: ['violations'], runOnly: {type: 'tag', values: o.tags},
                   iframes: true, frameWaitTime: 3000, performanceTimer: false,
                   selectors: true, ancestry: false, xpath: false, elementRef: false};
  if (o.disable.length) { options.rules = Object.fromEntries(o.disable.map(id => [id, {enabled: false}])); }
  const r = await axe.run(document, options);
  return {version: axe.version, url: location.href, violations: r.violations.map(v => ({
    id: v.id, impact: v.impact, count: v.nodes.length,
    nodes: v.nodes.slice(0, o.maxNodes).map(n => ({target: n.target, html: n.html, impact: n.impact,
                                                    summary: n.failureSummary}))}))};
}
"""
# Appended to axe.min.js in the init script: pages that define their own global ``axe`` must not
# take the auditor's away.
AXE_ALIAS_JS = "\n;try{Object.defineProperty(window,'__govaudit_axe',{value:window.axe,configurable:false});}catch(e){}\n"


@cache
def rules_data() -> dict[str, Any]:
    """``a11y_rules.json``: axe 4.12 rule metadata, zh/en names, WCAG criteria, GB/T 37668 status."""

    text = resources.files("auditor.checks").joinpath("a11y_rules.json").read_text("utf-8")
    return json.loads(text)


@cache
def rules_by_id() -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rules_data()["rules"]}


@cache
def axe_script() -> str:
    from axe_playwright_python.base import AXE_SCRIPT

    return AXE_SCRIPT


def axe_bundled_version() -> str:
    """The version in the bundled script's banner (``/*! axe v4.12.1``)."""

    head = axe_script()[:80]
    marker = "axe v"
    return head[head.index(marker) + len(marker):].split()[0] if marker in head else "unknown"


def _basis(meta: dict[str, Any]) -> Basis:
    sc = "、".join(meta["wcag"]) or "—"
    level = meta.get("wcag_level") or ""
    version = meta.get("wcag_version") or "2.x"
    if meta["wcag"]:
        zh = (
            f"GB/T 37668-2019《信息技术 互联网内容无障碍可访问性技术要求与测试方法》（引用 WCAG 2.0/2.1；对应指标条款未核实）；"
            f"WCAG {version} 成功准则 {sc}（{level} 级）；国办公开办函〔2021〕28号 政府网站适老化与无障碍改造"
        )
        en = (
            f"GB/T 37668-2019 (references WCAG 2.0/2.1; indicator clause not confirmed); WCAG {version} success criterion "
            f"{', '.join(meta['wcag'])} (level {level}); 国办公开办函〔2021〕28号 accessibility retrofit of government sites"
        )
        status = "partial"
    else:
        zh = "axe-core 最佳实践规则（无对应 WCAG 成功准则，GB/T 37668-2019 对应指标未知）；国办公开办函〔2021〕28号"
        en = "axe-core best-practice rule (no WCAG success criterion; GB/T 37668-2019 indicator unknown); 国办公开办函〔2021〕28号"
        status = "unconfirmed"
    return Basis(
        zh=zh,
        en=en,
        source=f"GB/T 37668-2019; W3C WCAG {version}; axe-core {rules_data()['axe_core_version']} rule {meta['id']} "
        f"(tags {', '.join(t for t in meta['tags'] if t.startswith('wcag') or t == 'best-practice')})",
        status=status,
    )


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


@hookimpl
def govaudit_rules() -> list[Rule]:
    out = []
    for meta in rules_data()["rules"]:
        out.append(
            Rule(
                id=f"a11y.{meta['id']}",
                name_zh=f"无障碍：{meta['name_zh']}",
                name_en=f"Accessibility: {meta['name_en']}",
                severity=Severity(DEFAULT_SEVERITY_BY_IMPACT.get(meta.get("impact"), "minor")),
                basis=_basis(meta),
                remediation_zh=f"{meta['description_zh']}。逐一修复证据中列出的元素（选择器与 HTML 片段）；"
                f"同一模板（页头、页脚、栏目列表）中的问题在模板中修复一次即可。",
                remediation_en=f"{meta['description_en']}. Fix each element listed in the evidence (selector and HTML "
                f"snippet); a problem in a shared template (header, footer, column list) is fixed once in the template.",
            )
        )
    return out


@dataclass
class NodeSeen:
    """One failing node, as identified across pages: rule + selector + HTML hash."""

    rule: str
    selector: str
    html: str
    summary: str
    impact: str | None
    pages: list[str] = field(default_factory=list)
    shot: str | None = None


@dataclass
class PageRuleHit:
    url: str
    rule: str
    impact: str | None
    count: int  # nodes axe reported (may exceed the kept ones)
    node_keys: list[str] = field(default_factory=list)


def node_key(rule: str, selector: str, html: str) -> str:
    return hashlib.sha1(f"{rule}\x1f{selector}\x1f{html}".encode()).hexdigest()[:16]


def _selector(target: Any) -> str:
    """axe's target: a list of selectors, nested lists for iframes/shadow DOM."""

    if isinstance(target, list):
        return " >>> ".join(_selector(t) for t in target)
    return str(target)


def options(config: Any) -> dict[str, Any]:
    opts = dict(config.plugin_options.get("a11y", {}) or {})
    tags = opts.get("tags") or DEFAULT_TAGS
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    return {
        "tags": list(tags),
        "disable": [str(r) for r in opts.get("disable", [])],
        "repeat_min_pages": max(2, int(opts.get("repeat_min_pages", 2))),
        "max_nodes": max(1, int(opts.get("max_nodes", 20))),
        "screenshots": bool(opts.get("screenshots", True)),
        "shots_per_rule": 2,
    }


def make_axe_job(opts: dict[str, Any]) -> Any:
    """The per-page coroutine: run axe, then crop a PNG of the first not-yet-seen failing nodes.

    Runs on the browser thread; ``shot_keys`` is only touched there, so no lock is needed.
    """

    shot_keys: set[str] = set()
    run_args = {"tags": opts["tags"], "disable": opts["disable"], "maxNodes": opts["max_nodes"]}

    async def job(page: Any, url: str) -> dict[str, Any]:
        result = await page.evaluate(AXE_RUN_JS, run_args)
        if "error" in result:
            # The init script did not run (CSP quirks, a document replaced by script): inject now.
            await page.evaluate(axe_script() + AXE_ALIAS_JS)
            result = await page.evaluate(AXE_RUN_JS, run_args)
        shots: dict[str, bytes] = {}
        if opts["screenshots"]:
            for v in result.get("violations", []):
                taken = 0
                for n in v["nodes"]:
                    if taken >= opts["shots_per_rule"]:
                        break
                    target = n["target"]
                    if len(target) != 1 or not isinstance(target[0], str):
                        continue  # inside an iframe or shadow root: no direct handle
                    key = node_key(v["id"], _selector(target), n["html"])
                    if key in shot_keys:
                        continue
                    png = await crop_node(page, target[0])
                    if png is not None:
                        shot_keys.add(key)
                        shots[key] = png
                        taken += 1
        result["shots"] = shots
        return result

    return job


async def crop_node(page: Any, selector: str, pad: int = 8, max_w: int = 1000, max_h: int = 600) -> bytes | None:
    """A PNG of the element's box plus a margin, clipped to the viewport; None for invisible nodes."""

    try:
        el = await page.query_selector(selector)
        if el is None:
            return None
        await el.scroll_into_view_if_needed(timeout=2000)
        box = await el.bounding_box()
        if not box or box["width"] < 1 or box["height"] < 1:
            return None
        vp = page.viewport_size or {"width": 1366, "height": 768}
        x = max(0.0, box["x"] - pad)
        y = max(0.0, box["y"] - pad)
        w = min(box["width"] + 2 * pad, max_w, vp["width"] - x)
        h = min(box["height"] + 2 * pad, max_h, vp["height"] - y)
        if w < 1 or h < 1:
            return None
        return await page.screenshot(clip={"x": x, "y": y, "width": w, "height": h}, type="png", timeout=5000)
    except Exception as exc:  # noqa: BLE001 - evidence garnish: a failed crop never fails the page
        log.debug("a11y: no screenshot of %s: %s", selector, exc)
        return None


def severity_for(ctx: CheckContext, impact: str | None) -> Severity:
    mapping = ctx.pack.value("a11y.severity_by_impact", DEFAULT_SEVERITY_BY_IMPACT) or DEFAULT_SEVERITY_BY_IMPACT
    return Severity(mapping.get(impact or "", "minor"))


def shots_dir(ctx: CheckContext) -> Path | None:
    if not ctx.config.out:
        return None
    return Path(ctx.config.out) / SHOTS_DIR


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    try:
        sample = sample_for(site, ctx)
    except SamplingError as exc:
        ctx.store.add_error(ctx.run_id, "check", str(exc), plugin="a11y")
        return
    if not sample.pages:
        ctx.record("a11y.engine", "axe-core", {"mode": sample.mode, "pages": 0, "sample": sample.summary()})
        return
    opts = options(ctx.config)
    try:
        probe = ctx.probe("browser")
    except KeyError as exc:
        ctx.store.add_error(ctx.run_id, "check", f"无障碍检测需要浏览器插件 / the a11y check needs the browser probe: {exc}",
                            plugin="a11y")
        return
    from auditor.plugins.browser import BrowserUnavailable

    probe.set_init_scripts("a11y", [axe_script() + AXE_ALIAS_JS])
    nodes: dict[str, NodeSeen] = {}
    hits: list[PageRuleHit] = []
    audited: list[str] = []
    failed: list[dict[str, Any]] = []
    version = axe_bundled_version()
    out_dir = shots_dir(ctx)
    written: set[str] = set()
    for sp in sample.pages:
        ctx.record("a11y.sample", sp.url, {"reasons": sp.reasons, "template": sp.template, "depth": sp.depth})
    try:
        outcomes = probe.map(sample.urls, make_axe_job(opts), pool="a11y", plugin="a11y")
        for outcome in outcomes:
            if not outcome.ok:
                failed.append({"url": outcome.url, "kind": outcome.error_kind, "error": outcome.error[:300]})
                continue
            result = outcome.value
            version = result.get("version") or version
            audited.append(outcome.url)
            for key, png in result.get("shots", {}).items():
                if out_dir is not None and key not in written:
                    out_dir.mkdir(parents=True, exist_ok=True)
                    (out_dir / f"{key}.png").write_bytes(png)
                    written.add(key)
            for v in result.get("violations", []):
                hit = PageRuleHit(outcome.url, v["id"], v.get("impact"), int(v.get("count", len(v["nodes"]))))
                for n in v["nodes"]:
                    sel = _selector(n["target"])
                    key = node_key(v["id"], sel, n["html"])
                    seen = nodes.get(key)
                    if seen is None:
                        seen = nodes[key] = NodeSeen(v["id"], sel, n["html"][:1000], (n.get("summary") or "")[:1000],
                                                     n.get("impact") or v.get("impact"))
                    if key in written:
                        seen.shot = f"{SHOTS_DIR}/{key}.png"
                    if not seen.pages or seen.pages[-1] != outcome.url:
                        seen.pages.append(outcome.url)
                    hit.node_keys.append(key)
                hits.append(hit)
    except BrowserUnavailable as exc:
        ctx.store.add_error(ctx.run_id, "probe", str(exc), plugin="a11y")
        ctx.record("a11y.engine", "axe-core", {"version": version, "error": str(exc), "pages": 0})
        return

    engine = {
        "engine": "axe-core",
        "version": version,
        "source": "axe-playwright-python 0.1.8 (bundled axe.min.js)",
        "browser": getattr(probe, "version", None),
        "tags": opts["tags"],
        "disabled_rules": opts["disable"],
        "pages_audited": len(audited),
        "pages_failed": len(failed),
        "failed": failed[:50],
        "sample": sample.summary(),
    }
    ctx.record("a11y.engine", "axe-core", engine)
    ctx.metric(
        "a11y.pages_audited",
        len(audited),
        label_zh=f"无障碍检测页面数（axe-core {version}）",
        label_en=f"Pages audited for accessibility (axe-core {version})",
        unit="页",
        basis="GB/T 37668-2019; WCAG 2.1",
        detail=engine,
    )
    yield from build_findings(ctx, nodes, hits, opts, version, site.homepage_url, out_dir is not None)


def build_findings(
    ctx: CheckContext,
    nodes: dict[str, NodeSeen],
    hits: list[PageRuleHit],
    opts: dict[str, Any],
    version: str,
    homepage: str,
    shots_enabled: bool,
) -> Iterator[Finding]:
    """Repeated nodes → one site-wide finding each; the rest → one finding per page and rule."""

    meta = rules_by_id()
    repeated = {k for k, n in nodes.items() if len(n.pages) >= opts["repeat_min_pages"]}

    def common(rule: str, impact: str | None) -> dict[str, Any]:
        m = meta.get(rule, {})
        gbt = m.get("gbt37668") or {}
        return {
            "axe_rule": rule,
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
        }

    def home_first(pages: list[str]) -> list[str]:
        return sorted(pages, key=lambda u: (u != homepage, u))

    for key in sorted(repeated, key=lambda k: (IMPACT_ORDER.get(nodes[k].impact, 4), nodes[k].rule, nodes[k].selector)):
        n = nodes[key]
        rid = f"a11y.{n.rule}"
        if rid not in ctx.rules:
            continue
        name = meta.get(n.rule, {}).get("name_zh", n.rule)
        pages = home_first(n.pages)
        ev = common(n.rule, n.impact)
        ev.update(
            {
                "scope": "site",
                "selector": n.selector,
                "html": n.html,
                "failure_summary": n.summary,
                "node_hash": key,
                "pages": pages,
                "page_count": len(pages),
                "screenshot": n.shot,
                "nodes": [{"selector": n.selector, "html": n.html, "failure_summary": n.summary}],
            }
        )
        if shots_enabled and n.shot is None:
            ev["screenshot_note"] = "元素不可见或位于 iframe/shadow DOM 中，未截图 / node not visible or not directly addressable"
        wcag = "、".join(ev["wcag"]) or "—"
        yield ctx.finding(
            rid,
            pages[0],
            f"全站重复的无障碍问题“{name}”：同一元素（{n.selector}）出现在 {len(pages)} 个页面"
            f"（影响程度：{IMPACT_ZH.get(n.impact or '', n.impact or '未知')}；WCAG {wcag}）",
            f"Site-wide accessibility problem “{meta.get(n.rule, {}).get('name_en', n.rule)}”: the same element "
            f"({n.selector}) on {len(pages)} pages (impact {n.impact}; WCAG {wcag.replace('、', ', ')})",
            key=f"site:{n.rule}:{n.selector}:{hashlib.sha1(n.html.encode()).hexdigest()[:12]}",
            evidence=ev,
            severity=severity_for(ctx, n.impact),
        )

    for hit in sorted(hits, key=lambda h: (h.url != homepage, h.url, h.rule)):
        rid = f"a11y.{hit.rule}"
        if rid not in ctx.rules:
            continue
        own = [k for k in hit.node_keys if k not in repeated]
        if not own:
            continue
        shared = len(hit.node_keys) - len(own)
        unlisted = max(0, hit.count - len(hit.node_keys))
        node_list = [
            {"selector": nodes[k].selector, "html": nodes[k].html, "failure_summary": nodes[k].summary,
             "impact": nodes[k].impact, "screenshot": nodes[k].shot}
            for k in own
        ]
        shot = next((nodes[k].shot for k in own if nodes[k].shot), None)
        name = meta.get(hit.rule, {}).get("name_zh", hit.rule)
        ev = common(hit.rule, hit.impact)
        ev.update(
            {
                "scope": "page",
                "selector": node_list[0]["selector"],
                "html": node_list[0]["html"],
                "nodes": node_list,
                "node_count": len(own) + unlisted,
                "nodes_in_site_wide_findings": shared,
                "nodes_not_listed": unlisted,
                "screenshot": shot,
                "pages": [hit.url],
            }
        )
        wcag = "、".join(ev["wcag"]) or "—"
        count = len(own) + unlisted
        yield ctx.finding(
            rid,
            hit.url,
            f"页面存在无障碍问题“{name}”：{count} 处（影响程度：{IMPACT_ZH.get(hit.impact or '', hit.impact or '未知')}；"
            f"WCAG {wcag}），首个元素 {node_list[0]['selector']}",
            f"Accessibility problem “{meta.get(hit.rule, {}).get('name_en', hit.rule)}”: {count} element(s) "
            f"(impact {hit.impact}; WCAG {wcag.replace('、', ', ')}), first {node_list[0]['selector']}",
            key=f"page:{hit.url}",
            evidence=ev,
            severity=severity_for(ctx, hit.impact),
        )
