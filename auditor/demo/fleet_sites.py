"""Generated government sites for fleet demos, tests and the fleet benchmark, all on loopback.

A fleet is ``n`` small county-style sites under distinct host names (``www.fleetNN.gov.cn``), each
with ``pages`` pages (homepage, column pages, articles), a footer with its 网站标识码, and a quality
that varies with its number (dead links, a missing ICP 备案号, a stale column) so the ranking has
something to rank. Special members, by role:

- ``shared_ip``: sites served by one server on one loopback address (a 集约化 platform);
- ``down``: the registry points at a port nobody listens on;
- ``redirect``: the homepage answers 301 to another host (a site that moved without telling);
- ``wrong_code``: the footer shows another site's 网站标识码;
- ``parent``: a portal whose homepage lists 政府网站 — every other member and ``www.unlisted.gov.cn``,
  a site that answers but is in no registry (served beside the parent).

:func:`serve_fleet` serves them and yields the registry rows and ``--resolve`` pairs.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from auditor.demo.servers import Hosts, Request, Running, Site, serve

REGIONS = ("杭州市", "宁波市", "温州市", "嘉兴市", "湖州市")
HEADER = ["网站标识码", "网站名称", "首页地址", "主办单位", "行政级别", "上级单位", "地区", "规则包", "备注"]


@dataclass
class FleetMember:
    number: int
    host: str
    code: str
    name: str
    region: str
    role: str = "normal"  # normal | shared_ip | down | redirect | wrong_code
    url: str = ""
    address: str = ""


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it: when it arrived and was answered, on which address, for which name."""

    start: float
    end: float
    address: str
    host: str
    method: str
    path: str


class _Logged:
    """A served site (or virtual hosts) that records every request — the server-side view a test
    uses to check politeness (which audits ran against one address at the same time)."""

    def __init__(self, inner: Site | Hosts, log: list[Hit], lock: threading.Lock) -> None:
        self.inner, self.log, self.lock, self.name = inner, log, lock, inner.name

    def respond(self, req: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        start = time.time()
        try:
            return self.inner.respond(req)
        finally:
            with self.lock:
                self.log.append(Hit(start, time.time(), req.server_host, req.host.lower(), req.method, req.path))


@dataclass
class RunningFleet:
    members: list[FleetMember]
    resolve: dict[str, str] = field(default_factory=dict)
    servers: list[Running] = field(default_factory=list)
    requests: list[Hit] = field(default_factory=list)  # every request every member's server answered

    def registry_rows(self) -> list[list[str]]:
        rows = [HEADER]
        for m in self.members:
            rows.append([m.code, m.name, m.url, f"{m.region}{m.name.removesuffix('门户网站')}办公室", "县级",
                         f"{m.region}人民政府", m.region, "", m.role])
        return rows

    def write_csv(self, path: Path) -> Path:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(self.registry_rows())
        return path

    def resolve_args(self) -> list[str]:
        return [a for host, addr in sorted(self.resolve.items()) for a in ("--resolve", f"{host}={addr}")]

    def by_role(self, role: str) -> list[FleetMember]:
        return [m for m in self.members if m.role == role]


def site_code(number: int) -> str:
    return f"33{number:08d}"


def _page(member: FleetMember, title: str, body: str, code: str, quality: int, as_of: dt.date) -> str:
    icp = "" if quality % 4 == 3 else f'<a href="https://beian.miit.gov.cn/">浙ICP备{12345600 + member.number}号</a>'
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="SiteName" content="{html.escape(member.name)}"><meta name="SiteDomain" content="{member.host}">'
        f'<meta name="SiteIDCode" content="{code}"></head><body>'
        f'<header><h1>{html.escape(member.name)}</h1><nav><a href="/">首页</a> <a href="/col/zwgk/index.html">政务公开</a> '
        f'<a href="/col/xwdt/index.html">新闻动态</a></nav></header><main>{body}</main>'
        f'<footer class="footer"><p>主办单位：{html.escape(member.region)}人民政府办公室　联系电话：0571-8{member.number:07d}</p>'
        f'<p>网站标识码：{code}　{icp}　浙公网安备 3301020200{member.number:04d}号</p></footer></body></html>'
    )


UNLISTED = "www.unlisted.gov.cn"


