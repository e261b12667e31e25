"""Text quality (issue #13): 错别字, 严重表述错误, 暗链 — precision first, because a false 严重问题 is a false veto.

Unit tests run the real check hook on in-memory pages (bench/text_quality.py's harness, national pack);
the end-to-end tests audit loopback sites through the CLI and read the 严重问题 veto item of the score.
Every test carries a trap that a naive substring matcher or a date-blind leader check would fail.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from bench.text_quality import AS_OF, _html, make_ctx, quality, run_page
from tests.support.servers import run_cli, serve
from tests.support.sites import Site


def _rules(html: str, ctx: Any = None) -> set[tuple[str, str]]:
    return {(f.rule, str(f.severity)) for f in run_page(html, "http://test.gov.cn/a/1.html", ctx or make_ctx())}


def test_generated_corpus_recall_and_no_finding_on_any_trap() -> None:
    q = quality(make_ctx())
    assert q["planted"] >= 400
    assert q["recall"] >= 0.95, q["missed"]
    assert q["false_findings"] == []


def test_a_correct_word_containing_the_pattern_is_not_a_typo() -> None:
    ctx = make_ctx()
    # trap: 发布署名 contains 布署, 按装修 contains 按装, 自己经常 contains 己经
    assert _rules(_html("<p>发布署名文章，按装修标准验收，自己经常下基层。</p>"), ctx) == set()
    got = run_page(_html("<p>会议对下一阶段工作作出布署。</p>"), "http://test.gov.cn/a/2.html", ctx)
    assert [(f.rule, str(f.severity), f.evidence["right"]) for f in got] == [("text.typo", "minor", "部署")]
    assert "作出布署" in got[0].evidence["sentence"] and got[0].evidence["field"] == "body"


def test_country_name_and_fixed_formulations_are_veto_class_ordinary_typos_minor() -> None:
    ctx = make_ctx()
    assert _rules(_html("<p>庆祝中华人民共合国成立77周年。</p>"), ctx) == {("text.typo", "veto")}
    assert _rules(_html("<p>深入开展扫黑险恶专项斗争。</p>"), ctx) == {("text.typo", "veto")}
    assert _rules(_html("<p>大家再接再励，争取更大成绩。</p>"), ctx) == {("text.typo", "minor")}
    # the title and the image alt are read too
    assert _rules(_html("<p>正文</p>", title="不忘出心 牢记使命"), ctx) == {("text.typo", "veto")}
    assert _rules(_html("<p>正文<img src='a.png' alt='放管复改革'></p>"), ctx) == {("text.typo", "veto")}


def test_leader_checks_are_judged_against_the_page_date() -> None:
    ctx = make_ctx()
    old = _html("<p>国务院总理李克强主持召开国务院常务会议。</p>", date="2019-05-08")
    new = _html("<p>国务院总理李克强主持召开国务院常务会议。</p>", date=(AS_OF - dt.timedelta(days=3)).isoformat())
    assert _rules(old, ctx) == set()  # trap: the leader of its day
    assert _rules(new, ctx) == {("text.misstatement", "minor")}
    assert _rules(_html("<p>时任国务院总理李克强来我县考察。</p>"), ctx) == set()
    assert _rules(_html("<p>国家主席习近乎出席。</p>"), ctx) == {("text.misstatement", "veto")}
    assert _rules(_html("<p>国务院副总理韩正出席会议。</p>"), ctx) == set()  # trap: 副总理 is not 总理
    # trap: a title the person did hold, on a page of its time or in a sentence that dates itself
    assert _rules(_html("<p>国家副主席习近平来我省考察。</p>", date="2010-05-01"), ctx) == set()
    assert _rules(_html("<p>2010年，国家副主席习近平来我省考察。</p>"), ctx) == set()
    # a wrong title is veto class only when someone else on the list holds it at the page's date
    assert _rules(_html("<p>李强总书记指出。</p>"), ctx) == {("text.misstatement", "veto")}


def test_a_long_form_whose_last_character_starts_a_word_is_not_a_typo() -> None:
    ctx = make_ctx()
    assert _rules(_html("<p>文章回顾了我国科学发展现状。</p>"), ctx) == set()  # not 科学发展观 (entry dropped)
    # the mechanism: 社会主义核心价值关|系 reads 关系, while 社会主义核心价值关。 is the typo
    assert _rules(_html("<p>正确处理社会主义核心价值关系。</p>"), ctx) == set()
    assert _rules(_html("<p>践行社会主义核心价值关。</p>"), ctx) == {("text.typo", "veto")}
    assert _rules(_html("<p>深入开展扫黑险恶专项斗争。</p>"), ctx) == {("text.typo", "veto")}


def test_taiwan_wording_and_the_quoted_historical_title() -> None:
    ctx = make_ctx()
    assert _rules(_html("<p>来自美国、日本、台湾等12个国家的客商参加。</p>"), ctx) == {("text.misstatement", "minor")}
    assert _rules(_html("<p>来自美国、日本、台湾等12个国家和地区的客商参加。</p>"), ctx) == set()
    assert _rules(_html("<p>展出“中华民国”时期档案和中华民国时期老照片。</p>"), ctx) == set()


def test_hidden_gambling_link_is_a_veto_and_a_hidden_menu_is_not() -> None:
    ctx = make_ctx()
    spam = "<div style='display:none'><a href='http://bet-x.com/'>百家乐娱乐城</a></div>"
    menu = ("<style>.sub{display:none}</style><ul class='sub'><li><a href='http://www.gov.cn/'>中国政府网</a></li>"
            "<li><a href='http://www.fujian.gov.cn/'>福建省人民政府</a></li></ul>")
    got = run_page(_html("<p>正文</p>" + spam), "http://test.gov.cn/a/3.html", ctx)
    assert [(f.rule, str(f.severity)) for f in got] == [("text.hidden_link", "veto")]
    assert got[0].evidence["technique"] == "display:none" and got[0].evidence["target"] == "http://bet-x.com/"
    assert _rules(_html("<p>正文</p>" + menu), ctx) == set()
    # trap: a legitimate lottery-office notice and an anti-gambling report name the words without being spam
    assert _rules(_html("<p>县福利彩票发行中心通知：严厉打击利用百家乐等形式组织网络赌博。</p>"), ctx) == set()


def test_the_allowlist_silences_a_confirmed_term() -> None:
    ctx = make_ctx()

    class Pack:
        def __init__(self, inner: Any):
            self.inner = inner

        def value(self, key: str, default: Any = None) -> Any:
            if key == "text.allowlist":
                return {"test.gov.cn": ["再接再励"]}
            return self.inner.value(key)

    html = _html("<p>大家再接再励。</p>")
    assert _rules(html, ctx) == {("text.typo", "minor")}
    ctx.pack = Pack(ctx.pack)
    assert _rules(html, ctx) == set()


# --- end to end ---------------------------------------------------------------------------------

def _page(title: str, body: str) -> str:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><div class='nav'>"
            f"<a href='/'>首页</a><a href='/news/1.html'>要闻</a></div><div class='content'>{body}</div>"
            f"<div class='footer'>主办单位：测试县人民政府</div></body></html>")


def _audit(tmp_path: Path, news: str) -> dict[str, Any]:
    site = Site()
    site.page("/", _page("测试县人民政府", f"<ul><li><a href='/news/1.html'>要闻</a> {AS_OF - dt.timedelta(days=2)}</li></ul>"))
    site.page("/news/1.html", _page("要闻", f"<h1>要闻</h1><p>发布时间：{AS_OF - dt.timedelta(days=2)}</p>{news}"))
    with serve(site) as srv:
        proc = run_cli("check", srv.base_url + "/", "--as-of", AS_OF.isoformat(), "--out", str(tmp_path / "r"),
                       "--db", str(tmp_path / "e.sqlite"), "--checks", "text", "--a11y", "off")
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))


def test_e2e_planted_formulation_error_triggers_the_serious_problem_veto(tmp_path: Path) -> None:
    report = _audit(tmp_path, "<p>我县召开扫黑险恶专项斗争推进会。</p>")
    items = {v["id"]: v for v in report["score"]["veto_items"]}
    assert items["serious_problem"]["state"] == "triggered"
    typo = [f for f in report["findings"] if f["rule"] == "text.typo"]
    assert typo and typo[0]["severity"] == "veto" and "扫黑除恶" in typo[0]["message_zh"]


def test_e2e_clean_government_text_leaves_the_veto_clear(tmp_path: Path) -> None:
    report = _audit(tmp_path, "<p>县人民检察院召开座谈会，安排部署扫黑除恶常态化工作，坚持不忘初心、牢记使命。"
                              "发布署名文章，按装修标准验收。</p>")
    items = {v["id"]: v for v in report["score"]["veto_items"]}
    assert items["serious_problem"]["state"] == "clear"
    assert [f for f in report["findings"] if f["rule"].startswith("text.")] == []


def test_a_hit_across_a_word_boundary_is_not_a_typo() -> None:
    """Straddles seen in real Chinese text (GitHub code search for the wrong forms): 按|排序, 按|置信度,
    可以|经常, 所以|经过, 检查|院系, 回复|盖住. A plain substring or ok-word list flags every one."""

    from auditor.checks.text import _default_matcher

    m = _default_matcher()
    for clean in ("结果按排序规则排列", "按置信度排序", "你就可以经常说中文", "所以经过不断地入栈出栈",
                  "检查院系是否存在", "把一条回复盖住名字", "立即然后执行"):
        assert [e["wrong"] for _p, e in m.find(clean)] == [], clean
    for typo, wrong in (("要求数组中元素己经按升序排列", "己经"), ("即然这样，就开始吧", "即然"), ("新版复盖了全部区域", "复盖"),
                        ("请按排工作", "按排")):
        assert [e["wrong"] for _p, e in m.find(typo)] == [wrong], typo


def test_docx_attachment_text_is_checked() -> None:
    import io
    import zlib

    import docx

    from auditor.checks import text
    from auditor.context import PageView

    doc = docx.Document()
    doc.add_paragraph("关于深入开展扫黑险恶专项斗争的实施方案")
    doc.add_paragraph("发布署名文章，按装修标准验收。")  # trap: no finding from this line
    buf = io.BytesIO()
    doc.save(buf)
    row = {"url": "http://test.gov.cn/f/1.docx", "body": zlib.compress(buf.getvalue()), "kind": "docx", "status": 200}
    got = list(text.govaudit_check_page(PageView(row), make_ctx()))
    assert [(f.rule, str(f.severity), f.evidence["field"]) for f in got] == [("text.typo", "veto", "attachment")]


def _cloak_site(spam_for_spider: bool) -> Site:
    normal = _page("测试县人民政府", f"<p>发布时间：{AS_OF - dt.timedelta(days=1)}</p><p>欢迎访问测试县人民政府网站。</p>")
    spam = _page("澳门葡京娱乐城_百家乐开户送彩金", "<p>真人百家乐 线上赌场</p>")

    def home(req: Any) -> tuple[int, dict[str, str], str]:
        ua = req.headers.get("user-agent", "").lower()
        return 200, {"Content-Type": "text/html; charset=utf-8"}, spam if spam_for_spider and "spider" in ua else normal

    site = Site()
    site.handler("/", home)
    return site


def _cloak_audit(tmp_path: Path, site: Site) -> dict[str, Any]:
    with serve(site) as srv:
        proc = run_cli("check", srv.base_url + "/", "--as-of", AS_OF.isoformat(), "--out", str(tmp_path / "r"),
                       "--db", str(tmp_path / "e.sqlite"), "--checks", "text", "--a11y", "off")
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))


def test_e2e_cloaking_served_only_to_a_search_engine_is_a_veto(tmp_path: Path) -> None:
    report = _cloak_audit(tmp_path, _cloak_site(spam_for_spider=True))
    cloak = [f for f in report["findings"] if f["rule"] == "text.hidden_link"]
    assert [f["severity"] for f in cloak] == ["veto"], report["findings"]
    assert cloak[0]["evidence"]["technique"] == "cloaking (spider)" and "gambling" in cloak[0]["evidence"]["categories"]
    # trap: the same site serving one page to everyone has no finding
    report = _cloak_audit(tmp_path / "b", _cloak_site(spam_for_spider=False))
    assert [f for f in report["findings"] if f["rule"].startswith("text.")] == []


def test_local_leaders_from_the_pack_are_minor_and_never_make_a_national_title_veto() -> None:
    ctx = make_ctx()

    class Pack:
        def __init__(self, inner: Any):
            self.inner = inner

        def value(self, key: str, default: Any = None) -> Any:
            if key == "text.local_leaders":
                return [{"name": "张三丰", "titles": [{"title": "县长", "from": "2024-01-10", "to": None}],
                         "certainty": "local", "source": "县政府办公室提供"}]
            return self.inner.value(key)

    ctx.pack = Pack(ctx.pack)
    assert _rules(_html("<p>张三丰县长主持召开常务会议。</p>"), ctx) == set()
    # a miswritten local name is minor (the previous 县长 may be named so); an old page is judged by its date
    assert _rules(_html("<p>张三风县长主持召开常务会议。</p>"), ctx) == {("text.misstatement", "minor")}
    assert _rules(_html("<p>县长张三丰调研。</p>", date="2022-05-01"), ctx) == {("text.misstatement", "minor")}
    # trap: a national leader's common name with a local title is not a wrong-title veto
    assert _rules(_html("<p>李强县长调研。</p>"), ctx) == set()
