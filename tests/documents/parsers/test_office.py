"""Office formats: DOCX, XLSX, XLS, PPTX and the 97-2003 binary DOC and PPT files."""

import datetime
import io

import docx
import openpyxl
import pptx
import pytest

from documents.parsers import (
    BlockKind,
    CorruptDocumentError,
    EncryptedDocumentError,
    MislabelledDocumentError,
    TruncatedDocumentError,
    count_units,
    parse,
)
from tests.corpus import DOCS



def _docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_headings_paragraphs_and_table():
    document = docx.Document()
    document.add_heading("Installation", level=1)
    document.add_paragraph("Run the installer.")
    document.add_heading("Requirements", level=2)
    table = document.add_table(rows=3, cols=3)
    for row, values in enumerate([["Name", "Version", "Notes"], ["Python", "3.11", ""], ["Merged", "", ""]]):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    table.cell(2, 0).merge(table.cell(2, 2))
    table.cell(2, 0).text = "Merged across"

    parsed = parse(_docx_bytes(document), "guide.docx")

    kinds = [block.kind for block in parsed.blocks]
    assert kinds == [BlockKind.HEADING, BlockKind.TEXT, BlockKind.HEADING, BlockKind.TABLE]
    assert parsed.blocks[2].level == 2
    assert parsed.blocks[2].heading_path == ("Installation",)
    assert parsed.blocks[3].heading_path == ("Installation", "Requirements")
    rows = parsed.blocks[3].rows
    assert rows[1] == ["Python", "3.11", ""]
    # The merged cell's text appears once, in its first grid column.
    assert rows[2] == ["Merged across", "", ""]


def test_docx_nested_and_merged_tables():
    parsed = parse(DOCS / "tables-nested-merged.docx")

    tables = [block for block in parsed.blocks if block.kind == BlockKind.TABLE]
    assert len(tables) == 3
    assert tables[0].rows[0] == ["Header Col 1", "Header Col 2"]
    nested = tables[1].rows[1][1]
    assert "f" in nested
    assert "g&t" in nested
    assert sum(cell.count("Lorem") for row in tables[2].rows for cell in row) <= len(tables[2].rows)


def test_docx_real_file_headings():
    parsed = parse(DOCS / "headers-sections.docx")

    headings = [block.text for block in parsed.blocks if block.kind == BlockKind.HEADING]
    assert len(headings) == 7


