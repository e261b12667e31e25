"""What checks see: a read-only view of the evidence store, and the audit's context.

Checks never touch HTTP. A :class:`PageView` decodes a stored page lazily (bytes → text → lxml
tree) and only once; a :class:`SiteView` streams pages and links from the store so a 100k-page
site never sits in memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, overload
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from auditor.config import AuditConfig
from auditor.crawl.extract import visible_text  # the crawl (and its parse worker) fingerprints the same text
from auditor.measure.records import Measurement, MeasurementReader, MeasurementWriter
from auditor.model import Finding, LinkResult, Rule, Severity, Verdict
from auditor.rulepacks import RulePack
from auditor.store.database import EvidenceStore, decompress

if TYPE_CHECKING:
    from auditor.network.http import HttpProbe
    from auditor.network.resolve import Resolver


class UnknownRuleError(Exception):
    """A plugin reported a finding for a rule nobody declared."""


class ProbeNotAllowed(KeyError):
    """A check (or a recheck) asked for a network probe: only the measure stage may use one.

    A ``KeyError`` so code written for "no plugin provides this probe" degrades the same way."""


# The measurement kinds of the render plugin (plugins/render_probe.py) that page views read.
RENDER_KIND = "render"
RENDER_PAGE_KIND = "render.page"


class ProbeTable:
    """The audit's probe factories and the probes built from them (each at most once, closed once)."""

    def __init__(self, factories: dict[str, Callable[[Any], Any]] | None = None):
        self.factories = dict(factories or {})
        self.built: dict[str, Any] = {}

    def get(self, name: str, ctx: MeasureContext) -> Any:
        if name not in self.built:
            if name not in self.factories:
                raise KeyError(f"no plugin provides the probe {name!r}; known: {sorted(self.factories)}")
            self.built[name] = self.factories[name](ctx)
        return self.built[name]

    def close(self) -> None:
        for probe in self.built.values():
            close = getattr(probe, "close", None)
            if callable(close):
                close()
        self.built.clear()


class StoreReader:
    """The evidence store as checks see it: every read (``iter_*``, ``get_*``, ``list_*``, ``count``)
    and ``add_error`` (bad input becomes an error record), nothing else.

    Why: a check that rewrites a page body or adds links changes the evidence every later check
    and every recheck reads. Derived data goes through ``ctx.record`` / ``ctx.metric``; a write
    attempted here raises at once with the way out in the message."""

    _ALLOWED = frozenset({"add_error", "count", "flush"})

    def __init__(self, store: EvidenceStore):
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("iter_", "get_", "list_")) or name in self._ALLOWED:
            return getattr(self._store, name)
        raise AttributeError(
            f"检查阶段只能读取证据库 / checks get a read-only evidence store: {name!r} is not a read "
            "(derived data: ctx.record / ctx.metric; network facts: a govaudit_measure plugin)"
        )


