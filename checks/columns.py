"""Required disclosure columns (政府信息公开专栏 and 法定主动公开内容) for the chosen profile.

The catalogue is rule-pack data (``columns`` in the pack: names, synonyms, profiles, legal basis),
not code. A column counts as present when a link whose text matches its name or a synonym appears
in the homepage navigation, on the 政府信息公开 column page, or on the 法定主动公开内容 page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.context import CheckContext, SiteView
from auditor.declarations import load_declarations
from auditor.hookspecs import hookimpl
from auditor.model import Basis, Finding, Region

_STRIP = re.compile(r"[\s\u3000、，,。.·•|｜/\\“”\"'‘’（）()【】\[\]<>《》:：\-—_>»›]+")


def normalise(text: str) -> str:
    return _STRIP.sub("", text or "")


DECLARED = load_declarations("auditor.checks", "rules/columns.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()


def _anchors(site: SiteView, url: str, regions: set[str] | None = None) -> list[tuple[str, str]]:
    out = []
    for edge in site.links(source_url=url):
        if edge["tag"] != "a":
            continue
        if regions is None or edge["region"] in regions:
            out.append((normalise(edge["anchor"] or ""), edge["target_url"]))
    return out


def _find(anchors: list[tuple[str, str]], synonyms: list[str]) -> tuple[str, str] | None:
    keys = [normalise(s) for s in synonyms]
    for text, target in anchors:
        if text and any(k and k in text for k in keys):
            return text, target
    return None


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    catalogue = ctx.pack.columns_for(ctx.profile)
    if not catalogue:
        return
    home = site.homepage_url
    anchors = _anchors(site, home)
    searched = [home]
    # The 政府信息公开 column page and the 法定主动公开内容 page, reached from the homepage or nav.
    by_id = {c["id"]: c for c in catalogue}
    for col_id in ("xxgk", "fdzdgk"):
        col = by_id.get(col_id)
        hit = _find(anchors, col["synonyms"]) if col else None
        if hit and hit[1] not in searched:
            searched.append(hit[1])
            anchors += _anchors(site, hit[1])
    # Navigation of the first-level pages: columns often sit in a second-level menu.
    for page in list(searched):
        for _text, target in _anchors(site, page, {str(Region.NAV), str(Region.HEADER)}):
            if target not in searched and len(searched) < 60:
                searched.append(target)
                anchors += _anchors(site, target, {str(Region.NAV), str(Region.HEADER), str(Region.CONTENT)})
    for col in catalogue:
        if _find(anchors, col["synonyms"]):
            continue
        group = "政府信息公开专栏" if col["group"] == "xxgk" else "法定主动公开内容"
        basis = col["basis"]
        finding = ctx.finding(
            "columns.missing",
            home,
            f"未找到{group}栏目“{col['name']}”（{basis['zh']}）",
            f"Column “{col['name']}” ({'disclosure section' if col['group'] == 'xxgk' else 'statutory proactive content'}) not found",
            key=f"{ctx.profile}:{col['id']}",
            column=col["name"],
            evidence={
                "column_id": col["id"],
                "profile": ctx.profile,
                "synonyms": col["synonyms"],
                "searched_pages": searched[:20],
                "searched_page_count": len(searched),
                "column_basis": basis,
                "pack": col.get("pack"),
            },
        )
        finding.basis = Basis(zh=basis["zh"], source=basis["source"], status=basis["status"])
        yield finding
