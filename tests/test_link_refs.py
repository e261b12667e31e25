"""Edges referred to across runs (auditor/store/edges.py): a run that reuses unchanged pages stores
one reference row per page instead of copying its edges, and every reader — ``iter_links`` (whole
run, by source, by target, fragments only), ``iter_link_targets``, ``count``, the views checks
read (``SiteView`` / ``PageView``), the fleet roll-up — sees exactly the edges a copy would have
given, in the copy's order, as rows of the reading run. On SQLite and on PostgreSQL; and a store
written before references existed gets the column and index and reads as before.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from auditor.model import LinkEdge, LinkResult, Region, Verdict
from auditor.store.database import EvidenceStore, links
from auditor.store.edges import ref_row
from tests.support.postgres import postgres_url  # noqa: F401 - session fixture

H = "http://xian.example.gov.cn/"
P1, P2, P3 = H + "a.html", H + "b.html", H + "c.html"


def _edges(source: str, *targets: str, fragment: str | None = None) -> list[LinkEdge]:
    return [LinkEdge(source, t, f"锚文本{i}", Region.CONTENT, "a", i, attribute="href", fragment=fragment if i == 1 else None)
            for i, t in enumerate(targets, start=1)]


def _ref(store: EvidenceStore, run: str, source: str, origin: str) -> None:
    store.add_row(links, {"run_id": run, **ref_row(source, origin)})


def _runs(store: EvidenceStore) -> tuple[str, str, str, str]:
    """Month 1 parses P1–P3; month 2 reuses P1 and P3 (references) and re-parses a changed P2;
    month 3 reuses P1 (origin month 1, resolved) and P2 (origin month 2), re-parses P3.
    ``copy``: month 2 as the old code stored it (the edges copied), the reference's expected reading."""

    m1, m2, m3, copy = (store.start_run("xian.example.gov.cn", H, "2026-12-01", {}, "t") for _ in range(4))
    store.add_links(m1, _edges(P1, P2, H + "x.pdf", H + "dead.html", fragment="top"))
    store.add_links(m1, _edges(P2, P1, H + "old.html"))
    store.add_links(m1, _edges(P3, P1, H + "y.html"))
    for run, ref in ((m2, True), (copy, False)):
        if ref:
            _ref(store, run, P1, m1)
        else:
            store.add_links(run, _edges(P1, P2, H + "x.pdf", H + "dead.html", fragment="top"))
        store.add_links(run, _edges(P2, P1, H + "new.html", H + "dead.html"))  # changed: its own rows
        if ref:
            _ref(store, run, P3, m1)
        else:
            store.add_links(run, _edges(P3, P1, H + "y.html"))
    store.add_links(m3, _edges(P3, H + "z.html"))
    _ref(store, m3, P1, m1)
    _ref(store, m3, P2, m2)
    store.flush()
    return m1, m2, m3, copy


def _strip(rows: list[dict], run: str) -> list[tuple]:
    out = []
    for r in rows:
        assert r["run_id"] == run and "origin_run" not in r
        out.append(tuple(v for k, v in sorted(r.items()) if k not in ("id", "run_id")))
    return out


def _assert_reads_as_copy(store: EvidenceStore) -> str:
    """Month 2's id, after checking every reader on the three months."""

    m1, m2, m3, copy = _runs(store)
    assert store.link_origins(m1) == [] and store.link_origins(m2) == [m1] and store.link_origins(m3) == sorted([m1, m2])
    # whole run, in the copy's order (reference position, then the origin's order)
    assert _strip(list(store.iter_links(m2)), m2) == _strip(list(store.iter_links(copy)), copy)
    assert len(list(store.iter_links(m2))) == 8
    for source in (P1, P2, P3, H + "none.html"):
        assert _strip(list(store.iter_links(m2, source_url=source)), m2) == _strip(list(store.iter_links(copy, source_url=source)), copy)
    for target in (P1, P2, H + "dead.html", H + "old.html", H + "new.html"):
        assert _strip(list(store.iter_links(m2, target_url=target)), m2) == _strip(list(store.iter_links(copy, target_url=target)), copy)
    assert [e["fragment"] for e in store.iter_links(m2, with_fragment=True)] == ["top"]  # P1's, through the reference
    assert _strip(list(store.iter_links(m2, with_fragment=True)), m2) == _strip(list(store.iter_links(copy, with_fragment=True)), copy)
    assert list(store.iter_link_targets(m2)) == list(store.iter_link_targets(copy))
    assert "" not in list(store.iter_link_targets(m2))  # a reference row is never an edge
    assert store.count("links", m2) == store.count("links", copy) == 8
    # month 3: P1 through month 1 (never through month 2's reference), P2 from month 2's own rows
    by_source = {}
    for e in store.iter_links(m3):
        by_source.setdefault(e["source_url"], []).append(e["target_url"])
    assert by_source == {P3: [H + "z.html"], P1: [P2, H + "x.pdf", H + "dead.html"], P2: [P1, H + "new.html", H + "dead.html"]}
    assert store.count("links", m3) == 7
    assert [e["source_url"] for e in store.iter_links(m3, target_url=H + "dead.html")] == [P1, P2]
    # the old run is untouched
    assert store.count("links", m1) == 7 and list(store.iter_link_targets(m1)) == sorted(
        {P1, P2, H + "x.pdf", H + "dead.html", H + "old.html", H + "y.html"})
    return m2


