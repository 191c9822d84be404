"""PPTX presentations through python-pptx: one group of blocks per slide, with speaker notes."""

import io
import logging
import zipfile

from lxml import etree
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.exc import PackageNotFoundError

from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, NoticeCode, ParsedDocument
from documents.parsers.errors import CorruptDocumentError
from documents.parsers.tabular import grid_text

logger = logging.getLogger(__name__)

_TITLE_TYPES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)


def parse_pptx(context: ParseContext) -> ParsedDocument:
    try:
        presentation = Presentation(io.BytesIO(context.data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as error:
        logger.warning("python-pptx rejected %s: %s", context.filename, error)
        raise CorruptDocumentError(
            f"The presentation {context.filename!r} is damaged and cannot be opened; "
            "open and save it again in PowerPoint, then upload it again."
        ) from error

    parsed = ParsedDocument(context.filename, "pptx")
    slides = list(presentation.slides)
    parsed.unit_count = len(slides)
    skipped = 0
    for number, slide in enumerate(slides, start=1):
        context.check_cancelled()
        title = ""
        blocks: list[Block] = []
        for shape in _ordered(_flatten(slide.shapes)):
            try:
                if _is_title(shape):
                    title = shape.text_frame.text.strip()
                    continue
                block = _shape_block(shape, number)
            except (AttributeError, KeyError, ValueError, TypeError, NotImplementedError) as error:
                # python-pptx raises on shapes with unusual or broken XML; the slide's other
                # shapes are still read.
                logger.info("Shape skipped on slide %d of %s: %s", number, context.filename, error)
                skipped += 1
                continue
            if block is not None:
                blocks.append(block)

        notes = _notes_text(slide)
        if notes:
            blocks.append(Block(BlockKind.TEXT, f"Notes: {notes}", page=number))
        path = (title,) if title else ()
        if title:
            parsed.blocks.append(Block(BlockKind.HEADING, title, page=number, level=1))
        for block in blocks:
            block.heading_path = path
            parsed.blocks.append(block)
        context.progress(number / max(1, len(slides)), f"Slide {number} read.")

    if skipped:
        parsed.add_notice(NoticeCode.CONTENT_SKIPPED, f"{skipped} shapes could not be read and were skipped.")
    return parsed


def _flatten(shapes):
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _flatten(shape.shapes)
        else:
            yield shape


def _ordered(shapes):
    """Sort shapes top to bottom, then left to right; shapes without a position keep their order."""
    shapes = list(shapes)
    return sorted(shapes, key=lambda shape: ((shape.top or 0), (shape.left or 0)))


def _is_title(shape) -> bool:
    return bool(
        shape.is_placeholder
        and shape.has_text_frame
        and shape.placeholder_format.type in _TITLE_TYPES
        and shape.text_frame.text.strip()
    )


def _shape_block(shape, number: int) -> Block | None:
    if shape.has_table if hasattr(shape, "has_table") else False:
        rows = []
        for row in shape.table.rows:
            cells = [" ".join(cell.text.split()) for cell in row.cells]
            if any(cells):
                rows.append(cells)
        return Block(BlockKind.TABLE, grid_text(rows), page=number, rows=rows) if rows else None
    if getattr(shape, "has_chart", False) and shape.has_chart:
        chart = shape.chart
        if chart.has_title and chart.chart_title.has_text_frame:
            title = chart.chart_title.text_frame.text.strip()
            return Block(BlockKind.TEXT, f"Chart: {title}", page=number) if title else None
        return None
    if shape.has_text_frame:
        lines = [paragraph.text.strip() for paragraph in shape.text_frame.paragraphs]
        text = "\n".join(line for line in lines if line)
        return Block(BlockKind.TEXT, text, page=number) if text else None
    return None


def _notes_text(slide) -> str:
    if not slide.has_notes_slide:
        return ""
    frame = slide.notes_slide.notes_text_frame
    return frame.text.strip() if frame is not None else ""
