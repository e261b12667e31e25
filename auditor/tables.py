"""Tables offices hand us: a CSV (UTF-8 with or without BOM, or GB18030 as Excel on a Chinese
Windows saves it) or the first sheet of an XLSX. One reader for the site registry of a fleet run,
the 政务新媒体 备案 registry and platform exports of posts, so every one of them accepts the same
files and says the same thing about a file it cannot read."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class TableFileError(ValueError):
    """The file as a whole cannot be read as a table (format, encoding, a broken workbook)."""


def read_table(path: Path) -> list[list[Any]]:
    """Every row, header first: XLSX cells as openpyxl gives them (numbers stay numbers, empty is
    None), CSV cells as text."""

    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
            raise TableFileError(f"无法读取 Excel 文件 {path.name}：{exc}") from exc
        try:
            return [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    if suffix in (".csv", ".txt", ""):
        raw = path.read_bytes()
        for encoding in CSV_ENCODINGS:
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any byte string
            raise TableFileError(f"{path.name} 不是 UTF-8 或 GB18030 编码的 CSV")
        return list(csv.reader(io.StringIO(text)))
    raise TableFileError(f"不支持的表格格式 {path.suffix}：请使用 CSV 或 XLSX")


def read_records(path: Path) -> list[dict[str, Any]]:
    """The rows after the header as ``{header: cell}``; rows with no value at all are left out."""

    rows = read_table(path)
    if not rows:
        return []
    head = [str(h or "").strip() for h in rows[0]]
    return [dict(zip(head, r, strict=False)) for r in rows[1:]
            if any(c is not None and str(c).strip() for c in r)]
