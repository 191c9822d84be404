"""The paper method: the abstract in a chunk of its own, then one or more chunks per section."""

import re

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.sections import BOOK_PATTERNS, chunk_sections, detect_text_headings
from documents.chunking.splitting import document_units, pack
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import BlockKind, ParsedDocument

_ABSTRACT = re.compile(r"^\s*(abstract|摘\s*要)\b[\s.:：—-]*", re.IGNORECASE)


def chunk_paper(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    blocks = detect_text_headings(parsed.blocks, BOOK_PATTERNS, numbered=True, split_line=False)

    abstract_index = None
    for index, block in enumerate(blocks):
        if _ABSTRACT.match(block.text):
            abstract_index = index
            break
    if abstract_index is None:
        return chunk_sections(blocks, config, counter, merge_small=False)

    # The abstract is the "Abstract" block plus the text blocks after it up to the next heading.
    # It gets chunks of its own, because retrieval often matches a paper by its abstract.
    end = abstract_index + 1
    while end < len(blocks) and blocks[end].kind == BlockKind.TEXT and blocks[abstract_index].kind == BlockKind.HEADING:
        end += 1
    abstract_blocks = blocks[abstract_index:end]
    front = blocks[:abstract_index]
    rest = blocks[end:]

    chunks = pack(document_units(front, config, counter), config.chunk_token_num, counter) if front else []
    abstract_chunks = pack(document_units(abstract_blocks, config, counter), config.chunk_token_num, counter)
    for chunk in abstract_chunks:
        chunk.metadata["section"] = "abstract"
    chunks.extend(abstract_chunks)
    chunks.extend(chunk_sections(rest, config, counter, merge_small=False))
    return chunks
