"""Personal data in published pages and attachments: resident ID numbers and private mobile numbers.

条例 Art. 15 forbids disclosing 个人隐私 that harms third parties, and the 2018 要点 require
de-identification (去标识化) except for 惩戒公示 and mandatory disclosures. The typical leak is a
公示 list (低保, 补贴, 贫困户) with names, ID numbers and phone numbers, often inside an XLSX or
PDF attachment, so both page text and attachment text are scanned.

* ``privacy.id_number``: an 18-digit resident ID with a valid GB 11643 check digit, a plausible
  region code and a real birth date not after ``--as-of``. Masked numbers (110105********123X)
  and numbers failing the check are not findings; a *weak* mask that leaves more characters
  visible than the pack tolerates (``privacy.id_visible_max``) is a minor finding.
* ``privacy.phone_number``: a full mobile number of a private person. Office hotlines published
  as contacts are not: a contact label in the same cell (电话, 热线, 办公室, 联系人…), the footer,
  or the same number on several pages mark an official contact; a name next to the number in a
  公示/名单 table, an ID number on the same row, or a roster of several numbers mark a person.
  A published citizen's letter (县长信箱, 留言, 咨询: a person label 来信人/留言人/咨询人… plus another
  letter field or a 信箱/留言/咨询/互动 column) reads by parts: a mobile in the writer's part is
  private even under 联系电话 — the label names the writer's contact, not an office's — while one
  after a reply label (回复单位、答复内容…) belongs to the answering office. Landlines (0591-12345678)
  and hotlines (12345) are never matched: only 11-digit mobiles are. An office mobile published
  under a contact label outside a letter (办事指南 “联系人：XX科 联系电话：139…”) is taken as the
  office's duty line, as 条例 Art. 20(2) has offices publish their contacts: not a finding.
  Every label list is pack data (``privacy.letter_*``, ``privacy.phone_official_labels``).

No full number ever leaves this module: evidence, messages and keys carry masked forms only
(``110105********123X``, ``138****1234``) and context snippets are scrubbed of long digit runs.
Legacy DOC/XLS/WPS/OFD attachments cannot be read here; they are counted and said so in a metric.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from auditor.context import CheckContext, PageView, SiteView
from auditor.crawl.extract import PARSEABLE_ATTACHMENTS, attachment_text, region_of
from auditor.declarations import load_declarations
from auditor.docmodel.dates import normalize
from auditor.hookspecs import hookimpl
from auditor.model import Finding, Region

DECLARED = load_declarations("auditor.checks", "rules/privacy.json")
govaudit_rules, govaudit_parameters = DECLARED.hooks()

BASIS = DECLARED.bases["basis"]

LEGACY_KINDS = {"doc", "xls", "wps", "et", "ofd", "ppt"}
TEXT_KINDS = {"txt", "csv"}
PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
}
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"
MASK_CHARS = "*＊●○■□×"
_ID_FULL = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{16}[0-9Xx])(?![0-9A-Za-z])")
_ID_MASKED = re.compile(rf"(?<![0-9A-Za-z{MASK_CHARS}])([1-9][0-9{MASK_CHARS}]{{16}}[0-9Xx{MASK_CHARS}])(?![0-9A-Za-z{MASK_CHARS}])")
_PHONE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![0-9])")
_PHONE_MASKED = re.compile(rf"(?<![0-9{MASK_CHARS}])(1[3-9][0-9{MASK_CHARS}]{{9}})(?![0-9{MASK_CHARS}])")
_PREFILTER = re.compile(r"1[3-9]\d[- ]?\d{4}[- ]?\d{4}|\d{17}|\d{2}[*＊●○■□×]{2,}")
_ID_LIKE = re.compile(rf"\d{{17}}[0-9Xx]|\d[0-9{MASK_CHARS}]{{14,}}[0-9Xx{MASK_CHARS}]")
_LONG_DIGITS = re.compile(r"(?:\d[\d*＊●xX]{6,})")
_ID_EXCLUDE = re.compile(r"(信用代码|税号|识别号|账号|帐号|卡号|订单|流水号|索引号|备案号|许可证|批准号|注册号|登记号)")
_ID_LABEL = re.compile(r"(身份证|证件|公民身份)")
_HAN_NAME = re.compile(r"^[\u4e00-\u9fa5]{1,2}[\u4e00-\u9fa5·]{1,3}$")
_ORG_SUFFIX = re.compile(r"(局|办|委|院|所|站|中心|公司|科|股|室|队|会|处|部|厅|馆|校|村|组|社区|街道|镇|乡|县|市|区|省|电话|热线|联系|手机|号码|地址|姓名|备注|序号)$")
_NAME_BEFORE = re.compile(r"([\u4e00-\u9fa5]{2,4})[\s,，、:：]*(?:手机|电话|联系电话|手机号码?)?[:：]?\s*$")

BLOCK_TAGS = {
    "p", "div", "li", "tr", "br", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "table", "section", "article",
    "ul", "ol", "form", "blockquote", "pre", "hr", "title", "header", "footer", "nav", "aside", "main", "caption",
}
CELL_TAGS = {"td", "th"}


# --- number rules --------------------------------------------------------------------------------

def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits (ISO 7064 MOD 11-2)."""

    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def valid_id(number: str, as_of: dt.date | None = None) -> bool:
    """A real-looking 18-digit resident ID: province code, birth date, check digit."""

    if len(number) != 18 or not number[:17].isdigit():
        return False
    if number[:2] not in PROVINCES:
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or (as_of is not None and born > as_of):
        return False
    return id_check_char(number[:17]) == number[17].upper()


