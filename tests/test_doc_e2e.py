"""政务公开 content checks end to end: the fixture site on loopback, audited by the real ``govaudit`` CLI.

Crawl → evidence store → the documents enrichment → checks → report.json, with the national pack,
then ``recheck`` of the same stored crawl with the xingqing-2023 overlay.
"""

from __future__ import annotations

import io
import json
import sqlite3

import pytest
from pypdf import PdfWriter

from tests.sites import content_fixture as fx
from tests.support.servers import run_cli, serve
from tests.support.sites import Site

FAMILIES = ("documents", "interpretation", "decisions")
PDF_REPORT = "/ndbg/2023/P020230125_2022wzbb.pdf"


def _pdf() -> bytes:
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def build_site() -> Site:
    site = Site()
    for path, (body, enc) in fx.all_pages().items():
        if path == "/ndbg/":
            # the 2022 website report exists only as a PDF listed in the column
            body = body.replace(b"</ul>", f"<li><a href='{PDF_REPORT}'>示范县人民政府门户网站2022年政府网站工作年度报表</a>"
                                          "<span>2023-01-25</span></li></ul>".encode())
        site.page(path, body.decode("gb18030" if enc == "gbk" else enc), encoding=enc)
    site.raw(PDF_REPORT, _pdf(), "application/pdf")
    return site


def signature(f: dict, base: str) -> tuple[str, str]:
    """What identifies a finding in report.json (which carries no key): rule + page or year."""

    rule, ev = f["rule"], f["evidence"]
    if rule == "documents.annual_report_missing":
        what = "gap" if "years_found" in ev else "late" if "publish_date" in ev else "missing"
        return rule, f"{ev['report_type']}:{ev['year']}:{what}"
    if rule == "decisions.catalogue_missing":
        return rule, f"catalogue:{ev['year']}" + (":late" if "publish_date" in ev else "")
    if rule == "interpretation.late" or (rule == "decisions.feedback_missing" and "feedback_url" in ev):
        return rule, f["source_url"].removeprefix(base)
    return rule, f["url"].removeprefix(base)


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    root = tmp_path_factory.mktemp("doc-e2e")
    db = root / "audit.sqlite"
    with serve(build_site()) as srv:
        base = srv.base_url.rstrip("/")
        r = run_cli("check", base + "/", "--out", str(root / "national"), "--db", str(db), "--as-of", fx.AS_OF.isoformat(),
                    "--profile", "county", *[a for fam in FAMILIES for a in ("--checks", fam)], "--a11y", "off")
    report = json.loads((root / "national" / "report.json").read_text("utf-8"))
    return {"root": root, "db": db, "base": base, "report": report, "rc": r.returncode, "stderr": r.stderr}


def test_cli_runs_and_reports_exactly_the_planted_cases(audit) -> None:
    assert audit["rc"] == 0, audit["stderr"][-3000:]  # no veto rule in these families
    report = audit["report"]
    got = {signature(f, audit["base"]) for f in report["findings"] if f["rule"].split(".")[0] in FAMILIES}
    assert got == fx.EXPECTED, {"missing": fx.EXPECTED - got, "unexpected": got - fx.EXPECTED}
    for f in report["findings"]:
        assert f["basis"]["zh"] and f["basis"]["status"] and f["message"]


def test_report_metrics(audit) -> None:
    metrics = audit["report"]["metrics"]
    names = {m["name"] if isinstance(m, dict) else m for m in metrics} if isinstance(metrics, list) else set(metrics)
    assert {"interpretation.coverage", "interpretation.diverse_format_share"} <= names


def test_document_records_and_pdf_attachment(audit) -> None:
    con = sqlite3.connect(audit["db"])
    rows = [json.loads(d) for (d,) in con.execute("select data from records where kind='document'")]
    con.close()
    by_path = {r["url"].removeprefix(audit["base"]): r for r in rows}
    pdf = by_path[PDF_REPORT]
    assert pdf["report"] == {"type": "website", "year": 2022, "owner": "示范县人民政府门户网站"}
    assert pdf["publish_date"] == "2023-01-25" and pdf["sources"]["publish_date"].startswith("list:")
    gbk = by_path["/gfxwj/202405/t20240506_4.html"]
    assert gbk["title"] == "示范县养老服务补贴实施细则" and gbk["kind"] == "normative" and gbk["validity"] is None
    assert by_path["/gfxwj/jcgz.html"]["validity"] == "expired"


def test_recheck_with_xingqing_overlay(audit) -> None:
    out = audit["root"] / "xingqing"
    r = run_cli("recheck", audit["report"]["run_id"], "--db", str(audit["db"]), "--out", str(out), "--rules", "xingqing-2023")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "report.json").read_text("utf-8"))
    got = {signature(f, audit["base"]) for f in report["findings"] if f["rule"].split(".")[0] in FAMILIES}
    assert got == fx.EXPECTED_XINGQING, {"missing": fx.EXPECTED_XINGQING - got, "unexpected": got - fx.EXPECTED_XINGQING}


def test_trs_site_through_the_cli(tmp_path) -> None:
    """The TRS-style site crawled and audited by the real CLI: routine documents (任职通知, 表彰通报,
    会议通知, 批复…) without interpretation give no finding, the 实施方案 and the 行政规范性文件 do;
    only the 废止/失效 sections of the cleanup notice and the decision already in effect end documents;
    column index pages are not documents."""

    from tests.sites import content_fixture_trs as trs

    site = Site()
    for path, (body, enc) in trs.all_pages().items():
        site.page(path, body.decode(enc), encoding=enc)
    db = tmp_path / "trs.sqlite"
    with serve(site) as srv:
        base = srv.base_url.rstrip("/")
        r = run_cli("check", base + "/", "--out", str(tmp_path / "out"), "--db", str(db), "--as-of", trs.AS_OF.isoformat(),
                    "--profile", "county", *[a for fam in FAMILIES for a in ("--checks", fam)], "--a11y", "off")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    by_rule: dict[str, set[str]] = {}
    for f in report["findings"]:
        by_rule.setdefault(f["rule"], set()).add(f["url"].removeprefix(base))
    assert by_rule.get("interpretation.missing") == trs.EXPECTED_MISSING
    assert by_rule.get("documents.expired") == trs.EXPECTED_EXPIRED
    con = sqlite3.connect(db)
    titles = {json.loads(d)["title"] for (d,) in con.execute("select data from records where kind='document'")}
    con.close()
    assert not titles & set(trs.COLUMNS.values())
