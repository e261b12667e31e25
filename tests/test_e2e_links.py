"""End to end through the real ``govaudit`` console script: dead links of every kind, no false alarms.

The fixture (tests/sites/gov_fixture.py) plants one dead link of each kind the issue names and the
traps other link checkers fall into; every name is answered by a local DNS server. One audit per
module is shared by the assertions below, so the suite pays for the crawl once.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest
from jsonschema import Draft202012Validator

from auditor.store.database import EvidenceStore
from tests.sites.gov_fixture import AS_OF, GovFixture, running_gov_fixture
from tests.support.servers import closed_port, run_cli

pytestmark = pytest.mark.slow

SCHEMA = Path(__file__).resolve().parents[1] / "reports" / "schema" / "report.schema.json"


def _audit(fx: GovFixture, url: str, out: Path, *extra: str) -> tuple[object, dict, Path]:
    db = out / "evidence.sqlite"
    proc = run_cli(
        "check", url, "--out", str(out / "report"), "--db", str(db), "--timeout", "2",
        "--as-of", AS_OF.isoformat(), *fx.cli_args(), *extra, timeout=300,
    )
    report_path = out / "report" / "report.json"
    report = json.loads(report_path.read_text("utf-8")) if report_path.exists() else {}
    return proc, report, db


@pytest.fixture(scope="module")
def fx():
    with running_gov_fixture() as running:
        yield running


@pytest.fixture(scope="module")
def links_run(fx, tmp_path_factory):
    out = tmp_path_factory.mktemp("links")
    proc, report, db = _audit(fx, fx.url, out, "--checks", "links")
    assert report, f"no report.json (exit {proc.returncode})\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    return proc, report, db, out


@pytest.fixture(scope="module")
def second_run(fx, tmp_path_factory):
    out = tmp_path_factory.mktemp("second")
    proc, report, db = _audit(fx, fx.second_site_url, out, "--checks", "links")
    assert report, f"no report.json (exit {proc.returncode})\nstderr:\n{proc.stderr[-3000:]}"
    return proc, report, db


def _dead(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == "links.dead"]


def _verdicts(db: Path, run_id: str) -> dict[str, object]:
    store = EvidenceStore(str(db))
    try:
        return {r.target_url: r for r in store.iter_link_results(run_id)}
    finally:
        store.close()


def _same(a: str, b: str) -> bool:
    return unquote(a) == unquote(b)


def test_exit_code_and_reports_written(links_run) -> None:
    proc, report, _, out = links_run
    # Dead links are major, never single-veto: exit 0 with findings.
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "report" / "report.html").stat().st_size > 0
    assert report["as_of"] == AS_OF.isoformat()
    assert report.get("status") == "complete", report.get("coverage")


def test_report_validates_against_schema(links_run, second_run) -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    for report in (links_run[1], second_run[1]):
        errors = sorted(Draft202012Validator(schema).iter_errors(report), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:20])


@pytest.mark.parametrize("reason", ["http_status", "dns", "refused", "timeout", "tls", "soft_404"])
def test_every_planted_dead_link_found_with_its_reason(fx, links_run, reason) -> None:
    report = links_run[1]
    by_url = {f["url"]: f for f in _dead(report)}
    planted = [e for e in fx.dead.values() if e.reason == reason]
    assert planted, reason
    problems = []
    for e in planted:
        f = next((f for u, f in by_url.items() if _same(u, e.url)), None)
        if f is None:
            problems.append(f"not reported: {e.url}")
            continue
        if f["evidence"].get("reason") != e.reason:
            problems.append(f"{e.url}: reason {f['evidence'].get('reason')!r} (status {f['evidence'].get('status')}), expected {e.reason!r}")
        if e.status is not None and f["evidence"].get("status") != e.status:
            problems.append(f"{e.url}: status {f['evidence'].get('status')}, expected {e.status}")
    assert not problems, "\n".join(problems)


def test_each_dead_link_once_with_all_its_sources(fx, links_run) -> None:
    dead = _dead(links_run[1])
    counts = Counter(unquote(f["url"]) for f in dead)
    assert not [u for u, n in counts.items() if n > 1], counts
    problems = []
    for e in fx.dead.values():
        f = next((f for f in dead if _same(f["url"], e.url)), None)
        if f is None:
            continue  # reported by the test above
        sources = sorted(s["url"] for s in f["evidence"]["sources"])
        if sources != sorted(e.sources):
            problems.append(f"{e.url}: sources {sources}, expected {sorted(e.sources)}")
        if f["source_url"] not in e.sources:
            problems.append(f"{e.url}: source_url {f['source_url']} is not a linking page")
        if fx.url in e.sources and f["source_url"] != fx.url:
            problems.append(f"{e.url}: homepage must be the first source, got {f['source_url']}")
    assert not problems, "\n".join(problems)


def test_homepage_dead_links_weigh_more(fx, links_run) -> None:
    dead = _dead(links_run[1])
    home = [f for f in dead if f["evidence"].get("on_homepage")]
    other = [f for f in dead if not f["evidence"].get("on_homepage")]
    assert home and other
    assert {f["url"] for f in home} == {f["url"] for f in dead if fx.url in [s["url"] for s in f["evidence"]["sources"]]}
    # the deduction is looked up by rule id in the pack (homepage −1, elsewhere −0.1), not carried in evidence
    assert min(f["deduction"] for f in home) > max(f["deduction"] for f in other) > 0
    assert all("deduction" not in f["evidence"] for f in dead)
    for f in dead:
        assert f["severity"] == "major" and f["basis"] and f["remediation"] and f["message"]


def test_no_trap_reported_dead(fx, links_run) -> None:
    proc, report, db, _ = links_run
    dead_urls = {unquote(f["url"]) for f in _dead(report)}
    expected = {unquote(u) for u in fx.dead}
    assert not dead_urls - expected, f"false alarms: {sorted(dead_urls - expected)}"
    verdicts = _verdicts(db, report["run_id"])
    problems = []
    for trap in fx.traps:
        hits = [r for u, r in verdicts.items() if _same(u.split("?")[0], trap) or _same(u, trap)]
        if not hits:
            problems.append(f"trap never checked: {trap}")
        for r in hits:
            if str(r.verdict) != "ok":
                problems.append(f"trap {r.target_url}: {r.verdict} {r.reason} {r.status}")
    assert not problems, "\n".join(problems)


def test_bot_wall_is_unverifiable_not_dead(fx, links_run) -> None:
    report = links_run[1]
    unverifiable = {f["url"]: f for f in report["findings"] if f["rule"] == "links.unverifiable"}
    for url in fx.unverifiable:
        assert url in unverifiable, sorted(unverifiable)
        assert unverifiable[url]["evidence"]["reason"] == "bot_wall"
        assert unverifiable[url]["severity"] == "info"
        assert "deduction" not in unverifiable[url]["evidence"] or not unverifiable[url]["evidence"]["deduction"]
        assert url not in {f["url"] for f in _dead(report)}


def test_mailto_tel_javascript_never_reported(links_run) -> None:
    for f in links_run[1]["findings"]:
        assert not f["url"].lower().startswith(("mailto:", "tel:", "javascript:")), f["url"]


def test_gbk_pages_and_chinese_urls_were_crawled(fx, links_run) -> None:
    """The GBK pages were decoded (their links found) and Chinese paths fetched, not mangled."""

    _, report, db, _ = links_run
    store = EvidenceStore(str(db))
    try:
        pages = {p["url"]: p for p in store.iter_pages(report["run_id"], with_body=False)}
        edges = list(store.iter_links(report["run_id"], source_url=fx.url + "xxgk/index.html"))
    finally:
        store.close()
    assert any(unquote(u).endswith("/政策/文件二.html") for u in pages), sorted(pages)
    gbk = pages[fx.url + "xxgk/index.html"]
    assert gbk["encoding"].lower().replace("-", "") in ("gbk", "gb18030", "gb2312", "cp936")
    anchors = {e["anchor"] for e in edges}
    assert "政策文件二（GBK 页面中的中文路径）" in anchors, anchors
    assert any(e["target_url"].endswith("?kw=%B9%AB%BF%AA") for e in edges), [e["target_url"] for e in edges]


def test_second_site_error_page_is_its_homepage(fx, second_run) -> None:
    """404s redirect to the homepage: links to / and /index.html are fine, a missing page is a soft 404."""

    proc, report, db = second_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    dead = {f["url"]: f for f in _dead(report)}
    verdicts = _verdicts(db, report["run_id"])
    problems = [f"trap reported dead: {t}" for t in fx.second_site_traps if t in dead]
    problems += [f"trap not ok: {t}: {verdicts[t].verdict} {verdicts[t].reason}" for t in fx.second_site_traps
                 if t in verdicts and str(verdicts[t].verdict) != "ok"]
    for url, e in fx.second_site_dead.items():
        if url not in dead:
            problems.append(f"not reported: {url} ({verdicts.get(url)})")
        elif dead[url]["evidence"]["reason"] != e.reason:
            problems.append(f"{url}: reason {dead[url]['evidence']['reason']}, expected {e.reason}")
    assert not problems, "\n".join(problems)


def test_recheck_gives_the_same_findings_and_ids(links_run, tmp_path) -> None:
    proc, report, db, _ = links_run
    again = run_cli("recheck", report["run_id"], "--db", str(db), "--out", str(tmp_path / "re"), timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    re_report = json.loads((tmp_path / "re" / "report.json").read_text("utf-8"))
    assert sorted(f["id"] for f in re_report["findings"]) == sorted(f["id"] for f in report["findings"])


def test_site_unreachable_at_start_exits_3(fx, tmp_path) -> None:
    port = closed_port("127.0.0.3")
    proc = run_cli("check", "--as-of", "2026-11-22", f"http://www.refused-fixture.gov.cn:{port}/", "--out", str(tmp_path / "r"), "--db",
                   str(tmp_path / "e.sqlite"), "--timeout", "2", "--dns-server", fx.dns, timeout=120)
    assert proc.returncode == 3, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    proc = run_cli("check", "--as-of", "2026-11-22", "http://www.gone-fixture.gov.cn/", "--out", str(tmp_path / "n"), "--db",
                   str(tmp_path / "n.sqlite"), "--timeout", "2", "--dns-server", fx.dns, timeout=120)
    assert proc.returncode == 3, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])


def test_usage_error_exits_2(fx, tmp_path) -> None:
    proc = run_cli("check", "--as-of", "2026-11-22", fx.url, "--out", str(tmp_path / "r"), "--profile", "galaxy", timeout=60)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    proc = run_cli("check", "--as-of", "2026-11-22", fx.url, "--out", str(tmp_path / "r"), "--dns-server", "not a server", timeout=60)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])


def test_all_checks_together_do_not_break_the_link_findings(fx, links_run, tmp_path) -> None:
    """Every registered check on the same site: the audit completes, the report validates, and the
    link findings are the same as with ``--checks links`` alone."""

    proc, report, _ = _audit(fx, fx.url, tmp_path, "--a11y", "off")
    assert proc.returncode in (0, 1), (proc.returncode, proc.stderr[-3000:])
    schema = json.loads(SCHEMA.read_text("utf-8"))
    errors = list(Draft202012Validator(schema).iter_errors(report))
    assert not errors, [e.message for e in errors[:10]]
    assert sorted(f["id"] for f in _dead(report)) == sorted(f["id"] for f in _dead(links_run[1]))
    assert proc.returncode == (1 if report["score"]["veto"] else 0)
