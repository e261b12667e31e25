"""Fixtures wrapping the shared loopback support (tests/support): sites, servers, DNS, the CLI."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from tests.support.servers import Running, dns_server, run_cli, serve
from tests.support.sites import Site

# No test may depend on today's date: an audit (CLI or in-process) that does not pass --as-of
# fails with a usage error instead of passing this month and failing the next. Subprocesses
# inherit the variable, so the installed console script enforces it too.
os.environ["GOVAUDIT_REQUIRE_AS_OF"] = "1"
# Every test site is on loopback, which the SSRF guard (auditor/network/guard.py) refuses by default:
# the suite allows loopback centrally (subprocesses inherit it). 2001:db8::/32 is the IPv6
# documentation prefix, routed nowhere: test_ipv6 uses it as an AAAA record that cannot answer.
# Guard tests override this with an explicit allow_networks.
os.environ["GOVAUDIT_ALLOW_NETWORKS"] = "127.0.0.0/8,::1/128,2001:db8::/32"


@dataclass
class LocalDNS:
    """A running local DNS server; ``records`` is read live, so names can be added at any time."""

    address: str
    records: dict[str, object] = field(default_factory=dict)

    def add(self, name: str, *addresses: str) -> None:
        self.records[name] = list(addresses)

    def __str__(self) -> str:
        return self.address


@pytest.fixture
def dns() -> Iterator[LocalDNS]:
    """A local DNS server (``str(dns)`` = ``127.0.0.1:PORT`` for ``--dns-server``); unknown names NXDOMAIN."""

    records: dict[str, object] = {}
    with dns_server(records) as address:
        yield LocalDNS(address, records)


@pytest.fixture
def site() -> Site:
    """An empty site to fill by code."""

    return Site()


@pytest.fixture
def serve_site() -> Iterator[Callable[..., Running]]:
    """``serve_site(site, host="127.0.0.1", port=0)`` → running server, stopped at teardown."""

    with contextlib.ExitStack() as stack:
        yield lambda s, host="127.0.0.1", port=0: stack.enter_context(serve(s, host, port))


@pytest.fixture
def cli() -> Callable[..., object]:
    """The real ``govaudit`` console script (``cli("check", url, "--out", d)`` → CompletedProcess)."""

    return run_cli

