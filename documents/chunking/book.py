"""The book method: chapter and section aware chunks; short sibling sections share a chunk."""

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.sections import BOOK_PATTERNS, chunk_sections, detect_text_headings
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import ParsedDocument


def chunk_book(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    blocks = detect_text_headings(parsed.blocks, BOOK_PATTERNS, numbered=False, split_line=False)
    return chunk_sections(blocks, config, counter, merge_small=True)
