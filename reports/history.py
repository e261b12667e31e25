"""The report's history part (与上次检查对比): per-finding status, the run's changes, triage, trend.

Read from the store (:mod:`auditor.store.history`) after scoring, so every writer renders the same
facts: report.json carries ``history`` and ``triage`` on each finding and ``changes``, ``triaged`` and
``trend`` at the top; report.html shows the comparison, the triaged findings apart and an inline-SVG
trend chart; the 整改台账 lists the previous run's fixed findings as 已整改.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping
from typing import Any

from auditor.model import Rule
from auditor.store.database import EvidenceStore
from auditor.store.history import (
    ABSENT,
    FINISHED,
    STATUSES,
    history_of,
    mark_active,
    severity_counts,
    site_runs,
    status_counts,
    triage_dict,
    triage_of,
)

STATUS_ZH = {"new": "新增", "persisting": "持续", "reopened": "复现", "fixed": "已整改", "not_rechecked": "本次未复查"}
STATUS_EN = {"new": "new", "persisting": "persisting", "reopened": "reopened", "fixed": "fixed",
             "not_rechecked": "not re-checked"}
MARK_ZH = {"false_positive": "误报", "deferred": "暂缓"}
MARK_EN = {"false_positive": "false positive", "deferred": "deferred"}
REASON_ZH = {"family_off": "本次未运行该类检查", "not_fetched": "本次未抓取该页面", "not_measured": "本次未测量该页面",
             "plugin_error": "该检查本次运行出错"}
REASON_EN = {"family_off": "rule family not run", "not_fetched": "page not fetched this run",
             "not_measured": "page not measured this run", "plugin_error": "the check failed this run"}


def add_history(report: dict[str, Any], store: EvidenceStore, run: Mapping[str, Any], rules: Mapping[str, Rule],
                lang: str) -> None:
    """Fill ``history``/``triage`` on every finding and ``changes``/``triaged``/``trend`` on ``report``."""

    rows = history_of(store, run["id"])
    marks = triage_of(store, run["site"])
    as_of = run["as_of"]
    triaged: list[str] = []
    for f in report["findings"]:
        h = rows.get(f["id"])
        if h is not None:
            f["history"] = {"status": h["status"], "first_seen": h["first_seen"], "first_seen_run": h["first_seen_run"],
                            "last_seen": h["last_seen"], "runs_seen": h["runs_seen"], "previous_run": h["previous_run"]}
        t = marks.get(f["id"])
        if t is not None:
            f["triage"] = triage_dict(t, as_of)
            if f["triage"]["active"]:
                triaged.append(f["id"])
    ids: dict[str, list[str]] = {s: [] for s in STATUSES}
    absent: dict[str, list[dict[str, Any]]] = {s: [] for s in ABSENT}
    previous = None
    for fid, h in sorted(rows.items(), key=lambda kv: (kv[1]["rule"] or "", kv[1]["url"] or "", kv[0])):
        ids[h["status"]].append(fid)
        previous = previous or h["previous_run"]
        if h["status"] in ABSENT:
            rule = rules.get(h["rule"] or "")
            absent[h["status"]].append({
                "id": fid, "rule": h["rule"], "rule_name": rule.name(lang) if rule else h["rule"], "severity": h["severity"],
                "url": h["url"], "source_url": h["source_url"], "column": h["column_name"],
                "message": (h["message_en"] if lang == "en" and h["message_en"] else h["message_zh"]) or "",
                "first_seen": h["first_seen"], "last_seen": h["last_seen"], "runs_seen": h["runs_seen"],
                "reason": h["reason"], "basis": rule.basis.as_dict() if rule else None,
                "remediation": rule.remediation(lang) if rule else "",
                **({"triage": triage_dict(marks[fid], as_of)} if fid in marks else {}),
            })
    prev_run = store.get_run(previous) if previous else None
    report["changes"] = {
        "previous_run": previous,
        "previous_as_of": prev_run["as_of"] if prev_run else None,
        "counts": {s: len(v) for s, v in ids.items()},
        "ids": ids,
        "fixed": absent["fixed"],
        "not_rechecked": absent["not_rechecked"],
    }
    report["triaged"] = {"count": len(triaged), "ids": triaged}
    report["trend"] = trend(store, run, marks)
    report["site"].update(site_facts(store, run, report["site"].get("homepage_url") or run["start_url"]))


def site_facts(store: EvidenceStore, run: Mapping[str, Any], homepage: str) -> dict[str, Any]:
    """网站标识码 and 网站名称 for the ledger: the homepage's footer code (else its SiteIDCode meta, else
    the code most pages carry) and the homepage's title. Crawled text: writers escape it."""

    codes: dict[str, int] = {}
    home_code = None
    for rec in store.iter_records("identity.page", run_id=run["id"]):
        data = rec.get("data") or {}
        code = data.get("code") or data.get("meta_code")
        if code:
            codes[code] = codes.get(code, 0) + 1
            if rec.get("key") in (homepage, homepage.rstrip("/")):
                home_code = code
    page = store.get_page(run["id"], homepage)
    out: dict[str, Any] = {}
    code = home_code or (max(codes.items(), key=lambda kv: (kv[1], kv[0]))[0] if codes else None)
    if code:
        out["site_code"] = str(code)
    if page and page.get("title"):
        out["name"] = " ".join(str(page["title"]).split())[:200]
    return out


