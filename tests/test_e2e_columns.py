"""End to end through the real CLI: required 政府信息公开 columns per profile, synonyms tolerated."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest
from jsonschema import Draft202012Validator

from auditor.rulepacks import load_pack
from tests.sites.columns_fixture import FORBIDDEN, MISSING, PRESENT, build_columns_site, running_columns_site
from tests.support.servers import run_cli

pytestmark = pytest.mark.slow

SCHEMA = Path(__file__).resolve().parents[1] / "reports" / "schema" / "report.schema.json"


@pytest.fixture(scope="module")
def site():
    with running_columns_site() as running:
        yield running


def test_fixture_is_honest() -> None:
    """The fixture must mean what the assertions below assume: missing columns really absent."""

    catalogue = {c["id"]: c for c in load_pack("national").columns_for("county")}
    assert set(PRESENT) | MISSING["county"] == set(catalogue)
    texts = []
    for route in build_columns_site().routes.values():
        enc = "gbk" if "gbk" in dict(route.headers)["Content-Type"] else "utf-8"
        texts += [a.text_content() for a in lxml.html.document_fromstring(route.body.decode(enc)).iter("a")]
    for col_id in MISSING["county"]:
        for syn in catalogue[col_id]["synonyms"]:
            assert not [t for t in texts if syn in t], (col_id, syn)
    assert not [t for t in texts if any(w in t for w in FORBIDDEN)]
    variants = [k for k, text in PRESENT.items() if text != catalogue[k]["name"]]
    assert len(variants) >= 15, "present columns must mostly use variant wording, not the catalogue names"


@pytest.mark.parametrize("profile", ["county", "department"])
def test_missing_columns_per_profile(site, profile, tmp_path) -> None:
    proc = run_cli("check", "--as-of", "2026-11-22", site.url, "--out", str(tmp_path / "r"), "--db", str(tmp_path / "e.sqlite"), "--checks", "columns",
                   "--profile", profile, "--timeout", "5", *site.cli_args(), timeout=300)
    report_path = tmp_path / "r" / "report.json"
    assert report_path.exists(), (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    report = json.loads(report_path.read_text("utf-8"))
    assert proc.returncode == 0, proc.stderr[-3000:]  # a missing column is major, not single-veto
    schema = json.loads(SCHEMA.read_text("utf-8"))
    errors = list(Draft202012Validator(schema).iter_errors(report))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:10]]
    findings = [f for f in report["findings"] if f["rule"] == "columns.missing"]
    found = {f["evidence"]["column_id"] for f in findings}
    assert found == MISSING[profile], f"extra: {sorted(found - MISSING[profile])}, not found: {sorted(MISSING[profile] - found)}"
    pack = {c["id"]: c for c in load_pack("national").columns_for(profile)}
    for f in findings:
        col = pack[f["evidence"]["column_id"]]
        assert f["url"] == site.url and f["column"] == col["name"] and f["severity"] == "major"
        assert f["basis"] and f["remediation"] and col["name"] in json.dumps(f["message"], ensure_ascii=False)
        assert f["evidence"]["profile"] == profile
    assert len({f["id"] for f in findings}) == len(findings)
