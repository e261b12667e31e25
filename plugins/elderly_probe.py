"""适老化 measurement (measure stage) for ``checks/elderly.py``: what the audit's browser sees on the
homepage and a few template pages, in normal mode, at 200 % zoom and in the age-friendly mode the
homepage's entry opens.

Why here and not in the check: clicking the 长者模式 entry and reading computed styles asks the live
site something; the answer belongs to the moment of the audit. Stored as measurements, it lets
``govaudit recheck`` judge the same pages again with no browser (issue #9); the thresholds for text
size and line spacing are applied by the check, from the rule pack of the run being judged.

What steers the browser is pack data too and is fixed when the measurement is taken (stored in
``elderly.run``'s ``params``): the entry, inducement, ad and toolbar keywords (they decide what is
found) and the contrast ratios axe-core tests at (``contrast.count`` is counted at those ratios).

Measurements (all :data:`VERSION` 1, owned by this plugin):

- ``elderly.run`` / ``site``: the homepage, the pages measured in normal mode (the homepage plus up
  to ``elderly.zoom_pages`` template pages of the shared :mod:`auditor.measure.sampling` sample), the zoom
  factor, the ``params`` above, Chromium's version; ``error`` when Chromium could not start,
  ``session_error`` when the age-friendly session failed.
- ``elderly.page`` / page URL: ``normal`` and ``zoomed`` — the in-page facts of :data:`MEASURE_JS`
  (weighted median body-text size and line ratio with samples, entries, controls, nudges, ads,
  clipped text, page width) at 100 % and at the zoom factor.
- ``elderly.care`` / ``site``: the entry session — ``entries`` found, ``tried`` (what clicking each
  did), ``dynamic_page``, and ``mode`` (kind in-page/separate, url, measurement in the mode, new
  controls, contrast, dialogs) when one entry worked.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any
from urllib.parse import urljoin

from auditor.context import MeasureContext, SiteView
from auditor.hookspecs import hookimpl
from auditor.measure.elderly import pv
from auditor.measure.sampling import SamplingError, sample_for
from auditor.plugins.browser import AXE_ALIAS_JS, BrowserUnavailable, axe_script, page_script

VERSION = 1
KIND_RUN = "elderly.run"
KIND_PAGE = "elderly.page"
KIND_CARE = "elderly.care"

# Same region markers as auditor.crawl.extract, so "body text" means the same thing in every check.
# Same region markers as auditor.crawl.extract, so "body text" means the same thing in every check.
_FOOTER = r"foot|bottom|copyright|dibu|banquan|bqxx|bq_|wzdb|gywm"
_NAV = r"nav|menu|daohang|lanmu|dh_|_dh|topbar|mainbar|channel"
_HEADER = r"header|banner|^top|[_-]top|top[_-]|logo|^head|[_-]head"


@hookimpl
def govaudit_serves() -> list[str]:
    return ["elderly"]


@hookimpl
def govaudit_measure(site: SiteView, ctx: MeasureContext) -> None:
    home = site.homepage_url
    if site.homepage is None:
        return  # the check says nothing either: there is no stored homepage to judge
    # Normal mode on the homepage and a few template pages.
    urls = [home]
    with contextlib.suppress(SamplingError):
        limit = int(pv(ctx, "elderly.zoom_pages"))
        for sp in sample_for(site, ctx).pages:
            if len(urls) >= limit:
                break
            if sp.url != home and "template" in sp.reasons:
                urls.append(sp.url)
    run: dict[str, Any] = {"home": home, "urls": urls, "zoom_factor": float(pv(ctx, "elderly.zoom_factor")),
                           "params": {"normal": js_options(ctx), "care": js_options(ctx, care=True),
                                      "contrast": contrast_options(ctx)}}
    try:
        probe = ctx.probe("browser")
    except KeyError as exc:
        msg = f"适老化检测需要浏览器插件 / the 适老化 measurement needs the browser probe: {exc}"
        ctx.store.add_error(ctx.run_id, "measure", msg, plugin="elderly")
        ctx.measure(KIND_RUN, "site", run | {"error": msg}, version=VERSION)
        return
    try:
        for outcome in probe.map(urls, make_measure_job(ctx), pool="elderly-measure", plugin="elderly"):
            if outcome.ok:  # a failed page is the probe's error record (stage probe), kept by recheck
                ctx.measure(KIND_PAGE, outcome.url, outcome.value, version=VERSION)
    except BrowserUnavailable as exc:
        ctx.store.add_error(ctx.run_id, "probe", str(exc), plugin="elderly")
        ctx.measure(KIND_RUN, "site", run | {"error": str(exc)}, version=VERSION)
        return
    run["browser"] = getattr(probe, "version", None)
    budget = probe.options.page_budget
    try:
        care = probe.run(lambda p: asyncio.wait_for(care_session(p, ctx, home, budget), budget * 4), timeout=budget * 4 + 30)
        ctx.measure(KIND_CARE, "site", care, version=VERSION)
    except Exception as exc:  # noqa: BLE001 - the entry session failed: say so, keep the page results
        run["session_error"] = f"{type(exc).__name__}: {exc}"
        ctx.store.add_error(ctx.run_id, "probe", f"适老化模式检测失败 / age-friendly mode session failed: {type(exc).__name__}: {exc}",
                            url=home, plugin="elderly")
    ctx.measure(KIND_RUN, "site", run, version=VERSION)


# --- in-page measurement ----------------------------------------------------------------------

MEASURE_JS = page_script("elderly_measure.js")

CONTRAST_JS = page_script("elderly_contrast.js")


def js_options(ctx: MeasureContext, care: bool = False) -> dict[str, Any]:
    return {
        "footer": _FOOTER,
        "nav": _NAV,
        "header": _HEADER,
        "entry": [re.escape(k) for k in pv(ctx, "elderly.entry_keywords")],
        "nudge": [re.escape(k) for k in pv(ctx, "elderly.inducement_keywords")],
        "adMarkers": [re.escape(k) for k in pv(ctx, "elderly.ad_markers")],
        "adHosts": list(pv(ctx, "elderly.ad_hosts")),
        "tools": {k: [re.escape(w) for w in v] for k, v in pv(ctx, "elderly.toolbar_functions").items()},
        "minFont": float(pv(ctx, "elderly.min_body_font_px_care" if care else "elderly.min_body_font_px")),
        "minRatio": float(pv(ctx, "elderly.min_line_height_ratio")),
        # Entry labels are short (长者模式, 无障碍浏览, 关怀版); a headline that mentions 适老化 is not one.
        "entryMaxLen": 8,
    }


def contrast_options(ctx: MeasureContext) -> dict[str, float]:
    """The ratios axe-core's color-contrast rule tests at in the age-friendly mode (pack values)."""

    return {"normal": float(pv(ctx, "elderly.min_contrast_ratio")), "large": float(pv(ctx, "elderly.min_contrast_ratio_large"))}


