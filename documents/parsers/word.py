"""DOCX documents through python-docx: headings, paragraphs and tables in body order."""

import io
import logging
import re
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from lxml import etree

from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, ParsedDocument
from documents.parsers.errors import CorruptDocumentError
from documents.parsers.tabular import grid_text

logger = logging.getLogger(__name__)

# Built-in heading style names. Word stores them in English in every language version, but
# documents converted by other programs may carry the Chinese name.
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


def parse_docx(context: ParseContext) -> ParsedDocument:
    try:
        document = docx.Document(io.BytesIO(context.data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as error:
        logger.warning("python-docx rejected %s: %s", context.filename, error)
        raise CorruptDocumentError(
            f"The Word document {context.filename!r} is damaged and cannot be opened; "
            "open and save it again in Word, then upload it again."
        ) from error

    parsed = ParsedDocument(context.filename, "docx")
    title = document.core_properties.title
    if title:
        parsed.metadata["title"] = title
    headings: list[tuple[int, str]] = []
    _walk(document.element.body, document, parsed.blocks, headings)
    context.progress(1.0, "Document read.")
    return parsed


def _walk(container, document, blocks: list[Block], headings: list[tuple[int, str]]) -> None:
    for element in container.iterchildren():
        if element.tag == qn("w:p"):
            _add_paragraph(Paragraph(element, document), blocks, headings)
        elif element.tag == qn("w:tbl"):
            rows = _table_rows(element)
            if rows:
                path = tuple(title for _, title in headings)
                blocks.append(Block(BlockKind.TABLE, grid_text(rows), heading_path=path, rows=rows))
        elif element.tag == qn("w:sdt"):
            content = element.find(qn("w:sdtContent"))
            if content is not None:
                _walk(content, document, blocks, headings)


def _add_paragraph(paragraph: Paragraph, blocks: list[Block], headings: list[tuple[int, str]]) -> None:
    text = paragraph.text.strip()
    if not text:
        return
    level = _heading_level(paragraph)
    path = tuple(title for _, title in headings)
    if not level:
        blocks.append(Block(BlockKind.TEXT, text, heading_path=path))
        return
    while headings and headings[-1][0] >= level:
        headings.pop()
    path = tuple(title for _, title in headings)
    blocks.append(Block(BlockKind.HEADING, text, heading_path=path, level=level))
    headings.append((level, text))


def _heading_level(paragraph: Paragraph) -> int:
    try:
        style_name = (paragraph.style.name or "") if paragraph.style is not None else ""
    except (KeyError, ValueError):
        style_name = ""
    if style_name.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(style_name.strip())
    if match:
        return max(1, int(match.group(1)))
    outline = paragraph._p.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
    if outline is not None:
        value = outline.get(qn("w:val"), "")
        # Level 9 means "body text" in Word's outline levels.
        if value.isdigit() and int(value) < 9:
            return int(value) + 1
    return 0


def _table_rows(table) -> list[list[str]]:
    """Return the grid of a w:tbl element; merged cells keep their text in the top-left slot only."""
    rows = []
    for row in table.iterchildren(qn("w:tr")):
        cells: list[str] = []
        for cell in row.iterchildren(qn("w:tc")):
            properties = cell.find(qn("w:tcPr"))
            span = 1
            continued = False
            if properties is not None:
                grid_span = properties.find(qn("w:gridSpan"))
                if grid_span is not None and (grid_span.get(qn("w:val")) or "").isdigit():
                    span = max(1, int(grid_span.get(qn("w:val"))))
                vertical = properties.find(qn("w:vMerge"))
                # A vMerge without val="restart" continues the cell above.
                continued = vertical is not None and vertical.get(qn("w:val")) != "restart"
            text = "" if continued else _cell_text(cell)
            cells.append(text)
            cells.extend([""] * (span - 1))
        if any(cells):
            rows.append(cells)
    return rows


def _cell_text(cell) -> str:
    parts = []
    for element in cell.iterchildren():
        if element.tag == qn("w:p"):
            text = "".join(node.text or "" for node in element.iter(qn("w:t")))
            if text.strip():
                parts.append(text.strip())
        elif element.tag == qn("w:tbl"):
            nested = _table_rows(element)
            parts.append("; ".join(" | ".join(cell for cell in row if cell) for row in nested))
    return " ".join(part for part in parts if part)
