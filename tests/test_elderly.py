"""适老化 checks in the real browser: entry present and working, text size and spacing, 200 % zoom,
ads, nudges and contrast in the age-friendly mode; plus the static CAPTCHA check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.config import AuditConfig
from auditor.context import CheckContext, PageView
from auditor.engine import Engine
from auditor.store.database import EvidenceStore
from tests.sites.a11y_fixture import ELDERLY_HOST, build_elderly_site, page_html
from tests.support.servers import serve
from tests.test_a11y import Audit

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed")

EXPECTED = {
    "good": set(),
    "separate": set(),
    "none": {"elderly.entry_missing"},
    "inert": {"elderly.entry_inoperative", "elderly.font_small", "elderly.line_spacing", "elderly.zoom_overflow"},
    "ads": {"elderly.care_ads", "elderly.care_inducement", "elderly.toolbar_incomplete", "elderly.care_contrast"},
}


def run_variant(tmp: Path, variant: str, rules: str = "national") -> Audit:
    site = build_elderly_site(variant)
    with serve(site) as srv:
        audit = Audit(tmp, site, f"http://{ELDERLY_HOST}:{srv.port}", ["elderly"], {}, paths=["/"],
                      resolve={ELDERLY_HOST: "127.0.0.1"})
        if rules != "national":
            audit.config.rules = rules
            audit.engine = Engine(audit.config)
            audit.ctx = CheckContext(audit.config, audit.engine.pack, audit.engine.rules, audit.store, audit.run_id,
                                     audit.engine.probes(), audit.site.homepage_url)
        return audit.run()


@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_variant_findings(tmp_path, variant: str) -> None:
    audit = run_variant(tmp_path, variant)
    assert not audit.errors, audit.errors
    assert {f.rule for f in audit.findings} == EXPECTED[variant]
    for f in audit.findings:
        assert f.basis is not None and f.basis.status in ("confirmed", "partial", "unconfirmed")
        assert f.message_zh and f.message_en and f.remediation_zh
    by_rule = {f.rule: f for f in audit.findings}
    session = audit.records("elderly.session")[0]
    if variant == "inert":
        assert by_rule["elderly.entry_inoperative"].evidence["tried"][0]["text"] == "无障碍浏览"
        assert by_rule["elderly.font_small"].evidence["font_px"] == 12
        assert by_rule["elderly.font_small"].evidence["threshold"]["status"] == "unconfirmed"
        assert by_rule["elderly.line_spacing"].evidence["line_ratio"] == pytest.approx(1.1, abs=0.01)
        assert by_rule["elderly.line_spacing"].evidence["threshold"]["status"] == "partial"
        zoom = by_rule["elderly.zoom_overflow"].evidence
        assert zoom["hscroll"] and zoom["scroll_width"] >= 1300 and zoom["client_width"] == 683
    if variant == "ads":
        items = by_rule["elderly.care_ads"].evidence["items"]
        assert [i["selector"] for i in items] == ["#piaochuang"]
        assert [n["text"] for n in by_rule["elderly.care_inducement"].evidence["items"]] == ["下载APP"]
        assert set(by_rule["elderly.toolbar_incomplete"].evidence["missing"]) == {
            "high_contrast", "voice", "large_pointer", "simplified"}
        assert by_rule["elderly.care_contrast"].evidence["nodes"]
    if variant == "good":
        assert session["mode"]["kind"] == "in-page" and len(session["mode"]["new_controls"]) == 5
    if variant == "separate":
        assert session["mode"]["kind"] == "separate" and session["mode"]["url"].endswith("/care/index.html")


def test_thresholds_come_from_the_pack(tmp_path) -> None:
    """An overlay pack relaxing contrast and body-text size silences exactly those findings."""

    overlay = {"id": "relaxed-test", "version": "1", "name_zh": "测试", "name_en": "test", "extends": "national",
               "values": {"elderly.min_contrast_ratio": {"value": 2.0, "source": "test", "status": "local"},
                          "elderly.min_contrast_ratio_large": {"value": 2.0, "source": "test", "status": "local"},
                          "elderly.min_body_font_px": {"value": 11, "source": "test", "status": "local"}}}
    pack = tmp_path / "relaxed.json"
    pack.write_text(json.dumps(overlay), "utf-8")
    ads = run_variant(tmp_path / "a", "ads", rules=str(pack))
    assert "elderly.care_contrast" not in {f.rule for f in ads.findings}  # 2.3:1 passes a 2:1 floor
    inert = run_variant(tmp_path / "i", "inert", rules=str(pack))
    rules = {f.rule for f in inert.findings}
    assert "elderly.font_small" not in rules and "elderly.line_spacing" in rules


def _page(tmp: Path, html: str) -> tuple[PageView, CheckContext]:
    from auditor.checks import elderly

    store = EvidenceStore(tmp / "c.sqlite")
    config = AuditConfig(as_of="2026-11-22", url="http://www.x.gov.cn/")
    engine = Engine(config)
    run_id = store.start_run("x", config.url, "2024-06-01", {}, "t")
    ctx = CheckContext(config, engine.pack, engine.rules, store, run_id)
    row = {"url": "http://www.x.gov.cn/hdjl/xx.html", "kind": "html", "encoding": "utf-8", "status": 200,
           "body": __import__("zlib").compress(html.encode())}
    assert elderly.govaudit_check_page  # the hook is registered through the entry point
    return PageView(row), ctx


def test_image_captcha_without_alternative(tmp_path) -> None:
    from auditor.checks.elderly import govaudit_check_page

    form = '<form><input name="yzm"><img src="/servlet/validateCode?t=1" id="codeImg" alt="验证码"><button>提交</button></form>'
    page, ctx = _page(tmp_path, page_html("我要写信", form, planted=False))
    found = list(govaudit_check_page(page, ctx))
    assert [f.rule for f in found] == ["elderly.captcha_no_alternative"]
    assert found[0].evidence["images"] == ["/servlet/validateCode?t=1"]
    with_audio = form.replace("<button>", '<a href="#" id="voice">语音验证码</a><button>')
    page, ctx = _page(tmp_path / "b", page_html("我要写信", with_audio, planted=False))
    assert list(govaudit_check_page(page, ctx)) == []
    page, ctx = _page(tmp_path / "c", page_html("新闻", "<p><img src='/a.png' alt='会议现场'></p>", planted=False))
    assert list(govaudit_check_page(page, ctx)) == []


OFFICIAL = ("GB/T 37668-2019", "国办公开办函〔2021〕28号", "互联网网站适老化通用设计规范", "适老化通用设计规范", "WCAG")
NOT_A_BASIS = ("rules.md", "http://", "https://", "book118", "31ppt", "kunmingchi", "xrxxw", "ccafgc", "tech-ex")


def test_bases_cite_official_sources_only() -> None:
    """Every a11y./elderly. rule and pack value names an official source, never a file or a mirror site.

    Trap: the old bases cited rules.md §10 and commercial mirrors (xrxxw.com, ccafgc.com, tech-ex.com).
    """

    engine = Engine(AuditConfig(as_of="2026-11-22", url="http://www.example.gov.cn/"))
    rules = [r for r in engine.rules.values() if r.id.startswith(("a11y.", "elderly."))]
    assert len(rules) > 100 and "a11y.needs_review" in {r.id for r in rules}
    for rule in rules:
        for text in (rule.basis.zh, rule.basis.en or "", rule.basis.source):
            assert not any(bad in text for bad in NOT_A_BASIS), (rule.id, text)
        assert any(src in rule.basis.zh + rule.basis.source for src in OFFICIAL), rule.id
        if rule.basis.status != "confirmed":
            assert "未核实" in rule.basis.zh + rule.basis.source or "未能核实" in rule.basis.zh, rule.id
    keys = [k for k in engine.pack.values if k.startswith(("a11y.", "elderly."))]
    assert len(keys) >= 10
    for key in keys:
        entry = engine.pack.entry(key)
        assert not any(bad in entry["source"] for bad in NOT_A_BASIS), (key, entry["source"])
    from auditor.checks.a11y import rules_data

    meta = json.dumps({k: v for k, v in rules_data().items() if k.startswith("gbt")}, ensure_ascii=False)
    assert "rules.md" not in meta and "条款未核实" in meta
