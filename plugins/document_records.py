"""Enrichment: derive one document record per stored document page (``ctx.record("document", …)``).

Runs after the crawl and before the checks (``govaudit_enrich``), so every 政务公开 check reads
the same facts (:mod:`auditor.docmodel.documents`) instead of re-reading HTML. Values a detail page does
not state are filled in from list pages that link to it — the column the document is listed in,
and the date the list shows — with ``list:`` sources. A page titled only with a column name
(pack ``documents.column_title_names``) is a column page, never a document. Attachments (PDF/Office) known only by
their link text are recorded when the title says what they are (an annual report, a 重大行政决策
事项目录, a consultation), because offices often publish those as files only.

A page that fails to parse becomes an error record and never stops the audit.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from auditor.context import CheckContext, PageView, SiteView
from auditor.docmodel import listing
from auditor.docmodel.documents import (
    DocumentRecord,
    classify_kind,
    demote_routine,
    extract_document,
    record_from_title,
)
from auditor.hookspecs import hookimpl

log = logging.getLogger(__name__)

PLUGIN = "documents"
# The rule families that read document records: with none of them selected the engine skips
# this enricher (auditor.engine.Engine.plugin_enabled).
@hookimpl
def govaudit_serves() -> list[str]:
    return ["documents", "interpretation", "decisions", "freshness", "privacy"]


_ATTACHMENT_KINDS = {"annual_report", "consultation"}


FAMILIES = ("documents", "interpretation", "decisions")


@hookimpl
def govaudit_enrich(site: SiteView, ctx: CheckContext) -> None:
    if not any(ctx.config.family_enabled(f) for f in FAMILIES):
        return  # nobody reads document records in this run (e.g. --checks links): save the pass
    listed: dict[str, dict[str, Any]] = {}  # target url → what a list page says about it
    pending: list[tuple[DocumentRecord, str]] = []  # records waiting for list-page facts
    attachments: list[PageView] = []
    names = ctx.pack.value("documents.column_title_names")
    column_names = tuple(str(n) for n in names) if isinstance(names, list) else None
    patterns = ctx.pack.value("interpretation.scope_exclude_title_patterns")
    routine = tuple(str(p) for p in patterns) if isinstance(patterns, list) else None
    for page in site.pages():
        try:
            if page.kind != "html":
                if page.status is None or page.status < 400:
                    attachments.append(_light(page))
                continue
            rec = extract_document(page, column_names=column_names, routine_titles=routine)
            if rec is None:
                _read_list(page, ctx, listed)
                continue
            if rec.column and rec.publish_date:
                ctx.record("document", page.url, rec.to_dict())
            else:
                pending.append((rec, page.final_url))
        except Exception as exc:  # noqa: BLE001 - one bad page never stops the audit
            ctx.store.add_error(ctx.run_id, "enrich", f"{type(exc).__name__}: {exc}", url=page.url, plugin=PLUGIN,
                                detail=traceback.format_exc())
    for rec, final_url in pending:
        info = listed.get(rec.url) or listed.get(final_url)
        if info:
            if not rec.column and info.get("column"):
                rec.column = info["column"]
                rec.sources["column"] = f"list:{info['list_url']}"
                _reclassify(rec, routine)
            if rec.publish_date is None and info.get("date"):
                rec.publish_date = info["date"]
                rec.sources["publish_date"] = f"list:{info['list_url']}"
        ctx.record("document", rec.url, rec.to_dict())
    for page in attachments:
        try:
            rec = _attachment_record(page, site, listed)
            if rec is not None:
                ctx.record("document", page.url, rec.to_dict())
        except Exception as exc:  # noqa: BLE001
            ctx.store.add_error(ctx.run_id, "enrich", f"{type(exc).__name__}: {exc}", url=page.url, plugin=PLUGIN,
                                detail=traceback.format_exc())


def _reclassify(rec: DocumentRecord, routine: tuple[str, ...] | None = None) -> None:
    """The column is a strong cue for the kind: decide again now that the list page gave one."""

    kind, subkind, reason = classify_kind(
        rec.title, rec.column, topic=rec.topic, has_doc_number=rec.doc_number is not None,
        has_validity_field=rec.validity is not None, has_registration=bool(rec.registration))
    if kind != rec.kind:
        rec.kind = kind
        rec.subkind = rec.subkind if rec.subkind in ("decision_catalogue", "repeal_list") else subkind
        rec.sources["kind"] = f"{reason} (column from list page)"
    demote_routine(rec, routine)


def _light(page: PageView) -> PageView:
    """Drop the body reference of an attachment we keep for later: only its URL is needed."""

    return PageView({"url": page.url, "final_url": page.final_url, "kind": page.kind, "status": page.status,
                     "title": page.title})


def _read_list(page: PageView, ctx: CheckContext, listed: dict[str, dict[str, Any]]) -> None:
    column = listing.read_column_page(page, ctx.as_of, min_title_chars=int(ctx.pack.value("columns.min_title_chars")))
    if not column.items or column.is_error:
        return
    for item in column.items:
        if item.url and item.url not in listed:
            listed[item.url] = {"title": item.title, "date": item.date, "column": column.name or None,
                                "list_url": page.url}


def _attachment_record(page: PageView, site: SiteView, listed: dict[str, dict[str, Any]]) -> DocumentRecord | None:
    info = listed.get(page.url) or listed.get(page.final_url)
    title, title_source = None, None
    if info and info.get("title"):
        title, title_source = info["title"], f"list:{info['list_url']}"
    else:
        for edge in site.links(target_url=page.url):
            anchor = (edge.get("anchor") or "").strip()
            if len(anchor) >= 6:
                title, title_source = anchor, f"anchor:{edge['source_url']}"
                break
    if not title:
        return None
    rec = record_from_title(page.url, title, publish_date=info.get("date") if info else None,
                            title_source=title_source or "anchor",
                            date_source=f"list:{info['list_url']}" if info else None,
                            column=info.get("column") if info else None)
    if rec.kind not in _ATTACHMENT_KINDS and rec.subkind != "decision_catalogue":
        return None
    rec.sources["page"] = f"attachment:{page.kind}"
    return rec
