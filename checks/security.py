"""HTTPS and transport security (传输安全): HTTPS present and enforced, certificate valid, no old
TLS, no mixed content, basic security headers.

No national clause requiring HTTPS on government sites was found in the national texts read (未核实);
provincial assessment schemes score it, and the underlying obligations are the Cybersecurity Law's
technical-protection duty and the 等级保护 (GB/T 22239-2019) transport-confidentiality requirement.
Findings therefore carry ``unconfirmed``/``local`` bases and no deductions unless a rule pack adds
them; thresholds (30 days of certificate validity, TLS 1.2 minimum, the header list) are pack data.

What is measured where:
- HTTPS reachability, the HTTP→HTTPS redirect, the certificate and the TLS versions accepted come
  from the ``transport`` measurement that :mod:`auditor.plugins.tls_probe` makes in the measure stage
  (one verified handshake; on a verification failure one unverified handshake so the certificate can
  still be read). Verification there is a measurement: it happens even under ``--insecure``, which
  only stops the crawl from refusing bad certificates. This module only judges it, so a recheck
  needs no network.
- Mixed content comes from the crawl's stored links of pages served over HTTPS; headers from the
  crawl's stored response headers of every HTML page (falling back to the probe's homepage headers
  when the crawl kept none). Both are reported once per site-wide pattern, with page lists capped.

Options of the measurement (``[plugins.security]``): ``https_url`` / ``http_url``, see
:mod:`auditor.plugins.tls_probe`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from auditor.context import CheckContext, SiteView
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.model import Finding

DECLARED = load_declarations("auditor.checks", "rules/security.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

HTTPS_BASIS = DECLARED.bases["https_basis"]
TLS_BASIS = DECLARED.bases["tls_basis"]
MIXED_BASIS = DECLARED.bases["mixed_basis"]
HEADERS_BASIS = DECLARED.bases["headers_basis"]
ACTIVE_TAGS = {"script", "iframe", "frame", "object", "embed", "link"}
PASSIVE_TAGS = {"img", "video", "audio", "source", "input"}
PAGE_LIST_CAP = 20


# --- judgement of the ``transport`` measurement (auditor.plugins.tls_probe) ----------------------

KIND = "transport"
VERSIONS = (0, 1)  # measurement versions this module can judge (auditor.plugins.tls_probe.VERSION)


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    m = ctx.measurement(KIND, "site")
    if m is None:  # runs stored before the measure stage kept it as the ``security`` record
        legacy = ctx.measurements("security")
        m = legacy[-1] if legacy else None
    if m is None or m.version not in VERSIONS:
        why = "none stored" if m is None else f"version {m.version} unknown to this check"
        ctx.store.add_error(ctx.run_id, "check",
                            f"没有可用的传输安全测量记录，HTTPS/证书/TLS 未评估 / no usable transport measurement ({why}): "
                            "HTTPS, certificate and TLS not assessed", url=site.homepage_url, plugin="security")
        result: dict[str, Any] = {}
    else:
        result = dict(m.data)
        yield from judge_transport(result, site, ctx)
    yield from mixed_content(site, ctx)
    yield from missing_headers(site, ctx, result)


def judge_transport(result: dict[str, Any], site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    host = site.host
    https = result["https"]
    https_url = result["https_url"]
    tls = result.get("tls") or {}
    if https["status"] is None and not tls.get("version"):
        handshake = https.get("error_kind") == "tls"
        yield ctx.finding(
            "security.no_https",
            https_url,
            (f"HTTPS 握手失败（{https.get('error')}）；如网站使用国密（SM2）证书，可能是本机 OpenSSL 不支持，请人工复核"
             if handshake else f"无法通过 HTTPS 访问网站（{https.get('error_kind')}：{https.get('error')}）"),
            (f"The TLS handshake failed ({https.get('error')}); if the site uses an SM2 (国密) certificate this runner's "
             "OpenSSL may not support it: review by hand" if handshake
             else f"The site does not answer over HTTPS ({https.get('error_kind')}: {https.get('error')})"),
            key=f"no_https:{host}",
            evidence={"https": https},
        )
        return  # nothing else about HTTPS can be judged
    http = result["http"]
    location = result.get("http_location") or ""
    if http.get("status") is not None:
        redirects = http["status"] in (301, 302, 303, 307, 308) and urlsplit(location).scheme == "https"
        if not redirects:
            yield ctx.finding(
                "security.no_https_redirect",
                result["http_url"],
                f"HTTP 访问（{result['http_url']}）返回 HTTP {http['status']}，未跳转到 HTTPS",
                f"HTTP ({result['http_url']}) answers {http['status']} without redirecting to HTTPS",
                key=f"redirect:{host}",
                evidence={"http": http, "location": location or None},
            )
    if tls:
        yield from _certificate(tls, https_url, host, result.get("probed_at"), ctx)
    yield from _versions(result.get("tls_versions") or {}, https_url, host, ctx)


def _certificate(tls: dict[str, Any], url: str, host: str, probed_at: float | None, ctx: CheckContext) -> Iterator[Finding]:
    at = dt.datetime.fromtimestamp(probed_at or time.time(), dt.UTC)
    not_after = dt.datetime.fromisoformat(tls["not_after"]) if tls.get("not_after") else None
    evidence = {k: tls.get(k) for k in ("subject", "issuer", "names", "not_before", "not_after", "serial", "version",
                                        "verify_kind", "verify_error")}
    kind = tls.get("verify_kind")
    expired = kind == "expired" or (not_after is not None and not_after < at)
    if expired:
        days = (at - not_after).days if not_after else None
        yield ctx.finding(
            "security.cert_expired", url,
            f"TLS 证书已于 {not_after:%Y-%m-%d} 过期" + (f"（已过期 {days} 天）" if days is not None else "") if not_after
            else "TLS 证书已过期",
            f"Certificate expired on {not_after:%Y-%m-%d}" if not_after else "Certificate expired",
            key=f"cert_expired:{host}:{tls.get('serial')}", evidence={**evidence, "days_expired": days},
        )
    elif not_after is not None:
        warn_days = int(ctx.pack.value("security.cert_expiry_warn_days"))
        days_left = (not_after - at).total_seconds() / 86400
        if days_left <= warn_days:
            yield ctx.finding(
                "security.cert_expiring", url,
                f"TLS 证书将于 {not_after:%Y-%m-%d} 过期（剩余 {int(days_left)} 天，不足 {warn_days} 天）",
                f"Certificate expires on {not_after:%Y-%m-%d} ({int(days_left)} days left, under {warn_days})",
                key=f"cert_expiring:{host}:{tls.get('serial')}",
                evidence={**evidence, "days_left": round(days_left, 2), "warn_days": warn_days},
            )
    if kind == "name_mismatch" or tls.get("name_matches") is False:
        yield ctx.finding(
            "security.cert_name_mismatch", url,
            f"TLS 证书不包含域名 {host}（证书名称：{'、'.join(tls.get('names') or [])}）",
            f"The certificate does not cover {host} (names: {', '.join(tls.get('names') or [])})",
            key=f"cert_name:{host}:{tls.get('serial')}", evidence=evidence,
        )
    if kind in ("untrusted", "not_yet_valid", "other"):
        yield ctx.finding(
            "security.cert_invalid", url,
            f"TLS 证书校验失败：{tls.get('verify_error')}（签发者：{tls.get('issuer')}）",
            f"Certificate verification failed: {tls.get('verify_error')} (issuer: {tls.get('issuer')})",
            key=f"cert_invalid:{host}:{tls.get('serial')}", evidence=evidence,
        )


def _versions(versions: dict[str, bool | None], url: str, host: str, ctx: CheckContext) -> Iterator[Finding]:
    minimum = str(ctx.pack.value("security.min_tls_version"))
    order = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    below = order[: order.index(minimum)] if minimum in order else []
    accepted = [v for v in below if versions.get(v) is True]
    untestable = [v for v in below if versions.get(v) is None and v in versions]
    if accepted:
        yield ctx.finding(
            "security.weak_tls", url,
            f"服务器接受已弃用的 {'、'.join(accepted)}（最低应为 {minimum}）",
            f"The server accepts deprecated {', '.join(accepted)} (minimum {minimum})",
            key=f"weak_tls:{host}",
            evidence={"accepted": accepted, "versions": versions, "minimum": minimum, "untestable_here": untestable},
        )


# --- stored evidence: mixed content and headers ----------------------------------------------------

def mixed_content(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    """HTTP resources on HTTPS pages, once per (resource origin, active/passive) with the pages listed."""

    https_pages: set[str] = set()
    for row in ctx.store.iter_pages(ctx.run_id, with_body=False):
        if row.get("kind", "html") == "html" and (row.get("final_url") or row["url"]).startswith("https://"):
            https_pages.add(row["url"])
    if not https_pages:
        return
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"resources": {}, "pages": set()})
    for edge in ctx.store.iter_links(ctx.run_id):
        if edge["source_url"] not in https_pages or not edge["target_url"].startswith("http://"):
            continue
        tag = (edge.get("tag") or "").lower()
        if tag in ACTIVE_TAGS:
            kind = "active"
        elif tag in PASSIVE_TAGS:
            kind = "passive"
        else:
            continue
        p = urlsplit(edge["target_url"])
        g = groups[(p.netloc, kind)]
        g["resources"].setdefault(edge["target_url"], tag)
        g["pages"].add(edge["source_url"])
    for (netloc, kind), g in sorted(groups.items()):
        pages = sorted(g["pages"])
        resources = sorted(g["resources"])
        kind_zh = "主动内容（脚本、样式、框架，浏览器会拦截）" if kind == "active" else "被动内容（图片、音视频）"
        yield ctx.finding(
            "security.mixed_content",
            resources[0],
            f"{len(pages)} 个 HTTPS 页面通过 HTTP 从 {netloc} 加载{kind_zh}，共 {len(resources)} 个资源",
            f"{len(pages)} HTTPS page(s) load {kind} content over HTTP from {netloc} ({len(resources)} resource(s))",
            key=f"mixed:{netloc}:{kind}",
            source_url=pages[0],
            evidence={
                "origin": f"http://{netloc}",
                "kind": kind,
                "resources": [{"url": u, "tag": g["resources"][u]} for u in resources[:PAGE_LIST_CAP]],
                "resource_count": len(resources),
                "pages": pages[:PAGE_LIST_CAP],
                "page_count": len(pages),
            },
        )


def _has_header(headers: dict[str, str], spec: dict[str, Any]) -> bool:
    lower = {k.lower(): v for k, v in headers.items()}
    if spec["name"] in lower:
        return True
    for alt in spec.get("alternatives", []):
        name, _, directive = alt.partition(":")
        if name in lower and (not directive or directive in lower[name].lower()):
            return True
    return False


def missing_headers(site: SiteView, ctx: CheckContext, result: dict[str, Any]) -> Iterator[Finding]:
    specs = ctx.pack.value("security.required_headers")
    counts: dict[str, list[str]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    source = "crawl"
    seen = 0
    for row in ctx.store.iter_pages(ctx.run_id, with_body=False):
        headers = row.get("headers") or {}
        if row.get("kind", "html") != "html" or not headers or all(k.startswith("x-govaudit") for k in headers):
            continue  # the crawl kept no headers for this page: unknown, not missing
        seen += 1
        is_https = (row.get("final_url") or row["url"]).startswith("https://")
        for spec in specs:
            if spec.get("https_only") and not is_https:
                continue
            totals[spec["name"]] += 1
            if not _has_header(headers, spec):
                counts[spec["name"]].append(row["url"])
    if not seen and result.get("https_headers") is not None and (result.get("https") or {}).get("status") is not None:
        source = "probe"
        for spec in specs:
            totals[spec["name"]] = 1
            if not _has_header(result["https_headers"], spec):
                counts[spec["name"]].append(result["https_url"])
    for spec in specs:
        missing = counts.get(spec["name"], [])
        if not missing:
            continue
        total = totals[spec["name"]]
        label = spec.get("label", spec["name"])
        scope_zh = "全部" if len(missing) == total else f"{len(missing)}/{total} 个"
        yield ctx.finding(
            "security.missing_headers",
            missing[0],
            f"{scope_zh}页面的响应缺少安全响应头 {label}",
            f"{len(missing)} of {total} page(s) are served without the {label} header",
            key=f"header:{site.host}:{spec['name']}",
            evidence={"header": spec["name"], "label": label, "pages": sorted(missing)[:PAGE_LIST_CAP],
                      "page_count": len(missing), "checked_pages": total, "source": source},
        )
