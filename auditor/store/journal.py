"""The run journal: the crawl's frontier as rows, so a killed or interrupted audit can resume.

Why a journal and not only the fetches: a fetch row says what was fetched, not what was still to
fetch. The spider writes one row per URL it queues for the next breadth-first level (``queued``),
per request it sends (``pending``) and per answer it records (``done``), in the same committed
batch as the fetch, page and link rows of that answer (:class:`auditor.crawl.journal.ItemGroup`),
so a ``done`` row is never stored without the evidence it stands for. The frontier of a run is
then: requests ``pending`` and not ``done``, plus ``queued`` pages never requested.

Also here: a run whose process is gone is marked ``interrupted`` in its row by the next govaudit
command that opens the store (:func:`mark_dead_runs`, called from ``EvidenceStore``), and
:func:`prepare_resume` forgets what a resumed run re-derives (measurements, findings, records,
non-crawl errors) so nothing is counted twice.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Text, select, update

from auditor.store.database import (
    EvidenceStore,
    _pid_alive,
    errors,
    findings,
    link_results,
    metadata,
    records,
    runs,
)

crawl_journal = metadata.tables.get("crawl_journal")
if crawl_journal is None:
    from sqlalchemy import Table

    crawl_journal = Table(
        "crawl_journal",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("run_id", String(32), nullable=False),
        Column("state", String(8), nullable=False),  # queued | pending | done
        Column("url", Text, nullable=False),
        Column("purpose", String(16)),  # page | check | attachment | calibration | sitemap
        Column("method", String(8)),
        Column("depth", Integer),
        Column("flags", JSON),  # ga_skip, ga_fallback, ga_host: what the request's meta carried
        Column("at", Float),
        Index("ix_crawl_journal_run", "run_id", "id"),
    )

INTERRUPTED = "interrupted"
RESUMABLE = ("interrupted",)


def journal_key(url: str, method: str, purpose: str) -> tuple[str, str, str]:
    """What a ``done`` row answers: calibration and sitemap fetches are kept apart from the
    page/check/attachment fetches of the same URL (a page cut by the budget is fetched as a
    check: the ``done`` of that check answers its ``queued`` page)."""

    return (url, method, purpose if purpose in ("calibration", "sitemap") else "x")


def host_tag() -> str:
    """Which machine owns a run (a pid says nothing about another host sharing a PostgreSQL store)."""

    return socket.gethostname()


def mark_dead_runs(store: EvidenceStore) -> list[str]:
    """Mark every ``running`` run whose process is gone as ``interrupted`` (in the row, not only
    when read), and return their ids. Runs started on another machine are left alone."""

    me = host_tag()
    dead = []
    with store.engine.connect() as conn:
        rows = conn.execute(select(runs.c.id, runs.c.pid, runs.c.stats).where(runs.c.status == "running")).all()
    for run_id, pid, stats in rows:
        owner = (stats or {}).get("host") if isinstance(stats, dict) else None
        if owner not in (None, me):
            continue
        if pid == os.getpid() or _pid_alive(pid):
            continue
        dead.append(run_id)
    if dead:
        with store.engine.begin() as conn:
            for run_id in dead:
                conn.execute(update(runs).where(runs.c.id == run_id, runs.c.status == "running").values(
                    status=INTERRUPTED, finished_at=time.time()))
    return dead


def latest_resumable(store: EvidenceStore, host: str | None) -> str | None:
    """The newest interrupted run (of ``host`` when given): what ``--resume`` without an id means."""

    q = select(runs.c.id).where(runs.c.status.in_(RESUMABLE)).order_by(runs.c.started_at.desc())
    if host:
        q = q.where(runs.c.site == host)
    with store.engine.connect() as conn:
        row = conn.execute(q.limit(1)).first()
    return row[0] if row else None


def prepare_resume(store: EvidenceStore, run_id: str) -> None:
    """Make an interrupted run ``running`` again under this process and forget what the rest of
    the audit derives again over all stored evidence: link verdicts, measurements, records,
    findings and the errors of every stage but the crawl."""

    store.flush()
    with store.engine.begin() as conn:
        conn.execute(findings.delete().where(findings.c.run_id == run_id))
        conn.execute(records.delete().where(records.c.run_id == run_id))
        conn.execute(link_results.delete().where(link_results.c.run_id == run_id))
        conn.execute(errors.delete().where((errors.c.run_id == run_id) & (errors.c.stage != "crawl")))
        stats = conn.execute(select(runs.c.stats).where(runs.c.id == run_id)).scalar_one_or_none() or {}
        conn.execute(update(runs).where(runs.c.id == run_id).values(
            status="running", pid=os.getpid(), finished_at=None, score=None,
            stats={**stats, "host": host_tag(), "resumed": int(stats.get("resumed", 0)) + 1}))


def set_running_stats(store: EvidenceStore, run_id: str, stats: dict[str, Any], coverage: dict[str, Any]) -> None:
    """Store the crawl's stats and coverage while the run stays ``running`` (the status is set
    once, when the report is written: a run killed during measure or checks must not read as done)."""

    store.flush()
    with store.engine.begin() as conn:
        old = conn.execute(select(runs.c.stats).where(runs.c.id == run_id)).scalar_one_or_none() or {}
        keep = {k: old[k] for k in ("host", "resumed") if k in old}
        conn.execute(update(runs).where(runs.c.id == run_id).values(stats={**keep, **stats}, coverage=coverage))


def set_status(store: EvidenceStore, run_id: str, status: str) -> None:
    store.flush()
    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(status=status, finished_at=time.time()))


def claim_host(store: EvidenceStore, run_id: str) -> None:
    """Note the machine in a new run's stats, for :func:`mark_dead_runs`."""

    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(stats={"host": host_tag()}))


