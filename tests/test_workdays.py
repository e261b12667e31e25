"""Working days follow the State Council holiday notices (holidays off, 调休 weekends on)."""

from __future__ import annotations

import datetime as dt

from auditor.docmodel.workdays import WorkCalendar, caveat_for, known_years

D = dt.date


def test_national_day_2024_holidays_and_make_up_saturday() -> None:
    cal = WorkCalendar()
    assert not cal.is_workday(D(2024, 10, 3))        # 国庆 holiday, a Thursday
    assert cal.is_workday(D(2024, 9, 29))            # Sunday made a working day (调休)
    assert cal.is_workday(D(2024, 10, 12))           # Saturday made a working day (调休)
    # Mon 30 Sep → Tue 8 Oct: 8 calendar days, but only 1 working day (8 Oct) after 30 Sep.
    assert cal.span(D(2024, 9, 30), D(2024, 10, 8)).days == 1
    # 3 working days after Mon 30 Sep is Thu 10 Oct, not Thu 3 Oct.
    assert cal.add(D(2024, 9, 30), 3) == D(2024, 10, 10)
    assert cal.caveat is None


def test_national_day_and_mid_autumn_2025() -> None:
    cal = WorkCalendar()
    assert not cal.is_workday(D(2025, 10, 8))        # 中秋 joined to 国庆 in 2025
    assert cal.is_workday(D(2025, 9, 28))            # Sunday 调休
    assert cal.is_workday(D(2025, 10, 11))           # Saturday 调休
    assert cal.add(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert cal.span(D(2025, 9, 26), D(2025, 10, 11)).days == 6  # 28,29,30 Sep + 9,10,11 Oct


def test_spring_festival_2025_twenty_working_days() -> None:
    cal = WorkCalendar()
    # 20 working days from 20 Jan 2025 cross 春节 (28 Jan – 4 Feb off, 26 Jan and 8 Feb on).
    end = cal.add(D(2025, 1, 20), 20)
    assert end == D(2025, 2, 21)
    assert cal.span(D(2025, 1, 20), end).days == 20
    # A plain weekday count would have ended on 17 Feb.
    assert end > D(2025, 2, 17)


def test_negative_span_and_zero() -> None:
    cal = WorkCalendar()
    assert cal.span(D(2024, 10, 10), D(2024, 9, 30)).days == -3
    assert cal.add(D(2024, 5, 6), 0) == D(2024, 5, 6)
    assert cal.span(D(2024, 5, 6), D(2024, 5, 6)).days == 0


def test_outside_known_years_falls_back_and_says_so() -> None:
    first, last = known_years()
    year = last + 3
    cal = WorkCalendar()
    # 1 October of an unknown year is treated as an ordinary day: Monday–Friday rule.
    day = D(year, 10, 1)
    assert cal.is_workday(day) == (day.weekday() < 5)
    span = cal.span(D(year, 9, 30), D(year, 10, 31))
    assert span.estimated_years == (year,)
    assert not span.exact
    caveat = cal.caveat
    assert caveat is not None and str(year) in caveat["zh"] and "估算" in caveat["zh"]
    assert str(year) in caveat["en"]
    assert caveat_for([year]) == caveat
    assert caveat_for([]) is None
    assert first <= 2024 <= last


def test_deadline_span_reports_estimated_years() -> None:
    _, last = known_years()
    end, years = WorkCalendar().deadline_span(D(last, 12, 20), 20)
    assert end.year == last + 1
    assert years == (last + 1,)
