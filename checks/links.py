"""Link availability (链接可用性): dead links once per target, with every page that links to it.

Verdicts come from the engine's link checker (retries, HEAD→GET fallback, soft-404 calibration);
this plugin turns dead verdicts into findings and weighs homepage links as the indicators do.
Unverifiable targets (bot walls, 429 after retries, login walls) are reported apart and never
counted as dead.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.context import CheckContext
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.model import Finding, LinkResult, Verdict

DECLARED = load_declarations("auditor.checks", "rules/links.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

DEAD_BASIS = DECLARED.bases["dead_basis"]

REASON_ZH = {
    "http_status": "HTTP 错误状态",
    "dns": "域名无法解析",
    "refused": "连接被拒绝或中断",
    "timeout": "访问超时",
    "tls": "TLS/证书错误",
    "soft_404": "页面显示“不存在”（软404）",
}
REASON_EN = {
    "http_status": "HTTP error status",
    "dns": "DNS lookup failed",
    "refused": "connection refused or reset",
    "timeout": "timed out",
    "tls": "TLS/certificate error",
    "soft_404": "page says it does not exist (soft 404)",
}


@hookimpl
def govaudit_check_link(result: LinkResult, ctx: CheckContext) -> Iterator[Finding]:
    if result.verdict == Verdict.OK:
        return
    home_url = ctx.homepage_url
    sources: dict[str, dict[str, str]] = {}
    for edge in ctx.store.iter_links(ctx.run_id, target_url=result.target_url):
        sources.setdefault(edge["source_url"], {"url": edge["source_url"], "anchor": edge["anchor"] or "", "region": edge["region"]})
    if not sources:
        return
    ordered = sorted(sources.values(), key=lambda s: (s["url"] != home_url, s["url"]))
    on_homepage = ordered[0]["url"] == home_url
    status = f" HTTP {result.status}" if result.status else ""
    evidence = {
        "reason": result.reason,
        "status": result.status,
        "final_url": result.final_url,
        "sources": ordered,
        "source_count": len(ordered),
        "on_homepage": on_homepage,
        "on_site": result.on_site,
        **{k: v for k, v in result.detail.items() if k in ("redirects", "error", "attempts", "calibration", "method")},
    }
    anchor = ordered[0]["anchor"]
    if result.verdict == Verdict.DEAD:
        yield ctx.finding(
            "links.dead",
            result.target_url,
            f"链接不可用（{REASON_ZH.get(result.reason or '', result.reason)}{status}），"
            f"共 {len(ordered)} 个页面引用{('，含首页' if on_homepage else '')}；锚文本：“{anchor}”",
            f"Dead link ({REASON_EN.get(result.reason or '', result.reason)}{status}) on {len(ordered)} page(s)"
            f"{' including the homepage' if on_homepage else ''}; anchor: “{anchor}”",
            key=result.target_url,
            source_url=ordered[0]["url"],
            evidence=evidence,
        )
    else:
        yield ctx.finding(
            "links.unverifiable",
            result.target_url,
            f"无法自动验证（{result.reason}{status}），共 {len(ordered)} 个页面引用，请人工复核",
            f"Could not verify automatically ({result.reason}{status}); linked from {len(ordered)} page(s)",
            key=result.target_url,
            source_url=ordered[0]["url"],
            evidence=evidence,
        )
