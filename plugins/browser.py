"""One headless Chromium per audit, shared by every check that needs a real browser.

Why a probe and not a check: accessibility (axe-core), 适老化 checks and JavaScript rendering all
need the same expensive thing — a browser — and must not each start their own. Measure plugins
(:mod:`auditor.plugins.a11y_probe`, :mod:`auditor.plugins.elderly_probe`,
:mod:`auditor.plugins.render_probe`) ask for it with ``ctx.probe("browser")``; the engine builds it once per audit and
closes it at the end. Checks never get it: they judge the stored measurements.

How it runs:

- Debian's ``/usr/bin/chromium`` (browsers cannot be downloaded here; the setup installs the
  ``chromium`` and ``fonts-wqy-microhei`` packages — without the CJK font Chinese renders as
  boxes in screenshots), headless, with the flags from ``browser.md``: without the
  background-networking flags Chromium keeps trying to reach the internet.
- Playwright's async API on a private event-loop thread, so callers are plain synchronous code
  (checks are) and it works whether or not the caller's thread has an asyncio loop (the crawl's
  Twisted reactor may have left one behind).
- A few tabs in flight (``tabs``, default 2: on 2 cores more tabs do not help), tabs reused from
  page to page, each page under a time budget. A page that hangs (server never finishes, script
  never yields) or crashes its renderer becomes an error record
  (``store.add_error(run, "probe", …, plugin=…)``), its tab is replaced, and the audit goes on.
- Pages are isolated although tabs are reused: after every job the tab is navigated to
  ``about:blank``, which unloads the page with its pending ``<meta http-equiv=refresh>`` and
  timers (otherwise a late refresh aborts the next page's navigation); a tab that cannot get
  there is replaced.
- The page jobs of the accessibility measurement (axe-core run, evidence screenshots) live here
  too, so the browser work stays in this module; :mod:`auditor.plugins.a11y_probe` stores their
  results and ``checks/a11y.py`` only judges them.
- Hostnames follow the audit's ``--resolve`` mapping and, with ``--dns-server``, the answers of
  the audit's own resolver (``ctx.probe("dns")``), handed to Chromium as ``--host-resolver-rules``.

Options (TOML ``[plugins.browser]``): ``executable``, ``tabs``, ``page_budget`` (seconds per page,
navigation included), ``load_wait`` (seconds to wait for ``load`` after the DOM is ready),
``extra_args`` (more Chromium flags), ``viewport`` ([width, height]).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from auditor.hookspecs import hookimpl
from auditor.network.guard import browser_guard, guard_browser_context, guard_redirects

if TYPE_CHECKING:
    from auditor.context import CheckContext
    from auditor.store.database import EvidenceStore

log = logging.getLogger(__name__)


@functools.cache
def page_script(name: str) -> str:
    """JavaScript that runs inside audited pages, kept as package data in ``plugins/js/`` (so it is
    linted and diffed as JavaScript, not as a Python string)."""

    from importlib import resources

    return resources.files("auditor.plugins").joinpath("js", name).read_text("utf-8")

# The browser serves the families of the measure plugins that use it (render, a11y, 适老化); with
# only these off (e.g. ``--checks links``) the engine skips it and Chromium never starts.
@hookimpl
def govaudit_serves() -> list[str]:
    return ["columns", "freshness", "documents", "interpretation", "decisions", "privacy", "identity", "a11y", "elderly"]


DEFAULT_EXECUTABLE = "/usr/bin/chromium"
# browser.md: known to work with Debian Chromium; the last four keep it off the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PageJob = Callable[[Any, str], Awaitable[Any]]


class BrowserUnavailable(Exception):
    """Chromium could not be started (not installed, wrong path, cannot run here)."""


@dataclass
class BrowserOptions:
    """Tunables of the shared browser; every one has a default that works on 2 cores."""

    executable: str = DEFAULT_EXECUTABLE
    tabs: int = 2
    page_budget: float = 30.0
    load_wait: float = 5.0
    viewport: tuple[int, int] = (1366, 768)  # the most common desktop size in evaluators' tools
    extra_args: list[str] = field(default_factory=list)
    ignore_https_errors: bool = False
    user_agent_suffix: str = "govaudit/0.1"

    @classmethod
    def from_config(cls, config: Any) -> BrowserOptions:
        opts = dict((getattr(config, "plugin_options", None) or {}).get("browser", {}) or {})
        out = cls()
        out.ignore_https_errors = not bool(getattr(config, "verify_tls", True))
        if "executable" in opts:
            out.executable = str(opts["executable"])
        if "tabs" in opts:
            out.tabs = max(1, min(8, int(opts["tabs"])))
        if "page_budget" in opts:
            out.page_budget = max(1.0, float(opts["page_budget"]))
        if "load_wait" in opts:
            out.load_wait = max(0.0, float(opts["load_wait"]))
        if "extra_args" in opts:
            out.extra_args = [str(a) for a in opts["extra_args"]]
        if "viewport" in opts:
            w, h = opts["viewport"]
            out.viewport = (int(w), int(h))
        return out


@dataclass
class PageOutcome:
    """What happened to one page: the job's value, or why there is none."""

    url: str
    ok: bool
    value: Any = None
    error_kind: str | None = None  # timeout | crash | navigation | http | job | browser
    error: str = ""
    elapsed: float = 0.0
    status: int | None = None  # HTTP status of the main document as the browser saw it
    final_url: str | None = None


