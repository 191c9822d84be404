"""The chunk produced by every chunk method, and the settings read from parser_config."""

import re
from dataclasses import dataclass, field

# RAGFlow's server-side defaults for the naive method (chunk_token_num 512, delimiter "\n").
DEFAULT_CHUNK_TOKENS = 512
DEFAULT_DELIMITER = "\n"
# parser_config validation allows chunk_token_num from 1 to 2048; larger stored values are capped.
MAX_CHUNK_TOKENS = 2048


class ChunkingError(ValueError):
    """The chunk method cannot be applied to this document; the message gives the reason and the fix."""


class UnknownChunkMethodError(ChunkingError):
    """The chunk method name is not one this library implements."""


@dataclass
class Chunk:
    """One retrievable piece of a document.

    ``page_numbers`` are 1-based pages, slides or EPUB parts, empty where the format has none.
    ``positions`` contains ``[page, x0, x1, top, bottom]`` boxes (PDF points, or pixels for images).
    ``heading_path`` lists the enclosing headings, outermost first. ``doc_type`` is "text" or
    "table", as RAGFlow's doc_type_kwd. ``question`` and ``answer`` are set by the qa method only.
    """

    content: str
    token_count: int
    page_numbers: list[int] = field(default_factory=list)
    positions: list[list[int]] = field(default_factory=list)
    heading_path: tuple[str, ...] = ()
    doc_type: str = "text"
    question: str | None = None
    answer: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkConfig:
    """The parser_config keys that chunk methods read; other keys belong to later pipeline steps."""

    chunk_token_num: int = DEFAULT_CHUNK_TOKENS
    delimiters: tuple[str, ...] = (DEFAULT_DELIMITER,)
    html4excel: bool = False

    @classmethod
    def from_parser_config(cls, parser_config: dict | None) -> "ChunkConfig":
        config = parser_config or {}
        tokens = config.get("chunk_token_num") or DEFAULT_CHUNK_TOKENS
        try:
            tokens = int(tokens)
        except (TypeError, ValueError):
            tokens = DEFAULT_CHUNK_TOKENS
        delimiter = config.get("delimiter") or DEFAULT_DELIMITER
        return cls(
            chunk_token_num=max(1, min(MAX_CHUNK_TOKENS, tokens)),
            delimiters=parse_delimiter(str(delimiter)),
            html4excel=bool(config.get("html4excel", False)),
        )


def parse_delimiter(delimiter: str) -> tuple[str, ...]:
    """Split a RAGFlow delimiter setting into delimiters.

    Each character is a delimiter on its own, except text between backticks, which is one
    multi-character delimiter: "\\n!?`##`" gives ("##", "\\n", "!", "?").
    """
    multi = re.findall(r"`([^`]+)`", delimiter)
    singles = re.sub(r"`[^`]+`", "", delimiter)
    result = sorted(set(multi), key=len, reverse=True) + [char for char in dict.fromkeys(singles)]
    return tuple(result) or (DEFAULT_DELIMITER,)
