"""What a finding's stable id is made of: the site's identity without the accidents of one run.

A finding id is a hash of (rule, key) — the same problem next month keeps its id. A key often holds
a URL, and a site served on loopback (the bundled demo, a test fixture, a staging copy behind
``--resolve``) gets a random port each time it is started: ``http://www.demo-county.gov.cn:41235/x``
one month and ``…:38811/x`` the next are the same page. :class:`SiteIdentity` rewrites the port away
for every host the run reaches on loopback, so ids depend on the scheme and host the site is
registered under and on the path, never on the port a server happened to bind.

A site on the public network keeps its URLs exactly as crawled (an explicit ``:8080`` there is part
of how the site is reached, and no two runs disagree about it).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# an authority inside any text: //host:port  or //[v6]:port, followed by a path, query, end or separator
_AUTHORITY = re.compile(r"(?P<pre>//)(?P<host>\[[0-9A-Fa-f:.]+\]|[^/\s:@?#|\[\]]+):(?P<port>\d{1,5})(?=[/?#\s|,;)\]]|$)")


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""

    text = address.strip().strip("[]").lower()
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SiteIdentity:
    """Rewrites the loopback ports of one run out of finding keys (and URLs compared across runs)."""

    loopback_hosts: frozenset[str]

    @classmethod
    def of(cls, url: str, resolve: Mapping[str, str] | None = None) -> SiteIdentity:
        """The identity of a run of ``url`` with the given ``--resolve`` pins."""

        hosts = {name.lower() for name, addr in (resolve or {}).items() if is_loopback(str(addr))}
        host = (urlsplit(url).hostname or "").lower()
        if host and is_loopback(host):
            hosts.add(host)
        return cls(frozenset(hosts))

    @classmethod
    def of_options(cls, options: Mapping[str, Any] | None, start_url: str = "") -> SiteIdentity:
        """The identity of a stored run (``runs.options`` is the run's configuration)."""

        opts = options or {}
        return cls.of(str(opts.get("url") or start_url), opts.get("resolve") or {})

    def normalise(self, text: str | None) -> str | None:
        """``text`` with ``:port`` removed after every loopback host (None stays None)."""

        if not text or not self.loopback_hosts or "//" not in text:
            return text

        def strip(m: re.Match[str]) -> str:
            host = m.group("host")
            bare = host.strip("[]").lower()
            if bare in self.loopback_hosts or host.lower() in self.loopback_hosts or is_loopback(bare):
                return m.group("pre") + host
            return m.group(0)

        return _AUTHORITY.sub(strip, text)

    def key(self, key: str | None, url: str) -> str:
        """The identity key a finding is stored with: its key (or URL, when it has none), normalised."""

        return self.normalise(key if key is not None else url) or ""
