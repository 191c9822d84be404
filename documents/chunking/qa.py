"""The qa method: question/answer pairs from rows, TAB-separated lines or headings."""

from documents.chunking.chunk import Chunk, ChunkConfig
from documents.chunking.tokens import TokenCounter
from documents.parsers.document import Block, BlockKind, ParsedDocument


def chunk_qa(parsed: ParsedDocument, config: ChunkConfig, counter: TokenCounter) -> list[Chunk]:
    """Return one chunk per pair, found in this order of preference.

    Spreadsheet and CSV rows give the first non-empty cell as the question and the other cells
    as the answer. Documents without headings use their table rows below the header row the
    same way. Text lines with a TAB give the text before and after the first TAB. Otherwise each
    heading is a question and the text up to the next heading is its answer.
    """
    pairs: list[tuple[str, str, Block]] = []
    rows = [(block.values or [], block) for block in parsed.blocks if block.kind == BlockKind.ROW]
    if not rows and not any(block.kind == BlockKind.HEADING for block in parsed.blocks):
        # Tables of other documents: every row after the header row.
        for block in parsed.blocks:
            if block.kind == BlockKind.TABLE and block.rows:
                rows.extend((cells, block) for cells in block.rows[1:])
    if rows:
        for values, block in rows:
            cells = [value.strip() for value in values if value.strip()]
            if len(cells) >= 2:
                pairs.append((cells[0], " ".join(cells[1:]), block))
    elif any("\t" in block.text for block in parsed.blocks if block.kind == BlockKind.TEXT):
        pairs = _tab_pairs(parsed.blocks)
    else:
        pairs = _heading_pairs(parsed.blocks)
    return [_pair_chunk(question, answer, block, counter) for question, answer, block in pairs]


def _tab_pairs(blocks: list[Block]) -> list[tuple[str, str, Block]]:
    pairs = []
    for block in blocks:
        for line in block.text.split("\n"):
            question, tab, answer = line.partition("\t")
            if tab and question.strip() and answer.strip():
                pairs.append((question.strip(), answer.strip(), block))
            elif pairs and line.strip():
                # A line without a TAB continues the previous answer.
                question, answer, origin = pairs[-1]
                pairs[-1] = (question, f"{answer}\n{line.strip()}", origin)
    return pairs


def _heading_pairs(blocks: list[Block]) -> list[tuple[str, str, Block]]:
    pairs = []
    question: Block | None = None
    answer: list[str] = []
    for block in blocks:
        if block.kind == BlockKind.HEADING:
            if question is not None and answer:
                pairs.append((question.text, "\n".join(answer), question))
            question, answer = block, []
        elif question is not None and block.text.strip():
            answer.append(block.text.strip())
    if question is not None and answer:
        pairs.append((question.text, "\n".join(answer), question))
    return pairs


def _pair_chunk(question: str, answer: str, block: Block, counter: TokenCounter) -> Chunk:
    content = f"Question: {question}\nAnswer: {answer}"
    return Chunk(
        content=content,
        token_count=counter.count(content),
        page_numbers=[block.page] if block.page is not None else [],
        positions=list(block.positions),
        heading_path=block.heading_path,
        question=question,
        answer=answer,
    )
