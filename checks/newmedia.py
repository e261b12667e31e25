"""政务新媒体 (government new-media accounts): judged from the ``newmedia.*`` measurements, never read here.

The measure plugin (``plugins/newmedia_probe.py``) stored the run's accounts — the office's 备案 registry
rows and the site's 政务新媒体 page entries, paired — and what each account source read of each account
(:mod:`auditor.measure.newmedia`). This module judges, from the pack of the run being judged and its
as-of date (``recheck`` re-judges offline):

- ``newmedia.not_updated`` (veto, 国办秘函〔2019〕19号): the last post is older than
  ``newmedia.update_max_days`` before the monitoring point. Only a *complete* reading (a feed, an export)
  can show silence; linked article pages can show activity only. An account no source could read, or read
  only partly and found nothing recent, is ``newmedia.not_decidable`` (info) — never stale.
- ``newmedia.zombie``: no post for ``newmedia.zombie_days``, no post at all, or only reposts (platform flag,
  or a title/text starting with a ``newmedia.repost_markers`` word) among at least
  ``newmedia.reposts_only_min_posts`` posts in that window.
- ``newmedia.no_interaction`` (veto, practice): the platform says comments/messages are off, or at least
  ``newmedia.interaction_min_posts`` posts carry interaction counts and the ``newmedia.interaction_fields``
  are all zero.
- ``newmedia.duplicate`` (国办发〔2018〕123号): more than ``newmedia.max_accounts_per_platform`` active
  accounts of one 主办单位 on one platform.
- ``newmedia.commercial_ad``: ``newmedia.ad_keywords`` or links to ``newmedia.ad_link_hosts`` in posts.
- ``newmedia.unregistered`` / ``newmedia.not_on_site`` / ``newmedia.renamed`` (only when a registry was
  given): on the site but not filed; filed and active but not on the site; filed under another name than
  the site or the platform shows.
- ``newmedia.closed_without_notice``: a registry status in ``newmedia.closed_statuses`` and no post with a
  ``newmedia.closure_notice_keywords`` word, or posts inside the update window.
- ``newmedia.article_deleted`` / ``newmedia.article_blocked``: a linked article page showing a notice
  (pack marker lists); a platform check page (``newmedia.platform_check_markers``) decides nothing.
- ``newmedia.post_text``: typos and misstatements in posts, through the text family's own functions
  (:func:`auditor.checks.text._typos`, :func:`auditor.checks.text._misstatements`) — veto class stays veto.

Posts dated after the as-of date are ignored (a recheck at an earlier date sees the account as it was).
Each account's summary is written as a ``newmedia.account`` record for the report's 政务新媒体 section.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from auditor.checks.text import _allowlist, _misstatements, _typos
from auditor.context import CheckContext, SiteView
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.measure.newmedia import ACCOUNT_KIND, ACCOUNTS_KIND, VERSIONS, norm_name, parse_time
from auditor.model import Finding, Severity

DECLARED = load_declarations("auditor.checks", "rules/newmedia.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

RECORD_KIND = "newmedia.account"  # the per-account summary the report shows


class _PostPage:
    """A post as the text family's functions read a page: its URL, never a homepage."""

    is_homepage = False

    def __init__(self, url: str):
        self.url = url


def _has(text: str, words: list[str]) -> str | None:
    low = text.lower()
    return next((w for w in words if w and w.lower() in low), None)


def _url_of(acc: dict[str, Any], registry_file: str | None) -> str:
    site = acc.get("origins", {}).get("site")
    if site:
        return site["page"]
    links = [lk["url"] for lk in acc.get("links", []) if lk["url"].startswith(("http://", "https://"))]
    if links:
        return links[0]
    return f"registry:{registry_file or 'accounts'}#{acc.get('origins', {}).get('registry', {}).get('row', '')}"


