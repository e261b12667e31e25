"""Fidelity of govaudit's verdicts: precision, recall and F1 per rule family, false vetoes, findings on traps.

(a) A labelled county portal (:mod:`fidelity_site`, written apart from the test fixtures) is served
    on loopback in two variants and audited by the real CLI; every finding of the measured families
    is matched to the portal's labels (rule + target). A finding that matches no expected label is a
    false positive; one that lands on a trap label is also counted as a *finding on a trap*.
(b) Real pages of a government portal's 政务公开 archive (``--real DIR``, never committed; see
    bench/README.md), served on loopback and labelled by an independent parser
    (:mod:`fidelity_real`); govaudit's document/decision/interpretation findings and document
    records are compared with those labels.

    .venv/bin/python bench/fidelity.py                       # (a) only
    .venv/bin/python bench/fidelity.py --real /work/real/pingtan-gov-zwgk-archive
    .venv/bin/python bench/fidelity.py --json out.json --keep /tmp/fid   # details, keep reports

Goal (issue #8): F1 ≥ 0.95 for every family, no false veto, no finding on a trap.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fidelity_site as fs  # noqa: E402

from auditor.demo.servers import serve  # noqa: E402


def govaudit_exe() -> str:
    here = Path(sys.executable).parent / "govaudit"
    return str(here) if here.exists() else (shutil.which("govaudit") or "govaudit")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_audit(url: str, out: Path, families: Iterable[str], resolve: dict[str, str], as_of: str,
              extra: Iterable[str] = ()) -> tuple[dict[str, Any], float, int]:
    """The real CLI, as a user runs it; returns report.json, seconds, exit status."""

    (out / "evidence.sqlite").unlink(missing_ok=True)  # a kept directory must not mix runs
    shutil.rmtree(out / "report", ignore_errors=True)
    args = [govaudit_exe(), "check", url, "--as-of", as_of, "--db", str(out / "evidence.sqlite"), "--out", str(out / "report"),
            "--a11y", "off", "--profile", "county", "--format", "json", "--timeout", "5", "--ignore-robots",
            "--allow-private"]  # loopback sites: past the SSRF guard
    for fam in families:
        args += ["--checks", fam]
    for host, addr in resolve.items():
        args += ["--resolve", f"{host}={addr}"]
    args += list(extra)
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NO_COLOR="1", TERM="dumb")
    t0 = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", errors="replace", env=env, timeout=900)
    secs = time.monotonic() - t0
    report = out / "report" / "report.json"
    if not report.exists():
        raise RuntimeError(f"govaudit exited {proc.returncode} without a report:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    (out / "stdout.txt").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr, encoding="utf-8")
    return json.loads(report.read_text(encoding="utf-8")), secs, proc.returncode


# --- matching ------------------------------------------------------------------------------------

def url_target(url: str | None, host: str) -> str:
    """A URL as labels name it: the path (and query) on the audited host, ``//host:port/path`` elsewhere."""

    if not url:
        return ""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if (parts.hostname or "").lower() == host:
        return path
    return f"//{parts.netloc}{path}"


def column_target(url: str | None, host: str) -> str:
    t = url_target(url, host)
    for index in ("index.html", "index.htm", "index.shtml", "default.html"):
        if t.endswith("/" + index):
            return t[: -len(index)]
    return t


def finding_target(f: dict[str, Any], host: str) -> str:
    rule, ev = f["rule"], f.get("evidence") or {}
    if f.get("severity") == "veto" and rule == "freshness.column_stale":
        return "veto"
    if rule == "freshness.homepage_stale":
        return "homepage"
    if rule == "columns.missing":
        return str(ev.get("column_id"))
    if rule == "decisions.catalogue_missing":
        return "catalogue"
    if rule == "documents.annual_report_missing":
        return str(ev.get("report_type") or "xxgk")
    if rule.startswith("identity.") and ev.get("pattern") == "site":
        return "site"
    if rule.startswith("freshness."):
        return column_target(f.get("url"), host)
    return url_target(f.get("url"), host)


