"""Chinese date parsing shared by every check that reads dates off government pages.

Government sites write the same day in many ways: ``2023年5月29日``, ``2023-05-29``,
``2023/5/29``, ``2023.05.29``, full-width ``２０２３－０５－２９``, and in formal documents
Chinese numerals ``二〇二三年五月二十九日``. URLs carry dates too (``…/t20230104_123.html``,
``/2023-01/04/``). One parser keeps every check (document model, freshness, lists) reading
them the same way, so a date is never "found" by one rule and "missing" for another.

Everything here is pure and deterministic: no clock, no locale.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

__all__ = [
    "normalize",
    "parse_date",
    "find_dates",
    "date_from_url",
    "add_years",
    "chinese_number",
]

# Years outside this window are page noise (phone numbers, index numbers), not dates.
MIN_YEAR = 1949
MAX_YEAR = 2100

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20  # ideographic space
_FULLWIDTH[0x2212] = ord("-")  # minus sign typed for a hyphen


def normalize(text: str) -> str:
    """Map full-width ASCII (digits, letters, punctuation) and the ideographic space to ASCII.

    The mapping is one character to one character, so offsets into the normalised text are
    offsets into the original: spans returned by :func:`find_dates` point at the source.
    """

    return text.translate(_FULLWIDTH)


_CN_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "o": 0, "0": 0,
    "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4, "肆": 4,
    "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}
_CN_UNITS = {"十": 10, "拾": 10, "廿": 20, "卅": 30}
_CN_CHARS = "〇○零一壹二贰两三叁四肆五伍六陆七柒八捌九玖十拾廿卅"


def chinese_number(s: str) -> int | None:
    """Value of a small Chinese numeral: ``二十九`` → 29, ``十二`` → 12, ``廿三`` → 23.

    Digit-by-digit forms (``二〇二三`` → 2023) are read as positional digits. Returns None
    for anything that is not a well-formed numeral below 100 or a digit string.
    """

    s = s.strip()
    if not s:
        return None
    if s.isdigit() and s.isascii():
        return int(s)
    if not any(ch in _CN_UNITS for ch in s):
        # positional digits (years are written this way: 二〇二三)
        value = 0
        for ch in s:
            if ch not in _CN_DIGITS:
                return None
            value = value * 10 + _CN_DIGITS[ch]
        return value
    # 十, 十二, 二十, 二十九, 廿三, 卅一
    m = re.fullmatch(rf"([{''.join(k for k in _CN_DIGITS if not k.isascii())}]?)([十拾廿卅])([{''.join(k for k in _CN_DIGITS if not k.isascii())}]?)", s)
    if not m:
        return None
    tens_digit, unit, ones = m.groups()
    base = _CN_UNITS[unit]
    if unit in "十拾":
        base = 10 * (_CN_DIGITS[tens_digit] if tens_digit else 1)
    elif tens_digit:
        return None  # 二廿 is not a number
    if tens_digit and _CN_DIGITS[tens_digit] == 0:
        return None
    return base + (_CN_DIGITS[ones] if ones else 0)


def _make(y: int, m: int, d: int) -> dt.date | None:
    if not (MIN_YEAR <= y <= MAX_YEAR):
        return None
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


_CN = f"[{_CN_CHARS}]"
# Arabic digits, with 年月日 (spaces tolerated: "2023 年 5 月 29 日").
_RE_YMD_CN = re.compile(r"(?<![0-9])(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|号)?(?![0-9])")
# 2023-05-29, 2023/5/29, 2023.05.29, 2023_05_29 — the two separators must agree.
# Not glued to more numbers (index numbers, versions, IPs) — but "2023-01-01-2023-12-31" ranges are.
_RE_YMD_SEP = re.compile(r"(?<![0-9])(\d{4})([-/._])(\d{1,2})\2(\d{1,2})(?![0-9])(?![./_-]\d(?!\d{3})(?!\d?:))")
# Chinese-numeral dates: 二〇二三年五月二十九日 (日 required: 五月 alone is a month).
_RE_YMD_HAN = re.compile(rf"({_CN}{{4}})\s*年\s*({_CN}{{1,3}})\s*月\s*({_CN}{{1,3}})\s*日")
# Compact 20230529 only where clearly delimited (URLs, file names); opt-in in find_dates.
_RE_COMPACT = re.compile(r"(?<![0-9])((?:19|20)\d{2})(\d{2})(\d{2})(?![0-9])")
# Year-less forms for list pages when the caller knows the year: 05-29, 5月29日.
_RE_MD_SEP = re.compile(r"(?<![0-9./-])(\d{1,2})([-/.])(\d{1,2})(?![0-9])(?![./-]\d)")
_RE_MD_CN = re.compile(r"(?<![0-9年])(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|号)(?![0-9])")


def find_dates(text: str, *, compact: bool = False, year_hint: int | None = None
               ) -> list[tuple[dt.date, tuple[int, int]]]:
    """Every date written in ``text``, in order of position, as ``(date, (start, end))``.

    Spans index into the original ``text`` (full-width forms included). Impossible dates
    (2023-02-30, month 13) and years outside 1949–2100 are skipped rather than guessed.
    ``compact=True`` also reads ``20230529`` (use it on URLs and file names, not prose,
    where eight digits are usually an index number). With ``year_hint`` the year-less
    ``05-29`` / ``5月29日`` of list pages count too, in that year.
    """

    if not text:
        return []
    norm = normalize(text)
    found: list[tuple[dt.date, tuple[int, int]]] = []
    taken: list[tuple[int, int]] = []

    def overlaps(a: int, b: int) -> bool:
        return any(a < e and s < b for s, e in taken)

    def add(d: dt.date | None, a: int, b: int) -> None:
        if d is not None and not overlaps(a, b):
            found.append((d, (a, b)))
            taken.append((a, b))

    for m in _RE_YMD_CN.finditer(norm):
        add(_make(int(m[1]), int(m[2]), int(m[3])), m.start(), m.end())
    for m in _RE_YMD_SEP.finditer(norm):
        a = m.start()
        if a >= 2 and norm[a - 1] in "./_-" and norm[a - 2].isdigit() and not any(e == a - 1 for _, e in taken):
            continue  # tail of a longer number such as 11440300/2023-00123-2023…
        add(_make(int(m[1]), int(m[3]), int(m[4])), m.start(), m.end())
    for m in _RE_YMD_HAN.finditer(norm):
        y, mo, d = (chinese_number(g) for g in m.groups())
        if y is not None and mo is not None and d is not None and y >= 1000:
            add(_make(y, mo, d), m.start(), m.end())
    if compact:
        for m in _RE_COMPACT.finditer(norm):
            add(_make(int(m[1]), int(m[2]), int(m[3])), m.start(), m.end())
    if year_hint is not None:
        for m in _RE_MD_CN.finditer(norm):
            add(_make(year_hint, int(m[1]), int(m[2])), m.start(), m.end())
        for m in _RE_MD_SEP.finditer(norm):
            add(_make(year_hint, int(m[1]), int(m[3])), m.start(), m.end())
    found.sort(key=lambda item: item[1][0])
    return found


def parse_date(text: str | None, *, compact: bool = False, year_hint: int | None = None) -> dt.date | None:
    """The first date written in ``text``, or None when there is none (unknown, not false)."""

    if not text:
        return None
    hits = find_dates(text, compact=compact, year_hint=year_hint)
    return hits[0][0] if hits else None


# URL forms: /t20230104_123.html, /20230104/, /2023-01/04/, /2023/01/04/, /202301/04/, _20230104
_RE_URL_T = re.compile(r"[/_]t((?:19|20)\d{2})(\d{2})(\d{2})_")
_RE_URL_DIRS = re.compile(r"/((?:19|20)\d{2})(?:[-/](\d{1,2})|(\d{2}))/(\d{1,2})/")
_RE_URL_YM_DIR = re.compile(r"/((?:19|20)\d{2})-?(\d{2})/")


def date_from_url(url: str) -> dt.date | None:
    """The publication date a CMS encodes in a URL, or None.

    TRS-style ``t20230104_…`` names and ``/2023-01/04/``, ``/2023/01/04/`` or ``/art/2023/1/4/`` folders are
    publication dates on most government CMSs; a bare ``/202301/`` folder gives only the
    month and so no date. Compact eight-digit runs elsewhere in the path are read last.
    """

    if not url:
        return None
    path = url.split("?", 1)[0].split("#", 1)[0]
    for m in _RE_URL_T.finditer(path):
        d = _make(int(m[1]), int(m[2]), int(m[3]))
        if d:
            return d
    for m in _RE_URL_DIRS.finditer(path):
        d = _make(int(m[1]), int(m[2] or m[3]), int(m[4]))
        if d:
            return d
    # the last path segment only: content_20230104_123.html, 20230104.html
    last = path.rsplit("/", 1)[-1]
    for m in _RE_COMPACT.finditer(last):
        d = _make(int(m[1]), int(m[2]), int(m[3]))
        if d:
            return d
    return None


def url_month(url: str) -> tuple[int, int] | None:
    """(year, month) from a ``/202301/`` or ``/2023-01/`` folder, for sanity checks only."""

    for m in _RE_URL_YM_DIR.finditer(url.split("?", 1)[0]):
        y, mo = int(m[1]), int(m[2])
        if MIN_YEAR <= y <= MAX_YEAR and 1 <= mo <= 12:
            return y, mo
    return None


def add_years(d: dt.date, years: int) -> dt.date:
    """``d`` plus whole years; 29 February lands on 28 February in a common year.

    Used for "自2023年1月1日起施行，有效期5年": the period ends the day before the
    anniversary (see documents.py), computed from this.
    """

    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def latest(dates: Iterable[dt.date | None]) -> dt.date | None:
    """The latest of the known dates, None if none is known."""

    known = [d for d in dates if d is not None]
    return max(known) if known else None
