#!/usr/bin/env python3
"""Where a govaudit crawl spends its time: py-spy samples of ``govaudit check --checks links``
on the generated loopback site of ``crawl_speed.py``, bucketed by what the innermost
recognisable frame is doing.

    .venv/bin/python bench/profile_crawl.py --pages 5000

Buckets (first match from the innermost frame outwards wins):

* ``store writes`` — auditor/store, SQLAlchemy, sqlite3 (the store writer process included);
* ``link verdicts`` — auditor/linkjudge and the link-check worker;
* ``URL normalisation`` — ``normalise_url`` and urllib.parse under it;
* ``link extraction`` — ``html_links`` (walking the tree for links, anchors, regions);
* ``parsing`` — lxml document parsing, visible text, fingerprint, title, response decoding;
* ``checks + report`` — the checks stage and the report writers after the crawl;
* ``Scrapy/Twisted machinery`` — everything else under scrapy/ or twisted/ (engine, scheduler,
  middlewares, HTTP client, reactor);
* ``other`` — startup imports and the rest.

py-spy is installed from PyPI when missing; without it the script says so and stops (cProfile
under a Twisted reactor attributes most time to the reactor loop and says little).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import crawl_speed  # noqa: E402 - the bench folder is not a package

BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("store writes", ("auditor/store/", "sqlalchemy/", "sqlite3", "pipeline.py:_write", "(compress)",
                      "pack (auditor/crawl/parsework.py")),
    ("link verdicts", ("auditor/linkjudge.py", "linkworker.py")),
    ("URL normalisation", ("normalise_url", "normalize_url")),
    ("link extraction", ("html_links", "_region_of", "attachment_links")),
    ("page hand-over (pickling, pipes: both ends)", ("main (auditor/crawl/parsework.py", "ParseWorker._send", "ParseWorker._data",
                                                    "_PipeEnd.", "(pickle")),
    ("parsing", ("document_fromstring", "visible_text", "fingerprint", "page_title", "looks_like_error_page",
                 "_html_facts", "(text) (scrapy/http/response/text.py", "_body_inferred_encoding", "w3lib/encoding")),
    ("checks + report", ("auditor/checks/", "auditor/reports/", "checks/", "reports/", "auditor/engine.py:run_checks")),
    ("Scrapy/Twisted machinery", ("scrapy/", "twisted/")),
]


IDLE = ("Condition.wait", "Queue.get", "select (", "poll (", "Event.wait", "sleep (")


def samples(raw: Path) -> Iterator[tuple[list[str], int]]:
    """(frames, count) of each stack in a py-spy ``-f raw`` file, stacks of a waiting thread left out."""

    for line in raw.read_text("utf-8", errors="replace").splitlines():
        stack_text, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames = stack_text.split(";")
        if any(w in frames[-1] for w in IDLE):
            continue  # a thread waiting (queue, condition, selector) is not working
        yield frames, int(n)


def bucket(stack: list[str]) -> str:
    for frame in reversed(stack):  # innermost first
        for name, needles in BUCKETS:
            if any(n in frame for n in needles):
                return name
    return "other"


def thread_of(frames: list[str]) -> str:
    """``main process: MainThread``, ``store writer: MainThread``, ``parse worker: MainThread``…
    from py-spy's ``process N:"cmd"`` and ``thread (N): name`` frames (``--threads -s``; a child's
    stack starts with its parent's process frame, then its own)."""

    procs = [i for i, f in enumerate(frames[:4]) if f.startswith("process ")]
    last = procs[-1] if procs else 0
    proc = ("parse worker" if "parsework" in frames[last] else "store writer" if "auditor.store.writer" in frames[last]
            else "main process")
    thread = next((f.split(":", 1)[1].strip() for f in frames[last + 1:last + 2] if f.startswith("thread (") and ":" in f), "?")
    return f"{proc}: {thread}"


def frames_of(frames: list[str]) -> list[str]:
    """The code frames (without py-spy's process and thread frames)."""

    return [f for f in frames[:4] if not f.startswith(("process ", "thread ("))] + frames[4:]


def ensure_py_spy() -> Path | None:
    exe = crawl_speed.BIN / "py-spy"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=False)
    return exe if exe.exists() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    spy = ensure_py_spy()
    if spy is None:
        print("py-spy could not be installed; no profile", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="govaudit-profile-"))
    work.chmod(0o755)
    try:
        site = crawl_speed.generate(work / "site", args.pages)
        exe = crawl_speed.ensure_nginx()
        server = crawl_speed.NginxServer(exe, site.root, work / "nginx", 1) if exe else crawl_speed.AsyncioServer(site.root)
        base = f"http://127.0.0.1:{server.port}/"
        raw = work / "profile.txt"
        cmd = [str(spy), "record", "-r", str(args.rate), "-f", "raw", "-o", str(raw), "-s", "--threads", "--",
               str(crawl_speed.BIN / "govaudit"), "check", base, "--checks", "links", "--a11y", "off",
               "--concurrency", str(args.concurrency), "--out", str(work / "report"), "--db", str(work / "ga.sqlite"),
               "--max-pages", str(args.pages + 1000), "--max-depth", "100", "--format", "json", "--ignore-robots",
               "--as-of", "2026-12-01", "--allow-private"]  # a loopback site: past the SSRF guard
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        if "error" in proc.stderr.lower() or not (work / "report").exists():
            print(proc.stderr[-1500:], file=sys.stderr)  # py-spy exits 0 whatever govaudit did
        wall = time.perf_counter() - t0
        server.stop()
        if not raw.exists():
            print(proc.stderr[-2000:], file=sys.stderr)
            return 1
        counts: Counter[str] = Counter()
        in_worker: Counter[str] = Counter()
        in_writer: Counter[str] = Counter()
        per_thread: Counter[str] = Counter()
        total = 0
        for frames, n in samples(raw):
            where, who = bucket(frames_of(frames)), thread_of(frames)
            counts[where] += n
            if who.startswith("parse worker"):
                in_worker[where] += n
            elif who.startswith("store writer"):
                in_writer[where] += n
            per_thread[who] += n
            total += n
        print(f"govaudit check --checks links on {args.pages} pages: wall {wall:.1f} s (under py-spy, {args.rate} Hz), "
              f"{total} samples (all threads, waits excluded), exit {proc.returncode}")
        print("\n| where | share of samples | in the crawl process | in the parse worker | in the store writer |"
              "\n|---|---:|---:|---:|---:|")
        for name, _ in [*BUCKETS, ("other", ())]:
            if total:
                crawl = counts[name] - in_worker[name] - in_writer[name]
                print(f"| {name} | {counts[name] / total:.1%} | {crawl / total:.1%} "
                      f"| {in_worker[name] / total:.1%} | {in_writer[name] / total:.1%} |")
        # the crawl's wall time is set by its busiest thread, not by the sum: say which one it is
        print("\n| process / thread | share of samples |\n|---|---:|")
        for name, n in per_thread.most_common(8):
            print(f"| {name} | {n / total:.1%} |")
        if args.keep:
            print(f"kept: {work}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
