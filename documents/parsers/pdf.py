"""PDF files through pdfium: text in reading order, headings, ruled tables, OCR for scans."""

import bisect
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytesseract

from documents.parsers import ocr
from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, NoticeCode, ParsedDocument
from documents.parsers.errors import (
    CorruptDocumentError,
    EncryptedDocumentError,
    TruncatedDocumentError,
)
from documents.parsers.pdf_page import UNMAPPED_GLYPH, PageContent, read_page
from documents.parsers.tabular import grid_text

logger = logging.getLogger(__name__)

# pdfium is not thread-safe (pypdfium2 documentation), and Django's development server runs
# requests in threads, so the PDF parses of one process take turns.
_PDFIUM_LOCK = threading.Lock()

# Words whose tops differ by at most this many points belong to one line (about a quarter of
# a 12 pt line height, which absorbs superscripts and baseline jitter).
LINE_TOLERANCE = 3.0
# A horizontal gap narrower than this (points) is a space between words, not a column gutter.
# Inter-word gaps are 2-4 pt at body sizes, and gutters are 10 pt or more.
GUTTER_MIN_WIDTH = 8.0
# A page is read as two columns only if at most this share of its lines cross the gutter
# (titles, full-width figure captions) and each side has text on at least MIN_SIDE_SHARE.
GUTTER_MAX_CROSSING = 0.15
MIN_SIDE_SHARE = 0.25
# A line counts as a heading when its font is this much larger than the body font; 15 % separates
# 10 pt body text from 11.5 pt or larger headings while ignoring rounding noise between fonts.
HEADING_SIZE_RATIO = 1.15
# Headings are short; a line this long at a large size is a pull quote or a title page paragraph.
HEADING_MAX_WORDS = 20
# Horizontal gap between characters, as a share of the font size, above which a new word starts.
# pdfplumber's default absolute 3 pt joins words in PDFs that position words without space
# characters (TeX output, CJK documents); 0.15 of a 10 pt font (1.5 pt) keeps them apart.
WORD_GAP_RATIO = 0.15
# Pages with fewer characters than this in their text layer are treated as scanned images.
MIN_TEXT_CHARS = 10
# Resolution for rendering scanned pages for OCR: 300 dpi is Tesseract's recommended input.
OCR_DPI = 300
POINTS_PER_INCH = 72


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    page: int
    table: list[list[str]] | None = None
    words: list[dict] = field(default_factory=list)


def parse_pdf(context: ParseContext) -> ParsedDocument:
    parsed = ParsedDocument(context.filename, "pdf", from_page=context.from_page, to_page=context.to_page)
    with _PDFIUM_LOCK:
        document = _open(context)
        try:
            page_lines = _read_pages(context, parsed, document)
        finally:
            document.close()
    parsed.blocks = _blocks(page_lines)
    context.progress(1.0, "PDF read.")
    return parsed


def _read_pages(
    context: ParseContext, parsed: ParsedDocument, document: pypdfium2.PdfDocument
) -> list[list[_Line]]:
    """Return the lines of each page in the context's window, with scanned pages recognised by OCR."""
    page_count = len(document)
    parsed.unit_count = page_count
    parsed.metadata["page_count"] = page_count
    window = context.page_window(page_count)
    page_lines: list[list[_Line]] = []
    scanned_pages: list[int] = []
    for position, index in enumerate(window):
        context.check_cancelled()
        content = _read_page(context, parsed, document, index)
        lines = [] if content is None else _page_lines(content, index + 1)
        if sum(len(line.text) for line in lines) < MIN_TEXT_CHARS:
            scanned_pages.append(index)
        else:
            page_lines.append(lines)
        context.progress(0.8 * (position + 1) / max(1, len(window)), f"Page {index + 1} read.")

    if scanned_pages:
        page_lines.extend(_ocr_pages(context, parsed, document, scanned_pages))
        page_lines.sort(key=lambda lines: lines[0].page if lines else 0)
    return page_lines


def _read_page(
    context: ParseContext, parsed: ParsedDocument, document: pypdfium2.PdfDocument, index: int
) -> PageContent | None:
    """Return the words and tables of one page, or None and a notice when it cannot be read."""
    page = None
    try:
        page = document[index]
        return read_page(page, WORD_GAP_RATIO)
    except pypdfium2.PdfiumError as error:
        # pdfium raises this for a page it cannot load, and the other pages are still read.
        logger.warning("Page %d of %s unreadable: %s", index + 1, context.filename, error)
        parsed.add_notice(NoticeCode.CONTENT_SKIPPED, f"Page {index + 1} could not be read.")
        return None
    finally:
        if page is not None:
            page.close()


