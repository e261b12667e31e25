#!/usr/bin/env python3
"""Fleet speed: sites per hour and peak memory of a fleet run, per engine and worker count.

Generates ``--sites`` county-style sites of ``--pages`` pages each (``auditor.demo.fleet_sites``), each
on its own loopback address under a ``.gov.cn`` name pinned with ``--resolve``, imports them as a
registry and audits them all:

- ``sqlite``: the embedded engine (``run_local``: N worker threads, each supervising one
  ``govaudit check`` process) over one SQLite file;
- ``postgres``: the Procrastinate engine — one job per site deferred to PostgreSQL, N real
  ``govaudit worker`` processes (``--concurrency 1`` each) — over the same PostgreSQL database.

For each (database, launcher, workers) it prints wall time, sites/hour, CPU seconds per site (user +
system of every process of the tree, bench process and its site servers included, sampled every 0.2 s
— the figure a loaded shared machine does not distort much) and the peak memory of the whole
process tree (psutil, sampled every 0.2 s: PSS, so pages a forked audit shares with its forkserver
count once; RSS where PSS is unavailable). The audits run with ``--a11y off --skip elderly`` (no
browser) unless ``--browser``. ``--launcher fork,exec`` compares the forkserver with a fresh
interpreter per audit; ``--site-formats json,html,xlsx,ledger`` is what a fleet site wrote before
session 4. Try it small first (the issue's full size is 200 × 100):

    .venv/bin/python bench/fleet_speed.py --sites 10 --pages 30 --workers 1,2,4 --db sqlite,postgres

At 200 × 100 the script needs 200 loopback addresses (127.0.0.2–202, all in 127/8 on Linux), about
200 listening sockets and server threads in this process (the soft file limit is raised to the hard
one) and ≈60 MB for the generated pages; every audit writes to ``--work`` (default a temp folder).

``--db postgres`` starts a throw-away cluster with ``scripts/pg.sh`` unless ``--pg-url`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.demo.fleet_sites import serve_fleet  # noqa: E402
from auditor.fleet.registry import known_rule_packs, parse  # noqa: E402
from auditor.fleet.runner import FleetOptions, create_fleet, open_store, run_local  # noqa: E402
from auditor.store.registry import FleetStore  # noqa: E402

AS_OF = "2026-11-30"


class PeakRSS:
    """Peak summed RSS of this process and every descendant, sampled in a thread."""

    def __init__(self, extra: list[int] | None = None) -> None:
        self.peak = 0
        self.cpu: dict[tuple[int, float], float] = {}  # (pid, create time) → last seen user+system CPU seconds
        self.extra = extra if extra is not None else []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[psutil.Process]:
        roots = [psutil.Process()] + [psutil.Process(p) for p in self.extra if psutil.pid_exists(p)]
        seen: dict[int, psutil.Process] = {}
        for r in roots:
            seen[r.pid] = r
            for c in r.children(recursive=True):
                seen[c.pid] = c
        return list(seen.values())

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for p in self._tree():
                try:
                    total += _pss(p)
                    t = p.cpu_times()
                    self.cpu[(p.pid, p.create_time())] = t.user + t.system
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def cpu_seconds(self) -> float:
        """CPU used during the block (processes alive before it count only what they used since)."""

        return sum(v - self.base.get(k, 0.0) for k, v in self.cpu.items())

    def __enter__(self) -> PeakRSS:
        self.base: dict[tuple[int, float], float] = {}
        for p in self._tree():
            try:
                t = p.cpu_times()
                self.base[(p.pid, p.create_time())] = t.user + t.system
            except psutil.Error:
                pass
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _pss(p: psutil.Process) -> int:
    try:
        return int(p.memory_full_info().pss)
    except (AttributeError, psutil.AccessDenied):
        return int(p.memory_info().rss)


def start_postgres(work: Path) -> tuple[str, dict[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="govaudit-bench-pg-"))
    os.chmod(folder, 0o755)
    env = {**os.environ, "GOVAUDIT_PG_DIR": str(folder / "cluster"), "GOVAUDIT_PG_PORT": os.environ.get("GOVAUDIT_PG_PORT", "55499")}
    res = subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "start"], env=env, capture_output=True, text=True, check=True)
    return res.stdout.strip().splitlines()[-1], env


def one_run(kind: str, db: str, fleet, registry: Path, out: Path, workers: int, check_args: list[str], launcher: str,
            formats: list[str]) -> tuple[float, int, int, float]:
    parsed = parse(registry, known_rule_packs())
    store_db = db
    if kind == "postgres":
        from auditor.fleet.jobs import store_url

        store_db = store_url(db)
    fs = FleetStore(open_store(store_db))
    fs.upsert_sites(parsed.sites, str(registry))
    opts = FleetOptions(db=store_db, out=str(out), as_of=AS_OF, check_args=check_args, resolve=dict(fleet.resolve),
                        per_ip=2, codes=[s["site_code"] for s in parsed.sites], launcher=launcher, site_formats=formats,
                        allow_networks=["127.0.0.0/8"])
    fleet_id = create_fleet(store_db, opts, "local" if kind == "sqlite" else "procrastinate")
    started = time.time()
    if kind == "sqlite":
        with PeakRSS() as mem:
            run_local(store_db, fleet_id, workers)
    else:
        from auditor.fleet.jobs import defer_sites, ensure_schema, make_app

        app = make_app(store_db)
        ensure_schema(app, store_db)
        defer_sites(app, store_db, fleet_id)
        procs = [subprocess.Popen([sys.executable, "-m", "auditor.cli.main", "worker", "--db", store_db, "--heartbeat", "2"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        with PeakRSS([p.pid for p in procs]) as mem:
            mem.extra = [p.pid for p in procs]
            while any(i["status"] in ("queued", "running") for i in fs.items(fleet_id)):
                time.sleep(0.5)
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
    elapsed = time.time() - started
    done = sum(1 for i in fs.items(fleet_id) if i["status"] == "done")
    return elapsed, mem.peak, done, mem.cpu_seconds()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=10)
    ap.add_argument("--pages", type=int, default=30)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--db", default="sqlite", help="sqlite, postgres or sqlite,postgres")
    ap.add_argument("--pg-url", default=None)
    ap.add_argument("--browser", action="store_true", help="keep the browser families (a11y sample, 适老化)")
    ap.add_argument("--launcher", default="fork", help="fork, exec or fork,exec (see auditor/fleet/launch.py)")
    ap.add_argument("--site-formats", default="json,html", help="report formats each site writes")
    ap.add_argument("--work", type=Path, default=None, help="where stores and reports go (default: a temp folder)")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # an installed govaudit has compiled bytecode: an exec'd audit must not recompile every module each time
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    work = args.work or Path(tempfile.mkdtemp(prefix="govaudit-fleet-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    formats = [f for f in args.site_formats.split(",") if f]
    check_args = ["--timeout", "5", "--max-pages", str(args.pages + 10)]
    if not args.browser:
        check_args += ["--a11y", "off", "--skip", "elderly"]
    pg_env = None
    lines = []
    print(f"fleet_speed: {args.sites} sites × {args.pages} pages, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"formats {','.join(formats)}, open files {soft}→{hard}")
    with serve_fleet(args.sites, args.pages, dt.date.fromisoformat(AS_OF)) as fleet:
        registry = fleet.write_csv(work / "registry.csv")
        resolve = fleet.resolve_args()
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            if kind == "postgres" and not args.pg_url and pg_env is None:
                args.pg_url, pg_env = start_postgres(work)
            for launcher in [x.strip() for x in args.launcher.split(",") if x.strip()]:
                for n in [int(w) for w in args.workers.split(",")]:
                    db = str(work / f"audits-{launcher}-{n}.sqlite") if kind == "sqlite" else args.pg_url
                    elapsed, peak, done, cpu = one_run(kind, db, fleet, registry, work / f"out-{kind}-{launcher}-{n}", n,
                                                  [*check_args, *resolve], launcher, formats)
                    line = (f"{kind:8s} {launcher:4s} workers={n}: {done}/{args.sites} sites in {elapsed:6.1f} s → "
                            f"{done / elapsed * 3600:7.0f} sites/hour, {cpu / max(done, 1):5.2f} CPU-s/site, "
                            f"peak PSS {peak / 2**20:6.0f} MB, "
                            f"load {os.getloadavg()[0]:.1f}")
                    print(line, flush=True)
                    lines.append(line)
    if pg_env is not None:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "destroy"], env=pg_env, capture_output=True)
    print(f"(reports and stores in {work})")


if __name__ == "__main__":
    main()
