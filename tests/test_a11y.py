"""axe-core in the real Debian Chromium: planted violations found, clean twins silent, repeats deduped,
hanging and crashing pages recorded while the audit goes on, JS-loaded columns rendered for every check."""

from __future__ import annotations

import base64
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.config import AuditConfig
from auditor.context import CheckContext, SiteView
from auditor.engine import Engine, run_checks, run_measure
from auditor.measure.records import iter_measurements
from auditor.plugins.browser import (
    BrowserOptions,
    BrowserProbe,
    host_resolver_rules,
    resolve_hosts,
)
from auditor.plugins.render_probe import needs_render
from auditor.scoring import compute_score
from auditor.store.database import EvidenceStore
from tests.sites.a11y_fixture import (
    ADVICE_PAGE,
    HOST,
    JS_COLUMN,
    JS_ITEMS,
    MANY_PAGE,
    OTHER_PAGE,
    OWN_IMAGES,
    PLANTED,
    REFRESH_PAGE,
    REVIEW_PAGES,
    SHARED_IMAGES,
    SITE_WIDE,
    SLOW_PAGE,
    SPACER_PAGES,
    TRAP_HOST,
    Hang,
    add_breakers,
    build_a11y_site,
    build_trap_site,
    spacer_paths,
    store_site,
)
from tests.support.servers import dns_server, serve

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed")

CRASH_ARGS = ["--js-flags=--max-old-space-size=64"]  # makes the out-of-memory crash page cheap


class Audit:
    """A stored run of a fixture site, checked by the real engine with the real plugins."""

    def __init__(self, tmp: Path, site: Any, base: str, checks: list[str], plugin_options: dict[str, Any],
                 paths: list[str] | None = None, resolve: dict[str, str] | None = None, dns: str | None = None):
        self.store = EvidenceStore(tmp / "e.sqlite")
        self.base = base
        self.run_id = store_site(self.store, site, base, paths=paths)
        self.config = AuditConfig(as_of="2026-11-22", url=base + "/", resolve=resolve if resolve is not None else {HOST: "127.0.0.1"},
                                  dns_server=dns, out=str(tmp / "out"), checks=checks, plugin_options=plugin_options)
        self.engine = Engine(self.config)
        self.site = SiteView(self.store, self.store.get_run(self.run_id))
        self.ctx = CheckContext(self.config, self.engine.pack, self.engine.rules, self.store, self.run_id,
                                self.engine.probes(), self.site.homepage_url)

    def run(self) -> Audit:
        """Measure stage (the browser: axe, 适老化), then enrich and checks — as ``govaudit check``."""

        try:
            run_measure(self.engine, self.ctx, self.site)
            run_checks(self.engine, self.ctx, self.site)
        finally:
            self.ctx.close_probes()
        self.findings = list(self.store.iter_findings(self.run_id))
        self.errors = list(self.store.iter_errors(self.run_id))
        return self

    def path(self, url: str) -> str:
        return url.removeprefix(self.base)

    def records(self, kind: str) -> list[dict[str, Any]]:
        return [r["data"] for r in self.store.iter_records(kind, run_id=self.run_id)]

    def measured(self, kind: str) -> list[dict[str, Any]]:
        """The data of the measure stage's ``kind`` measurements (``a11y.axe``, ``elderly.page``…)."""

        return [dict(m.data) for m in iter_measurements(self.store, self.run_id, kind)]


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Iterator[Audit]:
    site = build_a11y_site(planted=True)
    with serve(site) as srv:
        yield Audit(tmp_path_factory.mktemp("planted"), site, f"http://{HOST}:{srv.port}", ["a11y"],
                    {"a11y": {"sample": 100}}).run()


def test_each_planted_violation_is_found_and_nothing_else(planted: Audit) -> None:
    assert not planted.errors, planted.errors
    found: dict[str, set[str]] = {}
    for f in wcag_findings(planted.findings):
        assert f.rule.startswith("a11y.")
        if f.evidence["scope"] == "page":
            found.setdefault(planted.path(f.url), set()).add(f.rule.removeprefix("a11y."))
    expected = {p: r for p, r in PLANTED.items() if r}
    assert found == expected