def mask_id(number: str) -> str:
    """Region code and last four kept, birth date and sequence hidden: 110105********123X."""

    return number[:6] + "*" * 8 + number[14:].upper()


def mask_phone(number: str) -> str:
    digits = re.sub(r"\D", "", number)[-11:]
    return digits[:3] + "****" + digits[7:]


def _visible(s: str) -> int:
    return sum(1 for c in s if c.isdigit() or c in "Xx")


def scrub(text: str) -> str:
    """Mask every run of 7+ digits in a context snippet (other numbers on the same line)."""

    def repl(m: re.Match[str]) -> str:
        s = m.group(0)
        return s[:3] + "*" * (len(s) - 5) + s[-2:] if len(s) > 6 else s

    return _LONG_DIGITS.sub(repl, text)


def _digest(value: str) -> str:
    """A one-way tag: counts a number across pages (kept in memory only).

    Finding keys are the page URL (the engine hashes them into the id, after rewriting a loopback
    port away: auditor.siteid), never any number, so a stable id never carries personal data.
    """

    return hashlib.blake2b(value.encode(), digest_size=12).hexdigest()


# --- text with lines and cells ---------------------------------------------------------------------

@dataclass
class Line:
    text: str
    region: str = str(Region.CONTENT)

    @property
    def cells(self) -> list[str]:
        return self.text.split("\t")


def html_lines(tree: Any) -> list[Line]:
    """Visible text as lines (block elements) with table cells separated by tabs."""

    body = tree.find(".//body")
    root = body if body is not None else tree
    out: list[Line] = []
    buf: list[str] = []
    region: list[str] = []
    cache: dict[object, Region] = {}

    def flush() -> None:
        text = re.sub(r"[ \u3000\xa0\r\n]+", " ", "".join(buf)).strip(" ")
        text = re.sub(r" *\t[ \t]*", "\t", text).strip("\t ")
        if text:
            out.append(Line(text, region[0] if region else str(Region.CONTENT)))
        buf.clear()
        region.clear()

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if not tag or tag in ("script", "style", "noscript", "template", "head"):
                if tag:
                    walker.skip_subtree()
                    if el.tail:
                        buf.append(el.tail)
                elif el.tail:
                    buf.append(el.tail)
                continue
            if tag in BLOCK_TAGS:
                flush()
            if el.text:
                if not region:
                    region.append(str(region_of(el, cache)))
                buf.append(el.text)
        else:
            if not tag or tag in ("script", "style", "noscript", "template", "head"):
                continue
            if tag in CELL_TAGS:
                buf.append("\t")
            if tag in BLOCK_TAGS:
                flush()
            if el.tail:
                if not region and el.tail.strip():
                    parent = el.getparent()
                    region.append(str(region_of(parent if parent is not None else el, cache)))
                buf.append(el.tail)
    flush()
    return out


