"""The email method: headers first, then the body, every chunk tagged with the subject."""

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.splitting import block_units, pack
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import BlockKind, ParsedDocument


def chunk_email(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    headers = parsed.metadata.get("headers") or {}
    subject = headers.get("Subject", "")
    context = (f"Subject: {subject}",) if subject else ()

    units = []
    for position, block in enumerate(parsed.blocks):
        block_list = block_units(block, config, counter)
        for unit in block_list:
            # The header block opens the first chunk as text, not as a context line.
            unit.is_heading = False
            unit.heading_path = () if position == 0 and block.kind == BlockKind.HEADING else context
        units.extend(block_list)
    chunks = pack(units, config.chunk_token_num, counter)
    for chunk in chunks:
        chunk.heading_path = context
    return chunks
