"""The naive method: token-bounded chunks split at the delimiter, headings carried as context."""

import html

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.splitting import Unit, document_units, make_chunk, pack
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import Block, BlockKind, ParsedDocument


def chunk_naive(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    if config.html4excel and any(block.kind == BlockKind.ROW for block in parsed.blocks):
        return html_table_chunks(parsed.blocks, config, counter)
    return pack(document_units(parsed.blocks, config, counter), config.chunk_token_num, counter)


def html_table_chunks(blocks: list[Block], config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    """Render spreadsheet rows as HTML tables, one table per chunk, each with the header row."""
    chunks: list[Chunk] = []
    group: list[Block] = []

    def render(rows: list[Block]) -> str:
        first = rows[0]
        caption = f"<caption>{html.escape(first.sheet)}</caption>" if first.sheet else ""
        header = "".join(f"<th>{html.escape(column)}</th>" for column in first.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row.values) + "</tr>" for row in rows
        )
        return f"<table>{caption}<tr>{header}</tr>{body}</table>"

    def flush() -> None:
        if group:
            content = render(group)
            chunks.append(make_chunk([Unit(content, counter.count(content))], counter, doc_type="table"))
            group.clear()

    for block in blocks:
        if block.kind != BlockKind.ROW:
            flush()
            if block.text.strip():
                chunks.append(make_chunk([Unit(block.text, counter.count(block.text))], counter))
            continue
        if group and (block.columns != group[0].columns or block.sheet != group[0].sheet):
            flush()
        group.append(block)
        if counter.count(render(group)) > config.chunk_token_num and len(group) > 1:
            group.pop()
            flush()
            group.append(block)
    flush()
    return chunks
