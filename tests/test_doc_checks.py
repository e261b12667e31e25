"""The documents / interpretation / decisions checks on a stored fixture site (planted cases and traps).

The site (tests/sites/content_fixture.py) is stored the way a crawl stores it — pages with their
encodings, link edges extracted by the crawl's own extractor — and the real engine runs the
enrichment plugin and the checks on it, with the national pack and with the xingqing-2023 overlay.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from auditor.config import AuditConfig
from auditor.context import CheckContext, SiteView
from auditor.crawl.extract import html_links
from auditor.engine import Engine, run_checks
from auditor.model import Finding, LinkEdge
from auditor.store.database import EvidenceStore
from tests.sites import content_fixture as fx

HOST = "http://www.sfx.gov.cn"
FAMILIES = ["documents", "interpretation", "decisions"]


def store_site(tmp_path: Path, pages: dict[str, tuple[bytes, str]], as_of: dt.date) -> tuple[EvidenceStore, str]:
    store = EvidenceStore(tmp_path / "audit.db")
    run_id = store.start_run("www.sfx.gov.cn", HOST + "/", as_of.isoformat(), {}, "test")
    for path, (body, enc) in pages.items():
        url = HOST + path
        store.add_page(run_id, url, url, 200, f"text/html; charset={enc}", enc, 1, "", "html", body)
        text = body.decode("gb18030" if enc == "gbk" else enc, errors="replace")
        if not text.strip():
            continue
        tree = lxml.html.document_fromstring(text)
        store.add_links(run_id, [LinkEdge(url, link.url, link.anchor, link.region, link.tag, link.position)
                                 for link in html_links(tree, url, enc)])
    store.finish_run(run_id, "complete", {"homepage_url": HOST + "/"}, {})
    store.flush()
    return store, run_id


def run(tmp_path: Path, pages: dict[str, tuple[bytes, str]], as_of: dt.date, rules: str = "national",
        profile: str = "county") -> tuple[list[Finding], dict[str, Any], EvidenceStore, str]:
    store, run_id = store_site(tmp_path, pages, as_of)
    config = AuditConfig(url=HOST + "/", as_of=as_of.isoformat(), profile=profile, rules=rules, checks=FAMILIES)
    engine = Engine(config)
    site = SiteView(store, store.get_run(run_id))
    ctx = CheckContext(config, engine.pack, engine.rules, store, run_id, engine.probes(), site.homepage_url)
    run_checks(engine, ctx, site)
    errors = list(store.iter_errors(run_id))
    assert not errors, errors
    metrics = {r["key"]: r["data"] for r in store.iter_records("metric", run_id=run_id)}
    return list(store.iter_findings(run_id)), metrics, store, run_id


def signature(f: Finding) -> tuple[str, str]:
    ref = f.key if f.key and ":" in f.key and not f.key.startswith("http") else f.url.removeprefix(HOST)
    if f.key and f.key.startswith(("end:", "list:")):
        ref = f.url.removeprefix(HOST)
    if f.rule in ("interpretation.unlinked", "interpretation.late"):
        ref = (f.source_url if f.rule == "interpretation.late" else f.url).removeprefix(HOST)
    if f.rule == "decisions.feedback_missing" and f.key and f.key.endswith("|late"):
        ref = f.key.removesuffix("|late").removeprefix(HOST)
    return f.rule, ref


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Finding], dict[str, Any]]:
    findings, metrics, _, _ = run(tmp_path_factory.mktemp("nat"), fx.all_pages(), fx.AS_OF)
    return findings, metrics


def test_planted_findings_exactly(national) -> None:
    findings, _ = national
    got = {signature(f) for f in findings}
    assert got == fx.EXPECTED, {"missing": fx.EXPECTED - got, "unexpected": got - fx.EXPECTED}


def national_pack():
    from auditor.rulepacks import load_pack

    return load_pack("national")


def test_every_finding_cites_its_basis_in_both_languages(national) -> None:
    findings, _ = national
    for f in findings:
        assert f.basis is not None and f.basis.zh and f.basis.source and f.basis.status in (
            "confirmed", "partial", "unconfirmed", "local")
        assert f.message_zh and f.message_en
        # what a finding costs is looked up by rule id in the pack's scoring table, never carried here
        assert "deduction" not in f.evidence
        assert f.severity == "info" or national_pack().rule_scoring(f.rule) is not None, f.rule


def test_expired_evidence_and_trap(national) -> None:
    findings, _ = national
    by_url = {f.url.removeprefix(HOST): f for f in findings if f.rule == "documents.expired"}
    period = by_url["/gfxwj/hgbf.html"]
    assert period.evidence["end_date"] == "2022-12-31" and period.evidence["end_basis"] == "period"
    assert "有效" in period.message_zh
    listed = by_url["/gfxwj/dxgx.html"]
    assert listed.source_url == HOST + "/zcwj/202407/t20240701_23.html"
    assert "/gfxwj/jcgz.html" not in by_url  # expired but correctly marked 失效


def test_late_publication_counts_working_days(national) -> None:
    findings, _ = national
    late = [f for f in findings if f.rule == "documents.late_publication"]
    assert len(late) == 1
    assert late[0].evidence["working_days"] == 30 and late[0].evidence["deadline"] == "2024-03-29"
    assert late[0].evidence["calendar_caveat"] is None
    # the 国庆 trap: 25 calendar days, 17 working days
    assert not any(f.url.endswith("t20240930_7.html") for f in late)


def test_annual_reports(national) -> None:
    findings, _ = national
    reports = {f.key: f for f in findings if f.rule == "documents.annual_report_missing"}
    assert reports["xxgk:2022:gap"].evidence["years_found"] == [2020, 2021, 2023]
    assert reports["website:2023:late"].evidence["publish_date"] == "2024-02-05"


def test_interpretation_metrics(national) -> None:
    _, metrics = national
    cov = metrics["interpretation.coverage"]
    # in scope: 7 规范性文件 still in force (the 失效 one is left out) + the 示政发 policy document;
    # interpreted: all but the unmarked 细则 and the 示政发 notice
    assert cov["detail"]["documents_in_scope"] == 8 and cov["detail"]["interpreted"] == 6
    assert cov["value"] == 0.75 and cov["target"] == 1.0
    share = metrics["interpretation.diverse_format_share"]
    assert share["value"] == round(2 / 6, 4)  # 一图读懂 + 视频
    assert share["target"] is None  # no national target


def test_xingqing_allows_three_working_days(tmp_path: Path) -> None:
    findings, metrics, _, _ = run(tmp_path, fx.all_pages(), fx.AS_OF, rules="xingqing-2023")
    got = {signature(f) for f in findings}
    assert got == fx.EXPECTED_XINGQING, {"missing": fx.EXPECTED_XINGQING - got, "unexpected": got - fx.EXPECTED_XINGQING}
    late = [f for f in findings if f.rule == "interpretation.late"]
    assert late[0].evidence["allowed_working_days"] == 3 and late[0].evidence["working_days"] == 8
    assert metrics["interpretation.video_share"]["target"] == 0.2


def test_department_profile_deadline(tmp_path: Path) -> None:
    """A department's own report is due 31 Jan; on 15 Feb 2024 the 2023 report must be out."""

    pages = {"/": fx.all_pages()["/"]}
    report = fx.P("/ndbg/t20240210_1.html", "示范县教育局2023年政府信息公开工作年度报告", "年度报告", dt.date(2024, 2, 10),
                  body=["本报告根据《中华人民共和国政府信息公开条例》要求编制。"])
    pages[report.path] = (fx.render(report), "utf-8")
    findings, *_ = run(tmp_path, pages, dt.date(2024, 2, 15), profile="department")
    keys = {f.key for f in findings if f.rule == "documents.annual_report_missing"}
    assert "xxgk:2023:late" in keys
    # the website report for 2023 was due 31 Jan 2024 and is missing
    assert "website:2023:missing" in keys


