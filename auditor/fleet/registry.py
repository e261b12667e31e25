"""Reading a provincial site registry (CSV or XLSX) row by row.

An office's registry is a spreadsheet someone typed: a bad row (no 网站标识码, a homepage that is not
a web address, an unknown 行政级别, a code listed twice) is reported with its row number and skipped,
and every good row is imported — one typo must not stop a 700-site inspection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor.config import PROFILES
from auditor.tables import TableFileError, read_table

# The registry's columns, in the order offices circulate them; key → the stored column.
COLUMNS: dict[str, str] = {
    "网站标识码": "site_code",
    "网站名称": "name",
    "首页地址": "homepage",
    "主办单位": "sponsor",
    "行政级别": "level",
    "上级单位": "parent",
    "地区": "region",
    "规则包": "rulepack",
    "备注": "note",
}
REQUIRED = ("网站标识码", "网站名称", "首页地址")

# 行政级别 as offices write it → the audit profile (``--profile``) that selects the required columns.
LEVELS: dict[str, str] = {
    "省级": "province", "省": "province", "省级政府": "province", "省政府": "province",
    "市级": "city", "市": "city", "地市级": "city", "地级市": "city", "市级政府": "city",
    "县级": "county", "县": "county", "区县": "county", "县区": "county", "县级政府": "county", "县（市、区）": "county",
    "乡镇": "township", "乡镇级": "township", "街道": "township",
    "部门": "department", "部门网站": "department", "省级部门": "department", "市级部门": "department",
    "县级部门": "department",
    **{p: p for p in PROFILES},
}

# 网站标识码: 10 digits, or bm + 8 digits for State Council departments (the same shape the identity check reads).
SITE_CODE = re.compile(r"^(?:\d{10}|[bB][mM]\d{8})$")


@dataclass
class RowProblem:
    """One rejected row: its number as the user sees it in the file (header = row 1)."""

    row: int
    message: str
    code: str = ""

    def __str__(self) -> str:
        return f"第 {self.row} 行：{self.message}（已跳过）"


@dataclass
class ParsedRegistry:
    sites: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class RegistryFileError(ValueError):
    """The file as a whole cannot be read (missing columns, unknown format)."""


def read_rows(path: Path) -> list[list[str]]:
    """The file's cells as text rows (header first), read by :func:`auditor.tables.read_table`."""

    try:
        rows = read_table(path)
    except TableFileError as exc:
        raise RegistryFileError(str(exc)) from exc
    return [["" if v is None else _cell_text(v) for v in row] for row in rows]


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a 网站标识码 Excel stored as a number
    return str(value)


def parse(path: Path, known_packs: set[str] | None = None) -> ParsedRegistry:
    """Validate every row; good rows become registry dicts, bad rows :class:`RowProblem`."""

    rows = read_rows(path)
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
    if not rows:
        raise RegistryFileError(f"{path.name} 是空文件")
    header = [c.strip().lstrip("\ufeff") for c in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RegistryFileError(f"{path.name} 缺少必需的列：{'、'.join(missing)}（表头应包含 {'、'.join(COLUMNS)}）")
    index = {name: header.index(name) for name in COLUMNS if name in header}
    out = ParsedRegistry()
    seen: dict[str, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {COLUMNS[name]: (cells[i].strip() if i < len(cells) else "") for name, i in index.items()}
        problem = _validate(values, known_packs)
        code = values.get("site_code", "")
        if problem is None and code.lower() in seen:
            problem = f"网站标识码 {code} 与第 {seen[code.lower()]} 行重复"
        if problem:
            out.problems.append(RowProblem(number, problem, code))
            continue
        seen[code.lower()] = number
        label = values.get("level", "")
        values["level_label"] = label
        values["level"] = LEVELS.get(label) if label else None
        values["homepage"] = _normal_homepage(values["homepage"])
        for key in ("sponsor", "parent", "region", "rulepack", "note"):
            values[key] = values.get(key) or None
        out.sites.append(values)
    return out


def _validate(values: dict[str, str], known_packs: set[str] | None) -> str | None:
    code = values.get("site_code", "")
    if not code:
        return "缺少网站标识码"
    if not SITE_CODE.match(code):
        return f"网站标识码“{code}”格式不正确（应为10位数字或 bm 加8位数字）"
    if not values.get("name"):
        return "缺少网站名称"
    url = values.get("homepage", "")
    if not url:
        return "缺少首页地址"
    if "://" not in url and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d+(?:/|$))", url):
        return f"首页地址“{url}”不是有效的 http(s) 网址"  # javascript:, mailto: … (host:port is fine)
    parts = urlsplit(url if "://" in url else "http://" + url)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        return f"首页地址“{url}”不是有效的 http(s) 网址"
    level = values.get("level", "")
    if level and level not in LEVELS:
        return f"行政级别“{level}”无法识别（可填：省级、市级、县级、乡镇、部门）"
    pack = values.get("rulepack", "")
    if pack and known_packs is not None and pack not in known_packs:
        return f"规则包“{pack}”不存在（可用：{'、'.join(sorted(known_packs))}）"
    return None


def _normal_homepage(url: str) -> str:
    """A homepage written without a scheme (``www.xx.gov.cn``) is an http address."""

    url = url if "://" in url else "http://" + url
    parts = urlsplit(url)
    return url if parts.path else url + "/"


def known_rule_packs() -> set[str]:
    """The bundled rule packs' names (``national``, ``qinghai-2021`` …), for the 规则包 column."""

    from importlib import resources

    names = set()
    for entry in resources.files("auditor").joinpath("rulepacks").iterdir():
        if entry.name.endswith(".json") and entry.name != "rulepack.schema.json":
            names.add(entry.name.removesuffix(".json"))
    return names
