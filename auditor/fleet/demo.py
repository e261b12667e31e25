"""``govaudit demo --fleet`` (also ``govaudit fleet demo``): a six-site registry on loopback, inspected end to end.

What a 政务公开办 sees on a fresh machine before pointing govaudit at its own registry: a registry CSV
(written next to the results, to copy), the embedded engine over SQLite, and every roll-up file — with
one site on a shared platform address, one down, one that moved to another host and one showing the
wrong 网站标识码, so each kind of roll-up finding appears once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from auditor.demo.fleet_sites import serve_fleet
from auditor.fleet.registry import known_rule_packs, parse
from auditor.fleet.rollup import write_all
from auditor.fleet.runner import FleetOptions, create_fleet, open_store, run_local
from auditor.store.registry import FleetStore

DEMO_ROLES = {"shared_ip": 2, "down": 1, "redirect": 1, "wrong_code": 1}
# Fast and offline: no browser families, few pages (the demo shows the fleet, not a deep audit).
DEMO_CHECK_ARGS = ["--a11y", "off", "--skip", "elderly", "--max-pages", "40", "--timeout", "3"]


def run_demo(out: Path, db: str, as_of: str, workers: int, say: Callable[[str], None]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with serve_fleet(6, 12, dt.date.fromisoformat(as_of), DEMO_ROLES) as fleet:
        registry = fleet.write_csv(out / "demo-registry.csv")
        parsed = parse(registry, known_rule_packs())
        store = open_store(db)
        FleetStore(store).upsert_sites(parsed.sites, str(registry))
        opts = FleetOptions(db=db, out=str(out.resolve()), as_of=as_of, check_args=[*DEMO_CHECK_ARGS, *fleet.resolve_args()],
                            resolve=dict(fleet.resolve), codes=[s["site_code"] for s in parsed.sites],
                            allow_networks=["127.0.0.0/8"])  # the demo sites' loopback addresses, nothing else private
        fleet_id = create_fleet(db, opts, "local")
        say(f"演示巡检 {fleet_id}：{len(parsed.sites)} 个网站（名单 {registry}）")
        run_local(db, fleet_id, workers, on_done=lambda item: say(f"  {item.get('site_code')}: {item.get('status')}"))
    paths = write_all(store, fleet_id, out)
    summary = json.loads(paths["json"].read_text("utf-8"))["summary"]
    say(f"合格率 {summary['pass_rate']:.1%}（{summary['passed']}/{summary['sites']}），无法访问 {summary['unreachable']}")
    for p in paths.values():
        say(f"输出：{p}")
    return 0
