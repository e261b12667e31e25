"""Accessibility audit speed: govaudit's browser pipeline against @axe-core/cli on the same pages.

Both run the same axe-core (the axe.min.js bundled by axe-playwright-python, 4.12.1 — the peer gets
it through ``--axe-source``), the same rule set (WCAG 2.0/2.1 A+AA tags), the same Debian
Chromium and the same viewport, on the same loopback site of N generated Chinese government
pages. Printed: pages per minute and peak RSS of each tool's whole process tree (Python or Node,
the driver, every Chromium process), sampled every 50 ms with psutil, and whether both found the
same violations (they must: same engine, same rules).

The goal (issue 5) is at least 2× the peer's pages per minute. govaudit keeps 2 tabs in flight,
reuses them, injects axe once per browser context and marshals only violations back; the peer
drives one tab through WebDriver and returns axe's full result (passes included).

Setup: Debian packages ``chromium chromium-driver fonts-wqy-microhei`` (``scripts/setup.sh`` installs
chromium and the font; this script installs ``chromium-driver`` with apt-get when run as root).
The peer is installed with npm into ``--npm-dir`` (default ``~/.cache/govaudit-bench/axe-cli``)
with ``CHROMEDRIVER_SKIP_DOWNLOAD=true PUPPETEER_SKIP_DOWNLOAD=1``: nothing is downloaded but npm
packages; the browser and chromedriver are Debian's.

    .venv/bin/python bench/a11y_speed.py [--pages 200] [--tabs 2] [--rounds 1] [--no-peer]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.demo.servers import Site, serve  # noqa: E402
from tests.sites.a11y_fixture import page_html, png  # noqa: E402

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORT = (1366, 768)
PEER_VERSION = "4.13.0"
CHROMIUM_FLAGS = ["no-sandbox", "disable-gpu", "disable-quic", "no-first-run", "disable-background-networking",
                  "disable-component-update", "disable-sync"]


def build_site(n: int) -> tuple[Site, list[str]]:
    """N pages in three templates (list, article, form) with violations on about a third of them."""

    site = Site("bench")
    site.raw("/images/logo.png", png(360, 60, (181, 18, 27)), "image/png")
    site.raw("/images/photo.png", png(320, 180, (40, 90, 160)), "image/png")
    paths = []
    for i in range(n):
        kind = i % 3
        bad = i % 3 == 0 and i % 2 == 0
        if kind == 0:
            lis = "".join(f'<li><a href="/p{j}.html">县政府召开第{j}次常务会议研究部署重点工作</a><span>2024-05-{j % 28 + 1:02d}</span></li>'
                          for j in range(i, i + 20))
            main = f'<h1>新闻中心（第{i}页）</h1><ul class="list">{lis}</ul>'
        elif kind == 1:
            paras = "".join(f"<p>第{j}段：会议强调，要坚持以人民为中心，扎实做好民生保障、防汛救灾和营商环境优化工作。</p>" for j in range(12))
            alt = "" if bad else ' alt="会议现场"'
            colour = "#bbbbbb" if i % 5 == 0 else "#333333"
            main = (f'<article><h1>县政府召开第{i}次常务会议</h1><p style="color:{colour}">发布时间：2024-05-01</p>'
                    f'<p><img src="/images/photo.png" width="320" height="180"{alt}></p>{paras}</article>')
        else:
            label = "" if bad else '<label for="kw">关键词</label>'
            main = (f'<h1>办事服务{i}</h1><form role="search">{label}<input id="kw" name="kw"><button>搜索</button></form>'
                    + "".join(f"<p>事项{j}：社保查询、医保报销、公积金提取。</p>" for j in range(8)))
        path = f"/p{i}.html"
        site.page(path, page_html(f"页面{i}", main, planted=(i % 4 == 0)))
        paths.append(path)
    return site, paths


class TreeRSS:
    """Peak resident memory of a process and all its descendants, sampled in a thread.

    ``peak`` sums RSS (what ``ps`` shows; shared pages of Chromium's many processes are counted
    once per process, so it overstates); ``peak_pss`` sums PSS (shared pages divided among their
    users), sampled less often because reading smaps is slow.
    """

    def __init__(self, pid: int, interval: float = 0.05):
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.peak_pss = 0
        self._n = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = pss = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            with_pss = self._n % 5 == 0
            self._n += 1
            for p in procs:
                try:
                    if with_pss:
                        full = p.memory_full_info()
                        total += full.rss
                        pss += full.pss
                    else:
                        total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.interval)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join(timeout=2)
        return self.peak, self.peak_pss


def run_measured(cmd: list[str], env: dict[str, str] | None = None,
                 cwd: str | None = None) -> tuple[float, tuple[int, int], str, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    rss = TreeRSS(proc.pid)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    peak = rss.stop()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {err[-2000:]}")
    return elapsed, peak, out, err


# --- govaudit worker (a child process, so its whole tree can be measured) ---------------------

def worker(urls_file: str, tabs: int, out_file: str) -> None:
    from auditor.checks.a11y import node_identity
    from auditor.plugins.browser import (
        AXE_ALIAS_JS,
        BrowserOptions,
        BrowserProbe,
        ShotOptions,
        axe_script,
        make_axe_job,
    )

    urls = json.loads(Path(urls_file).read_text())
    opts = BrowserOptions(tabs=tabs, viewport=VIEWPORT)
    job = make_axe_job(TAGS, [], ShotOptions(), node_identity)
    results = {}
    with BrowserProbe(opts) as probe:
        probe.set_init_scripts("a11y", [axe_script() + AXE_ALIAS_JS])
        for o in probe.map(urls, job, pool="a11y", plugin="bench"):
            results[o.url] = sorted(v["id"] for v in o.value["violations"]) if o.ok else f"error: {o.error}"
    Path(out_file).write_text(json.dumps(results))


def run_govaudit(urls: list[str], tabs: int, tmp: Path) -> dict:
    uf, of = tmp / "urls.json", tmp / "gov.json"
    uf.write_text(json.dumps(urls))
    cmd = [sys.executable, __file__, "--worker", str(uf), "--tabs", str(tabs), "--out", str(of)]
    elapsed, peak, _out, err = run_measured(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)})
    found = json.loads(of.read_text())
    errors = [u for u, v in found.items() if isinstance(v, str)]
    return {"tool": f"govaudit ({tabs} tabs)", "seconds": elapsed, "peak_rss": peak[0], "peak_pss": peak[1], "found": found,
            "errors": errors}


# --- the peer ------------------------------------------------------------------------------------

def ensure_chromedriver() -> None:
    """Debian's chromedriver for the peer (apt-get, when missing and we are root)."""

    if shutil.which("chromedriver") or Path("/usr/bin/chromedriver").exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium-driver"],
                       capture_output=True, check=False)


