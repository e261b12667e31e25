"""The data model every part of govaudit shares: rules, findings, fetch records, links.

Plain dataclasses on purpose: checks written by third parties import these and nothing else,
and the evidence store maps them to rows without an ORM layer in between.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How a finding weighs in the State Council inspection indicators (国办秘函〔2019〕19号)."""

    VETO = "veto"  # 单项否决: the site fails whatever its score
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"


SEVERITY_ORDER = {Severity.VETO: 0, Severity.MAJOR: 1, Severity.MINOR: 2, Severity.INFO: 3}


class Verdict(StrEnum):
    """A link target's verdict. Unverifiable is never counted as dead (peer-lessons.md)."""

    OK = "ok"
    DEAD = "dead"
    UNVERIFIABLE = "unverifiable"


class Region(StrEnum):
    """Where on a page a link sits; evaluators weigh navigation and content links differently."""

    NAV = "nav"
    HEADER = "header"
    CONTENT = "content"
    FOOTER = "footer"


@dataclass(frozen=True, slots=True)
class Basis:
    """The regulation and clause a rule rests on, and how sure we are of it (rules.md marks)."""

    zh: str
    en: str = ""
    source: str = ""  # document number / URL of the text read
    status: str = "confirmed"  # confirmed | partial | unconfirmed  (✅ / 🟡 / ❌ in rules.md)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


PARAMETER_TYPES = {"int": "integer", "number": "number", "bool": "boolean", "string": "string", "list": "array",
                   "object": "object", "null": "null"}
NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "NO_DEFAULT"})()


@dataclass(frozen=True, slots=True)
class Parameter:
    """A rule-pack value a plugin reads, declared with its type (``govaudit_parameters`` hook).

    ``type`` is one of :data:`PARAMETER_TYPES` or a tuple of them (``("int", "null")``); ``schema`` an
    optional JSON schema the value must also satisfy (``{"items": {"type": "string"}}``). The value
    itself lives in a pack: built-in parameters have theirs in ``national.json``; a third-party
    plugin may give ``default`` (used, and shown as coming from the plugin, when no pack sets it).
    A pack value nobody declares, or of the wrong type, is refused when the pack is bound.
    """

    key: str
    type: str | tuple[str, ...]
    description: str = ""
    schema: dict[str, Any] | None = None
    default: Any = NO_DEFAULT
    plugin: str = ""

    @property
    def types(self) -> tuple[str, ...]:
        return (self.type,) if isinstance(self.type, str) else tuple(self.type)

    def json_schema(self) -> dict[str, Any]:
        unknown = [t for t in self.types if t not in PARAMETER_TYPES]
        if unknown:
            raise ValueError(f"parameter {self.key}: unknown type {unknown[0]!r} (one of {', '.join(PARAMETER_TYPES)})")
        return {**(self.schema or {}), "type": [PARAMETER_TYPES[t] for t in self.types]}

    def type_label(self) -> str:
        return "|".join(self.types)


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule a plugin declares through the ``govaudit_rules`` hook.

    ``indicator`` names the scoring group in the rule pack (deductions are data there, not here).
    ``variants`` are the other severities a finding of this rule may carry, each by name
    (``{"veto": Severity.VETO}``): a check picks one with ``ctx.finding(..., variant="veto")`` and
    can never invent a severity the declaration does not list. ``parameters`` are the pack keys the
    rule reads (their types are declared through ``govaudit_parameters``); ``declared_in`` the data
    file the rule was read from (empty for a rule written in code).
    """

    id: str
    name_zh: str
    name_en: str
    severity: Severity
    basis: Basis
    remediation_zh: str
    remediation_en: str = ""
    indicator: str | None = None
    plugin: str = ""
    variants: dict[str, Severity] = field(default_factory=dict, hash=False, compare=False)
    parameters: tuple[str, ...] = ()
    declared_in: str = ""

    def severity_of(self, variant: str | None) -> Severity:
        """The declared severity of ``variant`` (None: the rule's own)."""

        if variant is None:
            return self.severity
        if variant not in self.variants:
            raise KeyError(f"rule {self.id} declares no severity variant {variant!r} ({', '.join(self.variants) or 'none'})")
        return self.variants[variant]

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_zh

    def remediation(self, lang: str) -> str:
        return self.remediation_en if lang == "en" and self.remediation_en else self.remediation_zh


@dataclass(slots=True)
class Finding:
    """One problem found. ``key`` holds what makes the problem the same problem next month.

    The stable id is a hash of (rule, key): a dead link keeps its id as long as its target is dead,
    whatever pages link to it or how the crawl order changed.
    """

    rule: str
    severity: Severity
    url: str
    message_zh: str
    message_en: str = ""
    source_url: str | None = None
    column: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    key: str | None = None
    basis: Basis | None = None
    remediation_zh: str = ""
    remediation_en: str = ""
    plugin: str = ""

    @property
    def id(self) -> str:
        raw = f"{self.rule}\x1f{self.key if self.key is not None else self.url}"
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]

    def message(self, lang: str) -> str:
        return self.message_en if lang == "en" and self.message_en else self.message_zh


@dataclass(slots=True)
class FetchRecord:
    """Every HTTP exchange the audit made, whatever its purpose (page, link check, probe)."""

    url: str
    purpose: str  # page | check | calibration | sitemap | robots | attachment
    method: str = "GET"
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    size: int | None = None
    elapsed: float | None = None
    error_kind: str | None = None  # dns | refused | timeout | tls | reset | too_large | other
    error: str | None = None
    redirects: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    depth: int | None = None
    fingerprint: str | None = None  # normalised-text hash, for soft-404 comparison
    title: str | None = None
    fetched_at: float = 0.0
    # What the link-judging stage needs, so it can re-judge from the store (``govaudit recheck``):
    attempts: int = 1  # tries made, retries included
    error_like: bool = False  # the text says "not found" (extract.looks_like_error_page)
    body_hash: str | None = None  # exact bytes of an HTML answer, to tell a catch-all host from an error template
    latency: float | None = None  # seconds to the response headers (Scrapy's download_latency)


@dataclass(slots=True)
class LinkEdge:
    """A link found on a stored page (or inside an attachment)."""

    source_url: str
    target_url: str
    anchor: str = ""
    region: Region = Region.CONTENT
    tag: str = "a"  # a | img | script | link | iframe | meta | style | css | attachment …
    position: int = 0
    attribute: str = ""  # href | src | srcset | poster | refresh | og:image | ld+json | url | @import …
    fragment: str | None = None  # what followed "#" on a navigation link or usemap (checked as an anchor)


@dataclass(slots=True)
class LinkResult:
    """The verdict on one distinct link target, after retries, fallbacks and soft-404 calibration."""

    target_url: str
    verdict: Verdict
    reason: str | None = None  # http_status | dns | refused | timeout | tls | soft_404 | bot_wall | ...
    status: int | None = None
    final_url: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    on_site: bool = True


def dumps(value: Any) -> str:
    """JSON for the store and reports: Chinese kept readable, keys sorted for stable diffs."""

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Basis):
        return value.as_dict()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
