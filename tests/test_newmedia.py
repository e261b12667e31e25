"""政务新媒体 end to end: a site's 政务新媒体 page, a 备案 registry that disagrees with it on purpose, feeds at
as-of −3/−15/−400 days, a reposts-only feed, WeChat-like article pages (live, deleted, blocked, platform
check), a platform export, an unreachable feed — one CLI audit (module fixture), then recheck offline.

Every finding is asserted with its account, and every trap: the fresh account has no finding; the
unreachable feed and the account known only from old linked articles are "not decidable", never stale;
the verification page (环境异常) is neither deleted nor blocked; a closed account with its 停更公告 is
quiet, and a closed account is never "not on the site"; a stale account fails that account, not the
website. A third-party source registered in process (no engine change) makes the unreachable account
decidable through the audit's resolver.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from auditor.demo.newmedia import (
    FeedPost,
    MatrixEntry,
    atom,
    matrix_body,
    rss,
    wechat_article,
    wechat_blocked,
    wechat_check,
    wechat_deleted,
)
from auditor.demo.servers import Hosts
from auditor.hookspecs import hookimpl
from tests.support import Site, closed_port, run_cli, serve

AS_OF = dt.date(2026, 6, 30)
WWW, FEEDS, MP, API = "www.nmtest.gov.cn", "feeds.nmtest.cn", "mp.weixin.qq.com", "api.weibo-bridge.test"


def ago(days: int, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(AS_OF - dt.timedelta(days=days), dt.time(hour))


def page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a> <a href='/xmtjz/index.html'>政务新媒体</a> "
            f"<a href='/zwwb/index.html'>政务微博</a></div>{body}</body></html>")  # trap: a menu entry is no account


def build(port: int, dead: int, sites: dict[str, Site]) -> dict[str, str]:
    """Fill the (already served) sites: the URLs carry the server's port."""

    base = lambda host: f"http://{host}:{port}"  # noqa: E731
    feeds = sites[FEEDS]
    feeds.raw("/wx_fresh.xml", rss("示范县发布", base(FEEDS), [FeedPost(ago(3), "县政府召开常务会议", "会议研究了重点工作。"),
                                                              FeedPost(ago(9), "便民服务指南", "办事指南更新。")]),
              "application/rss+xml")
    feeds.raw("/wb_veto.atom", atom("示范县政府", base(FEEDS), [FeedPost(ago(15), "防汛工作部署", "做好防汛工作。"),
                                                                FeedPost(ago(40), "春耕生产", "春耕。")]),
              "application/atom+xml")
    feeds.raw("/dy_zombie.xml", rss("示范县文旅", base(FEEDS), [FeedPost(ago(400), "风景如画", "欢迎来玩。")]), "application/rss+xml")
    feeds.raw("/tt_reposts.xml", rss("示范县转发号", base(FEEDS), [FeedPost(ago(d), f"转发：省里的新闻{d}", "转载自省政府网站。")
                                                                  for d in (2, 5, 8, 11)]), "application/rss+xml")
    feeds.raw("/wx_closed.xml", rss("示范县旧号", base(FEEDS), [FeedPost(ago(100), "农技推广", "技术推广。")]), "application/rss+xml")
    feeds.raw("/wb_notice.xml", rss("示范县停更号", base(FEEDS), [FeedPost(ago(30), "停更公告", "本账号自即日起停止更新，请关注示范县发布。"),
                                                                 FeedPost(ago(60), "农业信息", "信息。")]), "application/rss+xml")
    feeds.raw("/ks_undated.xml", '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>示范县应急</title>'
              '<link>http://x/</link><description>d</description><item><title>应急科普</title><link>http://x/1</link></item>'
              '</channel></rss>', "application/rss+xml")
    mp = sites[MP]
    mp.page("/s/fresh1", wechat_article("示范县发布", "县长调研", ago(4), "县长到乡镇调研。"))
    mp.page("/s/old1", wechat_article("示范县教育", "开学通知", ago(60), "秋季开学安排。"))
    mp.page("/s/deleted1", wechat_deleted())
    mp.page("/s/blocked1", wechat_blocked())
    mp.page("/s/check1", wechat_check())
    api = sites[API]
    api.raw("/weibo/wb_health.json", json.dumps({"posts": [{"created_at": ago(2).isoformat(), "text": "健康科普"}]}),
            "application/json")
    entries = [
        MatrixEntry("示范县发布", "微信公众号", [("订阅", f"{base(FEEDS)}/wx_fresh.xml"), ("最新文章", f"{base(MP)}/s/fresh1")]),
        MatrixEntry("示范县政府", "微博", [("RSS", f"{base(FEEDS)}/wb_veto.atom")]),
        MatrixEntry("示范县文旅", "抖音", [("RSS", f"{base(FEEDS)}/dy_zombie.xml")]),
        MatrixEntry("示范县转发号", "今日头条", [("RSS", f"{base(FEEDS)}/tt_reposts.xml")]),
        MatrixEntry("示范县教育", "微信公众号", [("开学通知", f"{base(MP)}/s/old1"), ("旧文", f"{base(MP)}/s/deleted1"),
                                            ("通报", f"{base(MP)}/s/blocked1"), ("活动", f"{base(MP)}/s/check1")]),
        MatrixEntry("示范县卫健", "微博", [("RSS", f"http://dead.nmtest.cn:{dead}/wb_health.xml")]),
        MatrixEntry("示范县停更号", "微博", [("RSS", f"{base(FEEDS)}/wb_notice.xml")]),
    ]
    www = sites[WWW]
    www.page("/", page("示范县人民政府", "<p>欢迎访问</p>"))
    www.page("/xmtjz/index.html", page("政务新媒体", matrix_body(entries)))
    www.page("/zwwb/index.html", page("政务微博", "<p>本站政务微博栏目</p>"))
    return {"fresh": f"{base(FEEDS)}/wx_fresh.xml", "veto": f"{base(FEEDS)}/wb_veto.atom",
            "zombie": f"{base(FEEDS)}/dy_zombie.xml", "closed": f"{base(FEEDS)}/wx_closed.xml",
            "notice": f"{base(FEEDS)}/wb_notice.xml", "undated": f"{base(FEEDS)}/ks_undated.xml", "old1": f"{base(MP)}/s/old1", "dead": f"http://dead.nmtest.cn:{dead}/wb_health.xml"}


