"""办事服务 and 互动交流 vetoes (服务不实用, 互动回应差) through the real CLI on loopback sites.

Each site is built by code with dates relative to AS_OF; every trap sits just on the safe side of a
threshold (a message answered in time, one still inside its 3 months, one older than the 1-year
window, one in an excluded 信访 column, 4 incomplete guides where 5 make the veto).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.support.servers import run_cli, serve
from tests.support.sites import Site

AS_OF = dt.date(2026, 11, 22)

GUIDE_FULL = [("事项名称", "参保登记"), ("设定依据", "《社会保险法》"), ("申请条件", "本县户籍"), ("办理材料", "身份证"),
              ("办理地点", "政务服务中心"), ("办理时间", "工作日"), ("联系电话", "0799-1234567"), ("办理流程", "申请—受理—办结")]
GUIDE_POOR = GUIDE_FULL[:1] + GUIDE_FULL[4:]  # 设定依据、申请条件、办理材料 missing … and 办理流程 too below
GUIDE_POOR = [g for g in GUIDE_POOR if g[0] != "办理流程"]  # 4 of 8 missing


def _page(title: str, body: str, nav: list[tuple[str, str]]) -> str:
    links = "".join(f"<a href='{h}'>{n}</a>" for n, h in nav)
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><div class='nav'>{links}</div>"
            f"<div class='content'>{body}</div><div class='footer'>主办单位：测试县人民政府</div></body></html>")


def _site(nav: list[tuple[str, str]], letters: list[tuple[str, str, int, int | None]] = (),
          guides: list[list[tuple[str, str]]] = ()) -> Site:
    """``letters``: (path, column, asked days ago, answered after N days or None)."""

    site = Site()
    items = "".join(f"<li><a href='/news/{i}.html'>新闻{i}</a> {AS_OF - dt.timedelta(days=i + 1)}</li>" for i in range(5))
    site.page("/", _page("测试县人民政府", f"<ul>{items}</ul>", nav))
    for i in range(5):
        site.page(f"/news/{i}.html", _page(f"新闻{i}", f"<p>正文{i}</p>", nav))
    for n, h in nav:
        if h not in {p for p, *_ in letters}:
            site.page(h, _page(n, f"<h1>{n}</h1>" + "".join(f"<a href='{p}'>留言{k}</a>" for k, (p, *_r) in enumerate(letters))
                               + "".join(f"<a href='/bszn/{k}.html'>指南{k}</a>" for k in range(len(guides))), nav))
    for path, column, asked_days, took in letters:
        asked = AS_OF - dt.timedelta(days=asked_days)
        reply = (f"<div class='reply'>答复内容：已办理。答复时间：{asked + dt.timedelta(days=took)}</div>" if took is not None
                 else "<div class='reply'>状态：办理中</div>")
        site.page(path, _page(f"关于路灯的咨询_{column}", f"<h1>关于路灯的咨询</h1><p>留言时间：{asked} 09:30</p>"
                              f"<p>留言内容：路灯不亮。</p>{reply}", nav))
    for k, rows in enumerate(guides):
        table = "<table>" + "".join(f"<tr><th>{a}</th><td>{b}</td></tr>" for a, b in rows) + "</table>"
        site.page(f"/bszn/{k}.html", _page(f"事项{k}办事指南", f"<h1>事项{k}办事指南</h1>{table}", nav))
    return site


def _audit(tmp_path: Path, site: Site) -> dict:
    with serve(site) as srv:
        proc = run_cli("check", srv.base_url + "/", "--as-of", AS_OF.isoformat(), "--out", str(tmp_path / "r"),
                       "--db", str(tmp_path / "e.sqlite"), "--checks", "service,interaction", "--a11y", "off")
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    report = json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))
    assert report["as_of"] == AS_OF.isoformat()
    return report


def _by_rule(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


NAV = [("首页", "/"), ("办事服务", "/bsfw/"), ("县长信箱", "/hdjl/xzxx/")]


def test_messages_unanswered_over_three_months_are_a_veto_and_the_traps_are_not(tmp_path: Path) -> None:
    letters = [
        ("/hdjl/xzxx/1.html", "县长信箱", 100, None),   # 100 days, no reply → veto
        ("/hdjl/xzxx/2.html", "县长信箱", 120, 100),    # replied after 100 days (> 3 months) → veto (late)
        ("/hdjl/xzxx/3.html", "县长信箱", 80, None),    # trap: still inside its 3 months
        ("/hdjl/xzxx/4.html", "县长信箱", 150, 20),     # trap: answered in time
        ("/hdjl/xzxx/5.html", "县长信箱", 400, None),   # trap: older than the 1-year window
        ("/hdjl/xfxx/6.html", "网上信访", 200, None),   # trap: 信访 columns are excluded
    ]
    report = _audit(tmp_path, _site(NAV + [("网上信访", "/hdjl/xfxx/")], letters))
    got = _by_rule(report)
    unanswered = {f["url"].rsplit("/", 1)[-1]: f for f in got.get("interaction.unanswered", [])}
    assert set(unanswered) == {"1.html", "2.html"}, sorted(unanswered)
    assert unanswered["1.html"]["evidence"]["state"] == "unanswered"
    assert unanswered["2.html"]["evidence"]["state"] == "late"
    assert all(f["severity"] == "veto" for f in unanswered.values())
    assert "interaction.no_channel" not in got and "service.no_entry" not in got
    items = {v["id"]: v for v in report["score"]["veto_items"]}
    assert items["interaction_unresponsive"]["state"] == "triggered" and not report["score"]["passed"]
    assert items["service_impractical"]["state"] == "clear"


def test_no_service_entry_and_only_petition_channels_are_vetoes(tmp_path: Path) -> None:
    nav = [("首页", "/"), ("政务公开", "/zwgk/"), ("网上信访", "/xf/"), ("纪检举报", "/jj/")]
    got = _by_rule(_audit(tmp_path, _site(nav)))
    assert len(got["service.no_entry"]) == 1 and got["service.no_entry"][0]["evidence"]["suspected"] is True
    assert len(got["interaction.no_channel"]) == 1  # 信访 and 纪检举报 channels do not count
    assert "请人工核实" in got["interaction.no_channel"][0]["message"]


def test_a_dead_channel_is_no_channel(tmp_path: Path) -> None:
    site = _site([("首页", "/"), ("办事服务", "/bsfw/")])
    site.page("/", _page("测试县人民政府", "<a href='/hdjl/gone.html'>县长信箱</a>", [("首页", "/"), ("办事服务", "/bsfw/")]))
    with serve(site) as srv:
        proc = run_cli("check", srv.base_url + "/", "--as-of", AS_OF.isoformat(), "--out", str(tmp_path / "r"),
                       "--db", str(tmp_path / "e.sqlite"), "--checks", "links,service,interaction", "--a11y", "off")
    report = json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))
    got = _by_rule(report)
    assert proc.returncode == 1
    assert got["interaction.no_channel"][0]["evidence"]["dead_entries"][0]["url"].endswith("/hdjl/gone.html")


def test_five_incomplete_guides_are_a_veto_four_are_not(tmp_path: Path) -> None:
    four = _by_rule(_audit(tmp_path / "four", _site(NAV, guides=[GUIDE_POOR] * 4 + [GUIDE_FULL] * 2)))
    assert len(four["service.guide_incomplete"]) == 4 and "service.impractical" not in four
    assert sorted(four["service.guide_incomplete"][0]["evidence"]["missing"]) == sorted(["设定依据", "申请条件", "办理材料", "办理流程"])
    assert four["service.guide_incomplete"][0]["deduction"] > 0
    five = _by_rule(_audit(tmp_path / "five", _site(NAV, guides=[GUIDE_POOR] * 5)))
    assert len(five["service.impractical"]) == 1 and five["service.impractical"][0]["severity"] == "veto"
    assert five["service.impractical"][0]["evidence"]["count"] == 5