def _open(context: ParseContext) -> pypdfium2.PdfDocument:
    try:
        return pypdfium2.PdfDocument(context.data)
    except pypdfium2.PdfiumError as error:
        raise _classify_error(context, error) from error


def _classify_error(context: ParseContext, error: pypdfium2.PdfiumError):
    logger.warning("pdfium rejected %s: %s", context.filename, error)
    # FPDF_ERR_SECURITY means an encryption scheme that pdfium does not support, and removing the
    # password fixes that too.
    if getattr(error, "err_code", None) in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
        return EncryptedDocumentError(
            f"The PDF {context.filename!r} is encrypted with a password; "
            "remove the password and upload it again."
        )
    if b"%%EOF" not in context.data[-2048:]:
        return TruncatedDocumentError(
            f"The PDF {context.filename!r} is incomplete: it ends before its last section. "
            "Upload the complete file again."
        )
    return CorruptDocumentError(
        f"The PDF {context.filename!r} is damaged and cannot be read; "
        "save it again from the program that made it and upload it again."
    )


def _page_lines(content: PageContent, page_number: int) -> list[_Line]:
    """Return the page's text lines and tables in reading order, with two-column pages handled."""
    tables = content.tables
    table_boxes = [table.bbox for table in tables]
    words = [word for word in content.words if not any(_inside(word, box) for box in table_boxes)]
    raw_lines = _group_lines(words)

    items: list[list[dict]] = raw_lines
    table_lines = []
    for table in tables:
        rows = []
        for raw_row in table.rows:
            cells = [(cell or "").replace(UNMAPPED_GLYPH, "") for cell in raw_row]
            for row in _split_stacked_row(cells):
                if any(row):
                    rows.append(row)
        if rows:
            x0, top, x1, bottom = table.bbox
            table_lines.append(
                _Line(grid_text(rows), x0, x1, top, bottom, 0.0, page_number, table=rows)
            )

    gutter = _find_gutter(items, content.width)
    ordered: list[_Line] = []
    left: list[_Line] = []
    right: list[_Line] = []
    sequence = [(_line_top(words_in_line), "words", words_in_line) for words_in_line in items]
    sequence += [(line.top, "table", line) for line in table_lines]
    sequence.sort(key=lambda entry: entry[0])

    for _, kind, payload in sequence:
        if kind == "table":
            line = payload
            if gutter is not None and line.x1 <= gutter:
                left.append(line)
            elif gutter is not None and line.x0 >= gutter:
                right.append(line)
            else:
                ordered += left + right + [line]
                left, right = [], []
            continue
        if gutter is None or _LineSpan(payload).blocks(gutter):
            ordered += left + right + [_make_line(payload, page_number)]
            left, right = [], []
            continue
        left_words = [word for word in payload if word["x1"] <= gutter]
        right_words = [word for word in payload if word["x0"] >= gutter]
        if left_words:
            left.append(_make_line(left_words, page_number))
        if right_words:
            right.append(_make_line(right_words, page_number))
    return ordered + left + right


def _split_stacked_row(cells: list[str]) -> list[list[str]]:
    """Split a table row whose cells all hold the same number of lines into one row per line.

    Tables that rule only every few rows come out of pdfplumber with several data rows stacked
    in one cell row. Equal line counts in every non-empty cell show that they are separate rows.
    """
    lines = [cell.split("\n") for cell in cells]
    filled = [len(cell_lines) for cell, cell_lines in zip(cells, lines) if cell.strip()]
    counts = set(filled)
    if len(filled) < 2 or len(counts) != 1 or counts == {1}:
        return [[" ".join(cell.split()) for cell in cells]]
    count = counts.pop()
    return [
        [" ".join(cell_lines[index].split()) if cell.strip() else "" for cell, cell_lines in zip(cells, lines)]
        for index in range(count)
    ]


def _inside(word: dict, box: tuple) -> bool:
    x0, top, x1, bottom = box
    middle_x = (word["x0"] + word["x1"]) / 2
    middle_y = (word["top"] + word["bottom"]) / 2
    return x0 <= middle_x <= x1 and top <= middle_y <= bottom


def _group_lines(words: list[dict]) -> list[list[dict]]:
    lines: list[list[dict]] = []
    for word in sorted(words, key=lambda word: (word["top"], word["x0"])):
        if lines and abs(word["top"] - lines[-1][0]["top"]) <= LINE_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [sorted(line, key=lambda word: word["x0"]) for line in lines]


def _line_top(words: list[dict]) -> float:
    return min(word["top"] for word in words)


