"""Scoring after the State Council inspection indicators (国办秘函〔2019〕19号).

The structure is the indicators' own, declared as rule-pack data (``scoring`` in the pack):

- **单项否决**: seven veto items (严重问题, 站点无法访问, 首页不更新, 栏目不更新, 空白栏目, 互动回应差,
  服务不实用). Any one fails the site whatever its score. Each item lists the rules whose veto findings
  trigger it; an item no rule of this run checks is reported as "not checked", never as passed.
- **扣分指标 (100 points)** in four first-level blocks (发布解读, 办事服务, 互动交流, 功能设计). govaudit's
  rule families are sub-indicators inside a block, each with its own points. Deductions per finding are
  looked up by rule id (``scoring.rules``, or ``scoring.family_defaults`` for large families such as the
  axe rules); a sub-indicator never loses more than its points, a block never more than its points
  (扣分封顶). A block no rule checks keeps its points and the report says so.
- **加分指标 (30 points)**, portals only, scored above the bonus threshold: not machine-checkable, so
  reported as not assessed.

Veto findings are not deducted again (不重复扣分): the veto already fails the site. Info findings are
never scored. The point values are pack data, each with its source and how sure it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from auditor.model import Finding, Rule, Severity
from auditor.rulepacks import RulePack

DEFAULT_SCORED = ("major", "minor")


def finding_deduction(f: Finding, pack: RulePack) -> tuple[float, str | None]:
    """The nominal deduction of one finding (before caps) and the sub-indicator it counts against."""

    if f.severity in (Severity.VETO, Severity.INFO):
        return 0.0, None
    entry = pack.rule_scoring(f.rule)
    if not entry or str(f.severity) not in entry.get("severities", DEFAULT_SCORED):
        return 0.0, None
    amount = entry["deduction"]["value"]
    evidence = f.evidence if isinstance(f.evidence, dict) else {}
    for flag, alt in entry.get("when", {}).items():
        if evidence.get(flag):
            amount = alt["value"]
            break
    if not isinstance(amount, int | float) or amount <= 0:
        return 0.0, None
    return float(amount), entry["indicator"]


def compute_score(
    findings: Iterable[Finding],
    rules: dict[str, Rule],
    pack: RulePack,
    family_enabled: Callable[[str], bool] | None = None,
) -> dict[str, Any]:
    """Score one run's findings; ``family_enabled`` says which rule families this run checked."""

    enabled = family_enabled or (lambda _family: True)
    scoring = pack.scoring
    blocks_spec: dict[str, dict[str, Any]] = scoring.get("blocks", {})
    veto_spec: dict[str, dict[str, Any]] = scoring.get("vetoes", {})
    # 政务新媒体 items (``scope: newmedia``) judge accounts, not the website: a stale account fails that
    # account (evidence ``account``), never the site's verdict; they are reported in ``score["newmedia"]``
    nm_items = {item for item, spec in veto_spec.items() if spec.get("scope") == "newmedia"}
    nm_blocks = {key: spec for key, spec in blocks_spec.items() if spec.get("scope") == "newmedia"}
    blocks_spec = {key: spec for key, spec in blocks_spec.items() if key not in nm_blocks}
    nm_deducted: dict[str, dict[str, float]] = {}  # account → indicator → points
    rule_to_item = {rid: item for item, spec in veto_spec.items() for rid in spec.get("rules", [])}
    undecided_to_item = {rid: item for item, spec in veto_spec.items() for rid in spec.get("undecided_rules", [])}

    veto_rules: dict[str, int] = {}
    veto_hits: dict[str, list[str]] = {}
    undecided_hits: dict[str, list[str]] = {}
    raw: dict[str, dict[str, Any]] = {}
    per_finding: dict[str, dict[str, Any]] = {}
    nm_accounts: dict[str, list[str]] = {}
    for f in findings:
        if f.severity == Severity.VETO and rule_to_item.get(f.rule) in nm_items:
            veto_hits.setdefault(rule_to_item[f.rule], []).append(f.id)
            account = f.evidence.get("account") if isinstance(f.evidence, dict) else None
            nm_accounts.setdefault(str(account or f.url), []).append(f.id)
        elif f.severity == Severity.VETO:
            veto_rules[f.rule] = veto_rules.get(f.rule, 0) + 1
            veto_hits.setdefault(rule_to_item.get(f.rule, "other"), []).append(f.id)
        if f.rule in undecided_to_item:
            undecided_hits.setdefault(undecided_to_item[f.rule], []).append(f.id)
        amount, indicator = finding_deduction(f, pack)
        if indicator is None:
            continue
        if pack.indicators.get(indicator, {}).get("block") in nm_blocks:
            ev = f.evidence if isinstance(f.evidence, dict) else {}
            for account in [ev.get("account"), *(ev.get("accounts") or [])]:
                if account:
                    per = nm_deducted.setdefault(str(account), {})
                    per[indicator] = per.get(indicator, 0.0) + amount
        ind = raw.setdefault(indicator, {"raw": 0.0, "count": 0})
        ind["raw"] += amount
        ind["count"] += 1
        per_finding[f.id] = {"deduction": round(amount, 2), "indicator": indicator,
                             "block": pack.indicators.get(indicator, {}).get("block")}

    indicators: dict[str, dict[str, Any]] = {}
    for key, spec in pack.indicators.items():
        got = raw.get(key, {"raw": 0.0, "count": 0})
        points = float(spec["points"])
        indicators[key] = {
            "name_zh": spec["name_zh"], "name_en": spec["name_en"], "block": spec.get("block"),
            "points": points, "deducted": round(min(got["raw"], points), 2), "raw_deduction": round(got["raw"], 2),
            "findings": got["count"], "checked": enabled(key) and _family_has_rules(key, rules),
            "source": spec["source"], "status": spec["status"],
        }
    for key in raw.keys() - indicators.keys():  # a third-party rule pointing at an indicator the pack lacks
        indicators[key] = {"name_zh": key, "name_en": key, "block": None, "points": 0.0, "deducted": 0.0,
                           "raw_deduction": round(raw[key]["raw"], 2), "findings": raw[key]["count"],
                           "checked": True, "source": "", "status": "unconfirmed"}

    blocks: dict[str, dict[str, Any]] = {}
    total = 0.0
    for key, spec in blocks_spec.items():
        members = [k for k, ind in indicators.items() if ind["block"] == key]
        sub = sum(indicators[k]["deducted"] for k in members)
        points = float(spec["points"])
        deducted = round(min(sub, points), 2)
        total += deducted
        blocks[key] = {
            "name_zh": spec["name_zh"], "name_en": spec["name_en"], "points": points, "deducted": deducted,
            "score": round(points - deducted, 2), "indicators": members,
            "checked": any(indicators[k]["checked"] for k in members),
            "source": spec["source"], "status": spec["status"],
        }
    max_points = sum(float(b["points"]) for b in blocks_spec.values()) or 100.0
    score = round(max(0.0, max_points - total), 2)

    veto_items = []
    nm_veto_items = []
    for key, spec in veto_spec.items():
        hits = veto_hits.get(key, [])
        checked = any(_rule_checked(rid, rules, enabled) for rid in spec.get("rules", []))
        if hits:
            state = "triggered"
        elif undecided_hits.get(key):
            state = "undecided"
        elif checked:
            state = "clear"
        else:
            state = "not_checked"
        (nm_veto_items if key in nm_items else veto_items).append(
            {"id": key, "name_zh": spec["name_zh"], "name_en": spec["name_en"], "state": state,
             "findings": hits + undecided_hits.get(key, []), "rules": spec.get("rules", []),
             "source": spec["source"], "status": spec["status"]})
    if veto_hits.get("other"):
        veto_items.append({"id": "other", "name_zh": "其他单项否决", "name_en": "Other single veto", "state": "triggered",
                           "findings": veto_hits["other"], "rules": [], "source": "", "status": "unconfirmed"})

    pass_line = float(pack.value("score.pass_line"))
    bonus_threshold = float(pack.value("score.bonus_threshold"))
    veto = bool(veto_rules)
    passed = not veto and score >= pass_line
    bonus = scoring.get("bonus", {})
    result = {
        "model": scoring.get("model_zh", "国办秘函〔2019〕19号"),
        "model_en": scoring.get("model_en", ""),
        "veto": veto,
        "veto_rules": dict(sorted(veto_rules.items())),
        "veto_items": veto_items,
        "deduction_part": score,
        "score": score,
        "max_points": max_points,
        "pass_line": pass_line,
        "passed": passed,
        "verdict_zh": "不合格（单项否决）" if veto else ("合格" if passed else "不合格（扣分部分低于合格线）"),
        "verdict_en": "fail (single veto)" if veto else ("pass" if passed else "fail (below the pass line)"),
        "bonus": {
            "points": float(bonus.get("points", 0)), "threshold": bonus_threshold,
            "eligible": not veto and score > bonus_threshold, "assessed": False,
            "blocks": [{"name_zh": b["name_zh"], "name_en": b["name_en"]} for b in bonus.get("blocks", {}).values()],
            "source": bonus.get("source", ""), "status": bonus.get("status", "unconfirmed"),
        },
        "blocks": blocks,
        "indicators": indicators,
        "newmedia": newmedia_part(nm_veto_items, nm_accounts, nm_blocks, nm_deducted, pack),
        "findings": per_finding,
        "rule_pack": pack.describe(),
    }
    result["explanation_zh"], result["explanation_en"] = explain(result)
    return result


