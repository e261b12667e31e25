"""Rule packs: every pack validates, overlays change what the seed plans change, and nothing else."""

from __future__ import annotations

import json
import re
from importlib import resources

import jsonschema
import pytest

from auditor.config import ConfigError
from auditor.pluginmanager import collect_parameters, get_plugin_manager
from auditor.rulepacks import available_packs, load_pack

OVERLAYS = ["qinghai-2021", "xingqing-2023", "fengcheng-2023", "yuanjiang-2023", "gaoan-2022"]
# each overlay's source document, as its values must name it
SEED_DOCS = {
    "qinghai-2021": "青政办〔2021〕47号",
    "xingqing-2023": "银川市兴庆区2023年政务公开工作要点",
    "fengcheng-2023": "丰府办字〔2023〕26号",
    "yuanjiang-2023": "沅江市2023年",
    "gaoan-2022": "高府办发〔2022〕20号",
}
# an item number in the seed: （十三）, 第10项, 指引第17项, 公开（八）, 三（四）
ITEM_REF = re.compile(r"（[一二三四五六七八九十]+）|第\d+(、\d+)*项|第\d+[–-]\d+项")


def raw(name: str) -> dict:
    return json.loads(resources.files("auditor").joinpath(f"rulepacks/{name}.json").read_text("utf-8"))


def schema() -> dict:
    return json.loads(resources.files("auditor").joinpath("rulepacks/rulepack.schema.json").read_text("utf-8"))


def test_all_packs_present_and_valid() -> None:
    packs = available_packs()
    assert set(OVERLAYS) | {"national"} <= set(packs)
    validator = jsonschema.Draft202012Validator(schema())
    for name in packs:
        data = raw(name)
        errors = list(validator.iter_errors(data))
        assert not errors, (name, [e.message for e in errors[:3]])
        assert data["id"] == name
        pack = load_pack(name, collect_parameters(get_plugin_manager()))  # the chain resolves; every key declared, typed
        assert pack.chain[0].startswith("national@")
        for key, entry in pack.values.items():
            assert entry["source"].strip(), (name, key)
            assert entry["status"] in ("confirmed", "partial", "unconfirmed", "local"), (name, key)


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_values_cite_the_seed_document_and_item(name: str) -> None:
    data = raw(name)
    assert data["extends"] == "national"
    assert SEED_DOCS[name] in data["source_document"]
    assert data["values"] or data.get("requirements"), name
    for key, entry in {**data.get("values", {}), **data.get("requirements", {})}.items():
        assert entry["status"] == "local", (name, key)
        assert SEED_DOCS[name] in entry["source"] or name == "yuanjiang-2023" and "沅江市2023年" in entry["source"], (name, key)
        assert ITEM_REF.search(entry["source"]), (name, key, entry["source"])
    for col in data.get("columns", []):
        assert col["basis"]["status"] == "local" and ITEM_REF.search(col["basis"]["source"]), (name, col["id"])


def test_effective_values_of_the_overlays() -> None:
    national = load_pack("national")
    xq = load_pack("xingqing-2023")
    assert xq.value("interpretation.late_working_days") == 3
    assert national.value("interpretation.late_working_days") != 3
    assert xq.value("interpretation.coverage_target") == 1.0
    assert xq.value("interpretation.video_share_target") == 0.2
    assert xq.value("decisions.catalogue_deadline") == "03-31"
    assert xq.value("decisions.consultation_min_days") == 30
    assert xq.value("decisions.feedback_working_days") == 10
    assert xq.entry("interpretation.late_working_days")["pack"] == "xingqing-2023"
    # what the overlay does not touch comes from the baseline, and says so
    assert xq.value("freshness.homepage_days") == 14 and xq.entry("freshness.homepage_days")["pack"] == "national"

    assert national.value("ipv6.support_target") == 0.85
    assert national.entry("ipv6.support_target")["status"] == "confirmed"
    qh = load_pack("qinghai-2021")
    assert qh.value("ipv6.support_target") == 0.90 and qh.entry("ipv6.support_target")["status"] == "local"

    fc = load_pack("fengcheng-2023")
    assert fc.value("interpretation.diverse_format_target") == 0.70
    # local requirements no rule checks yet are kept (and shown), but are not pack values
    assert fc.requirements["documents.cleanup_deadline"]["value"] == "07-31"
    assert fc.requirements["application.reply_working_days"]["value"] == 15
    assert "application.reply_working_days" not in fc.values
    assert load_pack("gaoan-2022").requirements["application.reply_working_days"]["value"] == 15
    assert load_pack("yuanjiang-2023").value("interpretation.coverage_target") == 1.0


def test_national_freshness_and_privacy_values() -> None:
    p = load_pack("national")
    assert p.value("freshness.homepage_days") == 14
    assert p.value("freshness.window_dynamic_days") == 14
    assert p.value("freshness.window_notice_days") == 183
    assert p.value("freshness.window_longterm_days") == 365
    assert (p.value("freshness.veto_stale_count"), p.value("freshness.veto_longstale_count"),
            p.value("freshness.veto_blank_count")) == (5, 10, 5)
    assert "通知公告" in p.value("freshness.keywords_notice") and "工作动态" in p.value("freshness.keywords_dynamic")
    assert p.entry("freshness.veto_stale_count")["status"] == "confirmed"
    assert p.value("privacy.phone_visible_max") == 7
    assert {"freshness", "privacy"} <= set(p.indicators)


def test_overlay_columns_for_profiles() -> None:
    xq = {c["id"] for c in load_pack("xingqing-2023").columns_for("county")}
    assert "xq_village_info" in xq and "xxgk" in xq  # added, and the national catalogue kept
    assert "ga_jczwgk_catalogue" in {c["id"] for c in load_pack("gaoan-2022").columns_for("township")}
    assert "ga_jczwgk_catalogue" not in {c["id"] for c in load_pack("gaoan-2022").columns_for("province")}
    assert not any(c["id"].startswith(("xq_", "ga_", "qh_", "fc_", "yj_")) for c in load_pack("national").columns)


def test_broken_overlay_is_refused(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "bad", "version": "1", "name_zh": "坏", "name_en": "bad", "extends": "national",
                               "values": {"interpretation.late_working_days": {"value": 3, "status": "local"}}}), "utf-8")
    with pytest.raises(ConfigError, match="source"):
        load_pack(str(bad))


def test_rules_command_shows_overlay_values_and_origin(cli) -> None:
    r = cli("rules", "--pack", "xingqing-2023")
    assert r.returncode == 0, r.stderr
    assert "xingqing-2023" in r.stdout and "national@" in r.stdout
    assert "local" in r.stdout
