"""HTTPS and transport checks against a real local TLS server with certificates made in the test.

The test CA is trusted through ``SSL_CERT_FILE`` (OpenSSL's default verify paths, honoured by the
crawl and by the probe alike); certificates that must fail (expired, wrong name, another CA) make
the crawl need ``--insecure``, while the security check still verifies as a measurement.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from auditor.checks import security
from auditor.network.tls import local_tls_support
from tests.sites.net_fixture import WWW, serve_tls, server_context, stored_run
from tests.support import Site, closed_port, dns_server, run_cli, serve

NOW = dt.datetime.now(dt.UTC)
SECURE_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def https_site(pages: int = 3, headers: dict[str, str] | None = None, mixed: str | None = None) -> Site:
    site = Site("https")
    links = "".join(f"<li><a href='/p{i}.html'>页面{i}</a></li>" for i in range(1, pages + 1))
    site.page("/", f"<html><head><meta charset='utf-8'><title>首页</title></head><body><ul>{links}</ul></body></html>",
              headers=headers)
    for i in range(1, pages + 1):
        res = f"<script src='{mixed}/app.js'></script><img src='{mixed}/p{i}.png' alt='图'>" if mixed else ""
        site.page(f"/p{i}.html", f"<html><head><meta charset='utf-8'><title>页面{i}</title>{res}</head><body>正文</body></html>",
                  headers=headers)
    return site


@contextlib.contextmanager
def network(https: Site, cert: trustme.LeafCert, http: Site, min_version: str | None = None) -> Iterator[tuple[int, int, str]]:
    with serve_tls(https, server_context(cert, min_version)) as tls, serve(http) as plain, \
            dns_server({WWW: ["127.0.0.1"], "static.x.gov.cn": ["127.0.0.1"]}) as dns:
        yield tls.port, plain.port, dns


def check(tmp_path: Path, url: str, dns: str, ca_file: str, http_url: str | None = None, https_url: str | None = None,
          insecure: bool = False) -> dict:
    cfg = tmp_path / "govaudit.toml"
    lines = ["[plugins.security]"]
    if http_url:
        lines.append(f'http_url = "{http_url}"')
    if https_url:
        lines.append(f'https_url = "{https_url}"')
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["check", url, "--out", str(tmp_path / "out"), "--db", str(tmp_path / "a.sqlite"), "--dns-server", dns,
            "--config", str(cfg), "--checks", "security", "--as-of", NOW.date().isoformat()]
    if insecure:
        args.append("--insecure")
    r = run_cli(*args, env={"SSL_CERT_FILE": ca_file})
    assert r.returncode in (0, 1), r.stderr + r.stdout
    return json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))


def rules(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


def redirector(https_port: int) -> Site:
    return Site("http").fallback(lambda req: (301, {"Location": f"https://{WWW}:{https_port}{req.path}"}, ""))


def test_well_configured_site_has_no_findings(tmp_path: Path, ca: trustme.CA, ca_file: str) -> None:
    cert = ca.issue_cert(WWW)
    http = Site("http")
    with network(https_site(headers=SECURE_HEADERS), cert, http) as (tls_port, http_port, dns):
        http.fallback(lambda req: (301, {"Location": f"https://{WWW}:{tls_port}{req.path}"}, ""))
        report = check(tmp_path, f"https://{WWW}:{tls_port}/", dns, ca_file, http_url=f"http://{WWW}:{http_port}/")
    assert rules(report) == {}, [f["message"] for f in report["findings"]]
    assert report["stats"]["pages"] == 4


def test_expired_cert_old_tls_no_redirect_mixed_content_missing_headers(tmp_path: Path, ca: trustme.CA, ca_file: str) -> None:
    cert = ca.issue_cert(WWW, not_before=NOW - dt.timedelta(days=400), not_after=NOW - dt.timedelta(days=3))
    http = Site("http").page("/", "<html><body>明文首页</body></html>")
    old_tls = local_tls_support("TLSv1") and local_tls_support("TLSv1.1")
    with network(https_site(mixed="http://static.x.gov.cn"), cert, http, "TLSv1" if old_tls else None) as (tls_port, http_port, dns):
        report = check(tmp_path, f"https://{WWW}:{tls_port}/", dns, ca_file, http_url=f"http://{WWW}:{http_port}/",
                       insecure=True)
    found = rules(report)
    [expired] = found["security.cert_expired"]
    assert expired["evidence"]["days_expired"] in (2, 3)
    assert expired["evidence"]["verify_kind"] == "expired"
    assert "security.cert_expiring" not in found
    [redirect] = found["security.no_https_redirect"]
    assert redirect["evidence"]["http"]["status"] == 200
    # Mixed content: one finding per (origin, active/passive) listing the pages, not one per page.
    mixed = {f["evidence"]["kind"]: f for f in found["security.mixed_content"]}
    assert set(mixed) == {"active", "passive"}
    assert mixed["active"]["evidence"]["page_count"] == 3 and mixed["active"]["evidence"]["resource_count"] == 1
    assert mixed["passive"]["evidence"]["resource_count"] == 3
    # Headers come from the crawl's stored responses: missing on every page, reported once each.
    headers = {f["evidence"]["header"]: f for f in found["security.missing_headers"]}
    assert set(headers) == {"strict-transport-security", "x-content-type-options", "x-frame-options"}
    assert all(f["evidence"]["page_count"] == 4 and f["evidence"]["source"] == "crawl" for f in headers.values())
    if old_tls:
        [weak] = found["security.weak_tls"]
        assert weak["evidence"]["accepted"] == ["TLSv1", "TLSv1.1"]
        assert weak["evidence"]["versions"]["TLSv1.2"] is True


def test_weak_tls_needs_local_openssl_support() -> None:
    if not (local_tls_support("TLSv1") and local_tls_support("TLSv1.1")):
        pytest.skip("this machine's OpenSSL cannot offer TLS 1.0/1.1 even at SECLEVEL=0, so 'TLS 1.0 accepted' "
                    "cannot be tested here; the check then reports the versions as untestable, not as refused")
    assert local_tls_support("TLSv1.2") is True


# --- certificate variants, in process: the check hook on a stored run against a live TLS server ----

def hook(tmp_path: Path, cert: trustme.LeafCert, ca_file: str) -> dict[str, list]:
    """The security hook with the test CA trusted through ``[plugins.netprobe] ca_file``."""

    with network(https_site(headers=SECURE_HEADERS), cert, Site("http")) as (tls_port, _, dns):
        run = stored_run(f"https://{WWW}:{tls_port}/", str(tmp_path / "a.sqlite"), dns=dns,
                         plugins={"netprobe": {"ca_file": ca_file},
                                  "security": {"http_url": f"http://{WWW}:{closed_port()}/"}})
        try:
            run.measure()  # the measure stage makes the handshakes; the check only reads the measurement
            out: dict[str, list] = {}
            for f in security.govaudit_check_site(run.site, run.ctx):
                out.setdefault(f.rule, []).append(f)
            return out
        finally:
            run.close()


def test_expiring_cert(tmp_path: Path, ca: trustme.CA, ca_file: str) -> None:
    found = hook(tmp_path, ca.issue_cert(WWW, not_after=NOW + dt.timedelta(days=10, hours=12)), ca_file)
    [f] = found["security.cert_expiring"]
    assert 10 <= f.evidence["days_left"] < 11 and f.evidence["warn_days"] == 30
    assert set(found) == {"security.cert_expiring"}  # no HTTP port at all is not a missing redirect


def test_valid_cert_far_from_expiry(tmp_path: Path, ca: trustme.CA, ca_file: str) -> None:
    assert hook(tmp_path, ca.issue_cert(WWW, not_after=NOW + dt.timedelta(days=90)), ca_file) == {}


def test_name_mismatch(tmp_path: Path, ca: trustme.CA, ca_file: str) -> None:
    found = hook(tmp_path, ca.issue_cert("www.other.gov.cn"), ca_file)
    [f] = found["security.cert_name_mismatch"]
    assert f.evidence["names"] == ["www.other.gov.cn"] and f.evidence["verify_kind"] == "name_mismatch"
    assert set(found) == {"security.cert_name_mismatch"}


def test_wildcard_cert_matches(tmp_path: Path, ca: trustme.CA, ca_file: str) -> None:
    assert hook(tmp_path, ca.issue_cert("*.x.gov.cn"), ca_file) == {}


def test_untrusted_issuer(tmp_path: Path, ca_file: str) -> None:
    stranger = trustme.CA(organization_name="Not Trusted CA")
    found = hook(tmp_path, stranger.issue_cert(WWW), ca_file)
    [f] = found["security.cert_invalid"]
    assert f.evidence["verify_kind"] == "untrusted" and "Not Trusted CA" in f.evidence["issuer"]
    assert set(found) == {"security.cert_invalid"}


def test_no_https(tmp_path: Path, ca_file: str) -> None:
    site = Site("plain").page("/", "<html><head><meta charset='utf-8'></head><body>首页</body></html>", headers=SECURE_HEADERS)
    with serve(site) as plain, dns_server({WWW: ["127.0.0.1"]}) as dns:
        report = check(tmp_path, f"http://{WWW}:{plain.port}/", dns, ca_file,
                       https_url=f"https://{WWW}:{closed_port()}/")
    found = rules(report)
    [f] = found["security.no_https"]
    assert f["evidence"]["https"]["error_kind"] == "refused"
    # Nothing about certificates or redirects is judged without HTTPS; HSTS only applies to HTTPS pages.
    assert set(found) == {"security.no_https"}