def test_nothing_due_before_the_deadlines(tmp_path: Path) -> None:
    """On 10 Jan 2024 the 2023 reports are not due yet; the 2022 ones are."""

    pages = {"/": fx.all_pages()["/"]}
    for p in fx.REPORTS:
        pages[p.path] = (fx.render(p), p.encoding)
    findings, *_ = run(tmp_path, pages, dt.date(2024, 1, 10))
    keys = {f.key for f in findings if f.rule == "documents.annual_report_missing"}
    assert "xxgk:2022:missing" in keys  # the government's 2022 report was due 31 Mar 2023
    assert not any(k.startswith(("xxgk:2023", "website:2023")) for k in keys)
    assert "website:2022:missing" in keys


def test_unknown_years_say_so(tmp_path: Path) -> None:
    """Working days in a year the holiday calendar does not know are estimated, and the finding says it."""

    from auditor.docmodel.workdays import known_years

    year = known_years()[1] + 2
    doc = fx.P(f"/gfxwj/{year}/t{year}0601_1.html", "示范县未来管理办法", "行政规范性文件", dt.date(year, 8, 1),
               dt.date(year, 6, 1), f"示政规〔{year}〕1号", "有效", fx.BODY)
    pages = {"/": fx.all_pages()["/"], doc.path: (fx.render(doc), "utf-8")}
    findings, *_ = run(tmp_path, pages, dt.date(year, 9, 1))
    late = [f for f in findings if f.rule == "documents.late_publication"]
    assert len(late) == 1
    assert late[0].evidence["calendar_caveat"] and str(year) in late[0].evidence["calendar_caveat"]["zh"]
    assert "估算" in late[0].message_zh