def test_site_wide_repeat_is_one_finding_listing_every_page(planted: Audit) -> None:
    site_wide = [f for f in wcag_findings(planted.findings) if f.evidence["scope"] == "site"]
    assert len(site_wide) == 1
    f = site_wide[0]
    assert f.rule == f"a11y.{SITE_WIDE['rule']}" and f.evidence["selector"] == SITE_WIDE["selector"]
    sampled = {r["key"] for r in planted.store.iter_records("a11y.sample", run_id=planted.run_id)}
    pages = f.evidence["pages"]
    assert f.evidence["page_count"] == len(pages) == len(PLANTED) + len(JS_ITEMS)  # every HTML page carries the logo
    assert pages[0] == planted.base + "/" and f.url == pages[0]  # homepage first
    assert len(set(pages)) == len(pages)
    assert sampled == set(pages)  # every sampled page carries the logo, and each was recorded with its reasons
    # The page with its own image-alt problem keeps only its own node, not the logo.
    art1 = next(x for x in planted.findings if x.evidence["scope"] == "page" and x.rule == "a11y.image-alt"
                and x.url.endswith("/xwzx/2024/art_1.html"))
    assert [n["selector"] for n in art1.evidence["nodes"]] != ["#logo"] and art1.evidence["nodes_in_site_wide_findings"] == 1
    assert "photo.png" in art1.evidence["html"]


def assert_small_jpeg(shot: dict[str, Any]) -> None:
    """A cropped, downscaled JPEG as a data: URI (what report.html's CSP ``img-src data:`` allows)."""

    prefix = "data:image/jpeg;base64,"
    assert shot["src"].startswith(prefix)
    raw = base64.b64decode(shot["src"][len(prefix):], validate=True)
    assert raw[:3] == b"\xff\xd8\xff" and len(raw) < 40_000
    assert 0 < shot["width"] <= 400 and 0 < shot["height"] <= 400


def wcag_findings(findings: list[Any]) -> list[Any]:
    """WCAG violations only (best-practice advice and needs-review items have tests of their own)."""

    return [f for f in findings if f.evidence["result"] == "violation" and not f.evidence["best_practice"]]


def test_evidence_an_operator_can_act_on(planted: Audit) -> None:
    out = Path(planted.config.out)
    for f in wcag_findings(planted.findings):
        ev = f.evidence
        assert ev["impact"] in ("critical", "serious", "moderate", "minor") and ev["impact_zh"]
        assert ev["wcag"] and all(c.count(".") == 2 for c in ev["wcag"])
        assert ev["gbt37668"]["indicator"] is None and ev["gbt37668"]["status"] == "unknown"  # never guessed
        assert ev["selector"] and ev["html"].startswith("<")
        assert ev["axe_version"] == "4.12.1"
        assert f.basis is not None and "GB/T 37668-2019" in f.basis.zh and "WCAG" in f.basis.zh
        assert f.message_zh and f.message_en and f.remediation_zh
        assert ev["screenshot"], f"no screenshot for {f.rule} on {f.url}"
        assert_small_jpeg(ev["screenshot"])
    assert not (out / "a11y-shots").exists()  # no files: the evidence carries the (small) image itself
    contrast = next(f for f in planted.findings if f.rule == "a11y.color-contrast")
    assert "2.2" in contrast.evidence["nodes"][0]["failure_summary"] or "contrast" in contrast.evidence["nodes"][0]["failure_summary"]
    assert "wcag" in json.dumps(contrast.basis.source).lower() or "WCAG" in contrast.basis.source
    sev = {f.rule: f.severity for f in planted.findings if f.evidence["scope"] == "page"}
    assert sev["a11y.image-alt"] == "major" and sev["a11y.list"] == "minor"  # critical → major, serious → minor (pack)


def test_engine_version_is_recorded_once(planted: Audit) -> None:
    engines = planted.records("a11y.engine")
    assert len(engines) == 1 and engines[0]["version"] == "4.12.1" and engines[0]["browser"]
    assert engines[0]["pages_audited"] == len(PLANTED) + len(JS_ITEMS) and engines[0]["pages_failed"] == 0
    metric = [m for m in planted.records("metric") if m["name"] == "a11y.pages_audited"]
    assert len(metric) == 1 and "4.12.1" in metric[0]["label_zh"]


