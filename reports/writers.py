"""Built-in report writers: ``report.json`` (schema-validated) and ``report.html`` (self-contained).

Registered through the ``govaudit`` entry points like any third-party writer. Crawled text is
untrusted: the HTML report escapes everything (Jinja2 autoescape), only puts http(s) URLs in
``href``, and carries a Content-Security-Policy that forbids scripts and remote loads.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import jinja2
import jsonschema

from auditor.hookspecs import hookimpl
from auditor.model import SEVERITY_ORDER
from auditor.reports.base import ReportWriter, report_schema
from auditor.reports.cells import spreadsheet_text
from auditor.reports.history import history_view

SEVERITY_ZH = {"veto": "单项否决", "major": "重要", "minor": "一般", "info": "提示"}
SEVERITY_EN = {"veto": "single veto", "major": "major", "minor": "minor", "info": "info"}
STATUS_ZH = {"confirmed": "已核实", "partial": "部分核实", "unconfirmed": "未核实", "local": "地方规定"}
STATUS_EN = {"confirmed": "confirmed", "partial": "partly confirmed", "unconfirmed": "not confirmed", "local": "local rule"}
RUN_STATUS_ZH = {"complete": "完整", "partial": "部分完成", "interrupted": "中断", "failed": "失败", "running": "进行中"}
RUN_STATUS_EN = {"complete": "complete", "partial": "partial", "interrupted": "interrupted", "failed": "failed",
                 "running": "running"}
SITE_TZ = "Asia/Shanghai"  # the sites audited are Chinese government sites: their time zone, not the server's


def local_time(iso: Any) -> str:
    """An ISO timestamp shown in the site's time zone (``2026-12-01 20:13:23 (UTC+08:00)``)."""

    import datetime as dt
    from zoneinfo import ZoneInfo

    if not isinstance(iso, str) or not iso:
        return ""
    try:
        t = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(ZoneInfo(SITE_TZ)).strftime("%Y-%m-%d %H:%M:%S (UTC+08:00)")


class JsonWriter:
    name = "json"

    def write(self, report: dict[str, Any], out_dir: Path) -> Path:
        jsonschema.Draft202012Validator(report_schema()).validate(report)
        path = out_dir / "report.json"
        tmp = path.with_suffix(".json.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=1, default=str)
        tmp.replace(path)
        return path


def safe_href(url: Any) -> str:
    """Only http(s) URLs become links; anything else (javascript:, data:) is rendered inert."""

    if not isinstance(url, str):
        return "#"
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # a malformed href reported as links.malformed: shown, never a link
        return "#"
    return url if scheme in ("http", "https") else "#"


def display_url(url: Any) -> str:
    """A URL as a person reads it: percent-escapes decoded (``/%E6%94%BF`` → ``/政``) and an IDN
    host shown in Unicode. Display only — the ``href`` keeps the URL exactly as crawled. Escapes that
    are not UTF-8 text, and decoded control characters or spaces, leave the URL as it was."""

    if not isinstance(url, str) or "%" not in url and "xn--" not in url:
        return url if isinstance(url, str) else ""
    try:
        parts = urlsplit(url)
        host = parts.netloc
        if "xn--" in host:
            hostname = parts.hostname or ""
            host = host.replace(hostname, hostname.encode("ascii").decode("idna"))
        decoded = [unquote(x, errors="strict") for x in (parts.path, parts.query, parts.fragment)]
    except (UnicodeError, ValueError):
        return url
    if any(ch.isspace() or ord(ch) < 0x20 or ch in "\x7f" for x in decoded for ch in x):
        return url
    return urlunsplit((parts.scheme, host, *decoded))


UNITS = {  # metric unit → how it reads after the number, per language ("ratio" is shown as a percentage)
    "zh": {"页": " 页", "条": " 条", "个": " 个", "s": " 秒", "ms": " 毫秒", "days": " 天"},
    "en": {"页": " pages", "条": " items", "个": "", "s": " s", "ms": " ms", "days": " days"},
}


def figure(value: Any, unit: str, lang: str) -> str:
    """A site figure as a number with its unit: None → "—" (not measured), ratios as percentages."""

    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if unit == "ratio" and isinstance(value, (int, float)):
        return f"{value * 100:.1f}%".replace(".0%", "%")
    if isinstance(value, float):
        value = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value}{UNITS['en' if lang == 'en' else 'zh'].get(unit, (' ' + unit) if unit else '')}"


