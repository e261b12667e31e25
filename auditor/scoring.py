"""Scoring after the State Council inspection indicators (国办秘函〔2019〕19号).

单项否决 first: any veto finding fails the site whatever its score. Otherwise the 100-point
deduction part: each finding may carry ``evidence.deduction`` (a number from the rule pack) that
counts against its rule's indicator; an indicator never loses more than its points (扣分封顶).
Below the pack's pass line (60) the site fails. Point values are pack data, marked with how sure
they are: the 2019 deduction table itself could not be read (rules.md §4).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditor.model import Finding, Rule, Severity
from auditor.rulepacks import RulePack


def compute_score(findings: Iterable[Finding], rules: dict[str, Rule], pack: RulePack) -> dict[str, Any]:
    indicators: dict[str, dict[str, Any]] = {}
    veto_rules: dict[str, int] = {}
    for f in findings:
        if f.severity == Severity.VETO:
            veto_rules[f.rule] = veto_rules.get(f.rule, 0) + 1
        rule = rules.get(f.rule)
        deduction = f.evidence.get("deduction") if isinstance(f.evidence, dict) else None
        if not rule or not rule.indicator or not isinstance(deduction, int | float) or deduction <= 0:
            continue
        ind = indicators.setdefault(rule.indicator, {"raw": 0.0, "count": 0})
        ind["raw"] += float(deduction)
        ind["count"] += 1
    total = 0.0
    out_ind = {}
    for key, ind in sorted(indicators.items()):
        spec = pack.indicators.get(key, {})
        points = float(spec.get("points", 100.0))
        capped = min(ind["raw"], points)
        total += capped
        out_ind[key] = {
            "name_zh": spec.get("name_zh", key),
            "name_en": spec.get("name_en", key),
            "points": points,
            "deducted": round(capped, 2),
            "raw_deduction": round(ind["raw"], 2),
            "findings": ind["count"],
            "source": spec.get("source", ""),
            "status": spec.get("status", "unconfirmed"),
        }
    pass_line = float(pack.value("score.pass_line", 60))
    score = round(max(0.0, 100.0 - total), 2)
    veto = bool(veto_rules)
    return {
        "model": "国办秘函〔2019〕19号 单项否决 + 100 分扣分",
        "veto": veto,
        "veto_rules": dict(sorted(veto_rules.items())),
        "deduction_part": score,
        "score": score,
        "pass_line": pass_line,
        "passed": not veto and score >= pass_line,
        "verdict_zh": "不合格（单项否决）" if veto else ("合格" if score >= pass_line else "不合格（扣分部分低于合格线）"),
        "verdict_en": "fail (single veto)" if veto else ("pass" if score >= pass_line else "fail (below the pass line)"),
        "indicators": out_ind,
        "rule_pack": pack.describe(),
    }
