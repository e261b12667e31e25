"""Measurement records: what the measure stage saw on the network, kept with the run.

The pipeline is crawl → **measure** → evidence store → checks. A measure plugin
(:func:`auditor.hookspecs.govaudit_measure`) asks the network, the resolver or a browser a question
the crawl did not (DNS and AAAA lookups, IPv6 reachability, TLS handshakes, rendering…) and writes the
answer as a :class:`Measurement`: a *kind* (``"ipv6"``, ``"transport"``), a *key* (what was measured:
``"site"``, a URL, a host), a *version* of the data's shape, and the data itself (JSON). Checks read
measurements through read-only views (``ctx.measurement(kind, key)``, ``site.measurements(kind)``) and
never measure: so ``govaudit recheck`` — which skips the measure stage — judges exactly what the audit
measured, under another rule pack or as-of date, with no network at all.

Why a version: a check that changes what it needs from a measurement bumps the plugin's version and
can tell an old run's record (judge it the old way, or say it cannot) from a new one, instead of
misreading it.

Storage: a measurement is a row of the store's ``records`` table with kind ``probe.<kind>`` (the
prefix ``recheck`` keeps, :meth:`auditor.store.database.EvidenceStore.clear_derived`) and the envelope
``{"measurement": 1, "version": …, "plugin": …, "data": …}``. Rows written before this module existed
(``ctx.measured``, key ``summary``, no envelope) read as version 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.store.database import EvidenceStore

RECORD_PREFIX = "probe."
ENVELOPE = "measurement"


class MeasurementClash(Exception):
    """Two plugins wrote the same measurement kind in one run: one would silently overwrite the other."""


@dataclass(frozen=True)
class Measurement:
    """One stored measurement. ``data`` is the plugin's JSON; treat it as read-only."""

    kind: str
    key: str
    version: int
    data: Mapping[str, Any] | Any
    plugin: str | None = None
    at: float | None = None


def usable(m: Measurement | None, versions: Iterable[int]) -> bool:
    """Whether a check can judge ``m``: it exists and is of a version the check knows."""

    return m is not None and m.version in versions


def record_kind(kind: str) -> str:
    """The ``records.kind`` a measurement of ``kind`` is stored under."""

    if not kind or kind.startswith(RECORD_PREFIX):
        raise ValueError(f"measurement kind must be a bare name like 'ipv6', got {kind!r}")
    return RECORD_PREFIX + kind


def envelope(data: Any, version: int, plugin: str | None) -> dict[str, Any]:
    return {ENVELOPE: 1, "version": int(version), "plugin": plugin, "data": data}


def from_record(kind: str, row: Mapping[str, Any]) -> Measurement:
    raw = row.get("data")
    if isinstance(raw, Mapping) and raw.get(ENVELOPE) == 1:
        return Measurement(kind, row.get("key") or "", int(raw.get("version", 0)), raw.get("data"), raw.get("plugin"),
                           row.get("at"))
    return Measurement(kind, row.get("key") or "", 0, raw, None, row.get("at"))  # written by ctx.measured (legacy)


def iter_measurements(store: EvidenceStore, run_id: str, kind: str) -> Iterator[Measurement]:
    """Every measurement of ``kind`` in the run, in the order written (the last one of a key wins)."""

    for row in store.iter_records(record_kind(kind), run_id=run_id):
        yield from_record(kind, row)


def latest(store: EvidenceStore, run_id: str, kind: str) -> dict[str, Measurement]:
    """The run's measurements of ``kind`` by key; a key measured twice keeps the later one."""

    out: dict[str, Measurement] = {}
    for m in iter_measurements(store, run_id, kind):
        out[m.key] = m
    return out


class MeasurementReader:
    """Read-only access to one run's measurements (what checks get)."""

    def __init__(self, store: EvidenceStore, run_id: str):
        self._store = store
        self._run_id = run_id
        self._cache: dict[str, dict[str, Measurement]] = {}

    def measurements(self, kind: str) -> list[Measurement]:
        """All measurements of ``kind`` (one per key), sorted by key."""

        return [self._by_key(kind)[k] for k in sorted(self._by_key(kind))]

    def measurement(self, kind: str, key: str = "site") -> Measurement | None:
        """The measurement of ``kind`` for ``key``, or None when the measure stage stored none."""

        return self._by_key(kind).get(key)

    def _by_key(self, kind: str) -> dict[str, Measurement]:
        if kind not in self._cache:
            self._cache[kind] = latest(self._store, self._run_id, kind)
        return self._cache[kind]

    def forget(self, kind: str | None = None) -> None:
        """Drop cached reads (after the measure stage wrote more)."""

        if kind is None:
            self._cache.clear()
        else:
            self._cache.pop(kind, None)


class MeasurementWriter:
    """Writes measurements for the measure stage; refuses a kind already written by another plugin."""

    def __init__(self, store: EvidenceStore, run_id: str, site: str | None):
        self._store = store
        self._run_id = run_id
        self._site = site
        self.owners: dict[str, str] = {}  # kind → the plugin that wrote it in this measure pass

    def write(self, plugin: str, kind: str, key: str, data: Any, version: int) -> Measurement:
        owner = self.owners.setdefault(kind, plugin)
        if owner != plugin:
            raise MeasurementClash(
                f"测量类型 {kind!r} 已由插件 {owner} 写入，插件 {plugin} 不能覆盖 / measurement kind {kind!r} is written by "
                f"plugin {owner}; plugin {plugin} may not write it too (pick another kind)"
            )
        self._store.add_record(self._run_id, self._site, record_kind(kind), str(key), envelope(data, version, plugin))
        return Measurement(kind, str(key), int(version), data, plugin)


# --- measurements taken outside audits: ``govaudit monitor`` visits -------------------------------

MONITOR_RECORD_KIND = "availability_probe"  # written by auditor.measure.monitor (no run id; site = host)


def iter_monitor_visits(store: Any, hosts: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Every stored monitor visit of these hosts (the data's ``at`` is the visit time).

    Here rather than in :mod:`auditor.measure.monitor` so the availability check reads visits without
    importing the module that makes them over the network (layer contract ``checks-are-pure``)."""

    seen: set[str] = set()
    for host in hosts:
        if not host or host in seen:
            continue
        seen.add(host)
        for rec in store.iter_records(MONITOR_RECORD_KIND, site=host):
            data = dict(rec["data"])
            data.setdefault("at", rec.get("at"))
            yield data