def indicator_chart(report: dict[str, Any], lang: str, width: int = 640) -> dict[str, Any]:
    """Bars of the findings per indicator (and per rule for findings outside the deduction part),
    for an inline SVG: the report stays one file with no script and no network."""

    en = lang == "en"
    counts: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for f in report["findings"]:
        key = f.get("indicator") or f["rule"]
        label = f.get("indicator_name") or f.get("rule_name") or f["rule"]
        bar = counts.setdefault(key, {"label": label, "count": 0, "veto": False, "deducted": 0.0})
        bar["count"] += 1
        bar["veto"] = bar["veto"] or f["severity"] == "veto"
        bar["deducted"] += f.get("deduction") or 0.0
    bars = sorted(counts.values(), key=lambda b: (not b["veto"], -b["deducted"], -b["count"], b["label"]))[:25]
    top = max((b["count"] for b in bars), default=1)
    label_w, row_h = 220, 22
    for i, b in enumerate(bars):
        b["y"] = i * row_h
        b["w"] = max(2, round((width - label_w - 60) * b["count"] / top))
        b["label_short"] = b["label"] if len(b["label"]) <= 16 else b["label"][:15] + "…"
    return {"bars": bars, "width": width, "label_w": label_w, "row_h": row_h, "height": max(1, len(bars)) * row_h + 4,
            "title": "Findings per indicator" if en else "各指标问题数"}


_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg);base64,[A-Za-z0-9+/]+={0,2}")
MAX_DATA_IMAGE = 200_000  # characters; the a11y probe's shots are ~2–15 kB, so this only stops abuse


def safe_data_image(src: Any) -> str:
    """Only a base64 PNG/JPEG ``data:`` URI becomes an ``<img src>`` (the CSP allows ``img-src data:``
    and nothing else); anything else — a URL, ``data:image/svg+xml``, a huge blob — is dropped."""

    if isinstance(src, str) and len(src) <= MAX_DATA_IMAGE and _DATA_IMAGE.fullmatch(src):
        return src
    return ""


# Labels of the readable accessibility / 适老化 evidence (kept apart from _texts: other report parts).
A11Y_TEXTS_ZH = {
    "rule": "检测规则", "help": "规则说明", "result": "结果", "violation": "不符合", "needs_review": "需人工复核",
    "advice": "建议（最佳实践，不扣分）", "impact": "影响程度", "wcag": "WCAG 成功准则", "no_wcag": "—（最佳实践，无对应成功准则）",
    "clause_unconfirmed": "对应条款未核实", "scope": "范围", "site_wide": "同一元素出现在 {n} 个页面（页面见下表）",
    "on_page": "本页 {n} 处", "also_site": "；另有 {n} 处见全站重复项", "selector": "选择器", "html": "元素 HTML 片段",
    "summary": "失败说明", "screenshot": "截图", "shot_alt": "问题元素截图", "more_nodes": "处未在此列出，完整清单见 report.json",
}
A11Y_TEXTS_EN = {
    "rule": "Rule", "help": "rule help", "result": "Result", "violation": "fails", "needs_review": "needs a manual check",
    "advice": "advice (best practice, not scored)", "impact": "impact", "wcag": "WCAG criterion",
    "no_wcag": "— (best practice, no success criterion)", "clause_unconfirmed": "clause not confirmed", "scope": "Scope",
    "site_wide": "the same element on {n} pages (listed below)", "on_page": "{n} on this page",
    "also_site": "; {n} more in site-wide findings", "selector": "Selector", "html": "Element HTML", "summary": "Failure summary",
    "screenshot": "Screenshot", "shot_alt": "screenshot of the element", "more_nodes": "more in report.json",
}


