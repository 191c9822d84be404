"""The laws method: chunks per article, each naming its part, chapter and section."""

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.sections import LAW_PATTERNS, chunk_sections, detect_text_headings
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import ParsedDocument


def chunk_laws(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    blocks = detect_text_headings(parsed.blocks, LAW_PATTERNS, numbered=False, split_line=True)
    return chunk_sections(blocks, config, counter, merge_small=False)
