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


def test_xhtml_with_an_encoding_declaration_parses_for_checks() -> None:
    """lxml refuses a str that declares its encoding; checks must still see the stored XHTML page."""

    from auditor.context import PageView

    page = PageView({"url": "http://www.x.gov.cn/a.xhtml", "body": None, "kind": "html"})
    page.__dict__["body"] = ('<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                             "<head><title>测试页</title></head><body><p>正文</p></body></html>").encode()
    assert page.tree is not None and page.tree.findtext(".//title") == "测试页"
