"""Page sampling for the browser checks: templates by DOM structure, top levels, seeded random sample."""

from __future__ import annotations

import lxml.html
import pytest

from auditor.config import AuditConfig
from auditor.context import PageView, SiteView
from auditor.measure.sampling import SamplingError, choose, group_templates, jaccard, structure_signature
from auditor.model import LinkResult, Verdict
from auditor.store.database import EvidenceStore
from tests.sites.a11y_fixture import page_html

BASE = "http://www.sample-county.gov.cn"


def _article(n: int) -> str:
    return page_html(f"第{n}号文章", f'<article class="art"><h1>第{n}号文章</h1><p class="meta">发布时间：2024-01-{n % 28 + 1:02d}</p>'
                     + "".join(f"<p>第{i}段内容。</p>" for i in range(n % 7 + 1)) + "</article>", planted=False)


def _list(n: int, items: int) -> str:
    lis = "".join(f'<li><a href="/a/{i}.html">标题{i}</a><span>2024-01-01</span></li>' for i in range(items))
    return page_html(f"栏目{n}", f'<div class="column-list"><h2>栏目{n}</h2><ul class="list">{lis}</ul><div class="pager">'
                     '<a href="?p=2">下一页</a></div></div>', planted=False)


def _form() -> str:
    return page_html("我要写信", '<form class="letter"><table class="form-table"><tr><th>姓名</th><td><input name="n"></td></tr>'
                     '<tr><th>内容</th><td><textarea name="c"></textarea></td></tr></table><button>提交</button></form>', planted=False)


def _video() -> str:
    return page_html("视频新闻", '<section class="video-box"><video controls src="/v.mp4"></video><dl class="video-info"><dt>标题</dt>'
                     "<dd>视频新闻</dd></dl></section>", planted=False)


@pytest.fixture
def site(tmp_path) -> SiteView:
    """A homepage, 4 level-2 column pages, 120 articles, and two rare templates deep in the site."""

    store = EvidenceStore(tmp_path / "s.sqlite")
    run_id = store.start_run("www.sample-county.gov.cn", BASE + "/", "2024-06-01", {}, "test")

    def add(path: str, html: str, depth: int, status: int = 200) -> None:
        store.add_page(run_id, BASE + path, BASE + path, status, "text/html; charset=utf-8", "utf-8", depth, "", "html",
                       html.encode())

    add("/", page_html("首页", "<div class='home-news'><h2>要闻</h2><ul><li>要闻一</li></ul></div>", planted=False), 0)
    for n in range(4):
        add(f"/col{n}/index.html", _list(n, 5 + 10 * n), 1)
    for n in range(120):
        add(f"/a/{n}.html", _article(n), 2 + n % 3)
    add("/hdjl/letter.html", _form(), 4)
    add("/sp/video.html", _video(), 5)
    add("/a/broken.html", "<html><body>gone</body></html>", 2, status=404)
    store.add_page(run_id, BASE + "/f.pdf", BASE + "/f.pdf", 200, "application/pdf", None, 2, "", "pdf", b"%PDF-1.4")
    store.finish_run(run_id, "complete", {"homepage_url": BASE + "/"}, {})
    return SiteView(store, store.get_run(run_id))


def _config(**a11y: object) -> AuditConfig:
    return AuditConfig(as_of="2026-11-22", url=BASE + "/", plugin_options={"a11y": dict(a11y)} if a11y else {})


def test_signature_ignores_repetition_and_text() -> None:
    short = structure_signature(lxml.html.document_fromstring(_list(1, 3)))
    long = structure_signature(lxml.html.document_fromstring(_list(2, 40)))
    art = structure_signature(lxml.html.document_fromstring(_article(3)))
    assert short == long  # same template, different list lengths and texts
    assert jaccard(short, art) < 0.7
    groups = group_templates([("l1", short), ("a", art), ("l2", long)])
    assert groups["l1"] == groups["l2"] != groups["a"]


def test_sample_covers_top_levels_every_template_and_a_seeded_sample(site: SiteView) -> None:
    sample = choose(site, _config(sample=10))
    urls = sample.urls
    by_url = {p.url: p for p in sample.pages}
    assert BASE + "/" in urls and "homepage" in by_url[BASE + "/"].reasons
    for n in range(4):
        assert "level2" in by_url[f"{BASE}/col{n}/index.html"].reasons
    # The rare templates deep in the site are found by structure, not by URL or depth.
    assert "template" in by_url[BASE + "/hdjl/letter.html"].reasons
    assert "template" in by_url[BASE + "/sp/video.html"].reasons
    # The 120 articles are one template: one representative plus the random sample of 10.
    articles = [u for u in urls if "/a/" in u]
    assert sum("template" in by_url[u].reasons for u in articles) == 1
    assert len([u for u in urls if "random" in by_url[u].reasons]) == 10
    assert BASE + "/a/broken.html" not in urls and BASE + "/f.pdf" not in urls
    assert sample.templates == 5  # home, list, article, form, video
    assert sample.population == 127
    # Deterministic: the same crawl gives the same sample; another seed another one.
    assert choose(site, _config(sample=10)).urls == urls
    assert choose(site, _config(sample=10, seed="other")).urls != urls


