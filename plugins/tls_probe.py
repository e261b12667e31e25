"""Transport measurement (measure stage) for ``checks/security.py``: HTTPS, the HTTP→HTTPS redirect,
the certificate and the TLS versions accepted, asked once per audit through the ``http`` probe.

One verified handshake; on a verification failure one unverified handshake so the certificate can
still be read. Verification here is a measurement: it happens even under ``--insecure``, which only
stops the crawl from refusing bad certificates. Names resolve through the audit's resolver (the
``http`` probe never calls ``getaddrinfo`` itself), so ``--dns-server``/``--resolve`` apply.

The result is the ``transport`` measurement (key ``site``, :data:`VERSION`); ``govaudit recheck``
judges it again — certificate expiry against the time it was measured, the pack's minimum TLS
version — without a handshake.

Options (``[plugins.security]``, shared with the check): ``https_url`` / ``http_url`` — where to look
for the HTTPS site and the plain-HTTP entry when they are not ``https://HOST/`` and ``http://HOST/``
(intranet ports, tests). Trust: the system store, or ``[plugins.netprobe] ca_file``; ``SSL_CERT_FILE``
also works.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from auditor.context import MeasureContext, SiteView
from auditor.hookspecs import hookimpl
from auditor.network.tls import TLS_VERSIONS

KIND = "transport"
VERSION = 1


@hookimpl
def govaudit_serves() -> list[str]:
    return ["security"]


@hookimpl
def govaudit_measure(site: SiteView, ctx: MeasureContext) -> None:
    ctx.measure(KIND, "site", measure(site, ctx), version=VERSION)


def _opts(ctx: MeasureContext) -> dict[str, Any]:
    return dict(ctx.config.plugin_options.get("security", {}))


def _with_scheme(url: str, scheme: str) -> str:
    p = urlsplit(url)
    host = p.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    return urlunsplit((scheme, netloc, "/", "", ""))


def measure(site: SiteView, ctx: MeasureContext) -> dict[str, Any]:
    """HTTPS, redirect, certificate, TLS versions: the facts the transport findings are judged from."""

    probe = ctx.probe("http")
    tls = ctx.probe("tls")
    opts = _opts(ctx)
    home = site.homepage_url
    scheme = urlsplit(home).scheme
    https_url = home if scheme == "https" else opts.get("https_url") or _with_scheme(home, "https")
    http_url = home if scheme == "http" else opts.get("http_url") or _with_scheme(home, "http")
    out: dict[str, Any] = {"https_url": https_url, "http_url": http_url, "probed_at": time.time()}

    https = probe.fetch(https_url, verify=True, max_body=64 * 1024)
    out["https"] = https.as_dict()
    out["https_headers"] = https.headers
    out["tls"] = https.tls.as_dict() if https.tls else None

    http = probe.fetch(http_url, verify=True, max_body=16 * 1024)
    out["http"] = http.as_dict()
    out["http_location"] = http.location

    versions: dict[str, bool | None] = {}
    if https.address and https.tls is not None:
        p = urlsplit(https_url)
        port = p.port or 443
        for v in TLS_VERSIONS:
            versions[v] = tls.version_accepted(p.hostname or "", https.address, port, v)
    out["tls_versions"] = versions
    return out