def host_resolver_rules(mapping: dict[str, str]) -> str:
    """``{"www.x.gov.cn": "127.0.0.1", "v6.x.gov.cn": "::1"}`` → Chromium's rule string."""

    rules = []
    for host, addr in sorted(mapping.items()):
        addr = addr.strip().strip("[]")
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            continue
        rules.append(f"MAP {host.lower()} {'[' + addr + ']' if ip.version == 6 else addr}")
    return ", ".join(rules)


def resolve_hosts(ctx: CheckContext) -> dict[str, str]:
    """The host → address pins Chromium must follow so it sees what the crawl saw.

    ``--resolve`` pins go in as given. With ``--dns-server`` every host the audit stored pages from
    (plus the start host and sibling hosts) is looked up through the audit's resolver, IPv4 first,
    because Chromium cannot be told to use a DNS server on an arbitrary port.
    """

    config = ctx.config
    mapping = {k.lower(): v for k, v in (config.resolve or {}).items()}
    if not getattr(config, "dns_server", None):
        return mapping
    hosts = {config.host, *(h.lower() for h in getattr(config, "sibling_hosts", []) or [])}
    home = urlsplit(ctx.homepage_url or "").hostname
    if home:
        hosts.add(home.lower())
    with contextlib.suppress(Exception):
        for row in ctx.store.iter_pages(ctx.run_id, with_body=False):
            h = urlsplit(row["url"]).hostname
            if h:
                hosts.add(h.lower())
    try:
        resolver = ctx.probe("dns")
    except KeyError:
        from auditor.network.resolve import Resolver

        resolver = Resolver(mapping, config.dns_server)
    for host in sorted(h for h in hosts if h and h not in mapping):
        try:
            addrs = resolver.addresses(host)
        except Exception as exc:  # noqa: BLE001 - an unresolvable host is the crawl's finding, not ours
            log.debug("browser: %s does not resolve: %s", host, exc)
            continue
        if addrs:
            mapping[host] = addrs[0]
    return mapping