def test_clean_twin_yields_nothing(tmp_path) -> None:
    site = build_a11y_site(planted=False)
    with serve(site) as srv:
        audit = Audit(tmp_path, site, f"http://{HOST}:{srv.port}", ["a11y"], {"a11y": {"mode": "all"}}).run()
    assert audit.findings == [] and audit.errors == []
    assert audit.records("a11y.engine")[0]["pages_audited"] == len(PLANTED) + len(JS_ITEMS)


def test_hanging_and_crashing_pages_are_recorded_and_the_audit_goes_on(tmp_path) -> None:
    site = build_a11y_site(planted=True)
    hang = Hang(threading.Event())
    breakers = add_breakers(site, hang)
    paths = ["/", "/xwzx/2024/art_1.html", breakers["hang"], breakers["crash"], "/bsfw/index.html", "/xwzx/2024/art_6.html"]
    try:
        with serve(site) as srv:
            audit = Audit(tmp_path, site, f"http://{HOST}:{srv.port}", ["a11y"],
                          {"a11y": {"mode": "all"}, "browser": {"page_budget": 10, "load_wait": 1, "extra_args": CRASH_ARGS}},
                          paths=paths).run()
    finally:
        hang.release.set()
    kinds = {audit.path(e["url"]): e for e in audit.errors}
    assert set(kinds) == {breakers["hang"], breakers["crash"]}, audit.errors
    assert kinds[breakers["hang"]]["stage"] == "probe" and kinds[breakers["hang"]]["plugin"] == "a11y"
    assert "timeout" in kinds[breakers["hang"]]["message"]
    assert "crash" in kinds[breakers["crash"]]["message"]
    engine = audit.records("a11y.engine")[0]
    assert engine["pages_audited"] == 4 and engine["pages_failed"] == 2
    # Pages after the broken ones were audited in the same browser.
    pages = {audit.path(f.url) for f in audit.findings if f.evidence["scope"] == "page"}
    assert {"/bsfw/index.html", "/xwzx/2024/art_6.html", "/xwzx/2024/art_1.html"} <= pages


def test_js_loaded_column_is_rendered_for_every_check(tmp_path) -> None:
    site = build_a11y_site(planted=False)
    with serve(site) as srv:
        base = f"http://{HOST}:{srv.port}"
        # freshness reads column content; rendering serves it (with only links selected it is skipped)
        audit = Audit(tmp_path, site, base, ["freshness"], {"a11y": {"mode": "off"}})
        url = base + JS_COLUMN
        before = audit.site.page(url)
        assert needs_render(before.tree, 40) is not None
        assert JS_ITEMS[0][0] not in before.visible_text
        # Ordinary pages are left alone.
        assert needs_render(audit.site.page(base + "/xwzx/2024/art_1.html").tree, 40) is None
        audit.run()
        after = audit.site.page(url)
    assert after.rendered and not before.rendered
    assert JS_ITEMS[0][0] not in after.original_body.decode("utf-8")  # the fetched bytes are kept
    for title, date in JS_ITEMS:
        assert title in after.visible_text and date in after.visible_text
    anchors = {e["anchor"]: e["target_url"] for e in audit.store.iter_links(audit.run_id, source_url=url)}
    assert anchors[JS_ITEMS[0][0]] == base + "/tzgg/2024/t1.html"
    [index] = audit.measured("render")
    assert index["rendered"] == [url]
    [page] = audit.measured("render.page")
    assert page["links_added"] == len(JS_ITEMS)
    assert not audit.errors
    # What checks see is the rendered DOM: it has content, so it would not be rendered again.
    assert needs_render(after.tree, 40) is None


