"""Built-in report writers: ``report.json`` (schema-validated) and ``report.html`` (self-contained).

Registered through the ``govaudit`` entry points like any third-party writer. Crawled text is
untrusted: the HTML report escapes everything (Jinja2 autoescape), only puts http(s) URLs in
``href``, and carries a Content-Security-Policy that forbids scripts and remote loads.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import jsonschema

from auditor.hookspecs import hookimpl
from auditor.model import SEVERITY_ORDER
from auditor.reports.base import ReportWriter, report_schema
from auditor.reports.cells import spreadsheet_text

SEVERITY_ZH = {"veto": "单项否决", "major": "重要", "minor": "一般", "info": "提示"}
SEVERITY_EN = {"veto": "single veto", "major": "major", "minor": "minor", "info": "info"}
STATUS_ZH = {"confirmed": "已核实", "partial": "部分核实", "unconfirmed": "未核实", "local": "地方规定"}


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


class HtmlWriter:
    name = "html"
    MAX_PAGES_LISTED = 200
    MAX_FINDINGS_PER_RULE = 500  # the HTML stays readable on a 100k-page site; JSON/XLSX have them all

    def __init__(self) -> None:
        loader = jinja2.FunctionLoader(
            lambda name: resources.files("auditor.reports").joinpath(f"templates/{name}").read_text("utf-8")
        )
        self.env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
        self.env.filters["href"] = safe_href
        self.env.filters["data_img"] = safe_data_image

    def write(self, report: dict[str, Any], out_dir: Path) -> Path:
        lang = report.get("lang", "zh")
        groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
        for f in report["findings"]:
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
            status_names=STATUS_ZH if lang != "en" else {},
            t=_texts(lang),
            max_pages=self.MAX_PAGES_LISTED,
            max_findings=self.MAX_FINDINGS_PER_RULE,
            pages_of=_pages_of,
            evidence_json=lambda ev: json.dumps(_trim(ev), ensure_ascii=False, indent=1, default=str),
            ta=A11Y_TEXTS_EN if lang == "en" else A11Y_TEXTS_ZH,
        )
        path = out_dir / "report.html"
        path.write_text(html, encoding="utf-8")
        return path


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
        "not_checked_block": "本工具尚不能自动检查，按满分计", "not_run": "本次未检查", "capped": "封顶，应扣",
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
        "not_run": "not checked this run", "capped": "capped, due",
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
        ws.append(self.HEADERS_EN if en else self.HEADERS_ZH)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for f in report["findings"]:
            basis = f.get("basis") or {}
            ws.append([
                f["id"], f["rule"], f.get("rule_name", ""), sev.get(f["severity"], f["severity"]), f.get("deduction") or 0.0,
                spreadsheet_text(f.get("indicator_name") or f.get("indicator") or ""), spreadsheet_text(f.get("url") or ""),
                spreadsheet_text(f.get("source_url") or ""), spreadsheet_text(f.get("column") or ""), spreadsheet_text(f["message"]),
                spreadsheet_text(f"{basis.get('zh', '')} ({basis.get('source', '')})"),
                basis.get("status", "") if en else STATUS_ZH.get(basis.get("status", ""), basis.get("status", "")),
                spreadsheet_text(f.get("remediation", "")), len(_pages_of(f.get("evidence") or {})),
            ])
        summary = wb.create_sheet("summary" if en else "概况")
        score = report["score"]
        for row in (
            ("site" if en else "网站", report["site"]["url"]),
            ("as of" if en else "评估基准日", report["as_of"]),
            ("verdict" if en else "结论", score["verdict_en"] if en else score["verdict_zh"]),
            ("score" if en else "扣分部分得分", score["score"]),
            ("pass line" if en else "合格线", score["pass_line"]),
            ("single veto" if en else "单项否决", ", ".join(
                v["name_en"] if en else v["name_zh"] for v in score.get("veto_items", []) if v["state"] == "triggered") or "-"),
            ("rule pack" if en else "规则包", f"{(report.get('rule_pack') or {}).get('id', '')} {(report.get('rule_pack') or {}).get('version', '')}"),
            ("run" if en else "运行编号", report.get("run_id", "")),
        ):
            summary.append(list(row))
        for line in score.get("explanation_en" if en else "explanation_zh", []):
            summary.append(["", spreadsheet_text(line)])
        path = out_dir / "report.xlsx"
        wb.save(path)
        return path


@hookimpl
def govaudit_report_writers() -> list[ReportWriter]:
    return [JsonWriter(), HtmlWriter(), XlsxWriter()]
