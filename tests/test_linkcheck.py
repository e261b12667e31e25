"""The link verdict table (``auditor.linkjudge.judge``): ok, dead or unverifiable, and why."""

from __future__ import annotations

import pytest

from auditor.linkjudge import Outcome, judge
from auditor.model import Verdict

HOME = "http://www.x.gov.cn/"


def _cal(**kw: object) -> dict[str, Outcome]:
    base = {"status": 404, "final_url": "http://www.x.gov.cn/govaudit-rand.html"}
    base.update(kw)
    return {"www.x.gov.cn": Outcome(**base)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "outcome, verdict, reason",
    [
        (Outcome(status=200), Verdict.OK, None),
        (Outcome(status=404), Verdict.DEAD, "http_status"),
        (Outcome(status=410), Verdict.DEAD, "http_status"),
        (Outcome(status=503, attempts=3), Verdict.DEAD, "http_status"),
        (Outcome(error_kind="dns", error="NXDOMAIN"), Verdict.DEAD, "dns"),
        (Outcome(error_kind="refused"), Verdict.DEAD, "refused"),
        (Outcome(error_kind="reset"), Verdict.DEAD, "refused"),
        (Outcome(error_kind="timeout"), Verdict.DEAD, "timeout"),
        (Outcome(error_kind="tls"), Verdict.DEAD, "tls"),
        (Outcome(status=403), Verdict.UNVERIFIABLE, "bot_wall"),
        (Outcome(status=429, attempts=3), Verdict.UNVERIFIABLE, "rate_limited"),
        (Outcome(status=401), Verdict.UNVERIFIABLE, "login_wall"),
        (Outcome(error_kind="robots"), Verdict.UNVERIFIABLE, "robots"),
        (Outcome(status=200, error_like=True), Verdict.DEAD, "soft_404"),
        (Outcome(status=200, redirects=["http://www.x.gov.cn/404.html"], final_url="http://www.x.gov.cn/404.html"),
         Verdict.DEAD, "soft_404"),
        (Outcome(status=200, redirects=["http://www.x.gov.cn/login.jsp?r=1"], final_url="http://www.x.gov.cn/login.jsp?r=1"),
         Verdict.UNVERIFIABLE, "login_wall"),
    ],
)
def test_verdicts(outcome: Outcome, verdict: Verdict, reason: str | None) -> None:
    result = judge("http://www.x.gov.cn/a/b.html", outcome, _cal(), HOME, True)
    assert (result.verdict, result.reason) == (verdict, reason)


def test_matches_the_sites_own_error_page() -> None:
    cal = _cal(status=200, fingerprint="F", body_hash="B1")
    page = Outcome(status=200, fingerprint="F", body_hash="B2", final_url="http://www.x.gov.cn/a/b.html")
    assert judge("http://www.x.gov.cn/a/b.html", page, cal, HOME, True).reason == "soft_404"
    other = Outcome(status=200, fingerprint="G", body_hash="B3")
    assert judge("http://www.x.gov.cn/a/c.html", other, cal, HOME, True).verdict == Verdict.OK


def test_catch_all_host_is_unverifiable_not_dead() -> None:
    cal = _cal(status=200, fingerprint="F", body_hash="SAME")
    page = Outcome(status=200, fingerprint="F", body_hash="SAME")
    result = judge("http://www.x.gov.cn/app/route", page, cal, HOME, True)
    assert (result.verdict, result.reason) == (Verdict.UNVERIFIABLE, "catch_all")


def test_error_page_that_is_the_homepage() -> None:
    home = Outcome(status=200, fingerprint="H", body_hash="HB", final_url=HOME)
    cal = _cal(status=200, fingerprint="H", body_hash="HB", final_url=HOME, redirects=[HOME])
    redirected_home = Outcome(status=200, fingerprint="H", body_hash="HB", final_url=HOME, redirects=[HOME])
    assert judge(HOME, home, cal, HOME, True).verdict == Verdict.OK
    assert judge("http://www.x.gov.cn/index.html", redirected_home, cal, HOME, True).verdict == Verdict.OK
    gone = judge("http://www.x.gov.cn/old/page.html", redirected_home, cal, HOME, True)
    assert (gone.verdict, gone.reason) == (Verdict.DEAD, "soft_404")


def test_not_checked_is_never_dead() -> None:
    assert judge("http://www.x.gov.cn/a", None, {}, HOME, True).verdict == Verdict.UNVERIFIABLE


@pytest.mark.parametrize(
    "title, text, error",
    [
        ("404 Not Found", "nginx", True),
        ("页面不存在", "抱歉，您访问的页面不存在。", True),
        ("测试县人民政府", "您访问的页面不存在或已被删除", True),
        ("第404期 政务简报", "简报正文", False),  # a number, not an error
        ("关于不存在违规情况的说明", "经核查，不存在违规情况。", False),
        ("测试县人民政府", "正文" * 2000, False),
    ],
)
def test_error_page_wording(title: str, text: str, error: bool) -> None:
    from auditor.crawl.extract import looks_like_error_page

    assert looks_like_error_page(title, text) is error


def test_status_policy_is_pack_data() -> None:
    """ok/dead/unverifiable for answers the old table called dead: a 3xx the crawl could not
    follow (no Location), a bare 1xx, a status a local pack accepts; and the malformed href."""

    from auditor.linkjudge import LinkPolicy
    from auditor.rulepacks import load_pack

    national = LinkPolicy.from_pack(load_pack("national"))
    assert judge("http://www.x.gov.cn/m", Outcome(status=302), {}, HOME, True, national).reason == "redirect_without_location"
    assert judge("http://www.x.gov.cn/m", Outcome(status=302), {}, HOME, True, national).verdict == Verdict.UNVERIFIABLE
    assert judge("http://www.x.gov.cn/m", Outcome(status=101), {}, HOME, True, national).verdict == Verdict.UNVERIFIABLE
    assert judge("http://www.x.gov.cn/m", Outcome(status=599), {}, HOME, True, national).verdict == Verdict.DEAD
    strict = LinkPolicy(no_location="dead", informational="dead", ok_status=frozenset({599}))
    assert judge("http://www.x.gov.cn/m", Outcome(status=302), {}, HOME, True, strict).verdict == Verdict.DEAD
    assert judge("http://www.x.gov.cn/m", Outcome(status=101), {}, HOME, True, strict).verdict == Verdict.DEAD
    assert judge("http://www.x.gov.cn/m", Outcome(status=599), {}, HOME, True, strict).verdict == Verdict.OK
    for kind in ("redirect_loop", "too_many_redirects"):
        r = judge("http://www.x.gov.cn/m", Outcome(error_kind=kind), {}, HOME, True, national)
        assert (r.verdict, r.reason) == (Verdict.DEAD, kind)  # never "robots"
    bad = judge("http://localhost]", None, {}, HOME, True, national)
    assert (bad.verdict, bad.reason) == (Verdict.DEAD, "malformed")
    assert judge("http://www.x.gov.cn/never", None, {}, HOME, True, national).reason == "not_checked"
    pack = load_pack("national")
    assert {520, 522, 524} <= set(pack.value("links.retry_statuses")) and pack.value("links.redirect_max") == 10


def test_redirect_failures_are_named() -> None:
    from scrapy import Request

    from auditor.crawl.spider import redirect_failure

    loop = Request("http://a/x", meta={"redirect_urls": ["http://a/x", "http://a/y"]})
    assert redirect_failure(loop)[0] == "redirect_loop"
    chain = Request("http://a/11", meta={"redirect_urls": [f"http://a/{i}" for i in range(11)]})
    assert redirect_failure(chain)[0] == "too_many_redirects"
