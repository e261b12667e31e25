"""The pipeline's contracts, in process and offline: the measure stage, measurement records, hooks
called through ``pm.hook`` one plugin at a time, name clashes, declared hooks only.

Plugins here are small classes registered at runtime (``extra_plugins``), as a third party's would be.
Names resolve through ``--resolve`` pins, so the ``dns`` probe answers without any network.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from auditor.config import AuditConfig, ConfigError, build_config
from auditor.context import CheckContext, ProbeNotAllowed, SiteView
from auditor.engine import Engine, recheck, run_checks, run_measure
from auditor.hookspecs import hookimpl
from auditor.model import Basis, Parameter, Rule, Severity
from auditor.pluginmanager import PluginError
from auditor.store.database import EvidenceStore

AS_OF = "2026-11-22"
URL = "http://www.x.gov.cn/"
BASIS = Basis(zh="测试依据", source="tests", status="local")


class Audit:
    """A stored run (no crawl) with the real engine plus the given plugins."""

    def __init__(self, tmp: Path, *plugins: Any, checks: list[str] | None = None):
        self.config = build_config({}, {"url": URL, "db": str(tmp / "e.sqlite"), "as_of": AS_OF, "out": str(tmp / "out"),
                                        "resolve": {"www.x.gov.cn": "127.0.0.1"}, "checks": checks or ["thirdparty"],
                                        "formats": ["json"]})
        self.engine = Engine(self.config, extra_plugins=list(plugins))
        self.store = EvidenceStore(self.config.db)
        self.run_id = self.store.start_run(self.config.host, URL, AS_OF, {}, "test")
        self.store.finish_run(self.run_id, "complete", {"homepage_url": URL}, {})
        self.site = SiteView(self.store, self.store.get_run(self.run_id))
        self.ctx = CheckContext(self.config, self.engine.pack, self.engine.rules, self.store, self.run_id,
                                self.engine.probes(), URL)

    def run(self, measure: bool = True) -> Audit:
        try:
            if measure:
                run_measure(self.engine, self.ctx, self.site)
            run_checks(self.engine, self.ctx, self.site)
        finally:
            self.ctx.close_probes()
        return self

    @property
    def findings(self) -> list[Any]:
        return list(self.store.iter_findings(self.run_id))

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.store.iter_errors(self.run_id))


class ThirdPartyFamily:
    """A check family with a measure plugin of its own: measure the homepage's A records, judge them."""

    __name__ = "thirdparty"

    def __init__(self) -> None:
        self.measured = 0

    @hookimpl
    def govaudit_rules(self) -> list[Rule]:
        return [Rule("thirdparty.few_addresses", "地址过少", "Too few addresses", Severity.INFO, BASIS, "增加地址")]

    @hookimpl
    def govaudit_parameters(self) -> list[Parameter]:
        # a third-party parameter: declared with its type, its default given by the plugin
        return [Parameter("thirdparty.min_addresses", "int", default=2)]

    @hookimpl
    def govaudit_measure(self, site: SiteView, ctx: Any) -> None:
        self.measured += 1
        addrs = ctx.probe("dns").lookup(site.host, "A")
        ctx.measure("thirdparty.dns", "site", {"a": addrs}, version=2)

    @hookimpl
    def govaudit_check_site(self, site: SiteView, ctx: CheckContext) -> Any:
        m = ctx.measurement("thirdparty.dns")
        assert m is not None and m.version == 2 and m.plugin == "thirdparty"
        need = int(ctx.pack.value("thirdparty.min_addresses"))  # pack data, default declared above
        if len(m.data["a"]) < need:
            yield ctx.finding("thirdparty.few_addresses", site.homepage_url, f"只有 {len(m.data['a'])} 个地址",
                              key="site", evidence={"a": m.data["a"], "need": need})


def test_measure_then_check_reads_the_measurement(tmp_path: Path) -> None:
    fam = ThirdPartyFamily()
    audit = Audit(tmp_path, fam).run()
    assert fam.measured == 1
    [f] = audit.findings
    assert f.rule == "thirdparty.few_addresses" and f.evidence == {"a": ["127.0.0.1"], "need": 2}
    [m] = audit.site.measurements("thirdparty.dns")
    assert (m.kind, m.key, m.version, m.plugin, m.data) == ("thirdparty.dns", "site", 2, "thirdparty", {"a": ["127.0.0.1"]})
    assert not audit.errors


