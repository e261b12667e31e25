"""What the crawl pulls out of a response: links with their place on the page, titles,
soft-404 fingerprints, and links and text inside PDF/Office attachments.

Pure functions over bytes/lxml trees, so checks and tests use the same code as the crawl.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import tinycss2
from lxml import etree

from auditor.crawl.urls import Resolved, Resolver, normalise
from auditor.model import Region

# The attributes that hold a URL, per element (srcset, CSS and JSON-LD are parsed apart, below):
# (tag, attribute) → whether a reader navigates there (pages crawled as pages) or the page loads
# it (assets: checked, HEAD where the server allows).
URL_ATTRIBUTES: dict[str, tuple[tuple[str, bool], ...]] = {
    "a": (("href", True),),
    "area": (("href", True),),
    "iframe": (("src", True),),
    "frame": (("src", True),),
    "img": (("src", False), ("srcset", False), ("usemap", False)),
    "script": (("src", False),),
    "link": (("href", False),),
    "embed": (("src", False),),
    "source": (("src", False), ("srcset", False)),
    "object": (("data", False), ("codebase", False), ("usemap", False)),
    "video": (("src", False), ("poster", False)),
    "audio": (("src", False),),
    "track": (("src", False),),
    "input": (("src", False), ("usemap", False)),
    "button": (("formaction", False),),
    "blockquote": (("cite", False),),
    "q": (("cite", False),),
    "del": (("cite", False),),
    "ins": (("cite", False),),
}
LINK_ATTRS = {tag: attrs[0][0] for tag, attrs in URL_ATTRIBUTES.items()}  # the main attribute of each tag
SKIP_LINK_RELS = {"canonical", "alternate", "preconnect", "dns-prefetch", "shortlink", "pingback", "search"}
# og:/twitter: properties whose content is an image (or media) URL a share card loads
META_URL_PROPERTIES = {"og:image", "og:image:url", "og:image:secure_url", "og:video", "og:video:url",
                       "og:video:secure_url", "og:audio", "og:audio:url", "twitter:image", "twitter:image:src",
                       "twitter:player"}
ATTACHMENT_EXT = {
    ".pdf": "pdf", ".doc": "doc", ".docx": "docx", ".xls": "xls", ".xlsx": "xlsx", ".wps": "wps",
    ".et": "et", ".ppt": "ppt", ".pptx": "pptx", ".ofd": "ofd", ".zip": "zip", ".rar": "rar", ".7z": "7z",
    ".txt": "txt", ".csv": "csv",
}
RESOURCE_EXT = {
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".svg", ".ico", ".css", ".js", ".mp4", ".mp3",
    ".flv", ".swf", ".avi", ".wmv", ".woff", ".woff2", ".ttf", ".eot", ".apk",
}
PARSEABLE_ATTACHMENTS = {"pdf", "docx", "xlsx"}

_FOOTER = re.compile(r"foot|bottom|copyright|dibu|banquan|bqxx|bq_|wzdb|gywm")
_NAV = re.compile(r"nav|menu|daohang|lanmu|dh_|_dh|topbar|mainbar|channel")
_HEADER = re.compile(r"header|banner|^top|[_-]top|top[_-]|logo|^head|[_-]head")
_ERROR_TITLE = re.compile(
    # "404" only with an error word next to it or as the whole title: "第404期" is a real page
    r"^\W*(error\s*|http\s*)?404\W*$|404\s*(错误|not\s*found|页面|error)|(error|错误)\s*404|not\s*found|页面不存在|"
    r"(页面|网页|文章|信息|内容|文件|资源|链接)(已被|已|被)?(不存在|删除|找不到|失效)|找不到(该|此|您|你)?(要|所)?(访问的)?(页面|网页)|"
    r"无法找到|错误页|出错了|访问的页面|^\W*error\W*$",
    re.I,
)
_ERROR_TEXT = re.compile(
    r"页面不存在|您访问的页面|找不到(该|此|您要)?页面|页面已(被)?删除|无法找到|页面未找到|not\s+found|404\s*错误|抱歉.{0,12}(不存在|找不到)", re.I
)
_PATH_IN_TEXT = re.compile(r"[/\\][\w\-.%/?=&;~+]*", re.ASCII)
_DIGITS_AND_SPACE = re.compile(r"[\d\s]+")
_URL_IN_TEXT = re.compile(r"https?://[\w\-.:%/?&=#~+@!$,;*()\[\]]+", re.I)


@dataclass(slots=True)
class FoundLink:
    """One link of a page. ``url`` is the fetchable spelling, or the href as written when
    ``malformed`` says why it is no URL; ``nav`` whether a reader navigates there (crawled as a
    page) rather than the page loading it; ``fragment`` what follows ``#`` on a navigation link
    (checked against the target page's ids), None when it had none."""

    url: str
    anchor: str
    region: Region
    tag: str
    position: int
    attribute: str = ""
    fragment: str | None = None
    nav: bool = False
    malformed: str | None = None


def normalise_url(url: str, encoding: str = "utf-8") -> str | None:
    """Absolute http(s) URL, fragment dropped, in the one spelling the crawl fetches and stores
    (see :mod:`auditor.crawl.urls`); None for anything not worth fetching."""

    return normalise(url, encoding)


def url_kind(url: str) -> str:
    """``attachment`` / ``resource`` / ``page`` from the path's extension."""

    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    ext = path[dot:] if dot > path.rfind("/") else ""
    if ext in ATTACHMENT_EXT:
        return "attachment"
    if ext in RESOURCE_EXT:
        return "resource"
    return "page"


def attachment_type(url: str, content_type: str = "") -> str:
    ct = content_type.lower()
    if "pdf" in ct:
        return "pdf"
    if "wordprocessingml" in ct:
        return "docx"
    if "spreadsheetml" in ct:
        return "xlsx"
    if "html" in ct or "xhtml" in ct:
        return "html"
    path = urlsplit(url).path.lower()
    for ext, kind in ATTACHMENT_EXT.items():
        if path.endswith(ext):
            return kind
    return "other"


def base_url(tree: object, page_url: str) -> str:
    base = tree.find(".//base[@href]")  # type: ignore[attr-defined]
    if base is not None:
        return urljoin(page_url, base.get("href").strip())
    return page_url


def region_of(el: object, cache: dict[object, Region]) -> Region:
    """nav / header / footer / content, from the nearest ancestor that says which."""

    chain = []
    node = el
    result: Region | None = None
    while node is not None:
        if node in cache:
            result = cache[node]
            break
        chain.append(node)
        tag = node.tag if isinstance(node.tag, str) else ""  # type: ignore[attr-defined]
        marker = f"{node.get('class') or ''} {node.get('id') or ''}".lower()  # type: ignore[attr-defined]
        if tag == "footer" or _FOOTER.search(marker):
            result = Region.FOOTER
            break
        if tag == "nav" or _NAV.search(marker):
            result = Region.NAV
            break
        if tag == "header" or _HEADER.search(marker):
            result = Region.HEADER
            break
        if tag in ("body", "html"):
            result = Region.CONTENT
            break
        node = node.getparent()  # type: ignore[attr-defined]
    if result is None:
        result = Region.CONTENT
    for n in chain:
        cache[n] = result
    return result


class UrlJoiner:
    """``normalise_url(urljoin(base, href))`` for one page (kept for callers that want only the URL)."""

    def __init__(self, base: str, encoding: str):
        self.resolve = Resolver(base, encoding)

    def __call__(self, raw: str) -> str | None:
        return self.resolve(raw).url


def srcset_urls(value: str) -> list[str]:
    """The URLs of a ``srcset`` attribute, by the HTML standard's candidate parsing: a URL runs to
    whitespace (trailing commas end it), descriptors run to a comma outside parentheses. So
    ``"a.png, b.png 2x"`` and ``"a.png,b.png"`` give both, ``data:`` URLs with commas stay whole."""

    out: list[str] = []
    pos, n = 0, len(value)
    while pos < n:
        while pos < n and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        if pos >= n:
            break
        start = pos
        while pos < n and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0
            while pos < n:
                c = value[pos]
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth = max(0, depth - 1)
                elif c == "," and depth == 0:
                    break
                pos += 1
        if url:
            out.append(url)
    return out


def css_urls(css: str) -> list[tuple[str, str]]:
    """(url, how) for every ``url(…)`` and ``@import`` in CSS text (a stylesheet, a ``<style>``
    element or a ``style`` attribute), parsed with tinycss2; how is ``url`` or ``@import``."""

    out: list[tuple[str, str]] = []

    def walk(tokens: list, in_import: bool = False) -> None:  # type: ignore[type-arg]
        importing = in_import
        for tok in tokens:
            kind = getattr(tok, "type", "")
            if kind == "at-keyword":
                importing = tok.lower_value == "import"
                continue
            if kind == "url":
                out.append((tok.value, "@import" if importing else "url"))
                importing = False
            elif kind == "string" and importing:
                out.append((tok.value, "@import"))
                importing = False
            elif kind == "function":
                if tok.lower_name in ("url", "src"):
                    args = [a for a in tok.arguments if getattr(a, "type", "") not in ("whitespace", "comment")]
                    if args and getattr(args[0], "type", "") == "string":
                        out.append((args[0].value, "@import" if importing else "url"))
                        importing = False
                        continue
                walk(tok.arguments, importing)
            elif kind in ("() block", "[] block", "{} block"):
                walk(tok.content)
            elif kind == "literal" and tok.value == ";":
                importing = False

    walk(tinycss2.parse_component_value_list(css, skip_comments=True))
    return [(u.strip(), how) for u, how in out if u.strip()]


def json_ld_urls(text: str) -> list[str]:
    """Absolute http(s) URLs among the string values of a JSON-LD block (``@context`` and
    ``@type`` are vocabulary names, not links)."""

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in ("@context", "@type"):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and node.strip().lower().startswith(("http://", "https://")):
            out.append(node.strip())

    walk(data)
    return out


_REFRESH = re.compile(r"^\s*[\d.]*\s*[;,]?\s*(?:url\s*=?\s*)?(.*)$", re.I | re.S)


def meta_refresh_target(content: str) -> str | None:
    """The URL of a ``<meta http-equiv=refresh content="5; url=…">`` as written, by the HTML
    standard's declarative-refresh steps (delay, ``;`` or ``,``, optional ``url=``, optional
    quotes); None when it only reloads the page. The URL itself goes through the URL layer like
    any href — w3lib's ``get_meta_refresh`` would escape it first and raise on a malformed one."""

    m = _REFRESH.match(content or "")
    url = (m.group(1) if m else "").strip()
    if url[:1] in ("'", '"'):
        quote = url[0]
        url = url[1:].split(quote, 1)[0]
    return url.strip() or None


def _text_of(el: object) -> str:
    tag = el.tag  # type: ignore[attr-defined]
    if tag in ("a", "area"):
        # an anchor without child nodes (most): its text is all itertext() would give
        text = (el.text or "") if not len(el) else "".join(el.itertext())  # type: ignore[attr-defined,arg-type]
        anchor = " ".join(text.split())[:200] or (el.get("title") or "")  # type: ignore[attr-defined]
        if not anchor:
            img = el.find(".//img")  # type: ignore[attr-defined]
            anchor = (img.get("alt") or "") if img is not None else ""
        return anchor
    return el.get("alt") or el.get("title") or ""  # type: ignore[attr-defined]


_URL_TAGS = (*URL_ATTRIBUTES, "meta", "style")
_STYLED = etree.XPath("//*[@style][contains(translate(@style, 'URL', 'url'), 'url')]")


def html_links(tree: object, page_url: str, encoding: str) -> Iterator[FoundLink]:
    """Every link of an HTML page, in document order, with its tag, attribute, anchor text and
    region: href/src of the usual elements, ``srcset``, media ``poster``, ``cite``, object
    ``data``/``codebase``, ``formaction``, ``usemap`` (a same-page fragment), ``<link>`` icons,
    manifests and stylesheets, meta refresh targets (navigation links), og:/twitter: image URLs,
    JSON-LD URLs, and CSS ``url()``/``@import`` in ``<style>`` and ``style`` attributes.

    A malformed href is yielded alone (``malformed`` set, ``url`` as written); the page's other
    links are untouched. A fragment-only ``#x`` is a link to the page itself with fragment ``x``.
    """

    resolve = Resolver(base_url(tree, page_url), encoding)
    cache: dict[object, Region] = {}
    position = 0

    def found(el: object, raw: str, tag: str, attribute: str, nav: bool, anchor: str | None = None) -> FoundLink | None:
        nonlocal position
        raw = raw.strip()
        if not raw or raw == "#":
            return None
        r: Resolved = resolve(raw)
        if r.skipped:
            return None
        if raw.startswith("#") and attribute != "usemap" and (not nav or (r.fragment or "").lower() in ("", "top")):
            return None  # "#" / "#top" go nowhere worth checking; a fragment on an asset is no anchor
        position += 1
        region = region_of(el, cache)
        text = _text_of(el) if anchor is None else anchor
        fragment = r.fragment if (nav or attribute == "usemap") and r.fragment else None
        if r.url is None:
            return FoundLink(raw, text, region, tag, position, attribute, fragment, nav, r.malformed)
        return FoundLink(r.url, text, region, tag, position, attribute, fragment, nav)

    for el in tree.iter(*_URL_TAGS):  # type: ignore[attr-defined]
        tag = el.tag
        if tag == "style":
            for raw, how in css_urls(el.text or ""):
                link = found(el, raw, "style", how, False, "")
                if link is not None:
                    yield link
            continue
        if tag == "meta":
            content = el.get("content") or ""
            if (el.get("http-equiv") or "").strip().lower() == "refresh":
                target = meta_refresh_target(content)
                link = found(el, target, "meta", "refresh", True, "") if target else None
            elif (el.get("property") or el.get("name") or "").strip().lower() in META_URL_PROPERTIES:
                link = found(el, content, "meta", (el.get("property") or el.get("name") or "").strip().lower(), False, "")
            else:
                link = None
            if link is not None:
                yield link
            continue
        if tag == "script" and (el.get("type") or "").strip().lower() == "application/ld+json":
            for raw in json_ld_urls(el.text or ""):
                link = found(el, raw, "script", "ld+json", False, "")
                if link is not None:
                    yield link
            continue
        if tag == "link":
            rels = set((el.get("rel") or "").lower().split())
            if rels & SKIP_LINK_RELS:
                continue
        if tag == "input" and (el.get("type") or "").strip().lower() != "image":
            continue
        for attribute, nav in URL_ATTRIBUTES[tag]:
            value = el.get(attribute)
            if not value:
                continue
            if attribute == "srcset":
                for raw in srcset_urls(value):
                    link = found(el, raw, tag, attribute, nav)
                    if link is not None:
                        yield link
                continue
            if attribute == "usemap" and not value.strip().startswith("#"):
                continue
            link = found(el, value, tag, attribute, nav)
            if link is not None:
                yield link
    # style="background: url(…)" on any element (after the others: one XPath instead of a test per element)
    for el in _STYLED(tree):
        for raw, _how in css_urls(el.get("style") or ""):
            link = found(el, raw, el.tag if isinstance(el.tag, str) else "style", "style", False, "")
            if link is not None:
                yield link


_TEXT_XPATH = etree.XPath(
    # relative: a sub-element (a footer, a table cell) gives its own text, not the page's
    ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
)
# The same text when the tree has no <noscript> or <template>: lxml's HTML parser keeps a script's
# or style's content as its one text child, never as elements, so "the parent is not a script or
# style" is "no ancestor is" — one step up per text node instead of a walk to the root (the
# ancestor walks were a seventh of a crawl's parse time)
_TEXT_XPATH_FLAT = etree.XPath(".//text()[not(parent::script or parent::style)]")
# the whole document's, not the element's subtree: ancestor:: above reaches past the element too
_HAS_HIDDEN_TREE = etree.XPath("boolean(//noscript | //template)")


def visible_text(tree: object) -> str:
    """Text nodes outside script/style/noscript/template, whitespace collapsed (XPath: C speed).
    Here rather than in :mod:`auditor.context` so the crawl's parse worker process needs only
    this module (the checks read it through ``auditor.context``)."""

    xpath = _TEXT_XPATH if _HAS_HIDDEN_TREE(tree) else _TEXT_XPATH_FLAT
    return " ".join(" ".join(xpath(tree)).split())


_STRING = etree.XPath("string()")  # HtmlElement.text_content(), for any lxml element


def page_title(tree: object) -> str:
    t = tree.find(".//title")  # type: ignore[attr-defined]
    return " ".join((_STRING(t) if t is not None else "").split())[:300]


def fingerprint(text: str) -> str:
    """Hash of the page's visible text with digits, URLs and spacing removed.

    CMS error pages echo the requested path or a timestamp; with those gone two error pages of
    the same site hash alike, and real pages almost never do.
    """

    norm = _URL_IN_TEXT.sub("", text)
    norm = _PATH_IN_TEXT.sub("", norm)  # the requested path echoed back ("/missing/page.html")
    norm = _DIGITS_AND_SPACE.sub("", norm)
    return hashlib.sha1(norm.encode("utf-8", "replace")).hexdigest()[:20]


def looks_like_error_page(title: str, text: str) -> bool:
    """A 200 page that says it is not there: error phrase in the title, or a short page saying so."""

    if _ERROR_TITLE.search(title or "") and (_ERROR_TEXT.search(text) or len(text) < 1500):
        return True
    return len(text) < 800 and bool(_ERROR_TEXT.search(text))


# --- attachments ---------------------------------------------------------------------------

def attachment_links(kind: str, body: bytes) -> list[str]:
    """URLs inside a PDF (link annotations and text) or DOCX/XLSX (hyperlinks)."""

    return read_attachment_links(kind, body)[0]


def read_attachment_links(kind: str, body: bytes) -> tuple[list[str], str | None]:
    """``(urls, fault)``: the links of a PDF/DOCX/XLSX attachment and, for one that cannot be
    read whole, why (``"pdf: no %%EOF marker (truncated?)"``, ``"docx: BadZipFile: …"``).

    A corrupt or truncated attachment is a fault of the site (readers cannot open it either), so
    the crawl reports it instead of swallowing the parser's exception. A PDF must end with
    ``%%EOF`` (ISO 32000-1 §7.5.5) — pypdf itself repairs a cut-off file silently."""

    urls: list[str] = []
    fault: str | None = None
    if kind == "pdf":
        if not body.lstrip()[:5] == b"%PDF-":
            fault = "pdf: no %PDF- header"
        elif b"%%EOF" not in body[-2048:]:
            fault = "pdf: no %%EOF marker at the end (truncated?)"
    try:
        if kind == "pdf":
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(body))
            for page in reader.pages:
                for annot in page.get("/Annots") or []:
                    obj = annot.get_object()
                    action = obj.get("/A")
                    if action is not None:
                        uri = action.get_object().get("/URI")
                        if uri:
                            urls.append(str(uri))
                urls.extend(_URL_IN_TEXT.findall(page.extract_text() or ""))
        elif kind == "docx":
            import docx

            document = docx.Document(io.BytesIO(body))
            for rel in document.part.rels.values():
                if rel.is_external and "hyperlink" in rel.reltype:
                    urls.append(rel.target_ref)
            urls.extend(_URL_IN_TEXT.findall("\n".join(p.text for p in document.paragraphs)))
        elif kind == "xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(io.BytesIO(body), read_only=False, data_only=True)
            for ws in wb.worksheets:
                for row in ws.iter_rows():
                    for cell in row:
                        if cell.hyperlink is not None and cell.hyperlink.target:
                            urls.append(cell.hyperlink.target)
                        elif isinstance(cell.value, str):
                            urls.extend(_URL_IN_TEXT.findall(cell.value))
    except Exception as exc:  # noqa: BLE001 - a broken attachment yields no links, the crawl goes on
        return [], fault or f"{kind}: {type(exc).__name__}: {exc}"[:300]
    seen: dict[str, None] = {}
    for u in urls:
        seen.setdefault(u.rstrip(".,;)）。，"), None)
    return list(seen), fault