class PageView:
    """One stored page (HTML or attachment), decoded on demand."""

    def __init__(self, row: dict[str, Any], store: EvidenceStore | None = None, run_id: str | None = None,
                 homepage_url: str | None = None, site: SiteView | None = None, rendered: bool = False):
        self._row = row
        self._site = site
        self._store = store
        self._run_id = run_id
        self._homepage = homepage_url
        self.url: str = row["url"]
        self.final_url: str = row.get("final_url") or row["url"]
        self.status: int | None = row.get("status")
        self.content_type: str = row.get("content_type") or ""
        self.encoding: str = row.get("encoding") or "utf-8"
        self.depth: int | None = row.get("depth")
        self.title: str = row.get("title") or ""
        self.kind: str = row.get("kind") or "html"
        self.headers: dict[str, str] = row.get("headers") or {}
        # Rendered in the measure stage (plugins/render_probe.py): the body is the browser's DOM,
        # the fetched bytes stay in ``original_body``.
        self.rendered = rendered
        if rendered:
            self.encoding = "utf-8"

    @property
    def is_html(self) -> bool:
        return self.kind == "html"

    @property
    def is_homepage(self) -> bool:
        return self._homepage is not None and self.url in (self._homepage, self._homepage.rstrip("/"))

    @cached_property
    def error_reason(self) -> str | None:
        """Why this stored page is not a live content page, or None when it is one.

        ``"http_<status>"`` for an answer outside 2xx/3xx (4xx, 5xx); ``"soft_404"`` (or ``"http_status"``) when the link
        checker judged the URL dead although it answered 200 — a page matching the host's
        calibration error page, sent to an error path, or saying 页面不存在. The verdicts come from
        the run's ``link_results`` (see :mod:`auditor.linkjudge`), read once per site view.
        """

        if self.status is not None and not 200 <= self.status < 400:
            return f"http_{self.status}"
        if self._site is not None:
            dead = self._site.error_pages
        elif self._store is not None and self._run_id is not None:
            dead = _error_pages(self._store, self._run_id)
        else:
            return None
        return dead.get(self.url) or dead.get(self.final_url)

    @property
    def is_error_page(self) -> bool:
        """True for an HTTP error answer or a soft 404: no identity, meta, a11y or 适老化 finding
        belongs to such a page (its template is the error template, not the site's)."""

        return self.error_reason is not None

    @cached_property
    def original_body(self) -> bytes:
        """The bytes as fetched by the crawl."""

        return decompress(self._row.get("body"))

    @cached_property
    def body(self) -> bytes:
        """What a visitor's browser shows: the rendered DOM when the page was rendered, else the
        fetched bytes."""

        if self.rendered and self._store is not None and self._run_id is not None:
            m = MeasurementReader(self._store, self._run_id).measurement(RENDER_PAGE_KIND, self.url)
            if m is not None and isinstance(m.data, dict) and isinstance(m.data.get("html"), str):
                return m.data["html"].encode("utf-8")
        return self.original_body

    @cached_property
    def text(self) -> str:
        """The page source as text, decoded with the encoding the crawl settled on."""

        return self.body.decode(_codec(self.encoding), errors="replace")

    @cached_property
    def tree(self) -> Any:
        """The lxml HTML tree, or None for non-HTML pages and unparseable bodies."""

        if not self.is_html or not self.text.strip():
            return None
        try:
            return lxml.html.document_fromstring(self.text)
        except ValueError:
            # XHTML with an ``<?xml … encoding=…?>`` declaration: lxml refuses a str that declares an
            # encoding, so parse the bytes and let the declaration speak
            try:
                return lxml.html.document_fromstring(self.body)
            except (etree.ParserError, ValueError):
                return None
        except etree.ParserError:
            return None

    @cached_property
    def meta(self) -> dict[str, str]:
        """``<meta name=… content=…>`` by name (case kept: SiteIDCode, PubDate…)."""

        out: dict[str, str] = {}
        if self.tree is None:
            return out
        for el in self.tree.iter("meta"):
            name = el.get("name") or el.get("property")
            if name and name not in out:
                out[name] = (el.get("content") or "").strip()
        return out

    @cached_property
    def visible_text(self) -> str:
        """Text a reader sees: scripts, styles and comments removed, whitespace collapsed."""

        if self.tree is None:
            return ""
        return visible_text(self.tree)

    def links(self) -> list[dict[str, Any]]:
        if self._store is None or self._run_id is None:
            return []
        return list(self._store.iter_links(self._run_id, source_url=self.url))


ERROR_PAGE_REASONS = ("soft_404", "http_status")


def _error_pages(store: EvidenceStore, run_id: str) -> dict[str, str]:
    """URL → reason for every target the link checker judged an error page (not network failures:
    a stored page that timed out once elsewhere was still fetched and is live)."""

    out: dict[str, str] = {}
    for r in store.iter_link_results(run_id, Verdict.DEAD):
        if r.reason in ERROR_PAGE_REASONS:
            out[r.target_url] = r.reason or "dead"
    return out


def _codec(encoding: str) -> str:
    enc = (encoding or "utf-8").lower()
    return "gb18030" if enc in ("gb2312", "gbk", "gb_2312-80", "x-gbk") else enc


