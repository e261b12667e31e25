"""Loopback servers for tests: HTTP sites, a local DNS server, black holes, and the real CLI.

Tests never leave the machine: every name an audit resolves is answered by :func:`dns_server`
(dnslib, UDP and TCP on 127.0.0.1) or pinned with ``--resolve``; every site is served by
:func:`serve` (the same threaded server the bundled demo uses, :mod:`auditor.demo.servers`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from dnslib import AAAA, CNAME, NS, QTYPE, RCODE, RR, A, DNSLabel
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from auditor.demo.servers import Running, Site
from auditor.demo.servers import serve as _serve

__all__ = ["Running", "closed_port", "dns_server", "ipv6_available", "run_cli", "serve", "silent_server"]


# --- HTTP ---------------------------------------------------------------------------------

def serve(site: Site, host: str = "127.0.0.1", port: int = 0) -> contextlib.AbstractContextManager[Running]:
    """Serve ``site`` on loopback (``127.0.0.1``, ``::1``, ``127.0.0.x``); yields ``.base_url/.port/.host``."""

    return _serve(site, host, port)


def ipv6_available() -> bool:
    """Whether ``::1`` can be bound here (some CI containers have IPv6 disabled)."""

    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@contextlib.contextmanager
def silent_server(host: str = "127.0.0.1") -> Iterator[int]:
    """A port that accepts connections and never answers: the client's timeout must fire.

    Accepted sockets are held open until the block ends so the client sees no reset.
    """

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, 0))
    lsock.listen(128)
    lsock.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept_loop, daemon=True, name="silent-server")
    thread.start()
    try:
        yield lsock.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for c in held:
            with contextlib.suppress(OSError):
                c.close()
        lsock.close()


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` with nothing listening (connection refused).

    Bound then closed: the kernel does not hand an ephemeral port straight back out, so the
    window for a collision is negligible on a test machine.
    """

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# --- DNS ----------------------------------------------------------------------------------

RecordValue = str | Sequence[str] | Mapping[str, Sequence[str] | str]
_QUIET = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)


def _entry(value: RecordValue) -> dict[str, list[str]] | str:
    """``["127.0.0.1", "::1"]`` → ``{"A": [...], "AAAA": [...]}``; a mapping is taken as typed records.

    The strings ``"SERVFAIL"`` and ``"REFUSED"`` make the server answer with that rcode.
    """

    if isinstance(value, str):
        if value.upper() in ("SERVFAIL", "REFUSED"):
            return value.upper()
        value = [value]
    if isinstance(value, Mapping):
        return {k.upper(): ([v] if isinstance(v, str) else list(v)) for k, v in value.items()}
    out: dict[str, list[str]] = {"A": [], "AAAA": []}
    for addr in value:
        out["AAAA" if ipaddress.ip_address(addr).version == 6 else "A"].append(addr)
    return out


class _DictResolver(BaseResolver):
    """Answers from a dict read on every query, so tests may add names after the server started."""

    def __init__(self, records: Mapping[str, RecordValue]) -> None:
        self.records = records

    def _table(self) -> dict[str, dict[str, list[str]] | str]:
        return {k.lower().rstrip("."): _entry(v) for k, v in list(self.records.items())}

    def resolve(self, request, handler):  # type: ignore[no-untyped-def] - dnslib interface
        reply = request.reply()
        qname = str(request.q.qname).lower().rstrip(".")
        qtype = QTYPE[request.q.qtype]
        table = self._table()
        entry = table.get(qname)
        if entry is None:
            # An empty non-terminal (a parent of a known name) exists without data: NODATA.
            if not any(n.endswith("." + qname) for n in table):
                reply.header.rcode = RCODE.NXDOMAIN
            return reply
        if isinstance(entry, str):
            reply.header.rcode = getattr(RCODE, entry)
            return reply
        name = qname
        cnames = entry.get("CNAME", [])
        if cnames and qtype != "CNAME":
            target = cnames[0].lower().rstrip(".")
            reply.add_answer(RR(DNSLabel(name), QTYPE.CNAME, rdata=CNAME(target + "."), ttl=60))
            followed = table.get(target)
            if isinstance(followed, dict):
                name, entry = target, followed
        rdata = {"A": A, "AAAA": AAAA, "NS": lambda v: NS(v.rstrip(".") + "."), "CNAME": lambda v: CNAME(v.rstrip(".") + ".")}
        if qtype in rdata:
            for value in entry.get(qtype, []):
                reply.add_answer(RR(DNSLabel(name), getattr(QTYPE, qtype), rdata=rdata[qtype](value), ttl=60))
        return reply


@contextlib.contextmanager
def dns_server(records: Mapping[str, RecordValue]) -> Iterator[str]:
    """A DNS server on 127.0.0.1 (UDP and TCP, same port) answering from ``records``; yields ``"127.0.0.1:PORT"``.

    ``records`` maps names to addresses (``{"www.x.gov.cn": ["127.0.0.1", "::1"]}``) or to typed
    records (``{"x.gov.cn": {"NS": ["ns1.x.gov.cn"]}}``). A name with no record of the asked type
    gets NODATA; an unknown name NXDOMAIN. The dict is read live, so it may be changed later.
    """

    resolver = _DictResolver(records)
    last_error: OSError | None = None
    for _ in range(50):
        udp = DNSServer(resolver, address="127.0.0.1", port=0, logger=_QUIET)
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(resolver, address="127.0.0.1", port=port, tcp=True, logger=_QUIET)
        except OSError as exc:  # the TCP side of that port is taken: try another
            last_error = exc
            udp.server.server_close()
            continue
        break
    else:  # pragma: no cover - only on a machine out of ports
        raise RuntimeError(f"no free port for a UDP+TCP DNS server: {last_error}")
    udp.start_thread()
    tcp.start_thread()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for srv in (udp, tcp):
            srv.stop()
            srv.server.server_close()


# --- the real CLI -------------------------------------------------------------------------

def govaudit_executable() -> Path:
    """The ``govaudit`` console script installed in the running interpreter's environment."""

    return Path(sys.executable).parent / "govaudit"


def run_cli(
    *args: str | os.PathLike[str],
    timeout: float = 300,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,  # noqa: A002 - mirrors subprocess.run
) -> subprocess.CompletedProcess[str]:
    """Run the real ``govaudit`` console script; text output (UTF-8), never raises on exit status.

    The console script, not ``python -m``, is what users run, so its entry point is tested too.
    """

    exe = govaudit_executable()
    if not exe.exists():
        raise FileNotFoundError(f"{exe} not found: pip install -e . in this environment")
    full_env = dict(os.environ)
    full_env.update({"PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "COLUMNS": "160", "TERM": "dumb"})
    if env:
        full_env.update(env)
    return subprocess.run(
        [str(exe), *[os.fspath(a) for a in args]],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        cwd=cwd,
        env=full_env,
        input=input,
    )
