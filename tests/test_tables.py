"""The one reader of the tables offices hand us (fleet registry, 备案 registry, post exports)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from auditor.tables import TableFileError, read_records, read_table


def test_csv_in_gb18030_and_utf8_with_bom_read_alike(tmp_path: Path) -> None:
    text = "账号名称,平台\n示范县发布,微信\n,\n"
    (tmp_path / "gbk.csv").write_bytes(text.encode("gb18030"))
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-8-sig"))
    for name in ("gbk.csv", "bom.csv"):
        assert read_records(tmp_path / name) == [{"账号名称": "示范县发布", "平台": "微信"}]  # the blank row left out


def test_xlsx_keeps_numbers_and_skips_empty_rows(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["网站标识码", "网站名称"])
    ws.append([3300000001, "示范县人民政府"])
    ws.append([None, None])
    wb.save(tmp_path / "r.xlsx")
    assert read_table(tmp_path / "r.xlsx")[1] == [3300000001, "示范县人民政府"]
    assert read_records(tmp_path / "r.xlsx") == [{"网站标识码": 3300000001, "网站名称": "示范县人民政府"}]


@pytest.mark.parametrize(("name", "body", "words"), [
    ("broken.xlsx", b"PK\x03\x04 not a workbook", "无法读取 Excel 文件"),
    ("list.pdf", b"%PDF-1.4", "不支持的表格格式"),
])
def test_a_file_that_is_no_table_is_one_clear_error(tmp_path: Path, name: str, body: bytes, words: str) -> None:
    (tmp_path / name).write_bytes(body)
    with pytest.raises(TableFileError, match=words):
        read_table(tmp_path / name)