class _LineSpan:
    """The word extents of one text line, sorted so that gutter tests at many x positions are cheap."""

    def __init__(self, words: list[dict]):
        self.starts = sorted(word["x0"] for word in words)
        self.ends = sorted(word["x1"] for word in words)
        # The words' open intervals (x0, x1), merged where they overlap, so that one bisection
        # finds whether x lies inside a word.
        self.run_starts: list[float] = []
        self.run_ends: list[float] = []
        for word in sorted(words, key=lambda word: word["x0"]):
            if word["x0"] >= word["x1"]:
                continue
            if self.run_ends and word["x0"] < self.run_ends[-1]:
                self.run_ends[-1] = max(self.run_ends[-1], word["x1"])
            else:
                self.run_starts.append(word["x0"])
                self.run_ends.append(word["x1"])

    def blocks(self, x: float) -> bool:
        """Return True when the line has text at ``x`` or only a word space around it."""
        run = bisect.bisect_left(self.run_starts, x) - 1
        if run >= 0 and x < self.run_ends[run]:
            return True
        ends_before = bisect.bisect_right(self.ends, x)
        first_start_after = bisect.bisect_left(self.starts, x)
        if ends_before == 0 or first_start_after == len(self.starts):
            return False
        return self.starts[first_start_after] - self.ends[ends_before - 1] < GUTTER_MIN_WIDTH


def _find_gutter(lines: list[list[dict]], width: float) -> float | None:
    """Return the x of a two-column gutter between 30 % and 70 % of the width, or None.

    Among the x positions where few enough lines cross and both sides have text, the one crossed
    by the fewest lines wins, and ties go to the position nearest the middle of the page.
    """
    if len(lines) < 6:
        return None
    spans = [_LineSpan(line) for line in lines]
    # A line has text left of x when its first word end is at or before x, and text right of x
    # when its last word start is at or after x.
    first_ends = sorted(span.ends[0] for span in spans)
    last_starts = sorted(span.starts[-1] for span in spans)
    max_crossing = GUTTER_MAX_CROSSING * len(lines)
    min_side = MIN_SIDE_SHARE * len(lines)
    best: tuple[int, float, float] | None = None
    step = 2.0
    x = width * 0.3
    while x <= width * 0.7:
        left = bisect.bisect_right(first_ends, x)
        right = len(last_starts) - bisect.bisect_left(last_starts, x)
        if left >= min_side and right >= min_side:
            # A position crossed by more lines than the best one so far cannot win.
            limit = max_crossing if best is None else min(max_crossing, best[0])
            crossing = _count_crossing(spans, x, limit)
            if crossing <= max_crossing:
                candidate = (crossing, abs(x - width / 2), x)
                if best is None or candidate < best:
                    best = candidate
        x += step
    return None if best is None else best[2]


def _count_crossing(spans: list[_LineSpan], x: float, limit: float) -> int:
    """Count the lines that block ``x``, stopping as soon as the count passes ``limit``."""
    crossing = 0
    for span in spans:
        if span.blocks(x):
            crossing += 1
            if crossing > limit:
                break
    return crossing


def _make_line(words: list[dict], page_number: int) -> _Line:
    words = [dict(word, text=word["text"].replace(UNMAPPED_GLYPH, "")) for word in words]
    words = [word for word in words if word["text"]] or words[:1]
    text = words[0]["text"]
    for previous, word in zip(words, words[1:]):
        separator = "" if _is_cjk(previous["text"][-1:]) and _is_cjk(word["text"][:1]) else " "
        text += separator + word["text"]
    sizes = Counter()
    for word in words:
        sizes[round(float(word.get("size", 0)), 1)] += len(word["text"])
    return _Line(
        text=text,
        x0=min(word["x0"] for word in words),
        x1=max(word["x1"] for word in words),
        top=min(word["top"] for word in words),
        bottom=max(word["bottom"] for word in words),
        size=sizes.most_common(1)[0][0],
        page=page_number,
    )


