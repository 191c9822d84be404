"""XLS (Excel 97-2003) workbooks through xlrd."""

import logging

import xlrd
from xlrd.compdoc import CompDocError

from documents.parsers.cells import display_value
from documents.parsers.context import ParseContext
from documents.parsers.document import ParsedDocument
from documents.parsers.errors import CorruptDocumentError, EncryptedDocumentError
from documents.parsers.tabular import add_table_rows

logger = logging.getLogger(__name__)


def parse_xls(context: ParseContext) -> ParsedDocument:
    try:
        # NOTE: number formats need formatting_info=True, which is not enabled here, so numbers
        # show in General format (no thousands separators or percent signs). Dates are still
        # recognised by their cell type.
        book = xlrd.open_workbook(file_contents=context.data, on_demand=True)
    except xlrd.XLRDError as error:
        logger.warning("xlrd rejected %s: %s", context.filename, error)
        if "encrypt" in str(error).lower():
            raise EncryptedDocumentError(
                f"The workbook {context.filename!r} is protected with a password; "
                "remove the password and upload it again."
            ) from error
        raise CorruptDocumentError(
            f"The workbook {context.filename!r} is damaged and cannot be opened; "
            "open and save it again in a spreadsheet program, then upload it again."
        ) from error
    except (CompDocError, AssertionError, IndexError, ValueError, OSError) as error:
        logger.warning("xlrd failed on %s: %s", context.filename, error)
        raise CorruptDocumentError(
            f"The workbook {context.filename!r} is damaged and cannot be opened; "
            "open and save it again in a spreadsheet program, then upload it again."
        ) from error

    parsed = ParsedDocument(context.filename, "xls", from_page=context.from_page, to_page=context.to_page)
    total_rows = 0
    names = book.sheet_names()
    try:
        for index, name in enumerate(names):
            sheet = book.sheet_by_index(index)
            row_count = min(sheet.nrows, context.max_rows * 10)
            rows = (_row_text(book, sheet, row) for row in range(row_count))
            total_rows += add_table_rows(parsed, context, rows, name, total_rows)
            book.unload_sheet(index)
            context.progress((index + 1) / len(names), f"Sheet {name!r} read.")
    finally:
        book.release_resources()
    parsed.unit_count = total_rows
    parsed.metadata["sheets"] = names
    return parsed


def _row_text(book, sheet, row: int) -> list[str]:
    cells = []
    for cell in sheet.row(row):
        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                value = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
            except (xlrd.xldate.XLDateError, OverflowError, ValueError):
                value = cell.value
        elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
            value = bool(cell.value)
        elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
            value = None
        else:
            value = cell.value
        cells.append(display_value(value))
    return cells