def newmedia_part(items: list[dict[str, Any]], failed: dict[str, list[str]], blocks: dict[str, dict[str, Any]],
                  deducted: dict[str, dict[str, float]], pack: RulePack) -> dict[str, Any]:
    """The 政务新媒体 verdict, per account: any single veto makes the account 不合格 (指标说明). Deductions of
    the pack's ``scope: newmedia`` block are counted per account (capped per indicator and per block) as a
    reference score; they never touch the website's 100 points."""

    n = len(failed)
    accounts: dict[str, dict[str, Any]] = {}
    for block_key, spec in blocks.items():
        points = float(spec["points"])
        members = {k for k, ind in pack.indicators.items() if ind.get("block") == block_key}
        for account in sorted(set(deducted) | set(failed)):
            per = deducted.get(account, {})
            sub = sum(min(v, float(pack.indicators[k]["points"])) for k, v in per.items() if k in members)
            lost = round(min(sub, points), 2)
            accounts[account] = {"block": block_key, "points": points, "deducted": lost, "score": round(points - lost, 2),
                                 "veto": account in failed}
    return {
        "veto_items": items,
        "veto": bool(failed),
        "accounts_failed": dict(sorted(failed.items())),
        "blocks": {k: {"name_zh": b["name_zh"], "name_en": b["name_en"], "points": float(b["points"]),
                       "source": b["source"], "status": b["status"]} for k, b in blocks.items()},
        "accounts": accounts,
        "verdict_zh": f"{n} 个政务新媒体账号不合格（单项否决）" if n else "政务新媒体账号未触发单项否决",
        "verdict_en": f"{n} new-media account(s) fail (single veto)" if n else "No new-media account triggers a single veto",
        "note_zh": "政务新媒体按账号判定：任一单项否决即该账号不合格；扣分部分按账号单独计（分值未见国家原表，仅供参考），不计入网站得分。",
        "note_en": "New media are judged per account: any single veto fails the account; deductions are counted per account "
                   "(points unconfirmed, for reference) and never taken from the website's score.",
    }


