"""PDF parsing on real and generated files: text order, page numbers, positions, tables and bad files."""


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


def _pdf(*pages: str, rotate: int = 0, media_box: tuple = (0, 0, 612, 792)) -> bytes:
    """Return a PDF whose pages draw the given content streams, with Helvetica as font /F1."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objects = [b"", b"", font]
    box = " ".join(str(value) for value in media_box)
    page_ids = []
    for content in pages:
        stream = content.encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [{box}] /Rotate {rotate} "
                f"/Resources << /Font << /F1 3 0 R >> >> /Contents {len(objects)} 0 R >>"
            ).encode()
        )
        page_ids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids)
    objects[1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()

    output = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        output += b"%010d 00000 n \n" % offset
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(output)


def _text(x: float, y: float, text: str, size: float = 10) -> str:
    return f"BT /F1 {size} Tf {x} {y} Td ({text}) Tj ET\n"


BODY_LINES = "".join(
    _text(72, 500 - 14 * index, f"Body sentence number {index} of the page.") for index in range(4)
)


@pytest.mark.parametrize(
    "border",
    [
        "72 640 328 60 re S\n",
        "72 640 m 400 640 l 400 700 l 72 700 l h S\n",
    ],
    ids=["re-operator", "closed-path"],
)
def test_pdf_ruled_table_from_drawn_lines(border):
    rules = "200 640 m 200 700 l S 300 640 m 300 700 l S 72 680 m 400 680 l S 72 660 m 400 660 l S\n"
    cells = [["Name", "Qty", "Price"], ["Apple", "3", "1.20"], ["Pear", "12", "0.80"]]
    content = "0.5 w\n" + border + rules + _text(72, 720, "Prices as of today")
    for row, values in enumerate(cells):
        for column, value in enumerate(values):
            content += _text((76, 204, 304)[column], 686 - 20 * row, value)
    content += BODY_LINES

    parsed = parse(_pdf(content), "table.pdf")

    tables = [block for block in parsed.blocks if block.kind == BlockKind.TABLE]
    assert len(tables) == 1
    assert tables[0].rows == cells
    texts = " ".join(block.text for block in parsed.blocks if block.kind != BlockKind.TABLE)
    assert "Prices as of today" in texts
    assert "Apple" not in texts


def test_pdf_flat_rules_make_no_table():
    rules = "0.4 w 72 690 m 540 690 l S 72 560 m 540 560 l S\n"

    parsed = parse(_pdf(rules + _text(72, 700, "Chapter heading line") + BODY_LINES), "rules.pdf")

    assert all(block.kind != BlockKind.TABLE for block in parsed.blocks)
    assert "Chapter heading line" in parsed.text


def test_pdf_rotated_stamp_is_dropped():
    stamp = "BT /F1 20 Tf 0 1 -1 0 40 300 Tm (STAMP 2024.12345) Tj ET\n"

    parsed = parse(_pdf(stamp + BODY_LINES), "stamp.pdf")

    assert "Body sentence number 3 of the page." in parsed.text
    assert "STAMP" not in parsed.text
    assert "2024" not in parsed.text


def test_pdf_two_columns_read_left_first():
    content = ""
    for index in range(8):
        content += _text(72, 700 - 14 * index, f"Left column line {index}")
        content += _text(330, 700 - 14 * index, f"Right column line {index}")

    parsed = parse(_pdf(content), "columns.pdf")

    text = parsed.text
    assert text.index("Left column line 7") < text.index("Right column line 0")
    assert text.index("Left column line 0") < text.index("Left column line 7")
    assert text.index("Right column line 0") < text.index("Right column line 7")


def test_pdf_scaled_font_finds_heading():
    # TeX output sets a 1 pt font and scales it with the text matrix.
    content = "BT /F1 1 Tf 18 0 0 18 72 700 Tm (Scaled Heading) Tj ET\n"
    for index in range(4):
        y = 660 - 14 * index
        content += f"BT /F1 1 Tf 10 0 0 10 72 {y} Tm (Scaled body line {index} with words.) Tj ET\n"

    parsed = parse(_pdf(content), "scaled.pdf")

    headings = [block for block in parsed.blocks if block.kind == BlockKind.HEADING]
    assert [heading.text for heading in headings] == ["Scaled Heading"]
    body = next(block for block in parsed.blocks if block.text.startswith("Scaled body line 0"))
    assert body.heading_path == ("Scaled Heading",)


def test_pdf_rotated_page_reads_upright_text():
    # Text drawn turned 90 degrees counterclockwise reads upright on a page shown turned 90
    # degrees clockwise. Its positions are on the displayed page, 792 pt wide and 612 pt high.
    content = "".join(
        f"BT /F1 10 Tf 0 1 -1 0 {500 - 14 * index} 72 Tm (Landscape line {index} of text.) Tj ET\n"
        for index in range(4)
    )

    parsed = parse(_pdf(content, rotate=90), "landscape.pdf", ocr=False)

    assert "Landscape line 3 of text." in parsed.text
    for block in parsed.blocks:
        for _, x0, x1, top, bottom in block.positions:
            assert 0 <= x0 <= x1 <= 792
            assert 0 <= top <= bottom <= 612


def test_pdf_positions_from_media_box_corner():
    # The media box starts at (100, 100), so user-space point (172, 892) is 72 pt from the left
    # edge and 100 pt below the top edge of the page.
    content = _text(172, 892, "Offset page text line") + _text(172, 860, "Second line of the page text")

    parsed = parse(_pdf(content, media_box=(100, 100, 712, 992)), "offset.pdf")

    first = parsed.blocks[0]
    assert first.text.startswith("Offset page text line")
    _, x0, _, top, bottom = first.positions[0]
    assert x0 == 72
    assert 88 <= top < bottom <= 103


def test_pdf_line_end_hyphen_joins_word():
    parsed = parse(DOCS / "gdata-unknown-values-article.pdf", to_page=1)

    assert "Additionally," in parsed.text
    assert "Addition ally" not in parsed.text


def test_pdf_unmapped_glyphs_leave_no_marks():
    parsed = parse(DOCS / "encrypted-owner-only-copy-protected.pdf")

    assert "\ufffd" not in parsed.text
    assert not any(char < " " and not char.isspace() for char in parsed.text)


def test_pdf_descender_keeps_paragraph_break():
    # The last line of the paragraph has a "g" and ends 6.6 pt above the next paragraph, just
    # over the paragraph break threshold. A box grown by the descender would close that gap.
    parsed = parse(DOCS / "r-intro-manual.pdf", from_page=20, to_page=21)

    starts = [block.text[:40] for block in parsed.blocks]
    assert "This automatic adjustment of lengths of " in starts
