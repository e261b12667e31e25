"""Which pages the expensive browser checks visit: every template once, the top levels, a seeded sample.

Why: axe-core costs about half a second of CPU per page, so a 20,000-page county portal cannot be
audited page by page on every run. Accessibility problems live in templates (the header, the
column list, the article layout) far more than in single pages, so — as Unlighthouse does
(peer-lessons.md) — the sample covers:

1. the homepage and every second-level page (crawl depth ≤ 1): what evaluators open first;
2. every page *template*: pages are grouped by the structure of their DOM (a set of tag-path
   shingles, "div.list>ul>li>a"), not by URL, because CMS URLs (``/art/2024/1/3/art_123_456.html``)
   say little about layout; each group's first page (lowest depth, then URL) represents it;
3. a random sample of the remaining (content) pages, of configurable size, drawn with a seeded
   generator from the URL-sorted list, so the same crawl always yields the same sample and two
   monthly runs of a stable site compare.

Error pages are never in the population: HTTP 4xx/5xx answers and soft 404s as the link checker
judged them (:attr:`auditor.context.PageView.is_error_page`) show the CMS's error template, and
auditing that template would report the site's dead links a second time as a11y/适老化 defects.

``mode="all"`` (``--a11y all``) takes every stored live HTML page; ``mode="off"`` takes none.
Options come from ``[plugins.a11y]``: ``mode``, ``sample`` (random sample size, default 20),
``seed``, ``similarity`` (Jaccard threshold for "same template", default 0.7), ``max_pages``
(hard cap, 0 = none).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MODES = ("sample", "all", "off")
DEFAULT_SAMPLE = 20
DEFAULT_SIMILARITY = 0.7
SHINGLE_DEPTH = 3  # ancestors kept in each tag-path shingle
_SKIP_TAGS = {"script", "style", "noscript", "template", "meta", "link", "head", "title", "base", "br", "wbr"}
_DIGITS = re.compile(r"\d+")


class SamplingError(ValueError):
    """An option of ``[plugins.a11y]`` that cannot be used."""


@dataclass
class SampledPage:
    url: str
    depth: int | None
    template: int
    reasons: list[str] = field(default_factory=list)  # homepage | level2 | template | random | all


@dataclass
class Sample:
    mode: str
    pages: list[SampledPage]
    population: int  # HTML pages eligible
    templates: int  # structure groups found
    seed: str
    sample_size: int
    template_sizes: dict[int, int] = field(default_factory=dict)
    excluded_error_pages: int = 0  # HTML pages left out as HTTP errors or soft 404s

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.pages]

    def summary(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for p in self.pages:
            for r in p.reasons:
                reasons[r] = reasons.get(r, 0) + 1
        return {
            "mode": self.mode,
            "selected": len(self.pages),
            "population": self.population,
            "templates": self.templates,
            "seed": self.seed,
            "random_sample_size": self.sample_size,
            "by_reason": dict(sorted(reasons.items())),
            "excluded_error_pages": self.excluded_error_pages,
        }


def _label(el: Any) -> str:
    """``div.list`` — tag plus first class token, digits removed (``item3`` ≈ ``item7``)."""

    tag = el.tag if isinstance(el.tag, str) else ""
    cls = (el.get("class") or "").split()
    if cls:
        return f"{tag}.{_DIGITS.sub('', cls[0])}"
    return tag


def structure_signature(tree: Any, depth: int = SHINGLE_DEPTH) -> frozenset[str]:
    """The set of tag-path shingles of a page's DOM skeleton.

    Each element contributes the path of its last ``depth`` ancestors and itself. As a set,
    repetition collapses: a list of 10 items and one of 50 items have the same signature, which
    is what "same template" means.
    """

    if tree is None:
        return frozenset()
    out: set[str] = set()
    body = tree.find(".//body")
    root = body if body is not None else tree
    stack: list[tuple[Any, tuple[str, ...]]] = [(root, ())]
    while stack:
        el, path = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else None
        if tag is None or tag in _SKIP_TAGS:
            continue
        here = (*path[-depth:], _label(el))
        out.add(">".join(here))
        for child in el:
            stack.append((child, here))
    return frozenset(out)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _assign(sig: frozenset[str], leaders: list[frozenset[str]], threshold: float) -> int:
    """Greedy leader clustering: join the most similar group whose leader is at least
    ``threshold`` alike, else found a new group led by this page. Cost is pages × groups set
    intersections: a few seconds for 20,000 pages and dozens of templates."""

    best, best_sim = -1, threshold
    for i, lead in enumerate(leaders):
        sim = jaccard(sig, lead)
        if sim >= best_sim:
            best, best_sim = i, sim
            if sim >= 0.98:
                break
    if best < 0:
        leaders.append(sig)
        best = len(leaders) - 1
    return best


def group_templates(signatures: Iterable[tuple[str, frozenset[str]]], threshold: float = DEFAULT_SIMILARITY) -> dict[str, int]:
    """Template group of each URL, in the given order (deterministic for a given order)."""

    leaders: list[frozenset[str]] = []
    return {url: _assign(sig, leaders, threshold) for url, sig in signatures}


def _is_error_page(page: Any) -> bool:
    """:attr:`auditor.context.PageView.is_error_page`, read defensively: a stand-in page object
    without it (a test double) counts as live."""

    return bool(getattr(page, "is_error_page", False))


def options_from(config: Any) -> dict[str, Any]:
    opts = dict((getattr(config, "plugin_options", None) or {}).get("a11y", {}) or {})
    mode = str(opts.get("mode", "sample")).lower()
    if mode not in MODES:
        raise SamplingError(f"--a11y 只接受 {'|'.join(MODES)} / --a11y expects one of {', '.join(MODES)}: {mode!r}")
    try:
        sample = int(opts.get("sample", DEFAULT_SAMPLE))
        similarity = float(opts.get("similarity", DEFAULT_SIMILARITY))
        max_pages = int(opts.get("max_pages", 0))
    except (TypeError, ValueError) as exc:
        raise SamplingError(f"[plugins.a11y] 选项无效 / invalid option: {exc}") from exc
    if sample < 0 or not 0 < similarity <= 1 or max_pages < 0:
        raise SamplingError("[plugins.a11y] sample ≥ 0, 0 < similarity ≤ 1, max_pages ≥ 0")
    return {"mode": mode, "sample": sample, "similarity": similarity, "max_pages": max_pages,
            "seed": str(opts.get("seed", ""))}


def choose(site: Any, config: Any) -> Sample:
    """The pages to audit for ``site`` (a :class:`auditor.context.SiteView`) under ``config``."""

    opts = options_from(config)
    seed = opts["seed"] or f"govaudit-a11y:{site.host}"
    mode = opts["mode"]
    if mode == "off":
        return Sample(mode, [], 0, 0, seed, 0)
    home = site.homepage_url
    # One streaming pass: a page's signature is compared with the group leaders and dropped, so
    # only one parsed page and the leaders' signatures are in memory, whatever the site's size.
    # Grouping follows the store's order (the crawl's), fixed for a stored run.
    rows: list[tuple[int, str, int]] = []
    leaders: list[frozenset[str]] = []
    sizes: dict[int, int] = {}
    excluded = 0
    for page in site.pages("html"):
        # Error pages (HTTP errors, soft 404s judged by the link checker) are never sampled: their
        # template is the error template, and the dead link is already a links.dead finding.
        if (page.status is not None and not 200 <= page.status < 300) or _is_error_page(page):
            excluded += 1
            continue
        depth = 0 if page.url == home or page.is_homepage else page.depth
        group = -1
        if mode != "all":
            group = _assign(structure_signature(page.tree), leaders, opts["similarity"])
            sizes[group] = sizes.get(group, 0) + 1
        rows.append((depth if depth is not None else 99, page.url, group))
    rows.sort(key=lambda r: (r[0], r[1]))
    if mode == "all":
        pages = [SampledPage(url, depth, -1, ["all"]) for depth, url, _ in rows]
        if opts["max_pages"]:
            pages = pages[: opts["max_pages"]]
        return Sample(mode, pages, len(rows), 0, seed, 0, excluded_error_pages=excluded)
    groups = {url: g for _d, url, g in rows}

    chosen: dict[str, SampledPage] = {}

    def take(url: str, depth: int | None, reason: str) -> None:
        entry = chosen.get(url)
        if entry is None:
            entry = chosen[url] = SampledPage(url, depth, groups[url])
        if reason not in entry.reasons:
            entry.reasons.append(reason)

    seen_templates: set[int] = set()
    for depth, url, _g in rows:
        if depth == 0:
            take(url, depth, "homepage")
        elif depth == 1:
            take(url, depth, "level2")
        g = groups[url]
        if g not in seen_templates:
            seen_templates.add(g)
            take(url, depth, "template")
    rest = sorted(url for _d, url, _ in rows if url not in chosen)
    rng = random.Random(seed)
    depth_of = {url: d for d, url, _ in rows}
    for url in sorted(rng.sample(rest, min(opts["sample"], len(rest)))):
        take(url, depth_of[url], "random")
    order = {url: i for i, (_d, url, _g) in enumerate(rows)}
    pages = sorted(chosen.values(), key=lambda p: order[p.url])
    if opts["max_pages"] and len(pages) > opts["max_pages"]:
        # Keep the most telling pages first: homepage, templates, level 2, then the random ones.
        rank = {"homepage": 0, "template": 1, "level2": 2, "random": 3}
        pages = sorted(pages, key=lambda p: (min(rank[r] for r in p.reasons), order[p.url]))[: opts["max_pages"]]
        pages.sort(key=lambda p: order[p.url])
    return Sample(mode, pages, len(rows), len(sizes), seed, opts["sample"], dict(sorted(sizes.items())),
                  excluded_error_pages=excluded)


def sample_for(site: Any, ctx: Any) -> Sample:
    """:func:`choose` once per audit: the a11y and 适老化 measure plugins share the sample (a
    20,000-page site is parsed once, not once per plugin).

    Cached on the site view, which the engine hands to every plugin of a stage, not on the context:
    each measure plugin gets a context of its own. The sample is chosen in the measure stage and
    stored (``a11y.sample``); checks read that record and never sample again."""

    cached = getattr(site, "_govaudit_a11y_sample", None)
    if cached is None:
        cached = choose(site, ctx.config)
        site._govaudit_a11y_sample = cached
    return cached
