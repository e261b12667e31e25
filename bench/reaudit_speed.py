#!/usr/bin/env python3
"""Incremental re-audit speed (issue #10 item 6): the generated site of ``crawl_speed.py`` audited
as a monthly audit is — month 1 full, month 2 with nothing changed, month 2 with ``--changed`` of
the pages changed — served by nginx, which honours ``If-None-Match`` / ``If-Modified-Since`` for
static files (ETag from mtime and size). Prints each audit's wall time and the requests the server
logged, the speed-ups against month 1, and whether the findings of each incremental audit are
identical (by finding id) to a full re-audit (``--no-incremental``) of the same content.

    .venv/bin/python bench/reaudit_speed.py --pages 5000

Goals: unchanged month 2 ≥ 5× faster than month 1, 10 % changed ≥ 3×, findings identical.

``--profile`` runs month 1, then month 2 unchanged under py-spy (``profile_crawl.py``'s sampling and
buckets, plus the incremental re-audit's own), and prints where month 2's samples go instead of the
timed table (py-spy slows the process it samples: its wall time is not a figure).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import crawl_speed  # noqa: E402 - the bench folder is not a package

# month 2's own buckets ahead of profile_crawl's (innermost recognisable frame wins)
MONTH2_BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("conditional GETs (aiohttp)", ("aiohttp/", "_revalidate", "conditional.py:prepare", "(prepare) (")),
    ("reused pages: look-ups + triage", ("auditor/crawl/conditional.py",)),
]


def profile_month2(base: str, work: Path, pages: int, concurrency: int, rate: int = 200) -> None:
    """Month 2 unchanged under py-spy; prints the share of samples per bucket."""

    import profile_crawl

    spy = profile_crawl.ensure_py_spy()
    if spy is None:
        raise SystemExit("py-spy could not be installed; no profile")
    raw = work / "profile.txt"
    cmd = [str(spy), "record", "-r", str(rate), "-f", "raw", "-o", str(raw), "-s", "--",
           *audit_command(base, work, "profiled", pages, concurrency, True)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if not raw.exists():
        raise SystemExit(proc.stderr[-2000:])
    buckets = [*MONTH2_BUCKETS, *profile_crawl.BUCKETS]
    counts: Counter[str] = Counter()
    total = 0
    for frames, n in profile_crawl.samples(raw):
        name = "other"
        for frame in reversed(frames):
            name = next((b for b, needles in buckets if any(x in frame for x in needles)), "")
            if name:
                break
        counts[name or "other"] += n
        total += n
    print(f"month 2 unchanged under py-spy ({rate} Hz): wall {wall:.1f} s, {total} samples (all threads, waits excluded)")
    print("\n| where | share of samples |\n|---|---:|")
    for name, _ in [*buckets, ("other", ())]:
        print(f"| {name} | {counts[name] / max(total, 1):.1%} |")


def audit_command(base: str, work: Path, name: str, pages: int, concurrency: int, incremental: bool) -> list[str]:
    out = work / f"report-{name}"
    return [str(crawl_speed.BIN / "govaudit"), "check", base, "--checks", "links", "--a11y", "off",
           "--concurrency", str(concurrency), "--out", str(out), "--db", str(work / "ga.sqlite"),
           "--max-pages", str(pages + 1000), "--max-depth", "100", "--format", "json", "--ignore-robots",
           "--as-of", "2026-12-01", "--incremental" if incremental else "--no-incremental",
           "--allow-private"]  # a loopback site: past the SSRF guard


def audit(base: str, work: Path, name: str, pages: int, concurrency: int, incremental: bool) -> tuple[float, dict]:
    out = work / f"report-{name}"
    cmd = audit_command(base, work, name, pages, concurrency, incremental)
    m = crawl_speed.run_measured(f"govaudit-{name}", cmd, work, 3600)
    path = out / "report.json"
    if not path.exists():
        raise SystemExit(f"{name}: no report ({m.stderr[-1500:]})")
    return m.seconds, json.loads(path.read_text("utf-8")) | {"_peak_rss": m.peak_rss, "_cpu": m.cpu}


def change_pages(site: crawl_speed.GeneratedSite, share: float, seed: int = 7) -> int:
    """Rewrite ``share`` of the pages (new text, a link dropped): new mtime and size, so a new ETag."""

    rng = random.Random(seed)
    chosen = rng.sample(range(1, site.pages), max(1, round(share * site.pages)))
    later = time.time() + 60
    for i in chosen:
        path = site.root / crawl_speed.page_path(i).lstrip("/")
        html = path.read_text("utf-8").replace("本页面用于测量抓取速度", "本页面内容已更新，用于测量抓取速度")
        path.write_text(html, "utf-8")
        os.utime(path, (later, later))
    return len(chosen)


def ids(report: dict) -> set[str]:
    return {f["id"] for f in report.get("findings", [])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=20000)
    ap.add_argument("--changed", type=float, default=0.10)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--profile", action="store_true", help="month 1, then month 2 unchanged under py-spy (no timings)")
    ap.add_argument("--unchanged-only", action="store_true", help="month 1 and month 2 unchanged only (a quicker look)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="govaudit-reaudit-"))
    work.chmod(0o755)
    try:
        site = crawl_speed.generate(work / "site", args.pages)
        exe = crawl_speed.ensure_nginx()
        if not exe:
            print("nginx is needed (it honours conditional requests)", file=sys.stderr)
            return 2
        # no open-file cache: it would serve the old ETag of a page changed between the audits
        server = crawl_speed.NginxServer(exe, site.root, work / "nginx", 1, file_cache=False)
        base = f"http://127.0.0.1:{server.port}/"
        rows = []
        try:
            def run(name: str, incremental: bool) -> dict:
                before = server.statuses_logged()
                seconds, report = audit(base, work, name, args.pages, args.concurrency, incremental)
                after = server.statuses_logged()
                requests = sum(after.values()) - sum(before.values())
                not_modified = after.get("304", 0) - before.get("304", 0)
                inc = (report.get("coverage") or {}).get("incremental") or {}
                rows.append((name, seconds, requests, report))
                print(f"{name:<30} {seconds:>7.1f} s (CPU {report['_cpu']:.1f} s) {requests:>7} requests ({not_modified:>6} answered 304)  pages={report['stats'].get('pages')} "
                      f"findings={len(report['findings'])} peak RSS={report['_peak_rss'] / 2**20:.0f} MB "
                      f"crawl {report['stats'].get('crawl_seconds')} s (of which conditional GETs {inc.get('revalidate_seconds', 0)} s) "
                      f"{('reused ' + str(inc.get('pages_reused')) + ' pages, ' + str(inc.get('verdicts_reused')) + ' verdicts') if inc else ''}",
                      flush=True)
                return report

            print(f"site: {site.pages} pages, {site.link_count} links, {len(site.dead_paths)} dead targets "
                  f"(machine: {os.cpu_count()} cores shared with other jobs, load {os.getloadavg()[0]:.1f})", flush=True)
            m1 = run("month 1 (full)", incremental=False)
            if args.profile:
                profile_month2(base, work, args.pages, args.concurrency)
                return 0
            m2 = run("month 2 unchanged (incr.)", incremental=True)
            if args.unchanged_only:
                print(f"\nunchanged: {rows[0][1] / rows[1][1]:.1f}× faster than month 1 (CPU {m1['_cpu'] / max(m2['_cpu'], 0.01):.1f}×); "
                      f"findings identical: {ids(m2) == ids(m1)}")
                return 0 if ids(m2) == ids(m1) else 1
            n = change_pages(site, args.changed)
            print(f"changed {n} pages ({args.changed:.0%})", flush=True)
            m3 = run(f"month 2 {args.changed:.0%} changed (incr.)", incremental=True)
            m3_full = run(f"month 2 {args.changed:.0%} changed (full)", incremental=False)
        finally:
            server.stop()
        t1 = rows[0][1]
        print()
        c1 = rows[0][3]["_cpu"]
        print(f"unchanged:   {t1 / rows[1][1]:.1f}× faster than month 1 (goal ≥ 5×; CPU {c1 / max(rows[1][3]['_cpu'], 0.01):.1f}×); "
              f"requests {rows[0][2]} → {rows[1][2]}")
        print(f"{args.changed:.0%} changed: {t1 / rows[2][1]:.1f}× faster than month 1 (goal ≥ 3×; CPU {c1 / max(rows[2][3]['_cpu'], 0.01):.1f}×); "
              f"requests {rows[0][2]} → {rows[2][2]}")
        print(f"findings identical, month 2 unchanged vs month 1: {ids(m2) == ids(m1)} ({len(ids(m2))} vs {len(ids(m1))})")
        print(f"findings identical, {args.changed:.0%} changed incremental vs full re-audit: {ids(m3) == ids(m3_full)} "
              f"({len(ids(m3))} vs {len(ids(m3_full))}; differing: {sorted(ids(m3) ^ ids(m3_full))[:5]})")
        return 0 if ids(m2) == ids(m1) and ids(m3) == ids(m3_full) else 1
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
