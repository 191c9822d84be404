"""Section-aware chunking shared by the manual, paper, book and laws methods.

Headings come from the parser (DOCX styles, Markdown, HTML, PDF font sizes) and, for formats
without styles (plain text, .doc, OCR output), from numbered heading patterns on single lines.
"""

import re
from dataclasses import dataclass, field

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.splitting import PATH_SEPARATOR, Unit, block_units, pack
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import Block, BlockKind

_CHINESE_NUMBER = "[一二三四五六七八九十百千零〇两\\d]+"

# Patterns that open a heading line, from outermost to innermost level, for books and manuals.
BOOK_PATTERNS = (
    (1, re.compile(rf"^(第{_CHINESE_NUMBER}[编部篇卷]|(?:PART|Part)\s+[IVXLCDM\d]+\b)")),
    (2, re.compile(rf"^(第{_CHINESE_NUMBER}章|(?:CHAPTER|Chapter)\s+[IVXLCDM\d]+\b)")),
    (3, re.compile(rf"^(第{_CHINESE_NUMBER}节|(?:SECTION|Section)\s+[\d.]+)")),
)
# Laws add articles below sections; an article line usually continues with the article's text.
LAW_PATTERNS = BOOK_PATTERNS + (
    (4, re.compile(rf"^(第{_CHINESE_NUMBER}条|(?:ARTICLE|Article|Art\.)\s+\d+[a-z]?\.?)")),
)
# "2.3.1 Title" numbered headings, for manuals; the depth of the number gives the level.
_NUMBERED = re.compile(r"^(\d+(?:\.\d+){0,4})\.?\s+(\S.*)$")
# A numbered heading is a short line; "1. Mix the flour with ..." list items are longer or end
# like sentences.
NUMBERED_HEADING_MAX_CHARS = 80


@dataclass
class Section:
    heading_path: tuple[str, ...]
    blocks: list[Block] = field(default_factory=list)


def detect_text_headings(blocks: list[Block], patterns, numbered: bool, split_line: bool) -> list[Block]:
    """Return blocks with heading lines of TEXT blocks turned into HEADING blocks.

    Only applies when the parser found no headings at all. ``split_line`` keeps the text after
    the pattern (an article's body on the article line) as a TEXT block under the heading.
    """
    if any(block.kind == BlockKind.HEADING for block in blocks):
        return blocks
    result: list[Block] = []
    for block in blocks:
        if block.kind != BlockKind.TEXT:
            result.append(block)
            continue
        buffer: list[str] = []

        def flush() -> None:
            if buffer:
                result.append(Block(BlockKind.TEXT, "\n".join(buffer), page=block.page, positions=block.positions))
                buffer.clear()

        for line in block.text.split("\n"):
            stripped = line.strip()
            level, heading, rest = _match_heading(stripped, patterns, numbered, split_line)
            if not level:
                buffer.append(line)
                continue
            flush()
            result.append(Block(BlockKind.HEADING, heading, page=block.page, positions=block.positions, level=level))
            if rest:
                buffer.append(rest)
        flush()
    return _assign_paths(result)


def _match_heading(line: str, patterns, numbered: bool, split_line: bool) -> tuple[int, str, str]:
    for level, pattern in patterns:
        match = pattern.match(line)
        if match:
            rest = line[match.end() :].lstrip(" \t:：.、")
            # Only the innermost level (articles) carries body text on its heading line.
            if split_line and rest and level == patterns[-1][0]:
                return level, match.group(1).strip(), rest
            return level, line, ""
    if numbered:
        match = _NUMBERED.match(line)
        if match and len(line) <= NUMBERED_HEADING_MAX_CHARS and not line.endswith((".", ",", ";", ":", "。")):
            return len(match.group(1).split(".")) + len(patterns), line, ""
    return 0, "", ""


def _assign_paths(blocks: list[Block]) -> list[Block]:
    headings: list[tuple[int, str]] = []
    for block in blocks:
        if block.kind == BlockKind.HEADING:
            while headings and headings[-1][0] >= block.level:
                headings.pop()
            block.heading_path = tuple(title for _, title in headings)
            headings.append((block.level, block.text))
        else:
            block.heading_path = tuple(title for _, title in headings)
    return blocks


def split_sections(blocks: list[Block]) -> list[Section]:
    """Group blocks into sections, each opened by a heading and holding the blocks up to the next."""
    sections: list[Section] = []
    for block in blocks:
        if block.kind == BlockKind.HEADING or not sections:
            path = block.heading_path + (block.text,) if block.kind == BlockKind.HEADING else block.heading_path
            sections.append(Section(path))
        sections[-1].blocks.append(block)
    return sections


def chunk_sections(
    blocks: list[Block],
    config: ChunkConfig,
    counter: TokenCounter,
    merge_small: bool,
) -> list[Chunk]:
    """Chunk each section on its own, every chunk starting with the section's heading path.

    With ``merge_small``, consecutive sections under the same parent share a chunk while they
    fit, so short book sections do not become chunks of a few words.
    """
    chunks: list[Chunk] = []
    pending: list[Unit] = []
    pending_parent: tuple[str, ...] | None = None
    limit = config.chunk_token_num

    sections = split_sections(blocks)
    for index, section in enumerate(sections):
        following = sections[index + 1] if index + 1 < len(sections) else None
        has_body = any(block.kind != BlockKind.HEADING for block in section.blocks)
        if not has_body and following and following.heading_path[: len(section.heading_path)] == section.heading_path:
            # A heading directly followed by its first subsection: its title opens that
            # subsection's chunk through the heading path, so it needs no chunk of its own.
            continue
        units: list[Unit] = []
        for block in section.blocks:
            units.extend(block_units(block, config, counter))
        if not units:
            continue
        for unit in units:
            if not unit.is_heading:
                unit.heading_path = section.heading_path

        size = sum(unit.tokens for unit in units)
        parent = section.heading_path[:-1]
        if merge_small and pending and parent == pending_parent and size + sum(u.tokens for u in pending) <= limit:
            pending.extend(units)
            continue
        if pending:
            chunks.extend(_section_chunks(pending, limit, counter))
        pending, pending_parent = units, parent
    if pending:
        chunks.extend(_section_chunks(pending, limit, counter))
    return chunks


def _section_chunks(units: list[Unit], limit: int, counter: TokenCounter) -> list[Chunk]:
    """Pack one section; its first chunk names the enclosing headings above the section's own."""
    first = units[0]
    if first.is_heading and first.heading_path:
        line = PATH_SEPARATOR.join(first.heading_path)
        units = [Unit(line, counter.count(line), is_heading=True)] + units
    chunks = pack(units, limit, counter)
    for chunk in chunks:
        if not chunk.heading_path and first.is_heading:
            chunk.heading_path = first.heading_path + (first.text,)
    return chunks
