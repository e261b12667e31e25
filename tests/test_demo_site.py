"""The bundled demo site (auditor/demo/site.py): what ``govaudit demo`` serves must be what it claims."""

from __future__ import annotations

import datetime as dt
import http.client
import io
from urllib.parse import quote, urlsplit

import lxml.html
import pytest

from auditor.crawl.extract import attachment_links, attachment_text
from auditor.demo.site import HOST, MISSING_COLUMNS, build_demo_site, serve_demo
from auditor.rulepacks import load_pack

AS_OF = dt.date(2026, 11, 22)


@pytest.fixture(scope="module")
def demo():
    with serve_demo(as_of=AS_OF) as srv:
        yield srv


def _get(srv, url_or_path: str, method: str = "GET", host: str = HOST):
    parts = urlsplit(url_or_path)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    c.request(method, path, headers={"Host": f"{parts.hostname or host}:{srv.port}"})
    r = c.getresponse()
    return r, r.read()


def test_url_and_resolve_mapping(demo) -> None:
    assert demo.url == f"http://{HOST}:{demo.port}/"
    assert demo.resolve[HOST] == "127.0.0.1"
    assert "--resolve" in demo.resolve_args() and f"{HOST}=127.0.0.1" in demo.resolve_args()
    for name in demo.resolve:  # every stand-in host answers on the same port, and 404s unknown paths
        r, _ = _get(demo, "/", host=name)
        assert r.status == 200, name
        r, _ = _get(demo, "/govaudit-calibration-probe.html", host=name)
        assert r.status == 404, name


def test_homepage_meta_footer_and_head(demo) -> None:
    r, body = _get(demo, "/")
    assert r.status == 200 and r.getheader("Content-Type") == "text/html; charset=utf-8"
    text = body.decode("utf-8")
    tree = lxml.html.document_fromstring(text)
    meta = {m.get("name"): m.get("content") for m in tree.iter("meta") if m.get("name")}
    assert meta["SiteName"] == "示范县人民政府" and meta["SiteIDCode"] == "3699990001" and meta["SiteDomain"] == HOST
    footer = tree.find(".//footer").text_content()
    for needle in ("网站标识码：3699990001", "赣ICP备20000001号-1", "公网安备", "主办单位：示范县人民政府办公室", "联系电话"):
        assert needle in footer
    h, hbody = _get(demo, "/", "HEAD")
    assert h.status == 200 and hbody == b"" and h.getheader("Content-Length") == str(len(body))


def test_gbk_pages_by_header_and_by_meta_only(demo) -> None:
    notices = [a for a in demo.demo.articles if a.column == "通知公告"]
    r, body = _get(demo, notices[0].path)
    assert r.getheader("Content-Type") == "text/html; charset=gbk"
    assert notices[0].title in body.decode("gbk")
    r, body = _get(demo, "/xxgk/index.html")
    assert r.getheader("Content-Type") == "text/html"  # charset only in <meta>
    assert b'charset=gbk' in body and "法定主动公开内容" in body.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_article_meta_and_document_table(demo) -> None:
    docs = [a for a in demo.demo.articles if a.column == "行政规范性文件"]
    assert len(docs) == 5 and {dict(d.table)["有效性"] for d in docs} == {"有效", "失效"}
    r, body = _get(demo, docs[0].path)
    tree = lxml.html.document_fromstring(body.decode("gbk"))
    meta = {m.get("name"): m.get("content") for m in tree.iter("meta") if m.get("name")}
    assert meta["ArticleTitle"] == docs[0].title and meta["PubDate"].startswith(f"{docs[0].published:%Y-%m-%d}")
    cells = [c.text_content() for c in tree.iter("th")]
    for label in ("索引号", "发布机构", "成文日期", "文号", "发布日期", "有效性"):
        assert label in cells
    assert any("示府规〔" in (td.text_content() or "") for td in tree.iter("td"))


