"""The fleet roll-up: one ranking of every registry site, the 合格率 and the 检查情况通报.

Built from what is stored — the fleet items (which evidence run is each site's, whether it was
reachable), each site's ``report.json`` and the evidence store (for the drift facts a site report does
not judge because it does not know the registry) — so it can be rebuilt at any time
(``govaudit fleet rollup FLEET_ID``) and never re-contacts a site.

Written: ``rollup.json`` (schema ``reports/schema/rollup.schema.json``), ``rollup.html``,
``rollup.xlsx`` (crawled text through :func:`auditor.reports.cells.spreadsheet_text`) and
``检查情况通报.docx``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor import __version__
from auditor.fleet.runner import report_of
from auditor.store.database import EvidenceStore
from auditor.store.registry import FleetStore

SCHEMA_VERSION = 1
LEVEL_ZH = {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇", "department": "部门", None: "未填"}
BINS = [(0, 60), (60, 70), (70, 80), (80, 90), (90, 100.01)]
OUTSTANDING_MAX = 30  # 附件 突出问题网站名单: the worst sites listed, at most


def fleet_rules() -> dict[str, dict[str, Any]]:
    """The roll-up's own findings (registry drift, unreachable), declared in ``findings.json``."""

    text = resources.files("auditor.fleet").joinpath("findings.json").read_text("utf-8")
    return json.loads(text)["rules"]


def _host(url: str | None) -> str:
    return (urlsplit(url or "").hostname or "").lower()


def _finding(rule: str, site: dict[str, Any], message: str, evidence: dict[str, Any]) -> dict[str, Any]:
    decl = fleet_rules()[rule]
    return {"rule": rule, "name_zh": decl["name_zh"], "severity": decl["severity"], "site_code": site["site_code"],
            "message_zh": message, "evidence": evidence, "basis": decl["basis"], "remediation_zh": decl["remediation_zh"]}


HOMEPAGE_PATHS = ("", "/", "/index.html", "/index.htm", "/index.shtml", "/index.jhtml", "/index.jsp", "/index.php")


def unregistered_links(store: EvidenceStore, run_id: str, registry_hosts: set[str]) -> dict[str, str]:
    """Government homepages this run's pages link to, that answered, on hosts no registry row has
    (host → first linking page): a 政府网站 list naming a site the registry lacks."""

    found: dict[str, str] = {}
    alive = set()
    for r in store.iter_link_results(run_id):
        parts = urlsplit(r.target_url)
        host = (parts.hostname or "").lower()
        if (str(r.verdict) == "ok" and not r.on_site and host.endswith(".gov.cn") and host not in registry_hosts
                and parts.path in HOMEPAGE_PATHS):
            alive.add(r.target_url)
    if alive:
        for link in store.iter_links(run_id):
            if link["target_url"] in alive:
                found.setdefault(_host(link["target_url"]), link["source_url"])
    return found


def drift_findings(store: EvidenceStore, site: dict[str, Any], item: dict[str, Any],
                   report: dict[str, Any] | None, registry_hosts: set[str] | None = None) -> list[dict[str, Any]]:
    """What the registry says against what the audit saw: unreachable, redirected away, another
    网站标识码, a linked government site the registry lacks."""

    out: list[dict[str, Any]] = []
    if item["status"] == "unreachable":
        out.append(_finding("fleet.site_unreachable", site,
                            f"巡检时首页 {site['homepage']} 无法访问：{item.get('error') or '无应答'}",
                            {"homepage": site["homepage"], "error": item.get("error"), "run_id": item.get("run_id")}))
        return out
    if item["status"] != "done" or report is None:
        out.append(_finding("fleet.audit_failed", site, f"本站检查未能完成（{item['status']}）：{(item.get('error') or '')[:200]}",
                            {"status": item["status"], "attempts": item.get("attempts")}))
        return out
    registered = _host(site["homepage"])
    landed = _host(report["site"].get("homepage_url"))
    if landed and registered and landed != registered:
        out.append(_finding("fleet.homepage_other_host", site,
                            f"名单中的首页 {site['homepage']} 跳转到其他主机 {report['site']['homepage_url']}",
                            {"registered": site["homepage"], "landed": report["site"]["homepage_url"]}))
    codes: Counter[str] = Counter()
    home_codes: list[str] = []
    for rec in store.iter_records("identity.page", run_id=report["run_id"]):
        data = rec["data"] if isinstance(rec["data"], dict) else json.loads(rec["data"])
        for code in {data.get("code"), data.get("meta_code")} - {None, ""}:
            codes[str(code).lower()] += 1
            if rec["key"] == report["site"].get("homepage_url"):
                home_codes.append(str(code).lower())
    seen = sorted(set(home_codes)) or [c for c, _ in codes.most_common(3)]
    expected = site["site_code"].lower()
    if seen and expected not in seen:
        out.append(_finding("fleet.site_code_mismatch", site,
                            f"页面上的网站标识码 {'、'.join(seen)} 与名单中的 {site['site_code']} 不符",
                            {"registered": site["site_code"], "on_pages": seen, "pages": sum(codes.values())}))
    if registry_hosts:
        unlisted = unregistered_links(store, report["run_id"], registry_hosts | {landed})
        if unlisted:
            out.append(_finding("fleet.unregistered_linked_site", site,
                                f"本站链接的政府网站 {'、'.join(sorted(unlisted))} 可以访问，但不在名单中",
                                {"hosts": dict(sorted(unlisted.items()))}))
    return out


