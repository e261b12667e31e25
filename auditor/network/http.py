"""The HTTP(S) client of the measure stage, for questions the crawl did not ask.

Offered to measure plugins as ``ctx.probe("http")`` (:mod:`auditor.plugins.netprobe`): an HTTP(S)
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

TLS version handshakes are :mod:`auditor.network.tls`; "can this runner test IPv6?" is
:mod:`auditor.network.route`.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from auditor.model import FetchRecord
from auditor.network.resolve import ResolveError, Resolver, is_ip
from auditor.network.tls import _VERIFY_KIND, TlsInfo, cert_matches, client_context, parse_certificate

DEFAULT_MAX_BODY = 512 * 1024
USER_AGENT = "govaudit/0.1 (+self-check; 政府网站合规自查)"


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
    ):
        self.resolver = resolver
        self.timeout = timeout
        self.verify = verify
        self.ca_file = ca_file
        self.user_agent = user_agent
        self.on_fetch = on_fetch
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], ProbeResponse] = {}

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
        conn = _Connection(host, port, address, timeout, client_context(verify, self.ca_file))
        self.count("connections")
        try:
            conn.connect()
            tls.verified = verify
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            tls.verified = False
            tls.verify_kind = _VERIFY_KIND.get(exc.verify_code, "other")
            tls.verify_error = exc.verify_message or str(exc)
            conn = _Connection(host, port, address, self._remaining(deadline), client_context(False, self.ca_file))
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