def test_list_pages_fill_dates_and_columns(tmp_path: Path) -> None:
    """A detail page without any date takes the date and column its list page shows (source list:…)."""

    detail = ("<html><head><meta charset='utf-8'><title>示范县城乡建设管理办法</title></head><body>"
              "<h1>示范县城乡建设管理办法</h1><div class='content'><p>为规范城乡建设管理，制定本办法，请遵照执行。</p></div>"
              "</body></html>").encode()
    items = "".join(f"<li><a href='/gfxwj/d{i}.html'>示范县其他管理办法{i}</a><span>2024-0{i}-1{i}</span></li>"
                    for i in range(1, 7))
    listing = (f"<html><head><meta charset='utf-8'><title>规范性文件</title><meta name='ColumnName' content='行政规范性文件'>"
               f"</head><body><h2>行政规范性文件</h2><ul><li><a href='/gfxwj/jsgl.html'>示范县城乡建设管理办法</a>"
               f"<span>2024-08-08</span></li>{items}</ul></body></html>").encode()
    pages = {"/": fx.all_pages()["/"], "/gfxwj/": (listing, "utf-8"), "/gfxwj/jsgl.html": (detail, "utf-8")}
    _, _, store, run_id = run(tmp_path, pages, fx.AS_OF)
    rec = next(r["data"] for r in store.iter_records("document", run_id=run_id) if r["key"].endswith("/jsgl.html"))
    assert rec["publish_date"] == "2024-08-08" and rec["sources"]["publish_date"] == f"list:{HOST}/gfxwj/"
    assert rec["column"] == "行政规范性文件" and rec["kind"] == "normative"


def test_reports_known_only_from_link_text_count(tmp_path: Path) -> None:
    """An annual report linked from the site but not crawled (page budget) is not reported missing."""

    home = ("<html><head><meta charset='utf-8'><title>示范县人民政府</title></head><body><div class='news'><ul>"
            "<li><a href='/ndbg/2023.html'>示范县人民政府2023年政府信息公开工作年度报告</a></li>"
            "<li><a href='/ndbg/wz2023.html'>示范县人民政府门户网站2023年政府网站工作年度报表</a></li>"
            "</ul></div></body></html>").encode()
    findings, *_ = run(tmp_path, {"/": (home, "utf-8")}, fx.AS_OF)
    keys = {f.key for f in findings if f.rule == "documents.annual_report_missing"}
    assert not any(k.startswith(("xxgk:2023", "website:2023")) for k in keys), keys


def test_bad_pages_do_not_break_the_audit(tmp_path: Path) -> None:
    pages = dict(fx.all_pages())
    pages["/broken.html"] = (b"\x00\xff\xfe<html><h1>\x00</h1><table><tr><td>\xe5\x8f\x91\xe5\xb8\x83\xe6\x97\xa5\xe6\x9c\x9f", "utf-8")
    pages["/empty.html"] = (b"", "utf-8")
    pages["/gbk-as-utf8.html"] = ("<html><body><h1>示范县测试办法</h1><p>有效性：有效</p></body></html>".encode("gbk"), "utf-8")
    findings, *_ = run(tmp_path, pages, fx.AS_OF)  # run() asserts no error records
    assert {signature(f) for f in findings} >= fx.EXPECTED
