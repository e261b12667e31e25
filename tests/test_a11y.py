"""axe-core in the real Debian Chromium: planted violations found, clean twins silent, repeats deduped,
hanging and crashing pages recorded while the audit goes on, JS-loaded columns rendered for every check."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.config import AuditConfig
from auditor.context import CheckContext, SiteView
from auditor.engine import Engine, run_checks
from auditor.plugins.browser import (
    BrowserOptions,
    BrowserProbe,
    host_resolver_rules,
    needs_render,
    resolve_hosts,
)
from auditor.store import EvidenceStore
from tests.sites.a11y_fixture import (
    HOST,
    JS_COLUMN,
    JS_ITEMS,
    PLANTED,
    SITE_WIDE,
    Hang,
    add_breakers,
    build_a11y_site,
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
        try:
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


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Iterator[Audit]:
    site = build_a11y_site(planted=True)
    with serve(site) as srv:
        yield Audit(tmp_path_factory.mktemp("planted"), site, f"http://{HOST}:{srv.port}", ["a11y"],
                    {"a11y": {"sample": 100}}).run()


def test_each_planted_violation_is_found_and_nothing_else(planted: Audit) -> None:
    assert not planted.errors, planted.errors
    found: dict[str, set[str]] = {}
    for f in planted.findings:
        assert f.rule.startswith("a11y.")
        if f.evidence["scope"] == "page":
            found.setdefault(planted.path(f.url), set()).add(f.rule.removeprefix("a11y."))
    expected = {p: r for p, r in PLANTED.items() if r}
    assert found == expected


def test_site_wide_repeat_is_one_finding_listing_every_page(planted: Audit) -> None:
    site_wide = [f for f in planted.findings if f.evidence["scope"] == "site"]
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
    art1 = next(x for x in planted.findings if x.evidence["scope"] == "page" and x.url.endswith("/xwzx/2024/art_1.html"))
    assert [n["selector"] for n in art1.evidence["nodes"]] != ["#logo"] and art1.evidence["nodes_in_site_wide_findings"] == 1
    assert "photo.png" in art1.evidence["html"]


def test_evidence_an_operator_can_act_on(planted: Audit) -> None:
    out = Path(planted.config.out)
    for f in planted.findings:
        ev = f.evidence
        assert ev["impact"] in ("critical", "serious", "moderate", "minor") and ev["impact_zh"]
        assert ev["wcag"] and all(c.count(".") == 2 for c in ev["wcag"])
        assert ev["gbt37668"]["indicator"] is None and ev["gbt37668"]["status"] == "unknown"  # never guessed
        assert ev["selector"] and ev["html"].startswith("<")
        assert ev["axe_version"] == "4.12.1"
        assert f.basis is not None and "GB/T 37668-2019" in f.basis.zh and "WCAG" in f.basis.zh
        assert f.message_zh and f.message_en and f.remediation_zh
        assert ev["screenshot"], f"no screenshot for {f.rule} on {f.url}"
        png = out / ev["screenshot"]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 200_000
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
    assert after.headers.get("x-govaudit-rendered") == "rendered"
    for title, date in JS_ITEMS:
        assert title in after.visible_text and date in after.visible_text
    anchors = {e["anchor"]: e["target_url"] for e in audit.store.iter_links(audit.run_id, source_url=url)}
    assert anchors[JS_ITEMS[0][0]] == base + "/tzgg/2024/t1.html"
    rendered = [r for r in audit.records("render") if r["rendered"]]
    assert len(rendered) == 1 and rendered[0]["links_added"] == len(JS_ITEMS)
    assert not audit.errors
    # Idempotent: the stored page now has content, so a recheck does not render it again.
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

    from auditor.checks.a11y import AXE_ALIAS_JS, axe_script, rules_data

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