@cache
def _environment() -> jinja2.Environment:
    """One Jinja environment per process: it keeps the compiled report template (≈0.7 s to compile),
    which a fleet's forkserver compiles once for every forked audit (:func:`warm_templates`)."""

    loader = jinja2.FunctionLoader(
        lambda name: resources.files("auditor.reports").joinpath(f"templates/{name}").read_text("utf-8")
    )
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["href"] = safe_href
    env.filters["data_img"] = safe_data_image
    env.filters["show_url"] = display_url
    return env


def warm_templates() -> None:
    _environment().get_template("report.html")


class HtmlWriter:
    name = "html"
    MAX_PAGES_LISTED = 200
    MAX_FINDINGS_PER_RULE = 500  # the HTML stays readable on a 100k-page site; JSON/XLSX have them all
    COLLAPSE_PAGES_AFTER = 10  # longer page lists start folded (<details>)

    def __init__(self) -> None:
        self.env = _environment()

    def write(self, report: dict[str, Any], out_dir: Path) -> Path:
        path = out_dir / "report.html"
        path.write_text(self.render(report), encoding="utf-8")
        return path

    def render(self, report: dict[str, Any]) -> str:
        """The report page (also what :mod:`auditor.reports.pdf` prints)."""

        lang = report.get("lang", "zh")
        groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
        live = [f for f in report["findings"] if not (f.get("triage") or {}).get("active")]  # triaged: shown apart
        for f in live:
            g = groups.setdefault(
                f["rule"],
                {"rule": f["rule"], "name": f.get("rule_name", f["rule"]), "severity": f["severity"], "basis": f["basis"],
                 "remediation": f["remediation"], "findings": [], "deduction": 0.0},
            )
            g["findings"].append(f)
            g["deduction"] += f.get("deduction") or 0.0
        # the same order as the findings: vetoes, then what costs the most points, then severity
        ordered = sorted(groups.values(), key=lambda g: (g["severity"] != "veto", -g["deduction"],
                                                         SEVERITY_ORDER.get(g["severity"], 9), g["rule"]))
        html = self.env.get_template("report.html").render(
            r=report,
            lang=lang,
            groups=ordered,
            fix_first=_fix_first,
            sev=SEVERITY_EN if lang == "en" else SEVERITY_ZH,
            status_names=STATUS_ZH if lang != "en" else STATUS_EN,
            t=_texts(lang),
            max_pages=self.MAX_PAGES_LISTED,
            max_findings=self.MAX_FINDINGS_PER_RULE,
            pages_of=_pages_of,
            evidence_json=lambda ev: json.dumps(_trim(ev), ensure_ascii=False, indent=1, default=str),
            ta=A11Y_TEXTS_EN if lang == "en" else A11Y_TEXTS_ZH,
            live=live,
            h=history_view(report, lang),
            figure=lambda value, unit: figure(value, unit, lang),
            chart=indicator_chart(report, lang),
            local_time=local_time,
            run_status=(RUN_STATUS_EN if lang == "en" else RUN_STATUS_ZH),
            collapse_after=self.COLLAPSE_PAGES_AFTER,
        )
        return html


def _fix_first(findings: list[dict[str, Any]], limit: int = 15) -> list[dict[str, Any]]:
    """先改这些: single-veto findings, then the findings that cost points, most costly first."""

    return [f for f in findings if f["severity"] == "veto" or f.get("deduction")][:limit]


def _pages_of(evidence: dict[str, Any]) -> list[Any]:
    """The pages a finding involves, if its evidence lists them (``sources`` or ``pages``)."""

    for key in ("sources", "pages"):
        value = evidence.get(key)
        if isinstance(value, list):
            return value
    return []


def _trim(evidence: dict[str, Any]) -> dict[str, Any]:
    """Evidence for display: long lists shortened (the full lists are in report.json)."""

    out = {}
    for k, v in evidence.items():
        if k in ("sources", "pages") and isinstance(v, list):
            continue  # shown as the pages table
        out[k] = v[:20] + [f"… {len(v) - 20} more"] if isinstance(v, list) and len(v) > 20 else v
    return out


