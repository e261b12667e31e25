"""One declaration per rule, as data: rule files, typed pack parameters, packs bound to what is declared."""

from __future__ import annotations

import ast
import json
from importlib import resources
from pathlib import Path

import pytest

from auditor.config import ConfigError
from auditor.context import CheckContext
from auditor.declarations import parse_declarations
from auditor.model import NO_DEFAULT, Basis, Parameter, Rule, Severity
from auditor.pluginmanager import collect_parameters, collect_rules, get_plugin_manager
from auditor.rulepacks import MissingParameter, available_packs, load_pack

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("auditor", "checks", "plugins", "reports")


@pytest.fixture(scope="module")
def declared() -> tuple[dict[str, Rule], dict[str, Parameter]]:
    pm = get_plugin_manager()
    return collect_rules(pm), collect_parameters(pm)


def overlay(tmp_path: Path, values: dict, name: str = "local-x") -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"id": name, "version": "1", "name_zh": "测试", "name_en": "test", "extends": "national",
                                "values": values}, ensure_ascii=False), "utf-8")
    return str(path)


def local(value: object) -> dict:
    return {"value": value, "source": "测试", "status": "local"}


# --- the pack is bound to what the plugins declare -------------------------------------------------

def test_every_pack_loads_bound_to_the_declared_parameters(declared) -> None:
    _, params = declared
    for name in available_packs():
        pack = load_pack(name, params)
        assert set(pack.values) == set(params), name  # every declared key has a value, no value is undeclared


def test_unknown_key_is_refused_naming_key_and_pack(tmp_path: Path, declared) -> None:
    _, params = declared
    # the trap: a typo of a real key, which the old loader kept and no check ever read
    path = overlay(tmp_path, {"freshness.homepage_day": local(30)})
    assert load_pack(path).values["freshness.homepage_day"]["value"] == 30  # unbound: still readable raw
    with pytest.raises(ConfigError, match=r"freshness\.homepage_day") as exc:
        load_pack(path, params)
    assert "local-x" in str(exc.value)


def test_wrong_typed_value_is_refused(tmp_path: Path, declared) -> None:
    _, params = declared
    with pytest.raises(ConfigError, match=r"freshness\.homepage_days.*int"):
        load_pack(overlay(tmp_path, {"freshness.homepage_days": local("14")}), params)
    with pytest.raises(ConfigError, match=r"freshness\.keywords_notice"):
        load_pack(overlay(tmp_path, {"freshness.keywords_notice": local(["通知", 3])}), params)
    with pytest.raises(ConfigError, match=r"freshness\.undated_counts_as_stale"):
        load_pack(overlay(tmp_path, {"freshness.undated_counts_as_stale": local(1)}), params)
    # a parameter's own schema: no negative window, no severity name the model lacks
    with pytest.raises(ConfigError, match=r"freshness\.homepage_days"):
        load_pack(overlay(tmp_path, {"freshness.homepage_days": local(-1)}), params)
    with pytest.raises(ConfigError, match=r"a11y\.severity_by_impact"):
        load_pack(overlay(tmp_path, {"a11y.severity_by_impact": local({"critical": "fatal"})}), params)
    # right types pass, nullable windows take null
    ok = load_pack(overlay(tmp_path, {"freshness.homepage_days": local(30), "freshness.window_other_days": local(None),
                                      "ipv6.support_target": local(1)}), params)
    assert ok.value("freshness.homepage_days") == 30 and ok.value("freshness.window_other_days") is None


def test_engine_and_rules_command_refuse_an_unknown_key(tmp_path: Path, cli) -> None:
    path = overlay(tmp_path, {"links.retries": local(3)})  # removed from the pack: nothing read it
    r = cli("rules", "--pack", path)
    assert r.returncode == 2 and "links.retries" in r.stderr


def test_value_has_no_inline_default() -> None:
    pack = load_pack("national")
    with pytest.raises(MissingParameter, match="nothing.here"):
        pack.value("nothing.here")
    with pytest.raises(TypeError):
        pack.value("freshness.homepage_days", 14)  # type: ignore[call-arg]


def test_a_third_party_default_fills_only_when_no_pack_sets_it(tmp_path: Path) -> None:
    params = {"robots.required": Parameter("robots.required", "bool", default=True, plugin="robots")}
    national_params = {**collect_parameters(get_plugin_manager()), **params}
    pack = load_pack("national", national_params)
    assert pack.value("robots.required") is True and pack.entry("robots.required")["pack"] == "plugin:robots"
    off = load_pack(overlay(tmp_path, {"robots.required": local(False)}), national_params)
    assert off.value("robots.required") is False and off.entry("robots.required")["pack"] == "local-x"
    no_default = {**national_params, "robots.strict": Parameter("robots.strict", "bool", plugin="robots")}
    with pytest.raises(ConfigError, match="robots.strict"):
        load_pack("national", no_default)


