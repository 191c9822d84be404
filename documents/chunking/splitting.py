"""Split blocks into units (sentences, table rows) and pack units into token-bounded chunks."""

import re
from dataclasses import dataclass, field

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import Block, BlockKind

# Sentence ends: Latin punctuation followed by space, or CJK full stops, which take no space.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")
# Separator between the heading path's titles in a chunk's first line.
PATH_SEPARATOR = " > "


@dataclass
class Unit:
    """A piece of text that is never cut unless it alone exceeds the chunk size."""

    text: str
    tokens: int
    page: int | None = None
    positions: list[list[int]] = field(default_factory=list)
    heading_path: tuple[str, ...] = ()
    is_heading: bool = False
    # For table rows: the header row text repeated at the top of a chunk the table continues into.
    table_header: str | None = None
    is_table: bool = False


def split_by_delimiters(text: str, delimiters: tuple[str, ...]) -> list[str]:
    """Split text at each delimiter.

    Single punctuation characters ("!", "。") stay at the end of the text before them, because
    they end a sentence. Whitespace and multi-character delimiters ("##") are markers and are
    dropped.
    """
    pattern = "|".join(re.escape(delimiter) for delimiter in delimiters)
    pieces = []
    start = 0
    for match in re.finditer(pattern, text):
        keep = len(match.group()) == 1 and match.group().strip()
        end = match.end() if keep else match.start()
        pieces.append(text[start:end])
        start = match.end()
    pieces.append(text[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def fit_pieces(text: str, max_tokens: int, counter: TokenCounter) -> list[str]:
    """Return text as pieces within ``max_tokens``: whole if it fits, else sentences, else tokens."""
    if counter.count(text) <= max_tokens:
        return [text]
    pieces = []
    for sentence in _SENTENCE_END.split(text):
        if not sentence.strip():
            continue
        if counter.count(sentence) <= max_tokens:
            pieces.append(sentence.strip())
        else:
            pieces.extend(counter.split(sentence, max_tokens))
    return pieces


def block_units(block: Block, config: ChunkConfig, counter: TokenCounter) -> list[Unit]:
    """Return the units of one block: its sentences, its table rows, or the whole row/record."""
    common = {"page": block.page, "positions": block.positions, "heading_path": block.heading_path}
    limit = config.chunk_token_num

    if block.kind == BlockKind.HEADING:
        return [Unit(block.text, counter.count(block.text), is_heading=True, **common)]
    if block.kind == BlockKind.TABLE and block.rows:
        lines = [" | ".join(cells) for cells in block.rows]
        header = lines[0]
        units = []
        for position, line in enumerate(lines):
            for piece in fit_pieces(line, limit, counter):
                units.append(
                    Unit(piece, counter.count(piece), table_header=None if position == 0 else header,
                         is_table=True, **common)
                )
        return units
    if block.kind in (BlockKind.ROW, BlockKind.RECORD):
        # A spreadsheet row or a JSON record stays whole even above the chunk size, because a
        # half record misleads retrieval more than a long chunk does.
        return [Unit(block.text, counter.count(block.text), is_table=block.kind == BlockKind.ROW, **common)]

    units = []
    for piece in split_by_delimiters(block.text, config.delimiters):
        for part in fit_pieces(piece, limit, counter):
            units.append(Unit(part, counter.count(part), **common))
    return units


def pack(units: list[Unit], max_tokens: int, counter: TokenCounter) -> list[Chunk]:
    """Merge units in order into chunks of at most ``max_tokens`` (context lines may add a few).

    A chunk that continues a section starts with its heading path, and one that continues a table
    starts with the table's header row. Headings at the end of a chunk move to the next one.
    """
    chunks: list[Chunk] = []
    current: list[Unit] = []
    used = 0
    for unit in units:
        if current and used + unit.tokens > max_tokens:
            carried = []
            while current and current[-1].is_heading and len(current) > 1:
                carried.insert(0, current.pop())
            chunks.append(make_chunk(current, counter))
            current, used = carried, sum(item.tokens for item in carried)
        if not current:
            current = _context_units(unit, counter)
            used = sum(item.tokens for item in current)
        current.append(unit)
        used += unit.tokens
    if current:
        # Trailing headings with no text after them still form a chunk: their words are searchable.
        chunks.append(make_chunk(current, counter))
    return [chunk for chunk in chunks if chunk.content.strip()]


def _context_units(unit: Unit, counter: TokenCounter) -> list[Unit]:
    context = []
    if unit.heading_path and not unit.is_heading:
        line = PATH_SEPARATOR.join(unit.heading_path)
        context.append(Unit(line, counter.count(line), heading_path=unit.heading_path, is_heading=True))
    if unit.table_header:
        context.append(Unit(unit.table_header, counter.count(unit.table_header), is_table=True))
    return context


def make_chunk(units: list[Unit], counter: TokenCounter, **fields) -> Chunk:
    """Join units into one chunk, collecting their pages, positions and innermost heading path."""
    text_units = [unit for unit in units if unit.text.strip()]
    content = "\n".join(unit.text for unit in text_units)
    pages: list[int] = []
    positions: list[list[int]] = []
    for unit in units:
        if unit.page is not None and unit.page not in pages:
            pages.append(unit.page)
        for box in unit.positions:
            if box not in positions:
                positions.append(box)
    body = [unit for unit in units if not unit.is_heading] or units
    path = body[0].heading_path
    is_table = all(unit.is_table for unit in body)
    fields.setdefault("doc_type", "table" if is_table else "text")
    return Chunk(
        content=content,
        # Units are joined at line breaks, and the WordPiece tokenizer splits at whitespace before
        # anything else, so the units' counts add up to the count of the joined text.
        token_count=sum(unit.tokens for unit in text_units),
        page_numbers=sorted(pages),
        positions=positions,
        heading_path=path,
        **fields,
    )


def document_units(blocks: list[Block], config: ChunkConfig, counter: TokenCounter) -> list[Unit]:
    units = []
    for block in blocks:
        units.extend(block_units(block, config, counter))
    return units
