"""The 整改台账 (``ledger.xlsx``): the rectification ledger as offices keep it, and reading it back.

One row per finding — veto rows first — with the columns a 政务公开 office circulates (序号, 网站标识码,
网站名称, 指标大类, 是否单项否决, 扣分, 问题描述, 问题地址, 来源页面, 栏目, 依据, 整改建议, 首次发现, 状态,
责任单位, 整改时限, 整改情况), then 问题编号 (the stable finding id, so an edited ledger can be read
back) and 备注 (误报/暂缓 marks). The previous run's fixed findings follow as 已整改. Every crawled
string goes through :func:`auditor.reports.cells.spreadsheet_text`: no cell is ever a formula, and
only http(s) URLs become hyperlinks.

:func:`read_ledger` reads an edited ledger back (``govaudit ledger import``): 责任单位, 整改时限, 整改情况
and a 误报 / 暂缓 mark written in 状态 or 备注, by 问题编号.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor.hookspecs import hookimpl
from auditor.reports.base import ReportWriter
from auditor.reports.cells import spreadsheet_text

HEADERS_ZH = ("序号", "网站标识码", "网站名称", "指标大类", "是否单项否决", "扣分", "问题描述", "问题地址", "来源页面", "栏目",
              "依据", "整改建议", "首次发现", "状态", "责任单位", "整改时限", "整改情况", "问题编号", "备注")
HEADERS_EN = ("no.", "site code", "site name", "indicator", "single veto", "deduction", "problem", "problem URL",
              "source page", "column", "basis", "remediation", "first found", "status", "responsible unit", "deadline",
              "progress", "finding id", "note")
WIDTHS = (6, 14, 20, 16, 10, 8, 50, 45, 40, 16, 40, 40, 12, 10, 16, 14, 30, 18, 16)
LEDGER_STATUS_ZH = {"new": "新增", "persisting": "持续", "reopened": "复现", "fixed": "已整改"}
LEDGER_STATUS_EN = {"new": "new", "persisting": "persisting", "reopened": "reopened", "fixed": "fixed"}
MARK_ZH = {"false_positive": "误报", "deferred": "暂缓"}
MARK_EN = {"false_positive": "false positive", "deferred": "deferred"}
# what an office writes for a mark, in 状态 or 备注 (Chinese or English)
_FALSE_POSITIVE = re.compile(r"误报|误判|false[\s_-]*positive", re.I)
_DEFERRED = re.compile(r"暂缓|豁免|defer", re.I)
_ID = re.compile(r"^[0-9a-f]{16}$")


def _link(cell: Any, url: Any) -> None:
    """Make ``cell`` a hyperlink to ``url`` when it is an http(s) URL (never javascript:, file:…)."""

    from openpyxl.styles import Font

    if isinstance(url, str) and urlsplit(url).scheme.lower() in ("http", "https"):
        cell.hyperlink = url
        cell.font = Font(color="0563C1", underline="single")  # not the named style: it would drop the wrapping


class LedgerWriter:
    """``ledger.xlsx``: the 整改台账 (format name ``ledger``)."""

    name = "ledger"

    def write(self, report: dict[str, Any], out_dir: Path) -> Path:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        en = report.get("lang") == "en"
        status_names = LEDGER_STATUS_EN if en else LEDGER_STATUS_ZH
        marks = MARK_EN if en else MARK_ZH
        yes, no = ("yes", "no") if en else ("是", "否")
        site = report.get("site") or {}
        code = site.get("site_code") or ""
        name = site.get("name") or site.get("host") or ""
        wb = Workbook()
        ws = wb.active
        ws.title = "ledger" if en else "整改台账"
        ws.append(list(HEADERS_EN if en else HEADERS_ZH))
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        rows: list[tuple[dict[str, Any], str]] = []
        findings = sorted(report.get("findings") or [], key=lambda f: f.get("severity") != "veto")  # stable: veto first
        for f in findings:
            rows.append((f, (f.get("history") or {}).get("status") or "new"))
        for f in (report.get("changes") or {}).get("fixed") or []:
            rows.append((f, "fixed"))
        # a triaged or fixed finding is not scored, so it carries no indicator: take its rule's from a scored one
        indicator = {f["rule"]: f["indicator_name"] for f in findings if f.get("indicator_name")}
        wrap = Alignment(wrap_text=True, vertical="top")
        for i, (f, status) in enumerate(rows, start=1):
            basis = f.get("basis") or {}
            t = f.get("triage") or {}
            mark = marks.get(t.get("mark") or "", "") if t.get("active") else ""
            note = "；".join(x for x in (mark, t.get("note") or "") if x)
            first = (f.get("history") or {}).get("first_seen") or f.get("first_seen") or report.get("as_of")
            values = [
                i, spreadsheet_text(code), spreadsheet_text(name),
                spreadsheet_text(f.get("indicator_name") or indicator.get(f.get("rule") or "") or f.get("rule_name")
                                 or f.get("rule") or ""),
                yes if f.get("severity") == "veto" else no,
                (f.get("deduction") or 0.0) if status != "fixed" else 0.0,
                spreadsheet_text(f.get("message") or ""), spreadsheet_text(f.get("url") or ""),
                spreadsheet_text(f.get("source_url") or ""), spreadsheet_text(f.get("column") or ""),
                spreadsheet_text(f"{basis.get('zh', '')}（{basis.get('source', '')}）" if basis else ""),
                spreadsheet_text(f.get("remediation") or ""), spreadsheet_text(first or ""),
                status_names.get(status, status),
                spreadsheet_text(t.get("responsible") or ""), spreadsheet_text(t.get("deadline") or ""),
                spreadsheet_text(t.get("progress") or ""), spreadsheet_text(f.get("id") or ""), spreadsheet_text(note),
            ]
            ws.append(values)
            r = ws.max_row
            for cell in ws[r]:
                cell.alignment = wrap
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, whatever it looks like (a leading = was escaped already)
            _link(ws.cell(row=r, column=8), f.get("url"))
            _link(ws.cell(row=r, column=9), f.get("source_url"))
        for idx, width in enumerate(WIDTHS, start=1):
            ws.column_dimensions[get_column_letter(idx)].width = width
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(WIDTHS))}{max(1, ws.max_row)}"
        info = wb.create_sheet("about" if en else "说明")
        for row in (("run" if en else "运行编号", report.get("run_id", "")), ("site" if en else "网站", site.get("host", "")),
                    ("url" if en else "首页", site.get("url", "")), ("as of" if en else "评估基准日", report.get("as_of", "")),
                    ("previous run" if en else "上次运行", (report.get("changes") or {}).get("previous_run") or "")):
            info.append([row[0], spreadsheet_text(row[1])])
        info.column_dimensions["A"].width = 14
        info.column_dimensions["B"].width = 60
        path = out_dir / "ledger.xlsx"
        wb.save(path)
        return path


@dataclass
class LedgerRow:
    """What an office wrote back on one row of a ledger."""

    finding_id: str
    responsible: str | None
    deadline: str | None
    progress: str | None
    mark: str | None  # false_positive | deferred | None
    note: str | None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if text.startswith("'"):
        text = text[1:]
    return text or None


def read_ledger(path: str | Path) -> tuple[dict[str, str], list[LedgerRow]]:
    """The ledger's 说明 sheet (run id, site) and its rows with a finding id, as written back.

    Columns are found by their header (Chinese or English), so an office may reorder or add columns."""

    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(rows, [])]
        col: dict[str, int] = {}
        for key, names in {"id": ("问题编号", "finding id"), "status": ("状态", "status"), "responsible": ("责任单位", "responsible unit"),
                           "deadline": ("整改时限", "deadline"), "progress": ("整改情况", "progress"), "note": ("备注", "note")}.items():
            for i, h in enumerate(header):
                if h in names:
                    col[key] = i
                    break
        if "id" not in col:
            raise ValueError("台账缺少“问题编号”列 / the ledger has no finding id column (问题编号)")
        out: list[LedgerRow] = []
        for values in rows:
            def get(key: str, values: tuple[Any, ...] = values) -> str | None:
                i = col.get(key)
                return _text(values[i]) if i is not None and i < len(values) else None

            fid = (get("id") or "").lower()
            if not _ID.match(fid):
                continue
            status, note = get("status") or "", get("note") or ""
            mark = None
            for text in (status, note):
                if _FALSE_POSITIVE.search(text):
                    mark = "false_positive"
                    break
                if _DEFERRED.search(text):
                    mark = "deferred"
                    break
            out.append(LedgerRow(fid, get("responsible"), get("deadline"), get("progress"), mark, note or None))
        about: dict[str, str] = {}
        if len(wb.worksheets) > 1:
            for values in wb.worksheets[1].iter_rows(values_only=True):
                if values and len(values) >= 2 and values[0]:
                    about[str(values[0])] = _text(values[1]) or ""
        return about, out
    finally:
        wb.close()


@hookimpl
def govaudit_report_writers() -> list[ReportWriter]:
    return [LedgerWriter()]