def test_render_is_bounded(tmp_path) -> None:
    site = build_a11y_site(planted=False)
    for i in range(3):
        site.page(f"/tzgg/copy{i}.html", site.routes[JS_COLUMN].body.decode())
    with serve(site) as srv:
        audit = Audit(tmp_path, site, f"http://{HOST}:{srv.port}", ["freshness"],
                      {"a11y": {"mode": "off"}, "browser": {"render_max_pages": 2}}).run()
    metric = next(m for m in audit.records("metric") if m["name"] == "render.pages_rendered")
    assert metric["value"] == 2 and metric["detail"]["over_limit"] == 2


def test_hostnames_follow_resolve_and_dns_server(tmp_path) -> None:
    assert host_resolver_rules({"a.gov.cn": "127.0.0.1", "b.gov.cn": "::1", "bad": "x"}) == "MAP a.gov.cn 127.0.0.1, MAP b.gov.cn [::1]"
    site = build_a11y_site(planted=False)
    with serve(site) as srv, dns_server({HOST: ["127.0.0.1"]}) as dns:
        base = f"http://{HOST}:{srv.port}"
        audit = Audit(tmp_path, site, base, ["a11y"], {}, paths=["/"], resolve={}, dns=dns)
        mapping = resolve_hosts(audit.ctx)
        assert mapping == {HOST: "127.0.0.1"}

        async def title(page: Any, url: str) -> str:
            return await page.title()

        with BrowserProbe(BrowserOptions(), mapping) as probe:
            out = list(probe.map([base + "/"], title))
    assert out[0].ok and out[0].value.startswith("首页") and out[0].status == 200


def test_browser_missing_is_an_error_not_a_crash(tmp_path) -> None:
    site = build_a11y_site(planted=False)
    with serve(site) as srv:
        audit = Audit(tmp_path, site, f"http://{HOST}:{srv.port}", ["a11y"],
                      {"browser": {"executable": str(tmp_path / "no-such-chromium")}}, paths=["/"]).run()
    assert audit.findings == []
    assert any(e["plugin"] == "a11y" and "Chromium" in e["message"] for e in audit.errors)


def test_rule_data_matches_the_bundled_axe(tmp_path) -> None:
    """a11y_rules.json was generated from axe.getRules(); a new axe bundle must regenerate it."""

    from auditor.checks.a11y import rules_data
    from auditor.plugins.browser import AXE_ALIAS_JS, axe_script

    async def rules(page: Any, url: str) -> Any:
        await page.evaluate(axe_script() + AXE_ALIAS_JS)
        return await page.evaluate("() => ({v: axe.version, r: axe._audit.rules.map(r => [r.id, r.impact, r.tags])})")

    with BrowserProbe() as probe:
        out = list(probe.map(["about:blank"], rules))[0]
    assert out.ok, out.error
    data = rules_data()
    assert out.value["v"] == data["axe_core_version"]
    live = {rid: (impact, tags) for rid, impact, tags in out.value["r"]}
    ours = {r["id"]: (r["impact"], r["tags"]) for r in data["rules"]}
    assert live == ours
    assert shutil.which("chromium") or Path("/usr/bin/chromium").exists()


# --- traps: isolation, node cap, identity grouping, advice, needs review --------------------------

@pytest.fixture(scope="module")
def traps(tmp_path_factory) -> Iterator[Audit]:
    site = build_trap_site()
    with serve(site) as srv:
        # One tab: every page follows the previous one in the same tab, as on a busy audit.
        yield Audit(tmp_path_factory.mktemp("traps"), site, f"http://{TRAP_HOST}:{srv.port}", ["a11y"],
                    {"a11y": {"mode": "all"}, "browser": {"tabs": 1}}, resolve={TRAP_HOST: "127.0.0.1"}).run()


def _page_findings(audit: Audit, path: str) -> list[Any]:
    return [f for f in audit.findings if f.evidence["scope"] == "page" and audit.path(f.url) == path]


