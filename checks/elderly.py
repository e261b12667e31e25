"""适老化 (age-friendly design) checks that a real browser can decide.

Basis: 国办公开办函〔2021〕28号 (government sites and new media must be made age-friendly and
accessible) and 工信部《互联网网站适老化通用设计规范》(2021-04-07): age-friendly pages carry
no ads or ad pop-ups and no "诱导" buttons; sites offer extra-large text, high contrast, text zoom,
voice reading and a simplified interface, without relying on OS or browser features; desktop sites
support keyboard operation and an extra-large pointer. Line spacing ≥ 1.3 is
from the companion APP specification (✅ for apps; applying it to websites is our reading, so
its status is *partial*). The website specification's own numbers for font size and contrast
could not be read (❌): those thresholds are rule-pack values (``elderly.*`` in national.json)
marked *unconfirmed*, and the WCAG 2.1 figures (200 % text resize, 4.5:1 contrast) are used as
their defaults because GB/T 37668-2019 references WCAG.

What is checked, on the homepage unless said otherwise:

- ``elderly.entry_missing`` / ``elderly.entry_inoperative``: a 无障碍/适老化 entry (toolbar button,
  长者模式, 长辈版/关怀版 link) exists, and clicking it changes something (the page's DOM or
  styles, or it opens another version that loads).
- in the 适老化 mode reached that way: ``elderly.care_font_small``, ``elderly.line_spacing``,
  ``elderly.care_contrast`` (axe-core color-contrast at the pack's ratio), ``elderly.care_ads``
  (飘窗, ad iframes, pop-up windows, dialogs), ``elderly.care_inducement`` (下载APP/付费 nudges),
  ``elderly.toolbar_incomplete`` (an in-page toolbar lacking one of the five functions).
- on the homepage and a few template pages in normal mode: ``elderly.font_small`` (weighted
  median body-text size), ``elderly.line_spacing`` and ``elderly.zoom_overflow`` (at 200 %,
  emulated as browsers do — the layout viewport halved — the page scrolls sideways or clips text).
- on every stored page, without the browser: ``elderly.captcha_no_alternative``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from auditor.context import CheckContext, PageView, SiteView
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.model import Finding, Parameter, Rule
from auditor.sampling import SamplingError, sample_for

log = logging.getLogger(__name__)

# The rules' bases (official sources only) are in checks/rules/elderly.json.
FUNCTION_ZH = {"text_zoom": "文字放大", "high_contrast": "高对比度/配色", "voice": "语音朗读", "large_pointer": "大鼠标/大光标",
               "simplified": "纯文本/简化界面"}
# Same region markers as auditor.extract, so "body text" means the same thing in every check.
_FOOTER = r"foot|bottom|copyright|dibu|banquan|bqxx|bq_|wzdb|gywm"
_NAV = r"nav|menu|daohang|lanmu|dh_|_dh|topbar|mainbar|channel"
_HEADER = r"header|banner|^top|[_-]top|top[_-]|logo|^head|[_-]head"


def pv(ctx: CheckContext, key: str) -> Any:
    """A pack value of this family (declared in ``checks/rules/elderly.json``, default in national.json)."""

    return ctx.pack.value(key)


DECLARED = load_declarations("auditor.checks", "rules/elderly.json")


@hookimpl
def govaudit_rules() -> list[Rule]:
    """The rules declared in ``checks/rules/elderly.json``."""

    return DECLARED.rules


@hookimpl
def govaudit_parameters() -> list[Parameter]:
    """The pack parameters declared in ``checks/rules/elderly.json`` (values in the rule packs)."""

    return DECLARED.parameters


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


def js_options(ctx: CheckContext, care: bool = False) -> dict[str, Any]:
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


def make_measure_job(ctx: CheckContext) -> Any:
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


async def care_session(probe: Any, ctx: CheckContext, home: str, budget: float) -> dict[str, Any]:
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


async def _measure_mode(page: Any, care_opts: dict[str, Any], ctx: CheckContext, before: dict[str, Any], kind: str,
                        dialogs: list[str], after: dict[str, Any] | None = None) -> dict[str, Any]:
    from auditor.plugins.browser import AXE_ALIAS_JS, axe_script

    if after is None:
        after = await _snapshot(page, care_opts)
    new_controls = sorted(set(after["controls"]) - set(before["controls"])) if kind == "in-page" else []
    contrast: dict[str, Any] | None = None
    try:
        await page.evaluate(axe_script() + AXE_ALIAS_JS)
        contrast = await page.evaluate(CONTRAST_JS, {"normal": float(pv(ctx, "elderly.min_contrast_ratio")),
                                                     "large": float(pv(ctx, "elderly.min_contrast_ratio_large"))})
    except Exception as exc:  # noqa: BLE001 - contrast is one item; the rest still counts
        contrast = {"error": str(exc).split("\n")[0][:200]}
    return {"kind": kind, "url": after["url"], "measure": after, "new_controls": new_controls, "contrast": contrast,
            "dialogs": list(dialogs)}


# --- findings ---------------------------------------------------------------------------------

def _ratio_basis_note(ctx: CheckContext, key: str) -> dict[str, Any]:
    e = ctx.pack.entry(key)
    return {"key": key, "value": pv(ctx, key), "status": e["status"] if e else "unconfirmed",
            "source": e["source"] if e else "govaudit default"}


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    home = site.homepage_url
    if site.homepage is None:
        return
    try:
        probe = ctx.probe("browser")
    except KeyError as exc:
        ctx.store.add_error(ctx.run_id, "check", f"适老化检测需要浏览器插件 / needs the browser probe: {exc}", plugin="elderly")
        return
    from auditor.plugins.browser import BrowserUnavailable

    # Normal mode on the homepage and a few template pages.
    urls = [home]
    with contextlib.suppress(SamplingError):
        limit = int(pv(ctx, "elderly.zoom_pages"))
        for sp in sample_for(site, ctx).pages:
            if len(urls) >= limit:
                break
            if sp.url != home and "template" in sp.reasons:
                urls.append(sp.url)
    try:
        measured = {o.url: o for o in probe.map(urls, make_measure_job(ctx), pool="elderly-measure", plugin="elderly")}
    except BrowserUnavailable as exc:
        ctx.store.add_error(ctx.run_id, "probe", str(exc), plugin="elderly")
        return
    budget = probe.options.page_budget
    care: dict[str, Any] | None = None
    try:
        care = probe.run(lambda p: asyncio.wait_for(care_session(p, ctx, home, budget), budget * 4), timeout=budget * 4 + 30)
    except Exception as exc:  # noqa: BLE001 - the entry session failed: say so, keep the page results
        ctx.store.add_error(ctx.run_id, "probe", f"适老化模式检测失败 / age-friendly mode session failed: {type(exc).__name__}: {exc}",
                            url=home, plugin="elderly")

    yield from _normal_findings(ctx, measured)
    if care is not None:
        yield from _care_findings(ctx, home, care)


def _normal_findings(ctx: CheckContext, measured: dict[str, Any]) -> Iterator[Finding]:
    min_font = float(pv(ctx, "elderly.min_body_font_px"))
    min_ratio = float(pv(ctx, "elderly.min_line_height_ratio"))
    factor = float(pv(ctx, "elderly.zoom_factor"))
    for url, outcome in measured.items():
        if not outcome.ok:
            continue
        normal, zoomed = outcome.value["normal"], outcome.value["zoomed"]
        if normal["chars"] and normal["font_px"] is not None and normal["font_px"] < min_font:
            yield ctx.finding(
                "elderly.font_small", url,
                f"正文字号偏小：加权中位数 {normal['font_px']:g}px，低于 {min_font:g}px（{normal['font_share_below']:.0%} 的正文文字低于该值）",
                f"Small body text: weighted median {normal['font_px']:g}px, below {min_font:g}px",
                key=f"normal:{url}",
                evidence={"font_px": normal["font_px"], "share_below": normal["font_share_below"], "samples": normal["small"],
                          "threshold": _ratio_basis_note(ctx, "elderly.min_body_font_px"), "mode": "normal"},
            )
        if normal["chars"] and normal["line_ratio"] is not None and normal["line_ratio"] < min_ratio:
            yield ctx.finding(
                "elderly.line_spacing", url,
                f"正文行间距不足：行高为字号的 {normal['line_ratio']:g} 倍，低于 {min_ratio:g} 倍",
                f"Line spacing {normal['line_ratio']:g}× the font size, below {min_ratio:g}×",
                key=f"normal:{url}",
                evidence={"line_ratio": normal["line_ratio"], "share_below": normal["line_share_below"], "samples": normal["tight"],
                          "threshold": _ratio_basis_note(ctx, "elderly.min_line_height_ratio"), "mode": "normal"},
            )
        before_clipped = {c["selector"] for c in normal["clipped"]}
        new_clipped = [c for c in zoomed["clipped"] if c["selector"] not in before_clipped]
        if zoomed["hscroll"] or new_clipped:
            what_zh = "出现横向滚动条" if zoomed["hscroll"] else ""
            if new_clipped:
                what_zh += ("，" if what_zh else "") + f"{len(new_clipped)} 处文字被截断"
            yield ctx.finding(
                "elderly.zoom_overflow", url,
                f"页面放大到{factor:.0%}后{what_zh}（内容宽 {zoomed['scroll_width']}px，可视宽 {zoomed['client_width']}px）",
                f"At {factor:.0%} zoom the page {'scrolls sideways' if zoomed['hscroll'] else ''}"
                f"{' and ' if zoomed['hscroll'] and new_clipped else ''}{'clips text' if new_clipped else ''} "
                f"(content {zoomed['scroll_width']}px, viewport {zoomed['client_width']}px)",
                key=f"zoom:{url}",
                evidence={"zoom": factor, "hscroll": zoomed["hscroll"], "scroll_width": zoomed["scroll_width"],
                          "client_width": zoomed["client_width"], "clipped": new_clipped,
                          "emulation": "layout viewport divided by the zoom factor (as browser zoom does)",
                          "threshold": _ratio_basis_note(ctx, "elderly.zoom_factor")},
            )


def _care_findings(ctx: CheckContext, home: str, care: dict[str, Any]) -> Iterator[Finding]:
    ctx.record("elderly.session", home, {k: v for k, v in care.items() if k != "mode"} |
               {"mode": {k: v for k, v in (care.get("mode") or {}).items() if k != "measure"}})
    if not care["entries"]:
        yield ctx.finding(
            "elderly.entry_missing", home,
            "首页未找到无障碍/适老化入口（工具条、长者模式、长辈版/关怀版链接）",
            "No accessibility / age-friendly entry on the homepage (toolbar, elderly mode, elderly version link)",
            key="entry",
            evidence={"keywords": pv(ctx, "elderly.entry_keywords"), "searched": "visible links, buttons and labelled elements"},
        )
        return
    mode = care.get("mode")
    if mode is None:
        yield ctx.finding(
            "elderly.entry_inoperative", home,
            f"适老化/无障碍入口点击后页面无任何变化：{'、'.join(t['text'] for t in care['tried'])}",
            f"The age-friendly entry changes nothing when clicked: {', '.join(t['text'] for t in care['tried'])}",
            key="entry",
            evidence={"tried": care["tried"], "entries": care["entries"]},
        )
        return
    entry = mode["entry"]
    m = mode["measure"]
    where = mode["url"]
    ev_base = {"entry": entry, "mode_kind": mode["kind"], "mode_url": where}
    if mode["kind"] == "in-page":
        functions = pv(ctx, "elderly.toolbar_functions")
        texts = " ".join(mode["new_controls"])
        missing = [k for k, words in functions.items() if not any(w in texts for w in words)]
        if mode["new_controls"] and missing:
            yield ctx.finding(
                "elderly.toolbar_incomplete", home,
                f"无障碍工具条缺少功能：{'、'.join(FUNCTION_ZH.get(k, k) for k in missing)}",
                f"The accessibility toolbar lacks: {', '.join(missing)}",
                key="toolbar",
                evidence=ev_base | {"missing": missing, "controls": mode["new_controls"], "keywords": functions},
            )
    min_care = float(pv(ctx, "elderly.min_body_font_px_care"))
    if m["chars"] and m["font_px"] is not None and m["font_px"] < min_care:
        yield ctx.finding(
            "elderly.care_font_small", where,
            f"适老化模式下正文字号偏小：加权中位数 {m['font_px']:g}px，低于 {min_care:g}px",
            f"Age-friendly mode body text {m['font_px']:g}px, below {min_care:g}px",
            key="care",
            evidence=ev_base | {"font_px": m["font_px"], "share_below": m["font_share_below"], "samples": m["small"],
                                "threshold": _ratio_basis_note(ctx, "elderly.min_body_font_px_care")},
        )
    min_ratio = float(pv(ctx, "elderly.min_line_height_ratio"))
    if m["chars"] and m["line_ratio"] is not None and m["line_ratio"] < min_ratio:
        yield ctx.finding(
            "elderly.line_spacing", where,
            f"适老化模式下行间距不足：行高为字号的 {m['line_ratio']:g} 倍，低于 {min_ratio:g} 倍",
            f"Age-friendly mode line spacing {m['line_ratio']:g}×, below {min_ratio:g}×",
            key=f"care:{where}",
            evidence=ev_base | {"line_ratio": m["line_ratio"], "samples": m["tight"], "mode": "care",
                                "threshold": _ratio_basis_note(ctx, "elderly.min_line_height_ratio")},
        )
    ads = list(m["ads"])
    ads += [{"kind": "dialog", "text": t[:80]} for t in mode["dialogs"]]
    if ads:
        yield ctx.finding(
            "elderly.care_ads", where,
            f"适老化模式下仍有广告/飘窗/弹窗 {len(ads)} 处：{'；'.join((a.get('text') or a.get('src') or a.get('kind'))[:30] for a in ads[:3])}",
            f"{len(ads)} ad / floating window / pop-up(s) remain in the age-friendly mode",
            key="care",
            evidence=ev_base | {"items": ads},
        )
    if m["nudges"]:
        yield ctx.finding(
            "elderly.care_inducement", where,
            f"适老化模式下存在诱导类按键：{'、'.join(n['text'] for n in m['nudges'])}",
            f"Inducement buttons in the age-friendly mode: {', '.join(n['text'] for n in m['nudges'])}",
            key="care",
            evidence=ev_base | {"items": m["nudges"], "keywords": pv(ctx, "elderly.inducement_keywords")},
        )
    contrast = mode.get("contrast") or {}
    if contrast.get("count"):
        yield ctx.finding(
            "elderly.care_contrast", where,
            f"适老化模式下 {contrast['count']} 处文字对比度低于 {float(pv(ctx, 'elderly.min_contrast_ratio')):g}:1",
            f"{contrast['count']} text element(s) below {float(pv(ctx, 'elderly.min_contrast_ratio')):g}:1 in the age-friendly mode",
            key="care",
            evidence=ev_base | {"nodes": contrast["nodes"], "axe_version": contrast.get("version"),
                                "threshold": _ratio_basis_note(ctx, "elderly.min_contrast_ratio")},
        )


# --- CAPTCHA (static, every page) -----------------------------------------------------------------

_CAPTCHA = re.compile(r"captcha|yzm|verifycode|validatecode|checkcode|authcode|vcode|kaptcha|randcode|yanzhengma|验证码", re.I)
_CAPTCHA_ALT = re.compile(r"语音验证|短信验证|audio|voice|听不清|换一张.*语音", re.I)


@hookimpl
def govaudit_check_page(page: PageView, ctx: CheckContext) -> Iterator[Finding]:
    if not page.is_html or page.tree is None or page.is_error_page:
        return  # an error page's CAPTCHA is not a page a visitor uses
    hits = []
    for img in page.tree.iter("img"):
        marker = " ".join(filter(None, (img.get("src"), img.get("id"), img.get("class"), img.get("alt"), img.get("name"))))
        if _CAPTCHA.search(marker):
            hits.append(img)
    if not hits:
        return
    text = page.text
    if _CAPTCHA_ALT.search(text) or page.tree.find(".//audio") is not None:
        return
    first = hits[0]
    snippet = re.sub(r"\s+", " ", page.tree.getroottree().getpath(first))
    yield ctx.finding(
        "elderly.captcha_no_alternative", page.url,
        f"页面使用图形验证码（{len(hits)} 处），未发现语音或短信等替代验证方式",
        f"Image CAPTCHA ({len(hits)}) without an audio or SMS alternative",
        key=urlsplit(page.url).path or page.url,
        evidence={"images": [h.get("src") for h in hits[:5]], "xpath": snippet},
    )
