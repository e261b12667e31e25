"""Running one audit per registry site: each in its own ``govaudit check`` process.

Why a process per audit: Twisted's reactor cannot be restarted in one interpreter, and a crash or a
runaway site then costs one process, not the fleet. The same :func:`run_item` is what the embedded
engine (local worker threads, each supervising one child process) and the Procrastinate task call, so
both engines share the bookkeeping:

- a **site lock** (``site:<code>``) — one audit of a site at a time, across fleet runs and machines;
- a **per-IP semaphore** (``ip:<addr>#<slot>``, ``per_ip`` slots) — sites of one 集约化 platform share
  one address, and the platform must not get ``workers`` audits at once;
- an **attempt log** on the fleet item (child pid and host recorded before the audit starts), so the
  next attempt after a killed worker marks the orphaned evidence run ``interrupted`` and the roll-up
  reads only the last attempt's run — no finding is counted twice.

The audit process is started by :mod:`auditor.fleet.launch` — forked from a warm forkserver (default on
Linux) or a fresh ``python -m auditor.cli.main check`` — and tied to its worker with
``PR_SET_PDEATHSIG``: ``kill -9`` of a worker takes its audit with it instead of leaving a headless
crawler hammering the site while the retry starts another.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update

from auditor.fleet import launch
from auditor.fleet.launch import default_launcher
from auditor.network.guard import ALLOW_NETWORKS_ENV
from auditor.network.resolve import ResolveError, Resolver
from auditor.store.database import EvidenceStore, runs
from auditor.store.registry import FleetStore, worker_id

LOCK_TTL = 120.0  # seconds a lock lives without a refresh; the holder refreshes every LOCK_TTL / 4
EXIT_CANNOT_RUN = 3
SITE_FORMATS = ("json", "html")


@dataclass
class FleetOptions:
    """What every audit of a fleet run shares (stored on the fleet run, so any worker can rebuild it)."""

    db: str
    out: str
    as_of: str
    check_args: list[str] = field(default_factory=list)  # pass-through ``check`` options, already validated
    rules: str | None = None  # default for rows without 规则包
    per_ip: int = 2
    audit_timeout: float = 3600.0
    resolve: dict[str, str] = field(default_factory=dict)
    dns_server: str | None = None
    deadline_days: int | None = None  # 整改期限 in the 通报: working days (None: the pack's report.rectify_working_days)
    codes: list[str] | None = None  # only these registry sites (None: all)
    launcher: str = field(default_factory=default_launcher)  # fork (a warm forkserver) | exec (a fresh interpreter)
    site_formats: list[str] = field(default_factory=lambda: list(SITE_FORMATS))  # unless check_args has --format
    allow_networks: list[str] | None = None  # private networks the audits may reach (the demo's loopback sites)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FleetOptions:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def open_store(db: str) -> EvidenceStore:
    """The evidence store of a fleet (``postgresql://`` is taken as the psycopg 3 driver)."""

    if db.startswith(("postgresql://", "postgres://")):
        db = "postgresql+psycopg://" + db.split("://", 1)[1]
    return EvidenceStore(db)


def create_fleet(db: str, opts: FleetOptions, engine: str) -> str:
    """A fleet run over the stored registry (all sites, or ``opts.codes``); returns its id."""

    fs = FleetStore(open_store(db))
    codes = [s["site_code"] for s in fs.sites() if opts.codes is None or s["site_code"] in opts.codes]
    return fs.start_fleet(opts.as_of, engine, opts.out, opts.to_dict(), codes)


def site_dir(out: str | Path, code: str) -> Path:
    return Path(out) / "sites" / code


def check_argv(site: dict[str, Any], opts: FleetOptions) -> list[str]:
    """The ``govaudit check`` arguments of one site (after ``govaudit``); fleet-level values come last so
    they win. Reports: what the roll-up reads and links (``report.json``, ``report.html``) unless the
    fleet's check options name ``--format`` themselves — the per-site XLSX and 整改台账 cost every site a
    second or so and a provincial office reads the roll-up's XLSX instead."""

    argv = ["check", site["homepage"], *opts.check_args,
            "--out", str(site_dir(opts.out, site["site_code"])), "--db", opts.db, "--as-of", opts.as_of]
    if not any(a == "--format" or a.startswith("--format=") for a in opts.check_args) and opts.site_formats:
        argv += ["--format", ",".join(opts.site_formats)]
    if site.get("level"):
        argv += ["--profile", site["level"]]
    rules = site.get("rulepack") or opts.rules
    if rules:
        argv += ["--rules", rules]
    return argv


def site_address(site: dict[str, Any], opts: FleetOptions) -> str:
    """The IP the site's host resolves to (per-IP politeness key); the host itself if it cannot be resolved."""

    host = (urlsplit(site["homepage"]).hostname or "").lower()
    try:
        addrs = Resolver(dict(opts.resolve), opts.dns_server, timeout=3.0).addresses(host)
    except (ResolveError, OSError, ValueError):
        addrs = []
    return addrs[0] if addrs else host


class _Heartbeat:
    """Refreshes the holder's locks while an audit runs (a dead holder's locks then expire)."""

    def __init__(self, fs: FleetStore, holder: str) -> None:
        self.fs, self.holder, self.stop = fs, holder, threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name="fleet-heartbeat")

    def _beat(self) -> None:
        while not self.stop.wait(LOCK_TTL / 4):
            with contextlib.suppress(Exception):
                self.fs.refresh_locks(self.holder, LOCK_TTL)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()