def test_xlsx_sheets_and_displayed_values():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sales"
    sheet.append(["Region", "Amount", "Share", "Day"])
    sheet.append(["North", 1234.5, 0.25, datetime.datetime(2024, 3, 1)])
    sheet["B2"].number_format = "#,##0.00"
    sheet["C2"].number_format = "0%"
    sheet["D2"].number_format = "yyyy-mm-dd"
    other = workbook.create_sheet("Staff")
    other.append(["Name", "Code"])
    other.append(["Ann", "007"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    parsed = parse(buffer.getvalue(), "report.xlsx")

    rows = [block for block in parsed.blocks if block.kind == BlockKind.ROW]
    assert len(rows) == 2
    assert rows[0].sheet == "Sales"
    assert rows[0].values == ["North", "1,234.50", "25%", "2024-03-01"]
    assert rows[0].text == "Region: North\nAmount: 1,234.50\nShare: 25%\nDay: 2024-03-01"
    assert rows[1].sheet == "Staff"
    assert rows[1].values == ["Ann", "007"]
    assert parsed.unit_count == 2


def test_xlsx_row_range_spans_sheets():
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.append(["n"])
    for number in range(5):
        first.append([number])
    second = workbook.create_sheet("More")
    second.append(["n"])
    for number in range(5, 10):
        second.append([number])
    buffer = io.BytesIO()
    workbook.save(buffer)

    parsed = parse(buffer.getvalue(), "numbers.xlsx", from_page=3, to_page=7)

    assert [block.values[0] for block in parsed.blocks if block.kind == BlockKind.ROW] == ["3", "4", "5", "6"]
    assert count_units(buffer.getvalue(), "numbers.xlsx") == 10


def test_xlsx_row_limit_adds_notice():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["n"])
    for number in range(50):
        sheet.append([number])
    buffer = io.BytesIO()
    workbook.save(buffer)

    parsed = parse(buffer.getvalue(), "long.xlsx", max_rows=10)

    assert len(parsed.blocks) == 10
    assert parsed.notices[0].code == "rows_limited"
    assert parsed.unit_count == 50


def test_xlsx_title_rows_above_header_are_text():
    parsed = parse(DOCS / "half-year-analyses-by-segment.xlsx")

    assert parsed.blocks[0].kind == BlockKind.TEXT
    assert parsed.blocks[0].text == "3. Analyses by segment"
    assert len(parsed.metadata["sheets"]) == 5


def test_xlsx_encrypted_raises():
    with pytest.raises(EncryptedDocumentError, match="password"):
        parse(DOCS / "encrypted-password-protected.xlsx")


def test_xls_every_sheet():
    parsed = parse(DOCS / "two-sheets-uuid-sheet-name.xls")

    sheets = {block.sheet for block in parsed.blocks if block.kind == BlockKind.ROW}
    assert len(sheets) == 2
    first = next(block for block in parsed.blocks if block.kind == BlockKind.ROW)
    assert first.columns == ["Alpha", "Beta", "Gamma", "Delta"]
    assert first.values == ["89", "82", "100", "12"]


def test_pptx_slides_tables_and_notes():
    parsed = parse(DOCS / "autogen-slides-table-chart.pptx")

    assert parsed.unit_count == 6
    assert {block.page for block in parsed.blocks} <= set(range(1, 7))
    tables = [block for block in parsed.blocks if block.kind == BlockKind.TABLE]
    assert len(tables) == 1
    assert tables[0].page == 3


def test_pptx_generated_notes_and_order():
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Quarterly plan"
    slide.placeholders[1].text_frame.text = "Hire two engineers"
    slide.notes_slide.notes_text_frame.text = "Mention the budget."
    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = "Risks"
    buffer = io.BytesIO()
    presentation.save(buffer)

    parsed = parse(buffer.getvalue(), "plan.pptx")

    texts = [(block.page, block.kind, block.text) for block in parsed.blocks]
    assert texts == [
        (1, BlockKind.HEADING, "Quarterly plan"),
        (1, BlockKind.TEXT, "Hire two engineers"),
        (1, BlockKind.TEXT, "Notes: Mention the budget."),
        (2, BlockKind.HEADING, "Risks"),
    ]


def test_pptx_table_slide():
    parsed = parse(DOCS / "slide-with-table.pptx")

    assert parsed.blocks[0].kind == BlockKind.HEADING
    assert parsed.blocks[0].text == "A Slide with a Table"
    assert parsed.blocks[1].rows[1] == ["Red", "Green", "Blue"]
    assert parsed.blocks[1].heading_path == ("A Slide with a Table",)


def test_doc_binary_chinese_text():
    parsed = parse(DOCS / "chinese-short.doc")

    assert parsed.blocks[0].text == "这是一个用来测试nodejs解析Word文档.doccccc"
    assert parsed.blocks[1].text == "This is a test for parsing the Word file in node."


def test_doc_fields_and_table_cells():
    parsed = parse(DOCS / "emphasized-text.doc")

    assert "I am a bold italic bold-italic text." in parsed.text
    assert "Header Col 1" in parsed.text
    assert "HYPERLINK" not in parsed.text


def test_ppt_binary_slide_text():
    parsed = parse(DOCS / "bullet-slide.ppt")

    assert parsed.unit_count == 1
    assert parsed.blocks[0].text == "Adding a Bullet Slide"
    assert "Use _TextFrame.add_paragraph() for subsequent bullets" in parsed.text


def test_doc_broken_container_raises_corrupt():
    with pytest.raises(CorruptDocumentError, match="damaged"):
        parse(DOCS / "corrupt-bad-header.doc")


def test_docx_named_pdf_raises_mislabelled():
    data = (DOCS / "layout-parser-paper-2p.pdf").read_bytes()

    with pytest.raises(MislabelledDocumentError, match="contains a PDF document"):
        parse(data, "report.docx")


def test_truncated_docx_raises_corrupt():
    document = docx.Document()
    document.add_paragraph("text " * 2000)
    data = _docx_bytes(document)

    with pytest.raises(TruncatedDocumentError, match="incomplete"):
        parse(data[: len(data) // 2], "cut.docx")
