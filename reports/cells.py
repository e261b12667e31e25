"""Spreadsheet cells from crawled text, for every writer of XLSX or CSV (report, 台账, roll-up).

Why one place: a page's ``ColumnName`` meta or a link text that begins with ``=`` becomes a live
formula (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``) when written as is; every sheet the project
writes must route crawled strings through :func:`spreadsheet_text`.
"""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARS = 32_000  # Excel's limit is 32,767 characters per cell


def spreadsheet_text(value: Any) -> str:
    """Text that Excel, WPS and LibreOffice show as text: a leading formula character is escaped
    with an apostrophe (the spreadsheet convention for "this is a literal")."""

    text = "" if value is None else str(value)
    text = text[:MAX_CELL_CHARS]
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