def test_a_late_meta_refresh_does_not_break_the_next_page_in_the_same_tab(traps: Audit) -> None:
    # Old: the refresh of /refresh.html fired while /refresh2.html (3 s server) loaded and aborted
    # it (net::ERR_ABORTED): its button-name violation was lost and an error recorded instead.
    assert not traps.errors, traps.errors
    slow = _page_findings(traps, SLOW_PAGE)
    assert {f.rule for f in slow} == {"a11y.button-name"}
    assert "icon-btn" in slow[0].evidence["html"]
    # The refreshing page's results are its own (its meta refresh), not the target's image.
    own = _page_findings(traps, REFRESH_PAGE)
    assert {f.rule for f in own} == {"a11y.meta-refresh"}
    assert all("elsewhere-only" not in json.dumps(f.evidence) for f in own + slow)
    records = {traps.path(r["url"]): r for r in traps.measured("a11y.axe")}
    assert traps.path(records[REFRESH_PAGE]["document_url"]) == REFRESH_PAGE
    assert traps.path(records[SLOW_PAGE]["document_url"]) == SLOW_PAGE


def test_tabs_are_blanked_between_jobs_so_timers_cannot_reach_the_next_page(tmp_path) -> None:
    """Pool level, for every job (render, 适老化 too): a plain job that does not stop the page itself."""

    site = build_trap_site()
    site.page("/timer.html", "<html><head><title>T</title></head><body><script>"
                             "setTimeout(() => { location.href = '/elsewhere.html'; }, 1500)</script></body></html>")

    async def title(page: Any, url: str) -> str:
        return await page.title()

    with serve(site) as srv, BrowserProbe(BrowserOptions(tabs=1, load_wait=1)) as probe:
        urls = [srv.base_url + p for p in (REFRESH_PAGE, SLOW_PAGE, "/timer.html", SLOW_PAGE)]
        out = list(probe.map(urls, title))
    assert [o.ok for o in out] == [True] * 4, [o.error for o in out]
    assert [o.value for o in out] == ["即将跳转_无障碍测试县人民政府", "慢速页面_无障碍测试县人民政府", "T",
                                      "慢速页面_无障碍测试县人民政府"]
    assert probe.stats["tab_replacements"] == 0


def test_no_node_cap_loses_a_pages_own_results(traps: Audit) -> None:
    # 25 images without alt; the first 20 also on another page. Old: only 20 nodes were kept —
    # exactly the shared ones — so the page's 5 own images vanished from the report.
    page = [f for f in _page_findings(traps, MANY_PAGE) if f.rule == "a11y.image-alt"]
    assert len(page) == 1
    ev = page[0].evidence
    assert ev["page_node_count"] == SHARED_IMAGES + OWN_IMAGES
    assert ev["node_count"] == OWN_IMAGES and ev["nodes_in_site_wide_findings"] == SHARED_IMAGES
    assert ev["nodes_not_listed"] == 0
    assert sorted(n["html"].split('"')[1] for n in ev["nodes"]) == [f"/img/own{i}.png" for i in range(OWN_IMAGES)]
    shared = [f for f in traps.findings if f.evidence["scope"] == "site" and "/img/shared" in f.evidence["html"]]
    assert len(shared) == SHARED_IMAGES
    assert all({traps.path(u) for u in f.evidence["pages"]} == {MANY_PAGE, OTHER_PAGE} for f in shared)
    # Counted: the page record keeps every node axe reported.
    rec = next(r for r in traps.measured("a11y.axe") if traps.path(r["url"]) == MANY_PAGE)
    alt = next(v for v in rec["violations"] if v["id"] == "image-alt")
    assert alt["count"] == len(alt["nodes"]) == SHARED_IMAGES + OWN_IMAGES


def test_the_same_spacer_at_different_positions_is_one_entry(traps: Audit) -> None:
    spacer = [f for f in traps.findings if "spacer.gif" in f.evidence["html"]]
    assert len(spacer) == 1, [(f.evidence["scope"], traps.path(f.url), f.evidence["selector"]) for f in spacer]
    ev = spacer[0].evidence
    assert ev["scope"] == "site" and ev["page_count"] == SPACER_PAGES
    assert {traps.path(u) for u in ev["pages"]} == set(spacer_paths())
    # The trap is real: the selectors differ by position (old grouping keyed on them), and half
    # of the pages write the src relatively.
    assert len(ev["selectors"]) > 3 and all("nth-child" in s for s in ev["selectors"])
    htmls = set()
    for r in traps.measured("a11y.axe"):
        for v in r["violations"]:
            htmls.update(n["html"] for n in v["nodes"] if "spacer" in n["html"])
    assert len(htmls) == 2