@contextlib.contextmanager
def site_and_ip_locks(fs: FleetStore, code: str, address: str, per_ip: int, holder: str,
                      poll: float = 0.5) -> Iterator[None]:
    """Wait for the site lock, then for one of the address's ``per_ip`` slots (in that order, so a
    worker never holds an IP slot while waiting for a site)."""

    site_lock = f"site:{code}"
    while not fs.try_lock(site_lock, holder, LOCK_TTL):
        time.sleep(poll)
    slot_lock = None
    try:
        while slot_lock is None:
            for slot in range(max(1, per_ip)):
                name = f"ip:{address}#{slot}"
                if fs.try_lock(name, holder, LOCK_TTL):
                    slot_lock = name
                    break
            else:
                time.sleep(poll)
        yield
    finally:
        if slot_lock:
            fs.release(slot_lock, holder)
        fs.release(site_lock, holder)


def mark_orphans(store: EvidenceStore, attempts: list[dict[str, Any]]) -> list[str]:
    """Evidence runs of an attempt whose worker died: marked ``interrupted`` (the store may have
    done so already when it was opened — a run whose process is gone — and it still counts here)."""

    marked = []
    for att in attempts:
        if att.get("exit") is not None or not att.get("pid"):
            continue
        att["lost"] = True  # its worker died before recording an outcome
        with store.engine.begin() as conn:
            q = select(runs.c.id, runs.c.status).where(runs.c.pid == att["pid"],
                                                       runs.c.status.in_(("running", "interrupted")),
                                                       runs.c.started_at >= att["started_at"] - 1)
            for run_id, status in conn.execute(q).all():
                if status == "running":
                    conn.execute(update(runs).where(runs.c.id == run_id).values(status="interrupted",
                                                                                finished_at=time.time()))
                marked.append(run_id)
        att["interrupted_runs"] = marked
    return marked


