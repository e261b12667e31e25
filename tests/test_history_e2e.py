"""Three monthly audits of a site that changes between them, through the real ``govaudit`` script.

Each month the site (tests/sites/history_fixture.py) is served again on a fresh random port, so the
ids matching across runs also pins that ids do not depend on the port. Month 1 → triage (误报, 暂缓
until 2026-02-20) → month 2 → the office edits ledger.xlsx (a 误报 mark in 备注, 责任单位/整改时限/
整改情况) and ``govaudit ledger import`` reads it → month 3 with a page budget that stops before the
deep page. Every status is checked exactly, and ``history``/``diff`` output, the ledger's cells,
hyperlinks, frozen pane and the absence of formula cells.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openpyxl import load_workbook

from auditor.reports.base import report_schema
from tests.sites.history_fixture import DEPTH1_PAGES, HOST, INJECTION, build_history_site
from tests.support.servers import run_cli, serve

pytestmark = pytest.mark.slow

MONTHS = ("2026-01-10", "2026-02-10", "2026-03-10")
PATHS = {"fp": "/fp.html", "later": "/later.html", "gone1": "/gone1.html", "gone2": "/gone2.html",
         "deep": "/deep-dead.html", "column": "/gzdt/"}


def _audit(version: int, db: Path, out: Path, *extra: str) -> dict[str, Any]:
    as_of = MONTHS[version - 1]
    with serve(build_history_site(version, dt.date.fromisoformat(as_of))) as running:
        url = f"http://{HOST}:{running.port}/"
        proc = run_cli("check", url, "--resolve", f"{HOST}=127.0.0.1", "--as-of", as_of, "--db", str(db), "--out", str(out),
                       "--checks", "links,freshness", "--timeout", "3", *extra, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    report = json.loads((out / "report.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    report["_port"] = running.port
    return report


def _by_path(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from urllib.parse import urlsplit

    out = {}
    for f in report["findings"]:
        if f["rule"] == "links.dead" or f["rule"].startswith("freshness.column"):
            out[urlsplit(f["url"]).path] = f
    return out


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("history")
    db = tmp / "audits.sqlite"
    r1 = _audit(1, db, tmp / "m1")
    f1 = _by_path(r1)
    marks = [run_cli("triage", f1[PATHS["fp"]]["id"], "--false-positive", "--note", "外部系统维护页", "--db", str(db)),
             run_cli("triage", f1[PATHS["later"]]["id"], "--defer", "--until", "2026-02-20", "--note", "旧版入口下线中",
                     "--db", str(db))]
    for p in marks:
        assert p.returncode == 0, p.stderr
    r2 = _audit(2, db, tmp / "m2")
    # the office works on the month-2 ledger and hands it back
    f2 = _by_path(r2)
    wb = load_workbook(tmp / "m2" / "ledger.xlsx")
    ws = wb.worksheets[0]
    col = {c.value: i for i, c in enumerate(ws[1])}
    for row in ws.iter_rows(min_row=2):
        fid = row[col["问题编号"]].value
        if fid == f2[PATHS["gone2"]]["id"]:
            row[col["备注"]].value = "误报：栏目建设中"
        if fid == f2[PATHS["deep"]]["id"]:
            row[col["责任单位"]].value = "县政务公开办"
            row[col["整改时限"]].value = "2026-03-01"
            row[col["整改情况"]].value = "已联系栏目编辑"
    wb.save(tmp / "edited.xlsx")
    imported = run_cli("ledger", "import", str(tmp / "edited.xlsx"), "--db", str(db))
    r3 = _audit(3, db, tmp / "m3", "--max-pages", str(DEPTH1_PAGES))
    history = run_cli("history", HOST, "--db", str(db), "--json")
    diff = run_cli("diff", r1["run_id"], r3["run_id"], "--db", str(db), "--out", str(tmp / "diff"))
    return {"tmp": tmp, "db": db, "r": (r1, r2, r3), "imported": imported, "history": history, "diff": diff}


def _status(report: dict[str, Any]) -> dict[str, str]:
    out = {}
    paths = {v: k for k, v in PATHS.items()}
    for path, f in _by_path(report).items():
        if path in paths:
            out[paths[path]] = f["history"]["status"]
    return out


def test_each_month_gives_each_finding_its_exact_status(months: dict[str, Any]) -> None:
    r1, r2, r3 = months["r"]
    assert len({r["_port"] for r in (r1, r2, r3)}) == 3  # three ports: the ids below match anyway
    assert _status(r1) == {"fp": "new", "later": "new", "gone1": "new", "deep": "new", "column": "new"}
    assert r1["changes"]["previous_run"] is None and r1["changes"]["counts"]["new"] == len(r1["findings"])

    f1 = _by_path(r1)
    # month 2: gone1 published (fixed), the column updated (fixed), a new dead link, the rest persisting
    assert _status(r2) == {"fp": "persisting", "later": "persisting", "gone2": "new", "deep": "persisting"}
    ch2 = r2["changes"]
    assert ch2["previous_run"] == r1["run_id"]
    assert sorted(ch2["ids"]["fixed"]) == sorted([f1[PATHS["gone1"]]["id"], f1[PATHS["column"]]["id"]])
    assert ch2["counts"] == {"new": 1, "persisting": 3, "reopened": 0, "fixed": 2, "not_rechecked": 0}
    deep2 = _by_path(r2)[PATHS["deep"]]
    assert deep2["history"]["first_seen"] == MONTHS[0] and deep2["history"]["runs_seen"] == 2
    assert deep2["id"] == f1[PATHS["deep"]]["id"]

    # month 3: gone1 dead again (reopened); the deep page is beyond the page budget: its dead link
    # was not looked at again, so it is not_rechecked — never fixed
    assert _status(r3) == {"fp": "persisting", "later": "persisting", "gone1": "reopened", "gone2": "persisting"}
    ch3 = r3["changes"]
    assert ch3["counts"] == {"new": 0, "persisting": 3, "reopened": 1, "fixed": 0, "not_rechecked": 1}
    assert ch3["ids"]["not_rechecked"] == [f1[PATHS["deep"]]["id"]]
    assert ch3["not_rechecked"][0]["reason"] == "not_fetched"
    gone1 = _by_path(r3)[PATHS["gone1"]]
    assert gone1["id"] == f1[PATHS["gone1"]]["id"] and gone1["history"]["first_seen"] == MONTHS[0]
    assert gone1["history"]["runs_seen"] == 2 and gone1["history"]["previous_run"] == r2["run_id"]
    assert [p["run_id"] for p in r3["trend"]] == [r1["run_id"], r2["run_id"], r3["run_id"]]


def test_triage_is_carried_shown_apart_and_not_scored(months: dict[str, Any]) -> None:
    r1, r2, r3 = months["r"]
    f1, f2, f3 = (_by_path(r) for r in (r1, r2, r3))
    assert f1[PATHS["fp"]]["deduction"] == 1.0  # a dead homepage link costs 1 point until it is triaged
    fp2, later2 = f2[PATHS["fp"]], f2[PATHS["later"]]
    assert fp2["triage"]["mark"] == "false_positive" and fp2["triage"]["active"] and fp2["deduction"] == 0.0
    assert later2["triage"]["mark"] == "deferred" and later2["triage"]["active"] and later2["deduction"] == 0.0
    assert fp2["id"] not in r2["score"].get("findings", {}) and sorted(r2["triaged"]["ids"]) == sorted([fp2["id"], later2["id"]])
    # the deferral ran out on 2026-02-20: as of 2026-03-10 the finding is scored again
    later3 = f3[PATHS["later"]]
    assert later3["triage"]["active"] is False and later3["deduction"] == 1.0
    # the 误报 written into the ledger's 备注 came back as a mark; 责任单位 etc. as ledger fields
    assert months["imported"].returncode == 0, months["imported"].stderr
    gone2 = f3[PATHS["gone2"]]
    assert gone2["triage"]["mark"] == "false_positive" and gone2["triage"]["note"] == "栏目建设中"
    assert gone2["deduction"] == 0.0
    deep = next(x for x in r3["changes"]["not_rechecked"] if x["id"] == f1[PATHS["deep"]]["id"])
    assert deep["triage"]["responsible"] == "县政务公开办" and deep["triage"]["deadline"] == "2026-03-01"
    assert deep["triage"]["progress"] == "已联系栏目编辑" and deep["triage"]["mark"] is None
    # scoring skipped exactly the active marks: month 3 deducts gone1 and later (1 + 1), not fp/gone2
    assert r3["score"]["indicators"]["links"]["raw_deduction"] == pytest.approx(2.0)
    html = (months["tmp"] / "m3" / "report.html").read_text("utf-8")
    triaged = html.split('<section id="triaged">', 1)[1].split("</section>", 1)[0]
    assert "误报" in triaged and "外部系统维护页" in triaged and "栏目建设中" in triaged
    dead = html.split('<section id="rule-links.dead">', 1)[1].split("</section>", 1)[0]
    assert "/gone1.html" in dead and "/later.html" in dead  # scored findings are listed under their rule …
    assert "/fp.html" not in dead and "/gone2.html" not in dead  # … triaged ones only apart


def test_html_compares_with_last_run_and_draws_the_trend(months: dict[str, Any]) -> None:
    html = (months["tmp"] / "m3" / "report.html").read_text("utf-8")
    part = html.split('<section id="changes">', 1)[1].split("</section>", 1)[0]
    assert "与上次检查对比" in part and "复现" in part and "本次未复查" in part
    assert part.index('id="reopened"') < part.index('id="not-rechecked"')
    assert "/gone1.html" in part.split('id="reopened"', 1)[1]
    svg = part.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert svg.count("<polyline") >= 2 and all(m in svg for m in MONTHS)  # score + major findings, three runs
    assert "<script" not in html and "http://www.w3.org/2000/svg" in svg
    html2 = (months["tmp"] / "m2" / "report.html").read_text("utf-8")
    fixed = html2.split('id="fixed"', 1)[1].split("</table>", 1)[0]
    assert "/gone1.html" in fixed and "工作动态" in fixed


def test_history_and_diff_commands(months: dict[str, Any]) -> None:
    r1, r2, r3 = months["r"]
    h = months["history"]
    assert h.returncode == 0, h.stderr
    runs = json.loads(h.stdout)["runs"]
    assert [r["run_id"] for r in runs] == [r1["run_id"], r2["run_id"], r3["run_id"]]
    assert [r["as_of"] for r in runs] == list(MONTHS)
    assert [(r["new"], r["fixed"], r["not_rechecked"], r["reopened"]) for r in runs] == [(5, 0, 0, 0), (1, 2, 0, 0), (1, 0, 1, 1)]
    assert [r["score"] for r in runs] == [r["score"]["score"] for r in (r1, r2, r3)]
    table = run_cli("history", f"http://{HOST}/", "--db", str(months["db"]))
    assert table.returncode == 0 and r2["run_id"] in table.stdout and "2026-02-10" in table.stdout

    d = months["diff"]
    assert d.returncode == 0, d.stderr
    data = json.loads((months["tmp"] / "diff" / "diff.json").read_text("utf-8"))
    f1 = _by_path(r1)
    # month 1 → month 3 directly: the column fixed; gone1 still there (persisting); the deep link not re-checked
    assert data["ids"]["fixed"] == [f1[PATHS["column"]]["id"]]
    assert data["ids"]["not_rechecked"] == [f1[PATHS["deep"]]["id"]]
    assert data["counts"] == {"new": 1, "persisting": 3, "fixed": 1, "not_rechecked": 1}
    md = (months["tmp"] / "diff" / "diff.md").read_text("utf-8")
    assert f1[PATHS["column"]]["id"] in md and "已整改" in md
    assert f1[PATHS["deep"]]["id"] in d.stdout
    bad = run_cli("diff", r1["run_id"], "no-such-run", "--db", str(months["db"]))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_ledger_sheet_is_the_offices_ledger_and_never_a_formula(months: dict[str, Any]) -> None:
    r1, r2, _ = months["r"]
    wb = load_workbook(months["tmp"] / "m2" / "ledger.xlsx")
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[:17] == ["序号", "网站标识码", "网站名称", "指标大类", "是否单项否决", "扣分", "问题描述", "问题地址", "来源页面",
                           "栏目", "依据", "整改建议", "首次发现", "状态", "责任单位", "整改时限", "整改情况"]
    assert "问题编号" in header
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
    col = {h: i for i, h in enumerate(header)}
    rows = [[c for c in row] for row in ws.iter_rows(min_row=2)]
    by_id = {r[col["问题编号"]].value: r for r in rows}
    f1, f2 = _by_path(r1), _by_path(r2)
    assert by_id[f1[PATHS["gone1"]]["id"]][col["状态"]].value == "已整改"  # last month's fixed, listed as 已整改
    assert by_id[f2[PATHS["gone2"]]["id"]][col["状态"]].value == "新增"
    assert by_id[f2[PATHS["deep"]]["id"]][col["状态"]].value == "持续"
    assert by_id[f2[PATHS["deep"]]["id"]][col["首次发现"]].value == MONTHS[0]
    assert "误报" in (by_id[f2[PATHS["fp"]]["id"]][col["备注"]].value or "")
    link = by_id[f2[PATHS["gone2"]]["id"]][col["问题地址"]]
    assert link.hyperlink is not None and link.hyperlink.target.endswith("/gone2.html")
    assert all(r[col["是否单项否决"]].value in ("是", "否") for r in rows)
    # a triaged or fixed row names the same 指标大类 as a scored dead link
    assert {r[col["指标大类"]].value for r in rows if r[col["问题地址"]].value.endswith((".html",))} == {"链接可用性"}
    assert all(c.alignment.wrap_text for c in rows[0])
    assert ws.column_dimensions["G"].width >= 40
    # the injected formula text (homepage title, a column's ColumnName) is text in every sheet written
    for name in ("ledger.xlsx", "report.xlsx"):
        book = load_workbook(months["tmp"] / "m2" / name)
        seen = False
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (name, cell.coordinate, cell.value)
                    if isinstance(cell.value, str) and INJECTION in cell.value:
                        assert cell.value.startswith("'" + INJECTION), (name, cell.coordinate, cell.value)
                        seen = True
        assert seen or name == "report.xlsx", name  # the ledger's 网站名称 is the injected homepage title
