"""The picture method: the OCR text of an image, split into token-bounded chunks."""

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.splitting import document_units, pack
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import ParsedDocument


def chunk_picture(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    """Return no chunks when OCR found no text or was unavailable; parsed.notices tells which."""
    return pack(document_units(parsed.blocks, config, counter), config.chunk_token_num, counter)