class _Account:
    """One stored account with its readings, judged at ``as_of``."""

    def __init__(self, uid: str, data: dict[str, Any], as_of: dt.date, ctx: CheckContext):
        self.uid = uid
        self.acc = data["account"]
        self.readings = [r for r in data.get("readings", []) if isinstance(r, dict)]
        self.name = self.acc.get("name", "")
        self.platform = self.acc.get("platform") or "未知平台"
        self.label = f"{self.name}（{self.platform}）"
        self.closed = bool(self.acc.get("status")) and self.acc["status"] in ctx.pack.value("newmedia.closed_statuses")
        limit = dt.datetime.combine(as_of, dt.time.max)
        self.decidable = [r for r in self.readings if r.get("decidable")]
        self.complete = any(r.get("complete") for r in self.decidable)
        seen: set[tuple[str, str]] = set()  # by address and by (title, time): a feed item and its article page are one post
        self.posts: list[tuple[dt.datetime | None, dict[str, Any]]] = []
        for r in self.decidable:
            for p in r.get("posts", []):
                when = parse_time(p.get("time"))
                if when is not None and when > limit:
                    continue  # posted after the monitoring point
                keys = {("t", f"{p.get('title') or ''}|{p.get('time') or ''}")}
                if p.get("url"):
                    keys.add(("u", p["url"]))
                if keys & seen:
                    continue
                seen |= keys
                self.posts.append((when, p))
        dated = [w for w, _ in self.posts if w is not None]
        self.last = max(dated) if dated else None
        self.days_since = (as_of - self.last.date()).days if self.last else None

    def evidence(self, **more: Any) -> dict[str, Any]:
        return {"account": self.uid, "account_name": self.name, "platform": self.platform,
                "owner": self.acc.get("owner", ""), "account_id": self.acc.get("account_id", ""),
                "last_post": self.last.isoformat(timespec="seconds") if self.last else None, **more}

    def reasons(self) -> list[dict[str, Any]]:
        return [{"source": r.get("source"), "reason": r.get("reason"), "complete": bool(r.get("complete"))}
                for r in self.readings]


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    head = ctx.measurement(ACCOUNTS_KIND, "site")
    if head is None:
        return
    if head.version not in VERSIONS:
        ctx.store.add_error(ctx.run_id, "check", f"{ACCOUNTS_KIND} measurement version {head.version} not understood",
                            plugin="newmedia")
        return
    info = head.data.get("registry") or {}
    registry_given = bool(info.get("given"))
    stored = {m.key: m for m in ctx.measurements(ACCOUNT_KIND)}
    accounts: list[_Account] = []
    for uid in head.data.get("accounts", []):
        m = stored.get(uid)
        if m is None or m.version not in VERSIONS:
            ctx.store.add_error(ctx.run_id, "check", f"{ACCOUNT_KIND} {uid}: measurement missing or of unknown version",
                                plugin="newmedia")
            continue
        accounts.append(_Account(uid, m.data, ctx.as_of, ctx))
    for a in accounts:
        found = list(_judge(a, ctx, info.get("file"), registry_given))
        yield from found
        ctx.record(RECORD_KIND, a.uid, _summary(a, ctx, found))
    yield from _duplicates(accounts, ctx, info.get("file"))