def test_dates_follow_as_of() -> None:
    later = build_demo_site(AS_OF + dt.timedelta(days=100))
    now = build_demo_site(AS_OF)
    newest = max(a.published for a in now.articles if a.column == "政务要闻")
    assert newest.date() == AS_OF - dt.timedelta(days=1)
    assert max(a.published for a in later.articles if a.column == "政务要闻").date() == AS_OF + dt.timedelta(days=99)
    stale = max(a.published for a in now.articles if a.column == "乡镇动态")
    assert (AS_OF - stale.date()).days > 14  # planted stale column


def test_pagination(demo) -> None:
    _, first = _get(demo, "/zwdt/zwyw/index.html")
    assert "第1/3页" in first.decode() and "/zwdt/zwyw/index_1.html" in first.decode()
    r, last = _get(demo, "/zwdt/zwyw/index_2.html")
    assert r.status == 200 and "第3/3页" in last.decode()


def test_attachments_parse_with_links(demo) -> None:
    doc = next(a for a in demo.demo.articles if a.attachments and a.attachments[0][1].endswith(".pdf"))
    r, body = _get(demo, doc.attachments[0][1])
    assert r.getheader("Content-Type") == "application/pdf"
    assert "示范县城乡居民基本医疗保险实施办法" in attachment_text("pdf", body)
    pdf_links = attachment_links("pdf", body)
    assert f"http://{HOST}:{demo.port}/zwfw/ybfw/2019/bszn.html" in pdf_links
    r, body = _get(demo, "/xxgk/ysqgk/P020240301512345678901.docx")
    assert "wordprocessingml" in r.getheader("Content-Type")
    assert f"http://{HOST}:{demo.port}/xxgk/ysqgk/wssq_old.html" in attachment_links("docx", body)
    import docx

    assert docx.Document(io.BytesIO(body)).paragraphs[0].text == "示范县政府信息公开申请表"


def test_planted_dead_links_behave_as_planted(demo) -> None:
    reasons = {p.reason for p in demo.demo.planted}
    assert reasons == {"http_status", "dns", "soft_404"}
    for p in demo.demo.planted:
        assert p.sources, p.url
        if p.reason == "dns":
            assert urlsplit(p.url).hostname.endswith(".invalid")
            continue
        r, body = _get(demo, p.url)
        if p.reason == "http_status":
            assert r.status in (404, 500), p.url
        elif r.status == 302:
            r, body = _get(demo, r.getheader("Location"))
            assert r.status == 200 and "页面不存在" in body.decode()
        else:
            assert r.status == 200 and "页面不存在" in body.decode()
        for src in p.sources:  # every listed source really links to it
            sr, sbody = _get(demo, src)
            assert sr.status == 200
    r, body = _get(demo, "/no/such/page.html")
    assert r.status == 404 and "页面不存在" in body.decode()
    assert any(p.sources == [f"http://{HOST}:{demo.port}/"] for p in demo.demo.planted if p.reason == "http_status")


def test_chinese_urls(demo) -> None:
    for path in ("/专题专栏/营商环境/index.html", quote("/专题专栏/营商环境/政策汇编.html")):
        r, _ = _get(demo, quote(path) if "%" not in path else path)
        assert r.status == 200, path


def test_missing_columns_really_missing() -> None:
    """The two omitted columns must not be findable by any synonym anywhere on the site."""

    pack = load_pack("national")
    catalogue = {c["name"]: c for c in pack.columns_for("county")}
    demo = build_demo_site(AS_OF)
    anchors = []
    for route in demo.main.routes.values():
        ctype = {k.lower(): v for k, v in route.headers}.get("content-type", "")
        if route.kind == "static" and "html" in ctype:
            enc = "gbk" if b"charset=gb" in route.body else "utf-8"
            tree = lxml.html.document_fromstring(route.body.decode(enc, errors="replace"))
            anchors += [a.text_content() for a in tree.iter("a")]
    for missing in MISSING_COLUMNS:
        col = next(c for name, c in catalogue.items() if missing in name or name in missing)
        for syn in col["synonyms"]:
            assert not [a for a in anchors if syn in a], (missing, syn)
    present = [c for c in catalogue.values() if not any(m in c["name"] or c["name"] in m for m in MISSING_COLUMNS)]
    for col in present:
        assert any(syn in a for a in anchors for syn in col["synonyms"]), col["name"]