def trend(store: EvidenceStore, run: Mapping[str, Any], marks: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The site's finished runs up to ``run`` (and ``run`` itself): score, vetoes, findings per severity."""

    runs = [r for r in site_runs(store, run["site"]) if r["started_at"] <= run["started_at"]
            and (r["status"] in FINISHED or r["id"] == run["id"])]
    # a mark counts for the runs that finished after it was made and before it expired
    excluded = {r["id"]: {fid for fid, row in marks.items() if mark_active(row, r["as_of"])
                          and (row.get("updated_at") or 0) <= (r.get("finished_at") or time.time())} for r in runs}
    sev = severity_counts(store, [r["id"] for r in runs], excluded)
    counts = status_counts(store, [r["id"] for r in runs])
    out = []
    for r in runs:
        score = r.get("score") or {}
        out.append({"run_id": r["id"], "as_of": r["as_of"], "status": r["status"], "score": score.get("score"),
                    "veto": score.get("veto"), "findings": {k: v for k, v in sev[r["id"]].items() if v},
                    "changes": counts[r["id"]]})
    return out


SEVERITY_COLOURS = {"veto": "#b00020", "major": "#d9822b", "minor": "#2b6cb0", "info": "#888888"}


def trend_svg(points: list[dict[str, Any]], lang: str = "zh", width: int = 640, height: int = 220) -> str:
    """An inline SVG line chart (no script, no network): the score (0–100, left axis) and findings per
    severity (right axis) over the site's runs. Empty string for fewer than one run."""

    if not points:
        return ""
    left, right, top, bottom = 44, 44, 16, 40
    w, h = width - left - right, height - top - bottom
    n = len(points)
    xs = [left + (w * i / (n - 1) if n > 1 else w / 2) for i in range(n)]
    top_count = max([1] + [c for p in points for c in (p.get("findings") or {}).values()])
    score_label = "得分" if lang != "en" else "score"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" class="trend"><title>{html.escape(score_label)}</title>',
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#ccc"/>']
    for frac in (0.0, 0.5, 1.0):
        y = top + h * (1 - frac)
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{100 * frac:g}</text>')
        parts.append(f'<text x="{left + w + 4}" y="{y + 4:.1f}" font-size="10">{top_count * frac:.0f}</text>')

    def line(values: list[float | None], scale: float, colour: str, label: str, dash: str = "") -> None:
        pts = [(x, top + h * (1 - v / scale)) for x, v in zip(xs, values, strict=True) if v is not None]
        if not pts:
            return
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{path}">'
                     f'<title>{html.escape(label)}</title></polyline>')
        for x, y in pts:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')

    line([p.get("score") for p in points], 100.0, "#2f855a", score_label)
    names = {"veto": "单项否决", "major": "重要", "minor": "一般", "info": "提示"} if lang != "en" else {}
    for sev, colour in SEVERITY_COLOURS.items():
        if any((p.get("findings") or {}).get(sev) for p in points):
            line([float((p.get("findings") or {}).get(sev, 0)) for p in points], float(top_count), colour,
                 names.get(sev, sev), ' stroke-dasharray="4 3"')
    for x, p in zip(xs, points, strict=True):
        parts.append(f'<text x="{x:.1f}" y="{top + h + 14}" text-anchor="middle" font-size="10">'
                     f'{html.escape(str(p.get("as_of") or ""))}</text>')
    legend = [(score_label, "#2f855a")] + [(names.get(s, s), c) for s, c in SEVERITY_COLOURS.items()
                                           if any((p.get("findings") or {}).get(s) for p in points)]
    lx = left
    for label, colour in legend:
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{lx + 14}" y="{height - 5}" font-size="10">{html.escape(label)}</text>')
        lx += 24 + 11 * len(label)
    parts.append("</svg>")
    return "".join(parts)


HTML_TEXTS_ZH = {
    "title": "与上次检查对比", "previous": "上次检查", "as_of": "评估基准日", "first_seen": "首次发现", "reason": "原因",
    "reopened_note": "曾经整改、本次又出现的问题（整改不到位），请优先核查。", "trend": "历次检查趋势（得分与各级问题数）",
    "not_rechecked_note": "上次存在、本次未复查（未抓取或未运行该检查），不视为已整改",
    "first_run": "这是该网站在证据库中的第一次检查，下次检查起显示变化。", "triaged": "已标记的问题（误报 / 暂缓，不计分）",
    "triaged_note": "运维人员标记的问题单列于此，不计入得分；标记到期后恢复计分。", "mark": "标记", "note": "理由", "until": "有效期至",
}
HTML_TEXTS_EN = {
    "title": "Compared with the last run", "previous": "Previous run", "as_of": "as of", "first_seen": "first found",
    "reason": "reason", "reopened_note": "Fixed before and back now (rectification did not hold): check these first.",
    "trend": "Trend over the site's runs (score and findings per severity)",
    "not_rechecked_note": "present last time, not re-checked this time (page not fetched or check not run): not counted as fixed",
    "first_run": "This is the site's first run in the store; changes show from the next run on.",
    "triaged": "Triaged findings (false positive / deferred, not scored)",
    "triaged_note": "Findings an operator marked are listed here and not scored; an expired mark scores again.",
    "mark": "mark", "note": "reason", "until": "until",
}


def history_view(report: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the HTML report's history and triage sections render (see templates/history.html)."""

    from markupsafe import Markup

    en = lang == "en"
    findings = report.get("findings") or []
    return {
        "t": HTML_TEXTS_EN if en else HTML_TEXTS_ZH,
        "status": STATUS_EN if en else STATUS_ZH,
        "order": ("new", "persisting", "reopened", "fixed", "not_rechecked"),
        "reasons": REASON_EN if en else REASON_ZH,
        "marks": MARK_EN if en else MARK_ZH,
        "reopened": [f for f in findings if (f.get("history") or {}).get("status") == "reopened"],
        "triaged": [f for f in findings if (f.get("triage") or {}).get("active")],
        # built from numbers and html.escape()d dates only: safe to embed as markup
        "svg": Markup(trend_svg(report.get("trend") or [], lang)) if len(report.get("trend") or []) > 1 else "",
    }
