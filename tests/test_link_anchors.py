"""``links.broken_anchor`` over a stored run, in process (no crawl): judged from the stored page —
its rendered DOM when the measure stage rendered it (``render.page`` measurement) — and never
counted as a dead link."""

from __future__ import annotations

from pathlib import Path

from auditor.config import build_config
from auditor.context import RENDER_KIND, RENDER_PAGE_KIND, CheckContext, SiteView
from auditor.engine import Engine, run_checks
from auditor.linkjudge import judge_run
from auditor.measure.records import MeasurementWriter
from auditor.model import FetchRecord, LinkEdge, Region
from auditor.store.database import EvidenceStore

HOME = "http://www.x.gov.cn/"
AS_OF = "2026-12-01"


def _page(store: EvidenceStore, run_id: str, url: str, html: str, depth: int = 1) -> None:
    store.add_fetch(run_id, FetchRecord(url=url, purpose="page", final_url=url, status=200, depth=depth,
                                        fingerprint=url, body_hash=url, attempts=1))
    store.add_page(run_id, url, url, 200, "text/html; charset=utf-8", "utf-8", depth, url, "html", html.encode())


def _edge(url: str, fragment: str | None, attribute: str = "href", source: str = HOME) -> LinkEdge:
    return LinkEdge(source, url, "锚", Region.CONTENT, "a", 1, attribute=attribute, fragment=fragment)


def _run(tmp: Path, rendered: bool) -> list:  # type: ignore[type-arg]
    config = build_config({}, {"url": HOME, "db": str(tmp / "e.sqlite"), "as_of": AS_OF, "out": str(tmp / "out"),
                               "checks": ["links"], "formats": ["json"]})
    engine = Engine(config)
    store = EvidenceStore(config.db)
    run_id = store.start_run("www.x.gov.cn", HOME, AS_OF, {}, "test")
    store.add_fetch(run_id, FetchRecord(url=HOME + "govaudit-x-not-found.html", purpose="calibration",
                                        final_url=HOME + "govaudit-x-not-found.html", status=404, attempts=1))
    _page(store, run_id, HOME, '<html><body><h1 id="top-news">要闻</h1></body></html>', depth=0)
    # the 目录 of a 政策解读: sections filled in by script, so only the rendered body has their ids
    _page(store, run_id, HOME + "jd.html", '<html><body><div id="app"></div><a name="fj">附件</a></body></html>')
    _page(store, run_id, HOME + "zh.html", '<html><body><h2 id="章节一">一</h2></body></html>')
    store.add_links(run_id, [
        _edge(HOME, "top-news"), _edge(HOME, "missing-here"),
        _edge(HOME + "jd.html", "part-2"), _edge(HOME + "jd.html", "fj"), _edge(HOME + "jd.html", "part-9"),
        _edge(HOME + "jd.html", "/route/x"), _edge(HOME + "jd.html", "!/legacy"),
        _edge(HOME + "zh.html", "%E7%AB%A0%E8%8A%82%E4%B8%80"), _edge(HOME, "nomap", "usemap"),
        _edge("http://other.example.cn/p.html", "nothing-known"),
        _edge(HOME + "jd.html", "x_|_y"), _edge(HOME + "jd.html", "x_%7C_y"),  # one anchor, two spellings
    ])
    store.flush()
    if rendered:  # what plugins/render_probe.py stores for a page it rendered
        writer = MeasurementWriter(store, run_id, "www.x.gov.cn")
        writer.write("render-probe", RENDER_PAGE_KIND, HOME + "jd.html", {
            "html": '<html><body><div id="app"><h2 id="part-2">二</h2></div><a name="fj">附件</a></body></html>'}, 1)
        writer.write("render-probe", RENDER_KIND, "site", {"rendered": [HOME + "jd.html"]}, 1)
    judge_run(store, run_id, config, engine.pack)
    store.finish_run(run_id, "complete", {"homepage_url": HOME}, {})
    site = SiteView(store, store.get_run(run_id))
    ctx = CheckContext(config, engine.pack, engine.rules, store, run_id, {}, HOME)
    run_checks(engine, ctx, site)
    return list(store.iter_findings(run_id))


def test_broken_anchors_from_the_stored_rendered_page(tmp_path: Path) -> None:
    findings = _run(tmp_path, rendered=True)
    anchors = {f.url for f in findings if f.rule == "links.broken_anchor"}
    assert anchors == {HOME + "#missing-here", HOME + "jd.html#part-9", HOME + "#nomap", HOME + "jd.html#x_|_y"}
    assert len([f for f in findings if f.rule == "links.broken_anchor"]) == 4
    assert not [f for f in findings if f.rule == "links.dead"]  # never counted as dead
    assert all(f.severity == "minor" for f in findings if f.rule == "links.broken_anchor")


def test_unrendered_page_misses_its_script_filled_ids(tmp_path: Path) -> None:
    """Trap for "after rendering": the same run without the rendered body reports #part-2 too,
    so the check must read the stored (rendered) page, not the fetched bytes."""

    anchors = {f.url for f in _run(tmp_path, rendered=False) if f.rule == "links.broken_anchor"}
    assert HOME + "jd.html#part-2" in anchors
