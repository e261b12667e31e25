"""Shared test support: loopback sites, HTTP/DNS servers and the real CLI.

``sites.Site`` builds a site by code, ``servers.serve`` puts it on loopback, ``servers.dns_server``
answers names locally (tests never leave the machine), ``servers.run_cli`` runs the real
``govaudit`` console script.
"""

from tests.support.servers import closed_port, dns_server, ipv6_available, run_cli, serve, silent_server
from tests.support.sites import Request, Site

__all__ = ["Request", "Site", "closed_port", "dns_server", "ipv6_available", "run_cli", "serve", "silent_server"]