def plain_lines(text: str) -> list[Line]:
    return [Line(t.strip()) for t in text.splitlines() if t.strip()]


def page_lines(page: PageView) -> tuple[list[Line], str]:
    """Lines of a stored page and what was read (html / pdf / docx / xlsx / txt)."""

    if page.is_html:
        tree = page.tree
        return (html_lines(tree) if tree is not None else []), "html"
    if page.kind in PARSEABLE_ATTACHMENTS:
        return plain_lines(attachment_text(page.kind, page.body)), page.kind
    if page.kind in TEXT_KINDS:
        body = page.body
        for enc in ("utf-8", "gb18030"):
            try:
                return plain_lines(body.decode(enc)), page.kind
            except UnicodeDecodeError:
                continue
    return [], page.kind


# --- scanning ------------------------------------------------------------------------------------

@dataclass
class IdHit:
    masked: str
    context: str
    weak: bool


@dataclass
class PhoneHit:
    digest: str
    masked: str
    context: str
    line_index: int
    official_label: bool
    footer: bool
    name_adjacent: bool
    tabular: bool
    id_on_line: bool
    weak: bool
    letter_part: str | None = None  # "person" (the correspondent's part of a letter) | "reply" | None


@dataclass
class PageScan:
    url: str
    kind: str
    title: str
    ids: list[IdHit] = field(default_factory=list)
    phones: list[PhoneHit] = field(default_factory=list)
    names_header: bool = False
    roster_title: bool = False
    letter: bool = False  # the page is (or holds) a 信箱/留言/咨询 letter: see letter_context()
    letter_signals: list[str] = field(default_factory=list)


def _snippet(line: str, start: int, end: int, masked: str) -> str:
    a = max(0, start - 24)
    b = min(len(line), end + 16)
    text = scrub(line[a:start]) + masked + scrub(line[end:b])
    return text.replace("\t", " | ").strip()


def _cell_before(line: str, start: int) -> str:
    before = line[:start]
    return before.rsplit("\t", 1)[-1] if "\t" in before else before


def _is_name(cell: str) -> bool:
    cell = cell.strip()
    return bool(_HAN_NAME.match(cell)) and not _ORG_SUFFIX.search(cell)


# --- letters: 信箱 / 留言 / 咨询 pages --------------------------------------------------------------

_LABEL_END = ":：\t "
_HEADER_WORD = re.compile(r"电话|手机|号码|联系|序号|编号|标题|主题|姓名|时间|日期|内容|状态|类型|单位|部门")
_WRITER = re.compile(r"^(?:[\u4e00-\u9fa5][\u4e00-\u9fa5*＊×○·]{0,3}(?:先生|女士|同志|老师|网友)?|[\u4e00-\u9fa5]?[*＊×○]{1,3})$")
_NOT_WRITER = re.compile(r"[应须需请可要]|提供|填写|姓名|真实|信息")
_BREADCRUMB = re.compile(r"当前位置|您的位置|所在位置|[>＞»›→]")

def _label_pattern(words: list[str], suffix: str = "") -> re.Pattern[str] | None:
    """``来信人：`` / ``来信人姓名：`` / a table cell ``来信人`` — a word used as a field label, not in prose."""

    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(rf"(?:{'|'.join(map(re.escape, words))}){suffix}\s*(?:[:：]|\t|$)")


@dataclass
class LetterContext:
    """Label patterns that tell a letter page and, inside it, whose part a line is."""

    person: re.Pattern[str] | None
    reply: re.Pattern[str] | None
    fields: re.Pattern[str] | None
    columns: list[str]


def letter_patterns(ctx: CheckContext) -> LetterContext:
    return LetterContext(
        person=_label_pattern(list(ctx.pack.value("privacy.letter_person_labels") or []), "(?:姓名|称呼|名称)?"),
        reply=_label_pattern(list(ctx.pack.value("privacy.letter_reply_labels") or [])),
        fields=_label_pattern(list(ctx.pack.value("privacy.letter_field_labels") or [])),
        columns=[w for w in (ctx.pack.value("privacy.letter_columns") or []) if w],
    )