def _judge(a: _Account, ctx: CheckContext, registry_file: str | None, registry_given: bool) -> Iterator[Finding]:
    url = _url_of(a.acc, registry_file)
    origins = a.acc.get("origins", {})
    key = a.uid
    # --- the site and the registry ---------------------------------------------------------
    if registry_given and "site" in origins and "registry" not in origins:
        yield ctx.finding("newmedia.unregistered", url, f"网站展示的账号“{a.label}”未在备案登记表中",
                          f"Account '{a.name}' ({a.platform}) is on the site but not in the registry", key=key,
                          evidence=a.evidence(page=origins["site"]["page"], text=origins["site"].get("text", "")))
    if registry_given and "registry" in origins and "site" not in origins and not a.closed:
        yield ctx.finding("newmedia.not_on_site", url, f"备案账号“{a.label}”未在网站政务新媒体栏目展示",
                          f"Registered account '{a.name}' ({a.platform}) is not listed on the site", key=key,
                          evidence=a.evidence(registry_row=origins["registry"].get("row")))
    if "registry" in origins:
        shown = [("site", origins["site"].get("name", ""))] if "site" in origins else []
        shown += [(f"platform:{r.get('source')}", (r.get("profile") or {}).get("name", "")) for r in a.decidable]
        for where, name in shown:
            if name and norm_name(name) != norm_name(a.name) and norm_name(a.name) not in norm_name(name):
                yield ctx.finding("newmedia.renamed", url, f"账号名称与备案不一致：备案为“{a.name}”，{'网站' if where == 'site' else '平台'}显示为“{name}”",
                                  f"Name differs from the registry: filed '{a.name}', {where} shows '{name}'", key=f"{key}:{where}",
                                  evidence=a.evidence(filed_name=a.name, shown_name=name, shown_on=where))
                break
    # --- articles linked from the site or the registry ----------------------------------------
    yield from _articles(a, ctx)
    # --- closed accounts -----------------------------------------------------------------------
    window = int(ctx.pack.value("newmedia.update_max_days"))
    if a.closed:
        if a.decidable and a.complete:
            words = ctx.pack.value("newmedia.closure_notice_keywords")
            notice = next((p for _, p in a.posts if _has(f"{p.get('title', '')} {p.get('text', '')}", words)), None)
            posting = a.days_since is not None and a.days_since <= window
            if notice is None or posting:
                what_zh = "仍在更新" if posting else "未发布停更公告"
                yield ctx.finding("newmedia.closed_without_notice", url,
                                  f"备案状态为“{a.acc.get('status')}”的账号“{a.label}”{what_zh}（最近发文 {a.last.date() if a.last else '无'}）",
                                  f"Account '{a.name}' is '{a.acc.get('status')}' in the registry but "
                                  f"{'still posts' if posting else 'has no notice that updates stop'}", key=key,
                                  evidence=a.evidence(status=a.acc.get("status"), still_posting=posting,
                                                      notice=(notice or {}).get("title")))
        return  # a closed account is not judged for updates or interaction
    # --- updates --------------------------------------------------------------------------------
    fresh = a.days_since is not None and a.days_since <= window
    if not fresh:
        if a.complete and (a.last is not None or not a.posts):  # undated posts prove nothing
            when = f"最近一次发文为 {a.last.date()}（距评估基准日 {a.days_since} 天）" if a.last else "数据源中没有任何发文"
            yield ctx.finding("newmedia.not_updated", url, f"账号“{a.label}”监测时间点前 {window} 天内无更新：{when}",
                              f"Account '{a.name}' ({a.platform}) has not posted in the {window} days before {ctx.as_of}",
                              key=key, evidence=a.evidence(days_since=a.days_since, window_days=window, sources=None))
        else:
            why = ("没有可读取的数据源" if not a.readings else "数据源中的发文均无日期" if a.complete
                   else "数据源只含部分文章，无法证明已停更" if a.decidable else "数据源均无法读取")
            yield ctx.finding("newmedia.not_decidable", url, f"账号“{a.label}”无法判定是否更新：{why}",
                              f"Account '{a.name}' ({a.platform}): updates not decidable ({'partial source' if a.decidable else 'no readable source'})",
                              key=key, evidence=a.evidence(readings=a.reasons()))
    if a.complete and (a.last is not None or not a.posts):
        yield from _zombie(a, ctx, url)
    yield from _interaction(a, ctx, url)
    yield from _ads(a, ctx)
    yield from _post_text(a, ctx)


def _zombie(a: _Account, ctx: CheckContext, url: str) -> Iterator[Finding]:
    days = int(ctx.pack.value("newmedia.zombie_days"))
    if a.last is None or (a.days_since or 0) > days:
        got = f"已 {a.days_since} 天未发文" if a.last else "没有任何发文"
        got_en = f"no post for {a.days_since} days" if a.last else "no post at all"
        yield ctx.finding("newmedia.zombie", url, f"“僵尸”账号：“{a.label}”{got}（超过 {days} 天）",
                          f"Zombie account '{a.name}': {got_en}",
                          key=f"{a.uid}:silent", evidence=a.evidence(kind="silent", days_since=a.days_since, zombie_days=days))
        return
    since = ctx.as_of - dt.timedelta(days=days)
    recent = [p for w, p in a.posts if w is not None and w.date() >= since]
    markers = ctx.pack.value("newmedia.repost_markers")

    def repost(p: dict[str, Any]) -> bool:
        if p.get("repost") is not None:
            return bool(p["repost"])
        head = f"{p.get('title', '')} {p.get('text', '')}".strip()
        return any(head.startswith(m) for m in markers)

    if len(recent) >= int(ctx.pack.value("newmedia.reposts_only_min_posts")) and all(repost(p) for p in recent):
        yield ctx.finding("newmedia.zombie", url, f"“空壳”账号：“{a.label}”近 {days} 天的 {len(recent)} 条发文全部为转发",
                          f"Empty-shell account '{a.name}': all {len(recent)} posts in {days} days are reposts",
                          key=f"{a.uid}:reposts", evidence=a.evidence(kind="reposts_only", posts=len(recent)))