def test_recheck_does_not_measure_and_reuses_the_stored_record(tmp_path: Path) -> None:
    fam = ThirdPartyFamily()
    audit = Audit(tmp_path, fam).run()
    first = [f.id for f in audit.findings]
    pack = tmp_path / "strict.json"
    pack.write_text('{"id": "strict", "version": "1", "name_zh": "严", "name_en": "strict", "extends": "national",'
                    ' "values": {"thirdparty.min_addresses": {"value": 1, "source": "tests", "status": "local"}}}', "utf-8")
    result = recheck(audit.config, audit.run_id, audit.engine, audit.store)
    assert fam.measured == 1  # the trap: an engine that measured on recheck would count 2
    assert [f["id"] for f in result.report["findings"]] == first
    cfg = dataclasses.replace(audit.config, rules=str(pack))
    relaxed = recheck(cfg, audit.run_id, Engine(cfg, extra_plugins=[fam]), audit.store)
    assert relaxed.report["findings"] == [] and fam.measured == 1  # same record, the overlay's threshold


class Prober:
    """A check that still asks for a probe, the way checks/ipv6.py did."""

    __name__ = "prober"

    @hookimpl
    def govaudit_rules(self) -> list[Rule]:
        return [Rule("thirdparty.probed", "探测", "probed", Severity.INFO, BASIS, "无")]

    @hookimpl
    def govaudit_check_site(self, site: SiteView, ctx: CheckContext) -> Any:
        ctx.probe("http")
        yield ctx.finding("thirdparty.probed", site.homepage_url, "不应到达", key="x")


def test_checks_cannot_reach_probes(tmp_path: Path) -> None:
    audit = Audit(tmp_path, Prober()).run()
    assert audit.findings == []
    [err] = audit.errors
    assert err["plugin"] == "prober" and err["stage"] == "check" and "ProbeNotAllowed" in err["message"]
    with pytest.raises(ProbeNotAllowed):
        audit.ctx.probe("dns")
    assert isinstance(audit.ctx.measure_context("x").probe("dns").lookup("www.x.gov.cn", "A"), list)


def test_neither_checks_nor_enrichers_get_the_browser(tmp_path: Path) -> None:
    """No probe is a check- or enrich-stage exception any more: rendering moved to the measure stage
    (plugins/render_probe.py), so a check or an enricher asking for the browser is refused during
    ``govaudit check`` with the browser factory offered, and the factory is never called. Old: the
    enrich stage's ``LEGACY_ENRICH_PROBES = {"browser"}`` handed it to the render enricher."""

    built: list[str] = []
    audit = Audit(tmp_path, ThirdPartyFamily())
    ctx = CheckContext(audit.config, audit.engine.pack, audit.engine.rules, audit.store, audit.run_id,
                       {"browser": lambda mctx: built.append(mctx.plugin) or "a browser"}, URL)
    with pytest.raises(ProbeNotAllowed):
        ctx.probe("browser")
    with ctx.stage("enrich"), pytest.raises(ProbeNotAllowed):
        ctx.probe("browser")
    assert built == []
    assert ctx.measure_context("render").probe("browser") == "a browser"
    assert built == ["render"]


def test_recheck_has_no_probes_at_all(tmp_path: Path) -> None:
    """Even the enrich stage's browser exception is closed on recheck: it gets no probe factories."""

    audit = Audit(tmp_path, ThirdPartyFamily()).run()
    ctx = CheckContext(audit.config, audit.engine.pack, audit.engine.rules, audit.store, audit.run_id, {}, URL)
    with pytest.raises(KeyError):
        ctx.probe("browser")
    with pytest.raises(KeyError):
        ctx.measure_context("x").probe("http")


class Wrapper:
    """A hook wrapper: pluggy runs it around every plugin's call (the old engine bypassed it)."""

    __name__ = "wrapper"

    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl(wrapper=True)
    def govaudit_check_site(self, site: SiteView, ctx: CheckContext) -> Any:
        self.seen.append("before")
        try:
            return (yield)
        except Exception:
            self.seen.append("raised")
            raise


class Raiser:
    __name__ = "raiser"

    @hookimpl(tryfirst=True)
    def govaudit_check_site(self, site: SiteView, ctx: CheckContext) -> Any:
        raise RuntimeError("boom")


def test_wrappers_wrap_each_plugin_and_one_failure_isolated(tmp_path: Path) -> None:
    wrapper, fam = Wrapper(), ThirdPartyFamily()
    audit = Audit(tmp_path, wrapper, Raiser(), fam).run()
    assert [f.rule for f in audit.findings] == ["thirdparty.few_addresses"]  # raiser ran first and did not blank it
    assert [e["plugin"] for e in audit.errors] == ["raiser"]
    assert wrapper.seen.count("before") >= 2 and wrapper.seen.count("raised") == 1


class MeasuresSameKind:
    __name__ = "copycat"

    @hookimpl
    def govaudit_measure(self, site: SiteView, ctx: Any) -> None:
        ctx.measure("thirdparty.dns", "site", {"a": []})


