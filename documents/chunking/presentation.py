"""The presentation method: one chunk per slide, or per page for PDF files."""

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.splitting import Unit, make_chunk
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import BlockKind, ParsedDocument


def chunk_presentation(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    pages: dict[int | None, list[Unit]] = {}
    titles: dict[int | None, str] = {}
    for block in parsed.blocks:
        if not block.text.strip():
            continue
        if block.kind == BlockKind.HEADING and block.page not in titles:
            titles[block.page] = block.text
        unit = Unit(block.text, counter.count(block.text), page=block.page, positions=block.positions)
        pages.setdefault(block.page, []).append(unit)

    chunks = []
    for page, units in pages.items():
        chunk = make_chunk(units, counter)
        chunk.heading_path = (titles[page],) if page in titles else ()
        chunks.append(chunk)
    return chunks
