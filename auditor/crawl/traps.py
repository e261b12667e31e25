"""Crawler traps: URL families that never end — calendars, endless pagination, session ids in
URLs, query strings that grow on every click — caught per URL *pattern* with a budget each.

A calendar widget linking "next month" forever took 93 % of an audit's page fetches and produced
no finding. Each candidate page URL is put in a family (:func:`trap_pattern`): its host, its path
with numbers replaced, its sorted query keys, and what makes it a trap candidate; a family gets
``crawl.trap_budgets[kind]`` pages (rule-pack data), the rest are skipped with reason ``trap``,
the run is ``partial`` with ``trap`` in ``limited_by``, a ``crawl.trap`` record says which family
was cut, and the crawl goes on with everything else. Only URLs with a trap marker are counted:
``/art/2024/5/12/art_1_2.html`` article pages are never a family to cut.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

KINDS = ("calendar", "pagination", "session", "growing")
_SESSION_KEY = re.compile(r"^(jsessionid|phpsessid|aspsessionid\w*|sid|sessionid|session_id|sessid|sess|cfid|cftoken|s_id)$",
                          re.I)
_SESSION_PATH = re.compile(r";(jsessionid|phpsessid|sid)=[^/?#]*", re.I)
_DATE_KEY = re.compile(r"^(year|yyyy|yr|month|mon|mm|day|dd|date|ymd|ym|cal(endar)?_?date|d|y|m|week|time|start_?date)$", re.I)
_DATE_VALUE = re.compile(r"^(19|20|21)\d\d([-/.]?(0?[1-9]|1[0-2])([-/.]?(0?[1-9]|[12]\d|3[01]))?)?$")
_PAGE_KEY = re.compile(r"^(page|p|pg|pageno|page_no|pagenum|pagenumber|pn|pageindex|page_index|currentpage|curpage|cur_page|"
                       r"start|offset|pagesize_?index|index)$", re.I)
_PAGE_PATH = re.compile(r"(/page/\d+/?$|/(index|list|default)[_-]\d+\.s?html?$)", re.I)  # not t20240512_1.html
_DATE_PATH_TAIL = re.compile(r"/(19|20|21)\d\d([-/](0?[1-9]|1[0-2]))([-/](0?[1-9]|[12]\d|3[01]))?/?$")
_DIGITS = re.compile(r"\d+")


def _shape(path: str) -> str:
    return _DIGITS.sub("N", path)


def trap_pattern(url: str) -> tuple[str, str] | None:
    """``(kind, pattern)`` of a URL that belongs to a potentially endless family, else None."""

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    params = parse_qsl(parts.query, keep_blank_values=True)
    keys = [k for k, _ in params]
    if _SESSION_PATH.search(path) or any(_SESSION_KEY.match(k) for k in keys):
        # one family per page: the same page under ever new session ids
        clean = _SESSION_PATH.sub("", path)
        rest = "&".join(f"{k}={v}" for k, v in params if not _SESSION_KEY.match(k))
        return "session", f"{host}{clean}?{rest}"
    segments = [s for s in path.split("/") if s]
    seg_counts = Counter(segments)
    key_counts = Counter(keys)
    if (key_counts and max(key_counts.values()) >= 3) or (seg_counts and max(seg_counts.values()) >= 3) or len(parts.query) > 512:
        return "growing", f"{host}/{_shape('/'.join(dict.fromkeys(segments)))}?{'&'.join(sorted(set(keys)))}"
    key_set = "&".join(sorted(set(keys)))
    if any(_DATE_KEY.match(k) and _DATE_VALUE.match(v.strip()) for k, v in params) or _DATE_PATH_TAIL.search(path):
        base = _DATE_PATH_TAIL.sub("/", path)
        return "calendar", f"{host}{_shape(base)}?{key_set}"
    if any(_PAGE_KEY.match(k) and v.strip().isdigit() for k, v in params) or _PAGE_PATH.search(path):
        return "pagination", f"{host}{_shape(path)}?{key_set}"
    return None


@dataclass
class TrapFamily:
    kind: str
    pattern: str
    budget: int
    admitted: int = 0
    refused: int = 0
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "pattern": self.pattern, "budget": self.budget, "admitted": self.admitted,
                "refused": self.refused, "examples": self.examples}


class TrapGuard:
    """Counts candidate page URLs per family and refuses those past the family's budget."""

    def __init__(self, budgets: dict[str, int]):
        self.budgets = {k: int(v) for k, v in budgets.items()}
        self.families: dict[tuple[str, str], TrapFamily] = {}

    def admit(self, url: str) -> bool:
        found = trap_pattern(url)
        if found is None:
            return True
        kind, pattern = found
        budget = self.budgets.get(kind)
        if budget is None:
            return True
        fam = self.families.get(found)
        if fam is None:
            fam = self.families[found] = TrapFamily(kind, pattern, budget)
        if fam.admitted < budget:
            fam.admitted += 1
            return True
        fam.refused += 1
        if len(fam.examples) < 5:
            fam.examples.append(url)
        return False

    def budgeted(self, url: str) -> bool:
        """Whether ``url`` belongs to a family with a budget (read-only, counts nothing): such
        URLs are never fetched ahead (:mod:`auditor.crawl.frontier`) — the barrier may cut them,
        and a fetch the budget exists to save would be spent anyway."""

        found = trap_pattern(url)
        return found is not None and found[0] in self.budgets

    def tripped(self) -> list[TrapFamily]:
        """The families that were cut, most refused first."""

        return sorted((f for f in self.families.values() if f.refused), key=lambda f: (-f.refused, f.pattern))
