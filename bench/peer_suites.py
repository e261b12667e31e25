"""govaudit against the test fixtures three link checkers wrote for themselves.

    python bench/peer_suites.py [--linkchecker DIR] [--suite NAME …]

Fetches nothing at run time: linkinator's and htmltest's fixtures (MIT) are committed under
``tests/peer_suites/`` with their licence notices; LinkChecker's (GPL-2.0) are never committed —
pass the folder that holds its ``tests/checker/data`` files (a snapshot of the repository, e.g.
``/work/peer/linkchecker/tests/checker/data``) with ``--linkchecker``; without it that suite is
skipped.

Each case below is one fixture page with the set of targets the peer's *own test assertions* call
broken (hand-transcribed, the test named beside it), and the answers the peer's test mocked for
outside hosts (nock/undici mocks, VCR cassettes, the live sites its results files assume). Every
suite is served by one loopback server (fixture folder as document root); outside hosts named in a
case page are rewritten to per-case names (``c7.example.invalid:PORT``) that a loopback DNS server
resolves to it, every other name is NXDOMAIN — no traffic leaves 127.0.0.1. One ``govaudit check``
per suite crawls a generated index page linking every case page; a finding (``links.dead``,
``links.malformed``, ``links.broken_anchor``) counts for a case when that case's page is among its
sources. Printed per suite: cases, expected, found, TP/FP/FN, recall, precision; and the cases left
out with the reason (configuration-only tests, checks that are not link checks, live-internet TLS…).
"""

from __future__ import annotations

import argparse
import html
import mimetypes
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auditor.demo.servers import Request, Site, serve  # noqa: E402
from tests.support.servers import dns_server  # noqa: E402

AS_OF = "2026-12-01"
LINK_RULES = ("links.dead", "links.malformed", "links.broken_anchor")


@dataclass(frozen=True)
class Case:
    page: str  # path of the case page under the suite root
    dead: frozenset[str]  # expected broken: "/local/path", "/p.html#frag", "http://outside.host/path", or a raw malformed href
    source: str  # the peer's test that asserts it
    mocks: dict[str, dict[str, int | str]] = field(default_factory=dict)  # outside host → {path or "*": status or fixture file}
    entry: tuple[str, str] | None = None  # (mocked host, path) serving the case page, crawled as a sibling host


def C(page: str, dead: set[str] | tuple[str, ...], source: str, mocks: dict[str, dict[str, int | str]] | None = None,
      entry: tuple[str, str] | None = None) -> Case:
    return Case(page, frozenset(dead), source, mocks or {}, entry)


