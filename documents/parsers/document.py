"""The result of parsing one file: an ordered list of blocks plus notices for the uploader."""

from dataclasses import dataclass, field
from enum import StrEnum


class BlockKind(StrEnum):
    HEADING = "heading"
    TEXT = "text"
    TABLE = "table"
    # One data row of a spreadsheet or CSV file, with its column names in ``Block.columns``.
    ROW = "row"
    # One JSON value: an element of a top-level array, one JSONL line, or a whole JSON document.
    RECORD = "record"


class NoticeCode(StrEnum):
    OCR_UNAVAILABLE = "ocr_unavailable"
    OCR_FAILED = "ocr_failed"
    NO_TEXT = "no_text"
    ROWS_LIMITED = "rows_limited"
    CONTENT_SKIPPED = "content_skipped"
    ENCODING_GUESSED = "encoding_guessed"


@dataclass(frozen=True)
class Notice:
    """Something the uploader should know about a parse that still returned a result."""

    code: NoticeCode
    message: str


@dataclass
class Block:
    """One unit of content in reading order.

    ``page`` is 1-based: the PDF page, the slide, or the EPUB part; it is None where the format has
    no pages. ``positions`` contains ``[page, x0, x1, top, bottom]`` boxes from the top-left
    corner, in PDF points (1/72 inch) for PDF pages and in pixels for OCR of images. ``heading_path`` lists the headings that
    enclose the block, outermost first, and excludes the block itself.
    """

    kind: BlockKind
    text: str
    page: int | None = None
    positions: list[list[int]] = field(default_factory=list)
    heading_path: tuple[str, ...] = ()
    # Heading depth, 1 for the outermost level; 0 for blocks that are not headings.
    level: int = 0
    # TABLE: the cell grid, first row first; merged cells appear once, in their top-left slot.
    rows: list[list[str]] | None = None
    # ROW: the column names and the cell values, in sheet order and of equal length.
    columns: list[str] | None = None
    values: list[str] | None = None
    # ROW: the sheet name, for workbooks; RECORD: the JSON value itself.
    sheet: str | None = None
    record: object = None


@dataclass
class ParsedDocument:
    """Everything one parse call found.

    ``unit_count`` is the size of the whole file in the unit that ``from_page``/``to_page`` select:
    PDF pages, spreadsheet data rows, or None for formats that are always parsed whole. The worker
    uses it to split a file into page-range or row-range tasks.
    """

    filename: str
    format: str
    blocks: list[Block] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    metadata: dict[str, object] = field(default_factory=dict)
    unit_count: int | None = None
    from_page: int = 0
    to_page: int | None = None

    def add_notice(self, code: NoticeCode, message: str) -> None:
        self.notices.append(Notice(code, message))

    def has_notice(self, code: NoticeCode) -> bool:
        return any(notice.code == code for notice in self.notices)

    @property
    def text(self) -> str:
        """The text of every block, one block per paragraph."""
        return "\n\n".join(block.text for block in self.blocks if block.text.strip())