def rule_matches(label_rule: str, rule: str) -> bool:
    return label_rule == rule or (label_rule.endswith(".*") and rule.startswith(label_rule[:-1]))


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    trap_hits: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.trap_hits += other.trap_hits
        self.details += other.details

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None and r is None:
            return None
        p, r = p or 0.0, r or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def score(findings: list[dict[str, Any]], labels: list[fs.Label], families: list[str], host: str,
          tag: str) -> dict[str, Score]:
    """Match findings to labels, per family. Each expected label is matched at most once."""

    out = {fam: Score() for fam in families}
    expected = [lab for lab in labels if lab.expect]
    traps = [lab for lab in labels if not lab.expect]
    used: set[int] = set()
    for f in findings:
        fam = f["rule"].split(".", 1)[0]
        if fam not in out:
            continue
        target = finding_target(f, host)
        hit = next((i for i, lab in enumerate(expected) if i not in used and lab.rule == f["rule"]
                    and lab.target in (target, "*")), None)
        if hit is not None:
            used.add(hit)
            out[fam].tp += 1
            continue
        out[fam].fp += 1
        dup = any(lab.rule == f["rule"] and lab.target == target for lab in expected)
        trap = next((lab for lab in traps if rule_matches(lab.rule, f["rule"]) and lab.target in (target, "*")), None)
        if trap is not None:
            out[fam].trap_hits += 1
        out[fam].details.append({"variant": tag, "kind": "FP", "rule": f["rule"], "target": target,
                                 "severity": f.get("severity"), "message": f.get("message", "")[:160],
                                 "duplicate": dup, "trap": trap.why if trap else None})
    for i, lab in enumerate(expected):
        if i not in used and lab.family in out:
            out[lab.family].fn += 1
            out[lab.family].details.append({"variant": tag, "kind": "FN", "rule": lab.rule, "target": lab.target,
                                            "why": lab.why})
    return out


def vetoes(findings: list[dict[str, Any]], expected: list[str]) -> tuple[int, int, list[str]]:
    """False vetoes (a veto finding the variant does not call for) and missed vetoes."""

    got = [f["rule"] for f in findings if f.get("severity") == "veto"]
    false = [r for r in got if r not in expected]
    missed = [r for r in expected if r not in got]
    return len(false), len(missed), false


# --- (a) the labelled portal ---------------------------------------------------------------------

def run_portal(variant: str, work: Path) -> tuple[dict[str, Score], dict[str, Any]]:
    portal = fs.build(variant)
    hosts = fs.hosts(portal)
    with serve(hosts, "127.0.0.1") as running:
        fs.finalize(portal, running.port, closed_port())
        (work / f"labels_{variant}.json").write_text(portal.labels_json(), encoding="utf-8")
        resolve = {h: "127.0.0.1" for h in [fs.HOST, *fs.OTHER_HOSTS]}
        report, secs, rc = run_audit(f"http://{fs.HOST}:{running.port}/", work / variant, fs.FAMILIES, resolve,
                                     fs.AS_OF.isoformat())
    findings = report.get("findings", [])
    scores = score(findings, portal.labels, fs.FAMILIES, fs.HOST, variant)
    false_v, missed_v, false_list = vetoes(findings, portal.vetoes)
    pages = (report.get("stats") or {}).get("pages") or (report.get("coverage") or {}).get("fetched")
    info = {"variant": variant, "seconds": round(secs, 1), "exit": rc, "findings": len(findings), "pages": pages,
            "false_vetoes": false_v, "missed_vetoes": missed_v, "false_veto_rules": false_list,
            "expected_vetoes": portal.vetoes, "errors": len(report.get("errors", []))}
    return scores, info


# --- printing ------------------------------------------------------------------------------------

def fmt(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:5.3f}"


def table(title: str, scores: dict[str, Score], goal: float = 0.95) -> str:
    lines = [title, f"{'family':<15}{'TP':>4}{'FP':>4}{'FN':>4}  {'prec':>5}  {'recall':>6}  {'F1':>5}  {'traps hit':>9}  goal",
             "-" * 72]
    total = Score()
    for fam, s in scores.items():
        total.add(Score(s.tp, s.fp, s.fn, s.trap_hits))
        ok = (s.f1 is None or s.f1 >= goal) and s.trap_hits == 0
        verdict = ("ok" if ok else "MISS") + (" (no positives; traps only)" if s.f1 is None else "")
        lines.append(f"{fam:<15}{s.tp:>4}{s.fp:>4}{s.fn:>4}  {fmt(s.precision)}  {fmt(s.recall):>6}  {fmt(s.f1)}  "
                     f"{s.trap_hits:>9}  {verdict}")
    lines.append("-" * 72)
    lines.append(f"{'all (micro)':<15}{total.tp:>4}{total.fp:>4}{total.fn:>4}  {fmt(total.precision)}  "
                 f"{fmt(total.recall):>6}  {fmt(total.f1)}  {total.trap_hits:>9}")
    return "\n".join(lines)


