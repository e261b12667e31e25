"""Site identity: meta tags and footer items, reported once per site-wide pattern.

Sites are built from one page template, as real CMS sites are, with a few pages that deviate; the
real CLI crawls them from a loopback server.
"""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from auditor.checks import identity
from auditor.rulepacks import load_pack
from tests.support import Site, dns_server, run_cli, serve

HOST = "www.ident.gov.cn"
CODE = "6301000001"
FOOTER = (
    "<div class='footer'><p>主办单位：某某县人民政府办公室　联系电话：0971-1234567</p>"
    "<p>网站标识码：{code}　<a href='https://beian.miit.gov.cn/'>青ICP备12345678号-1</a>　"
    "<a href='http://www.beian.gov.cn/'>青公网安备 63010002000001号</a></p>"
    "<a href='https://bszs.conac.cn/sitename?method=show&id=ABCDEF'><img src='https://dcs.conac.cn/image/red.png' alt='党政机关'></a>"
    "<a href='https://zfwzzc.www.gov.cn/check_web/errorInfo_querySiteInfo.action?id=X'>我为政府网站找错</a></div>"
)


def page(title: str, body: str, meta: dict[str, str], footer: str) -> str:
    tags = "".join(f"<meta name='{k}' content='{v}'>" for k, v in meta.items())
    return (f"<html><head><meta charset='utf-8'><title>{title}</title>{tags}</head><body>"
            f"<div class='main'><h1>{title}</h1>{body}</div>{footer}</body></html>")


def site_meta(code: str = CODE) -> dict[str, str]:
    return {"SiteName": "某某县人民政府", "SiteDomain": HOST, "SiteIDCode": code}


def build(columns: int = 3, articles: int = 4, footer: str = FOOTER.format(code=CODE), meta_code: str = CODE,
          deviations: dict[str, dict[str, str]] | None = None) -> Site:
    """Homepage → column list pages → article pages. ``deviations`` maps a path to
    ``{"drop_meta": "PubDate", "footer": "<div class='footer'>…</div>"}``."""

    deviations = deviations or {}
    site = Site("ident")

    def add(path: str, title: str, body: str, meta: dict[str, str]) -> None:
        dev = deviations.get(path, {})
        meta = {k: v for k, v in meta.items() if k != dev.get("drop_meta")}
        site.page(path, page(title, body, meta, dev.get("footer", footer)))

    col_links = "".join(f"<li><a href='/col/c{c}/index.html'>栏目{c}</a></li>" for c in range(columns))
    add("/", "某某县人民政府", f"<ul>{col_links}</ul>", site_meta(meta_code))
    for c in range(columns):
        items = "".join(f"<li><a href='/art/2024/t2024010{a}_{c}{a}.html'>通知{c}-{a}</a><span>2024-01-0{a}</span></li>"
                        for a in range(1, articles + 1))
        add(f"/col/c{c}/index.html", f"栏目{c}", f"<ul>{items}</ul>",
            {**site_meta(meta_code), "ColumnName": f"栏目{c}", "ColumnDescription": "说明", "ColumnKeywords": "关键词",
             "ColumnType": "列表"})
        for a in range(1, articles + 1):
            add(f"/art/2024/t2024010{a}_{c}{a}.html", f"通知{c}-{a}",
                "<p>发布时间：2024-01-05　来源：县政府办</p><p>正文内容。</p>",
                {**site_meta(meta_code), "ColumnName": f"栏目{c}", "ArticleTitle": f"通知{c}-{a}",
                 "PubDate": "2024-01-05 09:00", "ContentSource": "县政府办"})
    return site


def audit(tmp_path: Path, site: Site) -> dict:
    with serve(site) as srv, dns_server({HOST: ["127.0.0.1"]}) as dns:
        r = run_cli("check", f"http://{HOST}:{srv.port}/", "--out", str(tmp_path / "out"), "--db", str(tmp_path / "a.sqlite"),
                    "--dns-server", dns, "--checks", "identity", "--as-of", "2024-06-03")
    assert r.returncode in (0, 1), r.stderr + r.stdout
    return json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))