def build(store: EvidenceStore, fleet_id: str, out: Path) -> dict[str, Any]:
    """The roll-up dict of one fleet run (what ``rollup.json`` holds)."""

    fs = FleetStore(store)
    fleet = fs.fleet(fleet_id)
    if fleet is None:
        raise LookupError(f"没有这个巡检 / no such fleet run: {fleet_id}")
    previous = fs.previous_fleet(fleet_id)
    prev_scores: dict[str, float | None] = {}
    if previous:
        for it in fs.items(previous["id"]):
            rep = report_of(it)
            prev_scores[it["site_code"]] = rep["score"]["score"] if rep else None
    sites: list[dict[str, Any]] = []
    all_fleet_findings: list[dict[str, Any]] = []
    problem_sites: dict[str, set[str]] = {}
    problem_counts: Counter[str] = Counter()
    problem_names: dict[str, str] = {}
    registry_hosts = {_host(s["homepage"]) for s in fs.sites()}
    for item in fs.items(fleet_id):
        reg = fs.site(item["site_code"])
        if reg is None:
            continue
        report = report_of(item) if item["status"] == "done" else None
        drift = drift_findings(store, reg, item, report, registry_hosts)
        all_fleet_findings += drift
        entry: dict[str, Any] = {
            "site_code": reg["site_code"], "name": reg["name"], "homepage": reg["homepage"], "sponsor": reg["sponsor"],
            "region": reg["region"] or "", "level": reg["level"], "level_label": reg["level_label"] or LEVEL_ZH[reg["level"]],
            "parent": reg["parent"], "status": item["status"], "run_id": item.get("run_id"),
            "attempts": item.get("attempts") or 0, "interrupted_runs": sorted({r for a in (item.get("runs") or [])
                                                                                  for r in a.get("interrupted_runs", [])}),
            "score": None, "passed": False, "veto": False, "verdict_zh": "", "findings": 0, "findings_per_rule": {},
            "fleet_findings": [f["rule"] for f in drift], "problems": [], "report": None, "previous_score": None,
            "score_change": None,
        }
        if report is not None:
            score = report["score"]
            per_rule = report["stats"].get("findings_per_rule") or Counter(f["rule"] for f in report["findings"])
            entry.update(score=score["score"], passed=bool(score["passed"]), veto=bool(score["veto"]),
                         verdict_zh=score["verdict_zh"], findings=len(report["findings"]), findings_per_rule=dict(per_rule),
                         report=str(Path("sites") / reg["site_code"] / "report.html"))
            for rid, n in per_rule.items():
                problem_counts[rid] += n
                problem_sites.setdefault(rid, set()).add(reg["site_code"])
                problem_names[rid] = (report["rules"].get(rid) or {}).get("name_zh") or rid
            vetoes = [v["name_zh"] for v in score.get("veto_items", []) if v["state"] == "triggered"]
            costly = sorted(per_rule, key=lambda r: -sum(f.get("deduction") or 0 for f in report["findings"] if f["rule"] == r))
            entry["problems"] = [f"单项否决：{v}" for v in vetoes] + [problem_names[r] for r in costly[:5]]
            pages = (report.get("coverage") or {}).get("pages_fetched", report["stats"].get("pages"))
            if not pages:  # nothing crawled (e.g. the homepage left for another host): a score of nothing
                entry.update(score=None, passed=False, verdict_zh="未能检查（未抓取到本站页面）")
        if drift:
            entry["passed"] = entry["passed"] and not any(f["severity"] in ("veto", "major") for f in drift)
            entry["problems"] = [f["message_zh"] for f in drift] + entry["problems"]
            if item["status"] == "unreachable":
                entry["verdict_zh"] = "不合格（站点无法访问）"
                entry["veto"] = True
            elif item["status"] != "done":
                entry["verdict_zh"] = "未完成检查"
            elif not entry["passed"] and entry["verdict_zh"] == "合格":
                entry["verdict_zh"] = "不合格（名单信息不符）"
            for f in drift:
                problem_counts[f["rule"]] += 1
                problem_sites.setdefault(f["rule"], set()).add(reg["site_code"])
                problem_names[f["rule"]] = f["name_zh"]
        if reg["site_code"] in prev_scores:
            entry["previous_score"] = prev_scores[reg["site_code"]]
            if entry["score"] is not None and entry["previous_score"] is not None:
                entry["score_change"] = round(entry["score"] - entry["previous_score"], 2)
        sites.append(entry)
    # ranking: audited sites by score (vetoed after the others), then the ones that could not be scored
    sites.sort(key=lambda s: (s["score"] is None, s["veto"], -(s["score"] or 0), s["site_code"]))
    for rank, s in enumerate(sites, start=1):
        s["rank"] = rank
    total = len(sites)
    passed = sum(1 for s in sites if s["passed"])
    scored = [s["score"] for s in sites if s["score"] is not None]
    histogram = [{"from": lo, "to": min(hi, 100), "count": sum(1 for x in scored if lo <= x < hi)} for lo, hi in BINS]
    by_level: dict[str, dict[str, int]] = {}
    by_region: dict[str, dict[str, int]] = {}
    for s in sites:
        for table, key in ((by_level, s["level_label"]), (by_region, s["region"] or "未填")):
            row = table.setdefault(key, {"sites": 0, "passed": 0, "unreachable": 0})
            row["sites"] += 1
            row["passed"] += int(s["passed"])
            row["unreachable"] += int(s["status"] == "unreachable")
    problems = [{"rule": rid, "name_zh": problem_names.get(rid, rid), "sites": len(problem_sites[rid]),
                 "findings": problem_counts[rid], "site_codes": sorted(problem_sites[rid])}
                for rid in sorted(problem_counts, key=lambda r: (-len(problem_sites[r]), -problem_counts[r], r))]
    rollup: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "govaudit", "version": __version__},
        "fleet_id": fleet_id,
        "as_of": fleet["as_of"],
        "status": fleet["status"],
        "engine": fleet["engine"],
        "generated_at": dt.datetime.fromtimestamp(time.time(), dt.UTC).isoformat(timespec="seconds"),
        "summary": {
            "sites": total, "audited": len(scored), "passed": passed, "failed": total - passed,
            "unreachable": sum(1 for s in sites if s["status"] == "unreachable"),
            "not_completed": sum(1 for s in sites if s["status"] not in ("done", "unreachable")),
            "pass_rate": round(passed / total, 4) if total else 0.0,
            "mean_score": round(sum(scored) / len(scored), 2) if scored else None,
            "score_histogram": histogram, "by_level": by_level, "by_region": by_region,
        },
        "previous": None,
        "sites": sites,
        "problems": problems,
        "fleet_findings": all_fleet_findings,
    }
    if previous:
        prev_items = fs.items(previous["id"])
        prev_pass = 0
        for it in prev_items:
            rep = report_of(it)
            prev_pass += int(bool(rep and rep["score"]["passed"]))
        rollup["previous"] = {"fleet_id": previous["id"], "as_of": previous["as_of"],
                              "pass_rate": round(prev_pass / len(prev_items), 4) if prev_items else 0.0}
    return rollup


