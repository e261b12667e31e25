"""Pins the shared Chinese date parser: every form government pages use, and the noise it must ignore."""

from __future__ import annotations

import datetime as dt

import pytest

from auditor.docmodel.dates import add_years, chinese_number, date_from_url, find_dates, normalize, parse_date

D = dt.date(2023, 5, 29)


@pytest.mark.parametrize("text", [
    "2023年5月29日", "2023年05月29日", "2023 年 5 月 29 日", "２０２３年５月２９日",
    "2023-05-29", "2023-5-29", "2023/5/29", "2023/05/29", "2023.05.29", "2023.5.29",
    "２０２３－０５－２９", "2023-05-29 10:31:02", "发布时间：2023-05-29 10:31",
    "二〇二三年五月二十九日", "二○二三年五月二十九日", "二零二三年五月二十九日",
    "【发布日期：2023年5月29日】", "[2023-05-29]", "(2023/05/29)", "2023年5月29号",
    "2023-05-29-10:20:30", "2023年5月29日 星期一", "<time>2023-5-29</time>",
])
def test_forms(text: str) -> None:
    assert parse_date(text) == D


@pytest.mark.parametrize("text", [
    "", "2023年5月", "2023-02-30", "2023-13-01", "浏览次数：20230529", "索引号：11440300/2023-00123",
    "电话：0755-2345-6789", "版本 2023.05.29.1", "1023年5月29日", "五月二十九日",
])
def test_not_dates(text: str) -> None:
    assert parse_date(text) is None


def test_find_dates_spans_point_into_original() -> None:
    text = "成文日期：２０２３年１月４日　发布日期：2023-01-10"
    hits = find_dates(text)
    assert [d for d, _ in hits] == [dt.date(2023, 1, 4), dt.date(2023, 1, 10)]
    (a, b) = hits[0][1]
    assert text[a:b] == "２０２３年１月４日"
    assert text[hits[1][1][0]:hits[1][1][1]] == "2023-01-10"


def test_ranges() -> None:
    assert [d for d, _ in find_dates("有效期：2023-01-01-2025-12-31")] == [dt.date(2023, 1, 1), dt.date(2025, 12, 31)]
    assert [d for d, _ in find_dates("2023.01.01—2025.12.31")] == [dt.date(2023, 1, 1), dt.date(2025, 12, 31)]
    assert [d for d, _ in find_dates("自2023年1月1日起至2025年12月31日止")] == [dt.date(2023, 1, 1), dt.date(2025, 12, 31)]


def test_compact_and_year_hint_are_opt_in() -> None:
    assert parse_date("doc_20230529.pdf") is None
    assert parse_date("doc_20230529.pdf", compact=True) == D
    assert parse_date("关于…的通知 05-29") is None
    assert parse_date("关于…的通知 05-29", year_hint=2023) == D
    assert parse_date("5月29日 召开会议", year_hint=2023) == D


def test_chinese_number() -> None:
    assert chinese_number("二十九") == 29
    assert chinese_number("十") == 10
    assert chinese_number("十二") == 12
    assert chinese_number("廿三") == 23
    assert chinese_number("卅一") == 31
    assert chinese_number("二〇二三") == 2023
    assert chinese_number("二廿") is None
    assert chinese_number("abc") is None


def test_url_dates() -> None:
    assert date_from_url("http://www.x.gov.cn/zwgk/202301/t20230104_123456.html") == dt.date(2023, 1, 4)
    assert date_from_url("http://www.x.gov.cn/content/2023-01/04/content_99.htm") == dt.date(2023, 1, 4)
    assert date_from_url("http://www.x.gov.cn/art/2023/1/4/art_12_345.html") == dt.date(2023, 1, 4)
    assert date_from_url("http://www.x.gov.cn/art/2023/01/04/art_12_345.html") == dt.date(2023, 1, 4)
    assert date_from_url("http://www.x.gov.cn/zwgk/202301/") is None
    assert date_from_url("http://www.x.gov.cn/a/b.html?id=20230104") is None
    assert date_from_url("http://www.x.gov.cn/a/20230231_1.html") is None


def test_normalize_is_length_preserving() -> None:
    s = "发文字号：示政发〔２０２３〕５号（试行）"
    assert len(normalize(s)) == len(s)
    assert "2023" in normalize(s)


def test_add_years_leap_day() -> None:
    assert add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert add_years(dt.date(2023, 1, 1), 5) == dt.date(2028, 1, 1)