def write_registry(folder: Path, urls: dict[str, str]) -> Path:
    """Disagrees with the site on purpose: 示范县转发号 is not filed; 示范县政府服务 is filed but not shown (and a
    second 微博 of the same office); 示范县教育 is filed as 示范县教育发布 (renamed); two closed accounts."""

    (folder / "exports").mkdir(parents=True, exist_ok=True)
    posts = [{"发布时间": ago(d).strftime("%Y-%m-%d %H:%M"), "标题": f"政务服务{d}", "正文": "服务信息。", "评论数": 0, "留言数": 0,
              "点赞数": 3} for d in (1, 2, 3, 5, 6)]
    posts.append({"发布时间": ago(4).strftime("%Y-%m-%d %H:%M"), "标题": "好物推荐", "正文": "限时抢购，领券下单 https://s.click.taobao.com/x1",
                  "评论数": 0, "留言数": 0})
    posts.append({"发布时间": ago(7).strftime("%Y-%m-%d %H:%M"), "标题": "国庆献礼", "正文": "热烈庆祝中华人民共合国成立。", "评论数": 0,
                  "留言数": 0})
    with (folder / "exports" / "wb2.csv").open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=["发布时间", "标题", "正文", "评论数", "留言数", "点赞数"])
        w.writeheader()
        w.writerows(posts)
    rows = [
        ("示范县发布", "微信公众号", "示范县人民政府办公室", "gh_fresh", urls["fresh"], "正常"),
        ("示范县政府", "新浪微博", "示范县人民政府办公室", "wb_gov", urls["veto"], "正常"),
        ("示范县政府服务", "微博", "示范县人民政府办公室", "wb2", "exports/wb2.csv", "正常"),
        ("示范县文旅", "抖音", "示范县文化和旅游局", "dy1", urls["zombie"], "正常"),
        ("示范县教育发布", "微信公众号", "示范县教育局", "gh_edu", urls["old1"], "正常"),
        ("示范县卫健", "微博", "示范县卫生健康局", "wb_health", urls["dead"], "正常"),
        ("示范县旧号", "微信公众号", "示范县农业农村局", "gh_old", urls["closed"], "已关停"),
        ("示范县停更号", "微博", "示范县农业农村局", "wb_notice", urls["notice"], "停更"),
        ("示范县应急", "快手", "示范县应急管理局", "ks1", urls["undated"], "正常"),
    ]
    path = folder / "registry.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["账号名称", "平台", "主办单位", "账号ID", "主页或订阅地址", "状态"])
        w.writerows(rows)
    return path