def test_mode_all_off_and_cap(site: SiteView) -> None:
    assert len(choose(site, _config(mode="all")).urls) == 127
    assert choose(site, _config(mode="off")).urls == []
    capped = choose(site, _config(sample=50, max_pages=8))
    assert len(capped.urls) == 8
    reasons = [r for p in capped.pages for r in p.reasons]
    assert "random" not in reasons  # the cap drops the random pages first
    assert {BASE + "/", BASE + "/hdjl/letter.html", BASE + "/sp/video.html"} <= set(capped.urls)


def test_bad_options_are_refused(site: SiteView) -> None:
    with pytest.raises(SamplingError):
        choose(site, _config(mode="everything"))
    with pytest.raises(SamplingError):
        choose(site, _config(sample="many"))


def test_toml_plugin_table_and_cli_mode_merge(site: SiteView, tmp_path) -> None:
    """``[plugins.a11y] sample = N`` from the config file; ``--a11y MODE`` on top keeps it."""

    from auditor.config import build_config, load_config_file

    toml = tmp_path / "govaudit.toml"
    toml.write_text('[plugins.a11y]\nsample = 3\nseed = "2024-06"\n', "utf-8")
    cfg = build_config(load_config_file(toml), {"url": BASE + "/", "as_of": "2026-11-22"})
    cfg.plugin_options.setdefault("a11y", {}).update({"mode": "sample"})  # what the CLI does for --a11y
    sample = choose(site, cfg)
    assert sample.sample_size == 3 and sample.seed == "2024-06"
    assert len([p for p in sample.pages if "random" in p.reasons]) == 3


def _with_dead_pages(site: SiteView) -> SiteView:
    """The fixture plus what the crawl stores for a removed page on a CMS that answers 200: a page
    in a template of its own (the error page) that the link checker judged a soft 404, and a page
    whose link once timed out elsewhere (a network failure says nothing about the stored page)."""

    store = site.store._store  # the crawl's writable store: a site view only reads (StoreReader)
    gone = page_html("页面不存在", "<div class='error-box'><h1>页面不存在</h1><p><a href='/'>返回首页</a></p></div>", planted=False)
    store.add_page(site.run_id, BASE + "/a/gone.html", BASE + "/a/gone.html", 200, "text/html; charset=utf-8", "utf-8", 1, "",
                   "html", gone.encode())
    store.add_link_result(site.run_id, LinkResult(BASE + "/a/gone.html", Verdict.DEAD, "soft_404", 200, BASE + "/a/gone.html"))
    store.add_link_result(site.run_id, LinkResult(BASE + "/a/3.html", Verdict.DEAD, "timeout"))
    store.add_link_result(site.run_id, LinkResult(BASE + "/a/4.html", Verdict.UNVERIFIABLE, "catch_all", 200))
    store.flush()
    return SiteView(store, store.get_run(site.run_id))


def test_soft_404_pages_are_never_sampled(site: SiteView) -> None:
    site = _with_dead_pages(site)
    gone = BASE + "/a/gone.html"
    for config in (_config(sample=10), _config(mode="all"), _config(sample=500)):
        sample = choose(site, config)
        # At depth 1 with a template of its own it would be taken twice over (level2, template).
        assert gone not in sample.urls
        assert sample.population == 127
        assert sample.summary()["excluded_error_pages"] == 2  # the soft 404 and the stored HTTP 404
    assert BASE + "/a/3.html" in choose(site, _config(mode="all")).urls  # timed out once ≠ dead page
    assert BASE + "/a/4.html" in choose(site, _config(mode="all")).urls  # catch-all: unverifiable, not dead


def test_page_view_error_verdicts(site: SiteView) -> None:
    """One shared answer: HTTP error status, or a soft-404/HTTP-status verdict of the link checker,
    with or without a site view (a page read straight from the store knows it too)."""

    site = _with_dead_pages(site)
    assert site.page(BASE + "/a/broken.html").error_reason == "http_404"
    assert site.page(BASE + "/a/gone.html").error_reason == "soft_404"
    assert not site.page(BASE + "/a/3.html").is_error_page
    assert not site.page(BASE + "/a/4.html").is_error_page
    assert site.error_pages == {BASE + "/a/gone.html": "soft_404"}
    row = site.store.get_page(site.run_id, BASE + "/a/gone.html")
    assert PageView(row, site.store, site.run_id).is_error_page
    assert not PageView(row).is_error_page  # no store, no verdicts: status alone
    live = {p.url for p in site.live_pages("html")}
    assert BASE + "/a/gone.html" not in live and BASE + "/a/broken.html" not in live and len(live) == 127
