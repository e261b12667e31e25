"""Name resolution for every network access of an audit: crawl, link checks and probes.

``--resolve HOST=ADDR`` pins names (intranet sites, tests); ``--dns-server HOST:PORT`` sends every
other lookup to that server through dnspython. The same :class:`Resolver` backs Scrapy (as a
Twisted ``IHostnameResolver``) and the probes checks ask for, so a test never leaves loopback.

It also carries the audit's SSRF guard (:mod:`auditor.network.guard`): :meth:`Resolver.connectable`
is the one place every fetch asks which addresses of a host it may connect to — the crawl's
downloader middleware and its Twisted resolver, the HTTP probe, the browser's request
interception. :meth:`Resolver.lookup` and :meth:`Resolver.addresses` stay honest DNS answers
(the IPv6 measurement must see a private AAAA record as a record).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rdatatype
import dns.resolver

from auditor.config import parse_hostport
from auditor.network.guard import AddressGuard, AddressRefused, host_literal


class ResolveError(Exception):
    """The name does not resolve (NXDOMAIN, no data, server failure, timeout)."""

    def __init__(self, host: str, kind: str, detail: str = ""):
        super().__init__(f"{host}: {kind}{': ' + detail if detail else ''}")
        self.host = host
        self.kind = kind  # nxdomain | nodata | timeout | servfail


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class PrivateAddress(ResolveError):
    """Raised by :meth:`Resolver.connectable`: every address of the host is refused by the guard."""

    def __init__(self, refused: AddressRefused):
        Exception.__init__(self, str(refused))
        self.host = refused.host
        self.kind = refused.kind
        self.refused = refused.refused


@dataclass
class Resolver:
    """Answers A/AAAA questions honouring ``--resolve`` and ``--dns-server``; caches per audit."""

    overrides: dict[str, str] = field(default_factory=dict)
    dns_server: str | None = None
    timeout: float = 5.0
    guard: AddressGuard = field(default_factory=AddressGuard.from_env)
    _cache: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.overrides = {k.lower(): v.strip("[]") for k, v in self.overrides.items()}
        self._dns: dns.resolver.Resolver | None = None
        if self.dns_server:
            host, port = parse_hostport(self.dns_server, 53)
            r = dns.resolver.Resolver(configure=False)
            r.nameservers = [host]
            r.port = port
            r.lifetime = self.timeout
            r.timeout = self.timeout
            self._dns = r

    def lookup(self, host: str, rdtype: str) -> list[str]:
        """Addresses of one type (``A`` or ``AAAA``); [] when the name exists without that type."""

        host = host.lower().rstrip(".")
        literal = host_literal(host)  # 127.0.0.1, [::1], and 2130706433 / 0x7f.1 (never a DNS name)
        if literal is not None:
            return [str(literal)] if (literal.version == 4) == (rdtype == "A") else []
        if host in self.overrides:
            ip = ipaddress.ip_address(self.overrides[host])
            return [str(ip)] if (ip.version == 4) == (rdtype == "A") else []
        key = (host, rdtype)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        addrs = self._query(host, rdtype)
        with self._lock:
            self._cache[key] = addrs
        return addrs

    def _query(self, host: str, rdtype: str) -> list[str]:
        if self._dns is None:
            family = socket.AF_INET if rdtype == "A" else socket.AF_INET6
            try:
                infos = socket.getaddrinfo(host, None, family, socket.SOCK_STREAM)
            except socket.gaierror as exc:
                if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
                    return []
                raise ResolveError(host, "servfail", str(exc)) from exc
            return sorted({i[4][0] for i in infos})
        try:
            answer = self._dns.resolve(host, rdtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN as exc:
            raise ResolveError(host, "nxdomain") from exc
        except (dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout, dns.exception.Timeout) as exc:
            raise ResolveError(host, "timeout" if "timeout" in type(exc).__name__.lower() else "servfail", str(exc)) from exc
        return sorted(r.to_text() for r in answer) if answer.rrset else []

    def addresses(self, host: str) -> list[str]:
        """All addresses, IPv4 first (what a dual-stack crawler would try)."""

        try:
            v4 = self.lookup(host, "A")
        except ResolveError:
            v4 = []
            try:
                v6 = self.lookup(host, "AAAA")
            except ResolveError:
                raise
            return v6
        try:
            v6 = self.lookup(host, "AAAA")
        except ResolveError:
            v6 = []
        return v4 + v6

    def connectable(self, host: str, addresses: list[str] | None = None) -> list[str]:
        """The addresses of ``host`` (or the given candidates) a fetch may connect to, after the
        guard: raises :class:`PrivateAddress` when every one is refused, :class:`ResolveError`
        when the name does not resolve. Cached lookups, so the address checked is the address
        connected to (a second DNS answer cannot rebind it within an audit)."""

        addrs = self.addresses(host) if addresses is None else addresses
        try:
            return self.guard.permitted(host, addrs)
        except AddressRefused as exc:
            raise PrivateAddress(exc) from None

    def refuses(self, url_host: str) -> str | None:
        """The refusal message for a URL host, or None (allowed, or the name does not resolve —
        that failure is the fetch's to report)."""

        try:
            self.connectable(url_host)
        except PrivateAddress as exc:
            return str(exc)
        except ResolveError:
            return None
        return None

    def records(self, name: str, rdtype: str) -> list[str]:
        """Any record type (NS, SOA…) from the configured server, for probes. [] on no data."""

        try:
            if self._dns is None:
                answer = dns.resolver.resolve(name, rdtype, raise_on_no_answer=False, lifetime=self.timeout)
            else:
                answer = self._dns.resolve(name, rdtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN as exc:
            raise ResolveError(name, "nxdomain") from exc
        except (dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout, dns.exception.Timeout) as exc:
            raise ResolveError(name, "timeout", str(exc)) from exc
        return sorted(r.to_text() for r in answer) if answer.rrset else []


    def server_answers(self, address: str, zone: str, rdtype: str = "SOA", port: int = 53,
                       timeout: float | None = None) -> tuple[bool, str | None]:
        """Ask one given name server (by address, e.g. a zone's NS over IPv6) for ``zone``.

        The question "does this authoritative server answer over IPv6?" must go to that server's
        own address, not to the configured recursive resolver; it still goes through the audit's
        resolver object, so its timeout applies and the measure stage is the only caller.
        Returns ``(answered, error)``; any DNS answer (even NXDOMAIN) counts as answered."""

        try:
            dns.query.udp(dns.message.make_query(zone, rdtype), address, port=port,
                          timeout=min(self.timeout, timeout if timeout is not None else self.timeout))
        except (dns.exception.DNSException, OSError) as exc:
            return False, f"{type(exc).__name__}: {exc}"[:200]
        return True, None


# --- Twisted glue: Scrapy resolves through the same Resolver -------------------------------

def make_twisted_resolver_class(resolver: Resolver) -> type:
    """A Scrapy ``TWISTED_DNS_RESOLVER`` class bound to ``resolver``.

    Scrapy instantiates the class itself (``from_crawler``), so the audit's resolver is bound
    into a fresh subclass rather than passed through settings.
    """

    from twisted.internet.address import IPv4Address, IPv6Address
    from twisted.internet.interfaces import IHostnameResolver, IHostResolution
    from twisted.internet.threads import deferToThread
    from zope.interface import implementer

    @implementer(IHostResolution)
    class _Resolution:
        def __init__(self, name: str):
            self.name = name

        def cancel(self) -> None:  # pragma: no cover - Twisted API
            pass

    @implementer(IHostnameResolver)
    class AuditHostnameResolver:
        bound = resolver

        def __init__(self, reactor: object):
            self.reactor = reactor
            self.original = reactor.nameResolver  # type: ignore[attr-defined]

        @classmethod
        def from_crawler(cls, crawler: object, reactor: object) -> AuditHostnameResolver:
            return cls(reactor)

        def install_on_reactor(self) -> None:
            self.reactor.installNameResolver(self)  # type: ignore[attr-defined]

        def resolveHostName(  # noqa: N802 - Twisted's interface name
            self,
            receiver: object,
            hostName: str,  # noqa: N803
            portNumber: int = 0,  # noqa: N803
            addressTypes: Sequence[type] | None = None,  # noqa: N803
            transportSemantics: str = "TCP",  # noqa: N803
        ) -> object:
            host = hostName.lower()
            if is_ip(host):  # literals were judged by the downloader's guard middleware
                return self.original.resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)
            resolution = _Resolution(hostName)
            receiver.resolutionBegan(resolution)  # type: ignore[attr-defined]

            def deliver(addrs: list[str]) -> None:
                for a in addrs:
                    is6 = ":" in a
                    if addressTypes and (IPv6Address if is6 else IPv4Address) not in addressTypes:
                        continue
                    receiver.addressResolved((IPv6Address if is6 else IPv4Address)("TCP", a, portNumber))  # type: ignore[attr-defined]
                receiver.resolutionComplete()  # type: ignore[attr-defined]

            def failed(_failure: object) -> None:
                receiver.resolutionComplete()  # type: ignore[attr-defined]

            # every name goes through the audit's resolver and its guard, so the address
            # connected to is one the guard saw (no second, unchecked system lookup)
            d = deferToThread(self.bound.connectable, host)
            d.addCallbacks(deliver, failed)
            return resolution

    return AuditHostnameResolver