def _run_of_child(store: EvidenceStore, pid: int, started: float) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        q = select(runs).where(runs.c.pid == pid, runs.c.started_at >= started - 1).order_by(runs.c.started_at.desc())
        row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def run_item(db: str, fleet_id: str, code: str, on_spawn: Callable[[int], None] | None = None,
             takeover: bool = False) -> dict[str, Any]:
    """Audit one registry site for one fleet run and record the outcome on its fleet item.

    Safe to call again for the same item (a retried job): earlier unfinished attempts are marked
    interrupted and replaced, never added to. ``takeover`` (the job engine says the previous worker is
    dead) frees that worker's locks at once instead of waiting for them to expire.
    """

    store = open_store(db)
    fs = FleetStore(store)
    fleet = fs.fleet(fleet_id)
    site = fs.site(code)
    item = fs.item(fleet_id, code)
    if fleet is None or site is None or item is None:
        raise LookupError(f"没有这个巡检任务或站点 / no such fleet item: {fleet_id} {code}")
    if item["status"] in ("done", "unreachable"):
        return item  # a duplicate delivery of a finished job
    opts = FleetOptions.from_dict(fleet["options"])
    holder = worker_id()
    address = site_address(site, opts)
    if takeover:
        for att in item.get("runs") or []:
            if att.get("exit") is None and att.get("worker"):
                fs.release_holder(att["worker"])
    with _Heartbeat(fs, holder), site_and_ip_locks(fs, code, address, opts.per_ip, holder):
        item = fs.item(fleet_id, code) or item
        attempts = list(item.get("runs") or [])
        interrupted = mark_orphans(store, attempts)
        attempt_no = fs.begin_item(fleet_id, code, holder)
        out_dir = site_dir(opts.out, code)
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in ("report.json", "report.html", "report.xlsx"):  # a killed attempt's half-written files
            with contextlib.suppress(FileNotFoundError):
                (out_dir / stale).unlink()
        started = time.time()
        env = {"PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "TERM": "dumb"}
        if opts.allow_networks is not None:
            env[ALLOW_NETWORKS_ENV] = ",".join(opts.allow_networks)
        proc = launch.start(check_argv(site, opts), str(out_dir / "audit.log"), env, opts.launcher)
        attempt = {"attempt": attempt_no, "pid": proc.pid, "host": socket.gethostname(), "worker": holder,
                   "started_at": started, "exit": None, "ip": address}
        fs.end_item(fleet_id, code, runs=[*attempts, attempt], status="running", report_dir=str(out_dir))
        if on_spawn:
            on_spawn(proc.pid)
        try:
            code_ = proc.wait(timeout=opts.audit_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            code_ = proc.wait()
        run = _run_of_child(store, proc.pid, started)
        attempt["exit"] = code_
        attempt["run_id"] = run["id"] if run else None
        attempt["interrupted_before"] = interrupted
        report = out_dir / "report.json"
        # an unreachable homepage still writes a report (run failed, exit 3, 站点无法访问 finding)
        if run is not None and run["status"] == "failed" and code_ == EXIT_CANNOT_RUN:
            status, error = "unreachable", _first_error(store, run["id"])
        elif report.exists():
            status, error = "done", None
        else:
            tail = (out_dir / "audit.log").read_text(encoding="utf-8", errors="replace")[-800:]
            status, error = "failed", f"exit {code_}: {tail.strip()}"
        fs.end_item(fleet_id, code, status=status, run_id=run["id"] if run else None, exit_code=code_,
                    runs=[*attempts, attempt], error=error)
    store.close()
    return fs.item(fleet_id, code) or {}


def _first_error(store: EvidenceStore, run_id: str) -> str:
    for err in store.iter_errors(run_id):
        return str(err["message"])
    return ""


def run_local(db: str, fleet_id: str, workers: int, on_done: Callable[[dict[str, Any]], None] | None = None) -> None:
    """The embedded engine: ``workers`` threads, each supervising one audit process at a time."""

    fs = FleetStore(open_store(db))
    codes = [i["site_code"] for i in fs.items(fleet_id) if i["status"] not in ("done", "unreachable")]

    def one(code: str) -> None:
        try:
            item = run_item(db, fleet_id, code)
        except Exception as exc:  # noqa: BLE001 - one site's trouble is that site's failed item, never the fleet's
            fs.end_item(fleet_id, code, status="failed", error=f"{type(exc).__name__}: {exc}")
            item = fs.item(fleet_id, code) or {"site_code": code, "status": "failed"}
        if on_done:
            on_done(item)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fleet-worker") as pool:
        list(pool.map(one, codes))
    fs.finish_fleet(fleet_id)


def report_of(item: dict[str, Any]) -> dict[str, Any] | None:
    if not item.get("report_dir"):
        return None
    path = Path(item["report_dir"]) / "report.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
