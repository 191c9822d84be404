"""The manual method: one or more chunks per section, never mixing two sections in one chunk."""

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.sections import BOOK_PATTERNS, chunk_sections, detect_text_headings
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import ParsedDocument


def chunk_manual(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    blocks = detect_text_headings(parsed.blocks, BOOK_PATTERNS, numbered=True, split_line=False)
    return chunk_sections(blocks, config, counter, merge_small=False)