def test_local_requirements_are_kept_apart_from_values(declared) -> None:
    _, params = declared
    gaoan = load_pack("gaoan-2022", params)
    assert gaoan.requirements["columns.jczwgk_area_count"]["value"] == 26
    with pytest.raises(MissingParameter):
        gaoan.value("columns.jczwgk_area_count")


# --- declarations ----------------------------------------------------------------------------------

def test_every_built_in_parameter_has_its_default_in_national(declared) -> None:
    _, params = declared
    national = json.loads(resources.files("auditor").joinpath("rulepacks/national.json").read_text("utf-8"))["values"]
    missing = [k for k in params if k not in national]
    assert not missing
    assert all(p.default is NO_DEFAULT for p in params.values())  # built-ins never carry a default in code


def _pack_value_literals() -> list[tuple[str, int, str]]:
    """Every ``<…pack…>.value("literal")`` in the code (AST), with file and line."""

    out = []
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "value"
                        and "pack" in ast.unparse(node.func.value) and node.args
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    out.append((str(path.relative_to(ROOT)), node.lineno, node.args[0].value))
                    assert len(node.args) == 1 and not node.keywords, f"{path}:{node.lineno}: inline default"
                # elderly's pv(ctx, "elderly.…") wrapper
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "pv"
                        and len(node.args) == 2 and isinstance(node.args[1], ast.Constant)):
                    out.append((str(path.relative_to(ROOT)), node.lineno, node.args[1].value))
    return out


def test_every_pack_value_read_in_code_is_declared(declared) -> None:
    _, params = declared
    reads = _pack_value_literals()
    assert len(reads) > 60  # the scan sees the code (a scan that finds nothing cannot fail)
    undeclared = [f"{f}:{line} {key}" for f, line, key in reads if key not in params]
    assert not undeclared


# keys read through a computed name (f"freshness.keywords_{cls}", f"{family}.entry_keywords" …)
DYNAMIC_PREFIXES = ("freshness.keywords_", "freshness.window_", "freshness.veto_", "service.entry_", "interaction.entry_",
                    "documents.annual_report_deadline_", "interpretation.scope_")
# declared for the link-verdict judging stage of the pipeline branch, which reads it after the merge
READ_ELSEWHERE: set[str] = set()  # every declared parameter is read by name somewhere


def test_every_declared_parameter_is_read_by_some_code(declared) -> None:
    """The other half of "no unread key": a declared parameter nothing reads is a number that changes nothing."""

    _, params = declared
    text = "".join(p.read_text("utf-8") for folder in CODE_DIRS for p in (ROOT / folder).rglob("*.py"))
    unread = [k for k in params if f'"{k}"' not in text and not k.startswith(DYNAMIC_PREFIXES) and k not in READ_ELSEWHERE]
    assert not unread


def test_every_rule_reads_only_declared_parameters(declared) -> None:
    rules, params = declared
    with_params = [r for r in rules.values() if r.parameters]
    assert len(with_params) > 40
    for rule in with_params:
        assert set(rule.parameters) <= set(params), rule.id


def test_every_registered_rule_comes_from_a_data_declaration(declared) -> None:
    rules, _ = declared
    assert len(rules) > 150
    from_code = [rid for rid, r in rules.items() if not r.declared_in]
    assert not from_code
    assert rules["freshness.homepage_stale"].declared_in == "auditor.checks:rules/freshness.json"
    assert rules["a11y.image-alt"].declared_in == "auditor.checks:a11y_rules.json"


def test_declared_indicators_match_the_pack_scoring(declared) -> None:
    rules, _ = declared
    pack = load_pack("national")
    checked = 0
    for rid, rule in rules.items():
        scoring = pack.rule_scoring(rid)
        if rule.indicator and scoring:
            assert scoring["indicator"] == rule.indicator, rid
            checked += 1
    assert checked > 10


def test_a_third_party_rule_in_code_still_registers() -> None:
    class Robots:
        __name__ = "robots"

        from auditor.hookspecs import hookimpl

        @hookimpl
        def govaudit_rules(self) -> list[Rule]:
            return [Rule("robots.missing", "未发布 robots.txt", "No robots.txt", Severity.MINOR,
                         Basis(zh="测试依据第2条", source="tests", status="local"), "发布")]

        @hookimpl
        def govaudit_parameters(self) -> list[Parameter]:
            return [Parameter("robots.required", "bool", default=True)]

    pm = get_plugin_manager([Robots()])
    rules = collect_rules(pm)
    assert rules["robots.missing"].declared_in == "" and rules["robots.missing"].plugin == "robots"
    assert collect_parameters(pm)["robots.required"].plugin == "robots"