def write_all(store: EvidenceStore, fleet_id: str, out: Path, deadline_days: int | None = None) -> dict[str, Path]:
    """Build and write every roll-up file into ``out``; returns name → path."""

    import jsonschema

    from auditor.store.registry import worker_id

    # the last Procrastinate job and a waiting `fleet run` may both write it: one at a time
    fs, holder, name = FleetStore(store), worker_id(), f"rollup:{fleet_id}"
    deadline = time.time() + 300
    while not fs.try_lock(name, holder, 300) and time.time() < deadline:
        time.sleep(0.2)
    try:
        return _write_all(store, fleet_id, out, deadline_days, jsonschema)
    finally:
        fs.release(name, holder)


def _write_all(store: EvidenceStore, fleet_id: str, out: Path, deadline_days: int | None, jsonschema: Any) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    rollup = build(store, fleet_id, out)
    schema = json.loads(resources.files("auditor.reports").joinpath("schema/rollup.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(rollup)
    paths = {"json": out / "rollup.json"}
    tmp = paths["json"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rollup, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(paths["json"])
    paths["html"] = write_html(rollup, out)
    paths["xlsx"] = write_xlsx(rollup, out)
    paths["docx"] = write_docx(rollup, out, deadline_days)
    return paths


# --- HTML -----------------------------------------------------------------------------------------

def score_chart(histogram: list[dict[str, Any]], width: int = 420, height: int = 180) -> str:
    """The score distribution as inline SVG (no script, no external file: the page works offline)."""

    from markupsafe import escape

    top = max((b["count"] for b in histogram), default=0) or 1
    bar_w = (width - 40) / max(1, len(histogram))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" role="img" '
             f'aria-label="得分分布">']
    for i, b in enumerate(histogram):
        h = (height - 20) * b["count"] / top
        x = 30 + i * bar_w
        y = height - h
        parts.append(f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{bar_w - 8:.1f}" height="{h:.1f}" fill="#3a6ea5">'
                     f'<title>{escape(str(b["from"]))}–{escape(str(b["to"]))}：{b["count"]}</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" font-size="12" text-anchor="middle">{b["count"]}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height + 16}" font-size="12" text-anchor="middle">'
                     f'{b["from"]:g}–{b["to"]:g}</text>')
    parts.append(f'<line x1="30" y1="{height}" x2="{width - 10}" y2="{height}" stroke="#333"/></svg>')
    return "".join(parts)


def write_html(rollup: dict[str, Any], out: Path) -> Path:
    import jinja2

    from auditor.reports.writers import safe_href

    loader = jinja2.FunctionLoader(lambda name: resources.files("auditor.fleet").joinpath(f"templates/{name}").read_text("utf-8"))
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["href"] = safe_href
    html = env.get_template("rollup.html").render(r=rollup, chart=jinja2.utils.markupsafe.Markup(
        score_chart(rollup["summary"]["score_histogram"])))
    path = out / "rollup.html"
    path.write_text(html, encoding="utf-8")
    return path


# --- XLSX -----------------------------------------------------------------------------------------

def write_xlsx(rollup: dict[str, Any], out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from auditor.reports.cells import spreadsheet_text as cell

    wb = Workbook()
    ws = wb.active
    ws.title = "站点排名"
    ws.append(["排名", "网站标识码", "网站名称", "地区", "行政级别", "主办单位", "首页地址", "得分", "结论", "是否合格",
               "问题数", "较上次变化", "主要问题", "运行编号", "报告"])
    for s in rollup["sites"]:
        ws.append([s["rank"], cell(s["site_code"]), cell(s["name"]), cell(s["region"]), cell(s["level_label"]),
                   cell(s["sponsor"] or ""), cell(s["homepage"]), s["score"], cell(s["verdict_zh"]),
                   "合格" if s["passed"] else "不合格", s["findings"], s["score_change"], cell("；".join(s["problems"])),
                   cell(s["run_id"] or ""), cell(s["report"] or "")])
    sheet = wb.create_sheet("问题汇总")
    sheet.append(["规则", "问题", "涉及网站数", "问题总数", "涉及网站"])
    names = {s["site_code"]: s["name"] for s in rollup["sites"]}
    for p in rollup["problems"]:
        sheet.append([p["rule"], cell(p["name_zh"]), p["sites"], p["findings"],
                      cell("、".join(names.get(c, c) for c in p["site_codes"]))])
    summary = wb.create_sheet("概况")
    sm = rollup["summary"]
    for row in (("巡检编号", rollup["fleet_id"]), ("评估基准日", rollup["as_of"]), ("应检网站", sm["sites"]),
                ("合格", sm["passed"]), ("合格率", f"{sm['pass_rate']:.1%}"), ("无法访问", sm["unreachable"]),
                ("未完成检查", sm["not_completed"])):
        summary.append(list(row))
    for w in wb.worksheets:
        for c in w[1]:
            c.font = Font(bold=True)
    path = out / "rollup.xlsx"
    wb.save(path)
    return path


# --- 检查情况通报 (DOCX) ------------------------------------------------------------------------------

def outstanding(rollup: dict[str, Any]) -> list[dict[str, Any]]:
    """突出问题网站: the sites that fail (veto, below the line, unreachable, drifted), worst first."""

    bad = [s for s in rollup["sites"] if not s["passed"]]
    bad.sort(key=lambda s: (not s["veto"], s["score"] if s["score"] is not None else -1, s["site_code"]))
    return bad[:OUTSTANDING_MAX]


def write_docx(rollup: dict[str, Any], out: Path, deadline_days: int | None = None) -> Path:
    """The 检查情况通报. Its 整改期限 counts working days on the official holiday calendar, like the
    整改通知书 of one site: ``deadline_days``, or the national pack's ``report.rectify_working_days``."""

    from docx import Document
    from docx.shared import Pt

    from auditor.docmodel.workdays import WorkCalendar
    from auditor.rulepacks import load_pack

    sm = rollup["summary"]
    as_of = dt.date.fromisoformat(rollup["as_of"])
    if deadline_days is None:
        deadline_days = int(load_pack("national").value("report.rectify_working_days"))
    deadline = WorkCalendar().deadline_span(as_of, deadline_days)[0]
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(12)
    doc.add_heading(f"政府网站检查情况通报（{as_of.year}年{as_of.month}月）", level=1)
    doc.add_heading("一、总体情况", level=2)
    doc.add_paragraph(
        f"本次共检查政府网站 {sm['sites']} 个，完成检查 {sm['audited']} 个，合格 {sm['passed']} 个，"
        f"合格率 {sm['pass_rate']:.1%}；巡检时无法访问 {sm['unreachable']} 个，未完成检查 {sm['not_completed']} 个。"
        + (f"平均得分 {sm['mean_score']} 分。" if sm["mean_score"] is not None else "")
        + (f"上次巡检（{rollup['previous']['as_of']}）合格率 {rollup['previous']['pass_rate']:.1%}。" if rollup["previous"] else ""))
    for title, table_data in (("按行政级别", sm["by_level"]), ("按地区", sm["by_region"])):
        doc.add_paragraph(title + "：")
        t = doc.add_table(rows=1, cols=4)
        t.style = "Table Grid"
        for i, h in enumerate(("类别", "检查网站数", "合格", "合格率")):
            t.rows[0].cells[i].text = h
        for key, row in sorted(table_data.items()):
            cells = t.add_row().cells
            cells[0].text, cells[1].text, cells[2].text = str(key), str(row["sites"]), str(row["passed"])
            cells[3].text = f"{row['passed'] / row['sites']:.1%}" if row["sites"] else "-"
    doc.add_heading("二、存在的主要问题", level=2)
    names = {s["site_code"]: s["name"] for s in rollup["sites"]}
    if not rollup["problems"]:
        doc.add_paragraph("本次检查未发现问题。")
    for n, p in enumerate(rollup["problems"][:10], start=1):
        listed = "、".join(names.get(c, c) for c in p["site_codes"][:8])
        more = f"等 {p['sites']} 个网站" if p["sites"] > 8 else f"共 {p['sites']} 个网站"
        doc.add_paragraph(f"（{_cn(n)}）{p['name_zh']}。{listed}{more}存在此问题，共 {p['findings']} 处。")
    doc.add_heading("三、整改要求", level=2)
    doc.add_paragraph(
        f"请各网站主办单位对照附件所列问题逐项整改，于 {deadline.year}年{deadline.month}月{deadline.day}日前完成整改，"
        "并将整改情况报送本级政务公开主管部门。无法访问的网站应立即恢复访问或按规定办理关停下线手续；"
        "名单信息（首页地址、网站标识码）与实际不符的，请核实后更正。")
    doc.add_heading("附件：突出问题网站名单", level=2)
    t = doc.add_table(rows=1, cols=4)
    t.style = "Table Grid"
    for i, h in enumerate(("序号", "地区", "网站名称", "存在问题")):
        t.rows[0].cells[i].text = h
    for n, s in enumerate(outstanding(rollup), start=1):
        cells = t.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = str(n), s["region"] or "", s["name"]
        cells[3].text = "；".join(s["problems"][:4]) or s["verdict_zh"]
    path = out / "检查情况通报.docx"
    doc.save(str(path))
    return path


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九十"
    return digits[n] if n <= 10 else str(n)