class WeiboBridge:
    """A third-party source (Weibo through a bridge API), registered in process: no engine change."""

    name = "weibo-bridge"

    def __init__(self, base: str):
        self.base = base
        self.calls: list[str] = []

    def accepts(self, account: Any) -> bool:
        return account.platform == "微博" and account.account_id == "wb_health"

    def read(self, account: Any, ctx: Any) -> dict[str, Any]:
        from auditor.measure.newmedia import Post, Reading

        resp = ctx.probe("http").fetch(f"{self.base}/weibo/{account.account_id}.json")
        self.calls.append(account.account_id)
        if resp.status != 200:
            return Reading(self.name, False, reason=f"http_{resp.status}").as_dict()
        posts = [Post(time=p["created_at"], text=p["text"]) for p in json.loads(resp.body)["posts"]]
        return Reading(self.name, True, complete=True, posts=posts).as_dict()


class Broken:
    """A source that raises: its account gets a not-decidable reading, every other reading stands."""

    name = "broken"

    def accepts(self, account: Any) -> bool:
        return account.account_id == "gh_fresh"

    def read(self, account: Any, ctx: Any) -> Any:
        raise RuntimeError("platform API changed")


class BridgePlugin:
    def __init__(self, *sources: Any):
        self.sources = list(sources)

    @hookimpl
    def govaudit_account_sources(self) -> list[Any]:
        return self.sources


