"""Parse uploaded files into ParsedDocument objects, with no Django or database dependency.

Entry points:

* ``parse(source, filename, ...)`` returns a ParsedDocument or raises a DocumentParseError
  subclass with a message for the uploader.
* ``count_units(source, filename)`` returns the PDF page count or the spreadsheet data row count,
  for splitting a file into page-range or row-range tasks, and None for other formats.

``from_page`` and ``to_page`` are 0-based and ``to_page`` is exclusive (None, or any value past the
end, reads to the end). They select PDF pages, or data rows of CSV and spreadsheet files, counted
across all sheets without header rows. Every other format is always parsed whole. Cancellation
works through ``cancel``, a callable that raises its own exception when the task was cancelled;
parsers call it between pages, sheets and row batches and let the exception propagate.
"""

import logging
import os
from collections.abc import Callable
from pathlib import Path

from documents.parsers.context import DEFAULT_MAX_ROWS, ParseContext
from documents.parsers.delimited import parse_delimited
from documents.parsers.document import Block, BlockKind, Notice, NoticeCode, ParsedDocument
from documents.parsers.email_message import parse_email
from documents.parsers.epub import parse_epub
from documents.parsers.errors import (
    CorruptDocumentError,
    DocumentParseError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    MislabelledDocumentError,
    TruncatedDocumentError,
    UnsupportedFormatError,
)
from documents.parsers.excel import parse_xlsx
from documents.parsers.excel97 import parse_xls
from documents.parsers.image import parse_image
from documents.parsers.json_records import parse_json
from documents.parsers.legacy import parse_doc, parse_ppt
from documents.parsers.markup import parse_html
from documents.parsers.pdf import parse_pdf
from documents.parsers.powerpoint import parse_pptx
from documents.parsers.sniff import KIND_NAMES, sniff_kind
from documents.parsers.text import parse_text
from documents.parsers.word import parse_docx

__all__ = [
    "Block",
    "BlockKind",
    "CorruptDocumentError",
    "DocumentParseError",
    "DocumentTooLargeError",
    "EmptyDocumentError",
    "EncryptedDocumentError",
    "MislabelledDocumentError",
    "Notice",
    "NoticeCode",
    "ParsedDocument",
    "TruncatedDocumentError",
    "UnsupportedFormatError",
    "count_units",
    "parse",
    "supported_suffixes",
]

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset(
    "txt md mdx markdown text log ini yml yaml xml sql py js ts java c cpp h php go sh cs kt".split()
)
IMAGE_SUFFIXES = frozenset("jpg jpeg png tif tiff gif bmp webp".split())

# Parser and the sniffed kinds its bytes may have; None stands for "no binary signature" (text).
_PARSERS: dict[str, tuple[Callable[[ParseContext], ParsedDocument], frozenset]] = {
    "pdf": (parse_pdf, frozenset({"pdf"})),
    "docx": (parse_docx, frozenset({"docx"})),
    "doc": (parse_doc, frozenset({"doc"})),
    "xlsx": (parse_xlsx, frozenset({"xlsx"})),
    "xlsm": (parse_xlsx, frozenset({"xlsx"})),
    "xls": (parse_xls, frozenset({"xls"})),
    "pptx": (parse_pptx, frozenset({"pptx"})),
    "ppt": (parse_ppt, frozenset({"ppt"})),
    "csv": (parse_delimited, frozenset({None})),
    "tsv": (parse_delimited, frozenset({None})),
    "html": (parse_html, frozenset({None})),
    "htm": (parse_html, frozenset({None})),
    "json": (parse_json, frozenset({None})),
    "jsonl": (parse_json, frozenset({None})),
    "ldjson": (parse_json, frozenset({None})),
    "ndjson": (parse_json, frozenset({None})),
    "eml": (parse_email, frozenset({None})),
    "epub": (parse_epub, frozenset({"epub"})),
}
for _suffix in TEXT_SUFFIXES:
    _PARSERS[_suffix] = (parse_text, frozenset({None}))
for _suffix in IMAGE_SUFFIXES:
    _PARSERS[_suffix] = (parse_image, frozenset({"png", "jpeg", "gif", "tiff", "bmp", "webp"}))

_ZIP_SUFFIXES = frozenset({"docx", "xlsx", "xlsm", "pptx", "epub"})
_ROW_FORMATS = frozenset({"csv", "tsv", "xlsx", "xlsm", "xls"})


def supported_suffixes() -> frozenset[str]:
    """Return the file extensions, without dots, that ``parse`` reads."""
    return frozenset(_PARSERS)


