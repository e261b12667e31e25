"""文号 (document numbers) found in titles, metadata tables and prose, and compared across pages.

Forms seen on government sites: 示政发〔2023〕5号, 示政发[2023]5号, 示政发（2023）5号,
示政发(2023)第5号, 示政发【2023】5号, "示政发 〔 2023 〕 5 号" and — as cleanup notices print them —
without 号: 岚综管综〔2015〕207. Without 号 the number must end the token (punctuation, a bracket,
a space or the end), so "方案（2023）5个" is not a 文号.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.docmodel.dates import normalize

_OPEN = "〔[［(（【{｛"
_CLOSE = "〕]］)）】}｝"
_DOCNO = re.compile(
    rf"(?P<org>[\u4e00-\u9fa5A-Za-z]{{1,12}}?)\s*[{re.escape(_OPEN)}]\s*(?P<year>(?:19|20)\d{{2}})\s*[{re.escape(_CLOSE)}]"
    r"\s*第?\s*(?P<num>\d{1,5})(?:\s*号|(?=[\s)）\]】〕》”\"'，,。；;、:：/|]|\.(?!\d)|$))"
)
# Words that precede a number in prose but are not part of the issuing organ's prefix.
_DOCNO_LEAD = re.compile(r"^.*?(?:根据|按照|依据|依照|参照|执行|印发|转发|贯彻|落实|结合|关于|的|和|及|与|见|号|即|为|是)")


@dataclass(frozen=True, slots=True)
class DocNumber:
    org: str
    year: int
    num: int

    def __str__(self) -> str:
        return f"{self.org}〔{self.year}〕{self.num}号"


def _clean_org(org: str) -> str:
    if len(org) > 2:
        stripped = _DOCNO_LEAD.sub("", org)
        if len(stripped) >= 1:
            org = stripped
    return org[-10:]


def find_doc_numbers(text: str) -> list[tuple[DocNumber, tuple[int, int]]]:
    """Every 文号 in ``text`` with its span, bracket variants and full-width digits included."""

    out = []
    norm = normalize(text or "")
    for m in _DOCNO.finditer(norm):
        org = _clean_org(m["org"])
        out.append((DocNumber(org, int(m["year"]), int(m["num"])), m.span()))
    return out


def parse_doc_number(text: str | None) -> DocNumber | None:
    hits = find_doc_numbers(text or "")
    return hits[0][0] if hits else None


def same_doc_number(a: str | DocNumber | None, b: str | DocNumber | None) -> bool:
    """Same document number, tolerant of bracket style and of a prose prefix on one side."""

    da = a if isinstance(a, DocNumber) or a is None else parse_doc_number(a)
    db = b if isinstance(b, DocNumber) or b is None else parse_doc_number(b)
    if da is None or db is None:
        return False
    if (da.year, da.num) != (db.year, db.num):
        return False
    short, long_ = sorted((da.org, db.org), key=len)
    return len(short) >= 2 and long_.endswith(short) or da.org == db.org