def _interaction(a: _Account, ctx: CheckContext, url: str) -> Iterator[Finding]:
    off = next((r for r in a.decidable if r.get("interaction_enabled") is False), None)
    if off is not None:
        yield ctx.finding("newmedia.no_interaction", url, f"账号“{a.label}”未开放互动功能（{off.get('source')} 数据显示评论/留言关闭）",
                          f"Account '{a.name}' has interaction switched off (per {off.get('source')})", key=a.uid,
                          evidence=a.evidence(how="switched_off", source=off.get("source")))
        return
    fields = ctx.pack.value("newmedia.interaction_fields")
    since = ctx.as_of - dt.timedelta(days=int(ctx.pack.value("newmedia.zombie_days")))
    counted = [p["interactions"] for w, p in a.posts
               if p.get("interactions") and any(f in p["interactions"] for f in fields) and (w is None or w.date() >= since)]
    if len(counted) >= int(ctx.pack.value("newmedia.interaction_min_posts")) and \
            sum(int(c.get(f, 0) or 0) for c in counted for f in fields) == 0:
        yield ctx.finding("newmedia.no_interaction", url, f"账号“{a.label}”近 {len(counted)} 条发文无任何{'/'.join(fields)}互动",
                          f"Account '{a.name}': {len(counted)} posts without any {'/'.join(fields)}", key=a.uid,
                          evidence=a.evidence(how="zero_counts", posts=len(counted), fields=fields))


def _ads(a: _Account, ctx: CheckContext) -> Iterator[Finding]:
    words = ctx.pack.value("newmedia.ad_keywords")
    hosts = [h.lower() for h in ctx.pack.value("newmedia.ad_link_hosts")]
    for when, p in a.posts:
        word = _has(f"{p.get('title', '')} {p.get('text', '')}", words)
        link = next((lk for lk in p.get("links", []) for h in hosts
                     if (host := (urlsplit(lk).hostname or "").lower()) == h or host.endswith("." + h)), None)
        if not word and not link:
            continue
        what = f"含广告用语“{word}”" if word else f"含购物/推广链接 {link}"
        yield ctx.finding("newmedia.commercial_ad", p.get("url") or _url_of(a.acc, None),
                          f"账号“{a.label}”发文《{p.get('title', '')[:40]}》{what}",
                          f"Post '{p.get('title', '')[:40]}' of '{a.name}' carries {'ad word ' + word if word else 'ad link ' + str(link)}",
                          key=f"{a.uid}:{p.get('url') or p.get('title')}",
                          evidence=a.evidence(post=p.get("url"), post_title=p.get("title"), word=word, link=link,
                                              post_time=when.isoformat(timespec="seconds") if when else None))


def _post_text(a: _Account, ctx: CheckContext) -> Iterator[Finding]:
    cap = int(ctx.pack.value("newmedia.post_findings_cap"))
    veto_classes = set(ctx.pack.value("text.veto_classes"))
    for when, p in a.posts:
        purl = p.get("url") or _url_of(a.acc, None)
        fields = [(f, t) for f, t in (("title", p.get("title") or ""), ("body", p.get("text") or "")) if t]
        if not fields:
            continue
        page = _PostPage(purl)
        allow = _allowlist(ctx, purl)
        hits = _typos(page, ctx, fields, allow, veto_classes) + _misstatements(page, ctx, fields, allow)  # type: ignore[arg-type]
        hits.sort(key=lambda f: f.severity != Severity.VETO)
        for f in hits[:cap]:
            yield ctx.finding("newmedia.post_text", purl, f"账号“{a.label}”发文：{f.message_zh}",
                              f"Post of '{a.name}': {f.message_en}", key=f"{a.uid}:{purl}:{f.key}",
                              variant="veto" if f.severity == Severity.VETO else None,
                              evidence=a.evidence(**f.evidence, text_rule=f.rule, post=purl, post_title=p.get("title"),
                                                  post_time=when.isoformat(timespec="seconds") if when else None))


