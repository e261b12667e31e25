"""The link-judging stage (``auditor.linkjudge.judge_run``) over a real SQLite store, no network:
verdicts come from the stored fetches, under the pack's ``links.*`` values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from auditor.config import build_config
from auditor.linkjudge import judge_run
from auditor.model import FetchRecord, LinkEdge, Region, Verdict
from auditor.rulepacks import load_pack
from auditor.store.database import EvidenceStore

HOME = "http://www.x.gov.cn/"


def _config(tmp: Path):  # type: ignore[no-untyped-def]
    return build_config({}, {"url": HOME, "db": str(tmp / "e.sqlite"), "as_of": "2026-11-22"})


def _fetch(url: str, purpose: str = "check", **kw: object) -> FetchRecord:
    return FetchRecord(url=url, purpose=purpose, final_url=kw.pop("final_url", url), **kw)  # type: ignore[arg-type]


def _stored_run(store: EvidenceStore) -> str:
    run_id = store.start_run("www.x.gov.cn", HOME, "2026-11-22", {}, "test")
    store.add_fetch(run_id, _fetch(HOME, "page", status=200, depth=0, fingerprint="H", body_hash="HB"))
    store.add_fetch(run_id, _fetch("http://www.x.gov.cn/govaudit-1-not-found.html", "calibration", status=200,
                                   fingerprint="T", body_hash="T1"))
    store.add_fetch(run_id, _fetch(HOME + "forbidden.html", status=403))
    # HEAD refused, then the GET fallback answered: the later fetch is the answer
    store.add_fetch(run_id, _fetch(HOME + "headless.html", method="HEAD", status=405))
    store.add_fetch(run_id, _fetch(HOME + "headless.html", status=200, fingerprint="P", body_hash="P1"))
    # same text as the random path's answer, other bytes: a soft 404 by calibration
    store.add_fetch(run_id, _fetch(HOME + "moved.html", status=200, fingerprint="T", body_hash="T2"))
    store.add_fetch(run_id, _fetch(HOME + "slow.html", status=200, fingerprint="S", body_hash="S1", latency=20.0))
    # a later stage's probe of the same URL must not replace what the crawl saw
    store.add_fetch(run_id, _fetch(HOME + "forbidden.html", "probe", status=200))
    store.add_links(run_id, [LinkEdge(HOME, HOME + p, p, Region.CONTENT, "a", i) for i, p in
                             enumerate(["forbidden.html", "headless.html", "moved.html", "slow.html", "never.html"])])
    store.flush()
    return run_id


def _verdicts(store: EvidenceStore, run_id: str) -> dict[str, tuple[Verdict, str | None]]:
    return {r.target_url.removeprefix(HOME): (r.verdict, r.reason) for r in store.iter_link_results(run_id)}


def test_judged_from_the_store_and_again_under_another_pack(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "e.sqlite")
    run_id = _stored_run(store)
    counts = judge_run(store, run_id, _config(tmp_path), load_pack("national"))
    assert _verdicts(store, run_id) == {
        "forbidden.html": (Verdict.UNVERIFIABLE, "bot_wall"),  # not the probe's 200
        "headless.html": (Verdict.OK, None),
        "moved.html": (Verdict.DEAD, "soft_404"),
        "slow.html": (Verdict.DEAD, "timeout"),  # 20 s to answer > links.timeout_seconds (15)
        "never.html": (Verdict.UNVERIFIABLE, "not_checked"),
    }
    assert counts == {"ok": 1, "dead": 2, "unverifiable": 2}

    pack = load_pack("national")
    pack.values["links.unverifiable_statuses"]["value"] = {"401": "login_wall"}
    pack.values["links.soft404_calibration"]["value"] = False
    pack.values["links.timeout_seconds"]["value"] = 30
    judge_run(store, run_id, _config(tmp_path), pack)
    again = _verdicts(store, run_id)
    assert again["forbidden.html"] == (Verdict.DEAD, "http_status")
    assert again["moved.html"] == (Verdict.OK, None)
    assert again["slow.html"] == (Verdict.OK, None)
    assert store.count("link_results", run_id) == 5  # replaced, not appended
    store.close()


def test_an_older_store_gains_the_columns_and_keeps_its_verdicts(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    EvidenceStore(db).close()
    with sqlite3.connect(db) as con:  # the fetches table as versions before the judging stage had it
        for col in ("attempts", "error_like", "body_hash", "latency"):
            con.execute(f"ALTER TABLE fetches DROP COLUMN {col}")
        con.execute("INSERT INTO runs (id, site, start_url, as_of, status, options, started_at) "
                    "VALUES ('old', 'www.x.gov.cn', ?, '2026-11-22', 'complete', '{}', 0)", (HOME,))
        con.execute("INSERT INTO fetches (run_id, url, purpose, method, status) VALUES ('old', ?, 'check', 'GET', 200)",
                    (HOME + "gone.html",))
        con.execute("INSERT INTO links (run_id, source_url, target_url) VALUES ('old', ?, ?)", (HOME, HOME + "gone.html"))
        # judged soft 404 by the crawl from its text, which the old fetch row does not carry
        con.execute("INSERT INTO link_results (run_id, target_url, verdict, reason) VALUES ('old', ?, 'dead', 'soft_404')",
                    (HOME + "gone.html",))
    store = EvidenceStore(db)
    with sqlite3.connect(db) as con:
        cols = {r[1] for r in con.execute("PRAGMA table_info(fetches)")}
    assert {"attempts", "error_like", "body_hash", "latency"} <= cols
    counts = judge_run(store, "old", _config(tmp_path), load_pack("national"))
    assert counts["dead"] == 1
    assert _verdicts(store, "old") == {"gone.html": (Verdict.DEAD, "soft_404")}
    store.add_fetch("old", _fetch(HOME + "new.html", status=200, attempts=2))  # new rows store fine
    store.close()
