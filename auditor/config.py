"""Audit configuration: CLI options merged over a TOML file, validated with a JSON Schema.

Precedence: built-in defaults < ``--config FILE`` < command-line options. A bad value is a
:class:`ConfigError` with a message naming the key; the CLI exits 2 on it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from auditor.network.guard import env_networks, parse_networks

PROFILES = ("province", "city", "county", "township", "department")
LANGS = ("zh", "en")


class ConfigError(Exception):
    """A configuration the audit cannot run with; the message says which key and why."""


CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string"},
        "out": {"type": "string"},
        "db": {"type": "string"},
        "max_pages": {"type": "integer", "minimum": 1},
        "max_depth": {"type": "integer", "minimum": 0},
        "as_of": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "profile": {"enum": list(PROFILES)},
        "rules": {"type": "string"},
        "lang": {"enum": list(LANGS)},
        "dns_server": {"type": "string"},
        "resolve": {"type": "object", "additionalProperties": {"type": "string"}},
        "checks": {"type": "array", "items": {"type": "string"}},
        "skip": {"type": "array", "items": {"type": "string"}},
        "concurrency": {"type": "integer", "minimum": 1, "maximum": 256},
        "delay": {"type": "number", "minimum": 0},
        "timeout": {"type": "number", "exclusiveMinimum": 0},
        "obey_robots": {"type": "boolean"},
        "sibling_hosts": {"type": "array", "items": {"type": "string"}},
        "columns": {"type": "array", "items": {"type": "string"}},
        "time_budget": {"type": "number", "exclusiveMinimum": 0},
        "byte_budget": {"type": "integer", "minimum": 1},
        "page_max_bytes": {"type": "integer", "minimum": 1024},
        "fetch_ahead_pages": {"type": "integer", "minimum": 0},
        "fetch_ahead_bytes": {"type": "integer", "minimum": 0},
        "retries": {"type": "integer", "minimum": 0, "maximum": 10},
        "retry_after_cap": {"type": "number", "minimum": 0},
        "verify_tls": {"type": "boolean"},
        "allow_private": {"type": "boolean"},
        "allow_networks": {"type": "array", "items": {"type": "string"}},
        "check_external": {"type": "boolean"},
        "incremental": {"type": "boolean"},
        "user_agent": {"type": "string"},
        "formats": {"type": "array", "items": {"type": "string"}},
        "plugins": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}


REQUIRE_AS_OF_ENV = "GOVAUDIT_REQUIRE_AS_OF"


def default_as_of() -> str:
    """Today, the assessment date when ``--as-of`` is not given.

    The one place govaudit reads the clock for an audit. A test suite sets
    ``GOVAUDIT_REQUIRE_AS_OF=1`` so an audit that forgot ``--as-of`` fails at once instead of
    passing this month and failing the next (freshness and expiry verdicts move with the date).
    """

    if os.environ.get(REQUIRE_AS_OF_ENV):
        raise ConfigError(
            f"需要 --as-of（{REQUIRE_AS_OF_ENV} 已设置）/ --as-of is required: {REQUIRE_AS_OF_ENV} is set, "
            "so the assessment date may not default to today"
        )
    return dt.date.today().isoformat()


@dataclass
class AuditConfig:
    """Everything one audit needs to know. Plugins read their own options from ``plugin_options``."""

    url: str = ""
    out: str | None = None
    db: str | None = None
    max_pages: int = 5000
    max_depth: int = 8
    as_of: str = field(default_factory=default_as_of)
    profile: str = "county"
    rules: str = "national"
    lang: str = "zh"
    dns_server: str | None = None
    resolve: dict[str, str] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    concurrency: int = 16
    delay: float = 0.0
    timeout: float = 15.0  # the indicators' 15 s "does not open" limit
    obey_robots: bool = True
    sibling_hosts: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    time_budget: float = 3600.0
    byte_budget: int = 2 * 1024**3
    page_max_bytes: int = 20 * 1024**2
    # speculative fetch-ahead across the BFS level barrier (auditor.crawl.frontier): next-level
    # pages fetched, at most this many at once, while a slow page holds its level; 0 turns it off
    fetch_ahead_pages: int = 64
    fetch_ahead_bytes: int = 32 * 1024**2  # held answers' bodies, never above this
    retries: int = 2
    retry_after_cap: float = 30.0
    verify_tls: bool = True
    # the SSRF guard (auditor.network.guard): non-public targets are refused unless allowed here;
    # GOVAUDIT_ALLOW_NETWORKS gives the default list (a test harness allows its loopback sites)
    allow_private: bool = False
    allow_networks: list[str] = field(default_factory=env_networks)
    check_external: bool = True
    incremental: bool = True  # reuse the previous run's unchanged pages and fresh ok verdicts (conditional requests)
    user_agent: str = "govaudit/0.1 (+self-check; 政府网站合规自查)"
    formats: list[str] = field(default_factory=lambda: ["json", "html", "xlsx", "ledger"])  # ledger: 整改台账
    plugin_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def as_of_date(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of)

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    def resolve_pairs(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.resolve.items()}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def family_enabled(self, family: str) -> bool:
        """``--checks``/``--skip`` select rule families (``links``) or single rules (``links.dead``)."""

        def match(sel: list[str]) -> bool:
            return any(family == s or family.startswith(s + ".") or s.startswith(family + ".") for s in sel)

        if self.checks and not match(self.checks):
            return False
        return not (self.skip and any(family == s or family.startswith(s + ".") for s in self.skip))

    def rule_enabled(self, rule_id: str) -> bool:
        if self.checks and not any(rule_id == s or rule_id.startswith(s + ".") for s in self.checks):
            return False
        return not any(rule_id == s or rule_id.startswith(s + ".") for s in self.skip)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read and validate a TOML config; errors name the file and the key."""

    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"配置文件不存在 / config file not found: {p}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件格式错误 / invalid TOML in {p}: {exc}") from exc
    validate_dict(data, source=str(p))
    return data


