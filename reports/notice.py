"""``notice.docx``: the 整改通知书 (remediation notice) an office sends to a site's operator.

No public template of the notice exists (``next-capabilities.md`` f.2), so it follows the
conventions of the 检查情况通报 it accompanies: a title, a 文号 left blank for the issuing office to
number, then 一、总体情况 / 二、存在的主要问题 / 三、整改要求 and an attached 问题清单 table. Written with
python-docx (``--format docx``) from the same report dict as every other writer.

The deadline is the report's ``rectification`` block: the run's as-of date plus the rule pack's
``report.rectify_working_days`` working days on the official holiday calendar
(:mod:`auditor.docmodel.workdays`), computed once in :func:`rectification_terms` so the JSON report,
the ledger and this notice give the same date.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from pathlib import Path
from typing import Any

from auditor.docmodel.workdays import WorkCalendar, caveat_for
from auditor.hookspecs import hookimpl
from auditor.model import SEVERITY_ORDER

RECTIFY_KEY = "report.rectify_working_days"
MAX_TABLE_ROWS = 3000  # python-docx tables grow slowly past a few thousand rows; the XLSX has them all
EXAMPLES_PER_ITEM = 3


def rectification_terms(pack: Any, as_of: str) -> dict[str, Any]:
    """The 整改时限 of a run: as-of + N working days (N, its source and status from the pack)."""

    n = int(pack.value(RECTIFY_KEY))
    entry = pack.entry(RECTIFY_KEY) or {}
    start = dt.date.fromisoformat(as_of)
    deadline, estimated = WorkCalendar().deadline_span(start, n)
    return {"working_days": n, "from": as_of, "deadline": deadline.isoformat(), "estimated_years": list(estimated),
            "source": entry.get("source", ""), "status": entry.get("status", "unconfirmed")}


TEXTS = {
    "zh": {
        "title": "关于{site}网站存在问题的整改通知", "number": "〔    〕    号", "to": "{site}网站主办单位：",
        "opening": "根据《政府网站与政务新媒体检查指标》（国办秘函〔2019〕19号）等有关规定，以{as_of}为评估基准日，"
                   "对你单位网站（{url}）进行了技术检测。现将检测发现的问题通知如下，请认真整改。",
        "h1": "一、总体情况", "h2": "二、存在的主要问题", "h3": "三、整改要求", "annex": "附件：问题清单",
        "overall": "本次检测共抓取页面{pages}个、检查链接目标{links}个，扣分部分得分{score}分（合格线{pass_line}分），"
                   "结论为“{verdict}”。发现问题{total}条，其中{per_severity}。",
        "vetoes": "触发单项否决项：{items}。", "no_veto": "未触发单项否决项。",
        "partial": "说明：本次检测未完整结束（{why}），结果为部分结果。",
        "changes": "与上次检查（{previous}）相比：{counts}。", "sev_count": "{name}{n}条",
        "veto_part": "（一）单项否决问题", "deduct_part": "（二）扣分问题（按指标）", "other_part": "（三）其他问题",
        "veto_item": "{i}. {name}：{n}条。", "indicator_item": "{i}. {name}：{n}条，扣{deducted}分。",
        "other_item": "{i}. {name}：{n}条。", "example": "例：{message}（{url}）", "none": "本次检测未发现问题。",
        "deadline": "请于{deadline}前（评估基准日后{n}个工作日内）完成整改，整改情况（整改措施、完成时间）书面报送。"
                    "单项否决问题应立即整改。",
        "deadline_basis": "整改时限依据：{source}（{status}）。", "estimated": "注：{caveat}",
        "require_fix": "请对照附件问题清单逐条核实、整改；属于误报的，请说明理由。",
        "require_review": "整改完成后将进行复查，整改不到位的问题将在下次检查中继续通报。",
        "cols": ("序号", "指标", "严重程度", "问题描述", "问题地址", "来源页面", "依据"),
        "truncated": "（共{total}条，此处列出前{shown}条，完整清单见 report.xlsx / report.json）",
        "generated": "由 govaudit {version} 生成 · 运行编号 {run} · {date}", "other": "其他",
        "status": {"confirmed": "已核实", "partial": "部分核实", "unconfirmed": "未核实", "local": "地方规定"},
        "severity": {"veto": "单项否决", "major": "重要", "minor": "一般", "info": "提示"},
        "change_names": {"new": "新增", "persisting": "持续", "reopened": "复现", "fixed": "已整改",
                         "not_rechecked": "未复查"},
        "sep": "，", "list_sep": "、",
    },
    "en": {
        "title": "Notice of problems to fix on the website {site}", "number": "No. [    ]", "to": "To the operator of {site}:",
        "opening": "Under the government website inspection indicators (State Council General Office, 2019) and related rules, "
                   "your website ({url}) was checked with {as_of} as the assessment date. The problems found are listed "
                   "below; please fix them.",
        "h1": "1. Overview", "h2": "2. Main problems", "h3": "3. Rectification requirements", "annex": "Annex: list of problems",
        "overall": "{pages} pages fetched and {links} link targets checked; deduction-part score {score} (pass line "
                   "{pass_line}), verdict \"{verdict}\". {total} problems found: {per_severity}.",
        "vetoes": "Single-veto items triggered: {items}.", "no_veto": "No single-veto item triggered.",
        "partial": "Note: this check did not finish ({why}); results are partial.",
        "changes": "Compared with the previous check ({previous}): {counts}.", "sev_count": "{n} {name}",
        "veto_part": "(1) Single-veto problems", "deduct_part": "(2) Deductions, by indicator", "other_part": "(3) Other problems",
        "veto_item": "{i}. {name}: {n}.", "indicator_item": "{i}. {name}: {n}, {deducted} points deducted.",
        "other_item": "{i}. {name}: {n}.", "example": "e.g. {message} ({url})", "none": "No problem found.",
        "deadline": "Fix the problems by {deadline} ({n} working days after the assessment date) and report in writing "
                    "what was done and when. Single-veto problems must be fixed at once.",
        "deadline_basis": "Deadline basis: {source} ({status}).", "estimated": "Note: {caveat}",
        "require_fix": "Check and fix every item of the annexed list; explain any item you consider a false positive.",
        "require_review": "The site will be checked again; problems not fixed will be reported again.",
        "cols": ("No.", "Indicator", "Severity", "Problem", "URL", "Source page", "Basis"),
        "truncated": "({total} in all; the first {shown} are listed; see report.xlsx / report.json)",
        "generated": "Generated by govaudit {version} · run {run} · {date}", "other": "other",
        "status": {"confirmed": "confirmed", "partial": "partly confirmed", "unconfirmed": "not confirmed", "local": "local rule"},
        "severity": {"veto": "single veto", "major": "major", "minor": "minor", "info": "info"},
        "change_names": {"new": "new", "persisting": "persisting", "reopened": "reopened", "fixed": "fixed",
                         "not_rechecked": "not rechecked"},
        "sep": ", ", "list_sep": ", ",
    },
}


def _fmt_num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def _set_east_asian_font(style: Any, name: str) -> None:
    """python-docx sets the Latin font only; Word picks CJK glyphs from ``w:eastAsia``."""

    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)


def problem_groups(report: dict[str, Any], lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Findings as the notice lists them: veto items, then indicators by points lost, then the rest."""

    en = lang == "en"
    vetoes = []
    by_id = {f["id"]: f for f in report["findings"]}
    for v in report["score"].get("veto_items", []):
        if v["state"] == "triggered":
            fs = [by_id[i] for i in v["findings"] if i in by_id]
            vetoes.append({"name": (v.get("name_en") if en else None) or v["name_zh"], "findings": fs})
    vetoed = {f["id"] for v in vetoes for f in v["findings"]}
    indicators: OrderedDict[str, dict[str, Any]] = OrderedDict()
    other: OrderedDict[str, dict[str, Any]] = OrderedDict()
    ind_info = report["score"].get("indicators", {})
    for f in report["findings"]:
        if f["id"] in vetoed or f["severity"] == "veto":
            continue
        key = f.get("indicator")
        if key and key in ind_info:
            info = ind_info[key]
            g = indicators.setdefault(key, {"name": (info.get("name_en") if en else None) or info.get("name_zh", key),
                                            "deducted": info.get("deducted", 0), "findings": []})
        else:
            g = other.setdefault(f["rule"], {"name": f.get("rule_name") or f["rule"], "findings": []})
        g["findings"].append(f)
    ordered = sorted(indicators.values(), key=lambda g: (-(g["deducted"] or 0), -len(g["findings"]), g["name"]))
    rest = sorted(other.values(), key=lambda g: (min(SEVERITY_ORDER.get(f["severity"], 9) for f in g["findings"]),
                                                 -len(g["findings"]), g["name"]))
    return vetoes, ordered, rest


