"""End to end through the real ``govaudit`` CLI: crawl a loopback site, audit it in Chromium, read report.json."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.sites.a11y_fixture import (
    ADVICE_PAGE,
    HOST,
    JS_COLUMN,
    PLANTED,
    REVIEW_PAGES,
    SITE_WIDE,
    SVG_PAGE,
    XHTML_PAGE,
    build_a11y_site,
    build_formats_site,
)
from tests.support.servers import run_cli, serve

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed")]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e")
    site = build_a11y_site(planted=True)
    with serve(site) as srv:
        base = f"http://{HOST}:{srv.port}"
        proc = run_cli("check", "--as-of", "2026-11-22", base + "/", "--out", str(out / "r"), "--db", str(out / "e.sqlite"), "--resolve", f"{HOST}=127.0.0.1",
                       "--checks", "a11y", "--checks", "elderly", "--a11y", "all", "--timeout", "5", timeout=600)
    path = out / "r" / "report.json"
    assert path.exists(), (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    return {"proc": proc, "report": json.loads(path.read_text("utf-8")), "out": out / "r", "base": base}


def test_cli_reports_planted_violations_with_evidence(report) -> None:
    proc, rep, base = report["proc"], report["report"], report["base"]
    assert proc.returncode == 0, proc.stderr[-3000:]  # no veto among these findings
    a11y = [f for f in rep["findings"] if f["rule"].startswith("a11y.") and f["evidence"]["result"] == "violation"
            and not f["evidence"]["best_practice"]]
    per_page: dict[str, set[str]] = {}
    for f in a11y:
        if f["evidence"]["scope"] == "page":
            per_page.setdefault(f["url"].removeprefix(base), set()).add(f["rule"].removeprefix("a11y."))
    # The crawl reaches every planted page through the static links.
    assert per_page == {p: r for p, r in PLANTED.items() if r}
    site_wide = [f for f in a11y if f["evidence"]["scope"] == "site"]
    assert len(site_wide) == 1 and site_wide[0]["rule"] == f"a11y.{SITE_WIDE['rule']}"
    assert len(site_wide[0]["evidence"]["pages"]) == len(PLANTED)
    for f in a11y:
        assert f["basis"] and f["remediation"] and f["message"]
        shot = f["evidence"]["screenshot"]
        assert shot and base64.b64decode(shot["src"].split(",", 1)[1])[:3] == b"\xff\xd8\xff"
    # Screenshots travel inside the report as small data: URIs, under the run's byte budget.
    shots = sum(len(f["evidence"]["screenshot"]["src"]) for f in rep["findings"] if (f["evidence"].get("screenshot") or {}).get("src"))
    assert 0 < shots <= 1_000_000 and len(json.dumps(rep, ensure_ascii=False)) < 1_500_000
    assert not (report["out"] / "a11y-shots").exists()


def test_cli_report_names_the_axe_version_and_elderly_result(report) -> None:
    rep = report["report"]
    metric = next(m for m in rep["metrics"] if m["name"] == "a11y.pages_audited")
    assert metric["detail"]["version"] == "4.12.1" and metric["value"] == len(PLANTED)
    assert metric["detail"]["sample"]["mode"] == "all"
    rendered = next(m for m in rep["metrics"] if m["name"] == "render.pages_rendered")
    assert rendered["value"] == 1
    assert {f["rule"] for f in rep["findings"] if f["rule"].startswith("elderly.")} == {"elderly.entry_missing"}
    html = (report["out"] / "report.html").read_text("utf-8")
    section = html[html.index('id="rule-elderly.entry_missing"'):]
    section = section[:section.index("</section>")]
    assert '<table class="small ev">' in section and "<th>keywords</th>" in section and "长者" in section
    assert "<pre>{" not in section  # fields, not a JSON dump
    assert not [e for e in rep["errors"] if e.get("plugin") in ("a11y", "elderly", "render", "browser")]
    assert JS_COLUMN  # the JS column is in the crawl; its rendering is checked in test_a11y


def test_cli_a11y_off_audits_no_page(tmp_path) -> None:
    site = build_a11y_site(planted=True)
    with serve(site) as srv:
        proc = run_cli("check", "--as-of", "2026-11-22", f"http://{HOST}:{srv.port}/", "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"),
                       "--resolve", f"{HOST}=127.0.0.1", "--checks", "a11y", "--a11y", "off", "--timeout", "5", timeout=300)
    rep = json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))
    assert proc.returncode == 0
    assert not [f for f in rep["findings"] if f["rule"].startswith("a11y.")]
    assert not (tmp_path / "r" / "a11y-shots").exists()


def test_cli_refuses_an_unknown_a11y_mode(tmp_path) -> None:
    proc = run_cli("check", "--as-of", "2026-11-22", "http://www.wza-county.gov.cn/", "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"),
                   "--a11y", "everything", timeout=120)
    assert proc.returncode == 2, (proc.stdout[-1000:], proc.stderr[-1000:])
    assert "--a11y" in proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def formats(tmp_path_factory):
    """A homepage linking to an SVG page, an XHTML page, a page without landmarks and a review page."""

    out = tmp_path_factory.mktemp("formats")
    site = build_formats_site()
    with serve(site) as srv:
        base = f"http://{HOST}:{srv.port}"
        proc = run_cli("check", "--as-of", "2026-11-22", base + "/", "--out", str(out / "r"), "--db", str(out / "e.sqlite"),
                       "--resolve", f"{HOST}=127.0.0.1", "--checks", "a11y", "--a11y", "all", "--timeout", "5", timeout=600)
    path = out / "r" / "report.json"
    assert path.exists(), (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    return {"proc": proc, "report": json.loads(path.read_text("utf-8")), "html": (out / "r" / "report.html").read_text("utf-8"),
            "base": base}


def test_svg_and_xhtml_pages_are_crawled_and_audited(formats) -> None:
    # Old: the .svg link was only HEAD-checked and the XHTML page (XML declaration) failed to parse,
    # so neither was stored nor audited.
    rep, base = formats["report"], formats["base"]
    rules = {}
    for f in rep["findings"]:
        if f["rule"].startswith("a11y.") and f["evidence"]["scope"] == "page":
            rules.setdefault(f["url"].removeprefix(base), set()).add(f["rule"])
    assert "a11y.svg-img-alt" in rules.get(SVG_PAGE, set()), rules
    assert {"a11y.image-alt", "a11y.html-has-lang"} <= rules.get(XHTML_PAGE, set()), rules
    metric = next(m for m in rep["metrics"] if m["name"] == "a11y.pages_audited")
    assert metric["value"] == 5 and metric["detail"]["pages_failed"] == 0


def test_report_html_shows_readable_evidence_and_inline_screenshots(formats) -> None:
    html = formats["html"]
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "img-src data:" in csp and "default-src 'none'" in csp
    imgs = re.findall(r'<img class="shot" src="([^"]+)"', html)
    assert imgs and all(src.startswith("data:image/jpeg;base64,") for src in imgs)
    assert not re.search(r'<img[^>]+src="(?!data:)', html)  # nothing the CSP would hide
    section = html[html.index('id="rule-a11y.image-alt"'):]
    section = section[:section.index("</section>")]
    for label in ("检测规则", "WCAG 成功准则", "元素 HTML 片段", "选择器", "失败说明", "截图", "涉及页面"):
        assert label in section, label
    assert "WCAG 2.0 1.1.1" in section and "&lt;img" in section and "photo.png" in section
    assert '"axe_rule"' not in section  # fields, not a JSON dump
    # Advice and needs-review items are shown as such.
    advice = html[html.index('id="rule-a11y.landmark-one-main"'):]
    assert "建议（最佳实践，不扣分）" in advice[:advice.index("</section>")]
    review = html[html.index('id="rule-a11y.needs_review"'):]
    review = review[:review.index("</section>")]
    assert "需人工复核" in review and "color-contrast" in review and REVIEW_PAGES[0] in review
    assert ADVICE_PAGE in html