def test_two_plugins_writing_one_measurement_kind_is_an_error(tmp_path: Path) -> None:
    audit = Audit(tmp_path, MeasuresSameKind(), ThirdPartyFamily()).run()
    errors = [e for e in audit.errors if e["stage"] == "measure"]
    assert len(errors) == 1 and "MeasurementClash" in errors[0]["message"]
    assert {"thirdparty", "copycat"} <= set(errors[0]["message"].replace(";", " ").split())
    [m] = audit.site.measurements("thirdparty.dns")
    assert m.plugin in ("thirdparty", "copycat")  # one owner; the other's write was refused, not merged


class ProbeClash:
    __name__ = "probeclash"

    @hookimpl
    def govaudit_probes(self) -> dict[str, Any]:
        return {"http": lambda ctx: None}


class DnsClash:
    __name__ = "dnsclash"

    @hookimpl
    def govaudit_probes(self) -> dict[str, Any]:
        return {"dns": lambda ctx: None}


class WriterClash:
    __name__ = "writerclash"

    class _W:
        name = "json"

        def write(self, report: dict, out: Path) -> Path:
            return out

    @hookimpl
    def govaudit_report_writers(self) -> list[Any]:
        return [self._W()]


@pytest.mark.parametrize("plugin, names", [(ProbeClash(), ("netprobe", "probeclash")), (DnsClash(), ("engine", "dnsclash")),
                                           (WriterClash(), ("report-writers", "writerclash"))])
def test_name_clashes_are_config_errors_naming_both(plugin: Any, names: tuple[str, str]) -> None:
    with pytest.raises(ConfigError) as exc:
        Engine(AuditConfig(as_of=AS_OF, url=URL), extra_plugins=[plugin])
    assert all(n in str(exc.value) for n in names), str(exc.value)


class Typo:
    __name__ = "typo"

    @hookimpl
    def govaudit_chek_site(self, site: Any, ctx: Any) -> None:  # never called by any engine
        raise AssertionError


def test_an_undeclared_hook_is_refused() -> None:
    with pytest.raises(PluginError, match="typo"):
        Engine(AuditConfig(as_of=AS_OF, url=URL), extra_plugins=[Typo()])


class LegacyServes:
    """Serves declared the old way, as an attribute: the engine no longer reads it."""

    __name__ = "legacyserves"
    govaudit_serves = ("columns",)

    @hookimpl
    def govaudit_enrich(self, site: Any, ctx: Any) -> None:
        pass


class Serves:
    __name__ = "serves"

    @hookimpl
    def govaudit_serves(self) -> list[str]:
        return ["columns"]

    @hookimpl
    def govaudit_enrich(self, site: Any, ctx: Any) -> None:
        pass


def test_serves_is_a_declared_hook() -> None:
    links_only = Engine(AuditConfig(as_of=AS_OF, url=URL, checks=["links"]), extra_plugins=[Serves(), LegacyServes()])
    assert not links_only.plugin_enabled("serves")
    assert links_only.plugin_enabled("legacyserves")  # an undeclared attribute means nothing
    assert not links_only.plugin_enabled("ipv6-probe") and not links_only.plugin_enabled("tls-probe")
    both = Engine(AuditConfig(as_of=AS_OF, url=URL, checks=["ipv6", "security"]))
    assert both.plugin_enabled("ipv6-probe") and both.plugin_enabled("tls-probe")


class Writer:
    """A check that edits the evidence, and an enricher that legitimately derives it."""

    __name__ = "writer"

    def __init__(self) -> None:
        self.enrich_store: Any = None

    @hookimpl
    def govaudit_rules(self) -> list[Rule]:
        return [Rule("thirdparty.wrote", "写入", "wrote", Severity.INFO, BASIS, "无")]

    @hookimpl
    def govaudit_enrich(self, site: SiteView, ctx: CheckContext) -> None:
        self.enrich_store = ctx.store
        ctx.store.add_record(ctx.run_id, None, "writer.note", "k", {"ok": True})  # enrich derives evidence

    @hookimpl
    def govaudit_check_site(self, site: SiteView, ctx: CheckContext) -> Any:
        assert list(ctx.store.iter_records("writer.note", run_id=ctx.run_id))  # reads work
        site.store.add_links(ctx.run_id, [])
        yield ctx.finding("thirdparty.wrote", URL, "不应到达", key="x")


def test_checks_get_a_read_only_store(tmp_path: Path) -> None:
    writer = Writer()
    audit = Audit(tmp_path, writer).run()
    assert audit.findings == []
    [err] = audit.errors
    assert err["plugin"] == "writer" and "read-only evidence store" in err["message"] and "add_links" in err["message"]
    assert isinstance(writer.enrich_store, EvidenceStore)
    with pytest.raises(AttributeError, match="add_record"):
        audit.ctx.store.add_record(audit.run_id, None, "x", "y", {})
