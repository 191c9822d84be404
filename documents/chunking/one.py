"""The one method: the whole document as a single chunk, with no size bound."""

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.splitting import Unit, make_chunk
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import ParsedDocument


def chunk_one(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    units = [
        Unit(block.text, counter.count(block.text), page=block.page, positions=block.positions)
        for block in parsed.blocks
        if block.text.strip()
    ]
    if not units:
        return []
    chunk = make_chunk(units, counter)
    chunk.heading_path = ()
    return [chunk]