# --- linkinator (test/*.ts; fixtures under test/fixtures) ------------------------------------------
LI = "test/test.index.ts"
LINKINATOR = [
    C("fixtures/basic/index.html", set(), f"{LI} 'should perform a basic shallow scan'", {"example.invalid": {"/": 200}}),
    C("fixtures/twice/index.html", set(), f"{LI} 'should only try a link once'", {"example.invalid": {"/": 200}}),
    C("fixtures/broke/index.html", {"http://example.invalid/"}, f"{LI} 'should report broken links' (HEAD / → 404)",
      {"example.invalid": {"/": 404}}),
    C("fixtures/image/index.html", {"/fixtures/image/missing.png", "/fixtures/image/missing.jpg"},
      f"{LI} 'should detect broken image links' (2 broken: src and srcset)"),
    C("fixtures/srcset/index.html", set(), f"{LI} 'should handle comma separated srcset'"),
    C("fixtures/malformed/index.html", {"//////"}, f"{LI} 'should report malformed links as broken'"),
    C("fixtures/metarefresh/index.html", set(), f"{LI} 'should extract URLs from meta refresh tags' (3 targets mocked 200)",
      {"example.invalid": {"/redirected": 200, "/delayed": 200, "/uppercase": 200}}),
    C("fixtures/css/index.html", set(), f"{LI} 'should extract URLs from inline CSS…when checkCss is enabled'",
      {"example.invalid": {p: 200 for p in ("/div-bg.jpg", "/bg1.png", "/bg2.png", "/bg-inline.jpg", "/header-bg.png",
                                             "/imported.css", "/imported2.css", "/regular-link")}}),
    C("fixtures/twittercard/index.html", set(), f"{LI} 'should check twitter card / og links'", {"example.invalid": {"/": 200}}),
    C("fixtures/json-ld/index.html", {"http://example.invalid/photos/16x9/photo.jpg"},
      "test/test.json-ld.ts 'should find links in JSON-LD scripts' (16x9 → 404, the rest 200)",
      {"example.invalid": {"/photos/1x1/photo.jpg": 200, "/photos/4x3/photo.jpg": 200, "/johndoe": 200,
                           "/regular-link": 200, "/logo.jpg": 200, "/photos/16x9/photo.jpg": 404}}),
    C("fixtures/picture/index.html", set(), f"{LI} 'should work with picture elements'"),
    C("fixtures/scripts/index.html", set(), f"{LI} 'should not recurse non-html files'"),
    C("fixtures/relative/index.html", set(), f"{LI} 'should handle relative links'"),
    C("fixtures/recurse/index.html", set(), f"{LI} 'should perform a recursive scan'", {"example.invalid": {"/": 200}}),
    C("fixtures/protocols/index.html", set(), f"{LI} 'should not follow non-http[s] links'"),
    C("fixtures/urlpatterns/index.html", set(), f"{LI} 'should handle encoded urls'"),
    C("fixtures/prefetch/index.html", set(), f"{LI} 'should not attempt to validate preconnect or prefetch urls'",
      {"example.invalid": {"/site.css": 200}}),
    C("fixtures/fragments-demo/index.html", {"/fixtures/fragments-demo/target.html#nonexistent-section"},
      "test/test.fragments.ts 'should work with local file server'"),
    *[C(f"fixtures/basetag/{name}.html", {f"http://example.invalid{broken}"},
        f"{LI} 'should detect relative urls with relative base' ({name}: 1 broken of 3)",
        {"example.invalid": {"/pageBase/index": f"fixtures/basetag/{name}.html", ok: 200}}, ("example.invalid", "/pageBase/index"))
      for name, ok, broken in (("relative-to-root", "/anotherBase/ok", "/anotherBase/broken"),
                               ("relative-folder", "/pageBase/anotherBase/ok", "/pageBase/anotherBase/broken"),
                               ("relative-dot-folder", "/pageBase/anotherBase/ok", "/pageBase/anotherBase/broken"),
                               ("relative-page", "/pageBase/ok", "/pageBase/broken"),
                               ("empty-base", "/pageBase/ok", "/pageBase/broken"))],
    C("fixtures/basetag/absolute.html", {"http://another.example.invalid/broken"},
      f"{LI} 'should detect relative urls with absolute base'",
      {"example.invalid": {"/pageBase/index": "fixtures/basetag/absolute.html"}, "another.example.invalid": {"/ok": 200}},
      ("example.invalid", "/pageBase/index")),
    C("fixtures/fragments-same-page/index.html", {"/fixtures/fragments-same-page/index.html#nonexistent-section"},
      "test/test.fragments.ts 'should validate same-page fragment links (issue #770)'"),
]
LINKINATOR_EXCLUDED = {
    "alternate": "canonical/alternate <link> targets are not link checks in govaudit (htmltest's default agrees)",
    "fragments-valid/-invalid/-multiple/-empty/-404/-non-html": "fragments of outside pages: govaudit checks anchors of on-site pages it stored",
    "fragments-client-state": "configuration-only (fragmentsToSkip patterns)",
    "skip, filter, config, rewrite, baseurl, concurrency, retry*, require-https": "configuration-only",
    "markdown, mdx-repo, directoryIndex, localbroke": "Markdown files, not served pages",
    "test.https/insecure/cert-validation/proxy": "TLS and proxy set-ups of the test harness",
    "status-codes": "configuration-only (status code policies)",
}