def letter_context(title: str, column: str, lines: list[Line], lc: LetterContext) -> list[str]:
    """Why a page reads as a citizen's letter or message (empty when it does not).

    A letter names its writer under a person label (来信人、留言人、咨询人…) — the one signal a 办事指南
    or a footer never carries — and shows either another letter field (信件内容、来信时间、回复单位…)
    or sits in a 信箱/留言/咨询/互动 column (page title, ColumnName tag or the breadcrumb line).
    """

    if lc.person is None:
        return []
    content = [ln.text for ln in lines if ln.region not in (str(Region.FOOTER), str(Region.HEADER))]
    person = None
    for i, t in enumerate(content):
        for m in lc.person.finditer(t):
            if _writer_named(content, i, m.end()) or _header_parts(t, lc) is not None:
                person = m.group(0)
                break
        if person:
            break
    if person is None:
        return []
    signals = ["label:" + person.rstrip(_LABEL_END)]
    fields = {m.group(0).rstrip(_LABEL_END) for t in content for pat in (lc.fields, lc.reply) if pat
              for m in pat.finditer(t)}
    signals += [f"label:{f}" for f in sorted(fields)]
    crumbs = [t for t in content[:8] if _BREADCRUMB.search(t)]
    head = " ".join([title, column, *crumbs])
    signals += [f"column:{w}" for w in lc.columns if w in head]
    return signals if len(signals) >= 2 else []


def _writer_named(content: list[str], i: int, end: int) -> bool:
    """The value after a person label is a writer's name (张先生, 李女士, 王**, 匿名…), on the same
    line, in the next cell or on the next line — not guidance prose (举报人：应当提供真实姓名)."""

    rest = content[i][end:].strip(" \t:：")
    if not rest and i + 1 < len(content):
        rest = content[i + 1].strip()
    value = re.split(r"[\s\t,，;；。]", rest, maxsplit=1)[0] if rest else ""
    return bool(_WRITER.match(value)) and not _NOT_WRITER.search(value)


def _letter_part(text: str, pos: int, state: str | None, lc: LetterContext) -> str | None:
    """Whose part of a letter ``pos`` in this line belongs to: the last person / reply label before
    it on the line, else the part carried over from the lines above."""

    last = -1
    part = state
    for name, pat in (("person", lc.person), ("reply", lc.reply)):
        if pat is None:
            continue
        for m in pat.finditer(text, 0, pos):
            if m.start() > last:
                last, part = m.start(), name
    return part


def _is_label(cell: str, pat: re.Pattern[str] | None) -> bool:
    m = pat.match(cell) if pat is not None else None
    return bool(m and m.end() >= len(cell.rstrip(_LABEL_END)))


def _header_parts(text: str, lc: LetterContext) -> list[str | None] | None:
    """The part of each column when a table row is a header of letter fields — every cell a field
    name (来信人 | 联系电话 | 来信内容 | 答复单位) with a person or reply label among them; None for any
    other row, such as a label/value row (答复部门 | 县城管局), which is read left to right."""

    found = False
    out: list[str | None] = []
    part: str | None = None
    for cell in (c.strip() for c in text.split("\t")):
        if not cell:
            pass  # an empty header cell keeps the column index
        elif _is_label(cell, lc.person):
            part, found = "person", True
        elif _is_label(cell, lc.reply):
            part, found = "reply", True
        elif not (_is_label(cell, lc.fields) or (len(cell) <= 8 and _HEADER_WORD.search(cell))):
            return None
        out.append(part)
    return out if found else None


def _column_part(columns: list[str | None], text: str, pos: int) -> str | None:
    """The part of the table column ``pos`` falls in (the nearest person/reply header to its left)."""

    i = text.count("\t", 0, pos)
    return columns[i] if i < len(columns) else (columns[-1] if columns else None)


