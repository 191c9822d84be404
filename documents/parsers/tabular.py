"""Helpers shared by the CSV and spreadsheet parsers: headers, row blocks and row windows."""

import itertools
import math
from collections.abc import Iterable, Iterator

from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, NoticeCode, ParsedDocument

# Rows examined to find the header row; titles and notes above a table rarely take more lines.
HEADER_SCAN_ROWS = 20
# A header row has at least this share of the widest row's non-empty cells. Title lines above
# a table have one or two cells, while a header labels most columns.
HEADER_WIDTH_SHARE = 0.6


def row_text(columns: list[str], values: list[str]) -> str:
    """Render a row as "column: value" pairs, one per line, skipping empty cells."""
    pairs = [f"{column}: {value}" for column, value in zip(columns, values, strict=True) if value.strip()]
    return "\n".join(pairs)


def make_header(cells: list[str]) -> list[str]:
    """Name empty header cells "Column N" and number repeated names, so every key is unique."""
    header: list[str] = []
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells, start=1):
        name = " ".join(cell.split()) or f"Column {position}"
        count = seen.get(name, 0) + 1
        seen[name] = count
        header.append(name if count == 1 else f"{name} ({count})")
    return header


def trim_row(cells: list[str], max_columns: int) -> list[str]:
    """Drop trailing empty cells and cells beyond ``max_columns``."""
    cells = cells[:max_columns]
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def add_table_rows(
    parsed: ParsedDocument,
    context: ParseContext,
    rows: Iterable[list[str]],
    sheet: str | None,
    row_offset: int,
) -> int:
    """Turn one sheet's cell rows into ROW blocks under the sheet's header row.

    The header is the first row nearly as wide as the widest of the first rows, so title and
    note lines above a table become TEXT blocks instead of column names. ``row_offset`` is the
    number of data rows in earlier sheets, so ``from_page``/``to_page`` select data rows across
    the whole workbook. Returns this sheet's data row count.
    """
    iterator = iter(rows)
    leading: list[list[str]] = []
    for cells in iterator:
        cells = trim_row(cells, context.max_columns)
        if cells:
            leading.append(cells)
        if len(leading) >= HEADER_SCAN_ROWS:
            break
    if not leading:
        return 0

    header_index = _header_index(leading)
    if context.from_page == 0:
        # Lines above the header are emitted once, by the task that starts at the first row.
        for cells in leading[:header_index]:
            text = " ".join(cell for cell in cells if cell.strip())
            parsed.blocks.append(Block(BlockKind.TEXT, text, sheet=sheet))
    header = make_header(leading[header_index])

    data_rows = 0
    window_stop = context.to_page
    for cells in itertools.chain(leading[header_index + 1 :], iterator):
        cells = trim_row(cells, context.max_columns)
        if not cells:
            continue
        index = row_offset + data_rows
        data_rows += 1
        if data_rows % 1000 == 0:
            context.check_cancelled()
        if index < context.from_page or (window_stop is not None and index >= window_stop):
            continue
        if len(parsed.blocks) >= context.max_rows:
            _note_row_limit(parsed, context)
            continue
        if len(cells) > len(header):
            header = header + make_header([""] * len(cells))[len(header) :]
        values = cells + [""] * (len(header) - len(cells))
        text = row_text(header, values)
        if text:
            parsed.blocks.append(
                Block(BlockKind.ROW, text, columns=list(header), values=values, sheet=sheet)
            )
    return data_rows


def _header_index(rows: list[list[str]]) -> int:
    widths = [sum(1 for cell in cells if cell.strip()) for cells in rows]
    needed = max(1, math.ceil(HEADER_WIDTH_SHARE * max(widths)))
    return next(index for index, width in enumerate(widths) if width >= needed)


def limited(rows: Iterable[list[str]], limit: int) -> Iterator[list[str]]:
    """Yield at most ``limit`` rows, so a sheet claiming a million rows cannot run unbounded."""
    for count, row in enumerate(rows):
        if count >= limit:
            return
        yield row


def _note_row_limit(parsed: ParsedDocument, context: ParseContext) -> None:
    if not parsed.has_notice(NoticeCode.ROWS_LIMITED):
        parsed.add_notice(
            NoticeCode.ROWS_LIMITED,
            f"Only the first {context.max_rows} rows were read; split the file to index the rest.",
        )


def grid_text(rows: list[list[str]]) -> str:
    """Render a table grid as one line per row with cells separated by " | "."""
    return "\n".join(" | ".join(cells) for cells in rows)