def _articles(a: _Account, ctx: CheckContext) -> Iterator[Finding]:
    deleted = ctx.pack.value("newmedia.article_deleted_markers")
    blocked = ctx.pack.value("newmedia.article_blocked_markers")
    check = ctx.pack.value("newmedia.platform_check_markers")
    for r in a.readings:
        for art in r.get("articles", []):
            state = article_state(art, deleted, blocked, check)
            if state not in ("deleted", "blocked"):
                continue
            rule = "newmedia.article_deleted" if state == "deleted" else "newmedia.article_blocked"
            zh = "已被发布者删除" if state == "deleted" else "被平台屏蔽（违规或投诉）"
            yield ctx.finding(rule, art["url"], f"账号“{a.label}”的文章{zh}：{art.get('notice', '')[:80]}",
                              f"Article of '{a.name}' is {state}: {art['url']}", key=f"{a.uid}:{art['url']}",
                              evidence=a.evidence(article=art["url"], notice=art.get("notice", "")[:300], state=state,
                                                  linked_from=(a.acc.get("origins", {}).get("site") or {}).get("page")))


def article_state(art: dict[str, Any], deleted: list[str], blocked: list[str], check: list[str]) -> str:
    """live | deleted | blocked | undecidable (not fetched, a platform check page, or an unknown notice)."""

    if not art.get("fetched"):
        return "undecidable"
    if art.get("content"):
        return "live"
    notice = art.get("notice", "")
    if _has(notice, check):
        return "undecidable"
    if _has(notice, blocked):
        return "blocked"
    if _has(notice, deleted):
        return "deleted"
    return "undecidable"


def _duplicates(accounts: list[_Account], ctx: CheckContext, registry_file: str | None) -> Iterator[Finding]:
    limit = int(ctx.pack.value("newmedia.max_accounts_per_platform"))
    groups: dict[tuple[str, str], list[_Account]] = {}
    for a in accounts:
        owner = (a.acc.get("owner") or "").strip()
        if owner and not a.closed:
            groups.setdefault((owner, a.platform), []).append(a)
    for (owner, platform), members in sorted(groups.items()):
        if len(members) <= limit:
            continue
        names = "、".join(f"“{m.name}”" for m in members)
        yield ctx.finding("newmedia.duplicate", _url_of(members[0].acc, registry_file),
                          f"{owner}在{platform}开设了 {len(members)} 个账号：{names}（原则上每个平台一个）",
                          f"{owner} runs {len(members)} accounts on {platform}", key=f"{owner}:{platform}",
                          evidence={"owner": owner, "platform": platform, "accounts": [m.uid for m in members],
                                    "names": [m.name for m in members], "limit": limit})


def _summary(a: _Account, ctx: CheckContext, found: list[Finding]) -> dict[str, Any]:
    window = int(ctx.pack.value("newmedia.update_max_days"))
    since = ctx.as_of - dt.timedelta(days=window)
    in_window = sum(1 for w, _ in a.posts if w is not None and w.date() >= since)
    if a.closed:
        state = "closed"
    elif a.days_since is not None and a.days_since <= window:
        state = "active"
    elif a.complete and (a.last is not None or not a.posts):
        state = "stale"
    else:
        state = "not_decidable"
    origins = a.acc.get("origins", {})
    return {"uid": a.uid, "name": a.name, "platform": a.platform, "owner": a.acc.get("owner", ""),
            "account_id": a.acc.get("account_id", ""), "status": a.acc.get("status", ""),
            "on_site": "site" in origins, "in_registry": "registry" in origins,
            "site_page": (origins.get("site") or {}).get("page"),
            "last_post": a.last.isoformat(timespec="seconds") if a.last else None, "days_since": a.days_since,
            "posts_in_window": in_window, "window_days": window, "posts_read": len(a.posts), "state": state,
            "sources": a.reasons(), "links": [lk["url"] for lk in a.acc.get("links", [])],
            "findings": [f.id for f in found], "veto": any(f.severity == Severity.VETO for f in found)}
