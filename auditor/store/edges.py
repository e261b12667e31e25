"""Link edges shared across runs: how a run *refers* to the edges of an unchanged page instead of
storing them again.

An incremental re-audit (:mod:`auditor.crawl.conditional`) reuses a page the server answered
``304 Not Modified`` for: its edges are the ones the previous run stored. Copying them (≈36 rows a
page, each into a table with two indexes) was most of an unchanged month 2's time, so the new run
writes **one reference row** per reused page instead: a ``links`` row of the new run with
``origin_run`` set (and ``target_url`` empty) meaning "this run's edges from ``source_url`` are the
edges stored for it under ``origin_run``". The origin is resolved when the reference is written
(a page unchanged for three months refers to the run that last parsed it, never to a reference),
so reading never follows a chain.

Every reader goes through :class:`~auditor.store.database.EvidenceStore` (``iter_links``,
``iter_link_targets``, ``count("links", …)``), which expands references here: a run's edges are
its own rows (``origin_run`` NULL) plus, for each reference, the origin's rows of that source, with
this run's ``run_id``, in the order a copy would have had (the reference row's position, then the
origin rows' order). A run without references (a full audit, any store written before them) is
read with the plain single-table query, as before. The statements are built once per shape with
bound parameters (building a union select cost more than running it: a check reads every page's
edges). Old rows need nothing: ``origin_run`` is a
column added through ``_MIGRATIONS``, NULL in them, i.e. an ordinary edge.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    select,
    union,
    union_all,
)

from auditor.store.database import links

REF_TARGET = ""  # a reference row's target_url (the column is NOT NULL; no edge has an empty target)
EDGE_COLUMNS = tuple(c.name for c in links.c)

_RUN = bindparam("run_id", type_=String(32))
_ORIGINS = bindparam("origins", expanding=True, type_=String(32))
ORIGINS = select(links.c.origin_run).where(links.c.run_id == _RUN, links.c.origin_run.is_not(None)).distinct()


def ref_row(source_url: str, origin_run: str) -> dict[str, Any]:
    """The ``links`` row (without ``run_id``) saying "the edges of ``source_url`` are ``origin_run``'s"."""

    return {c: None for c in EDGE_COLUMNS if c not in ("id", "run_id")} | {
        "source_url": source_url, "target_url": REF_TARGET, "origin_run": origin_run}


def origins(conn: Any, run_id: str) -> list[str]:
    """The runs ``run_id`` refers to for some of its edges (usually none or one; a few after months
    of partial changes). Read through the partial index ``ix_links_run_origin``: free for a run
    with no references."""

    return sorted(r[0] for r in conn.execute(ORIGINS, {"run_id": run_id}))


def _filters(table: Any, source: bool, target: bool, with_fragment: bool) -> list[Any]:
    out = []
    if with_fragment:
        out.append(table.c.fragment.is_not(None))
    if source:
        out.append(table.c.source_url == bindparam("source_url"))
    if target:
        out.append(table.c.target_url == bindparam("target_url"))
    return out


def _referred(columns: Any, where: list[Any] | None = None) -> Select[Any]:
    """``columns(o, ref)`` of the origin rows ``o`` a reference ``ref`` of the run points at,
    ``where(o)`` applied to them. ``o.run_id IN origins`` lets a target look-up start from the
    origins' target index instead of walking every reference; the reference is then one probe of
    ``ix_links_run_origin``."""

    o, ref = links.alias("o"), links.alias("ref")
    return (select(*columns(o, ref))
            .select_from(o.join(ref, and_(ref.c.run_id == _RUN, ref.c.source_url == o.c.source_url,
                                          ref.c.origin_run == o.c.run_id)))
            .where(o.c.run_id.in_(_ORIGINS), o.c.origin_run.is_(None), *(where(o) if where else ())))


@cache
def edges_statement(referring: bool, source: bool, target: bool, with_fragment: bool) -> Select[Any]:
    """A run's edges (own and referred to), in stored order; plain when it refers to nothing.
    Parameters: ``run_id``, ``origins`` (when referring), ``source_url`` / ``target_url`` (when filtered)."""

    if not referring:
        return select(links).where(links.c.run_id == _RUN, *_filters(links, source, target, with_fragment)).order_by(links.c.id)
    own = select(*links.c, links.c.id.label("k1"), literal_column("0", Integer).label("k2")).where(
        links.c.run_id == _RUN, links.c.origin_run.is_(None), *_filters(links, source, target, with_fragment))
    shared = _referred(lambda o, ref: [*(_RUN.label("run_id") if c.name == "run_id" else c for c in o.c),
                                       ref.c.id.label("k1"), o.c.id.label("k2")],
                       lambda o: _filters(o, source, target, with_fragment))
    u = union_all(own, shared).subquery()
    return select(*[u.c[c] for c in EDGE_COLUMNS]).order_by(u.c.k1, u.c.k2)


@cache
def targets_statement(referring: bool) -> Select[Any]:
    """Every distinct target of a run's edges (own and referred to), sorted."""

    if not referring:
        return select(links.c.target_url).where(links.c.run_id == _RUN).distinct().order_by(links.c.target_url)
    # own rows: every row but the references (the only rows with an empty target: index-only)
    own = select(links.c.target_url).where(links.c.run_id == _RUN, links.c.target_url != REF_TARGET)
    # referred to: each distinct target of the origins kept if one referenced source links to it —
    # one probe per target (the first source usually is referenced), not one per edge: joining
    # every origin edge to its reference cost ≈3 µs an edge, seconds on a 20,000-page site
    candidates = select(links.c.target_url).where(links.c.run_id.in_(_ORIGINS), links.c.target_url != REF_TARGET) \
        .distinct().subquery("d")
    o, ref = links.alias("o"), links.alias("ref")
    linked = (select(literal_column("1"))
              .select_from(o.join(ref, and_(ref.c.run_id == _RUN, ref.c.source_url == o.c.source_url,
                                            ref.c.origin_run == o.c.run_id)))
              .where(o.c.run_id.in_(_ORIGINS), o.c.target_url == candidates.c.target_url).exists())
    u = union(own, select(candidates.c.target_url).where(linked)).subquery()
    return select(u.c.target_url).order_by(u.c.target_url)


@cache
def count_statement(referring: bool) -> Select[Any]:
    """How many edges a run has (own and referred to)."""

    if not referring:
        return select(func.count()).select_from(links).where(links.c.run_id == _RUN)
    own = select(func.count()).select_from(links).where(links.c.run_id == _RUN, links.c.origin_run.is_(None))
    return select(own.scalar_subquery() + _referred(lambda o, ref: [func.count()]).scalar_subquery())


def params(run_id: str, origin_runs: list[str], source_url: str | None = None, target_url: str | None = None) -> dict[str, Any]:
    """The bound values of a statement above."""

    out: dict[str, Any] = {"run_id": run_id}
    if origin_runs:
        out["origins"] = origin_runs
    if source_url is not None:
        out["source_url"] = source_url
    if target_url is not None:
        out["target_url"] = target_url
    return out