def validate_dict(data: dict[str, Any], source: str = "options") -> None:
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    errs = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    if errs:
        first = errs[0]
        where = ".".join(str(p) for p in first.path) or "(top level)"
        raise ConfigError(f"配置错误 / invalid configuration in {source}: {where}: {first.message}")


def build_config(file_values: dict[str, Any], cli_values: dict[str, Any]) -> AuditConfig:
    """Merge file and CLI values (CLI wins where given) and check what a schema cannot."""

    merged: dict[str, Any] = {}
    for source in (file_values, {k: v for k, v in cli_values.items() if v is not None}):
        for key, value in source.items():
            if key == "plugins":
                merged.setdefault("plugin_options", {}).update(value)
            else:
                merged[key] = value
    validate_dict({k: v for k, v in merged.items() if k != "plugin_options"})
    cfg = AuditConfig(**merged)
    _check_semantics(cfg)
    return cfg


def _check_semantics(cfg: AuditConfig) -> None:
    if cfg.url:
        parts = urlsplit(cfg.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"网址无效 / not an http(s) URL: {cfg.url!r}")
    try:
        dt.date.fromisoformat(cfg.as_of)
    except ValueError as exc:
        raise ConfigError(f"--as-of 日期无效 / invalid date: {cfg.as_of!r}") from exc
    if cfg.dns_server:
        host, _port = parse_hostport(cfg.dns_server, default_port=53)
        try:
            ipaddress.ip_address(host)
        except ValueError as exc:
            raise ConfigError(f"--dns-server 需要 IP 地址[:端口] / expects IP[:PORT]: {cfg.dns_server!r}") from exc
    for host, addr in cfg.resolve.items():
        if not host or not addr:
            raise ConfigError(f"--resolve 需要 HOST=ADDR / expects HOST=ADDR: {host}={addr}")
    try:
        parse_networks(cfg.allow_networks)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    # --format names are checked against the registered report writers (Engine), not a fixed list:
    # a third-party writer's format is as valid as the built-in ones.


def parse_hostport(text: str, default_port: int) -> tuple[str, int]:
    """``1.2.3.4``, ``1.2.3.4:5353``, ``[::1]:5353`` → (host, port)."""

    text = text.strip()
    try:
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else default_port
        elif text.count(":") == 1:
            host, port_s = text.split(":")
            port = int(port_s)
        else:
            host, port = text, default_port
    except ValueError as exc:
        raise ConfigError(f"地址无效 / invalid HOST:PORT: {text!r}") from exc
    if not host or not 0 < port < 65536:
        raise ConfigError(f"地址无效 / invalid HOST:PORT: {text!r}")
    return host, port


def parse_resolve(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        host, sep, addr = item.partition("=")
        if not sep or not host or not addr:
            raise ConfigError(f"--resolve 需要 HOST=ADDR / expects HOST=ADDR: {item!r}")
        out[host.strip().lower()] = addr.strip().strip("[]")
    return out