# --- htmltest (htmltest/check-link_test.go; fixtures under htmltest/fixtures/links) --------------------
HT = "htmltest/check-link_test.go"
HTMLTEST = [
    C("brokenLinkInternal.html", {"/notreal.html"}, f"{HT} TestAnchorInternalBroken"),
    C("relativeLinksWithBase.html", set(), f"{HT} TestAnchorInternalRelativeLinksBase"),
    C("hashInternalOk.html", set(), f"{HT} TestAnchorHashInternalValid"),
    C("hashInternalBroken.html", {"/hashSelfOk.html#hashnotok"}, f"{HT} TestAnchorHashInternalBroken"),
    C("hashSelfOk.html", set(), f"{HT} TestAnchorHashSelfValid"),
    C("hashSelfBroken.html", {"/hashSelfBroken.html#hashnotok"}, f"{HT} TestAnchorHashSelfBroken"),
    C("hash-in-pre-163.html", set(), f"{HT} TestAnchorHashInPre163"),
    C("linkToFolder.html", set(), f"{HT} TestAnchorDirectoryRootResolve"),
    C("root-link-explicit.html", set(), f"{HT} TestAnchorDirectoryRootExplicit"),
    C("linkToFolderWithSpace.html", set(), f"{HT} TestAnchorDirectoryWithEncodedCharacters"),
    C("relativeLinks.html", set(), f"{HT} TestAnchorInternalRelativeLinks"),
    C("urlencoded-href.html", set(), f"{HT} TestAnchorInternalHrefUrlEncoded"),
    C("nodupe.html", {"/4040404.html"}, f"{HT} TestAnchorErrorDuplication"),
    C("attributeWithDash.html", set(), f"{HT} TestAnchorInternalDashedAttrs"),
    C("encodingLink.html", set(), f"{HT} TestAnchorInternalHashWeird"),
    C("link_directory_internal_invalid.html", {"/misc/js/script.js"}, f"{HT} TestAnchorInternalUrlDoesNotExist"),
    C("javascript_link.html", set(), f"{HT} TestAnchorJavascriptLinkIgnore"),
    C("head_link_href.html", set(), f"{HT} TestLinkHrefValid"),
    C("link-rel-dns-prefetch.html", set(), f"{HT} TestLinkRelDnsPrefetch"),
    C("link_rel_preconnect.html", set(), f"{HT} TestLinkRelPreconnect"),
    C("broken_hash_with_query.html",
      {"/broken_hash_with_query.html?txthl=avian%20influenza+world+cook+flu-like%20symptoms+Don%27t%20Forget..."
       "+causes%20sickness%20in%20birds,%20it%20can%20also%20infect%20people.#example"}, f"{HT} TestAnchorHashQueryBroken"),
    C("hashReferringToSelf.html", set(), f"{HT} TestAnchorHashSelf"),
    C("placeholder_with_name.html", set(), f"{HT} TestAnchorNameIgnore"),
    C("placeholder_with_id.html", set(), f"{HT} TestAnchorIdIgnore"),
    C("other_protocols.html", set(), f"{HT} TestAnchorOtherProtocols"),
    C("blank_href_html5.html", set(), f"{HT} TestAnchorBlankHTML5"),
    C("escape_pipes.html", set(), f"{HT} TestLinkExternalHrefPipes (VCR: 200)", {"fonts.googleapis.com": {"/css": 200}}),
    C("brokenLinkExternal.html", {"http://www.asdo3irj395295jsingrkrg4.com/"}, f"{HT} TestAnchorExternalBroken (no such host)",
      {"www.google.com": {"/": 200}}),
    C("brokenLinkExternalSingle.html", {"http://www.asdo3irj395295jsingrkrg4.com/"},
      f"{HT} TestAnchorExternalBrokenNoVCR (no such host)"),
    C("brokenHashOnTheWeb.html", set(), f"{HT} TestAnchorExternalHashBrokenDefault (outside hashes not checked)",
      {"help.github.com": {"*": 200}}),
    C("link_missing_protocol_valid.html", set(), f"{HT} TestAnchorExternalMissingProtocolValid",
      {"github.com": {"*": 200}}),
    C("link_missing_protocol_invalid.html", {"http://fofofo.biz.woo/"},
      f"{HT} TestAnchorExternalMissingProtocolInvalid (no such host)"),
]
HTMLTEST_EXCLUDED = {
    "missingLinkHref, blank_href_html4/unknown, hash_href, head_link_href_empty/absent, placeholder_with_empty_id, links_in_pre":
        "HTML-validity warnings (missing/blank href, empty id), not dead links",
    "mailto_*, tel_*": "mailto:/tel: syntax, never fetched by a site crawler",
    "link_directory_without_slash, link_pointing_to_directory": "file-system semantics (directory vs trailing slash) of a static checker",
    "ignores_cases": "htmltest matches fragments case-insensitively; browsers (the HTML standard) do not",
    "*Ignore*, *Option*, favicon, non_https, EnforceHTTPS, brokenCanonicalLink": "configuration-only",
    "https-*, selfSignedLink, ip_href, ip_timeout, http_*redirect*, bad_external_links, multipleProblems": "live-internet TLS/IP/redirect behaviour recorded in VCR cassettes",
    "href_brackets": "htmltest reports '(https://…)' as a bad reference; for a browser it is a relative path on the site (checked, 404 here: a dead link either way)",
}