class DocxNoticeWriter:
    """``--format docx`` → ``notice.docx`` (整改通知书)."""

    name = "docx"

    def write(self, report: dict[str, Any], out_dir: Path) -> Path:
        import docx
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        lang = "en" if report.get("lang") == "en" else "zh"
        t = TEXTS[lang]
        site = report["site"]
        score = report["score"]
        stats, cov = report.get("stats") or {}, report.get("coverage") or {}
        name = site.get("name") or site["host"]

        d = docx.Document()
        normal = d.styles["Normal"]
        normal.font.size = Pt(12)
        _set_east_asian_font(normal, "仿宋")
        for level in (0, 1, 2):
            _set_east_asian_font(d.styles["Title" if level == 0 else f"Heading {level}"], "黑体")

        title = d.add_heading(t["title"].format(site=name), level=0)
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        number = d.add_paragraph(t["number"])
        number.alignment = WD_ALIGN_PARAGRAPH.CENTER
        d.add_paragraph(t["to"].format(site=name))
        d.add_paragraph(t["opening"].format(as_of=report["as_of"], url=site["url"]))

        # 一、总体情况
        d.add_heading(t["h1"], level=1)
        per_sev = (stats.get("findings_per_severity") or {})
        sev_text = t["list_sep"].join(
            t["sev_count"].format(name=t["severity"].get(s, s), n=n)
            for s, n in sorted(per_sev.items(), key=lambda kv: SEVERITY_ORDER.get(kv[0], 9))) or "0"
        d.add_paragraph(t["overall"].format(
            pages=cov.get("pages_fetched", stats.get("pages", 0)), links=cov.get("link_targets", 0),
            score=_fmt_num(score["score"]), pass_line=_fmt_num(score["pass_line"]),
            verdict=score.get("verdict_en" if lang == "en" else "verdict_zh", ""), total=len(report["findings"]),
            per_severity=sev_text))
        hit = [v for v in score.get("veto_items", []) if v["state"] == "triggered"]
        if hit:
            d.add_paragraph(t["vetoes"].format(items=t["list_sep"].join(
                ((v.get("name_en") if lang == "en" else None) or v["name_zh"]) for v in hit)))
        else:
            d.add_paragraph(t["no_veto"])
        if report.get("status") not in (None, "complete"):
            why = t["list_sep"].join([report["status"], *cov.get("limited_by", [])])
            d.add_paragraph(t["partial"].format(why=why))
        changes = report.get("changes")
        if isinstance(changes, dict) and changes.get("previous_run"):
            counts = changes.get("counts") or {}
            text = t["list_sep"].join(f"{t['change_names'].get(k, k)} {n}" for k, n in counts.items()
                                      if isinstance(n, int))
            d.add_paragraph(t["changes"].format(previous=changes["previous_run"], counts=text or "—"))

        # 二、存在的主要问题
        d.add_heading(t["h2"], level=1)
        vetoes, indicators, other = problem_groups(report, lang)
        if not report["findings"]:
            d.add_paragraph(t["none"])
        for part, groups, item in (("veto_part", vetoes, "veto_item"), ("deduct_part", indicators, "indicator_item"),
                                   ("other_part", other, "other_item")):
            if not groups:
                continue
            d.add_heading(t[part], level=2)
            for i, g in enumerate(groups, 1):
                d.add_paragraph(t[item].format(i=i, name=g["name"], n=len(g["findings"]),
                                               deducted=_fmt_num(g.get("deducted", 0))))
                for f in g["findings"][:EXAMPLES_PER_ITEM]:
                    d.add_paragraph(t["example"].format(message=f["message"], url=f.get("url") or "—"),
                                    style="List Bullet")

        # 三、整改要求
        d.add_heading(t["h3"], level=1)
        rect = report.get("rectification")
        if rect:
            d.add_paragraph(t["deadline"].format(deadline=rect["deadline"], n=rect["working_days"]))
            d.add_paragraph(t["deadline_basis"].format(source=rect.get("source", ""),
                                                       status=t["status"].get(rect.get("status", ""), rect.get("status", ""))))
            caveat = caveat_for(rect.get("estimated_years") or [])
            if caveat:
                d.add_paragraph(t["estimated"].format(caveat=caveat[lang]))
        d.add_paragraph(t["require_fix"])
        d.add_paragraph(t["require_review"])

        # 附件 问题清单
        d.add_page_break()
        d.add_heading(t["annex"], level=1)
        rows = report["findings"][:MAX_TABLE_ROWS]
        table = d.add_table(rows=1, cols=len(t["cols"]))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, t["cols"], strict=True):
            cell.text = text
        for i, f in enumerate(rows, 1):
            basis = f.get("basis") or {}
            cells = table.add_row().cells
            values = (str(i), f.get("indicator_name") or f.get("rule_name") or f["rule"],
                      t["severity"].get(f["severity"], f["severity"]), f["message"], f.get("url") or "",
                      f.get("source_url") or "",
                      ((basis.get("en") if lang == "en" else None) or basis.get("zh") or "") + (
                          f"（{basis['source']}）" if basis.get("source") and lang != "en" else
                          (f" ({basis['source']})" if basis.get("source") else "")))
            for cell, text in zip(cells, values, strict=True):
                cell.text = _docx_text(text)
        if len(report["findings"]) > len(rows):
            d.add_paragraph(t["truncated"].format(total=len(report["findings"]), shown=len(rows)))
        d.add_paragraph(t["generated"].format(version=report["tool"]["version"], run=report.get("run_id", ""),
                                              date=report.get("finished_at", "")))
        path = out_dir / "notice.docx"
        tmp = out_dir / "notice.docx.tmp"
        d.save(str(tmp))
        tmp.replace(path)
        return path


def _docx_text(text: str) -> str:
    """XML 1.0 forbids most control characters; crawled text can carry them (python-docx raises)."""

    return "".join(ch for ch in str(text) if ch in "\t\n\r" or ord(ch) >= 0x20)


@hookimpl
def govaudit_report_writers() -> list[Any]:
    return [DocxNoticeWriter()]
