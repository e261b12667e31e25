"""The SSRF guard: which addresses an audit may connect to.

An audit is pointed at sites its user does not control and, on a provincial platform, at URLs
other people typed; a page (or a redirect) naming ``http://127.0.0.1:8080/admin`` or a name that
resolves to ``10.0.0.5`` must not make the auditor fetch the operator's own network. So every
fetch — crawl, link checks, redirects, measure probes, the browser — asks one
:class:`AddressGuard` (carried by the audit's :class:`~auditor.network.resolve.Resolver`) about the
address it is about to use, *after* DNS, and refuses loopback, private, link-local, CGNAT
(100.64.0.0/10), multicast, unspecified and reserved targets unless the audit allows them
(``--allow-private``, or ``allow_networks = ["10.0.0.0/8"]`` in the config for an intranet audit).

Classification is :mod:`ipaddress`'s (``is_global``, ``is_multicast``, ``is_reserved``); the only
parsing done here is what a browser would do to a URL host before DNS: the IPv4 shorthand forms
(``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``) through the C library's ``inet_aton``,
and IPv4 addresses embedded in IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64) unwrapped before judging.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_NETWORKS_ENV = "GOVAUDIT_ALLOW_NETWORKS"
REASON = "private_address"  # the link verdict's reason and the fetch's error kind
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """A target whose address the guard refuses; ``str()`` names the host, address and class."""

    kind = REASON

    def __init__(self, host: str, refused: list[tuple[str, str]]):
        self.host = host
        self.refused = refused
        what = ", ".join(f"{addr} ({cls})" for addr, cls in refused)
        super().__init__(f"{host}: 拒绝访问内部地址 / refused non-public address {what} "
                         "(--allow-private or allow_networks to audit an intranet site)")


def host_literal(host: str) -> IPAddress | None:
    """The address a URL host spells directly, in any notation a browser accepts, else None.

    ``[::1]`` and ``::ffff:7f00:1`` (IPv6), ``127.0.0.1``, and the legacy IPv4 forms — one decimal
    number (``2130706433``), hex (``0x7f.1``), octal (``0177.0.0.1``), fewer than four parts —
    which ``urllib`` leaves as a "name" that the system resolver then turns into 127.0.0.1.
    """

    h = host.strip().strip("[]").rstrip(".") if host else ""
    if not h:
        return None
    try:
        return ipaddress.ip_address(h.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.match(h):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(h))
        except OSError:
            return None
    return None


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if ip.version != 6:
        return None
    assert isinstance(ip, ipaddress.IPv6Address)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_class(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address (``loopback``, ``private``, ``link_local``,
    ``cgnat``, ``multicast``, ``unspecified``, ``reserved``), or None for a public one."""

    inner = _embedded_v4(ip)
    if inner is not None:
        cls = address_class(inner)
        if cls is not None:
            return cls
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 4 and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "cgnat"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "private"
    return None


def parse_networks(items: Iterable[str], source: str = "allow_networks") -> tuple[IPNetwork, ...]:
    """CIDR strings → networks; a bad one raises ``ValueError`` naming it and ``source``."""

    out = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            out.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(f"{source}: 不是有效的网段 / not a CIDR network: {text!r}") from exc
    return tuple(out)


def env_networks() -> list[str]:
    """``GOVAUDIT_ALLOW_NETWORKS=127.0.0.0/8,::1`` — how a test harness allows its loopback sites
    without every test passing ``--allow-private`` (read as the config's default)."""

    return [p.strip() for p in os.environ.get(ALLOW_NETWORKS_ENV, "").split(",") if p.strip()]


@dataclass(frozen=True)
class AddressGuard:
    """Refuses non-public addresses, except networks the audit allows (or all, ``allow_private``)."""

    allow_private: bool = False
    allow_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def from_env(cls) -> AddressGuard:
        return cls(False, parse_networks(env_networks(), ALLOW_NETWORKS_ENV))

    @classmethod
    def from_config(cls, config: object) -> AddressGuard:
        nets = getattr(config, "allow_networks", None)
        return cls(bool(getattr(config, "allow_private", False)),
                   parse_networks(env_networks() if nets is None else nets))

    def refusal(self, ip: IPAddress | str) -> str | None:
        """The class of a refused address, or None when the audit may connect to it."""

        if isinstance(ip, str):
            ip = ipaddress.ip_address(ip.strip("[]").split("%", 1)[0])
        if self.allow_private:
            return None
        cls = address_class(ip)
        if cls is None:
            return None
        inner = _embedded_v4(ip)
        for net in self.allow_networks:
            if ip.version == net.version and ip in net:
                return None
            if inner is not None and net.version == 4 and inner in net:
                return None
        return cls

    def permitted(self, host: str, addresses: Iterable[str]) -> list[str]:
        """The addresses of ``host`` the audit may connect to; raises :class:`AddressRefused`
        when there were some and every one is refused (a name with one public and one private
        address connects to the public one only)."""

        allowed, refused = [], []
        for a in addresses:
            cls = self.refusal(a)
            if cls is None:
                allowed.append(a)
            else:
                refused.append((a, cls))
        if refused and not allowed:
            raise AddressRefused(host, refused)
        return allowed


