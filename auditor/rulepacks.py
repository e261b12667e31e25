"""Rule packs: thresholds, scoring and required columns as versioned, schema-validated data.

A pack is a JSON file. ``national`` is the baseline; a jurisdiction/year overlay names it in
``extends`` and overrides values, adds indicators and columns, or removes columns. The effective
pack records, for every value, which pack it came from, so ``govaudit rules --pack`` can show where
each number comes from and a report can be reproduced from its pack id and version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from auditor.config import ConfigError
from auditor.model import NO_DEFAULT, Parameter


class MissingParameter(KeyError):
    """``pack.value(key)`` for a key no pack in the chain sets (and no declaration gives a default)."""


@dataclass
class RulePack:
    """The effective pack after applying overlays."""

    id: str
    version: str
    name_zh: str
    name_en: str
    chain: list[str]  # baseline first
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → {value, source, status, pack}
    indicators: dict[str, dict[str, Any]] = field(default_factory=dict)
    columns: list[dict[str, Any]] = field(default_factory=list)
    # the scoring structure: blocks, vetoes, bonus, per-rule deductions (see auditor.scoring)
    scoring: dict[str, Any] = field(default_factory=dict)
    # local requirements an overlay records that no rule checks yet (shown, never read by a check)
    requirements: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the declared parameters once :meth:`bind` has checked the pack against them
    parameters: dict[str, Parameter] = field(default_factory=dict)

    def value(self, key: str) -> Any:
        """The effective value of ``key``. No inline default: the national pack holds every default,
        so a key missing here is a programming or packaging error, raised, never guessed."""

        entry = self.values.get(key)
        if entry is None:
            raise MissingParameter(f"rule pack {self.id} has no value for {key!r}")
        return entry["value"]

    def bind(self, parameters: dict[str, Parameter]) -> RulePack:
        """Check every value against the declared parameters, and fill plugin defaults.

        A value no plugin declares (a typo, or a local requirement nothing checks) and a value of the
        wrong type are :class:`ConfigError` naming the key and the pack that set it: a pack whose
        numbers are silently ignored would give a wrong audit that looks right. A declared parameter
        with no value anywhere takes the declaration's default (third-party plugins), else is refused.
        """

        for key, entry in self.values.items():
            param = parameters.get(key)
            if param is None:
                raise ConfigError(
                    f"规则包 {entry['pack']} 含未声明的参数 {key}（没有规则读取它）/ rule pack {entry['pack']}: "
                    f"unknown parameter {key!r} (no rule or plugin declares it)"
                )
            errors = list(jsonschema.Draft202012Validator(param.json_schema()).iter_errors(entry["value"]))
            if errors:
                raise ConfigError(
                    f"规则包 {entry['pack']} 参数 {key} 类型错误 / rule pack {entry['pack']}: parameter {key!r} "
                    f"must be {param.type_label()}: {errors[0].message}"
                )
        for key, param in parameters.items():
            if key in self.values:
                continue
            if param.default is NO_DEFAULT:
                raise ConfigError(
                    f"规则包 {self.id} 缺少参数 {key} 的取值 / rule pack {self.id} has no value for declared parameter "
                    f"{key!r} ({param.plugin or 'plugin'}; built-in parameters take their default from national.json)"
                )
            self.values[key] = {"value": param.default, "source": f"插件默认值 / default of plugin {param.plugin}",
                                "status": "unconfirmed", "pack": f"plugin:{param.plugin}"}
        self.parameters = dict(parameters)
        return self

    def entry(self, key: str) -> dict[str, Any] | None:
        return self.values.get(key)

    def rule_scoring(self, rule_id: str) -> dict[str, Any] | None:
        """How findings of ``rule_id`` are scored: its own entry, else its family's default, else None."""

        rules = self.scoring.get("rules", {})
        if rule_id in rules:
            return rules[rule_id]
        return self.scoring.get("family_defaults", {}).get(rule_id.split(".", 1)[0])

    def columns_for(self, profile: str) -> list[dict[str, Any]]:
        return [c for c in self.columns if profile in c["profiles"]]

    def describe(self) -> dict[str, Any]:
        """What a report records so the month's score can be reproduced."""

        return {"id": self.id, "version": self.version, "chain": self.chain, "name_zh": self.name_zh}


_SCORING_TABLES = ("blocks", "vetoes", "rules", "family_defaults")


@cache
def _schema() -> dict[str, Any]:
    return json.loads(resources.files("auditor").joinpath("rulepacks/rulepack.schema.json").read_text("utf-8"))


def available_packs() -> list[str]:
    folder = resources.files("auditor").joinpath("rulepacks")
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json") and "schema" not in p.name)


def _read_pack(name_or_path: str) -> dict[str, Any]:
    path = Path(name_or_path)
    if path.suffix == ".json" and path.exists():
        text = path.read_text("utf-8")
        origin = str(path)
    else:
        res = resources.files("auditor").joinpath(f"rulepacks/{name_or_path}.json")
        if not res.is_file():
            raise ConfigError(
                f"未知规则包 / unknown rule pack {name_or_path!r}; 可用 / available: {', '.join(available_packs())}"
            )
        text = res.read_text("utf-8")
        origin = name_or_path
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"规则包不是有效 JSON / rule pack {origin} is not valid JSON: {exc}") from exc
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(top)"
        raise ConfigError(f"规则包校验失败 / rule pack {origin} invalid at {where}: {errors[0].message}")
    return data


def load_pack(name_or_path: str = "national", parameters: dict[str, Parameter] | None = None) -> RulePack:
    """Load a pack and its ``extends`` chain; values from later packs override earlier ones.

    With ``parameters`` (what the loaded plugins declare, :func:`auditor.pluginmanager.collect_parameters`)
    the pack is also :meth:`RulePack.bind`-checked: how the engine, ``monitor`` and ``rules --pack`` load it.
    """

    chain: list[dict[str, Any]] = []
    seen: set[str] = set()
    current: str | None = name_or_path
    while current:
        data = _read_pack(current)
        if data["id"] in seen:
            raise ConfigError(f"规则包循环继承 / rule pack inheritance loop at {data['id']}")
        seen.add(data["id"])
        chain.append(data)
        current = data.get("extends")
    chain.reverse()
    top = chain[-1]
    pack = RulePack(
        id=top["id"],
        version=top["version"],
        name_zh=top["name_zh"],
        name_en=top["name_en"],
        chain=[f"{d['id']}@{d['version']}" for d in chain],
    )
    columns: dict[str, dict[str, Any]] = {}
    for data in chain:
        for key, entry in data.get("values", {}).items():
            pack.values[key] = {**entry, "pack": data["id"]}
        for key, ind in data.get("indicators", {}).items():
            pack.indicators[key] = {**ind, "pack": data["id"]}
        for col in data.get("columns", []):
            columns[col["id"]] = {**col, "pack": data["id"]}
        for key, entry in data.get("requirements", {}).items():
            pack.requirements[key] = {**entry, "pack": data["id"]}
        for col_id in data.get("columns_remove", []):
            columns.pop(col_id, None)
        for key, part in data.get("scoring", {}).items():
            # keyed tables merge entry by entry (an overlay re-scores one rule); the rest is replaced
            if key in _SCORING_TABLES:
                pack.scoring.setdefault(key, {}).update({k: {**v, "pack": data["id"]} for k, v in part.items()})
            else:
                pack.scoring[key] = part
    pack.columns = list(columns.values())
    return pack.bind(parameters) if parameters is not None else pack