def test_best_practice_rules_are_advice_and_move_no_score(traps: Audit) -> None:
    advice = _page_findings(traps, ADVICE_PAGE)
    assert {"a11y.landmark-one-main", "a11y.region"} <= {f.rule for f in advice}
    for f in advice:
        assert f.severity == "info" and f.evidence["best_practice"] and f.evidence["wcag"] == []
        assert "不扣分" in f.message_zh and "deduction" not in f.evidence
    rule = traps.engine.rules["a11y.landmark-one-main"]
    assert rule.severity == "info" and rule.name_zh.startswith("无障碍建议")
    assert "国办公开办函〔2021〕28号" in rule.basis.zh and "rules.md" not in rule.basis.source
    without = compute_score([f for f in traps.findings if f not in advice], traps.engine.rules, traps.engine.pack)
    with_advice = compute_score(traps.findings, traps.engine.rules, traps.engine.pack)
    assert with_advice["score"] == without["score"] and with_advice["indicators"] == without["indicators"]


def test_needs_review_items_are_listed_and_grouped(traps: Audit) -> None:
    review = [f for f in traps.findings if f.rule == "a11y.needs_review"]
    assert review, "axe's incomplete results must be listed for a person to check"
    contrast = [f for f in review if f.evidence["axe_rule"] == "color-contrast"]
    assert len(contrast) == 1  # the same element on both pages: one entry
    ev = contrast[0].evidence
    assert ev["scope"] == "site" and {traps.path(u) for u in ev["pages"]} == set(REVIEW_PAGES)
    assert ev["result"] == "needs_review" and contrast[0].severity == "info"
    assert "背景图上的文字" in ev["html"] and ev["failure_summary"]
    assert "需人工复核" in contrast[0].message_zh


def test_judgement_is_a_pure_function_of_the_records(traps: Audit) -> None:
    """Rejudging the stored ``a11y.axe`` measurements (no browser) gives the same findings, screenshots included."""

    from auditor.checks.a11y import judge, options

    records = traps.measured("a11y.axe")
    again = list(judge(traps.ctx, records, options(traps.config), "4.12.1", traps.site.homepage_url))
    assert sorted((f.rule, f.url, f.key) for f in again) == sorted((f.rule, f.url, f.key) for f in traps.findings)
    shots = [f.evidence["screenshot"] for f in again if f.evidence["screenshot"]]
    assert shots and all(s["src"].startswith("data:image/jpeg;base64,") for s in shots)


def test_screenshots_stay_within_the_run_budget(tmp_path) -> None:
    site = build_a11y_site(planted=True)
    paths = ["/", "/xwzx/2024/art_1.html", "/xwzx/2024/art_4.html", "/xwzx/2024/art_5.html", "/xwzx/2024/art_6.html"]
    with serve(site) as srv:
        audit = Audit(tmp_path, site, f"http://{HOST}:{srv.port}", ["a11y"],
                      {"a11y": {"mode": "all", "screenshot_total_kb": 15}}, paths=paths).run()
    shots = [f.evidence["screenshot"] for f in audit.findings if f.evidence["screenshot"]]
    recorded = sum(s["bytes"] for r in audit.measured("a11y.axe") for s in r["shots"].values())
    assert shots and recorded <= 15_000
    missing = [f for f in audit.findings if not f.evidence["screenshot"]]
    assert missing and all("截图总量已达上限" in f.evidence["screenshot_note"] for f in missing if f.evidence["scope"] == "site")


def test_only_inline_png_or_jpeg_reaches_an_img_src() -> None:
    from auditor.reports.writers import safe_data_image

    ok = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ=="
    assert safe_data_image(ok) == ok and safe_data_image("data:image/png;base64,iVBORw0KGgo=")
    for bad in ("javascript:alert(1)", "https://evil.example/x.png", "data:image/svg+xml;base64,PHN2Zz4=",
                'data:image/png;base64,AAAA" onerror="x', "data:text/html;base64,PGgxPg==", None, 42,
                "data:image/png;base64," + "A" * 300_000):
        assert safe_data_image(bad) == ""