def scan_lines(url: str, kind: str, title: str, lines: list[Line], ctx: CheckContext, column: str = "") -> PageScan:
    """Every ID number and mobile number on a page, with the context that classifies it.

    ``column`` is the page's ColumnName tag when it has one (one of the signals of a letter page).
    """

    as_of = ctx.as_of
    id_visible_max = int(ctx.pack.value("privacy.id_visible_max"))
    phone_visible_max = int(ctx.pack.value("privacy.phone_visible_max"))
    labels = [x for x in (ctx.pack.value("privacy.phone_official_labels") or []) if x]
    roster_words = [x for x in (ctx.pack.value("privacy.roster_keywords") or []) if x]
    scan = PageScan(url, kind, title)
    scan.roster_title = any(w in title for w in roster_words)
    lc = letter_patterns(ctx)
    scan.letter_signals = letter_context(title, column, lines, lc)
    scan.letter = bool(scan.letter_signals)
    part: str | None = None  # whose part of a letter the current line is in
    columns: list[str | None] | None = None  # a letter table's header row: the part of each column
    for idx, line in enumerate(lines):
        text = normalize(line.text)
        if "姓名" in text and ("\t" in text or idx < 3):
            scan.names_header = True
        line_start_part = part
        in_letter = scan.letter and line.region not in (str(Region.FOOTER), str(Region.HEADER))
        if in_letter and "\t" in text:
            header = _header_parts(text, lc)
            if header is not None:
                columns = header  # 来信人 | 联系电话 | 来信内容 | 答复单位: rows below read by column
                continue
        else:
            columns = None
        if in_letter and columns is None:
            part = _letter_part(text, len(text), part, lc)
        if not _PREFILTER.search(text):
            continue
        id_spans: list[tuple[int, int]] = []
        for m in _ID_FULL.finditer(text):
            number = m.group(1)
            if not valid_id(number, as_of):
                continue
            before = text[max(0, m.start() - 14):m.start()]
            if _ID_EXCLUDE.search(before) and not _ID_LABEL.search(before):
                continue  # 统一社会信用代码, account numbers…
            id_spans.append(m.span(1))
            scan.ids.append(IdHit(mask_id(number), _snippet(text, m.start(1), m.end(1), mask_id(number)), False))
        for m in _ID_MASKED.finditer(text):
            raw = m.group(1)
            if not any(c in MASK_CHARS for c in raw) or _visible(raw) <= id_visible_max:
                continue
            # too little hidden: check the visible part could be a real ID (region + plausible birth year)
            if raw[:2] not in PROVINCES:
                continue
            masked = mask_id(raw.translate({ord(c): "*" for c in MASK_CHARS}))
            id_spans.append(m.span(1))
            scan.ids.append(IdHit(masked, _snippet(text, m.start(1), m.end(1), masked), True))
        phone_matches: list[tuple[int, int, str, bool]] = []
        for m in _PHONE.finditer(text):
            if any(a <= m.start() < b for a, b in id_spans):
                continue
            phone_matches.append((m.start(), m.end(), m.group(1) + m.group(2) + m.group(3), False))
        for m in _PHONE_MASKED.finditer(text):
            raw = m.group(1)
            if any(c in MASK_CHARS for c in raw) and _visible(raw) > phone_visible_max:
                phone_matches.append((m.start(1), m.end(1), raw, True))
        for start, end, number, weak in phone_matches:
            cell = _cell_before(text, start)
            tail = cell[-12:]
            official = any(lab in tail for lab in labels)
            tabular = "\t" in text
            if tabular:
                cells = text.split("\t")
                name_adjacent = any(_is_name(c) for c in cells)
            else:
                nm = _NAME_BEFORE.search(cell[-14:])
                name_adjacent = bool(nm and _is_name(nm.group(1)))
            masked = mask_phone(number) if not weak else number[:3] + "****" + number[7:]
            footer = line.region in (str(Region.FOOTER), str(Region.HEADER))
            scan.phones.append(PhoneHit(
                digest=_digest(number), masked=masked, context=_snippet(text, start, end, masked), line_index=idx,
                official_label=official, footer=footer,
                name_adjacent=name_adjacent, tabular=tabular, id_on_line=bool(id_spans), weak=weak,
                letter_part=(None if not in_letter else
                             _column_part(columns, text, start) if columns is not None else
                             _letter_part(text, start, line_start_part, lc)),
            ))
    return scan


