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
from auditor.plugins.browser import AXE_ALIAS_JS, BrowserUnavailable, axe_script

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

MEASURE_JS = r"""
(o) => {
  const re = (s) => new RegExp(s, 'i');
  const footer = re(o.footer), nav = re(o.nav), header = re(o.header);
  const entryRe = new RegExp(o.entry.join('|'));
  const nudgeRe = new RegExp(o.nudge.join('|'), 'i');
  const adRe = new RegExp('(^|[-_\\s])(' + o.adMarkers.join('|') + ')([-_\\s0-9]|$)', 'i');
  const toolRe = new RegExp(Object.values(o.tools).flat().join('|'));
  const vw = window.innerWidth, vh = window.innerHeight;
  function cssPath(el) {
    if (el.id && document.querySelectorAll('#' + CSS.escape(el.id)).length === 1) return '#' + CSS.escape(el.id);
    const parts = [];
    for (let n = el; n && n.nodeType === 1 && n !== document.documentElement; n = n.parentElement) {
      if (n.id && document.querySelectorAll('#' + CSS.escape(n.id)).length === 1) { parts.unshift('#' + CSS.escape(n.id)); break; }
      let i = 1; for (let s = n.previousElementSibling; s; s = s.previousElementSibling) if (s.tagName === n.tagName) i++;
      parts.unshift(n.tagName.toLowerCase() + ':nth-of-type(' + i + ')');
    }
    return parts.join(' > ');
  }
  function visible(el) {
    if (!el.getClientRects().length) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none' && parseFloat(cs.opacity) > 0;
  }
  const regionCache = new Map();
  function inChrome(el) {  // header, navigation or footer
    const chain = [];
    let res = false;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      if (regionCache.has(n)) { res = regionCache.get(n); break; }
      chain.push(n);
      const tag = n.tagName.toLowerCase();
      const m = ((n.getAttribute('class') || '') + ' ' + (n.id || '')).toLowerCase();
      if (tag === 'footer' || tag === 'nav' || tag === 'header' || footer.test(m) || nav.test(m) || header.test(m)) { res = true; break; }
      if (tag === 'body') break;
    }
    chain.forEach(n => regionCache.set(n, res));
    return res;
  }
  const normalLh = new Map();
  function lineRatio(cs) {
    const size = parseFloat(cs.fontSize);
    if (cs.lineHeight !== 'normal') return parseFloat(cs.lineHeight) / size;
    const key = cs.fontFamily + '|' + size;
    if (!normalLh.has(key)) {
      const d = document.createElement('div');
      d.style.cssText = 'position:absolute;visibility:hidden;line-height:normal;white-space:nowrap;padding:0;border:0;';
      d.style.fontFamily = cs.fontFamily; d.style.fontSize = cs.fontSize;
      d.textContent = '中文';
      document.body.appendChild(d); normalLh.set(key, d.getBoundingClientRect().height / size); d.remove();
    }
    return normalLh.get(key);
  }
  // Body text: visible text nodes outside header/nav/footer, weighted by characters.
  const sizes = [], ratios = [], small = [], tight = [];
  let chars = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seenParents = new Set();
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const text = t.nodeValue.replace(/\s+/g, '');
    if (!text) continue;
    const el = t.parentElement;
    if (!el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'OPTION', 'TEMPLATE'].includes(el.tagName)) continue;
    if (inChrome(el) || !visible(el)) continue;
    const cs = getComputedStyle(el);
    const px = parseFloat(cs.fontSize), r = lineRatio(cs), n = text.length;
    chars += n; sizes.push([px, n]); ratios.push([r, n]);
    if (!seenParents.has(el)) {
      seenParents.add(el);
      if (px < o.minFont && small.length < 5) small.push({selector: cssPath(el), px, text: text.slice(0, 40)});
      if (r < o.minRatio && tight.length < 5) tight.push({selector: cssPath(el), ratio: Math.round(r * 100) / 100, text: text.slice(0, 40)});
    }
  }
  function wmedian(pairs) {
    if (!pairs.length) return null;
    pairs.sort((a, b) => a[0] - b[0]);
    const total = pairs.reduce((s, p) => s + p[1], 0);
    let acc = 0;
    for (const p of pairs) { acc += p[1]; if (acc * 2 >= total) return Math.round(p[0] * 100) / 100; }
    return pairs[pairs.length - 1][0];
  }
  const share = (pairs, lim) => pairs.length ? Math.round(1000 * pairs.filter(p => p[0] < lim).reduce((s, p) => s + p[1], 0) /
                                                          pairs.reduce((s, p) => s + p[1], 0)) / 1000 : 0;
  // Clickable things, their labels, and the 适老化 entry candidates among them.
  const clickable = 'a,button,[role=button],input[type=button],input[type=submit],[onclick],span,li,div,img';
  const entries = [], controls = [], nudges = [];
  const seenEntry = new Set();
  for (const el of document.querySelectorAll(clickable)) {
    const own = (el.tagName === 'IMG' ? (el.alt || el.title || '') :
                 ((el.innerText || '').trim() || el.getAttribute('title') || el.getAttribute('aria-label') || el.value || '')).trim();
    if (!own || own.length > 16 || !visible(el)) continue;
    const isCtl = el.matches('a,button,[role=button],input,[onclick]');
    if (isCtl) controls.push(own);
    if (entryRe.test(own) && own.replace(/[\s|｜·•()（）【】\[\]]/g, '').length <= o.entryMaxLen) {
      const target = el.closest('a,button,[role=button],input,[onclick]') || el;
      if (!seenEntry.has(target)) {
        seenEntry.add(target);
        entries.push({selector: cssPath(target), text: own, tag: target.tagName.toLowerCase(),
                      href: target.tagName === 'A' ? (target.getAttribute('href') || '') : ''});
      }
    }
    if (isCtl && nudgeRe.test(own)) nudges.push({selector: cssPath(el), text: own});
  }
  // Ads, floating windows (飘窗) and overlays.
  const ads = [], adEls = [];
  for (const el of document.querySelectorAll('body *')) {
    if (ads.length >= 10) break;
    if (!el.getClientRects().length) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    const marker = ((el.getAttribute('class') || '') + ' ' + (el.id || ''));
    const label = (el.innerText || '').slice(0, 80);
    if (el.tagName === 'IFRAME') {
      const src = el.getAttribute('src') || '';
      if (o.adHosts.some(h => src.includes(h))) ads.push({selector: cssPath(el), kind: 'ad-iframe', src});
      continue;
    }
    if (!['fixed', 'absolute', 'sticky'].includes(cs.position)) continue;
    if (toolRe.test(label) || entryRe.test(label)) continue;  // the accessibility toolbar itself
    const r = el.getBoundingClientRect();
    if (r.width < 40 || r.height < 20) continue;
    const closeable = /关闭|×|✕/.test(label) && (el.querySelector('img,a,iframe') !== null);
    if (adRe.test(marker) || (closeable && r.width * r.height < 0.5 * vw * vh)) {
      if (!adEls.some(a => a.contains(el))) {
        adEls.push(el);
        ads.push({selector: cssPath(el), kind: adRe.test(marker) ? 'ad-marker' : 'floating-window', text: label.slice(0, 40),
                  position: cs.position});
      }
    }
  }
  // Overflow: sideways scrolling and text clipped by its box.
  const de = document.documentElement;
  const clipped = [];
  for (const el of document.querySelectorAll('body *')) {
    if (clipped.length >= 10) break;
    if (!el.childElementCount && (el.textContent || '').trim() && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      const cs = getComputedStyle(el);
      if (['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis') {
        clipped.push({selector: cssPath(el), text: el.textContent.trim().slice(0, 40)});
      }
    }
  }
  let h = 0;
  const sig = de.outerHTML + '|' + de.className + '|' + document.body.className + '|' + (document.body.getAttribute('style') || '') +
              '|' + getComputedStyle(document.body).fontSize + '|' + (getComputedStyle(document.body).zoom || '');
  for (let i = 0; i < sig.length; i++) { h = (h * 31 + sig.charCodeAt(i)) | 0; }
  const bcs = getComputedStyle(document.body);
  const stable = [de.className, document.body.className, de.getAttribute('style') || '', document.body.getAttribute('style') || '',
                  bcs.fontSize, bcs.zoom || '', bcs.backgroundColor, bcs.color, wmedian(sizes.slice()), controls.length].join('|');
  return {url: location.href, chars, stable, font_px: wmedian(sizes), font_share_below: share(sizes, o.minFont), small,
          line_ratio: wmedian(ratios), line_share_below: share(ratios, o.minRatio), tight,
          entries: entries.slice(0, 8), controls, nudges: nudges.slice(0, 5), ads,
          scroll_width: de.scrollWidth, client_width: de.clientWidth, hscroll: de.scrollWidth > de.clientWidth + 1,
          clipped, hash: h, viewport: [vw, vh]};
}
"""

CONTRAST_JS = """
async (o) => {
  const axe = window.__govaudit_axe || window.axe;
  // Keep axe's other color-contrast options (large-text size, bold weight…); change only the ratios.
  const base = axe._audit.checks['color-contrast'].options;
  const options = Object.assign({}, base, {contrastRatio: {normal: Object.assign({}, base.contrastRatio.normal, {expected: o.normal}),
                                                            large: Object.assign({}, base.contrastRatio.large, {expected: o.large})}});
  const r = await axe.run(document, {runOnly: {type: 'rule', values: ['color-contrast']}, resultTypes: ['violations'],
                                     checks: {'color-contrast': {options}}});
  const v = r.violations[0];
  return {version: axe.version, count: v ? v.nodes.length : 0,
          nodes: v ? v.nodes.slice(0, 10).map(n => ({selector: n.target.join(' '), html: n.html, summary: n.failureSummary})) : []};
}
"""


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

