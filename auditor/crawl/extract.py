"""What the crawl pulls out of a response: links with their place on the page, titles,
soft-404 fingerprints, and links and text inside PDF/Office attachments.

Pure functions over bytes/lxml trees, so checks and tests use the same code as the crawl.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

from auditor.model import Region

SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "sms:", "weixin:", "#", "blob:")
LINK_ATTRS = {
    "a": "href",
    "area": "href",
    "img": "src",
    "script": "src",
    "link": "href",
    "iframe": "src",
    "frame": "src",
    "embed": "src",
    "source": "src",
    "object": "data",
}
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
_URL_IN_TEXT = re.compile(r"https?://[\w\-.:%/?&=#~+@!$,;*()\[\]]+", re.I)


@dataclass(slots=True)
class FoundLink:
    url: str
    anchor: str
    region: Region
    tag: str
    position: int


def normalise_url(url: str, encoding: str = "utf-8") -> str | None:
    """Absolute http(s) URL, fragment dropped, Chinese and spaces percent-encoded as a browser does
    (path in UTF-8, query in the page's encoding); None for anything not worth fetching."""

    url = url.strip()
    try:
        # Fast path: most links are already plain ASCII; w3lib's full escaping is for the rest.
        safe = url if url.isascii() and " " not in url and "\\" not in url else safe_url_string(url, encoding=encoding)
        parts = urlsplit(safe)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    netloc = parts.netloc.lower() if "@" not in parts.netloc else parts.netloc
    if parts.port in (80,) and parts.scheme == "http" or parts.port == 443 and parts.scheme == "https":
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


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
    """``normalise_url(urljoin(base, href))`` with a fast path for the common plain-ASCII hrefs.

    On a 30-link page the general path (urljoin + w3lib escaping) is most of the parsing cost;
    root-relative and simple relative ASCII links need neither.
    """

    def __init__(self, base: str, encoding: str):
        self.base = base
        self.encoding = encoding
        norm = normalise_url(base, encoding) or base
        parts = urlsplit(norm)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.dir = parts.path[: parts.path.rfind("/") + 1] or "/"

    def __call__(self, raw: str) -> str | None:
        if raw.isascii() and " " not in raw and "\\" not in raw and "/." not in raw and not raw.startswith("."):
            href = raw.split("#", 1)[0]
            if href.startswith("/") and not href.startswith("//"):
                return self.origin + href
            if href and ":" not in href.split("/", 1)[0] and not href.startswith(("?", "//")):
                return self.origin + self.dir + href
        return normalise_url(urljoin(self.base, raw), self.encoding)


def html_links(tree: object, page_url: str, encoding: str) -> Iterator[FoundLink]:
    """Every fetchable link on an HTML page, in document order, with anchor text and region."""

    join = UrlJoiner(base_url(tree, page_url), encoding)
    cache: dict[object, Region] = {}
    position = 0
    for el in tree.iter(*LINK_ATTRS):  # type: ignore[attr-defined]
        tag = el.tag
        raw = el.get(LINK_ATTRS[tag])
        if tag == "link" and (el.get("rel") or "").lower() in ("canonical", "alternate", "preconnect", "dns-prefetch"):
            continue
        if not raw:
            continue
        raw = raw.strip()
        if not raw or raw.lower().startswith(SKIP_SCHEMES):
            continue
        url = join(raw)
        if url is None:
            continue
        if tag in ("a", "area"):
            anchor = " ".join("".join(el.itertext()).split())[:200] or (el.get("title") or "")
            if not anchor:
                img = el.find(".//img")
                anchor = (img.get("alt") or "") if img is not None else ""
        else:
            anchor = el.get("alt") or el.get("title") or ""
        position += 1
        yield FoundLink(url, anchor, region_of(el, cache), "a" if tag == "area" else tag, position)


def page_title(tree: object) -> str:
    t = tree.find(".//title")  # type: ignore[attr-defined]
    return " ".join((t.text_content() if t is not None else "").split())[:300]


def fingerprint(text: str) -> str:
    """Hash of the page's visible text with digits, URLs and spacing removed.

    CMS error pages echo the requested path or a timestamp; with those gone two error pages of
    the same site hash alike, and real pages almost never do.
    """

    norm = _URL_IN_TEXT.sub("", text)
    norm = _PATH_IN_TEXT.sub("", norm)  # the requested path echoed back ("/missing/page.html")
    norm = re.sub(r"[\d\s]+", "", norm)
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
