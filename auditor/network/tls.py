"""TLS questions the measure stage asks a host: the certificate it shows, and which protocol
versions it completes a handshake with (one version offered at a time).

Standard-library ``ssl`` on purpose: offering exactly one version and reading the certificate of a
connection that failed verification are what higher-level clients hide. Also answers whether this
machine's OpenSSL can offer a version at all (:func:`local_tls_support`), so "cannot test TLS 1.0
here" never reads as "the site refuses TLS 1.0".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import tempfile
import threading
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from auditor.network.resolve import is_ip

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



def client_context(verify: bool, ca_file: str | None = None) -> ssl.SSLContext:
    """The client context of an HTTPS probe: verifying (system or ``ca_file`` roots) or not."""

    if verify:
        ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class TlsProber:
    """Offered to measure plugins as ``ctx.probe("tls")``: protocol-version handshakes at a given
    address. ``count`` receives one ``"connections"`` per handshake attempted (the audit's figures)."""

    def __init__(self, timeout: float = 15.0, count: Callable[[str], None] | None = None):
        self.timeout = timeout
        self._count = count or (lambda _key: None)

    def count(self, key: str) -> None:
        self._count(key)

    def version_accepted(self, host: str, address: str, port: int, version: str) -> bool | None:
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
