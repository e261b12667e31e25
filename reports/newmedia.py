"""The report's 政务新媒体 section: each account with its platform, 主办单位, last post, posts in the
window, state and findings, plus the registry file and the site pages the accounts came from.

Built from what the run stored — the per-account summaries the ``newmedia`` check wrote (records of kind
``newmedia.account``, rewritten by every recheck) and the ``newmedia.accounts`` measurement — so the JSON,
HTML and XLSX sections never disagree. None when the run had no new-media measurement (family off).
"""

from __future__ import annotations

from typing import Any

from auditor.measure.records import latest
from auditor.store.database import EvidenceStore

ACCOUNTS_KIND = "newmedia.accounts"
RECORD_KIND = "newmedia.account"


def newmedia_section(store: EvidenceStore, run_id: str, findings: list[dict[str, Any]],
                     score: dict[str, Any]) -> dict[str, Any] | None:
    head = latest(store, run_id, ACCOUNTS_KIND).get("site")
    if head is None:
        return None
    by_account: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        ev = f.get("evidence") or {}
        for uid in [ev.get("account"), *(ev.get("accounts") or [])]:
            if uid:
                by_account.setdefault(str(uid), []).append(f)
    part = score.get("newmedia") or {}
    scored = part.get("accounts") or {}
    accounts = []
    for rec in store.iter_records(RECORD_KIND, run_id=run_id):
        a = dict(rec["data"])
        mine = by_account.get(a["uid"], [])
        a["findings"] = [{"id": f["id"], "rule": f["rule"], "severity": f["severity"], "message": f["message"]} for f in mine]
        a["veto"] = any(f["severity"] == "veto" for f in mine)
        got = scored.get(a["uid"]) or {}
        a["deducted"] = got.get("deducted", 0.0)  # reference deductions of the per-account block (unconfirmed points)
        accounts.append(a)
    accounts.sort(key=lambda a: (not a["veto"], -len(a["findings"]), a["platform"] or "", a["name"]))
    data = head.data if isinstance(head.data, dict) else {}
    registry = data.get("registry") or {}
    return {
        "registry": {"given": bool(registry.get("given")), "file": registry.get("file"), "rows": registry.get("rows", 0),
                     "problems": registry.get("problems", [])},
        "listing_pages": data.get("listing_pages", []),
        "sources": data.get("sources", []),
        "accounts": accounts,
        "accounts_failed": len(part.get("accounts_failed", {})),
        "verdict_zh": part.get("verdict_zh", ""),
        "verdict_en": part.get("verdict_en", ""),
    }
