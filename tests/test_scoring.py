"""Scoring after the indicators' own structure (国办秘函〔2019〕19号), declared as rule-pack data.

Pure unit tests on findings built in code: the structure (vetoes, four blocks, caps), the lookup of
deductions by rule id, and what the report says about them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.config import AuditConfig
from auditor.engine import Engine
from auditor.model import Basis, Finding, Severity
from auditor.rulepacks import load_pack
from auditor.scoring import compute_score, finding_deduction

BASIS = Basis(zh="x", source="x", status="local")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(AuditConfig(as_of="2026-11-22", url="http://www.x.gov.cn/"))


def _f(rule: str, sev: Severity = Severity.MAJOR, i: int = 0, **evidence: object) -> Finding:
    return Finding(rule, sev, f"http://www.x.gov.cn/{rule}/{i}", "问题", evidence=dict(evidence), basis=BASIS)


def test_the_2019_structure_is_pack_data() -> None:
    pack = load_pack("national")
    blocks = pack.scoring["blocks"]
    site_blocks = {k: b for k, b in blocks.items() if b.get("scope", "site") == "site"}
    assert {k: b["points"] for k, b in site_blocks.items()} == {"publish": 31, "service": 25, "interaction": 23, "function": 21}
    assert all(b["status"] == "partial" for b in site_blocks.values())  # derived from published self-checks
    site_vetoes = {k for k, v in pack.scoring["vetoes"].items() if v.get("scope", "site") == "site"}
    assert site_vetoes == {"serious_problem", "site_unreachable", "homepage_not_updated", "column_not_updated",
                           "blank_column", "interaction_unresponsive", "service_impractical"}
    # 政务新媒体 is scored per account, outside the website's 100 points (scope newmedia)
    assert {k for k, b in blocks.items() if b.get("scope") == "newmedia"} == {"newmedia"}
    assert {k for k, v in pack.scoring["vetoes"].items() if v.get("scope") == "newmedia"} == {
        "newmedia_serious_problem", "newmedia_not_updated", "newmedia_no_interaction"}
    assert pack.scoring["bonus"]["points"] == 30
    for key, ind in pack.indicators.items():
        assert ind["block"] in blocks, key


def test_every_scored_rule_maps_to_an_indicator_with_points(engine: Engine) -> None:
    """ipv6, security, identity and a11y move points too: no major/minor rule is left out."""

    pack = engine.pack
    for rule in engine.rules.values():
        if rule.severity in (Severity.INFO, Severity.VETO):
            continue
        entry = pack.rule_scoring(rule.id)
        assert entry is not None, f"{rule.id} has no scoring entry"
        assert entry["indicator"] in pack.indicators, rule.id
        assert entry["deduction"]["source"] and entry["deduction"]["status"], rule.id
    for family in ("ipv6", "security", "identity", "a11y", "elderly", "links"):
        assert any(i == family for i in pack.indicators), family


def test_caps_per_indicator_and_per_block(engine: Engine) -> None:
    dead = [_f("links.dead", i=i) for i in range(300)]  # 300 × 0.1 = 30 due, indicator cap 10
    score = compute_score(dead, engine.rules, engine.pack)
    assert score["indicators"]["links"]["raw_deduction"] == 30 and score["indicators"]["links"]["deducted"] == 10
    assert score["score"] == 90 and score["passed"]
    # fill every 功能设计 sub-indicator past its points: the block still loses at most 21
    many = dead + [_f(r, i=i) for r in ("identity.icp_missing", "ipv6.no_aaaa", "security.no_https",
                                         "a11y.image-alt", "elderly.font_small", "availability.degraded")
                   for i in range(40)]
    score = compute_score(many, engine.rules, engine.pack)
    sub = sum(score["indicators"][k]["deducted"] for k in score["blocks"]["function"]["indicators"])
    assert sub > 21 and score["blocks"]["function"]["deducted"] == 21
    assert score["score"] == 79


def test_deductions_are_looked_up_by_rule_id_not_carried_in_evidence(engine: Engine) -> None:
    home = _f("links.dead", on_homepage=True)
    deep = _f("links.dead", i=1, on_homepage=False, deduction=50)  # a number in evidence is ignored
    assert finding_deduction(home, engine.pack) == (1.0, "links")
    assert finding_deduction(deep, engine.pack) == (0.1, "links")
    # a malformed link is an unusable link to the reader; a missing anchor on a live page costs nothing
    assert finding_deduction(_f("links.malformed", on_homepage=True), engine.pack) == (1.0, "links")
    assert finding_deduction(_f("links.broken_anchor", Severity.MINOR, on_homepage=True), engine.pack)[0] == 0.0
    # info never counts; a weakly masked ID number (minor) is reported but not scored
    assert finding_deduction(_f("links.unverifiable", Severity.INFO), engine.pack) == (0.0, None)
    assert finding_deduction(_f("privacy.id_number", Severity.MINOR), engine.pack) == (0.0, None)
    assert finding_deduction(_f("privacy.id_number"), engine.pack)[0] > 0


def test_veto_first_and_no_double_deduction(engine: Engine) -> None:
    dead = [_f("links.dead", i=i) for i in range(5)]
    veto = _f("freshness.column_stale", Severity.VETO)
    score = compute_score([*dead, veto], engine.rules, engine.pack)
    assert score["veto"] and not score["passed"] and score["verdict_zh"] == "不合格（单项否决）"
    assert veto.id not in score["findings"]  # the veto fails the site; it is not deducted again
    items = {v["id"]: v for v in score["veto_items"]}
    assert items["column_not_updated"]["state"] == "triggered" and items["column_not_updated"]["findings"] == [veto.id]
    assert items["homepage_not_updated"]["state"] == "clear"
    assert items["serious_problem"]["state"] == "clear"  # checked by the text family (issue #13), nothing found
    assert "触发单项否决：栏目不更新" in score["explanation_zh"][0]


def test_pass_line_and_below_it(engine: Engine) -> None:
    # publish block: columns 10 + freshness 10 + documents 10 + interpretation 8 → capped at 31;
    # function block: links 10 + identity 4 + ipv6 3 + security 3 → 20; 100 − 31 − 20 = 49 < 60
    findings = ([_f("columns.missing", i=i) for i in range(10)] + [_f("freshness.column_empty", i=i) for i in range(30)]
                + [_f("documents.expired", i=i) for i in range(20)] + [_f("interpretation.missing", i=i) for i in range(20)]
                + [_f("links.dead", i=i, on_homepage=True) for i in range(20)]
                + [_f("identity.icp_missing", i=i) for i in range(20)] + [_f("ipv6.no_aaaa", i=i) for i in range(5)]
                + [_f("security.cert_expired", i=i) for i in range(5)])
    score = compute_score(findings, engine.rules, engine.pack)
    assert score["blocks"]["publish"]["deducted"] == 31 and score["blocks"]["function"]["deducted"] == 20
    assert score["score"] == 49 and not score["passed"] and score["verdict_zh"] == "不合格（扣分部分低于合格线）"
    assert any("合格线 60" in line for line in score["explanation_zh"])


def test_unchecked_blocks_and_skipped_families_are_said(engine: Engine) -> None:
    score = compute_score([], engine.rules, engine.pack, family_enabled=lambda fam: fam == "links")
    assert not score["blocks"]["service"]["checked"] and not score["blocks"]["interaction"]["checked"]
    assert not score["indicators"]["privacy"]["checked"] and score["indicators"]["links"]["checked"]
    assert {v["id"]: v["state"] for v in score["veto_items"]}["homepage_not_updated"] == "not_checked"
    assert any("办事服务" in line and "按满分计" in line for line in score["explanation_zh"])
    assert score["bonus"]["eligible"] and not score["bonus"]["assessed"]


def test_an_overlay_rescores_one_rule(tmp_path: Path, engine: Engine) -> None:
    overlay = {"id": "strict-privacy", "version": "1", "name_zh": "严格", "name_en": "strict", "extends": "national",
               "scoring": {"rules": {"privacy.id_number": {"indicator": "privacy", "severities": ["major"],
                                                           "deduction": {"value": 10, "source": "地方规则", "status": "local"}}}}}
    path = tmp_path / "strict.json"
    path.write_text(json.dumps(overlay, ensure_ascii=False), "utf-8")
    pack = load_pack(str(path))
    assert finding_deduction(_f("privacy.id_number"), pack) == (10, "privacy")
    assert finding_deduction(_f("links.dead"), pack) == (0.1, "links")  # the rest of the table is kept