# Single-byte western charsets decode any byte string, so a strict decode cannot disprove them: on a
# Chinese government page a Tomcat/Apache default of ISO-8859-1 is wrong whenever the bytes are valid
# in the page's meta charset, UTF-8 or GB18030.
_WEAK_CHARSETS = {"cp1252", "iso8859-1", "latin-1", "ascii", "us-ascii", "windows-1252"}


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str, str | None]:
    """``(text, encoding, mismatch)``: an HTML body decoded by validation, not by trust.

    A non-ASCII body that is valid UTF-8 is UTF-8; otherwise the HTTP header's charset is tried
    strictly (browsers let it win), then the page's own ``<meta charset>``, then GB18030; the
    first that decodes without error is used, so a UTF-8 header on GBK bytes stores the right
    title instead of mojibake. ``mismatch`` names the
    declared charset that failed (``"header utf-8"``, ``"meta gb2312"``), or None when the declared
    one was right (or nothing was declared)."""

    from w3lib.encoding import html_body_declared_encoding, read_bom, resolve_encoding

    bom, _ = read_bom(body)
    if bom:
        enc = resolve_encoding(bom) or bom
        return body.decode(enc, errors="replace"), enc, None
    header = resolve_encoding(header_charset) if header_charset else None
    meta_label = html_body_declared_encoding(body)
    meta = resolve_encoding(meta_label) if meta_label else None
    candidates: list[tuple[str, str | None]] = []  # (codec, the declaration it comes from)
    if header:
        candidates.append((header, "header"))
    if meta:
        candidates.append((meta, "meta"))
    candidates += [("utf-8", None), ("gb18030", None)]
    declared = candidates[0] if (header or meta) else None  # what a browser would use
    if not body.isascii():
        # UTF-8 is the strictest validator (GBK text is almost never valid UTF-8, while UTF-8
        # text often is valid GB18030), and single-byte charsets validate anything: a valid
        # UTF-8 body is UTF-8 whatever it declares
        candidates.insert(0, ("utf-8", None))
        if header in _WEAK_CHARSETS:
            candidates.append(candidates.pop(1))
    for codec, _src in candidates:
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        mismatch = None
        if declared is not None and codec != declared[0] and not body.isascii():
            mismatch = f"{declared[1]} {header_charset if declared[1] == 'header' else meta_label}"
        return text, codec, mismatch
    fallback = declared[0] if declared else "utf-8"
    try:
        return body.decode(fallback, errors="replace"), fallback, None
    except LookupError:
        return body.decode("utf-8", errors="replace"), "utf-8", None


def attachment_text(kind: str, body: bytes, limit: int = 2_000_000) -> str:
    """Plain text of a PDF/DOCX/XLSX attachment (for text checks such as personal data)."""

    out: list[str] = []
    size = 0
    try:
        if kind == "pdf":
            from pypdf import PdfReader

            for page in PdfReader(io.BytesIO(body)).pages:
                t = page.extract_text() or ""
                out.append(t)
                size += len(t)
                if size > limit:
                    break
        elif kind == "docx":
            import docx

            document = docx.Document(io.BytesIO(body))
            out.extend(p.text for p in document.paragraphs)
            for table in document.tables:
                for row in table.rows:
                    out.append("\t".join(c.text for c in row.cells))
        elif kind == "xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
            for ws in wb.worksheets:
                for row in ws.iter_rows(values_only=True):
                    out.append("\t".join("" if v is None else str(v) for v in row))
                    size += len(out[-1])
                    if size > limit:
                        break
    except Exception:  # noqa: BLE001 - unreadable attachment: no text, not a crash
        return ""
    return "\n".join(out)[:limit]