class SiteView:
    """The whole stored audit, streamed from the evidence store."""

    def __init__(self, store: EvidenceStore | StoreReader, run: dict[str, Any]):
        self.store = store if isinstance(store, StoreReader) else StoreReader(store)
        self.run = run
        self.run_id: str = run["id"]
        self.homepage_url: str = run.get("stats", {}).get("homepage_url") if run.get("stats") else None
        self.homepage_url = self.homepage_url or run["start_url"]
        self.host = (urlsplit(self.homepage_url).hostname or "").lower()

    def pages(self, kind: str | None = None) -> Iterator[PageView]:
        rendered = self.rendered_urls()
        for row in self.store.iter_pages(self.run_id):
            if kind is None or row.get("kind") == kind:
                yield PageView(row, self.store, self.run_id, self.homepage_url, self, row["url"] in rendered)

    def rendered_urls(self) -> frozenset[str]:
        """Pages the measure stage rendered in the browser (read afresh: the measure stage adds them)."""

        m = self.measurement(RENDER_KIND)
        if m is None or not isinstance(m.data, dict):
            return frozenset()
        return frozenset(m.data.get("rendered") or ())

    def live_pages(self, kind: str | None = None) -> Iterator[PageView]:
        """Stored pages that are live content pages: :meth:`pages` without HTTP error answers and
        soft 404s (:attr:`PageView.is_error_page`). Checks about a page's own template (identity,
        meta, a11y, 适老化) read these, so a dead page is reported once, as a dead link."""

        for page in self.pages(kind):
            if not page.is_error_page:
                yield page

    @cached_property
    def error_pages(self) -> dict[str, str]:
        """URL → reason (``soft_404`` / ``http_status``) for every URL the link checker judged an
        error page in this run; the one shared answer to "is this stored page dead"."""

        return _error_pages(self.store, self.run_id)

    def page(self, url: str) -> PageView | None:
        row = self.store.get_page(self.run_id, url)
        if not row:
            return None
        return PageView(row, self.store, self.run_id, self.homepage_url, self, row["url"] in self.rendered_urls())

    @cached_property
    def homepage(self) -> PageView | None:
        return self.page(self.homepage_url)

    def links(self, source_url: str | None = None, target_url: str | None = None) -> Iterator[dict[str, Any]]:
        return self.store.iter_links(self.run_id, source_url=source_url, target_url=target_url)

    def link_results(self, verdict: Verdict | None = None) -> Iterator[LinkResult]:
        return self.store.iter_link_results(self.run_id, verdict)

    def records(self, kind: str) -> Iterator[dict[str, Any]]:
        return self.store.iter_records(kind, run_id=self.run_id)

    # --- measurements (written by the measure stage; read-only here) -------------------------------
    def measurements(self, kind: str) -> list[Measurement]:
        """Every stored measurement of ``kind`` (one per key), e.g. ``site.measurements("ipv6")``."""

        return MeasurementReader(self.store, self.run_id).measurements(kind)

    def measurement(self, kind: str, key: str = "site") -> Measurement | None:
        """The stored measurement of ``kind`` for ``key``; None when the measure stage stored none."""

        return MeasurementReader(self.store, self.run_id).measurement(kind, key)


class _AuditSettings:
    """What every stage's context reads from the configuration (one place for both contexts)."""

    config: AuditConfig

    @property
    def lang(self) -> str:
        return self.config.lang

    @property
    def as_of(self) -> dt.date:
        return self.config.as_of_date

    @property
    def profile(self) -> str:
        return self.config.profile