def by_rule(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


def test_compliant_site_has_no_identity_findings(tmp_path: Path) -> None:
    report = audit(tmp_path, build())
    assert report["stats"]["pages"] == 1 + 3 + 12
    assert by_rule(report) == {}, [f["message"] for f in report["findings"]]


def test_site_wide_patterns_once_and_deviating_pages_individually(tmp_path: Path) -> None:
    # The template has no 公安备案号, and its SiteIDCode tag disagrees with the footer code;
    # two articles lack PubDate; one column page has a footer without the ICP number.
    footer = FOOTER.format(code=CODE).replace("<a href='http://www.beian.gov.cn/'>青公网安备 63010002000001号</a>", "")
    odd_footer = footer.replace("青ICP备12345678号-1", "备案信息")
    site = build(footer=footer, meta_code="6301000002", deviations={
        "/art/2024/t20240101_01.html": {"drop_meta": "PubDate"},
        "/art/2024/t20240102_12.html": {"drop_meta": "PubDate"},
        "/col/c2/index.html": {"footer": odd_footer},
    })
    report = audit(tmp_path, site)
    found = by_rule(report)
    # 16 pages miss the 公安备案号: one finding, not sixteen.
    [psb] = found["identity.psb_missing"]
    assert psb["evidence"]["pattern"] == "site" and psb["evidence"]["page_count"] == 16
    assert psb["evidence"]["checked_pages"] == 16 and len(psb["evidence"]["pages"]) == 16
    assert psb["url"].endswith(":" + psb["url"].split(":")[-1]) and psb["url"].rstrip("/").count("/") == 2  # homepage first
    # The mismatch between footer and SiteIDCode is one site-level finding.
    [mm] = found["identity.site_code_mismatch"]
    assert mm["evidence"]["mismatched_count"] == 16
    assert mm["evidence"]["codes"] == {CODE: 16, "6301000002": 16}
    # Deviations from a site that otherwise gets it right: per page.
    pub = found["identity.meta_missing"]
    assert sorted(f["url"].split("/", 3)[3] for f in pub) == ["art/2024/t20240101_01.html", "art/2024/t20240102_12.html"]
    assert all(f["evidence"]["tag"] == "PubDate" and f["evidence"]["pattern"] == "page" for f in pub)
    assert pub[0]["evidence"]["checked_pages"] == 12
    [icp] = found["identity.icp_missing"]
    assert icp["url"].endswith("/col/c2/index.html") and icp["evidence"]["pattern"] == "page"
    assert set(found) == {"identity.psb_missing", "identity.site_code_mismatch", "identity.meta_missing", "identity.icp_missing"}


def test_missing_everything_and_a_malformed_code(tmp_path: Path) -> None:
    bare = "<div class='footer'><p>版权所有 网站标识码：12345</p></div>"
    site = build(columns=1, articles=2, footer=bare, meta_code="")
    report = audit(tmp_path, site)
    found = by_rule(report)
    for rule in ("identity.icp_missing", "identity.psb_missing", "identity.sponsor_missing", "identity.contact_missing",
                 "identity.conac_missing", "identity.findfault_missing"):
        [f] = found[rule]
        assert f["evidence"]["page_count"] == 4, rule
    [invalid] = found["identity.site_code_invalid"]
    assert invalid["evidence"]["code"] == "12345" and invalid["evidence"]["page_count"] == 4
    [site_code_meta] = [f for f in found["identity.meta_missing"] if f["evidence"]["tag"] == "SiteIDCode"]
    assert site_code_meta["evidence"]["pattern"] == "site" and site_code_meta["evidence"]["page_count"] == 4
    assert found["identity.findfault_missing"][0]["severity"] == "info"


# --- pieces --------------------------------------------------------------------------------------

def test_footer_regexes() -> None:
    text = "主办：某某市人民政府 网站标识码：bm09000001 京ICP备05070218号-2 京公网安备11010202000001号 电话：010-12345678"
    pattern = identity._site_code_pattern(load_pack("national").value("identity.site_code_pattern"))
    assert pattern.search(text).group(1) == "bm09000001"
    assert identity.CODE_VALID.match("bm09000001") and identity.CODE_VALID.match("1304000009")
    assert not identity.CODE_VALID.match("130400000") and not identity.CODE_VALID.match("bm0900000")
    assert identity.ICP.search(text).group(0) == "京ICP备05070218号-2"
    assert identity.PSB.search(text).group(0) == "京公网安备11010202000001号"
    assert identity.SPONSOR.search(text) and identity.PHONE.search(text)
    assert not identity.PSB.search("京公网安备1101020200号")  # 14 digits required


def test_footer_text_prefers_footer_elements() -> None:
    tree = lxml.html.document_fromstring(
        "<html><body><div id='content'>正文 网站标识码：1111111111</div>"
        "<div id='bottom'><div class='copyright'>网站标识码：2222222222</div></div></body></html>")
    text, found = identity.footer_text(tree)
    assert found and "2222222222" in text and "1111111111" not in text
    tree = lxml.html.document_fromstring("<html><body><p>正文</p><p>网站标识码：3333333333</p></body></html>")
    text, found = identity.footer_text(tree)
    assert not found and "3333333333" in text


# --- dead pages: no derived findings ---------------------------------------------------------------

SOFT_404 = ("<html><head><meta charset='utf-8'><title>页面不存在</title></head><body><div class='err'>"
            "<h1>抱歉，您访问的页面不存在或已删除</h1><a href='/'>返回首页</a></div></body></html>")
DEAD_ARTICLE = "/art/2023/t20230105_99.html"  # linked from a column page, served by the soft-404 fallback
BARE_FOOTER = "<div class='footer'><p>版权所有</p></div>"


def soft404_site() -> Site:
    """The compliant template, plus: a CMS that answers every unknown path 200 with its error page
    (so the host's calibration sees the same page), one column linking to a removed article, and one
    live column page with the same defects the error page has (bare footer, no SiteName tag)."""

    site = build(columns=2, articles=2, deviations={"/col/c1/index.html": {"footer": BARE_FOOTER, "drop_meta": "SiteName"}})
    home = site.routes["/col/c0/index.html"].body.decode()
    site.page("/col/c0/index.html", home.replace("</ul>", f"<li><a href='{DEAD_ARTICLE}'>往年通知</a></li></ul>", 1))
    site.fallback(lambda req: (200, {"Content-Type": "text/html; charset=utf-8"}, SOFT_404))
    return site


@pytest.fixture(scope="module")
def soft404_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("soft404")
    with serve(soft404_site()) as srv, dns_server({HOST: ["127.0.0.1"]}) as dns:
        r = run_cli("check", f"http://{HOST}:{srv.port}/", "--out", str(tmp / "out"), "--db", str(tmp / "a.sqlite"),
                    "--dns-server", dns, "--checks", "identity", "--checks", "links", "--a11y", "off",
                    "--as-of", "2024-06-03")
        assert r.returncode in (0, 1), r.stderr + r.stdout
    report = json.loads((tmp / "out" / "report.json").read_text(encoding="utf-8"))
    return {"report": report, "db": tmp / "a.sqlite", "base": f"http://{HOST}:{srv.port}"}


def test_soft_404_page_gets_no_identity_findings_but_a_live_page_with_the_same_defects_does(soft404_run: dict) -> None:
    report, base = soft404_run["report"], soft404_run["base"]
    dead = base + DEAD_ARTICLE
    found = by_rule(report)
    # The link checker judged it a soft 404 against the host's calibration: that is the one finding.
    [link] = [f for f in found["links.dead"] if f["url"] == dead]
    assert "软404" in link["message"] or link["evidence"].get("reason") == "soft_404", link
    identity_findings = [f for rule, fs in found.items() if rule.startswith("identity.") for f in fs]
    assert identity_findings, "the live page's defects must still be reported"
    assert not [f for f in identity_findings if f["url"] == dead], [f["message"] for f in identity_findings if f["url"] == dead]
    live = base + "/col/c1/index.html"
    for rule in ("identity.icp_missing", "identity.psb_missing", "identity.sponsor_missing", "identity.contact_missing",
                 "identity.conac_missing", "identity.findfault_missing", "identity.site_code_missing"):
        [f] = found[rule]
        assert f["url"] == live and f["evidence"]["pattern"] == "page", rule
        assert f["evidence"]["checked_pages"] == 7 and f["evidence"]["error_pages_excluded"] == 1, rule
    [meta] = [f for f in found["identity.meta_missing"] if f["evidence"]["tag"] == "SiteName"]
    assert meta["url"] == live
    assert {f["url"] for f in identity_findings} == {live}


def test_error_pages_are_never_sampled_for_the_browser_checks(soft404_run: dict) -> None:
    from auditor.config import AuditConfig
    from auditor.context import SiteView
    from auditor.measure.sampling import choose
    from auditor.store.database import EvidenceStore

    base = soft404_run["base"]
    store = EvidenceStore(soft404_run["db"])
    site = SiteView(store, store.get_run(soft404_run["report"]["run_id"]))
    dead = base + DEAD_ARTICLE
    page = site.page(dead)
    assert page is not None and page.status == 200 and page.is_error_page and page.error_reason == "soft_404"
    assert not site.page(base + "/col/c1/index.html").is_error_page
    assert dead not in {p.url for p in site.live_pages()} and len(list(site.live_pages("html"))) == 7
    for mode in ("sample", "all"):
        sample = choose(site, AuditConfig(url=base + "/", as_of="2024-06-03", plugin_options={"a11y": {"mode": mode}}))
        # The error template is unlike every other page: a template sample would pick it first.
        assert dead not in sample.urls, mode
        assert base + "/col/c1/index.html" in sample.urls, mode
        assert sample.population == 7 and sample.summary()["excluded_error_pages"] == 1, mode
    store.close()


# --- bases: official sources only ----------------------------------------------------------------

BANNED_SOURCES = ("rules.md", "31ppt", "book118", "kunmingchi", "guokeyun", "szab.net", "sntec", "einc2018", "§")


def test_rule_bases_and_pack_sources_cite_official_documents_only() -> None:
    """A basis names a regulation, a 国办 document or a standard — never an internal note
    (rules.md §…) or a commercial / mirror site."""

    from auditor.checks import availability, ipv6, privacy, security
    from auditor.rulepacks import load_pack

    rules = [r for mod in (privacy, identity, availability, ipv6, security) for r in mod.govaudit_rules()]
    assert len(rules) >= 20
    for rule in rules:
        text = " ".join((rule.basis.zh, rule.basis.en, rule.basis.source))
        assert not [b for b in BANNED_SOURCES if b in text], (rule.id, text)
        assert rule.basis.source, rule.id
        if rule.basis.status == "unconfirmed":
            assert "未核实" in rule.basis.zh + rule.basis.source or "not a national" in rule.basis.en \
                or "非国家" in rule.basis.zh + rule.basis.source, rule.id
    pack = load_pack("national")
    for key, entry in pack.values.items():
        if key.startswith(("privacy.", "identity.")):
            text = entry["source"] + " " + entry.get("note", "")
            assert not [b for b in BANNED_SOURCES if b in text], (key, text)
    import auditor.measure.monitor as monitor
    assert "rules.md" not in (monitor.__doc__ or "")
