"""The report model every writer renders: one dict, built once from the evidence store.

``report.json`` is this dict as validated by ``schema/report.schema.json`` (draft 2020-12);
the other writers (HTML, XLSX, …) render the same dict, so they never disagree.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from auditor import __version__
from auditor.model import SEVERITY_ORDER, Finding, Rule
from auditor.reports.history import add_history
from auditor.reports.newmedia import newmedia_section
from auditor.store.database import EvidenceStore

SCHEMA_VERSION = "1.0"


class ReportWriter(Protocol):
    """What ``govaudit_report_writers`` returns: a name (the ``--format`` value) and a writer."""

    name: str

    def write(self, report: dict[str, Any], out_dir: Path) -> Path: ...


@dataclass
class ReportInputs:
    store: EvidenceStore
    run_id: str
    rules: dict[str, Rule]
    lang: str
    score: dict[str, Any]


def finding_dict(f: Finding, rules: dict[str, Rule], lang: str) -> dict[str, Any]:
    rule = rules.get(f.rule)
    basis = f.basis.as_dict() if f.basis else (rule.basis.as_dict() if rule else None)
    return {
        "id": f.id,
        "rule": f.rule,
        "rule_name": rule.name(lang) if rule else f.rule,
        "severity": str(f.severity),
        "url": f.url,
        "source_url": f.source_url,
        "column": f.column,
        "message": f.message(lang),
        "message_zh": f.message_zh,
        "message_en": f.message_en or None,
        "evidence": f.evidence,
        "basis": basis,
        "remediation": (f.remediation_en if lang == "en" and f.remediation_en else f.remediation_zh)
        or (rule.remediation(lang) if rule else ""),
        "plugin": f.plugin or (rule.plugin if rule else ""),
    }


def build_report(inp: ReportInputs) -> dict[str, Any]:
    store, run_id = inp.store, inp.run_id
    run = store.get_run(run_id)
    if run is None:
        raise KeyError(f"no run {run_id}")
    score = dict(inp.score)
    scored = score.pop("findings", {})  # per-finding deductions travel on each finding, not twice
    indicators = score.get("indicators", {})
    findings = []
    for f in store.iter_findings(run_id):
        d = finding_dict(f, inp.rules, inp.lang)
        s = scored.get(f.id)
        d["deduction"] = s["deduction"] if s else 0.0
        d["indicator"] = s["indicator"] if s else None
        if s and s["indicator"] in indicators:
            ind = indicators[s["indicator"]]
            d["indicator_name"] = ind["name_en"] if inp.lang == "en" else ind["name_zh"]
        findings.append(d)
    # 先改这些: single vetoes first, then what costs the most points, then by severity
    findings.sort(key=lambda d: (d["severity"] != "veto", -d["deduction"], SEVERITY_ORDER.get(d["severity"], 9),
                                 d["rule"], d["url"] or "", d["id"]))
    per_rule = Counter(d["rule"] for d in findings)
    per_sev = Counter(d["severity"] for d in findings)
    stats = dict(run.get("stats") or {})
    stats["findings"] = len(findings)
    stats["findings_per_rule"] = dict(sorted(per_rule.items()))
    stats["findings_per_severity"] = dict(sorted(per_sev.items()))
    errors = list(store.iter_errors(run_id))
    stats["errors"] = len(errors)
    metrics = [r["data"] for r in store.iter_records("metric", run_id=run_id)]
    options = run.get("options") or {}
    used_rules = {d["rule"] for d in findings}
    report_newmedia = newmedia_section(store, run_id, findings, score)
    report = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "govaudit", "version": __version__},
        "run_id": run_id,
        "status": run["status"],
        "lang": inp.lang,
        "site": {
            "host": run["site"],
            "url": run["start_url"],
            "homepage_url": stats.get("homepage_url") or run["start_url"],
            "profile": options.get("profile"),
        },
        "as_of": run["as_of"],
        "started_at": _iso(run["started_at"]),
        "finished_at": _iso(run.get("finished_at") or time.time()),
        "rule_pack": score.get("rule_pack"),
        "stats": stats,
        "coverage": run.get("coverage") or {},
        "score": score,
        "metrics": sorted(metrics, key=lambda m: m.get("name", "")),
        "rules": {
            rid: {
                "name": r.name(inp.lang),
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "severity": str(r.severity),
                "basis": r.basis.as_dict(),
                "plugin": r.plugin,
            }
            for rid, r in inp.rules.items()
            if rid in used_rules
        },
        "findings": findings,
        "errors": [
            {"stage": e["stage"], "plugin": e["plugin"], "url": e["url"], "message": e["message"]} for e in errors[:500]
        ],
        "newmedia": report_newmedia,  # 政务新媒体 section (reports/newmedia.py); None when not measured
    }
    add_history(report, store, run, inp.rules, inp.lang)  # 与上次检查对比: history, changes, triage, trend
    return report


def _iso(ts: float) -> str:
    """Report times in the audited site's time zone (Asia/Shanghai), not the auditing machine's."""

    return dt.datetime.fromtimestamp(ts, ZoneInfo("Asia/Shanghai")).isoformat(timespec="seconds")


def report_schema() -> dict[str, Any]:
    return json.loads(resources.files("auditor.reports").joinpath("schema/report.schema.json").read_text("utf-8"))
