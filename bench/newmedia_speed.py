"""政务新媒体 speed: accounts read per second for N fixture feeds on loopback.

One ``govaudit check --checks newmedia --accounts registry.csv`` of a two-page site whose registry lists
N accounts, each with its own RSS feed (20 posts, dated by code) on a loopback server reached through
``--resolve`` (the audit's resolver, as in production). Printed: the measure stage's seconds and accounts
per second (every feed fetched through the HTTP probe and parsed with feedparser), the check stage's
seconds, and the state counts (they must add up to N: a feed the bench could not serve would show up as
``not_decidable``).

    .venv/bin/python bench/newmedia_speed.py [--accounts 1000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.demo.newmedia import FeedPost, rss  # noqa: E402
from auditor.demo.servers import Hosts, Site, serve  # noqa: E402

AS_OF = dt.date(2026, 6, 30)
WWW, FEEDS = "www.bench-county.gov.cn", "feeds.bench-county.gov.cn"


def build(n: int, feeds: Site, www: Site, port: int) -> list[tuple[str, ...]]:
    www.page("/", "<html><head><meta charset='utf-8'><title>示范县</title></head><body><p>首页</p></body></html>")
    rows = []
    for i in range(n):
        age = (i * 7) % 40  # a third of the accounts older than two weeks
        posts = [FeedPost(dt.datetime.combine(AS_OF - dt.timedelta(days=age + 3 * k), dt.time(9)), f"第{i}号账号发文{k}",
                          "政务信息。" * 20) for k in range(20)]
        feeds.raw(f"/feed/{i}.xml", rss(f"账号{i}", f"http://{FEEDS}:{port}/", posts), "application/rss+xml")
        rows.append((f"账号{i}", "微博" if i % 2 else "微信公众号", f"单位{i // 2}", f"id{i}",
                     f"http://{FEEDS}:{port}/feed/{i}.xml", "正常"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    exe = ROOT / ".venv" / "bin" / "govaudit"
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        sites = {WWW: Site("www"), FEEDS: Site("feeds")}
        with serve(Hosts(sites, default=sites[WWW])) as running:
            rows = build(args.accounts, sites[FEEDS], sites[WWW], running.port)
            registry = tmp / "registry.csv"
            with registry.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["账号名称", "平台", "主办单位", "账号ID", "主页或订阅地址", "状态"])
                w.writerows(rows)
            t0 = time.time()
            proc = subprocess.run([str(exe), "check", f"http://{WWW}:{running.port}/", "--checks", "newmedia",
                                   "--accounts", str(registry), "--as-of", AS_OF.isoformat(), "--format", "json",
                                   "--concurrency", str(args.concurrency), "--out", str(tmp / "out"),
                                   "--db", str(tmp / "db.sqlite"), "--resolve", f"{WWW}=127.0.0.1",
                                   "--resolve", f"{FEEDS}=127.0.0.1"], capture_output=True, text=True)
            wall = time.time() - t0
        if proc.returncode not in (0, 1):
            sys.exit(f"audit failed ({proc.returncode}): {proc.stderr[-2000:]}")
        report = json.loads((tmp / "out" / "report.json").read_text("utf-8"))
    stats = report["stats"]
    states = collections.Counter(a["state"] for a in report["newmedia"]["accounts"])
    measure = stats["measure_seconds"]
    print(f"accounts: {args.accounts}  measure stage: {measure:.2f} s  → {args.accounts / measure:.0f} accounts/s "
          f"(concurrency {args.concurrency})")
    print(f"checks: {stats['check_seconds']:.2f} s  whole audit (wall): {wall:.1f} s  states: {dict(states)}")


if __name__ == "__main__":
    main()