# --- LinkChecker (tests/checker/data/*.html with their *.result files; never committed: GPL-2.0) ------
LC = "tests/checker/data"
LINKCHECKER = [
    C("http.html", {"http://www.garantiertnixgutt.bla/", "http://example.org/foo/%20", "http://.example.org/"},
      f"{LC}/http.html.result (error lines)", {"www.example.org": {"*": 200}, "www.example.com": {"/": 200}, "example.org": {"/": 200}}),
    C("http_slash.html", {"http:", "http:/", "http://", "http:www.example.com/", "http:/www.example.com/"},
      f"{LC}/http_slash.html.result (error lines)", {"www.example.com": {"/": 200}}),
    C("http_quotes.html", {"/stalter&sohn", 'http://www.example.com/%22'}, f"{LC}/http_quotes.html.result (error lines)",
      {"example.com": {"/": 200}, "www.example.com": {"/": 200}}),
    C("http_invalid_host.html", {"http://localhost]"}, f"{LC}/http_invalid_host.html.result (error)"),
    C("http_anchor.html", {"/http_anchor.html#bad"}, f"{LC}/http_anchor.html.result (anchor warning `bad' not found)"),
    C("misc.html", set(), f"{LC}/misc.html.result (all valid; served over http here)", {"www.example.com": {"/": 200}}),
    C("frames.html", set(), f"{LC}/frames.html.result (all valid)"),
    C("http_lowercase.html", set(), f"{LC}/http_lowercase.html.result (all valid)", {"www.example.com": {"/": 200}}),
    C("anchor1.html", set(), f"{LC}/anchor1.html.result"),
    C("base1.html", set(), f"{LC}/base1.html.result"),
    C("base2.html", set(), f"{LC}/base2.html.result (valid; the zero-size warning is no dead link)"),
    C("base3.html", set(), f"{LC}/base3.html.result"),
    C("base4.html", set(), f"{LC}/base4.html.result"),
    C("urlencoding_anchor.html", {"/urlencoding_anchor.html#bad", "/urlencoding_anchor.html#bad_|_(and—em-dashes)"},
      f"{LC}/urlencoding_anchor.html.result (two anchor-not-found warnings; both spellings of the second are one URL)"),
    C("html5.html", set(), f"{LC}/html5.html.result (all valid)"),
    C("all_parts_linenos.html", set(), f"{LC}/all_parts_linenos.html.result (all valid)"),
    C("archive.html", set(), f"{LC}/archive.html.result (all valid)", {"www.example.com": {"/": 200}}),
    C("http_utf8.html", set(), f"{LC}/http_utf8.html.result"),
    C("http_empty.html", set(), f"{LC}/http_empty.html.result (valid with a warning)"),
    C("http.xhtml", set(), f"{LC}/http.xhtml.result"),
]
LINKCHECKER_EXCLUDED = {
    "file_*.html, file.*": "file:// URLs (a site crawler checks http(s))",
    "Bookmarks, opera6.adr, places.sqlite, plist_*, sitemap*.xml": "bookmark and sitemap files, not pages",
    "http_url_quote": "expects localhost:8001 to be down; on a shared machine another process may listen there",
    "http_file, file_url_quote": "file:// targets",
    "redir": "needs LinkChecker's test server redirect to a new host",
    "loginform*, norobots, cookies": "configuration-only (login, robots, cookie options)",
}


# --- serving ---------------------------------------------------------------------------------------------
def _listing(directory: Path, url_path: str) -> bytes:
    items = "".join(f'<li><a href="{quote(p.name)}{"/" if p.is_dir() else ""}">{html.escape(p.name)}</a></li>'
                    for p in sorted(directory.iterdir()))
    return f"<html><head><title>Index of {html.escape(url_path)}</title></head><body><ul>{items}</ul></body></html>".encode()


