"""History across runs of one site (回头看) and triage marks that outlive a run.

Two tables on the shared ``metadata``:

- ``finding_history``: per run, one row per finding of the run (``new`` / ``persisting`` /
  ``reopened``) and one per finding that was open in the previous run and is absent now (``fixed`` /
  ``not_rechecked``). Findings are matched by their stable id (:mod:`auditor.siteid` keeps ids free
  of loopback ports). A missing finding is ``fixed`` **only** when this run covered its target with
  the rule that raised it: the rule's family ran, nothing failed in its plugin, and the target was
  fetched as a page (or, for ``links.*``, judged by the link checker; for a family that measures
  pages — a11y, 适老化 — measured again). Otherwise it is ``not_rechecked`` and stays open, so a
  smaller ``--max-pages`` or ``--checks links`` never turns findings into "fixed".
- ``triage``: per (site, finding id), an operator's mark — ``false_positive`` (误报) or ``deferred``
  (暂缓/豁免) with a note and an optional expiry — and the 整改台账 fields read back from a ledger
  (责任单位, 整改时限, 整改情况). A mark applies to every later run of the site while it has not
  expired as of that run's as-of date; marked findings are shown apart and not scored.

"Previous run" means the latest earlier run of the same site (``runs.site``) that finished
(``complete`` or ``partial``): a run that failed or was killed compared nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Float, Integer, String, Table, Text, and_, func, select

from auditor.config import AuditConfig
from auditor.model import Finding
from auditor.siteid import SiteIdentity
from auditor.store.database import (
    EvidenceStore,
    errors,
    findings,
    link_results,
    metadata,
    pages,
    records,
    runs,
)

PRESENT = ("new", "persisting", "reopened")
ABSENT = ("fixed", "not_rechecked")
STATUSES = PRESENT + ABSENT
OPEN = ("new", "persisting", "reopened", "not_rechecked")  # still a problem as far as anyone knows
FINISHED = ("complete", "partial")
MARKS = ("false_positive", "deferred")
# families that judge pages a measure plugin measured (a sample): the page must be measured again
MEASURED_KINDS = {"probe.a11y.axe": "a11y", "probe.elderly.page": "elderly"}

finding_history = Table(
    "finding_history",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("finding_id", String(16), primary_key=True),
    Column("site", String(255), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # new | persisting | reopened | fixed | not_rechecked
    Column("first_seen", String(10)),  # as-of date of the first run it was found in
    Column("first_seen_run", String(32)),
    Column("last_seen", String(10)),  # as-of date of the latest run it was found in
    Column("last_seen_run", String(32)),
    Column("runs_seen", Integer),
    Column("previous_run", String(32)),
    # a snapshot, so a fixed finding can be listed without reading the run it came from
    Column("rule", String(64)),
    Column("severity", String(8)),
    Column("url", Text),
    Column("source_url", Text),
    Column("column_name", Text),
    Column("message_zh", Text),
    Column("message_en", Text),
    Column("reason", String(32)),  # why not_rechecked: family_off | not_fetched | plugin_error
)

triage = Table(
    "triage",
    metadata,
    Column("site", String(255), primary_key=True),
    Column("finding_id", String(16), primary_key=True),
    Column("mark", String(16)),  # false_positive | deferred | NULL (only ledger fields)
    Column("note", Text),
    Column("until", String(10)),  # the mark applies up to and including this as-of date
    Column("responsible", Text),  # 责任单位
    Column("deadline", Text),  # 整改时限 (as the office wrote it)
    Column("progress", Text),  # 整改情况
    Column("source", String(16)),  # cli | ledger
    Column("rule", String(64)),
    Column("updated_at", Float),
)


# --- runs of a site ----------------------------------------------------------------------------
def site_runs(store: EvidenceStore, site: str) -> list[dict[str, Any]]:
    """The site's runs, oldest first (status ``incomplete`` for one whose process is gone)."""

    return [store.get_run(r["id"]) or r for r in store.list_runs(site)]


def previous_run(store: EvidenceStore, run: Mapping[str, Any]) -> dict[str, Any] | None:
    """The latest finished run of the same site started before ``run``."""

    earlier = [r for r in site_runs(store, run["site"]) if r["started_at"] < run["started_at"] and r["id"] != run["id"]
               and r["status"] in FINISHED]
    return earlier[-1] if earlier else None


