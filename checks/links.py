"""Link availability (链接可用性): dead links once per target, with every page that links to it.

Verdicts come from the engine's link checker (retries, HEAD→GET fallback, soft-404 calibration);
this plugin turns dead verdicts into findings and weighs homepage links as the indicators do.
Unverifiable targets (bot walls, 429 after retries, login walls) are reported apart and never
counted as dead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.context import CheckContext
from auditor.crawl.urls import fragment_candidates
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
    "redirect_loop": "循环跳转",
    "too_many_redirects": "跳转次数过多",
}
REASON_EN = {
    "http_status": "HTTP error status",
    "dns": "DNS lookup failed",
    "refused": "connection refused or reset",
    "timeout": "timed out",
    "tls": "TLS/certificate error",
    "soft_404": "page says it does not exist (soft 404)",
    "redirect_loop": "redirect loop",
    "too_many_redirects": "too many redirects",
}
# Fragments that name no element and are no defect: the top of the page (HTML standard), text
# fragments, and client-side routes/state of script-driven pages ("#/route", "#!/x", "#code/…").
_NOT_ANCHORS = ("top",)


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
    if result.verdict == Verdict.DEAD and result.reason == "malformed":
        yield ctx.finding(
            "links.malformed",
            result.target_url,
            f"链接地址格式错误，无法访问：“{result.target_url[:200]}”，共 {len(ordered)} 个页面引用；锚文本：“{anchor}”",
            f"Malformed link address “{result.target_url[:200]}” on {len(ordered)} page(s); anchor: “{anchor}”",
            key=result.target_url,
            source_url=ordered[0]["url"],
            evidence=evidence,
        )
        return
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


def _is_client_state(fragment: str) -> bool:
    return (fragment.lower() in _NOT_ANCHORS or fragment.startswith(("/", "!", ":~:")) or "/" in fragment
            or "=" in fragment)


def _anchors(page: Any) -> set[str] | None:
    """Every id and every ``<a name>`` / ``<map name>`` of a stored HTML page (its rendered body
    where the render stage replaced it), or None when the page is not HTML."""

    if not page.is_html:
        return None
    tree = page.tree
    if tree is None:
        return None
    names: set[str] = set()
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        ident = el.get("id")
        if ident:
            names.add(ident)
        if el.tag in ("a", "map") and el.get("name"):
            names.add(el.get("name"))
    return names


@hookimpl
def govaudit_check_site(site: Any, ctx: CheckContext) -> Iterator[Finding]:
    """``links.broken_anchor``: an on-site link ``page.html#part`` (or ``#part``, ``usemap="#map"``)
    whose target page answered and was stored, but has no element with that id or name. Judged
    from the stored page; kept apart from ``links.dead`` so it never enters the dead-link count."""

    ok = {r.target_url for r in site.link_results(Verdict.OK) if r.on_site}
    # one problem per target and *decoded* fragment: "#a_|_b" and "#a_%7C_b" name the same place
    wanted: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for edge in ctx.store.iter_links(ctx.run_id, with_fragment=True):
        fragment = edge.get("fragment") or ""
        if not fragment or _is_client_state(fragment) or edge["target_url"] not in ok:
            continue
        wanted.setdefault((edge["target_url"], fragment_candidates(fragment)[-1]), []).append(edge)
    cache: dict[str, set[str] | None] = {}
    for (target, _decoded), edges in sorted(wanted.items()):
        fragment = edges[0]["fragment"]
        if target not in cache:
            page = site.page(target)
            cache[target] = _anchors(page) if page is not None else None
        names = cache[target]
        if names is None or any(c in names for c in fragment_candidates(fragment)):
            continue
        sources = sorted({e["source_url"] for e in edges})
        how = "usemap" if any(e.get("attribute") == "usemap" for e in edges) else "href"
        yield ctx.finding(
            "links.broken_anchor",
            f"{target}#{fragment}",
            f"页内锚点不存在：目标页面没有 id 或 name 为“{fragment[:100]}”的位置，共 {len(sources)} 个页面引用",
            f"Broken anchor: the target page has no element with id or name “{fragment[:100]}”; "
            f"linked from {len(sources)} page(s)",
            key=f"{target}#{fragment}",
            source_url=sources[0],
            evidence={"target": target, "fragment": fragment, "sources": sources[:50], "source_count": len(sources),
                      "attribute": how, "anchor": edges[0].get("anchor") or ""},
        )
