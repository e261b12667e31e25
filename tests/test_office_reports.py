"""The documents an office circulates and the reports a person reads (issue #10 items 5, 7, 8).

One audit of the bundled demo portal (in process, every format) and one offline recheck of it in
English serve most assertions (module-scoped), so the suite pays for a single crawl:

- ``notice.docx`` (整改通知书) parsed back with python-docx: the four section headings, one table
  row per finding, the deadline counted over 国庆 on the official working-day calendar;
- ``report.pdf`` text extracted with pypdf, the Chinese headings in it;
- ``report.html``: no ``None``/``ratio`` artefacts, an inline SVG chart, decoded URLs (href kept),
  long page lists folded, times in Asia/Shanghai; the English report has no Chinese the tool wrote;
- the CLI: an unknown ``--format`` exits 2 before one request reaches the site; a run without a
  terminal prints plain progress lines.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import docx
import pypdf
import pytest
from lxml import html as lxml_html

from auditor.config import build_config
from auditor.demo.site import serve_demo
from auditor.docmodel.workdays import WorkCalendar
from auditor.engine import Engine, audit, recheck
from auditor.reports.writers import HtmlWriter, display_url, figure
from auditor.store.database import EvidenceStore
from tests.support.servers import run_cli, serve
from tests.support.sites import Site

# The Monday before 国庆 2026 (1–7 Oct off, Sat 10 Oct a working day): 10 working days end on 16 Oct;
# counting Monday–Friday only would give 12 Oct.
AS_OF = "2026-09-28"
DEADLINE = "2026-10-16"
WEEKDAYS_ONLY = "2026-10-12"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
HEADINGS = ("一、总体情况", "二、存在的主要问题", "三、整改要求", "附件：问题清单")


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("office")
    db = str(base / "evidence.sqlite")
    with serve_demo(as_of=dt.date.fromisoformat(AS_OF)) as site:
        cfg = build_config({}, {"url": site.url, "out": str(base / "zh"), "db": db, "as_of": AS_OF,
                                "resolve": dict(site.resolve), "timeout": 5.0, "retry_after_cap": 2.0,
                                "obey_robots": True, "formats": ["json", "html", "xlsx", "docx", "pdf"]})
        result = audit(cfg)
    # the English report of the same evidence: recheck is offline, no second crawl
    en_cfg = build_config({}, {"url": cfg.url, "out": str(base / "en"), "db": db, "as_of": AS_OF, "lang": "en",
                               "resolve": dict(cfg.resolve), "formats": ["json", "html", "docx"]})
    en = recheck(en_cfg, result.run_id, Engine(en_cfg))
    return {"base": base, "db": db, "run_id": result.run_id, "zh": base / "zh", "en": base / "en",
            "report": json.loads((base / "zh" / "report.json").read_text("utf-8")),
            "report_en": json.loads((base / "en" / "report.json").read_text("utf-8")), "paths": result.paths,
            "en_paths": en.paths}


# --- 整改通知书 -----------------------------------------------------------------------------------


def test_notice_docx_has_the_four_sections_and_one_table_row_per_finding(audited: dict[str, Any]) -> None:
    report = audited["report"]
    d = docx.Document(str(audited["zh"] / "notice.docx"))
    headings = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert headings == list(HEADINGS)
    text = "\n".join(p.text for p in d.paragraphs)
    assert "整改通知" in d.paragraphs[0].text and "〔    〕" in text  # title, 文号 left for the office to number
    assert f"扣分部分得分{report['score']['score']:g}分" in text and report["score"]["verdict_zh"] in text
    per_sev = report["stats"]["findings_per_severity"]
    assert f"单项否决{per_sev['veto']}条" in text and f"重要{per_sev['major']}条" in text
    # 二、存在的主要问题: the veto item comes before any indicator
    h2 = [p.text for p in d.paragraphs if p.style.name == "Heading 2"]
    assert h2[0] == "（一）单项否决问题" and "（二）扣分问题（按指标）" in h2
    assert text.index("互动回应差") < text.index("（二）扣分问题")
    # 附件: header + one row per finding, in the report's order (vetoes first)
    table = d.tables[-1]
    assert len(table.rows) == 1 + len(report["findings"])
    assert [c.text for c in table.rows[0].cells][:4] == ["序号", "指标", "严重程度", "问题描述"]
    assert table.rows[1].cells[2].text == "单项否决"
    assert {r.cells[3].text for r in table.rows[1:]} == {f["message"] for f in report["findings"]}


def test_notice_deadline_counts_working_days_over_the_national_day_holiday(audited: dict[str, Any]) -> None:
    rect = audited["report"]["rectification"]
    assert rect["working_days"] == 10 and rect["status"] == "unconfirmed" and "未核实" in rect["source"]
    assert rect["deadline"] == DEADLINE == WorkCalendar().add(dt.date.fromisoformat(AS_OF), 10).isoformat()
    naive = dt.date.fromisoformat(AS_OF)
    left = 10
    while left:
        naive += dt.timedelta(days=1)
        left -= naive.weekday() < 5
    assert naive.isoformat() == WEEKDAYS_ONLY != DEADLINE  # the trap: a weekday count misses the holiday
    text = "\n".join(p.text for p in docx.Document(str(audited["zh"] / "notice.docx")).paragraphs)
    assert f"请于{DEADLINE}前（评估基准日后10个工作日内）" in text
    assert WEEKDAYS_ONLY not in text


def test_notice_reports_the_change_since_last_run_only_when_the_report_has_one(audited: dict[str, Any],
                                                                               tmp_path: Path) -> None:
    from auditor.reports.notice import DocxNoticeWriter

    report = copy.deepcopy(audited["report"])
    report["changes"] = {"previous_run": "20261101-020000-abcdef",
                         "counts": {"new": 3, "persisting": 90, "reopened": 1, "fixed": 7, "not_rechecked": 2}}
    text = "\n".join(p.text for p in docx.Document(str(DocxNoticeWriter().write(report, tmp_path))).paragraphs)
    assert "与上次检查（20261101-020000-abcdef）相比：新增 3、持续 90、复现 1、已整改 7、未复查 2。" in text
    plain = "\n".join(p.text for p in docx.Document(str(audited["zh"] / "notice.docx")).paragraphs)
    assert "与上次检查" not in plain  # a first run has nothing to compare with


def test_rectify_working_days_is_pack_data() -> None:
    from auditor.pluginmanager import collect_parameters, get_plugin_manager
    from auditor.reports.notice import RECTIFY_KEY, rectification_terms
    from auditor.rulepacks import load_pack

    pack = load_pack("national", collect_parameters(get_plugin_manager()))
    assert pack.parameters[RECTIFY_KEY].type_label() == "int"
    assert rectification_terms(pack, AS_OF)["deadline"] == DEADLINE
    pack.values[RECTIFY_KEY] = {**pack.values[RECTIFY_KEY], "value": 3}  # an office that gives 3 working days
    terms = rectification_terms(pack, AS_OF)
    assert terms["working_days"] == 3 and terms["deadline"] == "2026-10-08"  # 29, 30 Sep, then 8 Oct


def test_notice_in_english_when_the_report_is(audited: dict[str, Any]) -> None:
    d = docx.Document(str(audited["en"] / "notice.docx"))
    assert [p.text for p in d.paragraphs if p.style.name == "Heading 1"] == [
        "1. Overview", "2. Main problems", "3. Rectification requirements", "Annex: list of problems"]
    assert len(d.tables[-1].rows) == 1 + len(audited["report_en"]["findings"])


# --- PDF ------------------------------------------------------------------------------------------


def test_pdf_is_the_html_report_printed_with_extractable_chinese(audited: dict[str, Any]) -> None:
    path = audited["zh"] / "report.pdf"
    reader = pypdf.PdfReader(str(path))
    assert len(reader.pages) >= 2
    text = "".join(page.extract_text() for page in reader.pages[:6])
    squeezed = re.sub(r"\s+", "", text)
    for heading in ("政府网站合规自查报告", "先改这些", "单项否决项", "得分说明"):
        assert heading in squeezed, heading
    assert audited["report"]["run_id"] in squeezed
    fonts = set()
    for page in reader.pages[:2]:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object().get("/BaseFont")))
    assert any("WenQuanYi" in f or "Noto" in f or "CJK" in f for f in fonts), fonts  # the CJK font is embedded


# --- HTML a person reads --------------------------------------------------------------------------


def test_site_figures_read_as_numbers_with_units(audited: dict[str, Any]) -> None:
    html = (audited["zh"] / "report.html").read_text("utf-8")
    metrics = html[html.index('id="metrics"'):html.index('id="findings"')]
    assert not re.search(r"None|\dratio|ratio<", metrics), re.findall(r".{40}(?:None|ratio).{10}", metrics)
    by_name = {m["name"]: m for m in audited["report"]["metrics"]}
    assert by_name["availability.failure_ratio"]["value"] is None  # the demo has no monitoring data
    assert by_name["interpretation.coverage"]["unit"] == "ratio"
    cov = by_name["interpretation.coverage"]["value"]
    assert f">{figure(cov, 'ratio', 'zh')}<" in metrics and figure(cov, "ratio", "zh").endswith("%")
    assert ">—<" in metrics  # not measured, said as such
    assert f">{by_name['a11y.pages_audited']['value']} 页<" in metrics
    assert figure(0.4, "ratio", "zh") == "40%" and figure(None, "ratio", "en") == "—"
    assert figure(0.125, "ratio", "en") == "12.5%" and figure(3, "页", "en") == "3 pages"


def test_html_opens_with_verdict_fix_first_and_a_chart_without_network(audited: dict[str, Any]) -> None:
    html = (audited["zh"] / "report.html").read_text("utf-8")
    order = [html.index(f'id="{s}"') for s in ("summary", "fix-first", "vetoes", "indicators", "chart", "findings")]
    assert order == sorted(order)
    assert html.index('id="explanation"') < html.index('id="fix-first"')  # why the score, before the list
    chart = html[html.index('<section id="chart">'):]
    chart = chart[:chart.index("</section>")]
    per_indicator = {f.get("indicator") or f["rule"] for f in audited["report"]["findings"]}
    assert chart.count("<rect ") == min(25, len(per_indicator))
    assert "http://" not in chart.replace("http://www.w3.org/2000/svg", "") and "https://" not in chart
    assert "<script" not in html.lower()


def test_times_are_in_the_sites_time_zone(audited: dict[str, Any]) -> None:
    rep = audited["report"]
    assert rep["started_at"].endswith("+08:00") and rep["finished_at"].endswith("+08:00")
    assert "(UTC+08:00)" in (audited["zh"] / "report.html").read_text("utf-8")


def test_screenshots_inline_and_long_page_lists_folded(audited: dict[str, Any]) -> None:
    html = (audited["zh"] / "report.html").read_text("utf-8")
    assert html.count('<img class="shot" src="data:image/') > 0
    report = copy.deepcopy(audited["report"])
    f = next(f for f in report["findings"] if f["rule"] == "links.dead")
    many = [{"url": f"http://www.demo-county.gov.cn/p{i}.html", "anchor": "a", "region": "main"} for i in range(30)]
    few = [{"url": "http://www.demo-county.gov.cn/only.html", "anchor": "a", "region": "main"}]
    f["evidence"] = {**f["evidence"], "sources": many}
    other = next(g for g in report["findings"] if g["rule"] == "links.dead" and g is not f)
    other["evidence"] = {**other["evidence"], "sources": few}
    out = HtmlWriter().render(report)
    doc = lxml_html.fromstring(out)
    folded = doc.xpath('//details[@class="pages"]')
    assert any(len(d.xpath(".//a")) == 30 for d in folded)
    only = doc.xpath('//a[@href="http://www.demo-county.gov.cn/only.html"]')
    assert only and not only[0].xpath('ancestor::details[@class="pages"]')  # one page stays open


def test_chinese_urls_shown_decoded_with_href_unchanged(audited: dict[str, Any]) -> None:
    raw = "http://www.demo-county.gov.cn/%E6%94%BF%E5%8A%A1%E5%85%AC%E5%BC%80/index.html?q=%E9%80%9A%E7%9F%A5"
    report = copy.deepcopy(audited["report"])
    report["findings"][0]["url"] = raw
    doc = lxml_html.fromstring(HtmlWriter().render(report))
    links = doc.xpath(f'//a[@href="{raw}"]')
    assert links and {a.text_content() for a in links} == {
        "http://www.demo-county.gov.cn/政务公开/index.html?q=通知"}
    assert display_url("http://x.gov.cn/%FF%FE.html") == "http://x.gov.cn/%FF%FE.html"  # not UTF-8: as crawled
    assert display_url("http://x.gov.cn/a%20b%0A.html") == "http://x.gov.cn/a%20b%0A.html"  # no hidden spaces
    assert display_url("http://xn--fiq228c.gov.cn/") == "http://中文.gov.cn/"


def _crawled_text(db: str, run_id: str) -> str:
    store = EvidenceStore(db)
    parts = []
    for page in store.iter_pages(run_id):
        body = page["body"] or b""
        try:
            body = zlib.decompress(body)
        except zlib.error:
            pass
        parts += [body.decode(page.get("encoding") or "utf-8", "replace"), page.get("title") or ""]
    parts += [json.dumps(link, ensure_ascii=False, default=str) for link in store.iter_links(run_id)]
    store.close()
    return "\n".join(parts)


# Chinese an English report may carry: official document numbers (国办秘函〔2019〕19号 has no English
# form), terms quoted “…” because the site must show them in Chinese (a column's name), Chinese
# sources quoted with lang="zh-CN", raw evidence (class "data") and what was crawled.
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}〔\d{4}〕\d+号")
QUOTED = re.compile(r"“[^”]{1,40}”")


def test_english_report_has_no_chinese_the_tool_wrote(audited: dict[str, Any]) -> None:
    html = (audited["en"] / "report.html").read_text("utf-8")
    doc = lxml_html.fromstring(html)
    for el in doc.xpath('//style|//*[@lang="zh-CN"]|//*[contains(concat(" ", @class, " "), " data ")]'):
        el.drop_tree()
    crawled = _crawled_text(audited["db"], audited["run_id"])
    leftovers = set()
    for text in doc.itertext():
        text = QUOTED.sub("", DOC_NUMBER.sub("", text))
        for run in CJK.findall(text):
            for core in re.split(r"[\u3000-\u303f\uff00-\uffef]+", run):
                if core and core not in crawled:
                    leftovers.add((core, text.strip()[:100]))
    assert not leftovers, sorted(leftovers)[:20]
    # the trap: the same report in Chinese is full of tool-written Chinese the filter does not excuse
    assert "单项否决项" in (audited["zh"] / "report.html").read_text("utf-8")
    assert "单项否决项" not in html and "Single-veto items" in html
    metrics = html[html.index('id="metrics"'):html.index('id="findings"')]
    assert " pages<" in metrics and " 页" not in metrics


# --- the CLI: formats and unattended runs ---------------------------------------------------------


class _Counting:
    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()

    def __call__(self, req: Any) -> tuple[int, dict[str, str], str]:
        with self.lock:
            self.n += 1
        time.sleep(0.15)  # slow enough that a crawl of this site outlasts a few progress intervals
        links = "".join(f'<li><a href="/p{i}.html">第{i}页</a></li>' for i in range(40))
        return 200, {"Content-Type": "text/html; charset=utf-8"}, f"<html><body><ul>{links}</ul></body></html>"


def test_unknown_format_exits_2_before_any_request(tmp_path: Path) -> None:
    counter = _Counting()
    site = Site().fallback(counter)
    with serve(site) as running:
        proc = run_cli("check", running.url("/"), "--format", "json,docx,pdff", "--as-of", AS_OF,
                       "--out", str(tmp_path / "out"), "--db", str(tmp_path / "db.sqlite"), "--checks", "links")
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert "pdff" in proc.stderr and "docx" in proc.stderr and "pdf" in proc.stderr  # names the known ones
        assert "Traceback" not in proc.stderr
        assert counter.n == 0
        assert not (tmp_path / "out").exists()
        # the same command with known formats does reach the site (the counter can count)
        ok = run_cli("check", running.url("/"), "--format", "json,docx", "--as-of", AS_OF, "--max-pages", "3",
                     "--out", str(tmp_path / "out"), "--db", str(tmp_path / "db.sqlite"), "--checks", "links")
        assert ok.returncode in (0, 1), ok.stderr[-2000:]
        assert counter.n > 0 and (tmp_path / "out" / "notice.docx").exists()


def test_run_without_a_terminal_prints_plain_progress_lines(tmp_path: Path) -> None:
    counter = _Counting()
    site = Site().fallback(counter)
    config = tmp_path / "site.toml"
    with serve(site) as running:
        config.write_text(f'url = "{running.url("/")}"\nas_of = "{AS_OF}"\nmax_pages = 30\nconcurrency = 1\n'
                          f'checks = ["links"]\nout = "{tmp_path / "out"}"\ndb = "{tmp_path / "db.sqlite"}"\n', "utf-8")
        proc = run_cli("check", "--config", str(config), env={"GOVAUDIT_PROGRESS_INTERVAL": "0.5"})
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if " govaudit progress: " in line]
    assert len(lines) >= 3, proc.stderr[-2000:]
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00 govaudit progress: stage=\w+ pages=\d+ ", x)
               for x in lines), lines[:3]
    assert "\x1b[" not in proc.stderr and "\r" not in proc.stderr  # no live display redrawn into the log
    assert (tmp_path / "out" / "report.json").exists()


def test_default_output_folder_is_outside_the_package_folder() -> None:
    from auditor.cli.main import _default_out

    cfg = build_config({}, {"url": "http://www.example.gov.cn/", "as_of": AS_OF})
    out = Path(_default_out(cfg))
    assert out.parts == ("govaudit-reports", "www.example.gov.cn", AS_OF)
    assert out.parts[0] != "reports"  # the package folder of the writers in a checkout
