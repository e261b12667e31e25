"""The distributed engine: Procrastinate jobs on the PostgreSQL database that also holds the evidence.

Why Procrastinate (and not Celery + Redis): the evidence store is already PostgreSQL past one machine,
and Procrastinate keeps its queue in that same database — durable jobs, retries, ``lock=`` (one job per
lock string runs at a time: one audit per site), ``queueing_lock=`` (a site is queued once per fleet run),
periodic schedules and worker heartbeats, with no broker to install, secure and monitor. A province's
IT office runs one database it already backs up instead of two services.

One job = one site of one fleet run (``audit_site(db, fleet_id, site_code)``); the job calls the same
:func:`auditor.fleet.runner.run_item` as the embedded engine, which starts one ``govaudit check``
process. A worker killed mid-audit stops sending heartbeats; every live worker looks for such stalled
jobs every few seconds and retries them, and the retried :func:`run_item` marks the dead attempt's
evidence run ``interrupted`` (the roll-up reads only the last attempt's run).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from auditor.config import ConfigError

QUEUE = "govaudit"
log = logging.getLogger(__name__)


def conninfo(db: str) -> str:
    """psycopg's connection string from a store URL (``postgresql+psycopg://`` → ``postgresql://``)."""

    if "://" not in db or not db.split("://", 1)[0].startswith(("postgresql", "postgres")):
        raise ConfigError("分布式巡检需要 PostgreSQL 数据库：--db postgresql://用户@主机:端口/库名 "
                          "/ the procrastinate engine needs --db postgresql://…")
    return "postgresql://" + db.split("://", 1)[1]


def store_url(db: str) -> str:
    """The SQLAlchemy URL of the same database (psycopg 3 driver)."""

    return "postgresql+psycopg://" + conninfo(db).split("://", 1)[1]


def make_app(db: str) -> Any:
    """A Procrastinate app bound to ``db`` with the fleet's tasks registered."""

    try:
        import procrastinate
    except ImportError as exc:  # pragma: no cover - the postgres extra not installed
        raise ConfigError("需要安装 procrastinate：pip install 'govaudit[postgres]'") from exc

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(db)))

    @app.task(name="govaudit.audit_site", queue=QUEUE, pass_context=True, retry=2)
    def audit_site(context: Any, db: str, fleet_id: str, site_code: str) -> str:
        from auditor.fleet.runner import run_item

        retried = bool(context.job and context.job.attempts)
        item = run_item(db, fleet_id, site_code, takeover=retried)
        _maybe_finish(db, fleet_id)
        return str(item.get("status"))

    @app.task(name="govaudit.fleet_start", queue=QUEUE, pass_context=False, queueing_lock="govaudit.fleet_start")
    def fleet_start(timestamp: int, db: str, options: dict[str, Any]) -> str:
        """A scheduled fleet run: create it from the stored registry and defer one job per site."""

        from auditor.fleet.runner import FleetOptions, create_fleet

        opts = FleetOptions.from_dict(options)
        # a scheduled run is judged on the day it was due (the periodic deferrer's timestamp)
        opts.as_of = dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()
        fleet_id = create_fleet(db, opts, engine="procrastinate")
        defer_sites(app, db, fleet_id)
        return fleet_id

    app.govaudit_tasks = {"audit_site": audit_site, "fleet_start": fleet_start}  # type: ignore[attr-defined]
    return app


