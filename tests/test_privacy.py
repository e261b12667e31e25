"""Personal data: ID numbers and private mobiles in pages and attachments, never repeated in reports."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

import lxml.html
import pytest

from auditor.checks import privacy
from auditor.checks.privacy import (
    Line,
    html_lines,
    id_check_char,
    mask_id,
    mask_phone,
    private_phones,
    scan_lines,
    scrub,
    valid_id,
)
from auditor.config import AuditConfig
from auditor.context import CheckContext
from auditor.rulepacks import load_pack
from auditor.store.database import EvidenceStore
from tests.sites.freshness_fixture import audit_content_site, bad_check, check_char, make_id

AS_OF = dt.date(2024, 6, 14)
STANDARD_EXAMPLE = "11010519491231002X"  # the example number of GB 11643-1999


@pytest.fixture
def ctx(tmp_path) -> CheckContext:
    store = EvidenceStore(tmp_path / "p.sqlite")
    run_id = store.start_run("x.gov.cn", "http://x.gov.cn/", AS_OF.isoformat(), {}, "test")
    rules = {r.id: r for r in privacy.govaudit_rules()}
    return CheckContext(AuditConfig(url="http://x.gov.cn/", as_of=AS_OF.isoformat()), load_pack("national"), rules, store, run_id)


# --- numbers -----------------------------------------------------------------------------------

def test_check_digit_matches_the_standard_and_an_independent_derivation() -> None:
    assert valid_id(STANDARD_EXAMPLE)
    assert id_check_char(STANDARD_EXAMPLE[:17]) == "X"
    rng = random.Random(11643)
    for _ in range(300):
        prefix = "".join(rng.choice("0123456789") for _ in range(17))
        assert id_check_char(prefix) == check_char(prefix)


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        (STANDARD_EXAMPLE, True),
        (STANDARD_EXAMPLE.lower(), True),
        (bad_check(STANDARD_EXAMPLE), False),
        (make_id("110105", dt.date(2024, 7, 1), 1), False),  # born after --as-of
        (make_id("990105", dt.date(1980, 1, 1), 1), False),  # no such province
        ("11010519800230" + "123" + check_char("11010519800230123"), False),  # 30 February
        (make_id("110105", dt.date(1899, 12, 31), 1), False),
        (make_id("810000", dt.date(1990, 5, 5), 12), True),  # Hong Kong residence permit range
    ],
)
def test_valid_id(number: str, ok: bool) -> None:
    assert valid_id(number, AS_OF) is ok


def test_masks_and_scrub() -> None:
    assert mask_id(STANDARD_EXAMPLE) == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    s = scrub("账号 6222021234567890123 电话 13812345678")
    assert "6222021234567890123" not in s and "13812345678" not in s


# --- lines -------------------------------------------------------------------------------------

def test_html_lines_keep_rows_cells_and_regions() -> None:
    tree = lxml.html.document_fromstring(
        "<html><body><div class='nav'>首页</div><table><tr><th>姓名</th><th>电话</th></tr>"
        "<tr><td>张三</td><td>13812345678</td></tr></table><script>var x='13900000000';</script>"
        "<p>正文<b>加粗</b>结束</p><div class='footer'>值班电话：13907910002</div></body></html>")
    lines = html_lines(tree)
    texts = [ln.text for ln in lines]
    assert "姓名\t电话" in texts and "张三\t13812345678" in texts
    assert "正文加粗结束" in texts
    assert not any("13900000000" in t for t in texts)  # script text is not visible
    assert next(ln for ln in lines if "13907910002" in ln.text).region == "footer"


# --- classification of numbers -----------------------------------------------------------------------

def scan(ctx: CheckContext, texts: list[str] | list[Line], title: str = "页面") -> privacy.PageScan:
    lines = [t if isinstance(t, Line) else Line(t) for t in texts]
    return scan_lines("http://x.gov.cn/p.html", "html", title, lines, ctx)


def test_ids_found_masked_invalid_and_labelled_numbers_skipped(ctx) -> None:
    good = make_id("360102", dt.date(1990, 12, 31), 25)
    s = scan(ctx, [
        f"张三 身份证号：{good}",
        f"李四 身份证号：{mask_id(good)}",  # masked: not a finding
        f"王五 身份证号：{bad_check(good)}",  # invalid check digit
        f"统一社会信用代码：{make_id('110108', dt.date(2001, 5, 5), 777)}",  # a company code, not a person
        f"全角：{good.translate(str.maketrans('0123456789X', '０１２３４５６７８９Ｘ'))}",
        f"粘连：A{good}B1",  # inside a longer token: not a number on its own
    ])
    assert [h.masked for h in s.ids if not h.weak] == [mask_id(good), mask_id(good)]
    assert all(good not in h.context for h in s.ids)


def test_weak_masks_follow_the_pack_tolerance(ctx) -> None:
    good = make_id("360102", dt.date(1990, 12, 31), 25)
    s = scan(ctx, [f"身份证号：{good[:16]}**", f"身份证号：{good[:4]}**********{good[14:]}"])
    assert [h.weak for h in s.ids] == [True]  # 16 visible > 10; 8 visible is masked enough


def test_official_contacts_are_not_private(ctx) -> None:
    s = scan(ctx, [
        "举报电话：13812345678",
        "联系人：王伟 13907910003",
        "办公室 139-0791-0004",
        Line("值班电话：13907910002", region="footer"),
    ], title="关于某某项目的公示")
    assert len(s.phones) == 4
    assert private_phones(s, {}, ctx) == []


def test_roster_table_mobiles_are_private(ctx) -> None:
    s = scan(ctx, [
        "序号\t姓名\t联系电话\t金额",
        "1\t张三\t13812340001\t450",
        "2\t李四\t+86 159 1234 0002\t450",
        "3\t王五\t186****0003\t380",  # masked: not counted
        "4\t县民政局\t13812340009\t-",  # an office in the name column is not a person
    ], title="低保对象名单公示")
    hits = private_phones(s, {}, ctx)
    assert sorted(h.masked for h in hits) == ["138****0001", "159****0002"]


def test_a_number_repeated_across_pages_is_an_official_contact(ctx) -> None:
    s = scan(ctx, ["姓名\t电话", "张三\t13812340001"], title="名单")
    digest = s.phones[0].digest
    assert private_phones(s, {digest: 1}, ctx)
    assert not private_phones(s, {digest: 3}, ctx)


def test_prose_without_roster_context_is_not_flagged(ctx) -> None:
    s = scan(ctx, ["市民张先生拨打13812340001反映噪音问题，工作人员及时处理。"], title="工作动态")
    assert private_phones(s, {}, ctx) == []


def test_phone_next_to_an_id_is_private(ctx) -> None:
    good = make_id("360102", dt.date(1990, 12, 31), 25)
    s = scan(ctx, [f"申请人赵六 {good} 13812340005"], title="申请结果")
    assert [h.masked for h in private_phones(s, {}, ctx)] == ["138****0005"]


def test_not_phones(ctx) -> None:
    s = scan(ctx, ["银行卡号 6222021381234567890", "座机 0791-13812345", "编号 2013812345678", "坐标 113.81234567"])
    assert s.phones == []


# --- letters: 县长信箱 / 留言 / 咨询 ------------------------------------------------------------------

LETTER = [
    "当前位置：首页 > 互动交流 > 县长信箱",
    "关于小区夜间施工噪音的问题",
    "来信人：张先生 联系电话：13907912345",
    "来信时间：2024-05-06",
    "信件内容：夜间施工噪音很大，请有关部门处理。",
    "回复单位：县住建局 联系电话：13907910000",
    "回复内容：已责令施工单位整改。",
]


def test_a_correspondents_mobile_in_a_letter_is_private_even_under_a_contact_label(ctx) -> None:
    s = scan(ctx, [*LETTER, Line("县长信箱 咨询电话：0799-1234567 服务热线：12345 值班手机：13907919999", region="footer")],
             title="县长信箱")
    assert s.letter and "label:来信人" in s.letter_signals and "column:信箱" in s.letter_signals
    parts = {h.masked: h.letter_part for h in s.phones}
    assert parts == {"139****2345": "person", "139****0000": "reply", "139****9999": None}
    assert next(h for h in s.phones if h.masked == "139****2345").official_label  # 联系电话: why it was missed
    # the writer's number only: not the answering office's, not the footer's duty line
    assert [h.masked for h in private_phones(s, {}, ctx)] == ["139****2345"]


def test_letter_layouts_table_and_field_list(ctx) -> None:
    table = scan(ctx, ["留言标题\t路灯不亮", "留言人\t李女士\t联系电话\t15807913456", "留言时间\t2024-05-07",
                       "答复部门\t县城管局\t答复电话\t13607910001"], title="网上留言")
    assert [h.masked for h in private_phones(table, {}, ctx)] == ["158****3456"]
    listed = scan(ctx, ["咨询人：", "王先生", "手机：", "18907914567", "咨询内容：", "社保转移怎么办理？"], title="政务咨询")
    assert [h.masked for h in private_phones(listed, {}, ctx)] == ["189****4567"]


def test_office_contacts_are_not_letters(ctx) -> None:
    """A 办事指南 carries 咨询时间 and 办理单位 — letter-ish fields — but no writer: the office's published
    mobile stays an official contact; landlines and the 12345 hotline are never mobile matches."""

    guide = scan(ctx, ["当前位置：首页 > 办事服务 > 办事指南", "事项名称：最低生活保障申请", "办理单位：县民政局",
                       "咨询时间：工作日 9:00-17:00", "联系人：社会救助科 联系电话：13907918888",
                       "咨询电话：0591-12345678 服务热线：12345"], title="最低生活保障申请办事指南")
    assert not guide.letter
    assert [h.masked for h in guide.phones] == ["139****8888"]
    assert private_phones(guide, {}, ctx) == []
    prose = scan(ctx, ["感谢来信人对我县工作的关心，如有疑问请拨打13907917777。"], title="县长信箱")
    assert not prose.letter  # 来信人 in prose is not a field label
    assert private_phones(prose, {}, ctx) == []


def test_letter_labels_are_pack_data(ctx) -> None:
    for key in ("privacy.letter_person_labels", "privacy.letter_field_labels", "privacy.letter_reply_labels",
                "privacy.letter_columns"):
        entry = ctx.pack.entry(key)
        assert entry["value"] and entry["source"] and entry["status"] in ("confirmed", "partial", "unconfirmed", "local")
    ctx.pack.values["privacy.letter_person_labels"] = {**ctx.pack.entry("privacy.letter_person_labels"), "value": []}
    s = scan(ctx, LETTER, title="县长信箱")
    assert not s.letter and private_phones(s, {}, ctx) == []  # without the labels the old reading comes back


# --- end to end: the content site audited by the real CLI -----------------------------------------------

@pytest.fixture(scope="module")
def content(tmp_path_factory):
    return audit_content_site(AS_OF, str(tmp_path_factory.mktemp("privacy")))


def path_of(url: str, base: str) -> str:
    return url[len(base):]


@pytest.mark.slow
def test_id_findings_in_pages_and_attachments(content) -> None:
    base, truth = content["base"], content["truth"]
    found = {path_of(f["url"], base): f for f in content["report"]["findings"] if f["rule"] == "privacy.id_number"}
    assert set(found) == set(truth.id_pages)
    for path, n in truth.id_pages.items():
        ev = found[path]["evidence"]
        assert ev["count"] == n, path
        assert found[path]["severity"] == "major"
        assert ev["weakly_masked_count"] == truth.weak_id_pages.get(path, 0)
        assert found[path]["basis"]["status"] == "confirmed" and "第十五条" in found[path]["basis"]["zh"]
    assert found["/files/gongshi.pdf"]["evidence"]["location"] == "pdf"
    assert found["/files/butie_mingdan.xlsx"]["source_url"] == base + "/gsgg/butie.html"


@pytest.mark.slow
def test_phone_findings(content) -> None:
    base, truth = content["base"], content["truth"]
    found = {path_of(f["url"], base): f for f in content["report"]["findings"] if f["rule"] == "privacy.phone_number"}
    assert {p: f["evidence"]["count"] for p, f in found.items()} == truth.phone_pages
    assert not set(found) & truth.no_phone_pages


@pytest.mark.slow
def test_legacy_attachments_are_said_to_be_unscanned(content) -> None:
    metrics = content["report"]["metrics"]
    metrics = list(metrics.values()) if isinstance(metrics, dict) else metrics
    m = next(m for m in metrics if m["name"] == "privacy.unscanned_attachments")
    assert m["value"] == len(content["truth"].unscanned)
    assert {path_of(a["url"], content["base"]) for a in m["detail"]["attachments"]} == content["truth"].unscanned
    assert "DOC" in m["label_zh"]


@pytest.mark.slow
def test_no_report_repeats_a_full_number(content) -> None:
    numbers = content["truth"].full_numbers
    assert len(numbers) >= 15
    texts = {"report.json": open(f"{content['out']}/report.json", encoding="utf-8").read(), "report.html": content["html"]}
    con = sqlite3.connect(content["db"])
    texts["findings"] = "\n".join(str(r) for r in con.execute("select * from findings"))
    texts["records"] = "\n".join(str(r) for r in con.execute("select * from records"))
    texts["errors"] = "\n".join(str(r) for r in con.execute("select * from errors"))
    for name, text in texts.items():
        for number in numbers:
            assert number not in text, (name, number[:3])
            assert number.lower() not in text, (name, number[:3])
    # and the masked forms are what the report shows
    assert "138****0001" in texts["report.json"] and "110105********" in texts["report.json"]


# --- end to end: a county mailbox audited by the real CLI ---------------------------------------------

MAILBOX_FOOTER = ("<div class='footer'><p>主办单位：示范县人民政府办公室 联系电话：0591-12345678 咨询电话：12345</p>"
                  "<p>值班手机：13905910000</p></div>")


def _mailbox_page(title: str, body: str, column: str) -> str:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title><meta name='ColumnName' content='{column}'></head>"
            f"<body><div class='nav'><a href='/'>首页</a> <a href='/hdjl/xzxx/index.html'>县长信箱</a> "
            f"<a href='/bsfw/dibao.html'>办事指南</a></div><div class='main'>{body}</div>{MAILBOX_FOOTER}</body></html>")


def mailbox_site():
    """A county portal's 县长信箱 (two published letters in two layouts), a 办事指南 with an office
    mobile, and a footer with a landline, the 12345 hotline and a duty mobile on every page."""

    from tests.support import Site

    site = Site("mailbox")
    site.page("/", _mailbox_page("示范县人民政府", "<ul><li><a href='/hdjl/xzxx/index.html'>县长信箱</a></li></ul>", "首页"))
    site.page("/hdjl/xzxx/index.html", _mailbox_page(
        "县长信箱", "<ul><li><a href='/hdjl/xzxx/2024/x_1.html'>关于夜间施工噪音的问题</a><span>2024-05-06</span></li>"
        "<li><a href='/hdjl/xzxx/2024/x_2.html'>路灯不亮</a><span>2024-05-07</span></li></ul>", "县长信箱"))
    site.page("/hdjl/xzxx/2024/x_1.html", _mailbox_page(
        "关于夜间施工噪音的问题", "<div class='crumb'>当前位置：首页 &gt; 互动交流 &gt; 县长信箱</div>"
        "<h1>关于夜间施工噪音的问题</h1><dl><dt>来信人：</dt><dd>张先生</dd><dt>联系电话：</dt><dd>13907912345</dd>"
        "<dt>来信时间：</dt><dd>2024-05-06</dd><dt>信件内容：</dt><dd>夜间施工噪音很大，请有关部门处理。</dd></dl>"
        "<div class='reply'><p>回复单位：县住建局</p><p>联系电话：13907910000</p><p>回复内容：已责令施工单位整改。</p></div>",
        "县长信箱"))
    site.page("/hdjl/xzxx/2024/x_2.html", _mailbox_page(
        "路灯不亮", "<table><tr><th>留言标题</th><td>路灯不亮</td></tr><tr><th>留言人</th><td>李女士</td>"
        "<th>联系电话</th><td>158-0791-3456</td></tr><tr><th>答复部门</th><td>县城管局</td></tr>"
        "<tr><th>答复内容</th><td>已修复。</td></tr></table>", "县长信箱"))
    site.page("/bsfw/dibao.html", _mailbox_page(
        "最低生活保障申请办事指南", "<h1>最低生活保障申请</h1><table><tr><th>办理单位</th><td>县民政局</td></tr>"
        "<tr><th>咨询时间</th><td>工作日 9:00-17:00</td></tr></table>"
        "<p>联系人：社会救助科 联系电话：13907918888</p><p>咨询电话：0591-12345678</p>", "办事指南"))
    return site


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory):
    import json

    from tests.support import run_cli, serve

    tmp = tmp_path_factory.mktemp("mailbox")
    with serve(mailbox_site()) as srv:
        base = srv.base_url.rstrip("/")
        r = run_cli("check", base + "/", "--out", str(tmp / "out"), "--db", str(tmp / "m.sqlite"), "--checks", "privacy",
                    "--a11y", "off", "--as-of", AS_OF.isoformat())
    assert r.returncode in (0, 1), r.stderr + r.stdout
    text = (tmp / "out" / "report.json").read_text(encoding="utf-8")
    return {"report": json.loads(text), "text": text, "base": base}


def test_mailbox_letters_are_private_office_lines_are_not(mailbox) -> None:
    base = mailbox["base"]
    found = {f["url"][len(base):]: f for f in mailbox["report"]["findings"] if f["rule"] == "privacy.phone_number"}
    assert set(found) == {"/hdjl/xzxx/2024/x_1.html", "/hdjl/xzxx/2024/x_2.html"}, {u: f["message"] for u, f in found.items()}
    one = found["/hdjl/xzxx/2024/x_1.html"]
    assert one["evidence"]["masked"] == ["139****2345"]  # the writer's, not the 住建局 reply line
    assert one["evidence"]["signals"]["correspondent_numbers"] == 1 and "来信人" in one["message"]
    assert one["severity"] == "major"
    assert found["/hdjl/xzxx/2024/x_2.html"]["evidence"]["masked"] == ["158****3456"]
    # masked in every output: the full numbers never appear
    for number in ("13907912345", "15807913456", "158-0791-3456"):
        assert number not in mailbox["text"]


def test_a_table_of_letters_reads_by_column(ctx) -> None:
    """A 信件公开 list with a header row: the writer's column is private, the answering office's is not,
    and a label/value row (答复部门 | 县城管局) still moves on to the reply part."""

    s = scan(ctx, ["来信人\t联系电话\t来信内容\t答复单位\t答复电话",
                   "张先生\t13907912345\t噪音扰民\t县住建局\t13907910000",
                   "李女士\t15807913456\t路灯不亮\t县城管局\t13607910001"], title="县长信箱来信选登")
    assert s.letter
    assert sorted(h.masked for h in private_phones(s, {}, ctx)) == ["139****2345", "158****3456"]
    kv = scan(ctx, ["留言人\t李女士\t联系电话\t15807913456", "答复部门\t县城管局", "联系电话：13607910001"], title="网上留言")
    assert [h.masked for h in private_phones(kv, {}, ctx)] == ["158****3456"]


def test_guidance_with_person_labels_is_not_a_letter(ctx) -> None:
    """A 投诉举报须知 uses 举报人： as a heading of instructions, not of a writer: its 举报电话 mobile is the
    office's. A letter names the writer after the label (张先生, 李女士, 王**)."""

    guide = scan(ctx, ["当前位置：首页 > 互动交流 > 投诉举报", "举报人：应当提供真实姓名和联系方式", "受理单位：县市场监管局",
                       "举报电话：13907911111"], title="投诉举报须知")
    assert not guide.letter and private_phones(guide, {}, ctx) == []
    for writer in ("王**", "李女士", "匿名"):
        s = scan(ctx, [f"投诉人：{writer} 手机：13907912222", "投诉内容：商家拒不退款"], title="投诉")
        assert s.letter, writer
        assert [h.masked for h in private_phones(s, {}, ctx)] == ["139****2222"], writer