def self_check() -> None:
    """The scorer on made-up findings, so a broken matcher cannot pass for a good audit.

    Findings equal to the expected labels must score F1 = 1 with no trap hit; a duplicate must be a
    false positive; a finding on a trap must count as one; dropping a finding must be a miss.
    """

    portal = fs.build("B")
    fs.finalize(portal, 8080, 9)
    base = f"http://{fs.HOST}:8080"

    def finding(lab: fs.Label) -> dict[str, Any]:
        f: dict[str, Any] = {"rule": lab.rule, "severity": "major", "url": base + "/", "evidence": {}}
        if lab.target == "veto":
            f["severity"] = "veto"
        elif lab.rule == "columns.missing":
            f["evidence"]["column_id"] = lab.target
        elif lab.target == "site":
            f["evidence"]["pattern"] = "site"
        elif lab.target.startswith("//"):
            f["url"] = "http:" + lab.target
        elif lab.target.startswith("/"):
            f["url"] = base + lab.target
        return f

    good = [finding(x) for x in portal.labels if x.expect]
    perfect = score(good, portal.labels, fs.FAMILIES, fs.HOST, "self")
    assert all(s.fp == 0 and s.fn == 0 and s.trap_hits == 0 for s in perfect.values()), perfect
    trap = next(x for x in portal.labels if not x.expect and x.rule == "documents.expired")
    worse = score(good[1:] + [good[1], finding(trap)], portal.labels, fs.FAMILIES, fs.HOST, "self")
    fam0, fam1 = portal.labels[[x.expect for x in portal.labels].index(True)].family, good[1]["rule"].split(".")[0]
    assert worse[fam0].fn == 1 and worse[fam1].fp >= 1 and worse["documents"].trap_hits == 1, worse
    print("self-check: scorer ok")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", type=Path, help="directory holding the real archive pages (see bench/README.md)")
    ap.add_argument("--real-as-of", default="2026-11-20", help="as-of date for the real pages")
    ap.add_argument("--variants", default="A,B")
    ap.add_argument("--json", type=Path, help="write every score and FP/FN detail here")
    ap.add_argument("--keep", type=Path, help="keep the reports and evidence stores in this directory")
    ap.add_argument("--self-check", action="store_true", help="check the scorer on made-up findings and exit")
    args = ap.parse_args(argv)
    self_check()
    if args.self_check:
        return 0
    ctx = contextlib.nullcontext(str(args.keep)) if args.keep else tempfile.TemporaryDirectory(prefix="fidelity-")
    result: dict[str, Any] = {}
    with ctx as tmp:
        work = Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        total = {fam: Score() for fam in fs.FAMILIES}
        infos = []
        for variant in args.variants.split(","):
            scores, info = run_portal(variant, work)
            infos.append(info)
            for fam, s in scores.items():
                total[fam].add(s)
        print(table(f"(a) labelled county portal {fs.HOST}, variants {args.variants}, as of {fs.AS_OF}", total))
        for info in infos:
            print(f"  variant {info['variant']}: {info['pages']} pages, {info['findings']} findings, {info['seconds']} s, "
                  f"exit {info['exit']}, false vetoes {info['false_vetoes']} {info['false_veto_rules'] or ''}, "
                  f"missed vetoes {info['missed_vetoes']} (expected {info['expected_vetoes'] or 'none'}), "
                  f"error records {info['errors']}")
        print(f"  false vetoes: {sum(i['false_vetoes'] for i in infos)}; findings on traps: "
              f"{sum(s.trap_hits for s in total.values())}")
        result["portal"] = {"scores": {fam: {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": s.precision, "recall": s.recall,
                                             "f1": s.f1, "trap_hits": s.trap_hits, "details": s.details}
                                       for fam, s in total.items()},
                            "runs": infos}
        details = [d for s in total.values() for d in s.details]
        if details:
            print("\n  misses and false positives (a):")
            for dd in details:
                extra = dd.get("why") or ((("TRAP: " + dd["trap"]) if dd.get("trap") else "") +
                                          (" [duplicate]" if dd.get("duplicate") else "") + " — " + dd.get("message", ""))
                print(f"   {dd['variant']} {dd['kind']} {dd['rule']:<30} {dd['target'][:70]:<70} {extra[:150]}")
        if args.real:
            import fidelity_real as fr

            real_scores, real_info = fr.run(args.real, work / "real", args.real_as_of)
            print()
            print(table(f"(b) real archive pages from {args.real} ({real_info['pages']} pages), as of {args.real_as_of}",
                        real_scores))
            print(fr.field_table(real_info))
            rdetails = [d for s in real_scores.values() for d in s.details]
            for dd in rdetails:
                print(f"   {dd['kind']} {dd['rule']:<30} {dd['target'][:90]:<90} {(dd.get('why') or dd.get('message', ''))[:120]}")
            result["real"] = {"scores": {fam: {"tp": s.tp, "fp": s.fp, "fn": s.fn, "f1": s.f1, "details": s.details}
                                         for fam, s in real_scores.items()}, "info": real_info}
        else:
            print("\n(b) real archive pages: skipped (no --real DIR given; see bench/README.md)")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
