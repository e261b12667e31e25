"""Engine wiring that needs no network: plugin selection, rule declarations, scoring."""

from __future__ import annotations

from auditor.config import AuditConfig
from auditor.engine import Engine


def _engine(checks: list[str]) -> Engine:
    return Engine(AuditConfig(as_of="2026-11-22", url="http://www.x.gov.cn/", checks=checks))


def test_enrichers_run_only_for_the_families_they_serve() -> None:
    links_only = _engine(["links"])
    assert links_only.plugin_enabled("links") and not links_only.plugin_enabled("columns")
    assert not links_only.plugin_enabled("documents")  # document extraction serves content checks
    assert not links_only.plugin_enabled("browser")  # no Chromium for a link check
    content = _engine(["freshness"])
    assert content.plugin_enabled("documents") and content.plugin_enabled("browser")
    assert _engine([]).plugin_enabled("documents")


def test_every_declared_rule_cites_a_basis() -> None:
    rules = _engine([]).rules
    assert {"links.dead", "columns.missing", "freshness.homepage_stale", "privacy.id_number", "ipv6.low_support"} <= set(rules)
    for rule in rules.values():
        assert rule.basis.zh and rule.basis.status in ("confirmed", "partial", "unconfirmed", "local"), rule.id
        assert rule.name_zh and rule.name_en and rule.remediation_zh, rule.id
