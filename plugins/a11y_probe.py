"""Accessibility measurement (measure stage) for ``checks/a11y.py``: choose the pages, run axe-core on
them in the audit's browser, crop the evidence screenshots, and store it all as measurements.

Why here and not in the check: running axe asks a live site something, and the answer belongs to
the moment of the audit. Stored, it lets ``govaudit recheck`` judge the same results again — other
rule pack, other ``repeat_min_pages`` — with no browser and no network (issue #9). The browser
work itself (axe job, crops, tab isolation) is :mod:`auditor.plugins.browser`'s; this module decides
what to measure and what to keep.

Measurements (all :data:`VERSION` 1, owned by this plugin):

- ``a11y.sample`` / ``site``: the sample :mod:`auditor.measure.sampling` chose (mode, summary, each page with
  its reasons, template group and depth; stored SVG documents added with reason ``svg``), so the
  judgement can report which pages were audited and why.
- ``a11y.axe`` / page URL: axe-core's result for one page — ``violations`` and ``incomplete`` with
  every node (up to :data:`auditor.plugins.browser.AXE_NODE_BOUND`), ``document_url``,
  ``content_type``, the axe ``version`` and ``shots`` (node identity → cropped JPEG as a ``data:``
  URI, kept in the store so the report needs no files).
- ``a11y.run`` / ``site``: the engine facts (axe-core and Chromium versions, tags, disabled rules),
  pages audited and failed, or ``error`` when Chromium could not start.

Severity, grouping by element and the findings are judged in ``checks/a11y.py``; none of it is here.
"""

from __future__ import annotations

from typing import Any

from auditor.context import MeasureContext, SiteView
from auditor.hookspecs import hookimpl
from auditor.measure.axe import node_identity, options
from auditor.measure.sampling import SamplingError, options_from, sample_for
from auditor.plugins.browser import (
    AXE_ALIAS_JS,
    BrowserUnavailable,
    ShotOptions,
    axe_bundled_version,
    axe_script,
    make_axe_job,
)

VERSION = 1
KIND_SAMPLE = "a11y.sample"
KIND_PAGE = "a11y.axe"
KIND_RUN = "a11y.run"
AXE_SOURCE = "axe-playwright-python 0.1.8 (bundled axe.min.js)"


@hookimpl
def govaudit_serves() -> list[str]:
    return ["a11y"]


def audit_urls(site: SiteView, sample_urls: list[str], sampling: dict[str, Any]) -> list[str]:
    """The sample plus the stored SVG documents: an SVG page is a page and has its own rules.

    The HTML sampler does not see them (they have no HTML structure to group by), so they are
    added here: all of them with ``--a11y all`` (up to ``max_pages``), else at most ``sample``.
    """

    urls = list(sample_urls)
    seen = set(urls)
    limit = sampling["max_pages"] if sampling["mode"] == "all" else max(1, sampling["sample"])
    added = 0
    for page in site.pages("svg"):
        if limit and added >= limit:
            break
        if page.url not in seen and (page.status is None or 200 <= page.status < 300):
            urls.append(page.url)
            seen.add(page.url)
            added += 1
    return urls


@hookimpl
def govaudit_measure(site: SiteView, ctx: MeasureContext) -> None:
    try:
        sample = sample_for(site, ctx)
    except SamplingError as exc:
        ctx.store.add_error(ctx.run_id, "measure", str(exc), plugin="a11y")
        ctx.measure(KIND_RUN, "site", {"error": str(exc), "pages_audited": 0}, version=VERSION)
        return
    urls = audit_urls(site, sample.urls, options_from(ctx.config)) if sample.mode != "off" else []
    pages = [{"url": sp.url, "reasons": sp.reasons, "template": sp.template, "depth": sp.depth} for sp in sample.pages]
    pages += [{"url": u, "reasons": ["svg"], "template": None, "depth": None} for u in urls[len(sample.urls):]]
    ctx.measure(KIND_SAMPLE, "site", {"mode": sample.mode, "summary": sample.summary(), "pages": pages if urls else [],
                                      "urls": urls}, version=VERSION)
    if not urls:
        ctx.measure(KIND_RUN, "site", {"mode": sample.mode, "pages_audited": 0}, version=VERSION)
        return
    opts = options(ctx.config)
    try:
        probe = ctx.probe("browser")
    except KeyError as exc:
        msg = f"无障碍检测需要浏览器插件 / the a11y measurement needs the browser probe: {exc}"
        ctx.store.add_error(ctx.run_id, "measure", msg, plugin="a11y")
        ctx.measure(KIND_RUN, "site", {"error": msg, "pages_audited": 0}, version=VERSION)
        return
    try:
        stats = run_axe(ctx, probe, urls, opts)
    except BrowserUnavailable as exc:
        ctx.store.add_error(ctx.run_id, "probe", str(exc), plugin="a11y")
        ctx.measure(KIND_RUN, "site", {"version": axe_bundled_version(), "error": str(exc), "pages_audited": 0},
                    version=VERSION)
        return
    ctx.measure(KIND_RUN, "site", {
        "engine": "axe-core",
        "source": AXE_SOURCE,
        "browser": getattr(probe, "version", None),
        "tags": opts["tags"],
        "disabled_rules": opts["disable"],
        "screenshots": opts["screenshots"],
        **stats,
    }, version=VERSION)


def run_axe(ctx: MeasureContext, probe: Any, urls: list[str], opts: dict[str, Any]) -> dict[str, Any]:
    """Run axe on ``urls`` and store one ``a11y.axe`` measurement per page (results and screenshots)."""

    shots = ShotOptions(enabled=opts["screenshots"], total_bytes=opts["screenshot_total_kb"] * 1000)
    probe.set_init_scripts("a11y", [axe_script() + AXE_ALIAS_JS])
    job = make_axe_job(opts["tags"], opts["disable"], shots, node_identity)
    audited, failed = 0, []
    version = axe_bundled_version()
    for outcome in probe.map(urls, job, pool="a11y", plugin="a11y"):
        if not outcome.ok:
            failed.append({"url": outcome.url, "kind": outcome.error_kind, "error": outcome.error[:300]})
            continue
        result = outcome.value
        version = result.get("version") or version
        audited += 1
        ctx.measure(KIND_PAGE, outcome.url, {
            "url": outcome.url, "document_url": result.get("url") or outcome.url, "content_type": result.get("contentType"),
            "version": version, "violations": result.get("violations", []), "incomplete": result.get("incomplete", []),
            "shots": result.get("shots", {}),
        }, version=VERSION)
    return {"version": version, "pages_audited": audited, "pages_failed": len(failed), "failed": failed[:50]}
