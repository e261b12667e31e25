"""Every basis a finding shows cites an official source: never an internal file, never a mirror or vendor site.

A finding's basis names the regulation, 国办 document or standard and its clause, with how sure it
is; an unconfirmed value says 未核实 beside the best official source. Where the research text was
read (reprints, vendor pages) is provenance, not a basis.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from auditor.config import AuditConfig
from auditor.engine import Engine
from auditor.rulepacks import available_packs, load_pack

# internal files, URLs and the commercial/mirror sites the research notes were read from
FORBIDDEN = re.compile(r"rules\.md|seed-rules|next-capabilities|\.md\b|https?://|www\.|book118|31ppt|kunmingchi|sntec|ieain|"
                       r"厂商|开普云|vendor", re.IGNORECASE)
# what an official citation looks like: a document number, a law or regulation, a standard
OFFICIAL = re.compile(r"〔\d{4}〕|条例|GB/T|法》|法\b|令第|规范》|指引》|WCAG|RFC \d+|W3C|指标》|工作要点|通知》|意见》|计划》|安排》|要点")


def _sources(node: Any, path: str = "") -> list[tuple[str, str]]:
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("source", "zh", "en") and isinstance(v, str):
                out.append((f"{path}/{k}", v))
            else:
                out += _sources(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _sources(v, f"{path}/{i}")
    return out


def test_rule_bases_cite_official_sources() -> None:
    rules = Engine(AuditConfig(as_of="2026-11-22", url="http://www.x.gov.cn/")).rules
    bad = []
    for rule in rules.values():
        if rule.plugin.startswith("govaudit_"):
            continue  # third-party test plugins
        for field in (rule.basis.zh, rule.basis.en, rule.basis.source):
            if FORBIDDEN.search(field or ""):
                bad.append((rule.id, field))
        if not OFFICIAL.search(rule.basis.zh + rule.basis.source):
            bad.append((rule.id, "no official document named: " + rule.basis.zh))
    assert not bad, bad[:20]


@pytest.mark.parametrize("pack_id", available_packs())
def test_pack_sources_cite_official_sources(pack_id: str) -> None:
    pack = load_pack(pack_id)
    tree = {"values": pack.values, "indicators": pack.indicators, "scoring": pack.scoring,
            "columns": [c.get("basis", {}) for c in pack.columns]}
    bad = [(path, text) for path, text in _sources(tree) if FORBIDDEN.search(text)]
    assert not bad, bad[:20]