def _texts(lang: str) -> dict[str, str]:
    zh = {
        "title": "政府网站合规自查报告", "site": "网站", "as_of": "评估基准日", "run": "运行编号", "status": "状态",
        "score": "扣分部分得分", "verdict": "结论", "veto": "单项否决项", "none": "无", "findings": "问题清单",
        "rule": "规则", "count": "数量", "basis": "依据", "remediation": "整改建议", "pages": "涉及页面",
        "source": "来源页面", "evidence": "证据", "coverage": "覆盖范围", "metrics": "站点指标", "target": "目标",
        "indicator": "指标", "points": "分值", "deducted": "扣分", "errors": "运行错误（不影响其他检查）",
        "pack": "规则包", "partial_note": "本次审计未完整结束（预算用尽或被中断），结果为部分结果：",
        "anchor": "锚文本", "region": "位置", "more": "更多页面见 report.json", "severity": "严重程度",
        "pages_fetched": "抓取页面", "link_targets": "检查链接目标", "skipped": "跳过", "generated": "由 govaudit 生成",
        "status_of_basis": "依据核实状态", "more_findings": "条同类问题未在此列出，完整清单见 report.xlsx / report.json",
        "pass_line": "合格线", "why_score": "得分说明", "fix_first": "先改这些", "message": "问题", "veto_short": "否决",
        "state": "判定", "state_triggered": "触发", "state_clear": "未触发", "state_undecided": "无法判定（数据不足）",
        "state_not_checked": "未自动检查（需人工核查）", "deduction_part": "扣分部分（100分）",
        "not_checked_block": "本工具尚不能自动检查，按满分计", "not_run": "本次未检查", "capped": "封顶，应扣", "no_deduction": "不扣分", "value": "取值",
        "interrupted_note": "审计被中断，证据不完整，结论无法判定（可用 --resume 继续）：",
    }
    en = {
        "title": "Government website compliance self-check", "site": "Site", "as_of": "Assessment date", "run": "Run",
        "status": "Status", "score": "Deduction-part score", "verdict": "Verdict", "veto": "Single-veto items",
        "none": "none", "findings": "Findings", "rule": "Rule", "count": "Count", "basis": "Basis",
        "remediation": "Remediation", "pages": "Pages involved", "source": "Source page", "evidence": "Evidence",
        "coverage": "Coverage", "metrics": "Site figures", "target": "Target", "indicator": "Indicator",
        "points": "Points", "deducted": "Deducted", "errors": "Run errors (other checks unaffected)", "pack": "Rule pack",
        "partial_note": "This audit did not finish (budget exhausted or interrupted); results are partial:",
        "anchor": "Anchor", "region": "Region", "more": "more pages in report.json", "severity": "Severity",
        "pages_fetched": "Pages fetched", "link_targets": "Link targets checked", "skipped": "Skipped",
        "generated": "Generated by govaudit", "status_of_basis": "basis status",
        "more_findings": "more findings of this rule are not listed here; see report.xlsx / report.json",
        "pass_line": "pass line", "why_score": "Why this score", "fix_first": "Fix these first", "message": "Problem",
        "veto_short": "veto", "state": "State", "state_triggered": "triggered", "state_clear": "not triggered",
        "state_undecided": "undecided (not enough data)", "state_not_checked": "not checked by machine (check by hand)",
        "deduction_part": "Deduction part (100 points)", "not_checked_block": "not machine-checkable yet, full points kept",
        "not_run": "not checked this run", "capped": "capped, due", "no_deduction": "no deduction", "value": "Value",
        "interrupted_note": "the audit was interrupted: the evidence is incomplete and no verdict is given (continue with --resume):",
    }
    return en if lang == "en" else zh