async def guard_browser_context(context: object, resolver: object) -> None:
    """Route every request of a Playwright browser context through the guard: a request whose
    host resolves only to refused addresses is aborted (``blockedbyclient``) before Chromium
    connects. ``resolver`` is the audit's :class:`~auditor.network.resolve.Resolver` (its
    ``refuses(host)``), so the browser obeys the same policy, allowlist and cache as the crawl.

    Playwright calls a route handler for the first URL of a redirect chain only (it continues the
    later hops itself, even of a response the handler fulfilled); every tab therefore also gets
    :func:`guard_redirects`, which sees each hop's ``Location`` before Chromium follows it."""

    import asyncio
    from urllib.parse import urlsplit

    verdicts: dict[str, str | None] = {}

    async def handle(route: object) -> None:
        parts = urlsplit(route.request.url)  # type: ignore[attr-defined]
        if parts.scheme not in ("http", "https", "ws", "wss"):
            await route.fallback()  # type: ignore[attr-defined]
            return
        host = (parts.hostname or "").lower()
        if host not in verdicts:
            verdicts[host] = await asyncio.to_thread(resolver.refuses, host)  # type: ignore[attr-defined]
        if verdicts[host]:
            await route.abort("blockedbyclient")  # type: ignore[attr-defined]
        else:
            await route.fallback()  # type: ignore[attr-defined]

    await context.route("**/*", handle)  # type: ignore[attr-defined]


REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))


async def guard_redirects(page: object, resolver: object) -> None:
    """Check every redirect hop of ``page``'s requests (documents and subresources) against the
    guard before Chromium follows it.

    Why the DevTools protocol and not Playwright: a route handler never sees a redirect's later
    hops (measured with Playwright 1.65 and Debian Chromium: ``/r`` → ``/r2`` → target reaches the
    handler as ``/r`` only, also when the handler fetches ``/r`` itself with ``max_redirects=0``
    and fulfils the 302), and following the chain in the handler would change the document's URL.
    A CDP session of the tab's own (``Fetch.enable`` at the *response* stage, beside Playwright's
    request-stage interception) pauses each response: a 30x whose ``Location`` host the guard
    refuses fails with ``BlockedByClient`` — the next hop is never requested — and everything
    else continues at once. Cross-site iframes in another renderer process and pop-ups are other
    DevTools targets: their first requests still pass the context's route guard, their
    redirects are not seen here."""

    import asyncio
    from urllib.parse import urljoin, urlsplit

    cdp = await page.context.new_cdp_session(page)  # type: ignore[attr-defined]
    verdicts: dict[str, str | None] = {}

    async def refused(url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ws", "wss"):
            return None
        host = (parts.hostname or "").lower()
        if host not in verdicts:
            verdicts[host] = await asyncio.to_thread(resolver.refuses, host)  # type: ignore[attr-defined]
        return verdicts[host]

    async def paused(event: dict) -> None:
        rid = event["requestId"]
        blocked: str | None = None
        try:
            if event.get("responseStatusCode") in REDIRECT_STATUSES:
                location = next((h["value"] for h in event.get("responseHeaders") or []
                                 if h["name"].lower() == "location"), None)
                if location:
                    blocked = await refused(urljoin(event["request"]["url"], location.strip()))
        except Exception:  # noqa: BLE001 - an unparseable Location: Chromium refuses it itself
            blocked = None
        try:
            if blocked:
                log.info("browser: redirect of %s refused: %s", event["request"]["url"], blocked)
                await cdp.send("Fetch.failRequest", {"requestId": rid, "errorReason": "BlockedByClient"})
            else:
                await cdp.send("Fetch.continueRequest", {"requestId": rid})
        except Exception as exc:  # noqa: BLE001 - the tab closed or navigated away meanwhile
            log.debug("browser: paused request %s not resumed: %s", rid, exc)

    cdp.on("Fetch.requestPaused", paused)  # pyee schedules the coroutine on the browser loop
    await cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Response"}]})


def browser_guard(ctx: object) -> object | None:
    """The resolver a browser probe guards its requests with: the audit's (``ctx.probe("dns")``)."""

    try:
        return ctx.probe("dns")  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - an engine without the dns probe: the env default policy
        from auditor.network.resolve import Resolver

        return Resolver()