def make_measure_job(ctx: MeasureContext) -> Any:
    """Normal-mode measurement of one page: at 100 % and at the pack's zoom factor."""

    opts = js_options(ctx)
    factor = float(pv(ctx, "elderly.zoom_factor"))

    async def job(page: Any, url: str) -> dict[str, Any]:
        normal = await page.evaluate(MEASURE_JS, opts)
        size = page.viewport_size or {"width": 1366, "height": 768}
        try:
            # Browser zoom at 200 % lays the page out in half as many CSS pixels: same media
            # queries, same reflow. That is how zoom is emulated (WCAG 1.4.4 / 1.4.10 testing).
            await page.set_viewport_size({"width": int(size["width"] / factor), "height": int(size["height"] / factor)})
            await page.wait_for_timeout(150)
            zoomed = await page.evaluate(MEASURE_JS, opts)
        finally:
            await page.set_viewport_size(size)
        return {"normal": normal, "zoomed": zoomed}

    return job


async def _snapshot(page: Any, opts: dict[str, Any]) -> dict[str, Any]:
    return await page.evaluate(MEASURE_JS, opts)


async def care_session(probe: Any, ctx: MeasureContext, home: str, budget: float) -> dict[str, Any]:
    """Find the 适老化 entry on the homepage, operate it, and measure the mode it opens.

    "Something changes" is judged on the full DOM unless the page changes by itself (carousels,
    clocks: two snapshots 0.6 s apart differ); then only on what a mode switch touches — classes
    and styles of ``html``/``body``, body text size and colours, the set of visible controls.
    """

    opts = js_options(ctx)
    care_opts = js_options(ctx, care=True)
    out: dict[str, Any] = {"tried": [], "entries": [], "mode": None}
    page = await probe.new_tab("elderly")
    extra_pages: list[Any] = []
    popups: list[Any] = []
    dialogs: list[str] = []

    def on_popup(p: Any) -> None:
        popups.append(p)

    def on_dialog(d: Any) -> None:
        dialogs.append(d.message)
        asyncio.ensure_future(d.dismiss())

    page.on("dialog", on_dialog)
    try:
        await probe.navigate(page, home)
        before = await _snapshot(page, opts)
        await page.wait_for_timeout(600)
        dynamic = (await _snapshot(page, opts))["hash"] != before["hash"]
        out["entries"] = before["entries"]
        out["dynamic_page"] = dynamic
        for entry in before["entries"][:4]:
            attempt: dict[str, Any] = {"selector": entry["selector"], "text": entry["text"], "href": entry["href"]}
            out["tried"].append(attempt)
            href = entry["href"].strip()
            target_url = urljoin(home, href) if href and not href.lower().startswith(("javascript:", "#", "mailto:")) else None
            if target_url and target_url.split("#")[0] != home.split("#")[0]:
                # A separate 长者版/关怀版: it works if it loads.
                other = await probe.new_tab("elderly")
                extra_pages.append(other)
                other.on("dialog", on_dialog)
                resp = await probe.navigate(other, target_url)
                status = resp.status if resp is not None else None
                attempt.update({"kind": "separate", "status": status, "url": other.url, "changed": not (status and status >= 400)})
                if not attempt["changed"]:
                    continue
                out["mode"] = await _measure_mode(other, care_opts, ctx, before, "separate", dialogs)
                out["mode"]["entry"] = attempt
                break
            # In-page switch: click and see what changes.
            popups.clear()
            page.context.on("page", on_popup)
            try:
                await page.click(entry["selector"], timeout=3000)
                with contextlib.suppress(Exception):
                    await page.wait_for_load_state("load", timeout=3000)
                await page.wait_for_timeout(600)
            except Exception as exc:  # noqa: BLE001 - an entry that cannot be clicked is inoperative
                attempt.update({"kind": "click", "changed": False, "error": str(exc).split("\n")[0][:200]})
                continue
            finally:
                page.context.remove_listener("page", on_popup)
            if popups:
                popup = popups[0]
                extra_pages.extend(popups)
                with contextlib.suppress(Exception):
                    await popup.wait_for_load_state("load", timeout=budget * 1000)
                attempt.update({"kind": "popup", "changed": True, "url": popup.url})
                out["mode"] = await _measure_mode(popup, care_opts, ctx, before, "separate", [])
                out["mode"]["entry"] = attempt
                break
            after = await _snapshot(page, care_opts)
            navigated = after["url"] != before["url"]
            changed = navigated or (after["stable"] != before["stable"] if dynamic else after["hash"] != before["hash"])
            attempt.update({"kind": "navigation" if navigated else "in-page", "changed": changed})
            if changed:
                out["mode"] = await _measure_mode(page, care_opts, ctx, before, "separate" if navigated else "in-page",
                                                  dialogs, after)
                out["mode"]["entry"] = attempt
                break
            # Nothing happened: start the next candidate from a fresh homepage.
            await probe.navigate(page, home)
    finally:
        for p in [page, *extra_pages]:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(p.close(), 5)
    return out


async def _measure_mode(page: Any, care_opts: dict[str, Any], ctx: MeasureContext, before: dict[str, Any], kind: str,
                        dialogs: list[str], after: dict[str, Any] | None = None) -> dict[str, Any]:
    if after is None:
        after = await _snapshot(page, care_opts)
    new_controls = sorted(set(after["controls"]) - set(before["controls"])) if kind == "in-page" else []
    contrast: dict[str, Any] | None = None
    try:
        await page.evaluate(axe_script() + AXE_ALIAS_JS)
        contrast = await page.evaluate(CONTRAST_JS, contrast_options(ctx))
    except Exception as exc:  # noqa: BLE001 - contrast is one item; the rest still counts
        contrast = {"error": str(exc).split("\n")[0][:200]}
    return {"kind": kind, "url": after["url"], "measure": after, "new_controls": new_controls, "contrast": contrast,
            "dialogs": list(dialogs)}

