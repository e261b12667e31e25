"""Can this runner test IPv6 at all? Answered before any site is blamed for IPv6 failures.

A runner without an IPv6 route, or without ``::1`` on loopback, reports "not testable" rather than
"the site has no IPv6" (national IPv6 monitoring draws the same line).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class RouteStatus:
    """Whether this runner can reach an address's family at all (not whether the site answers)."""

    testable: bool
    reason: str = ""  # no_ipv6_loopback | no_ipv6_route | disabled | canary_failed
    source: str | None = None  # the local address the kernel would use


class RouteCheck:
    """Offered to measure plugins as ``ctx.probe("route")``. Thread-safe; one answer per kind of
    target (loopback or global) per audit. ``count`` receives one ``"connections"`` per canary tried."""

    def __init__(self, mode: str = "auto", canaries: list[str] | None = None, timeout: float = 15.0,
                 count: Callable[[str], None] | None = None):
        self.mode = mode  # auto | off
        self.canaries = canaries or []
        self.timeout = timeout
        self._count = count or (lambda _key: None)
        self._lock = threading.Lock()
        self._cache: dict[str, RouteStatus] = {}

    def count(self, key: str) -> None:
        self._count(key)

    def ipv6(self, address: str) -> RouteStatus:
        """Whether this runner could reach ``address`` over IPv6 at all.

        Loopback targets need ``::1`` bound here; other targets need a route (a UDP ``connect``
        sends nothing but makes the kernel pick a route and source address). ``ipv6 = "off"`` in
        ``[plugins.netprobe]`` declares a runner whose IPv6 is known broken; configured canaries
        (``host:port`` of IPv6 services known to work) must accept a TCP connection.
        """

        try:
            ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
        except ValueError:
            return RouteStatus(False, "not_an_address")
        key = "loopback" if ip.is_loopback else "global"
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        status = self._status(ip)
        with self._lock:
            self._cache[key] = status
        return status

    def _status(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> RouteStatus:
        if self.mode == "off":
            return RouteStatus(False, "disabled")
        if not socket.has_ipv6:
            return RouteStatus(False, "no_ipv6_loopback")
        if ip.is_loopback:
            try:
                with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
                    s.bind(("::1", 0))
                    return RouteStatus(True, source="::1")
            except OSError:
                return RouteStatus(False, "no_ipv6_loopback")
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
                s.connect((str(ip), 53))
                source = s.getsockname()[0]
        except OSError:
            return RouteStatus(False, "no_ipv6_route")
        for canary in self.canaries:
            host, _, port = canary.rpartition(":")
            self.count("connections")
            try:
                socket.create_connection((host.strip("[]"), int(port)), min(self.timeout, 5.0)).close()
                break
            except (OSError, ValueError):
                continue
        else:
            if self.canaries:
                return RouteStatus(False, "canary_failed", source)
        return RouteStatus(True, source=source)