class SuiteSite:
    """A fixture folder served as a site, case pages with outside hosts rewritten, plus the mocks."""

    def __init__(self, root: Path, cases: list[Case], listing: bool):
        self.root = root
        self.cases = cases
        self.listing = listing
        self.port = 0
        self.by_page = {c.page: i for i, c in enumerate(cases)}
        self.hosts: dict[str, tuple[int, str]] = {}  # per-case name → (case index, original host)
        for i, c in enumerate(cases):
            for host in c.mocks:
                self.hosts[f"c{i}.{host}"] = (i, host)

    def page_url(self, i: int) -> str:
        """Where case ``i``'s page is crawled from: its fixture path, or its outside entry."""

        c = self.cases[i]
        if c.entry:
            return f"http://c{i}.{c.entry[0]}:{self.port}{c.entry[1]}"
        return f"http://127.0.0.1:{self.port}/{quote(c.page)}"

    def rewrite(self, i: int, body: bytes) -> bytes:
        text = body.decode("latin-1")
        for host in sorted(self.cases[i].mocks, key=len, reverse=True):
            pattern = re.compile(r"(https?:)?//" + re.escape(host) + r"(?=[/:\"'\s>?#]|$)", re.I)
            new = f"//c{i}.{host}:{self.port}"
            text = pattern.sub(lambda m, new=new: ("http:" if m.group(1) else "") + new, text)
        return text.encode("latin-1")

    def respond(self, req: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        host = req.host.lower()
        if host in self.hosts:
            i, original = self.hosts[host]
            table = self.cases[i].mocks[original]
            answer = table.get(req.path, table.get("*", 404))
            if isinstance(answer, str):  # a fixture page served at this outside address
                return 200, [("Content-Type", "text/html; charset=utf-8")], self.rewrite(i, (self.root / answer).read_bytes())
            return answer, [("Content-Type", "text/html; charset=utf-8")], b"<html><body>mock</body></html>"
        if req.path == "/__bench__/index.html":
            links = "".join(f'<a href="{html.escape(self.page_url(i))}">{html.escape(c.page)}</a>\n'
                            for i, c in enumerate(self.cases))
            return 200, [("Content-Type", "text/html; charset=utf-8")], f"<html><body>{links}</body></html>".encode()
        rel = req.path.lstrip("/")
        target = (self.root / rel).resolve()
        if not str(target).startswith(str(self.root.resolve())) or not target.exists():
            return 404, [("Content-Type", "text/html; charset=utf-8")], b"<html><body>404</body></html>"
        if target.is_dir():
            if not req.path.endswith("/"):
                return 301, [("Location", req.path + "/")], b""
            if (target / "index.html").exists():
                target = target / "index.html"
            elif self.listing:
                return 200, [("Content-Type", "text/html; charset=utf-8")], _listing(target, req.path)
            else:
                return 404, [("Content-Type", "text/html; charset=utf-8")], b"<html><body>404</body></html>"
        body = target.read_bytes()
        page = str(target.relative_to(self.root.resolve()))
        if page in self.by_page:
            body = self.rewrite(self.by_page[page], body)
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return 200, [("Content-Type", ctype)], body


# --- judging ---------------------------------------------------------------------------------------------
def _spelling(url: str, site: SuiteSite, local: str) -> str:
    """A found target in the spelling of the expectations: local paths, outside hosts restored."""

    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url
    if not parts.scheme:
        return url
    rest = parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    if parts.netloc == local:
        return rest
    if host in site.hosts and port == site.port:
        return f"http://{site.hosts[host][1]}{rest}"
    return url


def run_suite(name: str, root: Path, cases: list[Case], listing: bool, workdir: Path) -> dict[str, float]:
    site = SuiteSite(root, cases, listing)
    router = Site(name).fallback(site.respond)
    records: dict[str, list[str]] = {}
    with serve(router) as running, dns_server(records) as dns:
        site.port = running.port
        for host in site.hosts:
            records[host] = ["127.0.0.1"]
        local = f"127.0.0.1:{running.port}"
        db = workdir / f"{name}.sqlite"
        cmd = [str(Path(sys.executable).parent / "govaudit"), "check", f"http://{local}/__bench__/index.html",
               "--as-of", AS_OF, "--db", str(db), "--out", str(workdir / name), "--format", "json",
               "--checks", "links", "--dns-server", dns, "--max-depth", "3", "--max-pages", "400",
               "--timeout", "5", "--ignore-robots", "--concurrency", "8", "--allow-private",  # loopback: past the SSRF guard
               *[a for i, c in enumerate(cases) if c.entry for a in ("--sibling-host", f"c{i}.{c.entry[0]}")]]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode not in (0, 1) or "GOVAUDIT_BENCH_DEBUG" in __import__("os").environ:
            print(f"{name}: govaudit exit {proc.returncode}: {(proc.stderr or proc.stdout)[-600:]}")
        from auditor.store.database import EvidenceStore

        store = EvidenceStore(str(db))
        runs = store.list_runs()
        if not runs:
            print(f"{name}: govaudit exit {proc.returncode}: {proc.stderr[-800:]}")
            return {}
        findings = [f for f in store.iter_findings(runs[0]["id"]) if f.rule in LINK_RULES]
        if "GOVAUDIT_BENCH_DEBUG" in __import__("os").environ:
            for f in findings:
                print("   ", f.rule, f.url, [s["url"] if isinstance(s, dict) else s for s in f.evidence.get("sources") or []][:3])
            print("    pages:", store.count("pages", runs[0]["id"]), "results:", store.count("link_results", runs[0]["id"]), list(store.iter_errors(runs[0]["id"]))[:3], proc.stdout[-1500:])
    tp = fp = fn = expected_n = found_n = 0
    for i, c in enumerate(cases):
        page_url = site.page_url(i)
        found: set[str] = set()
        for f in findings:
            sources = f.evidence.get("sources") or []
            urls = {s["url"] if isinstance(s, dict) else s for s in sources}
            if page_url in urls:
                found.add(_spelling(f.url, site, local))
        found = {unquote(u) for u in found}
        want = {unquote(u) for u in c.dead}
        hits, extra, missed = want & found, found - want, want - found
        tp, fp, fn = tp + len(hits), fp + len(extra), fn + len(missed)
        expected_n, found_n = expected_n + len(want), found_n + len(found)
        if extra or missed:
            print(f"  {name} {c.page}: FP {sorted(extra)} FN {sorted(missed)}  [{c.source}]")
    recall = tp / (tp + fn) if tp + fn else 1.0
    precision = tp / (tp + fp) if tp + fp else 1.0
    print(f"{name:11s} cases {len(cases):3d}  expected {expected_n:3d}  found {found_n:3d}  TP {tp:3d}  FP {fp:3d}  FN {fn:3d}"
          f"  recall {recall:.3f}  precision {precision:.3f}")
    return {"tp": tp, "fp": fp, "fn": fn, "recall": recall, "precision": precision}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--linkchecker", type=Path, help="folder holding LinkChecker's tests/checker/data files (never committed)")
    ap.add_argument("--suite", action="append", choices=["linkinator", "htmltest", "linkchecker"])
    ap.add_argument("--keep", type=Path, help="keep the evidence stores and reports in this directory")
    args = ap.parse_args()
    suites = args.suite or ["linkinator", "htmltest", "linkchecker"]
    peer = ROOT / "tests" / "peer_suites"
    totals = {"tp": 0, "fp": 0, "fn": 0}
    with tempfile.TemporaryDirectory(prefix="govaudit-peers-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        plan = [("linkinator", peer / "linkinator", LINKINATOR, False, LINKINATOR_EXCLUDED),
                ("htmltest", peer / "htmltest" / "fixtures" / "links", HTMLTEST, False, HTMLTEST_EXCLUDED)]
        if args.linkchecker:
            plan.append(("linkchecker", args.linkchecker, LINKCHECKER, True, LINKCHECKER_EXCLUDED))
        elif "linkchecker" in suites:
            print("linkchecker: skipped (pass --linkchecker DIR: its fixtures are GPL-2.0 and never committed)")
        for name, root, cases, listing, excluded in plan:
            if name not in suites:
                continue
            result = run_suite(name, root, cases, listing, work)
            for k in totals:
                totals[k] += int(result.get(k, 0))
            for what, why in excluded.items():
                print(f"  excluded {name}: {what} — {why}")
    tp, fp, fn = totals["tp"], totals["fp"], totals["fn"]
    print(f"{'all':11s} TP {tp}  FP {fp}  FN {fn}  recall {tp / (tp + fn) if tp + fn else 1:.3f}"
          f"  precision {tp / (tp + fp) if tp + fp else 1:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
