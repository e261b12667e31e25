"""Link verdicts: ok, dead or unverifiable, from what the crawl stored for each target.

A stage of its own, after the crawl (:func:`judge_run`): it reads the run's stored fetches —
status, redirects, error kind, attempts, text fingerprint, body hash, latency — and the site's
calibration answers (a random non-existent path fetched on every host), and decides under a
:class:`LinkPolicy` read from the rule pack. Nothing is decided at fetch time, so
``govaudit recheck RUN --rules PACK`` re-judges every link under another pack, offline.

A 200 page that matches the site's own error page or says it does not exist is a soft 404; a
site whose error page *is* its homepage does not turn links to the homepage dead. Unverifiable
(403 bot walls, 429 after retries, login walls) is never counted as dead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from auditor.crawl.urls import is_fetchable
from auditor.model import LinkResult, Verdict

log = logging.getLogger(__name__)

# The national pack's defaults (links.unverifiable_statuses, links.dead_error_kinds): used when a
# pack does not say, and by unit tests that call judge() directly.
UNVERIFIABLE_STATUS = {401: "login_wall", 403: "bot_wall", 407: "proxy_auth", 429: "rate_limited", 451: "legal", 999: "bot_wall"}
NETWORK_REASON = {"dns": "dns", "refused": "refused", "reset": "refused", "timeout": "timeout", "tls": "tls",
                  "redirect_loop": "redirect_loop", "too_many_redirects": "too_many_redirects"}
CATCH_ALL_VERDICTS = {"unverifiable": Verdict.UNVERIFIABLE, "dead": Verdict.DEAD, "ok": Verdict.OK}
_ERROR_PATH = re.compile(r"(^|/)(404|error|errors|notfound|not[-_]found|pagenotfound)(\.[a-z]+)?(/|$)|/404\.|/error\.", re.I)
_LOGIN_PATH = re.compile(r"(login|signin|sign-in|passport|/sso/|/cas/|/auth/|oauth)", re.I)
_INDEX_PATH = re.compile(r"^/?((index|default|home|main)\.(s?html?|jsp|php|aspx?))?$", re.I)


@dataclass(slots=True)
class Outcome:
    """The last answer for one URL (after redirects, retries and HEAD→GET fallback)."""

    status: int | None = None
    error_kind: str | None = None
    error: str | None = None
    final_url: str | None = None
    redirects: list[str] = field(default_factory=list)
    content_type: str = ""
    fingerprint: str | None = None
    title: str = ""
    error_like: bool = False
    body_hash: str | None = None  # exact bytes, to tell a catch-all host from an error template
    method: str = "GET"
    purpose: str = "check"
    attempts: int = 1
    latency: float | None = None  # seconds to the response headers


@dataclass(frozen=True)
class LinkPolicy:
    """What decides a verdict, as rule-pack data (``links.*`` values); fetch-time needs — the
    crawl's timeout and retries — stay crawl settings.

    * ``unverifiable_status``: HTTP status → reason for answers that are neither ok nor dead
      (bot walls, login walls, rate limits); any other 4xx/5xx is dead;
    * ``dead_errors``: network error kind → dead reason; other kinds (robots…) are unverifiable;
    * ``timeout_seconds``: an answer slower than this (to its headers) is dead ``timeout``, as the
      indicators' "does not open within 15 s" says, even if the crawl waited longer;
    * ``soft404_calibration``: compare 200 answers with the host's answer for a random path;
    * ``soft404_error_text``: a 200 page whose text says "not found" is a soft 404;
    * ``catch_all``: the verdict for an answer byte-identical to a random path's with nothing
      saying "not found" (a single-page app or catch-all host): unverifiable, dead or ok;
    * ``ok_status``: statuses judged ok besides 2xx;
    * ``no_location``: the verdict for a 3xx answer the crawl could not follow (no usable Location);
    * ``informational``: the verdict for a 1xx answer with no final response.

    (Which statuses are retried and the redirect limit are fetch-time pack values too,
    ``links.retry_statuses`` and ``links.redirect_max``, read by the crawl settings.)
    """

    unverifiable_status: Mapping[int, str] = field(default_factory=lambda: dict(UNVERIFIABLE_STATUS))
    dead_errors: Mapping[str, str] = field(default_factory=lambda: dict(NETWORK_REASON))
    timeout_seconds: float | None = None
    soft404_calibration: bool = True
    soft404_error_text: bool = True
    catch_all: str = "unverifiable"
    ok_status: frozenset[int] = frozenset()
    no_location: str = "unverifiable"
    informational: str = "unverifiable"

    @classmethod
    def from_pack(cls, pack: Any) -> LinkPolicy:
        """The policy a rule pack states (the national pack holds every default)."""

        statuses = pack.value("links.unverifiable_statuses")
        errors = pack.value("links.dead_error_kinds")
        timeout = pack.value("links.timeout_seconds")
        catch_all = _verdict_name(pack, "links.catch_all_verdict")
        return cls(
            unverifiable_status={int(k): str(v) for k, v in (statuses or {}).items()},
            dead_errors={str(k): str(v) for k, v in (errors or {}).items()},
            timeout_seconds=float(timeout) if isinstance(timeout, int | float) and timeout > 0 else None,
            soft404_calibration=bool(pack.value("links.soft404_calibration")),
            soft404_error_text=bool(pack.value("links.soft404_error_text")),
            catch_all=catch_all,
            ok_status=frozenset(int(x) for x in pack.value("links.ok_statuses") or ()),
            no_location=_verdict_name(pack, "links.redirect_without_location"),
            informational=_verdict_name(pack, "links.informational_verdict"),
        )


def _verdict_name(pack: Any, key: str) -> str:
    """A verdict named by the pack; the declared schema refuses others at load, so this only
    guards a pack bound without declarations — and never turns a doubt into "dead"."""

    name = str(pack.value(key))
    if name not in CATCH_ALL_VERDICTS:
        log.warning("%s %r is not one of %s; using unverifiable", key, name, sorted(CATCH_ALL_VERDICTS))
        return "unverifiable"
    return name


DEFAULT_POLICY = LinkPolicy()


def _same_page(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.hostname, pa.port, pa.path.rstrip("/") or "/", pa.query) == (pb.hostname, pb.port, pb.path.rstrip("/") or "/", pb.query)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # an href stored as written (malformed): no host
        return ""


def _is_index(url: str) -> bool:
    return bool(_INDEX_PATH.match(urlsplit(url).path))


def judge(url: str, o: Outcome | None, calibration: dict[str, Outcome], homepage_url: str | None, on_site: bool,
          policy: LinkPolicy = DEFAULT_POLICY) -> LinkResult:
    """The verdict for one target. Pure: tests feed it outcomes directly."""

    if o is None:
        if not is_fetchable(url):  # an href that is no URL (stored as written): reported alone
            return LinkResult(url, Verdict.DEAD, "malformed", on_site=on_site)
        return LinkResult(url, Verdict.UNVERIFIABLE, "not_checked", on_site=on_site)
    detail: dict[str, Any] = {"method": o.method, "attempts": o.attempts}
    if o.redirects:
        detail["redirects"] = o.redirects
    if o.error_kind == "too_large" and o.status and 200 <= o.status < 300:
        # the target answered 200 and was only too big to parse (a crawl.too_large finding of its
        # own): the link itself works
        detail["error"] = o.error
    elif o.error_kind:
        detail["error"] = o.error
        if o.error_kind in policy.dead_errors:
            return LinkResult(url, Verdict.DEAD, policy.dead_errors[o.error_kind], None, o.final_url, detail, on_site)
        return LinkResult(url, Verdict.UNVERIFIABLE, o.error_kind, None, o.final_url, detail, on_site)
    status = o.status or 0
    final = o.final_url or url
    if policy.timeout_seconds is not None and o.latency is not None and o.latency > policy.timeout_seconds:
        detail["latency"] = round(o.latency, 3)
        return LinkResult(url, Verdict.DEAD, "timeout", o.status, final, detail, on_site)
    if status in policy.unverifiable_status:
        return LinkResult(url, Verdict.UNVERIFIABLE, policy.unverifiable_status[status], status, final, detail, on_site)
    if status in policy.ok_status:
        return LinkResult(url, Verdict.OK, None, status, final, detail, on_site)
    if 300 <= status < 400:  # the crawl follows every redirect it can: this one had no usable Location
        return LinkResult(url, CATCH_ALL_VERDICTS[policy.no_location], "redirect_without_location", status, final, detail, on_site)
    if 100 <= status < 200:
        return LinkResult(url, CATCH_ALL_VERDICTS[policy.informational], "informational", status, final, detail, on_site)
    if status >= 400 or status < 100:
        return LinkResult(url, Verdict.DEAD, "http_status", status, final, detail, on_site)
    # 2xx from here: is it really the page, or an error page in disguise?
    if o.redirects and _LOGIN_PATH.search(urlsplit(final).path + "?" + urlsplit(final).query) and not _LOGIN_PATH.search(url):
        return LinkResult(url, Verdict.UNVERIFIABLE, "login_wall", status, final, detail, on_site)
    home = homepage_url
    if (home and _same_page(url, home)) or (_is_index(urlsplit(url).path) and _is_index(urlsplit(final).path)
                                             and urlsplit(url).netloc == urlsplit(final).netloc):
        # A site's front page (/, /index.html…) is never its own error page, even when the CMS
        # sends unknown paths there.
        return LinkResult(url, Verdict.OK, None, status, final, detail, on_site)
    host = (urlsplit(final).hostname or "").lower()
    cal = calibration.get(host) if policy.soft404_calibration else None
    if cal is not None and cal.status and 200 <= cal.status < 300:
        detail["calibration"] = {"final_url": cal.final_url, "title": cal.title}
        if o.redirects and cal.redirects and _same_page(final, cal.final_url):
            return LinkResult(url, Verdict.DEAD, "soft_404", status, final, detail, on_site)  # sent where nonsense goes
        if cal.fingerprint and o.fingerprint == cal.fingerprint:
            if o.body_hash and o.body_hash == cal.body_hash and not (o.error_like or cal.error_like or o.redirects):
                # Byte-identical to the answer for a random path, and nothing says "not found":
                # a catch-all host (a single-page app, a stand-in) — it cannot be told apart from
                # a soft 404, so it goes to manual review instead of being counted dead (by default).
                return LinkResult(url, CATCH_ALL_VERDICTS[policy.catch_all], "catch_all", status, final, detail, on_site)
            return LinkResult(url, Verdict.DEAD, "soft_404", status, final, detail, on_site)
    if o.redirects and _ERROR_PATH.search(urlsplit(final).path) and not _ERROR_PATH.search(urlsplit(url).path):
        return LinkResult(url, Verdict.DEAD, "soft_404", status, final, detail, on_site)
    if o.error_like and policy.soft404_error_text:
        return LinkResult(url, Verdict.DEAD, "soft_404", status, final, detail, on_site)
    return LinkResult(url, Verdict.OK, None, status, final, detail, on_site)


# -- the judging stage ----------------------------------------------------------------------

def outcome_from_fetch(row: Mapping[str, Any]) -> Outcome:
    """The compact outcome of one stored fetch row (``fetches`` table)."""

    return Outcome(
        status=row.get("status"),
        error_kind=row.get("error_kind"),
        error=row.get("error"),
        final_url=row.get("final_url"),
        redirects=list(row.get("redirects") or []),
        content_type=row.get("content_type") or "",
        fingerprint=row.get("fingerprint"),
        title=row.get("title") or "",
        error_like=bool(row.get("error_like")),
        body_hash=row.get("body_hash"),
        method=row.get("method") or "GET",
        purpose=row.get("purpose") or "check",
        attempts=int(row.get("attempts") or 1),
        latency=row.get("latency"),
    )


@dataclass
class StoredCrawl:
    """What the judging stage rebuilds from a run's fetches: the last answer per URL, the
    calibration answer per host, the homepage, and whether the run stored judging facts at all."""

    outcomes: dict[str, Outcome]
    calibration: dict[str, Outcome]
    homepage_url: str | None
    homepage_host: str | None
    has_facts: bool


# The crawl's own fetches; later stages log theirs in the same table (measure-stage probes,
# ``purpose='probe'``), and those must not stand in for what the crawl saw of a link.
CRAWL_PURPOSES = frozenset({"page", "check", "attachment", "sitemap"})


def read_crawl(store: Any, run_id: str, targets: set[str]) -> StoredCrawl:
    """Replay the stored fetches in the order they were made (later answers win: retries and
    HEAD→GET fallbacks come after the first try), keeping outcomes for ``targets`` only."""

    from auditor.crawl.extract import normalise_url

    outcomes: dict[str, Outcome] = {}
    calibration: dict[str, Outcome] = {}
    homepage_url = homepage_host = None
    has_facts = False
    for row in store.iter_fetches(run_id):
        purpose = row["purpose"]
        has_facts = has_facts or row.get("attempts") is not None
        if purpose == "calibration":
            if not row.get("error_kind"):  # a calibration that failed calibrates nothing
                calibration[(urlsplit(row["url"]).hostname or "").lower()] = outcome_from_fetch(row)
            continue
        if purpose == "page" and row.get("depth") == 0 and 200 <= (row.get("status") or 0) < 300:
            # the last one: a start page that refreshes hands over to its target (fetched at depth 0)
            final = row.get("final_url") or row["url"]
            homepage_url = normalise_url(final) or final
            homepage_host = (urlsplit(final).hostname or "").lower()
        if row["url"] in targets and purpose in CRAWL_PURPOSES:
            outcomes[row["url"]] = outcome_from_fetch(row)
    return StoredCrawl(outcomes, calibration, homepage_url, homepage_host, has_facts)


def judge_run(store: Any, run_id: str, config: Any, pack: Any) -> dict[str, int]:
    """Judge every distinct link target of a stored run under ``pack``; replace its verdicts.

    ``config`` gives the crawl's scope (start host, sibling hosts); the host the homepage
    redirected to is in scope too, as during the crawl. Returns the count per verdict, also
    written into the run's stats. A run stored before fetches carried judging facts keeps its
    verdicts: re-judging it would lose its soft-404 and catch-all evidence.
    """

    store.flush()
    policy = LinkPolicy.from_pack(pack)
    targets = list(store.iter_link_targets(run_id))
    crawl = read_crawl(store, run_id, set(targets))
    counts = {str(v): 0 for v in Verdict}
    if not crawl.has_facts and store.count("link_results", run_id):
        log.warning("run %s predates stored link facts; keeping its link verdicts", run_id)
        for r in store.iter_link_results(run_id):
            counts[str(r.verdict)] += 1
        return counts
    scope = {config.host.lower(), *(h.lower() for h in config.sibling_hosts)}
    if crawl.homepage_host:
        scope.add(crawl.homepage_host)

    # a target the crawl skipped unfetched as part of a crawler trap says so, not just "not_checked"
    trapped = {row["url"] for row in store.iter_skips(run_id) if row.get("reason") == "trap"}

    def results() -> Iterator[LinkResult]:
        for url in targets:
            on_site = _host(url) in scope if is_fetchable(url) else True  # a malformed href is a fault of the page's site
            outcome = crawl.outcomes.get(url)
            if outcome is None and url in trapped:
                counts[str(Verdict.UNVERIFIABLE)] += 1
                yield LinkResult(url, Verdict.UNVERIFIABLE, "trap", on_site=on_site)
                continue
            result = judge(url, outcome, crawl.calibration, crawl.homepage_url, on_site, policy)
            counts[str(result.verdict)] += 1
            yield result

    store.replace_link_results(run_id, results())
    store.update_run_stats(run_id, link_verdicts=counts)
    return counts