def ensure_schema(app: Any, db: str) -> None:
    """Apply Procrastinate's schema once (applying it twice fails, so look first)."""

    import psycopg

    with psycopg.connect(conninfo(db), autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        if exists and exists[0]:
            return
        conn.execute("SELECT pg_advisory_lock(872301)")  # two first workers at once: one applies it
        try:
            again = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
            if not (again and again[0]):
                with app.open():
                    app.schema_manager.apply_schema()
        finally:
            conn.execute("SELECT pg_advisory_unlock(872301)")


def defer_sites(app: Any, db: str, fleet_id: str) -> list[int]:
    """One job per not-yet-finished site of the fleet run; ``lock`` keeps one audit per site across
    fleet runs, ``queueing_lock`` keeps a site from being queued twice for the same run."""

    from procrastinate import exceptions

    from auditor.fleet.runner import FleetStore, open_store

    fs = FleetStore(open_store(db))
    task = app.govaudit_tasks["audit_site"]
    ids = []
    with contextlib.ExitStack() as stack:
        if not getattr(app.connector, "_pool", None):
            stack.enter_context(_opened(app))
        for item in fs.items(fleet_id):
            if item["status"] in ("done", "unreachable"):
                continue
            try:
                ids.append(task.configure(lock=f"site:{item['site_code']}",
                                          queueing_lock=f"{fleet_id}:{item['site_code']}").defer(
                    db=db, fleet_id=fleet_id, site_code=item["site_code"]))
            except exceptions.AlreadyEnqueued:
                continue
    return ids


@contextlib.contextmanager
def _opened(app: Any) -> Any:
    app.open()
    try:
        yield app
    finally:
        app.close()


def _maybe_finish(db: str, fleet_id: str) -> None:
    """The last job of a fleet run writes the roll-up (the deferring process may be long gone)."""

    from auditor.fleet.runner import FleetStore, open_store

    store = open_store(db)
    fs = FleetStore(store)
    if any(i["status"] in ("queued", "running") for i in fs.items(fleet_id)):
        return
    fleet = fs.fleet(fleet_id)
    if fleet is None or fleet["status"] != "running":
        return
    fs.finish_fleet(fleet_id)
    from pathlib import Path

    from auditor.fleet.rollup import write_all

    write_all(store, fleet_id, Path(fleet["out"]), (fleet["options"].get("deadline_days") or None))


async def _retry_stalled(app: Any, every: float, stalled_after: float) -> None:
    """Give the jobs of dead workers (no heartbeat for ``stalled_after`` s) back to the queue."""

    while True:
        await asyncio.sleep(every)
        try:
            for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after):
                with contextlib.suppress(Exception):  # another worker retried it first
                    await app.job_manager.retry_job(job)
                    log.warning("retried stalled job %s", job.id)
        except Exception as exc:  # noqa: BLE001 - a database hiccup must not stop the worker
            log.warning("stalled-job check failed: %s", exc)


def run_worker(db: str, concurrency: int = 1, heartbeat: float = 10.0, stalled_after: float = 30.0,
               wait: bool = True) -> None:
    """``govaudit worker``: run fleet jobs until stopped (``wait=False``: until the queue is empty)."""

    app = make_app(db)
    ensure_schema(app, db)
    register_schedules(app, db)

    async def main() -> None:
        async with app.open_async():
            side = asyncio.create_task(_retry_stalled(app, max(1.0, heartbeat), stalled_after))
            try:
                await app.run_worker_async(queues=[QUEUE], concurrency=concurrency, wait=wait,
                                           update_heartbeat_interval=heartbeat, stalled_worker_timeout=stalled_after,
                                           delete_jobs="successful", install_signal_handlers=True)
            finally:
                side.cancel()

    asyncio.run(main())


def schedule_monthly(db: str, day: int, opts_dict: dict[str, Any], hour: int = 2) -> str:
    """Register the monthly fleet run: a periodic task every worker knows of, deferred on ``day`` at ``hour``.

    Procrastinate periodic tasks are declared in code, so the schedule (cron and fleet options) is
    stored in the database and every worker registers it at start (:func:`register_schedules`).
    """

    from auditor.fleet.runner import FleetStore, open_store

    if not 1 <= day <= 28:
        raise ConfigError("--monthly 取 1–28（每月都有的日子）/ --monthly takes 1–28")
    cron = f"0 {hour} {day} * *"
    FleetStore(open_store(db)).set_schedule("monthly", cron, opts_dict)
    return cron


def register_schedules(app: Any, db: str) -> list[str]:
    """Turn the stored schedules into Procrastinate periodic tasks of this worker's app."""

    from auditor.fleet.runner import FleetStore, open_store

    crons = []
    task = app.govaudit_tasks["fleet_start"]
    for sched in FleetStore(open_store(db)).schedules():
        app.periodic_registry.register_task(task=task, cron=sched["cron"], periodic_id=sched["name"],
                                            configure_kwargs={"task_kwargs": {"db": db, "options": sched["options"]}})
        crons.append(sched["cron"])
    return crons
