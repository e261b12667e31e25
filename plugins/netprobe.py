"""The measure stage's network probes, offered through ``govaudit_probes``:

- ``ctx.probe("http")`` — :class:`auditor.network.http.HttpProbe`, HTTP(S) at a chosen address with
  the site's own Host and SNI;
- ``ctx.probe("tls")`` — :class:`auditor.network.tls.TlsProber`, one-version TLS handshakes;
- ``ctx.probe("route")`` — :class:`auditor.network.route.RouteCheck`, whether this runner can test
  IPv6 at all.

All three read ``[plugins.netprobe]`` (``ca_file``, ``ipv6 = "auto"|"off"``, ``ipv6_canaries``), go
through the engine's resolver (``--resolve``/``--dns-server``) and count into the HTTP probe's
``stats``, so the audit's figures show every connection the measure stage opened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from auditor.hookspecs import hookimpl
from auditor.model import FetchRecord
from auditor.network.http import HttpProbe
from auditor.network.resolve import Resolver
from auditor.network.route import RouteCheck
from auditor.network.tls import TlsProber

if TYPE_CHECKING:
    from auditor.context import MeasureContext


def _options(ctx: MeasureContext) -> dict[str, Any]:
    return ctx.config.plugin_options.get("netprobe", {})


def probe_from_context(ctx: MeasureContext) -> HttpProbe:
    """The audit's HTTP probe: the engine's resolver, the audit's timeout and TLS settings; every
    exchange written to the store's ``fetches`` with purpose ``probe``."""

    try:
        resolver = ctx.probe("dns")
    except KeyError:  # an engine without the dns probe (embedding code): same settings, own resolver
        resolver = Resolver(ctx.config.resolve_pairs(), ctx.config.dns_server, timeout=min(ctx.config.timeout, 5.0))

    def log_fetch(rec: FetchRecord) -> None:
        ctx.store.add_fetch(ctx.run_id, rec)

    return HttpProbe(
        resolver,
        timeout=float(ctx.config.timeout),
        verify=bool(ctx.config.verify_tls),
        ca_file=_options(ctx).get("ca_file"),
        user_agent=ctx.config.user_agent,
        on_fetch=log_fetch,
    )


def tls_from_context(ctx: MeasureContext) -> TlsProber:
    return TlsProber(timeout=float(ctx.config.timeout), count=ctx.probe("http").count)


def route_from_context(ctx: MeasureContext) -> RouteCheck:
    opts = _options(ctx)
    return RouteCheck(mode=str(opts.get("ipv6", "auto")), canaries=list(opts.get("ipv6_canaries", [])),
                      timeout=float(ctx.config.timeout), count=ctx.probe("http").count)


@hookimpl
def govaudit_probes() -> dict[str, Callable[[MeasureContext], Any]]:
    return {"http": probe_from_context, "tls": tls_from_context, "route": route_from_context}