def by_account(report: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in report["findings"]:
        name = f["evidence"].get("account_name")
        if name:
            out.setdefault(name, set()).add(f["rule"])
    return out


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("newmedia")
    dead = closed_port()
    out: dict[str, Any] = {"tmp": tmp}
    sites = {h: Site(h) for h in (WWW, FEEDS, MP, API)}
    db = tmp / "audit.sqlite"
    resolve = [a for h in (WWW, FEEDS, MP, API, "dead.nmtest.cn") for a in ("--resolve", f"{h}=127.0.0.1")]
    with serve(Hosts(sites, default=sites[WWW])) as running:
        port = running.port
        urls = build(port, dead, sites)
        registry = write_registry(tmp / "office", urls)
        r = run_cli("check", f"http://{WWW}:{port}/", "--out", str(tmp / "a"), "--db", str(db), "--as-of", AS_OF.isoformat(),
                    "--checks", "newmedia", "--accounts", str(registry), *resolve)
        out["cli"] = r
        report = json.loads((tmp / "a" / "report.json").read_text("utf-8"))
        out["report"] = report
        # the third-party source, in process, on a copy of the run: the engine is not changed for it
        from auditor.config import build_config
        from auditor.engine import Engine, check_and_report
        from auditor.store.database import EvidenceStore

        db2 = tmp / "bridge.sqlite"
        shutil.copy(db, db2)
        store = EvidenceStore(str(db2))
        run = store.get_run(report["run_id"])
        opts = {k: v for k, v in run["options"].items() if k != "plugin_options" and v is not None}
        cfg = build_config({**opts, "db": str(db2), "out": str(tmp / "bridge")}, {})
        cfg.plugin_options = run["options"]["plugin_options"]
        bridge = WeiboBridge(f"http://{API}:{port}")
        engine = Engine(cfg, extra_plugins=[BridgePlugin(bridge, Broken())])
        store.clear_derived(report["run_id"])
        out["bridge"] = check_and_report(cfg, engine, store, report["run_id"], measure=True).report
        out["bridge_calls"] = list(bridge.calls)
    out["db"] = db
    out["registry"] = registry
    # servers are gone: recheck must give the same from the store alone
    shutil.move(str(registry.parent), str(tmp / "office-moved"))  # nor does it need the registry file
    out["recheck"] = run_cli("recheck", report["run_id"], "--db", str(db), "--out", str(tmp / "b"))
    out["rechecked"] = json.loads((tmp / "b" / "report.json").read_text("utf-8"))
    later = (AS_OF + dt.timedelta(days=20)).isoformat()
    out["recheck_later"] = run_cli("recheck", report["run_id"], "--db", str(db), "--out", str(tmp / "c"), "--as-of", later)
    out["later"] = json.loads((tmp / "c" / "report.json").read_text("utf-8"))
    return out


def test_audit_runs_and_a_stale_account_fails_the_account_not_the_site(audited: dict[str, Any]) -> None:
    r, report = audited["cli"], audited["report"]
    assert r.returncode == 1, r.stderr[-2000:]  # an account veto: exit 1
    assert "Traceback" not in r.stderr
    score = report["score"]
    assert score["veto"] is False and "newmedia_not_updated" not in {v["id"] for v in score["veto_items"]}
    nm = score["newmedia"]
    assert nm["veto"] is True
    states = {v["id"]: v["state"] for v in nm["veto_items"]}
    assert states == {"newmedia_serious_problem": "triggered", "newmedia_not_updated": "triggered",
                      "newmedia_no_interaction": "triggered"}
    failed = set(nm["accounts_failed"])
    assert failed == {"微博:wb_gov", "抖音:dy1", "微博:wb2"}, failed
    # per-account reference deductions, outside the website's 100 points
    assert score["score"] == 100 and score["max_points"] == 100
    assert nm["accounts"]["今日头条:示范县转发号"]["deducted"] == 15.0  # zombie 10 + unregistered 5
    assert nm["accounts"]["微博:wb_gov"]["veto"] and nm["accounts"]["微博:wb_gov"]["deducted"] == 5.0  # its share of the duplicate


def test_every_finding_per_account(audited: dict[str, Any]) -> None:
    got = by_account(audited["report"])
    assert got.get("示范县发布") is None  # fresh (−3 days), on the site and filed: no finding at all
    assert got["示范县政府"] == {"newmedia.not_updated"}  # −15 days (Atom)
    assert got["示范县文旅"] == {"newmedia.not_updated", "newmedia.zombie"}  # −400 days
    assert got["示范县转发号"] == {"newmedia.unregistered", "newmedia.zombie"}  # reposts only, fresh, not filed
    assert got["示范县教育发布"] == {"newmedia.renamed", "newmedia.article_deleted", "newmedia.article_blocked",
                                  "newmedia.not_decidable"}  # only an old linked article: not decidable, not stale
    assert got["示范县卫健"] == {"newmedia.not_decidable"}  # unreachable feed: never stale
    assert got["示范县政府服务"] == {"newmedia.not_on_site", "newmedia.no_interaction", "newmedia.commercial_ad",
                                  "newmedia.post_text"}
    assert got["示范县旧号"] == {"newmedia.closed_without_notice"}  # closed: not "not on site", not stale
    assert got.get("示范县停更号") is None  # closed with its 停更公告
    assert got["示范县应急"] == {"newmedia.not_on_site", "newmedia.not_decidable"}  # a feed without dates proves nothing


def test_finding_details(audited: dict[str, Any]) -> None:
    fs = audited["report"]["findings"]
    one = lambda rule, name=None: [f for f in fs if f["rule"] == rule and (name is None or f["evidence"].get("account_name") == name)]  # noqa: E731
    stale = one("newmedia.not_updated", "示范县政府")[0]
    assert stale["severity"] == "veto" and stale["evidence"]["days_since"] == 15
    assert stale["basis"]["source"] == "国办秘函〔2019〕19号" and stale["basis"]["status"] == "confirmed"
    zombie = {f["evidence"]["kind"] for f in one("newmedia.zombie")}
    assert zombie == {"silent", "reposts_only"}
    dup = one("newmedia.duplicate")
    assert len(dup) == 1 and set(dup[0]["evidence"]["names"]) == {"示范县政府", "示范县政府服务"}
    assert dup[0]["evidence"]["owner"] == "示范县人民政府办公室"
    ad = one("newmedia.commercial_ad")[0]
    assert ad["evidence"]["word"] in ("限时抢购", "领券") and ad["evidence"]["post_title"] == "好物推荐"
    text = one("newmedia.post_text")[0]
    assert text["severity"] == "veto" and text["evidence"]["wrong"] == "中华人民共合国" and text["evidence"]["text_rule"] == "text.typo"
    ren = one("newmedia.renamed")[0]
    assert ren["evidence"]["filed_name"] == "示范县教育发布" and ren["evidence"]["shown_name"] == "示范县教育"
    arts = {f["rule"]: f["url"] for f in fs if f["rule"].startswith("newmedia.article_")}
    assert arts["newmedia.article_deleted"].endswith("/s/deleted1") and arts["newmedia.article_blocked"].endswith("/s/blocked1")
    assert not any(f["url"].endswith("/s/check1") for f in fs)  # a platform check page decides nothing
    nd = one("newmedia.not_decidable", "示范县卫健")[0]
    assert nd["severity"] == "info" and nd["evidence"]["readings"][0]["reason"].startswith("unreachable")
    inter = one("newmedia.no_interaction")[0]
    assert inter["evidence"]["how"] == "zero_counts" and inter["evidence"]["posts"] == 7


def test_report_section_json_html_xlsx(audited: dict[str, Any]) -> None:
    import jsonschema
    from openpyxl import load_workbook

    from auditor.reports.base import report_schema

    report = audited["report"]
    jsonschema.validate(report, report_schema())
    nm = report["newmedia"]
    assert nm["registry"] == {"given": True, "file": "registry.csv", "rows": 9, "problems": []}
    assert [u.endswith("/xmtjz/index.html") for u in nm["listing_pages"]] == [True]
    accs = {a["name"]: a for a in nm["accounts"]}
    assert len(accs) == 10
    fresh = accs["示范县发布"]
    assert fresh["state"] == "active" and fresh["posts_in_window"] == 3 and fresh["days_since"] == 3
    assert fresh["owner"] == "示范县人民政府办公室" and fresh["on_site"] and fresh["in_registry"] and not fresh["findings"]
    assert accs["示范县卫健"]["state"] == "not_decidable" and accs["示范县政府"]["state"] == "stale"
    assert accs["示范县旧号"]["state"] == "closed"
    assert accs["示范县政府"]["veto"] and accs["示范县政府"]["last_post"].startswith((AS_OF - dt.timedelta(days=15)).isoformat())
    html = (audited["tmp"] / "a" / "report.html").read_text("utf-8")
    assert 'id="newmedia"' in html and "示范县政府服务" in html and "无法判定" in html
    ws = load_workbook(audited["tmp"] / "a" / "report.xlsx")["政务新媒体"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "账号名称" and len(rows) == 11
    assert any(r[0] == "示范县卫健" and r[10] == "not_decidable" for r in rows)


def test_recheck_offline_gives_the_same(audited: dict[str, Any]) -> None:
    r = audited["recheck"]
    assert r.returncode == audited["cli"].returncode, r.stderr[-2000:]
    a, b = audited["report"], audited["rechecked"]
    assert sorted((f["id"], f["rule"], f["message"]) for f in a["findings"]) == \
        sorted((f["id"], f["rule"], f["message"]) for f in b["findings"])
    assert b["score"]["newmedia"] == a["score"]["newmedia"]
    assert b["newmedia"]["accounts"] == a["newmedia"]["accounts"]
    assert not [e for e in b["errors"] if e["stage"] == "check"], b["errors"]


def test_recheck_at_a_later_date_rejudges_the_stored_posts(audited: dict[str, Any]) -> None:
    got = by_account(audited["later"])
    # 20 days later the fresh account (last post −3 → −23 days) is not updated; judged, not re-measured
    assert "newmedia.not_updated" in got["示范县发布"]
    assert got["示范县卫健"] == {"newmedia.not_decidable"}


def test_third_party_source_in_process_through_the_resolver(audited: dict[str, Any]) -> None:
    assert audited["bridge_calls"] == ["wb_health"]  # asked only for the account it accepts
    got = by_account(audited["bridge"])
    assert got.get("示范县卫健") is None  # read by the bridge (fresh): decidable now, and active
    acc = next(a for a in audited["bridge"]["newmedia"]["accounts"] if a["name"] == "示范县卫健")
    assert acc["state"] == "active" and "weibo-bridge" in audited["bridge"]["newmedia"]["sources"]
    fresh = next(a for a in audited["bridge"]["newmedia"]["accounts"] if a["name"] == "示范县发布")
    assert {"source": "broken", "reason": "source_error", "complete": False} in fresh["sources"]
    assert fresh["state"] == "active" and got.get("示范县发布") is None  # the feed's reading still stands


def test_a_source_name_offered_twice_is_refused() -> None:
    from auditor.config import AuditConfig, ConfigError
    from auditor.engine import Engine

    class Feed:
        name = "feed"  # the built-in feed source's name

        def accepts(self, account: Any) -> bool:
            return False

        def read(self, account: Any, ctx: Any) -> Any:
            return None

    with pytest.raises(ConfigError, match="feed"):
        Engine(AuditConfig(as_of=AS_OF.isoformat(), url=f"http://{WWW}/"), extra_plugins=[BridgePlugin(Feed())])


def test_missing_registry_is_a_usage_error(tmp_path: Path) -> None:
    r = run_cli("check", "http://127.0.0.1:9/", "--as-of", AS_OF.isoformat(), "--accounts", str(tmp_path / "nope.csv"),
                "--out", str(tmp_path))
    assert r.returncode == 2 and "registry file not found" in r.stderr and "Traceback" not in r.stderr


# --- pure parts, in process (no audit) ------------------------------------------------------

def test_wechat_pages_and_notice_classification() -> None:
    from auditor.checks.newmedia import article_state
    from auditor.plugins.newmedia_sources import read_wechat_page
    from auditor.rulepacks import load_pack

    pack = load_pack("national")
    lists = [pack.values[k]["value"] for k in ("newmedia.article_deleted_markers", "newmedia.article_blocked_markers",
                                                "newmedia.platform_check_markers")]
    live = read_wechat_page(wechat_article("示范县发布", "辟谣", ago(1), "网传“该内容已被发布者删除”截图系伪造。"))
    assert live["content"] and live["time"] == ago(1).isoformat() and live["nickname"] == "示范县发布"
    state = lambda html: article_state({**read_wechat_page(html), "fetched": True}, *lists)  # noqa: E731
    assert state(wechat_article("示范县发布", "辟谣", ago(1), "网传“该内容已被发布者删除”截图系伪造。")) == "live"  # trap
    assert state(wechat_deleted()) == "deleted" and state(wechat_blocked()) == "blocked"
    assert state(wechat_check()) == "undecidable"  # a verification page is not a deleted article
    assert article_state({"url": "x", "fetched": False, "reason": "unreachable:refused"}, *lists) == "undecidable"


def test_link_kinds_platforms_and_an_xlsx_registry(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from auditor.measure.newmedia import EXPORT, FEED, HOME, WECHAT_ARTICLE, link_kind, platform_of
    from auditor.plugins.newmedia_probe import read_registry

    assert link_kind("https://mp.weixin.qq.com/s/AbC") == WECHAT_ARTICLE
    assert link_kind("http://rsshub.local/weibo/user/123/rss") == FEED and link_kind("https://x.cn/feed.xml") == FEED
    assert link_kind("https://weibo.com/u/123") == HOME and link_kind("/data/exports/wb.csv") == EXPORT
    assert platform_of("示范县发布微信视频号") == "微信视频号" and platform_of("新浪微博") == "微博"
    assert platform_of("Apple 新闻") is None  # no stray "app" match
    wb = Workbook()
    ws = wb.active
    ws.append(["账号名称", "平台", "开办主体", "微信号", "订阅地址", "状态"])
    ws.append(["示范县发布", "公众号", "示范县人民政府办公室", "gh_1", "https://x.cn/a.xml exports/a.csv", "正常"])
    ws.append([None, "微博", "某单位", "", "", ""])  # no name: a problem, not a crash
    ws.append(["某号", "飞书", "某单位", "", "", ""])
    wb.save(tmp_path / "reg.xlsx")
    accounts, info = read_registry(tmp_path / "reg.xlsx")
    assert [a.name for a in accounts] == ["示范县发布", "某号"]
    a = accounts[0]
    assert a.platform == "微信公众号" and a.owner == "示范县人民政府办公室" and a.account_id == "gh_1"
    assert [lk["kind"] for lk in a.links] == [FEED, EXPORT] and a.links[1]["url"] == str(tmp_path / "exports" / "a.csv")
    assert [p["problem"] for p in info["problems"]] == ["no_name", "unknown_platform"]