def ensure_peer(npm_dir: Path) -> Path | None:
    axe = npm_dir / "node_modules" / ".bin" / "axe"
    if axe.exists():
        return axe
    if not shutil.which("npm"):
        print("npm not found: peer skipped", file=sys.stderr)
        return None
    npm_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CHROMEDRIVER_SKIP_DOWNLOAD": "true", "PUPPETEER_SKIP_DOWNLOAD": "1"}
    if not (npm_dir / "package.json").exists():
        subprocess.run(["npm", "init", "-y"], cwd=npm_dir, env=env, check=True, capture_output=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", f"@axe-core/cli@{PEER_VERSION}"], cwd=npm_dir, env=env,
                   check=True, capture_output=True)
    return axe if axe.exists() else None


def run_peer(axe: Path, urls: list[str]) -> dict:
    from axe_playwright_python.base import AXE_FILE_PATH

    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    flags = ",".join([*CHROMIUM_FLAGS, f"window-size={VIEWPORT[0]},{VIEWPORT[1]}"])
    cmd = [str(axe), *urls, "--chrome-path", "/usr/bin/chromium", "--chromedriver-path", chromedriver,
           "--axe-source", str(AXE_FILE_PATH), "--tags", ",".join(TAGS), f"--chrome-options={flags}", "--stdout"]
    elapsed, peak, out, err = run_measured(cmd, env={**os.environ, "CHROMEDRIVER_SKIP_DOWNLOAD": "true"})
    found = {}
    for result in json.loads(out):
        found[result["url"]] = sorted(v["id"] for v in result["violations"])
    errors = [u for u in urls if u not in found]
    return {"tool": f"@axe-core/cli {PEER_VERSION}", "seconds": elapsed, "peak_rss": peak[0], "peak_pss": peak[1], "found": found,
            "errors": errors}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--tabs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="alternate the tools this many times; the best round counts")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--npm-dir", type=Path, default=Path.home() / ".cache" / "govaudit-bench" / "axe-cli")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.tabs, args.out)
        return 0

    site, paths = build_site(args.pages)
    if not args.no_peer:
        ensure_chromedriver()
    peer = None if args.no_peer else ensure_peer(args.npm_dir)
    if not args.no_peer and (peer is None or not (shutil.which("chromedriver") or Path("/usr/bin/chromedriver").exists())):
        print("peer unavailable (needs npm and Debian chromium-driver): measuring govaudit only", file=sys.stderr)
        peer = None
    rows: dict[str, dict] = {}
    with serve(site) as srv, tempfile.TemporaryDirectory() as tmp:
        urls = [srv.base_url + p for p in paths]
        for r in range(args.rounds):
            runs = [lambda: run_govaudit(urls, args.tabs, Path(tmp))]
            if peer is not None:
                runs.append(lambda: run_peer(peer, urls))
            if r % 2:
                runs.reverse()
            for fn in runs:
                res = fn()
                best = rows.get(res["tool"])
                if best is None or res["seconds"] < best["seconds"]:
                    rows[res["tool"]] = res
    print(f"\n{args.pages} pages, axe-core 4.12.1, tags {','.join(TAGS)}, Chromium {chromium_version()}, "
          f"{psutil.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, best of {args.rounds} round(s)")
    print(f"{'tool':28} {'seconds':>8} {'pages/min':>10} {'peak RSS MB':>12} {'peak PSS MB':>12} {'errors':>7}")
    for row in rows.values():
        ppm = 60 * (len(urls) - len(row["errors"])) / row["seconds"]
        row["ppm"] = ppm
        print(f"{row['tool']:28} {row['seconds']:8.1f} {ppm:10.1f} {row['peak_rss'] / 2**20:12.0f} {row['peak_pss'] / 2**20:12.0f}"
              f" {len(row['errors']):7}")
    if len(rows) == 2:
        gov, peer_row = list(rows.values())
        if gov["tool"].startswith("@"):
            gov, peer_row = peer_row, gov
        print(f"speed ratio govaudit / peer: {gov['ppm'] / peer_row['ppm']:.2f}× (goal ≥ 2×)")
        same = sum(1 for u in urls if gov["found"].get(u) == peer_row["found"].get(u))
        print(f"pages with identical violation sets: {same}/{len(urls)}")
    return 0


def chromium_version() -> str:
    try:
        return subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=20).stdout.split()[1]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


if __name__ == "__main__":
    raise SystemExit(main())