def test_a_parameter_declared_twice_with_different_types_is_a_plugin_error() -> None:
    from auditor.hookspecs import hookimpl
    from auditor.pluginmanager import PluginError

    class Clash:
        __name__ = "clash"

        @hookimpl
        def govaudit_parameters(self) -> list[Parameter]:
            return [Parameter("freshness.homepage_days", "string")]

    with pytest.raises(PluginError, match="freshness.homepage_days"):
        collect_parameters(get_plugin_manager([Clash()]))


def test_a_bad_declaration_is_refused() -> None:
    good = {"family": "demo", "parameters": {"demo.days": {"type": "int"}},
            "rules": [{"id": "demo.late", "name_zh": "迟", "name_en": "late", "severity": "minor",
                       "basis": {"zh": "测试依据", "source": "tests", "status": "local"},
                       "remediation_zh": "改", "remediation_en": "fix", "parameters": ["demo.days"]}]}
    decl = parse_declarations(good, "test")
    assert decl.rules[0].parameters == ("demo.days",) and decl.parameters[0].types == ("int",)
    for bad, match in (
        ({**good, "rules": [{**good["rules"][0], "severity": "fatal"}]}, "severity"),
        ({**good, "rules": [{**good["rules"][0], "deduction": 2}]}, "deduction"),
        ({**good, "parameters": {"demo.days": {"type": "integer"}}}, "type"),
        ({**good, "rules": [{**good["rules"][0], "parameters": ["demo.weeks"]}]}, "demo.weeks"),
        ({**good, "rules": [{**good["rules"][0], "id": "other.late"}]}, "family"),
        ({**good, "rules": [{**good["rules"][0], "basis": "nowhere"}]}, "nowhere"),
    ):
        with pytest.raises(ConfigError, match=match):
            parse_declarations(bad, "test")


# --- severity is fixed by the declaration --------------------------------------------------------

def test_severity_variants_are_declared(declared) -> None:
    rules, _ = declared
    stale = rules["freshness.column_stale"]
    assert stale.severity == Severity.MAJOR and stale.severity_of("veto") == Severity.VETO
    assert rules["privacy.id_number"].severity_of("weakly_masked") == Severity.MINOR
    with pytest.raises(KeyError, match="loud"):
        stale.severity_of("loud")


def test_ctx_finding_takes_only_a_declared_variant(declared) -> None:
    rules, _ = declared
    ctx = CheckContext.__new__(CheckContext)
    ctx.rules = rules
    assert ctx.finding("privacy.phone_number", "http://x/", "m", variant="weakly_masked").severity == Severity.MINOR
    assert ctx.finding("privacy.phone_number", "http://x/", "m").severity == Severity.MAJOR
    with pytest.raises(KeyError):
        ctx.finding("freshness.homepage_stale", "http://x/", "m", variant="veto")


def test_no_check_overrides_a_severity_at_emit_time() -> None:
    """Only a11y, whose severity is itself pack data (a11y.severity_by_impact), passes ``severity=``."""

    offenders = []
    for path in sorted((ROOT / "checks").glob("*.py")):
        if path.name == "a11y.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "finding":
                if any(k.arg == "severity" for k in node.keywords):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders


# --- what the user sees ----------------------------------------------------------------------------

def test_rules_command_shows_parameter_types_and_local_requirements(cli) -> None:
    r = cli("rules", "--pack", "gaoan-2022", "--lang", "en")
    assert r.returncode == 0, r.stderr
    assert "int|null" in r.stdout  # freshness.window_other_days
    assert "Local requirements" in r.stdout and "columns.jczwgk_area_count" in r.stdout


def test_freshness_veto_label_takes_its_windows_from_the_pack() -> None:
    from auditor.checks.freshness import _span_zh

    assert [_span_zh(d) for d in (14, 183, 365, 30, 10, None)] == ["2周", "6个月", "1年", "1个月", "10天", "不判定"]


def test_undated_counts_as_stale_is_read(tmp_path: Path, declared) -> None:
    """``freshness.undated_counts_as_stale`` was declared in national.json and read by nothing."""

    import datetime as dt

    from auditor.checks.freshness import Column, judge
    from auditor.docmodel.listing import Item

    _, params = declared

    class Ctx:
        as_of = dt.date(2026, 11, 1)

        def __init__(self, pack):
            self.pack = pack

    col = Column(name="通知公告", url="http://x/tzgg/", source="nav", found_on="http://x/", visited=True,
                 items=[Item("关于某事的通知", "http://x/tzgg/1.html")])
    national = load_pack("national", params)
    assert judge(col, Ctx(national), 365, {"notice"}).state == "stale"  # undated counts as not updated
    lenient = load_pack(overlay(tmp_path, {"freshness.undated_counts_as_stale": local(False)}), params)
    assert judge(col, Ctx(lenient), 365, {"notice"}).state == "not_judged"
