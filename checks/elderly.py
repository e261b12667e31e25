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

The browser work (clicking the entry, reading computed styles, emulating zoom, axe-core contrast)
is the measure plugin :mod:`auditor.plugins.elderly_probe`'s; this module judges its stored
measurements ``elderly.run``, ``elderly.page`` and ``elderly.care`` and opens no page itself, so
``govaudit recheck`` gives the same findings offline.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from auditor.context import CheckContext, PageView, SiteView
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.measure.elderly import pv
from auditor.measure.records import usable
from auditor.model import Finding

log = logging.getLogger(__name__)

# The rules' bases (official sources only) are in checks/rules/elderly.json.
FUNCTION_ZH = {"text_zoom": "文字放大", "high_contrast": "高对比度/配色", "voice": "语音朗读", "large_pointer": "大鼠标/大光标",
               "simplified": "纯文本/简化界面"}

DECLARED = load_declarations("auditor.checks", "rules/elderly.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()


# --- findings ---------------------------------------------------------------------------------

def _ratio_basis_note(ctx: CheckContext, key: str) -> dict[str, Any]:
    e = ctx.pack.entry(key)
    return {"key": key, "value": pv(ctx, key), "status": e["status"] if e else "unconfirmed",
            "source": e["source"] if e else "govaudit default"}


KIND_RUN = "elderly.run"
KIND_PAGE = "elderly.page"
KIND_CARE = "elderly.care"
VERSIONS = (1,)  # measurement versions this module can judge (auditor.plugins.elderly_probe.VERSION)


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    """Judge what :mod:`auditor.plugins.elderly_probe` measured; no browser, so a recheck is offline."""

    home = site.homepage_url
    if site.homepage is None:
        return
    run = ctx.measurement(KIND_RUN, "site")
    if not usable(run, VERSIONS):
        why = "none stored" if run is None else f"version {run.version} unknown to this check"
        ctx.store.add_error(ctx.run_id, "check", f"没有可用的适老化测量记录，适老化未评估 / no usable 适老化 measurement ({why}): "
                            "age-friendliness not assessed", url=home, plugin="elderly")
        return
    rdata = dict(run.data)
    if "error" in rdata:
        return  # Chromium could not start: the measure stage's error record says so, and recheck keeps it
    pages = {m.key: dict(m.data) for m in ctx.measurements(KIND_PAGE) if m.version in VERSIONS}
    measured = {u: pages[u] for u in rdata.get("urls", []) if u in pages}  # the audit's order: homepage first
    care = ctx.measurement(KIND_CARE, "site")
    yield from _normal_findings(ctx, measured, float(rdata.get("zoom_factor") or pv(ctx, "elderly.zoom_factor")))
    if usable(care, VERSIONS):
        yield from _care_findings(ctx, home, dict(care.data))


def _normal_findings(ctx: CheckContext, measured: dict[str, Any], factor: float) -> Iterator[Finding]:
    """``factor`` is the zoom the pages were measured at (the measurement's, not today's pack)."""

    min_font = float(pv(ctx, "elderly.min_body_font_px"))
    min_ratio = float(pv(ctx, "elderly.min_line_height_ratio"))
    for url, value in measured.items():
        normal, zoomed = value["normal"], value["zoomed"]
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