def _family_has_rules(family: str, rules: dict[str, Rule]) -> bool:
    return any(r.family == family for r in rules.values())


def _rule_checked(rule_id: str, rules: dict[str, Rule], enabled: Callable[[str], bool]) -> bool:
    rule = rules.get(rule_id)
    return rule is not None and enabled(rule.family)


def explain(score: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Why the score is what it is, as sentences a site operator can check against the table."""

    zh: list[str] = []
    en: list[str] = []
    triggered = [v for v in score["veto_items"] if v["state"] == "triggered"]
    if triggered:
        zh.append("触发单项否决：" + "、".join(v["name_zh"] for v in triggered) + "。有单项否决即为不合格，扣分部分仅供参考。")
        en.append("Single veto triggered: " + ", ".join(v["name_en"] for v in triggered)
                  + ". Any veto fails the site; the deduction part is for reference only.")
    else:
        zh.append("未触发单项否决。")
        en.append("No single veto triggered.")
    not_checked = [v for v in score["veto_items"] if v["state"] in ("not_checked", "undecided")]
    if not_checked:
        zh.append("以下否决项本次未能自动判定，需人工核查：" + "、".join(v["name_zh"] for v in not_checked) + "。")
        en.append("Not decided automatically, check by hand: " + ", ".join(v["name_en"] for v in not_checked) + ".")
    nm = score.get("newmedia") or {}
    if nm.get("veto"):
        zh.append(nm["verdict_zh"] + "（不影响网站本身的结论）。")
        en.append(nm["verdict_en"] + " (the website's own verdict is separate).")
    parts_zh = [f"{b['name_zh']}扣 {b['deducted']:g}（满分 {b['points']:g}）" for b in score["blocks"].values() if b["deducted"]]
    parts_en = [f"{b['name_en']} −{b['deducted']:g} (of {b['points']:g})" for b in score["blocks"].values() if b["deducted"]]
    zh.append(f"扣分部分：{score['max_points']:g} 分" + ("，" + "，".join(parts_zh) if parts_zh else "，未扣分")
              + f"，得 {score['score']:g} 分；合格线 {score['pass_line']:g} 分。")
    en.append(f"Deduction part: {score['max_points']:g}" + (", " + ", ".join(parts_en) if parts_en else ", nothing deducted")
              + f" → {score['score']:g}; pass line {score['pass_line']:g}.")
    unchecked = [b for b in score["blocks"].values() if not b["checked"]]
    if unchecked:
        zh.append("、".join(b["name_zh"] for b in unchecked) + "部分本工具尚不能自动检查，按满分计，实际得分可能更低。")
        en.append(", ".join(b["name_en"] for b in unchecked)
                  + " cannot be checked automatically yet and keep full points: the real score may be lower.")
    capped = [i for i in score["indicators"].values() if i["raw_deduction"] > i["deducted"]]
    if capped:
        zh.append("达到扣分上限的指标：" + "、".join(f"{i['name_zh']}（应扣 {i['raw_deduction']:g}，上限 {i['points']:g}）" for i in capped) + "。")
        en.append("Indicators at their cap: " + ", ".join(f"{i['name_en']} ({i['raw_deduction']:g} due, cap {i['points']:g})" for i in capped) + ".")
    if score["bonus"]["eligible"]:
        zh.append(f"扣分部分高于 {score['bonus']['threshold']:g} 分，可计加分指标（{score['bonus']['points']:g} 分），加分项需人工评估，未计入。")
        en.append(f"Above {score['bonus']['threshold']:g}, the {score['bonus']['points']:g}-point bonus part applies; it needs a person and is not included.")
    return zh, en