def parse(
    source: bytes | str | os.PathLike,
    filename: str | None = None,
    *,
    from_page: int = 0,
    to_page: int | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: Callable[[], None] | None = None,
    ocr: bool = True,
    ocr_languages: str = "eng+chi_sim",
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ParsedDocument:
    """Parse one file into blocks in reading order.

    ``source`` is the file's bytes or a path; ``filename`` (default: the path's name) picks the
    parser by extension. ``progress(fraction, message)`` receives values from 0 to 1. Raises a
    DocumentParseError subclass for files that cannot be read; scanned pages without OCR give a
    result with no blocks and a NoticeCode.OCR_UNAVAILABLE notice instead.
    """
    data, filename = _read(source, filename)
    suffix = _suffix(filename)
    if suffix not in _PARSERS:
        raise UnsupportedFormatError(
            f"Files of type .{suffix or '(none)'} are not supported: {filename!r}. "
            f"Supported types: {', '.join(sorted(_PARSERS))}."
        )
    if not data:
        raise EmptyDocumentError(f"The file {filename!r} is empty (0 bytes); upload a file with content.")

    parser, kinds = _PARSERS[suffix]
    kind = sniff_kind(data)
    parser = _check_kind(filename, suffix, kind, kinds, parser, data)
    context = ParseContext(
        data=data,
        filename=filename,
        suffix=suffix,
        from_page=max(0, from_page),
        to_page=to_page,
        progress_callback=progress,
        cancel_check=cancel,
        ocr=ocr,
        ocr_languages=ocr_languages,
        max_rows=max_rows,
    )
    context.progress(0.0, "Parsing started.")
    try:
        parsed = parser(context)
    except RecursionError as error:
        # Deeply nested markup or JSON can exhaust the interpreter stack in library code.
        logger.warning("Parsing %s exceeded the recursion limit", filename)
        raise DocumentTooLargeError(
            f"The file {filename!r} is nested too deeply to parse; simplify its structure and upload it again."
        ) from error
    parsed.blocks = [block for block in parsed.blocks if block.text.strip()]
    if not parsed.blocks and not parsed.notices:
        parsed.add_notice(NoticeCode.NO_TEXT, f"No text was found in {filename!r}.")
    return parsed


def count_units(source: bytes | str | os.PathLike, filename: str | None = None) -> int | None:
    """Return the PDF page count or spreadsheet data row count, or None for other formats.

    Raises the same DocumentParseError subclasses as ``parse``.
    """
    data, filename = _read(source, filename)
    suffix = _suffix(filename)
    if suffix != "pdf" and suffix not in _ROW_FORMATS:
        return None
    # An empty window reads the structure (page tree, every row) without extracting content.
    return parse(data, filename, from_page=0, to_page=0).unit_count


def _read(source: bytes | str | os.PathLike, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not filename:
            raise ValueError("filename is required when source is bytes")
        return bytes(source), filename
    path = Path(source)
    return path.read_bytes(), filename or path.name


def _suffix(filename: str) -> str:
    stem, dot, suffix = filename.rpartition(".")
    return suffix.lower() if dot and stem else ""


def _check_kind(filename, suffix, kind, kinds, parser, data):
    """Return the parser for the bytes, or raise when they do not match the extension."""
    if kind in kinds:
        return parser
    if kind == "encrypted_ooxml":
        raise EncryptedDocumentError(
            f"The file {filename!r} is protected with a password; remove the password and upload it again."
        )
    if kind == "broken_zip" and suffix in _ZIP_SUFFIXES:
        if b"PK\x05\x06" not in data[-65536:]:
            # The end-of-central-directory record closes every ZIP file; without it the file was cut.
            raise TruncatedDocumentError(
                f"The file {filename!r} is incomplete: it ends before its last section. "
                "Upload the complete file again."
            )
        raise CorruptDocumentError(
            f"The file {filename!r} is damaged: its ZIP container cannot be read. "
            "Open and save it again, then upload it again."
        )
    if kind == "cfb" and suffix in ("doc", "xls", "ppt"):
        raise CorruptDocumentError(
            f"The file {filename!r} is damaged: its Office 97-2003 container cannot be read. "
            "Open and save it again in an office program, then upload it again."
        )
    if suffix == "xls" and kind is None:
        # Web applications often export HTML or CSV under an .xls name, and Excel opens those.
        head = data[:1024].lstrip().lower()
        return parse_html if head.startswith((b"<", b"\xef\xbb\xbf<")) else parse_delimited
    real = KIND_NAMES.get(kind, "data of another format") if kind else "text or data of an unknown format"
    logger.info("%s is named .%s but contains %s", filename, suffix, real)
    raise MislabelledDocumentError(
        f"The file {filename!r} is named .{suffix} but contains {real}; "
        "rename it with the right extension and upload it again."
    )