# --- coverage: did this run look again? -------------------------------------------------------------
@dataclass
class Coverage:
    """What a run looked at, in port-free form, to tell ``fixed`` from ``not_rechecked``."""

    run: dict[str, Any]
    identity: SiteIdentity
    pages: set[str]
    judged: set[str]
    measured: dict[str, set[str]]  # family → URLs a measure plugin measured page by page
    failed_plugins: set[str]
    config: AuditConfig
    rules: set[str] | None = None

    @classmethod
    def of(cls, store: EvidenceStore, run: dict[str, Any], rules: Iterable[str] | None = None) -> Coverage:
        ident = SiteIdentity.of_options(run.get("options"), run["start_url"])
        norm = ident.normalise
        with store.engine.connect() as conn:
            page_rows = conn.execute(select(pages.c.url, pages.c.final_url).where(pages.c.run_id == run["id"])).all()
            judged = {norm(r[0]) for r in conn.execute(select(link_results.c.target_url).where(link_results.c.run_id == run["id"]))}
            measured: dict[str, set[str]] = {fam: set() for fam in MEASURED_KINDS.values()}
            for kind, key in conn.execute(select(records.c.kind, records.c.key).where(
                    records.c.run_id == run["id"], records.c.kind.in_(list(MEASURED_KINDS)))):
                if key:
                    measured[MEASURED_KINDS[kind]].add(norm(key) or "")
            failed = {r[0] for r in conn.execute(select(errors.c.plugin).where(
                errors.c.run_id == run["id"], errors.c.stage.in_(("check", "measure")))) if r[0]}
        seen = {norm(u) for row in page_rows for u in row if u}
        opts = run.get("options") or {}
        config = AuditConfig(url=run["start_url"], as_of=run["as_of"], checks=list(opts.get("checks") or []),
                             skip=list(opts.get("skip") or []))
        return cls(run, ident, {s for s in seen if s}, {j for j in judged if j}, measured, failed, config,
                   set(rules) if rules is not None else None)

    def why_not(self, rule: str, url: str | None, plugin: str | None, url_identity: SiteIdentity) -> str | None:
        """None when this run re-checked ``url`` with ``rule``; else the reason it did not."""

        family = rule.split(".", 1)[0]
        if (self.rules is not None and rule not in self.rules) or not self.config.family_enabled(family) \
                or not self.config.rule_enabled(rule):
            return "family_off"
        if plugin and any(p == plugin or p.endswith("." + plugin) for p in self.failed_plugins):
            return "plugin_error"
        target = url_identity.normalise(url) if url else None
        if not target:
            return "not_fetched"
        if family in self.measured:
            return None if target in self.measured[family] or target in _homepage_forms(self) else "not_measured"
        if target in self.pages or (family == "links" and target in self.judged):
            return None
        return "not_fetched"


def _homepage_forms(cov: Coverage) -> set[str]:
    home = cov.identity.normalise((cov.run.get("stats") or {}).get("homepage_url") or cov.run["start_url"]) or ""
    return {home, home.rstrip("/")}


# --- computing a run's history --------------------------------------------------------------------
@dataclass
class Entry:
    """One row of ``finding_history`` before it is written."""

    finding_id: str
    status: str
    first_seen: str | None
    first_seen_run: str | None
    last_seen: str | None
    last_seen_run: str | None
    runs_seen: int
    previous_run: str | None
    snapshot: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def row(self, run_id: str, site: str) -> dict[str, Any]:
        return {"run_id": run_id, "finding_id": self.finding_id, "site": site, "status": self.status,
                "first_seen": self.first_seen, "first_seen_run": self.first_seen_run, "last_seen": self.last_seen,
                "last_seen_run": self.last_seen_run, "runs_seen": self.runs_seen, "previous_run": self.previous_run,
                "reason": self.reason, **self.snapshot}


def _snapshot(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "severity": str(f.severity), "url": f.url, "source_url": f.source_url, "column_name": f.column,
            "message_zh": f.message_zh, "message_en": f.message_en}


def _rows(store: EvidenceStore, run_id: str) -> dict[str, dict[str, Any]]:
    store.flush()
    with store.engine.connect() as conn:
        return {r["finding_id"]: dict(r) for r in conn.execute(
            select(finding_history).where(finding_history.c.run_id == run_id)).mappings()}


