"""Provincial inspection tables: the site registry, fleet runs and their per-site items, and the
named locks that keep one audit per site and a bounded number per IP across every worker.

They live on the shared ``metadata`` of :mod:`auditor.store.database`, so a registry sits in the same
database as the audits it drives (one SQLite file on one machine, one PostgreSQL database for many).
Locks are rows, not advisory locks of one backend: an ``INSERT`` of a primary key is atomic on SQLite
and PostgreSQL alike, and a lock whose holder died expires (``expires_at``) instead of blocking for ever.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any

from sqlalchemy import JSON, Column, Float, Integer, String, Table, Text, delete, select, update
from sqlalchemy.exc import IntegrityError

from auditor.store.database import EvidenceStore, metadata

registry_sites = Table(
    "registry_sites",
    metadata,
    Column("site_code", String(16), primary_key=True),  # 网站标识码
    Column("name", Text, nullable=False),  # 网站名称
    Column("homepage", Text, nullable=False),  # 首页地址
    Column("sponsor", Text),  # 主办单位
    Column("level", String(16)),  # 行政级别 as a --profile value
    Column("level_label", Text),  # 行政级别 as written in the file
    Column("parent", Text),  # 上级单位
    Column("region", Text),  # 地区
    Column("rulepack", String(64)),  # 规则包 (empty: the fleet run's --rules)
    Column("note", Text),  # 备注
    Column("imported_at", Float, nullable=False),
    Column("source", Text),  # the file it came from
)

fleet_runs = Table(
    "fleet_runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("as_of", String(10), nullable=False),
    Column("status", String(16), nullable=False),  # running | complete | partial
    Column("engine", String(16), nullable=False),  # local | procrastinate
    Column("out", Text, nullable=False),
    Column("options", JSON, nullable=False),  # the pass-through check arguments
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
)

fleet_items = Table(
    "fleet_items",
    metadata,
    Column("fleet_id", String(40), primary_key=True),
    Column("site_code", String(16), primary_key=True),
    Column("status", String(16), nullable=False),  # queued | running | done | unreachable | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_id", String(32)),  # the evidence-store run the roll-up reads (the last attempt's)
    Column("runs", JSON),  # every attempt: [{"run_id", "status", "worker", "exit"}]
    Column("worker", Text),
    Column("exit_code", Integer),
    Column("report_dir", Text),
    Column("error", Text),
    Column("started_at", Float),
    Column("finished_at", Float),
)

fleet_locks = Table(
    "fleet_locks",
    metadata,
    Column("name", String(255), primary_key=True),  # "site:<code>" or "ip:<addr>#<slot>"
    Column("holder", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)


fleet_schedules = Table(
    "fleet_schedules",
    metadata,
    Column("name", String(64), primary_key=True),  # "monthly"
    Column("cron", String(64), nullable=False),
    Column("options", JSON, nullable=False),  # FleetOptions of the scheduled runs
    Column("created_at", Float, nullable=False),
)


def worker_id() -> str:
    """Who holds a lock: host and pid, readable in the table when an operator looks."""

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class FleetStore:
    """Registry, fleet runs and locks over an :class:`EvidenceStore`'s engine (same database)."""

    def __init__(self, store: EvidenceStore) -> None:
        self.store = store
        self.engine = store.engine

    # -- registry --------------------------------------------------------------------------
    def upsert_sites(self, rows: list[dict[str, Any]], source: str) -> tuple[int, int]:
        """Insert or replace registry rows by 网站标识码; returns (added, updated)."""

        added = updated = 0
        now = time.time()
        with self.engine.begin() as conn:
            have = {r[0] for r in conn.execute(select(registry_sites.c.site_code))}
            for row in rows:
                values = {**row, "imported_at": now, "source": source}
                if row["site_code"] in have:
                    conn.execute(update(registry_sites).where(registry_sites.c.site_code == row["site_code"]).values(values))
                    updated += 1
                else:
                    conn.execute(registry_sites.insert().values(values))
                    have.add(row["site_code"])
                    added += 1
        return added, updated

    def sites(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(registry_sites).order_by(registry_sites.c.region, registry_sites.c.site_code))
            return [dict(r) for r in rows.mappings()]

    def site(self, code: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(registry_sites).where(registry_sites.c.site_code == code)).mappings().first()
        return dict(row) if row else None

    # -- fleet runs ------------------------------------------------------------------------
    def start_fleet(self, as_of: str, engine: str, out: str, options: dict[str, Any], codes: list[str]) -> str:
        fleet_id = time.strftime("fleet-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self.engine.begin() as conn:
            conn.execute(fleet_runs.insert().values(id=fleet_id, as_of=as_of, status="running", engine=engine, out=out,
                                                    options=options, started_at=time.time()))
            if codes:
                conn.execute(fleet_items.insert(), [{"fleet_id": fleet_id, "site_code": c, "status": "queued", "attempts": 0,
                                                     "runs": []} for c in codes])
        return fleet_id

    def fleet(self, fleet_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(fleet_runs).where(fleet_runs.c.id == fleet_id)).mappings().first()
        return dict(row) if row else None

    def fleets(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(fleet_runs).order_by(fleet_runs.c.started_at)).mappings()]

    def previous_fleet(self, fleet_id: str) -> dict[str, Any] | None:
        """The last finished fleet run before ``fleet_id`` (for the change-since column)."""

        this = self.fleet(fleet_id)
        if this is None:
            return None
        earlier = [f for f in self.fleets() if f["started_at"] < this["started_at"] and f["status"] != "running"]
        return earlier[-1] if earlier else None

    def finish_fleet(self, fleet_id: str) -> str:
        items = self.items(fleet_id)
        status = "complete" if all(i["status"] in ("done", "unreachable") for i in items) else "partial"
        with self.engine.begin() as conn:
            conn.execute(update(fleet_runs).where(fleet_runs.c.id == fleet_id).values(status=status, finished_at=time.time()))
        return status

    def items(self, fleet_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            q = select(fleet_items).where(fleet_items.c.fleet_id == fleet_id).order_by(fleet_items.c.site_code)
            return [dict(r) for r in conn.execute(q).mappings()]

    def item(self, fleet_id: str, code: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            q = select(fleet_items).where(fleet_items.c.fleet_id == fleet_id, fleet_items.c.site_code == code)
            row = conn.execute(q).mappings().first()
        return dict(row) if row else None

    def begin_item(self, fleet_id: str, code: str, worker: str) -> int:
        """Mark an item running for ``worker``; returns the attempt number (1 = first)."""

        with self.engine.begin() as conn:
            q = select(fleet_items.c.attempts).where(fleet_items.c.fleet_id == fleet_id, fleet_items.c.site_code == code)
            attempts = int(conn.execute(q).scalar_one() or 0) + 1
            conn.execute(update(fleet_items).where(fleet_items.c.fleet_id == fleet_id, fleet_items.c.site_code == code)
                         .values(status="running", attempts=attempts, worker=worker, started_at=time.time()))
        return attempts

    def end_item(self, fleet_id: str, code: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(fleet_items).where(fleet_items.c.fleet_id == fleet_id, fleet_items.c.site_code == code)
                         .values(finished_at=time.time(), **values))

    def add_attempt(self, fleet_id: str, code: str, attempt: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            q = select(fleet_items.c.runs).where(fleet_items.c.fleet_id == fleet_id, fleet_items.c.site_code == code)
            runs = list(conn.execute(q).scalar_one() or [])
            runs.append(attempt)
            conn.execute(update(fleet_items).where(fleet_items.c.fleet_id == fleet_id, fleet_items.c.site_code == code)
                         .values(runs=runs))

    # -- schedules -------------------------------------------------------------------------
    def set_schedule(self, name: str, cron: str, options: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(fleet_schedules).where(fleet_schedules.c.name == name))
            conn.execute(fleet_schedules.insert().values(name=name, cron=cron, options=options, created_at=time.time()))

    def schedules(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(fleet_schedules).order_by(fleet_schedules.c.name)).mappings()]

    def release_holder(self, holder: str) -> None:
        """Drop every lock of a holder known to be dead (its job was retried as stalled)."""

        with self.engine.begin() as conn:
            conn.execute(delete(fleet_locks).where(fleet_locks.c.holder == holder))

    # -- locks -----------------------------------------------------------------------------
    def try_lock(self, name: str, holder: str, ttl: float) -> bool:
        """Take the named lock (atomic primary-key insert); an expired lock is taken over."""

        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(delete(fleet_locks).where(fleet_locks.c.name == name, fleet_locks.c.expires_at < now))
        try:
            with self.engine.begin() as conn:
                conn.execute(fleet_locks.insert().values(name=name, holder=holder, expires_at=now + ttl))
        except IntegrityError:
            return False
        return True

    def refresh_locks(self, holder: str, ttl: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(fleet_locks).where(fleet_locks.c.holder == holder).values(expires_at=time.time() + ttl))

    def release(self, name: str, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(fleet_locks).where(fleet_locks.c.name == name, fleet_locks.c.holder == holder))

    def holders(self, prefix: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            q = select(fleet_locks).where(fleet_locks.c.name.like(prefix + "%"), fleet_locks.c.expires_at >= time.time())
            return [dict(r) for r in conn.execute(q).mappings()]