def test_references_read_as_the_copied_edges_on_sqlite(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "s.sqlite")
    try:
        m2 = _assert_reads_as_copy(store)
        # the views checks read go through the same reader: a page's links, a target's sources
        from auditor.context import PageView, SiteView

        site = SiteView(store, store.get_run(m2))
        assert [e["target_url"] for e in site.links(source_url=P1)] == [P2, H + "x.pdf", H + "dead.html"]
        assert [e["source_url"] for e in site.links(target_url=H + "dead.html")] == [P1, P2]
        page = PageView({"url": P3, "final_url": P3, "body": b""}, store, m2, H, site)
        assert [e["target_url"] for e in page.links()] == [P1, H + "y.html"]
        # the fleet roll-up's walk over every edge: a government homepage linked only from a reused page
        from auditor.fleet.rollup import unregistered_links

        other = "http://other.example.gov.cn/"
        store.add_links("f1", _edges(P1, other))
        _ref(store, "f2", P1, "f1")
        store.add_link_result("f2", LinkResult(other, Verdict.OK, None, on_site=False))
        assert unregistered_links(store, "f2", set()) == {"other.example.gov.cn": P1}
    finally:
        store.close()


def test_references_read_as_the_copied_edges_on_postgresql(postgres_url: str) -> None:  # noqa: F811
    store = EvidenceStore("postgresql+psycopg://" + postgres_url.split("://", 1)[1])
    try:
        _assert_reads_as_copy(store)
    finally:
        store.close()


def test_a_store_from_before_references_gets_the_column_and_reads_as_before(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as conn:  # the links table as it shipped before origin_run
        conn.execute("CREATE TABLE links (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id VARCHAR(32) NOT NULL, "
                     "source_url TEXT NOT NULL, target_url TEXT NOT NULL, anchor TEXT, region VARCHAR(16), tag VARCHAR(16), "
                     "position INTEGER, attribute VARCHAR(32), fragment TEXT)")
        conn.execute("CREATE INDEX ix_links_run_target ON links (run_id, target_url)")
        conn.execute("CREATE INDEX ix_links_run_source ON links (run_id, source_url)")
        conn.executemany("INSERT INTO links (run_id, source_url, target_url, anchor, region, tag, position) VALUES (?,?,?,?,?,?,?)",
                         [("old", P1, P2, "乙", "content", "a", 1), ("old", P1, P3, "丙", "content", "a", 2)])
    store = EvidenceStore(db)
    try:
        assert [e["target_url"] for e in store.iter_links("old")] == [P2, P3]
        assert store.count("links", "old") == 2 and store.link_origins("old") == []
        with sqlite3.connect(db) as conn:
            assert "origin_run" in {r[1] for r in conn.execute("PRAGMA table_info(links)")}
            assert "ix_links_run_origin" in {r[1] for r in conn.execute("PRAGMA index_list(links)")}
        # and a later incremental run can refer to the old rows
        _ref(store, "new", P1, "old")
        store.flush()
        assert _strip(list(store.iter_links("new")), "new") == _strip(list(store.iter_links("old")), "old")
    finally:
        store.close()


def test_a_reference_to_nothing_reads_as_no_edge(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "s.sqlite")
    try:
        _ref(store, "r", P1, "nowhere")  # an origin with no rows: the reference reads as nothing
        store.flush()
        assert list(store.iter_links("r")) == [] and store.count("links", "r") == 0
        assert list(store.iter_link_targets("r")) == []
    finally:
        store.close()