class CheckContext(_AuditSettings):
    """The audit as a check sees it: configuration, rule pack, declared rules, the stored evidence
    and measurements — and no network: :meth:`probe` refuses (the measure stage owns the probes)."""

    def __init__(
        self,
        config: AuditConfig,
        pack: RulePack,
        rules: dict[str, Rule],
        store: EvidenceStore,
        run_id: str,
        probes: dict[str, Callable[[Any], Any]] | ProbeTable | None = None,
        homepage_url: str | None = None,
    ):
        self.homepage_url = homepage_url or config.url
        self.config = config
        self.pack = pack
        self.rules = rules
        self._store = store
        self._reader = StoreReader(store)
        self._stage = "check"
        self.run_id = run_id
        self._probe_table = probes if isinstance(probes, ProbeTable) else ProbeTable(probes)
        self._measurements = MeasurementReader(store, run_id)
        self._writer: MeasurementWriter | None = None
        self.account_sources: list[Any] = []  # govaudit_account_sources, set by the engine for the measure stage

    @property
    def store(self) -> EvidenceStore | StoreReader:
        """The evidence store: read-only (:class:`StoreReader`) for checks; writable for the
        enrich stage (which derives evidence) and the engine."""

        return self._reader if self._stage == "check" else self._store

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Run a block as stage ``name`` (``"enrich"`` gets the writable store)."""

        before, self._stage = self._stage, name
        try:
            yield
        finally:
            self._stage = before

    # --- measurements: read-only for checks ------------------------------------------------------
    def measurements(self, kind: str) -> list[Measurement]:
        """Every stored measurement of ``kind`` in this run (one per key, sorted by key)."""

        return self._measurements.measurements(kind)

    def measurement(self, kind: str, key: str = "site") -> Measurement | None:
        """The stored measurement of ``kind`` for ``key``, or None (measure stage off, or it failed)."""

        return self._measurements.measurement(kind, key)

    # --- probes: not for checks --------------------------------------------------------------------
    def probe(self, name: str) -> Any:
        """Refused: checks judge stored measurements (``ctx.measurement``); a measure plugin
        (``govaudit_measure``) gets a :class:`MeasureContext` whose ``probe`` works. Enrichers and
        checks never do."""

        raise ProbeNotAllowed(
            f"检查阶段不能访问网络探针 {name!r}：请在 govaudit_measure 插件中测量并写入测量记录 / checks may not use the "
            f"probe {name!r}: measure it in a govaudit_measure plugin and read the stored measurement"
        )

    def measure_context(self, plugin: str) -> MeasureContext:
        """The context the measure stage hands to ``plugin`` (shares this audit's probes)."""

        if self._writer is None:
            self._writer = MeasurementWriter(self._store, self.run_id, self.config.host)
        return MeasureContext(self, plugin, self._writer)

    def close_probes(self) -> None:
        self._probe_table.close()

    def record(self, kind: str, key: str | None, data: Any) -> None:
        """Store a derived record (document metadata, per-page facts…) with this run."""

        if kind.startswith("probe."):
            raise ValueError(f"record kind {kind!r}: 'probe.*' kinds are measurements, written only by the measure stage")
        self._store.add_record(self.run_id, self.config.host, kind, key, data)

    def metric(
        self,
        name: str,
        value: float | int | None,
        *,
        target: float | None = None,
        label_zh: str = "",
        label_en: str = "",
        unit: str = "",
        basis: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """A site-level figure for the report (IPv6 support ratio, interpretation coverage…).

        ``target`` is the rule pack's target when there is one; reports show value against it.
        """

        self.record(
            "metric",
            name,
            {
                "name": name,
                "value": value,
                "target": target,
                "label_zh": label_zh,
                "label_en": label_en,
                "unit": unit,
                "basis": basis,
                "detail": detail or {},
            },
        )

    def finding(
        self,
        rule_id: str,
        url: str,
        message_zh: str,
        message_en: str = "",
        *,
        key: str | None = None,
        source_url: str | None = None,
        column: str | None = None,
        evidence: dict[str, Any] | None = None,
        variant: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding filled in from the declared rule (severity, basis, remediation).

        ``variant`` picks one of the rule's declared severity variants (``Rule.variants``): what a
        rule id can mean is fixed by its declaration, never by the emitting code. ``severity`` is
        only for a family whose severity is itself rule-pack data (a11y: ``a11y.severity_by_impact``).
        """

        rule = self.rules.get(rule_id)
        if rule is None:
            raise UnknownRuleError(f"finding for undeclared rule {rule_id!r}")
        return Finding(
            rule=rule_id,
            severity=severity or rule.severity_of(variant),
            url=url,
            message_zh=message_zh,
            message_en=message_en,
            source_url=source_url,
            column=column,
            evidence=evidence or {},
            key=key,
            basis=rule.basis,
            remediation_zh=rule.remediation_zh,
            remediation_en=rule.remediation_en,
            plugin=rule.plugin,
        )


class MeasureContext(_AuditSettings):
    """What a ``govaudit_measure`` plugin gets: the audit's settings, the stored crawl, network
    probes (``probe("http")``, ``probe("dns")``…) and :meth:`measure` to store what it measured.

    It has no ``finding``: measuring and judging are separate, so a recheck can re-judge."""

    def __init__(self, base: CheckContext, plugin: str, writer: MeasurementWriter):
        self._base = base
        self.plugin = plugin
        self._writer = writer
        self.config = base.config
        self.pack = base.pack
        self.rules = base.rules
        self.store = base._store  # writable: measure plugins log their fetches, render adds the links it saw
        self.run_id = base.run_id
        self.homepage_url = base.homepage_url
        # 政务新媒体 account sources (hook govaudit_account_sources), collected once by the engine
        self.account_sources: list[Any] = list(base.account_sources)

    @overload
    def probe(self, name: Literal["dns"]) -> Resolver: ...
    @overload
    def probe(self, name: Literal["http"]) -> HttpProbe: ...
    @overload
    def probe(self, name: str) -> Any: ...

    def probe(self, name: str) -> Any:
        """The named network probe (built once per audit): ``"dns"`` (the audit's resolver),
        ``"http"`` (:class:`auditor.network.http.HttpProbe`), or one a plugin offers."""

        return self._base._probe_table.get(name, self)

    def measure(self, kind: str, key: str, data: Any, version: int = 1) -> Measurement:
        """Store a measurement of ``kind`` (owned by this plugin) for ``key``; ``data`` must be JSON."""

        m = self._writer.write(self.plugin, kind, key, data, version)
        self._base._measurements.forget(kind)
        return m

    def measurements(self, kind: str) -> list[Measurement]:
        return self._base.measurements(kind)

    def measurement(self, kind: str, key: str = "site") -> Measurement | None:
        return self._base.measurement(kind, key)

    def record(self, kind: str, key: str | None, data: Any) -> None:
        self._base.record(kind, key, data)
