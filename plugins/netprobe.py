"""Network probes for the measure plugins that must ask the network a question the crawl did not.

Offered through ``govaudit_probes`` to the measure stage as ``ctx.probe("http")``: an HTTP(S)
client that connects to a *given* address (IPv4 or IPv6) while sending the site's own ``Host``
header and TLS SNI, so a measure plugin can ask "does this host answer over IPv6?" or "which TLS
versions does it accept?" without the operating system choosing the address family for it. Why the standard library
(``socket``/``ssl``/``http.client``) and not a higher-level client: pinning the address while keeping
name-based Host/SNI, reading the certificate of a connection that failed verification, and offering
one TLS version at a time are all things higher-level clients hide.

Names are always resolved through the engine's resolver (``ctx.probe("dns")``, which honours
``--dns-server`` and ``--resolve``); the probe never calls ``getaddrinfo`` on a name itself.
Every exchange is counted (``stats``) and, when the engine gives a store, written to the
``fetches`` table with purpose ``probe`` so the evidence shows what the audit sent.

The probe also answers "can this runner test IPv6 at all?" (:meth:`HttpProbe.ipv6_route`): a
runner without an IPv6 route, or without ``::1`` on loopback, reports "not testable" instead of
blaming the site (peer-lessons.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import http.client
import ipaddress
import re
import socket
import ssl
import tempfile
import threading
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from auditor.hookspecs import hookimpl
from auditor.model import FetchRecord
from auditor.network.resolve import ResolveError, Resolver, is_ip

if TYPE_CHECKING:
    from auditor.context import MeasureContext

DEFAULT_MAX_BODY = 512 * 1024
USER_AGENT = "govaudit/0.1 (+self-check; 政府网站合规自查)"

# OpenSSL verify codes (x509_vfy.h) → the kinds findings are about.
_VERIFY_KIND = {
    9: "not_yet_valid",
    10: "expired",
    18: "untrusted",  # self-signed leaf
    19: "untrusted",  # self-signed certificate in chain
    20: "untrusted",  # unable to get local issuer
    21: "untrusted",
    62: "name_mismatch",
    64: "name_mismatch",  # IP address mismatch
}

TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_TLS_ENUM = {"TLSv1": "TLSv1", "TLSv1.1": "TLSv1_1", "TLSv1.2": "TLSv1_2", "TLSv1.3": "TLSv1_3"}


@dataclass
class TlsInfo:
    """What the TLS handshake showed: protocol, cipher, certificate and whether it verified."""

    version: str | None = None
    cipher: str | None = None
    verified: bool = False
    verify_kind: str | None = None  # expired | not_yet_valid | name_mismatch | untrusted | other
    verify_error: str | None = None
    subject: str | None = None
    issuer: str | None = None
    names: list[str] = field(default_factory=list)
    not_before: str | None = None  # ISO 8601 UTC
    not_after: str | None = None
    serial: str | None = None
    name_matches: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def expires(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.not_after) if self.not_after else None


@dataclass
class ProbeResponse:
    """One probe exchange. ``status`` is None when no HTTP answer came (see ``error_kind``)."""

    url: str
    host: str
    address: str | None
    port: int
    method: str = "GET"
    status: int | None = None
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    elapsed: float = 0.0
    error_kind: str | None = None  # dns | no_route | refused | timeout | tls | reset | other
    error: str | None = None
    tls: TlsInfo | None = None
    redirects: list[str] = field(default_factory=list)  # URLs before the final one
    final_url: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400

    @property
    def family(self) -> int | None:
        if not self.address:
            return None
        return ipaddress.ip_address(self.address).version

    @property
    def location(self) -> str | None:
        loc = self.headers.get("location")
        return urljoin(self.url, loc) if loc else None

    def text(self) -> str:
        """The body decoded the way a browser would guess: header charset, meta charset, UTF-8, GB18030."""

        return decode_body(self.body, self.headers.get("content-type", ""))

    def as_dict(self, body_chars: int = 0) -> dict[str, Any]:
        out = {
            "url": self.url,
            "final_url": self.final_url or self.url,
            "address": self.address,
            "family": self.family,
            "method": self.method,
            "status": self.status,
            "error_kind": self.error_kind,
            "error": self.error,
            "elapsed": round(self.elapsed, 4),
            "size": len(self.body),
            "truncated": self.truncated,
            "redirects": self.redirects,
            "tls": self.tls.as_dict() if self.tls else None,
        }
        if body_chars:
            out["body_head"] = self.text()[:body_chars]
        return out


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def decode_body(body: bytes, content_type: str = "") -> str:
    candidates: list[str] = []
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", content_type or "", re.I)
    if m:
        candidates.append(m.group(1))
    m2 = _META_CHARSET.search(body[:4096])
    if m2:
        candidates.append(m2.group(1).decode("ascii", "ignore"))
    candidates += ["utf-8", "gb18030"]
    for enc in candidates:
        enc = "gb18030" if enc.lower() in ("gb2312", "gbk", "x-gbk") else enc
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def cert_matches(host: str, names: list[str]) -> bool:
    """RFC 6125 matching: exact name, or a wildcard in the left-most label only (``*.x.gov.cn``)."""

    host = host.lower().rstrip(".")
    if is_ip(host):
        return host.strip("[]") in names
    for name in names:
        name = name.lower().rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            if host.split(".", 1)[1] == name[2:]:
                return True
    return False


def parse_certificate(der: bytes | None) -> dict[str, Any]:
    """Subject, issuer, names and validity of a DER certificate (``cryptography``, which Scrapy
    already depends on) — the stdlib only decodes certificates that verified."""

    if not der:
        return {}
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return {}
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += san.get_values_for_type(x509.DNSName)
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not names:
        names = [str(c) for c in cns]
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "names": names,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "serial": format(cert.serial_number, "x"),
    }


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, ResolveError):
        return "dns"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError | BrokenPipeError | http.client.RemoteDisconnected):
        return "reset"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return "no_route"
    return "other"


@dataclass
class RouteStatus:
    """Whether this runner can reach an address's family at all (not whether the site answers)."""

    testable: bool
    reason: str = ""  # no_ipv6_loopback | no_ipv6_route | disabled | canary_failed
    source: str | None = None  # the local address the kernel would use