def private_phones(scan: PageScan, pages_per_number: dict[str, int], ctx: CheckContext) -> list[PhoneHit]:
    """The phone hits of a page that belong to private persons (see the module docstring)."""

    repeat = int(ctx.pack.value("privacy.phone_repeat_pages"))
    roster_min = int(ctx.pack.value("privacy.phone_roster_min"))
    distinct_tabular = len({p.digest for p in scan.phones if p.tabular and not p.official_label})
    roster = scan.roster_title or scan.names_header
    out = []
    for p in scan.phones:
        if p.footer or pages_per_number.get(p.digest, 0) >= repeat:
            continue
        if p.id_on_line:
            out.append(p)
        elif p.letter_part == "person":
            out.append(p)  # the writer's own number: private whatever its label (联系电话 included)
        elif p.letter_part == "reply" or p.official_label:
            continue  # the answering office's contact, or a labelled official line
        elif p.tabular and p.name_adjacent and (scan.names_header or (roster and distinct_tabular >= roster_min)):
            out.append(p)
        elif p.name_adjacent and roster and distinct_tabular + sum(1 for q in scan.phones if not q.tabular) >= roster_min:
            out.append(p)
    return out


# --- the check -----------------------------------------------------------------------------------

def _where(kind: str) -> tuple[str, str]:
    if kind == "html":
        return "页面正文", "page text"
    return f"附件（{kind.upper()}）", f"attachment ({kind.upper()})"


def _source(site: SiteView, url: str) -> str | None:
    for edge in site.links(target_url=url):
        return edge["source_url"]
    return None


@hookimpl
def govaudit_check_site(site: SiteView, ctx: CheckContext) -> list[Finding]:
    """One pass over every stored page and attachment; findings found before a failure are kept."""

    findings: list[Finding] = []
    try:
        for finding in scan_site(site, ctx):
            findings.append(finding)
    except Exception as exc:  # noqa: BLE001 - bad input becomes an error record, never a crash
        ctx.store.add_error(ctx.run_id, "check", f"{type(exc).__name__}: {exc}", url=site.homepage_url,
                            plugin="privacy", detail=traceback.format_exc())
    return findings


def scan_site(site: SiteView, ctx: CheckContext) -> Iterator[Finding]:
    """ID findings page by page; phone findings once every page has been seen (repeats across pages)."""

    scans: list[PageScan] = []
    pages_per_number: dict[str, int] = {}
    unscanned: list[dict[str, str]] = []
    no_text: list[str] = []
    scanned = 0
    repeat = int(ctx.pack.value("privacy.phone_repeat_pages"))
    for page in site.pages():
        if page.kind in LEGACY_KINDS:
            unscanned.append({"url": page.url, "kind": page.kind})
            continue
        if page.is_html:
            source = normalize(page.text)
            if not _PREFILTER.search(source):
                scanned += 1
                continue
            # Mobiles are counted per page from the source, cheaply; a page whose only numbers are
            # ones already seen on enough pages (the footer's duty line) needs no parse: those are
            # official contacts whatever their context, and it has nothing ID-like.
            digests = {_digest(m.group(1) + m.group(2) + m.group(3)) for m in _PHONE.finditer(source)}
            for digest in digests:
                pages_per_number[digest] = pages_per_number.get(digest, 0) + 1
            if digests and all(pages_per_number[x] > repeat for x in digests) and not _ID_LIKE.search(source):
                scanned += 1
                continue
        elif page.kind not in PARSEABLE_ATTACHMENTS and page.kind not in TEXT_KINDS:
            continue
        try:
            lines, kind = page_lines(page)
            scanned += 1
            if not lines and not page.is_html:
                no_text.append(page.url)
                continue
            scan = scan_lines(page.url, kind, page.title or (lines[0].text[:60] if lines else ""), lines, ctx,
                              column=page.meta.get("ColumnName", "") if page.is_html else "")
        except Exception as exc:  # noqa: BLE001 - one unreadable page is an error record, the scan goes on
            ctx.store.add_error(ctx.run_id, "check", f"{type(exc).__name__}: {exc}", url=page.url,
                                plugin="privacy", detail=traceback.format_exc())
            continue
        if scan.ids:
            yield _id_finding(site, scan, ctx)
        if scan.phones:
            if not page.is_html:  # attachments count where they are read
                for digest in {p.digest for p in scan.phones}:
                    pages_per_number[digest] = pages_per_number.get(digest, 0) + 1
            scans.append(scan)
    for scan in scans:
        hits = private_phones(scan, pages_per_number, ctx)
        if hits:
            yield _phone_finding(site, scan, hits, ctx)
    ctx.metric(
        "privacy.unscanned_attachments", len(unscanned),
        label_zh="未能扫描个人信息的附件（DOC/XLS/WPS/OFD 旧格式，需人工检查）",
        label_en="Attachments not scanned for personal data (legacy DOC/XLS/WPS/OFD: check by hand)",
        unit="个", detail={"attachments": unscanned[:100], "no_text_extracted": no_text[:100],
                          "no_text_count": len(no_text), "scanned_pages": scanned},
    )


