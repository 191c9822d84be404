"""PDF parsing on real files: text order, page numbers, positions, tables and bad files."""


import pytest

from documents.parsers import (
    BlockKind,
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    NoticeCode,
    TruncatedDocumentError,
    count_units,
    parse,
)
from documents.parsers import ocr
from tests.corpus import DOCS



def test_two_column_paper_reads_columns_in_order():
    parsed = parse(DOCS / "gdata-unknown-values-article.pdf")

    text = parsed.text
    assert parsed.unit_count == 3
    assert "The gdata package" in text
    assert "by Gregor Gorjanc" in text
    # The first column's paragraph must come before the second column's, not interleaved.
    assert text.index("Unknown or missing values can be represented") < text.index("least for atomic classes")


def test_pdf_blocks_carry_pages_and_positions():
    parsed = parse(DOCS / "gdata-unknown-values-article.pdf")

    pages = {block.page for block in parsed.blocks}
    assert pages == {1, 2, 3}
    for block in parsed.blocks:
        assert block.positions, block.text[:40]
        for page, x0, x1, top, bottom in block.positions:
            assert page == block.page
            assert 0 <= x0 <= x1
            assert 0 <= top <= bottom


def test_pdf_headings_found_by_font_size():
    parsed = parse(DOCS / "gdata-unknown-values-article.pdf")

    headings = [block.text for block in parsed.blocks if block.kind == BlockKind.HEADING]
    assert "Introduction" in headings
    introduction = next(block for block in parsed.blocks if block.text.startswith("Unknown or missing values"))
    assert introduction.heading_path[-1] == "Introduction"


def test_pdf_page_range_of_long_manual():
    parsed = parse(DOCS / "r-intro-manual.pdf", from_page=10, to_page=12)

    assert parsed.unit_count == 113
    assert {block.page for block in parsed.blocks} == {11, 12}


def test_pdf_page_range_past_end_is_empty():
    parsed = parse(DOCS / "layout-parser-paper-2p.pdf", from_page=5, to_page=100000000)

    assert parsed.blocks == []
    assert parsed.has_notice(NoticeCode.NO_TEXT)


def test_pdf_ruled_table_rows_stay_whole():
    parsed = parse(DOCS / "nics-background-checks-2015-11.pdf")

    tables = [block for block in parsed.blocks if block.kind == BlockKind.TABLE]
    assert len(tables) == 1
    rows = tables[0].rows
    header = next(row for row in rows if row[0] == "State / Territory")
    alabama = next(row for row in rows if row[0] == "Alabama")
    wyoming = next(row for row in rows if row[0] == "Wyoming")
    assert len(alabama) == len(header)
    assert alabama[1] == "18,870"
    assert alabama[-1] == "71,137"
    assert wyoming[-1] != ""


def test_pdf_rotated_margin_text_is_dropped():
    parsed = parse(DOCS / "layout-parser-paper-2p.pdf")

    headings = [block.text for block in parsed.blocks if block.kind == BlockKind.HEADING]
    assert all(len(heading) > 1 for heading in headings)
    assert "arXiv" not in parsed.text


def test_pdf_owner_password_only_opens():
    parsed = parse(DOCS / "encrypted-owner-only-copy-protected.pdf")

    assert parsed.unit_count == 2
    assert "LayoutParser" in parsed.text


def test_pdf_chinese_text_layer():
    parsed = parse(DOCS / "maint-guide-zh-cn.pdf", to_page=1)

    assert "Debian 新维护者手册" in parsed.text


def test_pdf_user_password_raises_encrypted():
    with pytest.raises(EncryptedDocumentError, match="encrypted with a password"):
        parse(DOCS / "encrypted-user-password.pdf")


def test_pdf_truncated_raises_truncated():
    with pytest.raises(TruncatedDocumentError, match="incomplete"):
        parse(DOCS / "truncated-r-data.pdf")


def test_pdf_header_only_raises_corrupt():
    with pytest.raises(CorruptDocumentError, match="damaged"):
        parse(DOCS / "invalid-header-only.pdf")


def test_pdf_zero_bytes_raises_empty():
    with pytest.raises(EmptyDocumentError, match="empty"):
        parse(DOCS / "empty-zero-bytes.pdf")


def test_count_units_gives_pdf_pages():
    assert count_units(DOCS / "r-intro-manual.pdf") == 113


def test_scanned_pdf_without_tesseract_gives_notice(monkeypatch):
    monkeypatch.setattr(ocr, "tesseract_available", lambda: False)

    parsed = parse(DOCS / "scan-loremipsum-flat.pdf")

    assert parsed.blocks == []
    assert parsed.has_notice(NoticeCode.OCR_UNAVAILABLE)
    assert "OCR is not installed" in parsed.notices[0].message


@pytest.mark.skipif(not ocr.tesseract_available(), reason="the tesseract program is not installed")
def test_scanned_pdf_is_recognised():
    parsed = parse(DOCS / "scan-table-multirow-cells.pdf", ocr_languages="eng")

    assert "Ballots" in parsed.text
    assert parsed.metadata["ocr_pages"] == [1]
    assert all(block.page == 1 and block.positions for block in parsed.blocks)


def test_progress_and_cancel_are_called():
    reports = []

    class Cancelled(Exception):
        pass

    def cancel():
        if len(reports) >= 2:
            raise Cancelled

    parse(DOCS / "gdata-unknown-values-article.pdf", to_page=1, progress=lambda f, m: reports.append(f))
    assert reports[0] == 0.0
    assert reports[-1] == 1.0
    assert reports == sorted(reports)

    reports.clear()
    with pytest.raises(Cancelled):
        parse(DOCS / "gdata-unknown-values-article.pdf", progress=lambda f, m: reports.append(f), cancel=cancel)
