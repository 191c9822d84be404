"""The table method: one chunk per data row, written as "column: value" lines."""

from documents.chunking.chunk import Chunk, ChunkConfig, ChunkingError
from documents.chunking.tokens import TokenCounter
from documents.parsers.delimited import read_rows, sniff_delimiter
from documents.parsers.document import Block, BlockKind, ParsedDocument
from documents.parsers.tabular import make_header, row_text, trim_row

# Columns kept per row of a text file read as a table; the same bound as the CSV parser's default.
MAX_TEXT_COLUMNS = 1_000


def chunk_table(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    """Return one chunk per row; rows stay whole even above chunk_token_num.

    Rows come from spreadsheet and CSV blocks, from tables found in other documents (their first
    row is the header), or from the lines of a text file read as delimited data.
    """
    rows = [block for block in parsed.blocks if block.kind == BlockKind.ROW]
    if not rows:
        rows = _rows_from_tables(parsed.blocks)
    if not rows and parsed.format in ("text", "markdown"):
        rows = _rows_from_text(parsed.blocks)
    if not rows and parsed.blocks:
        raise ChunkingError(
            f"The table method found no table rows in {parsed.filename!r}; it reads spreadsheets, "
            "CSV files and tables. Choose another chunk method for this document."
        )

    chunks = []
    for block in rows:
        if not block.text.strip():
            continue
        chunks.append(
            Chunk(
                content=block.text,
                token_count=counter.count(block.text),
                page_numbers=[block.page] if block.page is not None else [],
                positions=list(block.positions),
                heading_path=(block.sheet,) if block.sheet else block.heading_path,
                doc_type="table",
                metadata={"columns": dict(zip(block.columns or [], block.values or [], strict=False))},
            )
        )
    return chunks


def _rows_from_tables(blocks: list[Block]) -> list[Block]:
    rows = []
    for block in blocks:
        if block.kind != BlockKind.TABLE or not block.rows or len(block.rows) < 2:
            continue
        header = make_header(block.rows[0])
        for cells in block.rows[1:]:
            values = (cells + [""] * len(header))[: len(header)]
            text = row_text(header, values)
            if text:
                rows.append(Block(BlockKind.ROW, text, page=block.page, positions=block.positions,
                                  heading_path=block.heading_path, columns=header, values=values))
    return rows


def _rows_from_text(blocks: list[Block]) -> list[Block]:
    text = "\n".join(block.text for block in blocks)
    delimiter = sniff_delimiter(text, default="\t")
    header = None
    rows = []
    for cells in read_rows(text, delimiter):
        cells = trim_row(cells, MAX_TEXT_COLUMNS)
        if not cells:
            continue
        if header is None:
            header = make_header(cells)
            continue
        if len(cells) > len(header):
            header = header + make_header([""] * len(cells))[len(header):]
        values = cells + [""] * (len(header) - len(cells))
        line = row_text(header, values)
        if line:
            rows.append(Block(BlockKind.ROW, line, columns=list(header), values=values))
    return rows