def _id_finding(site: SiteView, scan: PageScan, ctx: CheckContext) -> Finding:
    full = [h for h in scan.ids if not h.weak]
    weak = [h for h in scan.ids if h.weak]
    where_zh, where_en = _where(scan.kind)
    masked = list(dict.fromkeys(h.masked for h in scan.ids))
    if full:
        zh = f"{where_zh}中公开了 {len(full)} 个完整的居民身份证号码（如 {full[0].masked}）"
        en = f"{len(full)} full resident ID number(s) in the {where_en} (e.g. {full[0].masked})"
        if weak:
            zh += f"，另有 {len(weak)} 个脱敏不足"
            en += f", and {len(weak)} insufficiently masked"
    else:
        zh = f"{where_zh}中 {len(weak)} 个身份证号码脱敏不足（可见位数超过规则包允许值，如 {weak[0].masked}）"
        en = f"{len(weak)} ID number(s) in the {where_en} insufficiently masked (e.g. {weak[0].masked})"
    evidence = {
        "location": scan.kind,
        "count": len(full),
        "weakly_masked_count": len(weak),
        "masked": masked[:20],
        "contexts": [h.context for h in scan.ids[:5]],
        "visible_tolerance": ctx.pack.entry("privacy.id_visible_max"),
    }
    return ctx.finding(
        "privacy.id_number", scan.url, zh, en, key=f"id:{scan.url}",
        source_url=_source(site, scan.url) if scan.kind != "html" else None,
        evidence=evidence, variant=None if full else "weakly_masked",
    )


def _phone_finding(site: SiteView, scan: PageScan, hits: list[PhoneHit], ctx: CheckContext) -> Finding:
    where_zh, where_en = _where(scan.kind)
    distinct = list(dict.fromkeys(h.masked for h in hits))
    reasons = []
    if any(h.id_on_line for h in hits):
        reasons.append("与身份证号码同行")
    if any(h.letter_part == "person" for h in hits):
        reasons.append("为信件/留言中来信人的联系方式")
    if scan.names_header or scan.roster_title:
        reasons.append("名单/公示表格中姓名与号码对应")
    full = [h for h in hits if not h.weak]
    zh = (f"{where_zh}中公开了 {len(distinct)} 个疑似个人手机号码（如 {distinct[0]}；"
          f"{'、'.join(reasons) or '姓名与号码相邻'}，且未标注为机关联系电话）")
    if any(h.letter_part == "person" for h in hits):
        en = (f"{len(distinct)} private mobile number(s) in the {where_en} (e.g. {distinct[0]}): the correspondent's "
              "contact in a published letter or message")
    else:
        en = (f"{len(distinct)} private mobile number(s) in the {where_en} (e.g. {distinct[0]}): next to personal names "
              "in a list, not labelled as an office contact")
    evidence = {
        "location": scan.kind,
        "count": len(distinct),
        "masked": distinct[:20],
        "contexts": [h.context for h in hits[:5]],
        "signals": {"names_header": scan.names_header, "roster_title": scan.roster_title,
                    "id_on_same_line": sum(1 for h in hits if h.id_on_line),
                    "letter": scan.letter_signals, "correspondent_numbers": sum(1 for h in hits if h.letter_part == "person")},
        "official_contacts_skipped": len({p.digest for p in scan.phones} - {h.digest for h in hits}),
    }
    return ctx.finding(
        "privacy.phone_number", scan.url, zh, en, key=f"phone:{scan.url}",
        source_url=_source(site, scan.url) if scan.kind != "html" else None,
        evidence=evidence, variant=None if full else "weakly_masked",
    )