class _Connection(http.client.HTTPConnection):
    """HTTP to a fixed address, with the URL's host name in ``Host`` (and in SNI for TLS)."""

    def __init__(self, host: str, port: int, address: str, timeout: float, tls: ssl.SSLContext | None):
        super().__init__(host, port, timeout=timeout)
        self.default_port = 443 if tls else 80
        self._address = address
        self._tls = tls
        self.sni = host
        self.connected_at: float | None = None

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=None if is_ip(self.sni) else self.sni)
            except BaseException:
                sock.close()
                raise
        self.sock = sock
        self.connected_at = time.monotonic()


class HostSession:
    """A keep-alive connection to one (scheme, host, port, address): the IPv6 probe tests a host
    with one connection and then asks for a sample of its URLs over it."""

    def __init__(self, probe: HttpProbe, scheme: str, host: str, port: int, address: str, verify: bool):
        self.probe = probe
        self.scheme = scheme
        self.host = host
        self.port = port
        self.address = address
        self.verify = verify
        self.conn: _Connection | None = None
        self.tls: TlsInfo | None = None

    def open(self, deadline: float | None = None) -> ProbeResponse:
        """Connect (and handshake): the "one v6 connection" per host. Returns a response without a status."""

        url = f"{self.scheme}://{_netloc(self.host, self.port, self.scheme)}/"
        started = time.monotonic()
        resp = ProbeResponse(url=url, host=self.host, address=self.address, port=self.port, method="CONNECT")
        try:
            self.conn, self.tls = self.probe._open(self.scheme, self.host, self.port, self.address, self.verify, deadline)
            resp.tls = self.tls
        except Exception as exc:  # noqa: BLE001 - every failure is a typed result, never a crash
            resp.error_kind, resp.error = _error_kind(exc), _describe(exc)
        resp.elapsed = time.monotonic() - started
        return resp

    def get(self, url: str, method: str = "GET", max_body: int = 64 * 1024) -> ProbeResponse:
        """One request over the session's connection, reconnecting once if the server closed it."""

        for attempt in (0, 1):
            if self.conn is None:
                opened = self.open()
                if opened.error_kind:
                    opened.url, opened.method = url, method
                    return opened
            assert self.conn is not None
            resp = self.probe._exchange(self.conn, url, self.host, self.address, self.port, method, max_body, None)
            resp.tls = self.tls
            if resp.error_kind in ("reset", "other") and attempt == 0 and resp.status is None:
                self.close()  # a keep-alive connection the server dropped: one fresh try
                continue
            if resp.truncated or resp.status is None or resp.headers.get("connection", "").lower() == "close":
                self.close()
            return resp
        return resp  # pragma: no cover - loop always returns

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        self.conn = None


