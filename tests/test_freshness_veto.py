"""栏目不更新 veto traps: threshold−1 distinct columns (two of them doubled on the homepage) → no veto;
threshold → one veto finding that lists exactly the counted columns. Same for blank and long-stale
columns, and a homepage of short dated titles that is not 首页不更新. Real CLI, loopback servers."""

from __future__ import annotations

import datetime as dt
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.sites.veto_fixture import THRESHOLD, build_short_titles_site, build_veto_site
from tests.support.servers import run_cli, serve

AS_OF = dt.date(2024, 6, 14)
pytestmark = pytest.mark.slow
SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "reports" / "schema" / "report.schema.json").read_text("utf-8"))

CASES = [(t, THRESHOLD[t] + delta) for t in ("stale", "blank", "longstale") for delta in (-1, 0)]
TRIGGER_KEY = {"stale": "stale", "blank": "blank", "longstale": "longstale"}


def _audit(site, out, db) -> tuple[dict, int]:
    with serve(site) as srv:
        r = run_cli("check", srv.base_url.rstrip("/") + "/", "--out", str(out), "--db", str(db), "--as-of", AS_OF.isoformat(),
                    "--checks", "freshness", "--a11y", "off")
    return json.loads((out / "report.json").read_text("utf-8")), r.returncode


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("veto")

    def run(case: tuple[str, int]):
        trigger, count = case
        site, truth = build_veto_site(AS_OF, trigger, count)
        report, rc = _audit(site, root / f"{trigger}{count}", root / f"{trigger}{count}.sqlite")
        return case, (report, truth, rc)

    def run_short(_: object):
        return "short", _audit(build_short_titles_site(AS_OF), root / "short", root / "short.sqlite")

    with ThreadPoolExecutor(max_workers=min(3, os.cpu_count() or 1)) as pool:
        out = dict(pool.map(run, CASES))
        out["short"] = pool.submit(run_short, None).result()[1]
    return out


def _vetoes(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] in ("freshness.column_stale", "freshness.column_blank_veto")
            and f["severity"] == "veto"]


def _metric(report: dict, name: str) -> dict:
    m = report["metrics"]
    return next(x for x in (m.values() if isinstance(m, dict) else m) if x["name"] == name)


@pytest.mark.parametrize(("trigger", "count"), CASES)
def test_threshold_traps(runs, trigger: str, count: int) -> None:
    report, truth, rc = runs[(trigger, count)]
    threshold = THRESHOLD[trigger]
    assert not [e for e in report["errors"] if e.get("plugin") == "freshness"], report["errors"]
    errors = list(Draft202012Validator(SCHEMA).iter_errors(report))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    counts = _metric(report, "freshness.columns")["detail"]["counts"]
    # each doubled column (homepage block + its column page) is counted once
    assert counts[TRIGGER_KEY[trigger]] == count, counts
    vetoes = _vetoes(report)
    if count < threshold:
        assert not vetoes, [v["message"] for v in vetoes]
        assert rc == 0
        return
    assert len(vetoes) == 1 and rc == 1
    veto = vetoes[0]
    assert veto["rule"] == ("freshness.column_blank_veto" if trigger == "blank" else "freshness.column_stale")
    trig = veto["evidence"]["triggers"][TRIGGER_KEY[trigger]]
    assert trig["met"] and trig["count"] == threshold and trig["threshold"] == threshold
    assert trig["threshold_entry"]["source"] and trig["threshold_entry"]["status"] == "confirmed"
    listed = trig["columns"]
    assert sorted(c["name"] for c in listed) == sorted(truth.columns)  # exactly the counted columns, once each
    for c in listed:
        assert c["url"] and c["url"].startswith("http"), c  # every counted column with its address…
        assert c["class"] and c["reason_zh"] and c["reason_en"]  # …its class and why it counts
        if trigger == "blank":
            assert c["blank_reason"] == "placeholder" and "暂无信息" in c["reason_zh"]
        else:
            assert c["newest"] and c["age_days"] > (c["window_days"] or 0)
            assert c["newest"] in c["reason_zh"]
    by = {c["name"]: c for c in listed}
    for name in truth.doubled:
        assert by[name]["also_seen_as"], name  # the merge is shown, not hidden
    # the message says the count, the threshold and the names
    assert f"{threshold} 个" in veto["message"] and all(n in veto["message"] for n in truth.columns)
    others = [k for k, v in veto["evidence"]["triggers"].items() if v["met"] and k != TRIGGER_KEY[trigger]]
    assert not others
    assert not [f for f in report["findings"] if f["rule"].endswith("_veto_undecided")]


def test_each_doubled_column_is_one_finding(runs) -> None:
    report, truth, _ = runs[("stale", THRESHOLD["stale"])]
    stale = [f for f in report["findings"] if f["rule"] == "freshness.column_stale" and f["severity"] != "veto"]
    names = [f["column"] for f in stale]
    assert sorted(names) == sorted(truth.columns)


def test_short_dated_titles_keep_the_homepage_fresh(runs) -> None:
    report, rc = runs["short"]
    assert not [f for f in report["findings"] if f["rule"] == "freshness.homepage_stale"]
    metric = _metric(report, "freshness.homepage_new_items")
    assert metric["value"] == 10  # 新闻0 … 新闻9: 5 to 14 days old; 新闻10/11 (15, 16 days) are out
    assert metric["detail"]["newest"]["title"] == "新闻0"


@pytest.mark.parametrize("render", [False, True])
def test_script_filled_homepage_is_never_a_false_veto(tmp_path, render: bool) -> None:
    """Statically the homepage's newest item is 60 days old; its script-filled 要闻 list holds a 3-day-old item."""

    from tests.sites.veto_fixture import build_js_homepage_site

    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[plugins.browser]\nrender = {'true' if render else 'false'}\n", "utf-8")
    with serve(build_js_homepage_site(AS_OF)) as srv:
        r = run_cli("check", srv.base_url.rstrip("/") + "/", "--out", str(tmp_path / "o"), "--db", str(tmp_path / "d.sqlite"),
                    "--as-of", AS_OF.isoformat(), "--checks", "freshness", "--a11y", "off", "--config", str(cfg))
    report = json.loads((tmp_path / "o" / "report.json").read_text("utf-8"))
    assert not [f for f in report["findings"] if f["rule"] == "freshness.homepage_stale"], r.stderr[-2000:]
    undecidable = [f for f in report["findings"] if f["rule"] == "freshness.homepage_undecidable"]
    if render:
        assert not undecidable
        assert _metric(report, "freshness.homepage_new_items")["value"] == 2  # 3 and 8 days old, read after rendering
    else:
        assert len(undecidable) == 1 and undecidable[0]["severity"] == "info"
        ev = undecidable[0]["evidence"]
        assert "trsapi" in ev["js_list_markers"] and ev["age_days"] == 60 and not ev["render_tried"]