def _open_of(store: EvidenceStore, prev: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What was still open after ``prev``: its history rows, or (a run from before history was kept)
    its findings, each seen once."""

    rows = _rows(store, prev["id"])
    if rows:
        return {fid: r for fid, r in rows.items() if r["status"] in OPEN}
    out = {}
    for f in store.iter_findings(prev["id"]):
        out[f.id] = {"finding_id": f.id, "status": "new", "first_seen": prev["as_of"], "first_seen_run": prev["id"],
                     "last_seen": prev["as_of"], "last_seen_run": prev["id"], "runs_seen": 1, "previous_run": None,
                     "plugin": f.plugin, **_snapshot(f)}
    return out


def _latest_rows(store: EvidenceStore, site: str, before: float, ids: set[str]) -> dict[str, dict[str, Any]]:
    """For each id, its history row in the latest earlier run of the site that has one."""

    out: dict[str, dict[str, Any]] = {}
    wanted = sorted(ids)
    with store.engine.connect() as conn:
        for i in range(0, len(wanted), 500):  # usually few: only ids that were not open last run
            q = (select(finding_history, runs.c.started_at).join(runs, runs.c.id == finding_history.c.run_id)
                 .where(finding_history.c.site == site, runs.c.started_at < before,
                        finding_history.c.finding_id.in_(wanted[i:i + 500]))
                 .order_by(runs.c.started_at))
            for r in conn.execute(q).mappings():
                out[r["finding_id"]] = dict(r)  # later runs overwrite earlier ones
    return out


def compute_history(store: EvidenceStore, run_id: str, rules: Iterable[str] | None = None) -> list[Entry]:
    """The history entries of ``run_id`` against the site's previous finished run (not written)."""

    run = store.get_run(run_id)
    if run is None:
        raise KeyError(run_id)
    prev = previous_run(store, run)
    current = list(store.iter_findings(run_id))
    entries: list[Entry] = []
    open_prev = _open_of(store, prev) if prev else {}
    older = _latest_rows(store, run["site"], run["started_at"], {f.id for f in current} - open_prev.keys())
    prev_id = prev["id"] if prev else None
    for f in current:
        before = open_prev.get(f.id)
        if before is not None:
            seen = int(before.get("runs_seen") or 0) + 1
            entries.append(Entry(f.id, "persisting", before.get("first_seen"), before.get("first_seen_run"), run["as_of"],
                                 run_id, seen, prev_id, _snapshot(f)))
        elif f.id in older:
            o = older[f.id]
            entries.append(Entry(f.id, "reopened", o.get("first_seen"), o.get("first_seen_run"), run["as_of"], run_id,
                                 int(o.get("runs_seen") or 0) + 1, prev_id, _snapshot(f)))
        else:
            entries.append(Entry(f.id, "new", run["as_of"], run_id, run["as_of"], run_id, 1, prev_id, _snapshot(f)))
    present = {f.id for f in current}
    gone = {fid: r for fid, r in open_prev.items() if fid not in present}
    if gone:
        cov = Coverage.of(store, run, rules)
        prev_ident = SiteIdentity.of_options(prev.get("options"), prev["start_url"]) if prev else cov.identity
        plugins = _plugins_of(store, gone)
        for fid, r in sorted(gone.items()):
            why = cov.why_not(r["rule"] or "", r.get("url"), plugins.get(fid), prev_ident)
            snap = {k: r.get(k) for k in ("rule", "severity", "url", "source_url", "column_name", "message_zh", "message_en")}
            entries.append(Entry(fid, "not_rechecked" if why else "fixed", r.get("first_seen"), r.get("first_seen_run"),
                                 r.get("last_seen"), r.get("last_seen_run"), int(r.get("runs_seen") or 0), prev_id, snap,
                                 why))
    return entries


def _plugins_of(store: EvidenceStore, gone: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The plugin that raised each absent finding, read from the last run it was found in."""

    out: dict[str, str] = {}
    by_run: dict[str, set[str]] = {}
    for fid, r in gone.items():
        if r.get("plugin"):
            out[fid] = r["plugin"]
        elif r.get("last_seen_run"):
            by_run.setdefault(r["last_seen_run"], set()).add(fid)
    with store.engine.connect() as conn:
        for rid, ids in by_run.items():
            for fid, plugin in conn.execute(select(findings.c.id, findings.c.plugin).where(findings.c.run_id == rid)):
                if fid in ids and plugin:
                    out[fid] = plugin
    return out


def record_history(store: EvidenceStore, run_id: str, rules: Iterable[str] | None = None) -> list[Entry]:
    """Compute and store ``run_id``'s history (replacing what a recheck of it stored before)."""

    run = store.get_run(run_id)
    if run is None:
        raise KeyError(run_id)
    entries = compute_history(store, run_id, rules)
    with store.engine.begin() as conn:
        conn.execute(finding_history.delete().where(finding_history.c.run_id == run_id))
        if entries:
            conn.execute(finding_history.insert(), [e.row(run_id, run["site"]) for e in entries])
    return entries


def history_of(store: EvidenceStore, run_id: str) -> dict[str, dict[str, Any]]:
    """The stored history rows of a run, by finding id."""

    return _rows(store, run_id)


def status_counts(store: EvidenceStore, run_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """run id → {status: count} from the stored history."""

    ids = list(run_ids)
    out: dict[str, dict[str, int]] = {rid: {} for rid in ids}
    if not ids:
        return out
    with store.engine.connect() as conn:
        q = (select(finding_history.c.run_id, finding_history.c.status, func.count())
             .where(finding_history.c.run_id.in_(ids)).group_by(finding_history.c.run_id, finding_history.c.status))
        for rid, status, n in conn.execute(q):
            out[rid][status] = int(n)
    return out


def severity_counts(store: EvidenceStore, run_ids: Iterable[str], excluded: Mapping[str, set[str]] | None = None
                    ) -> dict[str, dict[str, int]]:
    """run id → {severity: findings}, leaving out ``excluded[run_id]`` (findings triaged away)."""

    ids = list(run_ids)
    out: dict[str, dict[str, int]] = {rid: {} for rid in ids}
    if not ids:
        return out
    with store.engine.connect() as conn:
        q = (select(findings.c.run_id, findings.c.severity, func.count()).where(findings.c.run_id.in_(ids))
             .group_by(findings.c.run_id, findings.c.severity))
        for rid, sev, n in conn.execute(q):
            out[rid][sev] = int(n)
        marked = sorted({fid for rid in ids for fid in (excluded or {}).get(rid, set())})
        for i in range(0, len(marked), 500):  # triaged findings are few: subtract them
            q2 = select(findings.c.run_id, findings.c.id, findings.c.severity).where(
                findings.c.run_id.in_(ids), findings.c.id.in_(marked[i:i + 500]))
            for rid, fid, sev in conn.execute(q2):
                if excluded and fid in excluded.get(rid, set()):
                    out[rid][sev] -= 1
    return out


# --- comparing any two runs (govaudit diff) ---------------------------------------------------------
def compare_runs(store: EvidenceStore, run_a: str, run_b: str, rules: Iterable[str] | None = None) -> dict[str, Any]:
    """What changed from run A to run B: findings new in B, persisting, fixed (B re-checked them) or
    not re-checked (absent from B, but B did not look again)."""

    a, b = store.get_run(run_a), store.get_run(run_b)
    if a is None or b is None:
        raise KeyError(run_a if a is None else run_b)
    fa = {f.id: f for f in store.iter_findings(run_a)}
    fb = {f.id: f for f in store.iter_findings(run_b)}
    cov = Coverage.of(store, b, rules)
    ident_a = SiteIdentity.of_options(a.get("options"), a["start_url"])
    groups: dict[str, list[dict[str, Any]]] = {"new": [], "persisting": [], "fixed": [], "not_rechecked": []}
    for fid, f in sorted(fb.items()):
        groups["persisting" if fid in fa else "new"].append(_brief(f))
    for fid, f in sorted(fa.items()):
        if fid in fb:
            continue
        why = cov.why_not(f.rule, f.url, f.plugin, ident_a)
        groups["not_rechecked" if why else "fixed"].append({**_brief(f), **({"reason": why} if why else {})})
    score_a, score_b = (a.get("score") or {}), (b.get("score") or {})
    return {
        "run_a": {"id": run_a, "site": a["site"], "as_of": a["as_of"], "status": a["status"], "score": score_a.get("score"),
                  "veto": score_a.get("veto"), "findings": len(fa)},
        "run_b": {"id": run_b, "site": b["site"], "as_of": b["as_of"], "status": b["status"], "score": score_b.get("score"),
                  "veto": score_b.get("veto"), "findings": len(fb)},
        "same_site": a["site"] == b["site"],
        "counts": {k: len(v) for k, v in groups.items()},
        "ids": {k: [d["id"] for d in v] for k, v in groups.items()},
        "findings": groups,
    }


def _brief(f: Finding) -> dict[str, Any]:
    return {"id": f.id, "rule": f.rule, "severity": str(f.severity), "url": f.url, "message": f.message_zh,
            "message_en": f.message_en or None}


# --- triage ---------------------------------------------------------------------------------------------
def set_triage(store: EvidenceStore, site: str, finding_id: str, *, mark: str | None = None, note: str | None = None,
               until: str | None = None, responsible: str | None = None, deadline: str | None = None,
               progress: str | None = None, source: str = "cli", rule: str | None = None,
               clear_mark: bool = False) -> dict[str, Any]:
    """Create or update the triage row of (site, finding id); None leaves a field as it was."""

    if mark is not None and mark not in MARKS:
        raise ValueError(f"unknown triage mark {mark!r} (one of {', '.join(MARKS)})")
    if until:
        dt.date.fromisoformat(until)
    store.flush()
    with store.engine.begin() as conn:
        cond = and_(triage.c.site == site, triage.c.finding_id == finding_id)
        row = conn.execute(select(triage).where(cond)).mappings().first()
        values: dict[str, Any] = {k: v for k, v in {"mark": mark, "note": note, "until": until, "responsible": responsible,
                                                     "deadline": deadline, "progress": progress, "rule": rule}.items()
                                  if v is not None}
        if clear_mark:
            values.update(mark=None, until=None)
        values.update(source=source, updated_at=time.time())
        if row is None:
            conn.execute(triage.insert().values(site=site, finding_id=finding_id, **values))
        else:
            conn.execute(triage.update().where(cond).values(**values))
        return dict(conn.execute(select(triage).where(cond)).mappings().one())


def triage_of(store: EvidenceStore, site: str) -> dict[str, dict[str, Any]]:
    """Every triage row of a site, by finding id."""

    store.flush()
    with store.engine.connect() as conn:
        return {r["finding_id"]: dict(r) for r in conn.execute(select(triage).where(triage.c.site == site)).mappings()}


def mark_active(row: Mapping[str, Any] | None, as_of: str) -> bool:
    """True when ``row`` carries a mark that applies on ``as_of`` (no expiry, or expiry not passed)."""

    if not row or row.get("mark") not in MARKS:
        return False
    until = row.get("until")
    return not until or str(until) >= as_of


def triaged_ids(store: EvidenceStore, site: str, as_of: str) -> set[str]:
    """Finding ids of ``site`` whose mark applies on ``as_of``: shown apart, not scored."""

    return {fid for fid, row in triage_of(store, site).items() if mark_active(row, as_of)}


def triage_dict(row: Mapping[str, Any], as_of: str) -> dict[str, Any]:
    """A triage row as report.json shows it on a finding."""

    return {"mark": row.get("mark"), "active": mark_active(row, as_of), "note": row.get("note"), "until": row.get("until"),
            "responsible": row.get("responsible"), "deadline": row.get("deadline"), "progress": row.get("progress"),
            "source": row.get("source"),
            "updated_at": dt.datetime.fromtimestamp(row["updated_at"], dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if row.get("updated_at") else None}


def sites_of_finding(store: EvidenceStore, finding_id: str) -> list[str]:
    """The sites whose runs have a finding with this id (a site-level key can repeat across sites)."""

    with store.engine.connect() as conn:
        q = (select(runs.c.site).join(findings, findings.c.run_id == runs.c.id).where(findings.c.id == finding_id)
             .distinct())
        return sorted(r[0] for r in conn.execute(q))


def latest_finding(store: EvidenceStore, site: str, finding_id: str) -> Finding | None:
    """The finding as the latest run of ``site`` that has it stored it."""

    from auditor.store.database import row_to_finding

    with store.engine.connect() as conn:
        q = (select(findings).join(runs, runs.c.id == findings.c.run_id)
             .where(runs.c.site == site, findings.c.id == finding_id).order_by(runs.c.started_at.desc()).limit(1))
        row = conn.execute(q).mappings().first()
    return row_to_finding(dict(row)) if row else None
