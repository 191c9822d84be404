"""XLSX workbooks through openpyxl: every sheet, the first non-empty row as the header."""

import io
import logging
import zipfile

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from documents.parsers.cells import display_value
from documents.parsers.context import ParseContext
from documents.parsers.document import ParsedDocument
from documents.parsers.errors import CorruptDocumentError
from documents.parsers.tabular import add_table_rows, limited

logger = logging.getLogger(__name__)


def parse_xlsx(context: ParseContext) -> ParsedDocument:
    try:
        # read_only streams rows from the archive instead of building every cell object first.
        workbook = load_workbook(io.BytesIO(context.data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        logger.warning("openpyxl rejected %s: %s", context.filename, error)
        raise CorruptDocumentError(
            f"The workbook {context.filename!r} is damaged and cannot be opened; "
            "open and save it again in a spreadsheet program, then upload it again."
        ) from error

    parsed = ParsedDocument(context.filename, "xlsx", from_page=context.from_page, to_page=context.to_page)
    total_rows = 0
    try:
        sheets = workbook.worksheets
        for number, sheet in enumerate(sheets):
            rows = (_row_text(row) for row in sheet.iter_rows())
            total_rows += add_table_rows(
                parsed, context, limited(rows, context.max_rows * 10), sheet.title, total_rows
            )
            context.progress((number + 1) / len(sheets), f"Sheet {sheet.title!r} read.")
    finally:
        workbook.close()
    parsed.unit_count = total_rows
    parsed.metadata["sheets"] = [sheet.title for sheet in sheets]
    return parsed


def _row_text(row) -> list[str]:
    cells = []
    for cell in row:
        value = getattr(cell, "value", None)
        number_format = getattr(cell, "number_format", "General")
        cells.append(display_value(value, number_format))
    return cells