def build_site(member: FleetMember, pages: int, as_of: dt.date, listed: str = "") -> Site:
    """One member's pages; ``pages`` counts every HTML page (homepage and columns included)."""

    quality = member.number
    code = "3300000000" if member.role == "wrong_code" else member.code
    site = Site(member.host)
    articles = max(1, pages - 3)
    per_column = (articles + 1) // 2
    links: dict[str, list[str]] = {"zwgk": [], "xwdt": []}
    dates: dict[str, dt.date] = {}
    for i in range(articles):
        column = "zwgk" if i % 2 == 0 else "xwdt"
        age = (i * 7 + quality) % 90 + (400 if quality % 5 == 4 else 0)  # every fifth site stopped updating
        day = as_of - dt.timedelta(days=age)
        path = f"/art/{day:%Y/%m/%d}/art_{column}_{i}.html"
        dead = '<p><a href="/missing/old-notice.html">相关通知</a></p>' if quality % 3 == 2 and i < 3 else ""
        body = (f'<h2>{member.region}工作动态第{i}期</h2><p>发布时间：{day:%Y-%m-%d}　信息来源：{member.region}人民政府办公室</p>'
                f'<p>{member.region}召开专题会议，研究部署第{i}项重点工作，要求各部门按时完成任务。</p>{dead}')
        site.page(path, _page(member, f"{member.region}工作动态第{i}期", body, code, quality, as_of))
        links[column].append(path)
        dates[path] = day
    for column, name in (("zwgk", "政务公开"), ("xwdt", "新闻动态")):
        items = "".join(f'<li><a href="{p}">{member.region}工作动态{p.rsplit("_", 1)[1][:-5]}</a> <span>{dates[p]:%Y-%m-%d}</span></li>'
                        for p in links[column][:per_column])
        site.page(f"/col/{column}/index.html", _page(member, name, f"<h2>{name}</h2><ul>{items}</ul>", code, quality, as_of))
    latest = "".join(f'<li><a href="{p}">{member.region}工作动态</a> <span>{dates[p]:%Y-%m-%d}</span></li>'
                     for p in (links["zwgk"][:5] + links["xwdt"][:5]))
    entries = ('<p><a href="/hdjl/xx.html">领导信箱</a> <a href="/bsfw/index.html">办事服务</a></p>'
               if quality % 6 != 5 else "")  # every sixth site has no 互动 channel
    site.page("/", _page(member, member.name, f"<h2>欢迎访问</h2><ul>{latest}</ul>{entries}{listed}", code, quality, as_of))
    site.page("/hdjl/xx.html", _page(member, "领导信箱", "<h2>领导信箱</h2><form method='post' action='/hdjl/submit'>"
                                     "<textarea name='content'></textarea><button>提交</button></form>", code, quality, as_of))
    site.page("/bsfw/index.html", _page(member, "办事服务", "<h2>办事服务</h2><p>请访问浙江政务服务网办理。</p>", code, quality,
                                        as_of))
    site.raw("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    return site


def _loopback(k: int) -> str:
    """The k-th loopback address (127.0.0.2 … 127.0.0.255, then 127.0.1.0 …: a 5,000-site fleet fits in 127/8)."""

    return str(ipaddress.IPv4Address("127.0.0.0") + k)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def plan(n: int, roles: dict[str, int] | None = None) -> list[FleetMember]:
    """The members: the first sites take the special roles (``roles``: role → how many)."""

    roles = dict(roles or {})
    members = []
    queue = [r for r, k in roles.items() for _ in range(k)]
    for i in range(1, n + 1):
        role = queue[i - 1] if i <= len(queue) else "normal"
        region = REGIONS[i % len(REGIONS)]
        members.append(FleetMember(i, f"www.fleet{i:02d}.gov.cn", site_code(i), f"{region}第{i}县人民政府门户网站", region, role))
    return members


@contextlib.contextmanager
def serve_fleet(n: int, pages: int, as_of: dt.date, roles: dict[str, int] | None = None,
                address_base: int = 2) -> Iterator[RunningFleet]:
    """Serve ``n`` generated sites: shared-IP ones together on one address, every other site on an
    address of its own (``127.0.0.<address_base + k>``), so per-IP politeness has something to tell."""

    members = plan(n, roles)
    fleet = RunningFleet(members)
    lock = threading.Lock()

    def logged(site: Site | Hosts) -> Site | Hosts:
        return _Logged(site, fleet.requests, lock)  # type: ignore[return-value] - duck-typed like a Site
    with contextlib.ExitStack() as stack:
        shared = [m for m in members if m.role == "shared_ip"]
        next_addr = address_base
        if shared:
            addr = _loopback(next_addr)
            next_addr += 1
            running = stack.enter_context(serve(logged(Hosts({m.host: build_site(m, pages, as_of) for m in shared})), addr))
            fleet.servers.append(running)
            for m in shared:
                m.address, m.url = addr, running.url("/", host=m.host)
        parents = [m for m in members if m.role == "parent"]
        for m in members:
            if m.role in ("shared_ip", "parent"):
                continue
            addr = _loopback(next_addr)
            next_addr += 1
            m.address = addr
            if m.role == "down":
                m.url = f"http://{m.host}:{_free_port(addr)}/"  # nobody listens there
                continue
            site = build_site(m, pages, as_of)
            if m.role == "redirect":
                moved = f"new-{m.host}"
                target = Site(moved)
                for path, route in build_site(m, pages, as_of).routes.items():
                    target.routes[path] = route
                site.redirect("/", "")  # replaced below once the port is known
                running = stack.enter_context(serve(logged(Hosts({m.host: site, moved: target})), addr))
                site.redirect("/", running.url("/", host=moved))
                fleet.resolve[moved] = addr
            else:
                running = stack.enter_context(serve(logged(site), addr))
            fleet.servers.append(running)
            m.url = running.url("/", host=m.host)
        for m in parents:  # last: it links to every other member's (now known) address
            addr = _loopback(next_addr)
            next_addr += 1
            port = _free_port(addr)
            listed = "".join(f'<li><a href="{o.url}">{html.escape(o.name)}</a></li>' for o in members if o is not m)
            listed += f'<li><a href="http://{UNLISTED}:{port}/">某县某局网站</a></li>'
            hosts = {m.host: build_site(m, pages, as_of, f'<div class="zfwz"><h3>政府网站</h3><ul>{listed}</ul></div>'),
                     UNLISTED: build_site(FleetMember(99, UNLISTED, site_code(99), "某县某局网站", m.region), 3, as_of)}
            running = stack.enter_context(serve(logged(Hosts(hosts)), addr, port))
            fleet.servers.append(running)
            m.address, m.url = addr, running.url("/", host=m.host)
            fleet.resolve[UNLISTED] = addr
        for m in members:
            fleet.resolve[m.host] = m.address
        yield fleet