def _is_cjk(char: str) -> bool:
    if not char:
        return False
    code = ord(char)
    return 0x3000 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def _ocr_pages(
    context: ParseContext, parsed: ParsedDocument, document: pypdfium2.PdfDocument, indexes: list[int]
) -> list[list[_Line]]:
    """Recognise the text of image-only pages, or add the notice saying why that is not possible."""
    if not context.ocr:
        parsed.add_notice(NoticeCode.NO_TEXT, f"{len(indexes)} pages have no text layer and OCR is off.")
        return []
    try:
        languages = ocr.available_languages(context.ocr_languages)
    except ocr.OcrUnavailable as error:
        logger.info("No OCR for %s: %s", context.filename, error)
        parsed.add_notice(
            NoticeCode.OCR_UNAVAILABLE,
            f"{len(indexes)} pages are scanned images without text, and OCR is not installed "
            "on the server (Tesseract), so their text was not read.",
        )
        return []

    result = []
    for position, index in enumerate(indexes):
        context.check_cancelled()
        try:
            page = document[index]
        except pypdfium2.PdfiumError as error:
            logger.warning("Page %d of %s cannot be rendered for OCR: %s", index + 1, context.filename, error)
            parsed.add_notice(NoticeCode.OCR_FAILED, f"Page {index + 1} could not be rendered for OCR.")
            continue
        image = page.render(scale=OCR_DPI / POINTS_PER_INCH).to_pil()
        page.close()
        try:
            ocr_lines = ocr.recognise_lines(image, languages, context.ocr_timeout)
        except (RuntimeError, pytesseract.TesseractError) as error:
            logger.warning("OCR failed on page %d of %s: %s", index + 1, context.filename, error)
            parsed.add_notice(NoticeCode.OCR_FAILED, f"OCR failed or timed out on page {index + 1}.")
            continue
        scale = POINTS_PER_INCH / OCR_DPI
        result.append(
            [
                _Line(line.text, line.left * scale, line.right * scale, line.top * scale,
                      line.bottom * scale, 0.0, index + 1)
                for line in ocr_lines
            ]
        )
        context.progress(0.8 + 0.2 * (position + 1) / len(indexes), f"Page {index + 1} recognised.")
    parsed.metadata["ocr_pages"] = [index + 1 for index in indexes]
    return result


def _blocks(page_lines: list[list[_Line]]) -> list[Block]:
    """Group lines into paragraphs, headings and tables, tracking the heading path across pages."""
    sizes = Counter()
    for lines in page_lines:
        for line in lines:
            if line.table is None and line.size:
                sizes[round(line.size * 2) / 2] += len(line.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    heading_sizes = sorted(
        {size for size in sizes if body_size and size >= body_size * HEADING_SIZE_RATIO}, reverse=True
    )

    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    paragraph: list[_Line] = []

    def path() -> tuple[str, ...]:
        return tuple(title for _, title in headings)

    def flush() -> None:
        if paragraph:
            blocks.append(
                Block(BlockKind.TEXT, _join_lines(paragraph), page=paragraph[0].page,
                      positions=_positions(paragraph), heading_path=path())
            )
            paragraph.clear()

    for lines in page_lines:
        for line in lines:
            if line.table is not None:
                flush()
                blocks.append(
                    Block(BlockKind.TABLE, line.text, page=line.page, positions=_positions([line]),
                          heading_path=path(), rows=line.table)
                )
                continue
            level = _heading_level(line, heading_sizes)
            if level:
                flush()
                previous = blocks[-1] if blocks else None
                if (previous is not None and previous.kind == BlockKind.HEADING and previous.level == level
                        and previous.page == line.page and headings and headings[-1][1] == previous.text):
                    # A heading wrapped over two lines: extend it instead of nesting it.
                    previous.text = f"{previous.text} {line.text}"
                    previous.positions += _positions([line])
                    headings[-1] = (level, previous.text)
                    continue
                while headings and headings[-1][0] >= level:
                    headings.pop()
                blocks.append(Block(BlockKind.HEADING, line.text, page=line.page,
                                    positions=_positions([line]), heading_path=path(), level=level))
                headings.append((level, line.text))
                continue
            if paragraph and not _continues(paragraph[-1], line):
                flush()
            paragraph.append(line)
        flush()
    return blocks


def _heading_level(line: _Line, heading_sizes: list[float]) -> int:
    size = round(line.size * 2) / 2
    if size not in heading_sizes or len(line.text.split()) > HEADING_MAX_WORDS:
        return 0
    if sum(1 for char in line.text if char.isalnum()) < 2:
        return 0
    return min(6, heading_sizes.index(size) + 1)


def _continues(previous: _Line, line: _Line) -> bool:
    """Return True when ``line`` belongs to the paragraph that ``previous`` ends."""
    if line.page != previous.page:
        return False
    height = max(1.0, previous.bottom - previous.top)
    gap = line.top - previous.bottom
    same_size = abs(line.size - previous.size) <= 1.0
    # Paragraph spacing is typically at least half a line; line spacing is well under that.
    return -height < gap <= 0.6 * height and same_size


def _join_lines(lines: list[_Line]) -> str:
    text = lines[0].text
    for line in lines[1:]:
        if text.endswith("-") and line.text[:1].islower():
            text = text[:-1] + line.text
        elif _is_cjk(text[-1:]) and _is_cjk(line.text[:1]):
            text += line.text
        else:
            text += " " + line.text
    return text


def _positions(lines: list[_Line]) -> list[list[int]]:
    return [[line.page, round(line.x0), round(line.x1), round(line.top), round(line.bottom)] for line in lines]