class XlsxWriter:
    """``report.xlsx``: one row per finding, for offices that circulate 整改 lists as spreadsheets."""

    name = "xlsx"
    HEADERS_ZH = ("编号", "规则", "规则名称", "严重程度", "扣分", "指标", "问题地址", "来源页面", "栏目", "问题描述", "依据",
                  "依据核实状态", "整改建议", "涉及页面数")
    HEADERS_EN = ("id", "rule", "rule name", "severity", "deduction", "indicator", "url", "source page", "column", "message",
                  "basis", "basis status", "remediation", "pages")

    def write(self, report: dict[str, Any], out_dir: Path) -> Path:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        en = report.get("lang") == "en"
        sev = SEVERITY_EN if en else SEVERITY_ZH
        wb = Workbook(write_only=False)
        ws = wb.active
        ws.title = "findings" if en else "问题清单"
        ws.append(_cells(self.HEADERS_EN if en else self.HEADERS_ZH))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for f in report["findings"]:
            basis = f.get("basis") or {}
            ws.append(_cells([
                f["id"], f["rule"], f.get("rule_name", ""), sev.get(f["severity"], f["severity"]), f.get("deduction") or 0.0,
                f.get("indicator_name") or f.get("indicator") or "", f.get("url") or "", f.get("source_url") or "",
                f.get("column") or "", f["message"],
                f"{(basis.get('en') if en else None) or basis.get('zh', '')} ({basis.get('source', '')})",
                basis.get("status", "") if en else STATUS_ZH.get(basis.get("status", ""), basis.get("status", "")),
                f.get("remediation", ""), len(_pages_of(f.get("evidence") or {})),
            ]))
        summary = wb.create_sheet("summary" if en else "概况")
        score = report["score"]
        for row in (
            ("site" if en else "网站", report["site"]["url"]),
            ("as of" if en else "评估基准日", report["as_of"]),
            ("status" if en else "状态", report.get("status", "")),
            ("verdict" if en else "结论", score["verdict_en"] if en else score["verdict_zh"]),
            ("score" if en else "扣分部分得分", score["score"]),
            ("pass line" if en else "合格线", score["pass_line"]),
            ("single veto" if en else "单项否决", ", ".join(
                v["name_en"] if en else v["name_zh"] for v in score.get("veto_items", []) if v["state"] == "triggered") or ("none" if en else "无")),
            ("rule pack" if en else "规则包", f"{(report.get('rule_pack') or {}).get('id', '')} {(report.get('rule_pack') or {}).get('version', '')}"),
            ("run" if en else "运行编号", report.get("run_id", "")),
            ("status" if en else "状态", report.get("status", "")),
            ("limited by" if en else "抓取受限", spreadsheet_text(report.get("limits_note") or "-")),
        ):
            summary.append(_cells(row))
        for line in score.get("explanation_en" if en else "explanation_zh", []):
            summary.append(_cells(["", line]))
        if report.get("newmedia"):
            _newmedia_sheet(wb, report["newmedia"], en, Font)
        path = out_dir / "report.xlsx"
        wb.save(path)
        return path


NEWMEDIA_HEADERS_ZH = ("账号名称", "平台", "主办单位", "账号ID", "备案状态", "网站展示", "已备案", "最近发文", "距基准日天数",
                       "窗口内发文", "判定", "否决", "问题")
NEWMEDIA_HEADERS_EN = ("account", "platform", "owner", "account id", "registry status", "on site", "in registry", "last post",
                       "days since", "posts in window", "state", "veto", "findings")


def _newmedia_sheet(wb: Any, nm: dict[str, Any], en: bool, font: Any) -> None:
    """The 政务新媒体 sheet: one row per account (every crawled or filed string through spreadsheet_text)."""

    ws = wb.create_sheet("new media" if en else "政务新媒体")
    ws.append(NEWMEDIA_HEADERS_EN if en else NEWMEDIA_HEADERS_ZH)
    for cell in ws[1]:
        cell.font = font(bold=True)
    for a in nm["accounts"]:
        ws.append(_cells([a["name"], a["platform"] or "", a["owner"], a.get("account_id", ""), a.get("status", ""),
                          bool(a.get("on_site")), bool(a.get("in_registry")), a["last_post"] or "", a.get("days_since"),
                          a["posts_in_window"], a["state"], bool(a.get("veto")),
                          "\n".join(f["message"] for f in a["findings"])]))


def _cells(values: Any) -> list[Any]:
    """One sheet row: every string through :func:`spreadsheet_text` (crawled text, rule names and
    summary lines alike — one rule for every cell is the only one that cannot be forgotten for a
    new column); numbers stay numbers."""

    return [v if v is None or isinstance(v, int | float) else spreadsheet_text(v) for v in values]


@hookimpl
def govaudit_report_writers() -> list[ReportWriter]:
    return [JsonWriter(), HtmlWriter(), XlsxWriter()]
