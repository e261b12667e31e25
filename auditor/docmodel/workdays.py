"""Working-day arithmetic on the official Chinese holiday calendar.

Deadlines in the disclosure rules are counted in 工作日: 20 working days from creation to
publication (条例第二十六条), an interpretation within N working days of its document (local
packs), a consultation result within N working days. A working day is what the State Council's
yearly holiday notice says it is: public holidays are off, and 调休 weekends (Saturdays or
Sundays declared working days to bridge a holiday) are on. That calendar comes from the
maintained ``chinese_calendar`` package, not a hand-made table.

The package only knows the years for which a notice has been published. For a date outside
them this module falls back to "Monday to Friday" and records the year, so a finding can say
plainly that its working-day count is an approximation (:attr:`WorkCalendar.caveat`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar

__all__ = ["WorkCalendar", "WorkdaySpan", "known_years"]


@lru_cache(maxsize=1)
def known_years() -> tuple[int, int]:
    """First and last year the installed calendar has official data for."""

    days = list(chinese_calendar.constants.holidays) + list(chinese_calendar.constants.workdays)
    return min(days).year, max(days).year


@lru_cache(maxsize=4096)
def _official(day: dt.date) -> bool | None:
    """True/False from the official calendar, None when the year is not covered."""

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True, slots=True)
class WorkdaySpan:
    """How many working days lie after ``start`` up to and including ``end``.

    ``estimated_years`` lists years counted as weekends-only because the official calendar has
    no data for them; empty means the count is exact.
    """

    start: dt.date
    end: dt.date
    days: int
    estimated_years: tuple[int, ...] = ()

    @property
    def exact(self) -> bool:
        return not self.estimated_years


@dataclass
class WorkCalendar:
    """Working days per the official calendar, remembering every year it had to estimate."""

    estimated_years: set[int] = field(default_factory=set)

    def is_workday(self, day: dt.date) -> bool:
        official = _official(day)
        if official is None:
            self.estimated_years.add(day.year)
            return day.weekday() < 5
        return official

    def span(self, start: dt.date, end: dt.date) -> WorkdaySpan:
        """Working days in (start, end]; negative when ``end`` is before ``start``."""

        sign = 1
        a, b = start, end
        if b < a:
            a, b, sign = b, a, -1
        before = set(self.estimated_years)
        count = 0
        day = a + dt.timedelta(days=1)
        years: set[int] = set()
        while day <= b:
            if _official(day) is None:
                years.add(day.year)
            if self.is_workday(day):
                count += 1
            day += dt.timedelta(days=1)
        self.estimated_years = before | years
        return WorkdaySpan(start, end, sign * count, tuple(sorted(years)))

    def add(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``n == 0`` → ``start`` itself).

        A deadline of "within n working days of D" ends at the end of ``add(D, n)``: a page
        published on the Saturday after that Friday is late even though Saturday is no
        working day.
        """

        if n <= 0:
            return start
        day = start
        left = n
        while left:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def deadline_span(self, start: dt.date, n: int) -> tuple[dt.date, tuple[int, ...]]:
        """``add(start, n)`` and the years estimated while computing it."""

        first, last = known_years()
        end = self.add(start, n)
        years = tuple(y for y in range(start.year, end.year + 1) if y < first or y > last)
        return end, years

    @property
    def caveat(self) -> dict[str, str] | None:
        """Evidence text for findings when some years were counted weekends-only."""

        if not self.estimated_years:
            return None
        years = "、".join(str(y) for y in sorted(self.estimated_years))
        first, last = known_years()
        return {
            "zh": f"{years}年不在节假日历数据范围（{first}–{last}年）内，工作日按周一至周五估算，未计入法定节假日和调休。",
            "en": f"{years.replace('、', ', ')} outside the holiday calendar data ({first}–{last}); working days estimated "
                  "as Monday–Friday without public holidays or adjusted working weekends.",
        }


def caveat_for(years: tuple[int, ...] | list[int]) -> dict[str, str] | None:
    """The same caveat text for an explicit list of estimated years (one finding's own)."""

    cal = WorkCalendar(set(years))
    return cal.caveat
