"""Plain text and Markdown: paragraphs, Markdown headings, fenced code and pipe tables."""

import logging
import re

from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, NoticeCode, ParsedDocument
from documents.parsers.encoding import decode_text

logger = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = frozenset({"md", "mdx", "markdown"})

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TABLE_DIVIDER = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def parse_text(context: ParseContext) -> ParsedDocument:
    text, encoding, guessed = decode_text(context.data, context.filename)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    is_markdown = context.suffix in MARKDOWN_SUFFIXES
    parsed = ParsedDocument(context.filename, "markdown" if is_markdown else "text")
    parsed.metadata["encoding"] = encoding
    if guessed:
        parsed.add_notice(NoticeCode.ENCODING_GUESSED, f"The text encoding was guessed as {encoding}.")

    if is_markdown:
        parsed.blocks = markdown_blocks(text)
    else:
        parsed.blocks = [Block(BlockKind.TEXT, paragraph) for paragraph in split_paragraphs(text)]
    context.progress(1.0, "Text read.")
    return parsed


def split_paragraphs(text: str) -> list[str]:
    """Split at blank lines, keeping line breaks inside a paragraph and dropping empty ones."""
    paragraphs = re.split(r"\n[ \t]*\n", text)
    return [paragraph.strip("\n") for paragraph in paragraphs if paragraph.strip()]


def markdown_blocks(text: str) -> list[Block]:
    """Split Markdown into heading, paragraph, code and table blocks with their heading paths."""
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    lines = text.split("\n")
    paragraph: list[str] = []

    def path() -> tuple[str, ...]:
        return tuple(title for _, title in headings)

    def flush() -> None:
        if any(line.strip() for line in paragraph):
            blocks.append(Block(BlockKind.TEXT, "\n".join(paragraph).strip("\n"), heading_path=path()))
        paragraph.clear()

    def open_heading(level: int, title: str) -> None:
        flush()
        while headings and headings[-1][0] >= level:
            headings.pop()
        blocks.append(Block(BlockKind.HEADING, title, heading_path=path(), level=level))
        headings.append((level, title))

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence:
            flush()
            marker = fence.group(1)
            end = index + 1
            while end < len(lines) and not lines[end].strip().startswith(marker):
                end += 1
            code = "\n".join(lines[index : end + 1])
            blocks.append(Block(BlockKind.TEXT, code, heading_path=path()))
            index = end + 1
            continue

        heading = _ATX_HEADING.match(line)
        if heading:
            open_heading(len(heading.group(1)), heading.group(2).strip())
            index += 1
            continue

        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and not paragraph and _SETEXT_UNDERLINE.match(next_line):
            open_heading(1 if next_line.strip().startswith("=") else 2, line.strip())
            index += 2
            continue

        if "|" in line and _TABLE_DIVIDER.match(next_line):
            flush()
            rows = [_pipe_cells(line)]
            end = index + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                rows.append(_pipe_cells(lines[end]))
                end += 1
            table_text = "\n".join(lines[index:end])
            blocks.append(Block(BlockKind.TABLE, table_text, heading_path=path(), rows=rows))
            index = end
            continue

        if not line.strip():
            flush()
        else:
            paragraph.append(line)
        index += 1

    flush()
    return blocks


def _pipe_cells(line: str) -> list[str]:
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", stripped)]