@dataclass
class Frontier:
    """What a stored run still had to crawl, and what it had already seen."""

    pending: list[dict[str, Any]] = field(default_factory=list)  # requests sent, never answered
    queued: list[dict[str, Any]] = field(default_factory=list)  # pages for the next level, never requested
    seen: set[str] = field(default_factory=set)
    calibrated_hosts: set[str] = field(default_factory=set)
    pages_scheduled: int = 0
    pages_fetched: int = 0
    level: int = 0
    rows: int = 0


def load_frontier(store: EvidenceStore, run_id: str) -> Frontier:
    """Read the journal of ``run_id`` into a :class:`Frontier` (in journal order)."""

    store.flush()
    fr = Frontier()
    done: set[tuple[str, str, str]] = set()
    requested: list[dict[str, Any]] = []
    queued: dict[str, dict[str, Any]] = {}
    requested_pages: set[str] = set()
    requested_keys: set[tuple[str, str, str]] = set()
    with store.engine.connect() as conn:
        result = conn.execute(select(crawl_journal).where(crawl_journal.c.run_id == run_id).order_by(crawl_journal.c.id))
        for row in result.mappings():
            fr.rows += 1
            r = dict(row)
            r["flags"] = r.get("flags") or {}
            key = journal_key(r["url"], r["method"] or "GET", r["purpose"] or "")
            if r["state"] == "done":
                if key not in done and r["purpose"] == "page":
                    fr.pages_fetched += 1
                done.add(key)
                continue
            if r["purpose"] not in ("calibration", "sitemap"):
                fr.seen.add(r["url"])
            if r["state"] == "queued":
                queued.setdefault(r["url"], r)
                continue
            if key in requested_keys:  # sent again by an earlier resume
                continue
            requested_keys.add(key)
            requested.append(r)
            if r["purpose"] == "calibration" and r["flags"].get("ga_host"):
                fr.calibrated_hosts.add(r["flags"]["ga_host"])
            if r["purpose"] not in ("calibration", "sitemap"):
                requested_pages.add(r["url"])  # promoted, or cut by the page budget and checked instead
            if r["purpose"] == "page":
                fr.pages_scheduled += 1
                fr.level = max(fr.level, r["depth"] or 0)
    # every request is pending until its answer's group was committed
    fr.pending = [r for r in requested if journal_key(r["url"], r["method"] or "GET", r["purpose"] or "") not in done]
    fr.queued = [r for url, r in queued.items() if url not in requested_pages
                 and journal_key(url, "GET", "page") not in done]
    return fr