class HttpProbe:
    """HTTP(S) probes at given addresses. Thread-safe; one per audit (the engine builds it once)."""

    def __init__(
        self,
        resolver: Resolver,
        timeout: float = 15.0,
        verify: bool = True,
        ca_file: str | None = None,
        user_agent: str = USER_AGENT,
        on_fetch: Callable[[FetchRecord], None] | None = None,
        ipv6_mode: str = "auto",
        ipv6_canaries: list[str] | None = None,
    ):
        self.resolver = resolver
        self.timeout = timeout
        self.verify = verify
        self.ca_file = ca_file
        self.user_agent = user_agent
        self.on_fetch = on_fetch
        self.ipv6_mode = ipv6_mode  # auto | off
        self.ipv6_canaries = ipv6_canaries or []
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], ProbeResponse] = {}
        self._route_cache: dict[str, RouteStatus] = {}

    # -- bookkeeping ---------------------------------------------------------------------------
    def count(self, key: str, n: int = 1) -> None:
        """Count one network operation (dns, connections, requests…) for the audit's figures."""

        with self._lock:
            self.stats[key] += n

    def _record(self, resp: ProbeResponse) -> None:
        if self.on_fetch is None:
            return
        rec = FetchRecord(
            url=resp.url,
            purpose="probe",
            method=resp.method,
            final_url=resp.final_url or resp.url,
            status=resp.status,
            content_type=resp.headers.get("content-type"),
            size=len(resp.body),
            elapsed=resp.elapsed,
            error_kind=resp.error_kind,
            error=(f"[{resp.address}] " if resp.address else "") + (resp.error or "") if resp.error else None,
            redirects=resp.redirects,
            headers=resp.headers,
            fetched_at=time.time(),
        )
        with self._lock:
            try:
                self.on_fetch(rec)
            except Exception:  # noqa: BLE001 - evidence logging must never break a probe
                pass

    # -- name resolution (always through the audit's resolver) ---------------------------------
    def addresses(self, host: str, family: int | None = None) -> list[str]:
        """Addresses of ``host`` (4, 6 or both, IPv4 first). Raises ResolveError."""

        host = host.strip("[]")
        if is_ip(host):
            ip = ipaddress.ip_address(host)
            return [str(ip)] if family in (None, ip.version) else []
        out: list[str] = []
        if family in (None, 4):
            self.count("dns")
            out += self.resolver.lookup(host, "A")
        if family in (None, 6):
            self.count("dns")
            out += self.resolver.lookup(host, "AAAA")
        return out

    # -- TLS -----------------------------------------------------------------------------------
    def tls_context(self, verify: bool) -> ssl.SSLContext:
        if verify:
            ctx = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def _open(
        self, scheme: str, host: str, port: int, address: str, verify: bool, deadline: float | None
    ) -> tuple[_Connection, TlsInfo | None]:
        """Connect; for HTTPS verify first and, when verification fails, reconnect without it so
        the certificate can still be read and the HTTP question still answered."""

        timeout = self._remaining(deadline)
        if scheme != "https":
            conn = _Connection(host, port, address, timeout, None)
            self.count("connections")
            conn.connect()
            return conn, None
        tls = TlsInfo()
        conn = _Connection(host, port, address, timeout, self.tls_context(verify))
        self.count("connections")
        try:
            conn.connect()
            tls.verified = verify
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            tls.verified = False
            tls.verify_kind = _VERIFY_KIND.get(exc.verify_code, "other")
            tls.verify_error = exc.verify_message or str(exc)
            conn = _Connection(host, port, address, self._remaining(deadline), self.tls_context(False))
            self.count("connections")
            conn.connect()
        sock = conn.sock
        assert isinstance(sock, ssl.SSLSocket)
        tls.version = sock.version()
        cipher = sock.cipher()
        tls.cipher = cipher[0] if cipher else None
        for key, value in parse_certificate(sock.getpeercert(binary_form=True)).items():
            setattr(tls, key, value)
        tls.name_matches = cert_matches(host, tls.names) if tls.names else None
        return conn, tls

    def tls_version_accepted(self, host: str, address: str, port: int, version: str) -> bool | None:
        """Whether the server completes a handshake offering only ``version``.

        None when this machine's OpenSSL cannot offer that version (then the question cannot be
        answered here, which is different from "not offered").
        """

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                v = getattr(ssl.TLSVersion, _TLS_ENUM[version])
                ctx.minimum_version = v
                ctx.maximum_version = v
            if version in ("TLSv1", "TLSv1.1"):
                ctx.set_ciphers("ALL:@SECLEVEL=0")  # OpenSSL 3 refuses old protocols above level 0
        except (ValueError, ssl.SSLError, AttributeError):
            return None
        if not local_tls_support(version):
            return None
        self.count("connections")
        try:
            raw = socket.create_connection((address, port), self.timeout)
        except OSError:
            return False
        try:
            with ctx.wrap_socket(raw, server_hostname=None if is_ip(host) else host) as s:
                return s.version() == version
        except (ssl.SSLError, OSError):
            return False
        finally:
            raw.close()

    # -- HTTP ----------------------------------------------------------------------------------
    def _remaining(self, deadline: float | None) -> float:
        if deadline is None:
            return self.timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("probe deadline passed")
        return min(self.timeout, left)

    def _exchange(
        self,
        conn: _Connection,
        url: str,
        host: str,
        address: str,
        port: int,
        method: str,
        max_body: int,
        deadline: float | None,
        extra_headers: dict[str, str] | None = None,
    ) -> ProbeResponse:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        resp = ProbeResponse(url=url, host=host, address=address, port=port, method=method, final_url=url)
        started = time.monotonic()
        self.count("requests")
        try:
            conn.timeout = self._remaining(deadline)
            if conn.sock is not None:
                conn.sock.settimeout(conn.timeout)
            conn.request(
                method,
                path,
                # bytes: http.client would encode str values as Latin-1, and the default UA is Chinese
                headers={"User-Agent": self.user_agent.encode("utf-8"), "Accept": "*/*",
                         "Accept-Encoding": "gzip, identity", "Connection": "keep-alive",
                         # extra request headers (the cloaking probe's search-engine UA and referer)
                         **{k: v.encode("utf-8") for k, v in (extra_headers or {}).items()}},
            )
            r = conn.getresponse()
            resp.status, resp.reason = r.status, r.reason
            headers: dict[str, str] = {}
            for k, v in r.getheaders():
                k = k.lower()
                headers[k] = f"{headers[k]}, {v}" if k in headers else v
            resp.headers = headers
            if method != "HEAD":
                resp.body, resp.truncated = self._read_body(r, headers, max_body, deadline)
            if not resp.truncated:
                r.read()  # drain what is left so the connection can be reused
        except Exception as exc:  # noqa: BLE001
            resp.error_kind, resp.error = _error_kind(exc), _describe(exc)
            with contextlib.suppress(OSError):
                conn.close()
        resp.elapsed = time.monotonic() - started
        self._record(resp)
        return resp

    def _read_body(self, r: http.client.HTTPResponse, headers: dict[str, str], max_body: int, deadline: float | None) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        truncated = False
        while True:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("body not received within the time limit")
            chunk = r.read(min(65536, max_body - size + 1))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_body:
                truncated = True
                break
        body = b"".join(chunks)[:max_body]
        if headers.get("content-encoding", "").lower() in ("gzip", "x-gzip", "deflate"):
            try:
                d = zlib.decompressobj(zlib.MAX_WBITS | 32)
                body = d.decompress(body, max_body)
            except zlib.error:
                pass
        return body, truncated

    def fetch(
        self,
        url: str,
        *,
        address: str | None = None,
        family: int | None = None,
        method: str = "GET",
        max_body: int = DEFAULT_MAX_BODY,
        verify: bool | None = None,
        follow_redirects: int = 0,
        cache: bool = False,
        headers: dict[str, str] | None = None,
    ) -> ProbeResponse:
        """One request to ``url`` at ``address`` (or the first address of ``family`` the resolver
        gives), following up to ``follow_redirects`` redirects in the same family.

        The whole exchange, redirects and body included, must finish within the audit's timeout
        (the indicators' "does not open within 15 s"); addresses are tried in order until one connects.
        """

        verify = self.verify if verify is None else verify
        key = (url, address, family, method, max_body, verify, follow_redirects, tuple(sorted((headers or {}).items())))
        if cache:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
        deadline = time.monotonic() + self.timeout
        chain: list[str] = []
        current = url
        while True:
            resp = self._fetch_one(current, address, family, method, max_body, verify, deadline, headers)
            if (
                follow_redirects > len(chain)
                and resp.status in (301, 302, 303, 307, 308)
                and resp.location
                and urlsplit(resp.location).scheme in ("http", "https")
            ):
                chain.append(current)
                nxt = resp.location
                if urlsplit(nxt).hostname != urlsplit(current).hostname:
                    address = None  # a new host: resolve it (same family)
                current = nxt
                continue
            break
        resp.redirects = chain
        resp.final_url = current
        resp.url = url
        if cache:
            with self._lock:
                self._cache[key] = resp
        return resp

    def _fetch_one(
        self, url: str, address: str | None, family: int | None, method: str, max_body: int, verify: bool, deadline: float,
        headers: dict[str, str] | None = None,
    ) -> ProbeResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = ascii_host(parts.hostname or "")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            port = 0
        resp = ProbeResponse(url=url, host=host, address=address, port=port, method=method, final_url=url)
        started = time.monotonic()
        if not host or not port or scheme not in ("http", "https"):
            resp.error_kind, resp.error = "other", f"not a fetchable URL: {url!r}"
            return resp
        if address:
            candidates = [address]
        else:
            try:
                candidates = self.addresses(host, family)
            except ResolveError as exc:
                resp.error_kind, resp.error = "dns", str(exc)
                resp.elapsed = time.monotonic() - started
                self._record(resp)
                return resp
            if not candidates:
                resp.error_kind, resp.error = "dns", f"{host}: no {'AAAA' if family == 6 else 'A' if family == 4 else 'address'} record"
                resp.elapsed = time.monotonic() - started
                self._record(resp)
                return resp
        try:  # the SSRF guard (auditor.network.guard), after DNS, on every hop of a redirect chain
            candidates = self.resolver.connectable(host, candidates)
        except ResolveError as exc:
            resp.error_kind, resp.error = exc.kind, str(exc)
            self._record(resp)
            return resp
        last: ProbeResponse = resp
        for addr in candidates[:3]:
            attempt = ProbeResponse(url=url, host=host, address=addr, port=port, method=method, final_url=url)
            try:
                conn, tls = self._open(scheme, host, port, addr, verify, deadline)
            except Exception as exc:  # noqa: BLE001
                attempt.error_kind, attempt.error = _error_kind(exc), _describe(exc)
                attempt.elapsed = time.monotonic() - started
                self._record(attempt)
                last = attempt
                if attempt.error_kind == "tls" or time.monotonic() >= deadline:
                    break  # the server answered: another address will not do better
                continue
            try:
                out = self._exchange(conn, url, host, addr, port, method, max_body, deadline, headers)
            finally:
                with contextlib.suppress(OSError):
                    conn.close()
            out.tls = tls
            out.elapsed = time.monotonic() - started
            return out
        return last

    def session(self, scheme: str, host: str, port: int, address: str, verify: bool | None = None) -> HostSession:
        return HostSession(self, scheme, host, port, address, self.verify if verify is None else verify)

    # -- can this runner test IPv6? ---------------------------------------------------------
    def ipv6_route(self, address: str) -> RouteStatus:
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
            if key in self._route_cache:
                return self._route_cache[key]
        status = self._route_status(ip)
        with self._lock:
            self._route_cache[key] = status
        return status

    def _route_status(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> RouteStatus:
        if self.ipv6_mode == "off":
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
        for canary in self.ipv6_canaries:
            host, _, port = canary.rpartition(":")
            self.count("connections")
            try:
                socket.create_connection((host.strip("[]"), int(port)), min(self.timeout, 5.0)).close()
                break
            except (OSError, ValueError):
                continue
        else:
            if self.ipv6_canaries:
                return RouteStatus(False, "canary_failed", source)
        return RouteStatus(True, source=source)


_LOCAL_TLS: dict[str, bool] = {}


def local_tls_support(version: str) -> bool:
    """Whether this machine's OpenSSL completes a handshake at ``version`` with itself.

    Distributions may compile TLS 1.0/1.1 out or forbid them in ``openssl.cnf``; then "the site
    accepts TLS 1.0" cannot be tested here, which must not read as "the site refuses TLS 1.0".
    """

    if version in _LOCAL_TLS:
        return _LOCAL_TLS[version]
    ok = False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            certfile, keyfile = _self_signed(Path(tmp))
            server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            server.load_cert_chain(certfile, keyfile)
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            v = getattr(ssl.TLSVersion, _TLS_ENUM[version])
            for c in (server, client):
                c.minimum_version = v
                c.maximum_version = v
                if version in ("TLSv1", "TLSv1.1"):
                    c.set_ciphers("ALL:@SECLEVEL=0")
        a, b = socket.socketpair()

        def serve() -> None:
            with contextlib.suppress(ssl.SSLError, OSError), server.wrap_socket(a, server_side=True):
                pass

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            b.settimeout(5)
            with client.wrap_socket(b, server_hostname="localhost") as s:
                ok = s.version() == version
        except (ssl.SSLError, OSError):
            ok = False
        finally:
            a.close()
        t.join(5)
    except (ValueError, AttributeError, ssl.SSLError, OSError):
        ok = False
    _LOCAL_TLS[version] = ok
    return ok


def _self_signed(folder: Path) -> tuple[str, str]:
    """A throw-away self-signed certificate for :func:`local_tls_support` (``cryptography``)."""

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / "c.pem", folder / "k.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(certfile), str(keyfile)


def ascii_host(host: str) -> str:
    """The host as sent in ``Host`` and SNI: lower case, IDNA (punycode) for Chinese domain names."""

    host = host.strip("[]").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


def _netloc(host: str, port: int, scheme: str) -> str:
    h = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return h if port == default else f"{h}:{port}"


def probe_from_context(ctx: MeasureContext) -> HttpProbe:
    """Build the audit's HTTP probe: the engine's resolver, the audit's timeout, TLS settings and
    ``[plugins.netprobe]`` options (``ca_file``, ``ipv6 = "auto"|"off"``, ``ipv6_canaries``)."""

    try:
        resolver = ctx.probe("dns")
    except KeyError:  # an engine without the dns probe (embedding code): same settings, own resolver
        resolver = Resolver(ctx.config.resolve_pairs(), ctx.config.dns_server, timeout=min(ctx.config.timeout, 5.0))
    opts = ctx.config.plugin_options.get("netprobe", {})

    def log_fetch(rec: FetchRecord) -> None:
        ctx.store.add_fetch(ctx.run_id, rec)

    return HttpProbe(
        resolver,
        timeout=float(ctx.config.timeout),
        verify=bool(ctx.config.verify_tls),
        ca_file=opts.get("ca_file"),
        user_agent=ctx.config.user_agent,
        on_fetch=log_fetch,
        ipv6_mode=str(opts.get("ipv6", "auto")),
        ipv6_canaries=list(opts.get("ipv6_canaries", [])),
    )


@hookimpl
def govaudit_probes() -> dict[str, Callable[[MeasureContext], Any]]:
    return {"http": probe_from_context}