class BrowserProbe:
    """The audit's browser: launch on first use, run page jobs on a few reused tabs, close once."""

    def __init__(
        self,
        options: BrowserOptions | None = None,
        host_map: dict[str, str] | None = None,
        store: EvidenceStore | None = None,
        run_id: str | None = None,
    ):
        self.options = options or BrowserOptions()
        self.host_map = dict(host_map or {})
        self.store = store
        self.run_id = run_id
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pw: Any = None
        self._browser: Any = None
        self._pools: dict[str, asyncio.Queue[Any]] = {}
        self._contexts: dict[str, Any] = {}
        self._init_scripts: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._launch_error: str | None = None
        self._launch_lock: asyncio.Lock | None = None
        self._closed = False
        self.version: str | None = None
        self.guard: Any = None  # the audit's resolver: refuses private targets (auditor.network.guard)
        self.stats = {"pages": 0, "errors": 0, "crashes": 0, "timeouts": 0, "tab_replacements": 0, "relaunches": 0}

    # --- lifecycle -----------------------------------------------------------------------
    @property
    def args(self) -> list[str]:
        args = list(CHROMIUM_ARGS)
        rules = host_resolver_rules(self.host_map)
        if rules:
            args.append(f"--host-resolver-rules={rules}")
            # A pin only holds for direct connections: a proxy would resolve the name itself.
            args.append("--no-proxy-server")
        return args + list(self.options.extra_args)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._closed:
                raise BrowserUnavailable("browser probe already closed")
            if self._launch_error:
                raise BrowserUnavailable(self._launch_error)
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    ready.set()
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="govaudit-browser", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            if self._browser is None or not self._browser.is_connected():
                try:
                    self._submit(self._launch()).result(timeout=120)
                except Exception as exc:  # noqa: BLE001 - any launch failure means no browser
                    self._launch_error = f"Chromium 无法启动 / cannot start Chromium ({self.options.executable}): {exc}"
                    raise BrowserUnavailable(self._launch_error) from exc

    def _submit(self, coro: Awaitable[Any]) -> Future[Any]:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]

    async def _launch(self) -> None:
        from playwright.async_api import async_playwright

        if self._pw is None:
            self._pw = await async_playwright().start()
        else:
            self.stats["relaunches"] += 1
        self._pools.clear()
        self._contexts.clear()
        self._browser = await self._pw.chromium.launch(
            executable_path=self.options.executable, headless=True, args=self.args
        )
        self.version = self._browser.version

    async def _ensure_browser(self) -> None:
        """Relaunch after the whole browser died (tabs running at that moment were recorded)."""

        if self._launch_lock is None:
            self._launch_lock = asyncio.Lock()
        async with self._launch_lock:
            if self._browser is None or not self._browser.is_connected():
                await self._launch()

    def close(self) -> None:
        """Close the browser and stop the loop thread; safe to call twice."""

        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._loop is None:
            return

        async def shutdown() -> None:
            with contextlib.suppress(Exception):
                if self._browser is not None:
                    await asyncio.wait_for(self._browser.close(), 15)
            with contextlib.suppress(Exception):
                if self._pw is not None:
                    await asyncio.wait_for(self._pw.stop(), 15)

        with contextlib.suppress(Exception):
            self._submit(shutdown()).result(timeout=40)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> BrowserProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- pools of tabs ---------------------------------------------------------------------
    def set_init_scripts(self, pool: str, scripts: list[str]) -> None:
        """Scripts every document of ``pool``'s tabs runs first (e.g. axe-core for the a11y pool).

        Sent to the browser once per pool instead of once per page: injecting axe-core's 570 kB
        with ``evaluate`` on every page costs about 0.1 s of transfer each time (measured).
        """

        self._init_scripts[pool] = list(scripts)

    async def _context(self, pool: str) -> Any:
        ctx = self._contexts.get(pool)
        if ctx is None:
            w, h = self.options.viewport
            ua = (await self._default_ua()).replace("HeadlessChrome", "Chrome")
            if self.options.user_agent_suffix:
                ua = f"{ua} {self.options.user_agent_suffix}"
            ctx = await self._browser.new_context(
                viewport={"width": w, "height": h},
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                ignore_https_errors=self.options.ignore_https_errors,
                service_workers="block",
                user_agent=ua,
            )
            for script in self._init_scripts.get(pool, []):
                await ctx.add_init_script(script=script)
            if self.guard is not None:  # the SSRF guard: every request the page makes, redirects too
                await guard_browser_context(ctx, self.guard)
            self._contexts[pool] = ctx
        return ctx

    async def _default_ua(self) -> str:
        if not hasattr(self, "_ua"):
            page = await self._browser.new_page()
            try:
                self._ua = await page.evaluate("navigator.userAgent")
            finally:
                await page.close()
        return self._ua

    async def _new_tab(self, pool: str) -> Any:
        ctx = await self._context(pool)
        page = await ctx.new_page()
        if self.guard is not None:  # redirect hops, which the context's route never sees
            await guard_redirects(page, self.guard)
        page._govaudit_crashed = False  # type: ignore[attr-defined]

        def crashed(p: Any) -> None:
            p._govaudit_crashed = True

        page.on("crash", crashed)
        return page

    async def _pool(self, pool: str) -> asyncio.Queue[Any]:
        q = self._pools.get(pool)
        if q is None:
            q = asyncio.Queue()
            self._pools[pool] = q
            for _ in range(self.options.tabs):
                q.put_nowait(await self._new_tab(pool))
        return q

    async def _replace_tab(self, pool: str, page: Any) -> Any:
        self.stats["tab_replacements"] += 1
        with contextlib.suppress(Exception):
            await asyncio.wait_for(page.close(run_before_unload=False), 5)
        return await self._new_tab(pool)

    # --- running jobs ------------------------------------------------------------------------
    async def _navigate(self, page: Any, url: str) -> Any:
        """Go to ``url``: DOM ready is required, ``load`` is waited for only ``load_wait`` seconds
        (a hanging image or tracker must not sink the page; a hanging document does)."""

        from playwright.async_api import TimeoutError as PWTimeout

        response = await page.goto(url, wait_until="domcontentloaded", timeout=self.options.page_budget * 1000)
        if self.options.load_wait > 0:
            with contextlib.suppress(PWTimeout):
                await page.wait_for_load_state("load", timeout=self.options.load_wait * 1000)
        return response

    async def _blank(self, page: Any) -> bool:
        """Unload the finished page before the tab serves the next one; False if that failed.

        Tabs are reused, and a page's pending ``<meta http-equiv=refresh>`` or ``setTimeout``
        navigation otherwise fires while the *next* page is loading: Chromium aborts that
        navigation (``net::ERR_ABORTED``, measured with a 2 s refresh and a slow next page) or
        the next job audits the redirect target. Navigating to ``about:blank`` destroys the old
        document and its timers; a tab that cannot get there is replaced.
        """

        try:
            await asyncio.wait_for(page.goto("about:blank"), 5)
            return page.url == "about:blank"
        except Exception as exc:  # noqa: BLE001 - any failure: the tab is not trusted again
            log.debug("browser: blank navigation failed: %s", exc)
            return False

    async def _run_one(self, pool: str, url: str, job: PageJob, budget: float, navigate: bool) -> PageOutcome:
        from playwright.async_api import Error as PWError

        await self._ensure_browser()
        q = await self._pool(pool)
        page = await q.get()
        start = time.monotonic()
        outcome = PageOutcome(url=url, ok=False)
        healthy = True
        try:

            async def work() -> Any:
                if navigate:
                    resp = await self._navigate(page, url)
                    if resp is not None:
                        outcome.status = resp.status
                        outcome.final_url = page.url
                        if resp.status >= 400:
                            outcome.error_kind = "http"
                            outcome.error = f"HTTP {resp.status}"
                            return None
                return await job(page, url)

            value = await asyncio.wait_for(work(), budget)
            if outcome.error_kind is None:
                outcome.ok = True
                outcome.value = value
        except TimeoutError:
            healthy = False
            outcome.error_kind = "timeout"
            outcome.error = f"页面在 {budget:g} 秒内未完成 / page did not finish within {budget:g} s"
        except PWError as exc:
            msg = str(exc).split("\n", 1)[0]
            if getattr(page, "_govaudit_crashed", False) or "crash" in msg.lower():
                healthy = False
                outcome.error_kind = "crash"
                outcome.error = f"渲染进程崩溃 / renderer crashed: {msg}"
            elif not self._browser.is_connected():
                healthy = False
                outcome.error_kind = "browser"
                outcome.error = f"浏览器已退出 / browser exited: {msg}"
            elif "Timeout" in type(exc).__name__:
                healthy = False
                outcome.error_kind = "timeout"
                outcome.error = f"超时 / timed out: {msg}"
            elif "goto" in msg.lower() or "net::" in msg:
                outcome.error_kind = "navigation"
                outcome.error = f"无法打开页面 / navigation failed: {msg}"
            else:
                outcome.error_kind = "job"
                outcome.error = f"{type(exc).__name__}: {msg}"
        except Exception as exc:  # noqa: BLE001 - a job bug on one page must not end the audit
            outcome.error_kind = "job"
            outcome.error = f"{type(exc).__name__}: {exc}"
        finally:
            outcome.elapsed = time.monotonic() - start
            if getattr(page, "_govaudit_crashed", False):
                healthy = False
            if healthy and navigate:
                healthy = await self._blank(page)
            if healthy:
                q.put_nowait(page)
            elif self._browser is not None and self._browser.is_connected():
                q.put_nowait(await self._replace_tab(pool, page))
            else:
                # The whole browser went: the next job relaunches it and rebuilds the pools.
                self._browser = None
        return outcome

    def map(
        self,
        urls: Iterable[str],
        job: PageJob,
        *,
        pool: str = "default",
        plugin: str = "browser",
        budget: float | None = None,
        navigate: bool = True,
    ) -> Iterator[PageOutcome]:
        """Run ``job(page, url)`` on each URL, ``tabs`` at a time; outcomes in input order.

        Streams: only a small window of pages is in flight, so ``--a11y all`` on 20,000 pages
        keeps one page's results in memory at a time. Failures are recorded as error rows with
        ``plugin`` and yielded with ``ok=False``; they never raise. Raises
        :class:`BrowserUnavailable` once, up front, when Chromium cannot start.
        """

        self._ensure_started()
        budget = budget or self.options.page_budget
        window = max(2, self.options.tabs * 2)
        # A queued page may wait for the pages ahead of it before its own budget starts.
        guard = budget * (window // self.options.tabs + 1) + 60
        pending: deque[tuple[str, Future[PageOutcome]]] = deque()
        try:
            for url in urls:
                pending.append((url, self._submit(self._run_one(pool, url, job, budget, navigate))))
                if len(pending) >= window:
                    yield self._collect(*pending.popleft(), budget=budget, guard=guard, plugin=plugin)
            while pending:
                yield self._collect(*pending.popleft(), budget=budget, guard=guard, plugin=plugin)
        finally:
            for _url, fut in pending:
                fut.cancel()

    def _collect(self, url: str, fut: Future[PageOutcome], *, budget: float, guard: float, plugin: str) -> PageOutcome:
        try:
            # The job is bounded by ``budget`` inside the loop; this guard only catches a tab
            # whose close itself hangs.
            outcome = fut.result(timeout=guard)
        except FutureTimeout:
            fut.cancel()
            outcome = PageOutcome(url, False, error_kind="timeout", error=f"page did not finish within {budget:g} s")
        except Exception as exc:  # noqa: BLE001
            outcome = PageOutcome(url, False, error_kind="browser", error=f"{type(exc).__name__}: {exc}")
        self.stats["pages"] += 1
        if not outcome.ok:
            self.stats["errors"] += 1
            if outcome.error_kind == "crash":
                self.stats["crashes"] += 1
            elif outcome.error_kind == "timeout":
                self.stats["timeouts"] += 1
            if self.store is not None and self.run_id is not None:
                self.store.add_error(
                    self.run_id,
                    "probe",
                    f"浏览器 {outcome.error_kind}: {outcome.error}",
                    url=url,
                    plugin=plugin,
                    detail=f"kind={outcome.error_kind} elapsed={outcome.elapsed:.2f}s status={outcome.status}",
                )
        return outcome

    def run(self, fn: Callable[[BrowserProbe], Awaitable[Any]], timeout: float = 300) -> Any:
        """Run one coroutine with browser access (``await probe.tab(pool)`` inside) and return
        its value; for checks that drive a page through several steps (适老化 mode switches)."""

        self._ensure_started()
        return self._submit(fn(self)).result(timeout=timeout)

    async def new_tab(self, pool: str) -> Any:
        """A fresh tab in ``pool``'s context (the caller closes it)."""

        await self._ensure_browser()
        return await self._new_tab(pool)

    async def navigate(self, page: Any, url: str) -> Any:
        return await self._navigate(page, url)


# --- accessibility measurement (axe-core) ------------------------------------------------------
# Browser work only: run axe-core in a page and crop evidence screenshots. What the results mean
# (grouping, severity, findings) is judged in ``auditor.checks.a11y`` from the stored records.

# Runs inside the page. Violations and needs-review ("incomplete") results come back with every
# node (up to a safety bound far above any real page, with the true count beside it): a cap here
# would lose a page's own nodes when the kept ones are also on other pages.
AXE_RUN_JS = page_script("axe_run.js")
# Appended to axe.min.js in the init script: pages that define their own global ``axe`` must not
# take the auditor's away.
AXE_ALIAS_JS = "\n" + page_script("axe_alias.js")
AXE_NODE_BOUND = 5000  # per rule and page; only a runaway page reaches it, and its true count is kept


@functools.cache
def axe_script() -> str:
    """axe.min.js as bundled by axe-playwright-python 0.1.8 (axe-core 4.12.1)."""

    from axe_playwright_python.base import AXE_SCRIPT

    return AXE_SCRIPT


def axe_bundled_version() -> str:
    """The version in the bundled script's banner (``/*! axe v4.12.1``)."""

    head = axe_script()[:80]
    marker = "axe v"
    return head[head.index(marker) + len(marker):].split()[0] if marker in head else "unknown"


@dataclass
class ShotOptions:
    """Evidence screenshots: cropped to the element, downscaled, JPEG, with a run-wide byte budget.

    They go into report.json and report.html as ``data:`` URIs (the report's CSP allows only
    ``img-src data:``), so every byte counts: ``max_width`` × ``max_height`` CSS px of context
    around the element, scaled down to at most ``out_width`` px wide, and no more shots once
    ``total_bytes`` are spent.
    """

    enabled: bool = True
    per_rule: int = 2
    max_width: int = 800
    max_height: int = 400
    out_width: int = 400
    quality: int = 60
    total_bytes: int = 1_000_000
    pad: int = 8


def make_axe_job(tags: list[str], disable: list[str], shots: ShotOptions,
                 shot_key: Callable[[str, dict[str, Any], str], str]) -> PageJob:
    """The per-page coroutine: stop pending navigations, run axe, crop the first unseen nodes.

    ``window.stop()`` first: it cancels a pending ``<meta http-equiv=refresh>`` of this very
    page, so the results describe the page that was asked for, not where it redirects itself to
    seconds later. A script that navigates anyway is caught: the document is marked first; if
    axe ran in a document without the mark, the page becomes an error record rather than another
    document's results; if the mark is gone after the screenshots, they are dropped.
    ``shot_key`` (the check's identity of a node) decides which nodes were already photographed;
    the state lives on the browser thread only, so no lock is needed.
    """

    state = {"bytes": 0, "keys": set()}
    run_args = {"tags": tags, "disable": disable, "maxNodes": AXE_NODE_BOUND}

    async def job(page: Any, url: str) -> dict[str, Any]:
        await page.evaluate("() => { window.stop(); window.__govaudit_doc = true; }")
        result = await page.evaluate(AXE_RUN_JS, run_args)
        if "error" in result:
            # The init script did not run (CSP quirks, an XML document, a document replaced by
            # script): inject now.
            await page.evaluate(axe_script() + AXE_ALIAS_JS)
            result = await page.evaluate(AXE_RUN_JS, run_args)
        if not result.get("marked"):
            raise RuntimeError(f"页面在检测前自行跳转 / the page navigated away before the audit: {url} → {page.url}")
        result["shots"] = await _shots(page, result, url, shots, shot_key, state) if shots.enabled else {}
        still = False
        with contextlib.suppress(Exception):
            still = await page.evaluate("() => window.__govaudit_doc === true")
        if not still:
            result["shots"] = {}  # taken while the page went elsewhere: not evidence of this page
            result["navigated_during_screenshots"] = True
        return result

    return job


async def _shots(page: Any, result: dict[str, Any], url: str, opts: ShotOptions,
                 shot_key: Callable[[str, dict[str, Any], str], str], state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for v in [*result.get("violations", []), *result.get("incomplete", [])]:
        taken = 0
        for n in v["nodes"]:
            if taken >= opts.per_rule or state["bytes"] >= opts.total_bytes:
                break
            target = n["target"]
            if len(target) != 1 or not isinstance(target[0], str):
                continue  # inside an iframe or shadow root: no direct handle
            key = shot_key(v["id"], n, url)
            if key in state["keys"] or key in out:
                continue
            shot = await crop_node(page, target[0], opts)
            if shot is None:
                continue
            if state["bytes"] + shot["bytes"] > opts.total_bytes:
                state["bytes"] = opts.total_bytes  # budget spent: no more shots this run
                break
            state["bytes"] += shot["bytes"]
            state["keys"].add(key)
            out[key] = shot
            taken += 1
    return out


async def crop_node(page: Any, selector: str, opts: ShotOptions | None = None) -> dict[str, Any] | None:
    """A small JPEG of the element's box plus a margin, as a data: URI; None for invisible nodes.

    Downscaled in the browser (the DevTools ``clip.scale``), so no image library is needed.
    """

    opts = opts or ShotOptions()
    try:
        el = await page.query_selector(selector)
        if el is None:
            return None
        await el.scroll_into_view_if_needed(timeout=2000)
        box = await el.bounding_box()
        if not box or box["width"] < 1 or box["height"] < 1:
            return None
        vp = page.viewport_size or {"width": 1366, "height": 768}
        x = max(0.0, box["x"] - opts.pad)
        y = max(0.0, box["y"] - opts.pad)
        w = min(box["width"] + 2 * opts.pad, opts.max_width, vp["width"] - x)
        h = min(box["height"] + 2 * opts.pad, opts.max_height, vp["height"] - y)
        if w < 1 or h < 1:
            return None
        scale = min(1.0, opts.out_width / w)
        scroll = await page.evaluate("() => [window.scrollX, window.scrollY]")
        cdp = getattr(page, "_govaudit_cdp", None)
        if cdp is None:
            cdp = await page.context.new_cdp_session(page)
            page._govaudit_cdp = cdp
        shot = await cdp.send("Page.captureScreenshot", {
            "format": "jpeg", "quality": opts.quality,
            "clip": {"x": x + scroll[0], "y": y + scroll[1], "width": w, "height": h, "scale": scale},
        })
        data = shot["data"]
        return {"src": f"data:image/jpeg;base64,{data}", "width": round(w * scale), "height": round(h * scale),
                "bytes": len(data)}
    except Exception as exc:  # noqa: BLE001 - evidence garnish: a failed crop never fails the page
        log.debug("a11y: no screenshot of %s: %s", selector, exc)
        return None


def probe_factory(ctx: CheckContext) -> BrowserProbe:
    """The engine calls this once per audit, when a measure plugin (or the render enricher) first
    asks for ``"browser"``; the probe is shared by both stages and closed at the end of the audit."""

    probe = BrowserProbe(BrowserOptions.from_config(ctx.config), resolve_hosts(ctx), ctx.store, ctx.run_id)
    probe.guard = browser_guard(ctx)
    return probe


@hookimpl
def govaudit_probes() -> dict[str, Callable[[CheckContext], Any]]:
    return {"browser": probe_factory}


@hookimpl
def govaudit_configure(config: Any) -> None:
    """Refuse unusable ``[plugins.browser]`` options before the crawl, not after it."""

    from auditor.config import ConfigError

    try:
        BrowserOptions.from_config(config)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[plugins.browser] 选项无效 / invalid option: {exc}") from exc
