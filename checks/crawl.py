"""Crawl faults (页面与附件故障) and crawler traps, from what the crawl stored.

The crawl records every body fault it met instead of parsing a broken body as if it were whole
(:mod:`auditor.crawl.spider`): a fetch whose ``error_kind`` is ``truncated`` (the body ended
before its Content-Length: a reset or FIN mid-body, Scrapy's ``dataloss`` flag),
``decompression_limit`` (a gzip bomb refused by HttpCompressionMiddleware at DOWNLOAD_MAXSIZE)
or ``too_large``; and ``crawl.fault`` records for a corrupt or truncated PDF/DOCX/XLSX and for a
page whose declared charset does not match its bytes (``charset_mismatch``: the page was stored
decoded by validation, so its title and text are right). ``crawl.trap`` records name the URL
families cut by ``crawl.trap_budgets``. This check only reads those facts: a recheck under a pack
with another ``crawl.page_size_max_bytes`` judges page sizes again, offline.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.context import CheckContext, SiteView
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.model import Finding

DECLARED = load_declarations("auditor.checks", "rules/crawl.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

FETCH_FAULTS = {"truncated": "crawl.truncated", "decompression_limit": "crawl.decompression_limit"}
TRAP_ZH = {"calendar": "日历", "pagination": "分页", "session": "网址中的会话号", "growing": "不断变长的网址"}


def _declared_size(row: dict) -> int | None:
    value = (row.get("headers") or {}).get("content-length")
    try:
        return int(str(value).split(";")[0].strip()) if value else None
    except ValueError:
        return None


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    cap = int(ctx.pack.value("crawl.page_size_max_bytes"))
    for row in ctx.store.iter_fetches(ctx.run_id):
        purpose = row.get("purpose")
        if purpose not in ("page", "attachment"):
            continue
        url, kind = row["url"], row.get("error_kind")
        evidence = {"reason": kind, "status": row.get("status"), "error": row.get("error"), "purpose": purpose,
                    "bytes_received": row.get("size"), "content_length": _declared_size(row)}
        if kind in FETCH_FAULTS:
            zh = "页面传输不完整" if kind == "truncated" else "压缩内容解压后超过下载上限"
            yield ctx.finding(FETCH_FAULTS[kind], url, f"{zh}：{row.get('error') or ''}",
                              f"{kind}: {row.get('error') or ''}", key=url, evidence=evidence)
            continue
        if purpose != "page" or not (200 <= (row.get("status") or 0) < 300):
            continue
        size = max(row.get("size") or 0, _declared_size(row) or 0)
        if kind == "too_large":  # over the crawl's own cap (page_max_bytes): cut, not parsed
            evidence.update(reason="too_large", cap=cap, size=size)
            yield ctx.finding("crawl.too_large", url, f"页面超过抓取上限，未下载完整、未解析：{row.get('error')}",
                              f"Page over the crawl's size cap, not parsed: {row.get('error')}", key=url, evidence=evidence)
        elif size > cap:
            evidence.update(reason="too_large", cap=cap, size=size)
            yield ctx.finding("crawl.too_large", url, f"页面体积 {size} 字节，超过上限 {cap} 字节",
                              f"Page of {size} bytes, over the {cap}-byte cap", key=url, evidence=evidence)
    for rec in ctx.store.iter_records("crawl.fault", run_id=ctx.run_id):
        data = rec.get("data") or {}
        url, reason = data.get("url") or rec.get("key"), data.get("reason")
        if reason == "corrupt_attachment":
            yield ctx.finding("crawl.corrupt_attachment", url, f"附件无法解析（{data.get('kind')}）：{data.get('error')}",
                              f"Attachment cannot be read ({data.get('kind')}): {data.get('error')}", key=url,
                              evidence=dict(data))
        elif reason == "charset_mismatch":
            yield ctx.finding("crawl.charset_mismatch", url,
                              f"声明的字符集（{data.get('declared')}）与页面实际编码（{data.get('used')}）不符；按实际编码读取的标题：“{data.get('title')}”",
                              f"Declared charset ({data.get('declared')}) does not match the bytes ({data.get('used')}); "
                              f"title read by validation: “{data.get('title')}”", key=url, evidence=dict(data))
    for rec in ctx.store.iter_records("crawl.trap", run_id=ctx.run_id):
        data = dict(rec.get("data") or {})
        examples = data.get("examples") or []
        url = examples[0] if examples else site.homepage_url
        data["reason"] = "trap"
        yield ctx.finding(
            "crawl.trap", url,
            f"疑似爬虫陷阱（{TRAP_ZH.get(data.get('kind'), data.get('kind'))}）：网址族 {data.get('pattern')} 已抓取 {data.get('admitted')} 页"
            f"（上限 {data.get('budget')}），另有 {data.get('refused')} 个网址未抓取，本次结果为部分结果",
            f"Crawler trap ({data.get('kind')}): URL family {data.get('pattern')} cut at {data.get('budget')} pages; "
            f"{data.get('refused')} more URLs not crawled (partial run)",
            key=str(data.get("pattern")), evidence=data)
