"""Rule declarations as data: one JSON file per family, validated by ``rules/declarations.schema.json``.

A file holds the family's typed pack parameters and one declaration per rule (id, names, severity and
its named variants, basis, remediation, indicator, the parameters it reads). A plugin loads its file
with :func:`load_declarations` and returns ``.rules`` from ``govaudit_rules`` and ``.parameters`` from
``govaudit_parameters``; a third party may still build :class:`~auditor.model.Rule` objects in code.
Keeping the declaration out of Python means what a rule id means — its severity, basis, the
numbers it takes — is one record that ``govaudit rules`` shows and a test can read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from auditor.config import ConfigError
from auditor.model import Basis, Parameter, Rule, Severity


@dataclass(frozen=True)
class Declarations:
    """What one declaration file declares."""

    family: str
    source: str  # package/resource it was read from
    rules: list[Rule] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    bases: dict[str, Basis] = field(default_factory=dict)

    def hooks(self) -> tuple[Callable[[], list[Rule]], Callable[[], list[Parameter]]]:
        """The ``govaudit_rules`` and ``govaudit_parameters`` hook implementations of the plugin that
        owns this file, so each check module says it once::

            DECLARED = load_declarations("auditor.checks", "rules/links.json")
            govaudit_rules, govaudit_parameters = DECLARED.hooks()
        """

        from auditor.hookspecs import hookimpl  # here: hookspecs imports the model this module builds

        def govaudit_rules() -> list[Rule]:
            return list(self.rules)

        def govaudit_parameters() -> list[Parameter]:
            return list(self.parameters)

        govaudit_rules.__doc__ = f"The rules declared in {self.source}."
        govaudit_parameters.__doc__ = f"The pack parameters declared in {self.source} (values in the rule packs)."
        return hookimpl(govaudit_rules), hookimpl(govaudit_parameters)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


@cache
def schema() -> dict[str, Any]:
    return json.loads(resources.files("auditor").joinpath("rules/declarations.schema.json").read_text("utf-8"))


def parse_declarations(data: dict[str, Any], source: str) -> Declarations:
    """Validate and build; any fault is a :class:`ConfigError` naming the file and the place."""

    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(top)"
        raise ConfigError(f"规则声明校验失败 / rule declarations {source} invalid at {where}: {errors[0].message}")
    family = data["family"]
    params: list[Parameter] = []
    for key, spec in data["parameters"].items():
        t = spec["type"]
        p = Parameter(key=key, type=t if isinstance(t, str) else tuple(t), description=spec.get("description", ""),
                      schema=spec.get("schema"))
        try:
            jsonschema.Draft202012Validator.check_schema(p.json_schema())
        except jsonschema.SchemaError as exc:
            raise ConfigError(f"规则声明 / rule declarations {source}: parameter {key} has a bad schema: {exc.message}") from exc
        params.append(p)
    bases = {name: Basis(**b) for name, b in data.get("bases", {}).items()}
    declared = {p.key for p in params}
    rules: list[Rule] = []
    for spec in data["rules"]:
        rid = spec["id"]
        if rid.split(".", 1)[0] not in data.get("families", [family]):
            raise ConfigError(f"规则声明 / rule declarations {source}: rule {rid} is not of family {family}")
        basis = spec["basis"]
        if isinstance(basis, str):
            if basis not in bases:
                raise ConfigError(f"规则声明 / rule declarations {source}: rule {rid} names unknown basis {basis!r}")
            basis_obj = bases[basis]
        else:
            basis_obj = Basis(**basis)
        unknown = [k for k in spec.get("parameters", []) if k not in declared]
        if unknown:
            raise ConfigError(f"规则声明 / rule declarations {source}: rule {rid} reads undeclared parameter {unknown[0]}")
        rules.append(Rule(
            id=rid, name_zh=spec["name_zh"], name_en=spec["name_en"], severity=Severity(spec["severity"]),
            basis=basis_obj, remediation_zh=spec["remediation_zh"], remediation_en=spec.get("remediation_en", ""),
            indicator=spec.get("indicator"), variants={k: Severity(v) for k, v in spec.get("variants", {}).items()},
            parameters=tuple(spec.get("parameters", [])), declared_in=source,
        ))
    return Declarations(family=family, source=source, rules=rules, parameters=params, bases=bases)


@cache
def load_declarations(package: str, resource: str) -> Declarations:
    """``load_declarations("auditor.checks", "rules/freshness.json")`` — package data, read once."""

    source = f"{package}:{resource}"
    try:
        text = resources.files(package).joinpath(resource).read_text("utf-8")
        data = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"规则声明无法读取 / rule declarations {source} unreadable: {exc}") from exc
    return parse_declarations(data, source)
