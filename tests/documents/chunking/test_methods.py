"""Chunk methods on generated and real documents: shapes, counts, sizes and context."""

import io

import docx
import pytest

from documents.chunking import ChunkingError, UnknownChunkMethodError, chunk, default_token_counter
from documents.chunking.chunk import parse_delimiter
from documents.parsers import Block, BlockKind, ParsedDocument, parse
from tests.corpus import DOCS



@pytest.fixture(scope="module")
def counter():
    return default_token_counter()


def _text_document(text: str, name: str = "notes.txt") -> ParsedDocument:
    return parse(text.encode("utf-8"), name)


def test_token_counter_uses_wordpiece(counter):
    assert counter.count("Hello world") == 2
    assert counter.count("") == 0
    assert counter.split("word " * 10, 4) == ["word word word word", "word word word word", "word word"]


def test_delimiter_setting_parsed():
    assert parse_delimiter("\n!?") == ("\n", "!", "?")
    assert parse_delimiter("\n`##`;") == ("##", "\n", ";")


def test_naive_respects_token_limit(counter):
    parsed = parse(DOCS / "norwich-city-wikipedia.txt")

    chunks = chunk(parsed, "naive", {"chunk_token_num": 128}, counter)

    assert len(chunks) > 20
    # A chunk may pass the limit only by its context line; no sentence exceeds 128 tokens here.
    assert max(item.token_count for item in chunks) <= 128 + 32
    assert all(item.content.strip() for item in chunks)
    assert all(item.token_count == counter.count(item.content) for item in chunks)


def test_naive_never_splits_fitting_sentence(counter):
    sentences = [f"Sentence number {index} talks about topic {index}." for index in range(40)]
    parsed = _text_document(" ".join(sentences))

    chunks = chunk(parsed, "naive", {"chunk_token_num": 40}, counter)

    joined = [item.content for item in chunks]
    for sentence in sentences:
        assert sum(sentence in content for content in joined) == 1, sentence


def test_naive_table_rows_stay_whole_with_header(counter):
    rows = [["Name", "City", "Score"]] + [[f"Person {index}", f"Town {index}", str(index)] for index in range(60)]
    table = Block(BlockKind.TABLE, "", rows=rows, heading_path=("Results",))
    parsed = ParsedDocument("scores.docx", "docx", blocks=[table])

    chunks = chunk(parsed, "naive", {"chunk_token_num": 64}, counter)

    assert len(chunks) > 3
    for item in chunks:
        assert item.doc_type == "table"
        lines = item.content.split("\n")
        assert lines[0] == "Results" or lines[0] == "Name | City | Score"
        assert "Name | City | Score" in lines
        for line in lines:
            if line.startswith("Person"):
                assert len(line.split(" | ")) == 3


def test_naive_carries_headings_as_context(counter):
    document = docx.Document()
    document.add_heading("Manual", level=1)
    document.add_heading("Safety", level=2)
    for index in range(30):
        document.add_paragraph(f"Safety rule {index}: always wear protective gloves near the machine.")
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = parse(buffer.getvalue(), "manual.docx")

    chunks = chunk(parsed, "naive", {"chunk_token_num": 60}, counter)

    assert chunks[0].content.startswith("Manual\nSafety\n")
    for item in chunks[1:]:
        assert item.content.startswith("Manual > Safety\n")
        assert item.heading_path == ("Manual", "Safety")


def test_naive_pdf_chunks_have_pages_and_positions(counter):
    parsed = parse(DOCS / "gdata-unknown-values-article.pdf")

    chunks = chunk(parsed, "naive", None, counter)

    assert {page for item in chunks for page in item.page_numbers} == {1, 2, 3}
    for item in chunks:
        assert item.positions
        assert {box[0] for box in item.positions} <= set(item.page_numbers)


def test_naive_custom_delimiter(counter):
    parsed = _text_document("alpha## beta## gamma")

    chunks = chunk(parsed, "naive", {"chunk_token_num": 1, "delimiter": "`##`"}, counter)

    assert [item.content for item in chunks] == ["alpha", "beta", "gamma"]


def test_naive_html4excel_tables(counter):
    source = "name,qty\n" + "".join(f"item{index},{index}\n" for index in range(30))
    parsed = parse(source.encode(), "stock.csv")

    chunks = chunk(parsed, "naive", {"chunk_token_num": 128, "html4excel": True}, counter)

    assert len(chunks) > 1
    for item in chunks:
        assert item.content.startswith("<table><tr><th>name</th><th>qty</th></tr>")
        assert item.content.endswith("</table>")
    assert sum(item.content.count("<td>item") for item in chunks) == 30


def test_qa_from_csv_rows(counter):
    parsed = parse(b"Question,Answer\nWhat is RAG?,Retrieval augmented generation.\nWho?,Us\n", "faq.csv")

    chunks = chunk(parsed, "qa", None, counter)

    assert len(chunks) == 2
    assert chunks[0].question == "What is RAG?"
    assert chunks[0].answer == "Retrieval augmented generation."
    assert chunks[0].content == "Question: What is RAG?\nAnswer: Retrieval augmented generation."


def test_qa_from_tab_separated_text(counter):
    parsed = _text_document("How old?\tTen years.\nWhere?\tIn Bern.\nStill in Bern.")

    chunks = chunk(parsed, "qa", None, counter)

    assert [(item.question, item.answer) for item in chunks] == [
        ("How old?", "Ten years."),
        ("Where?", "In Bern.\nStill in Bern."),
    ]


def test_qa_from_markdown_headings(counter):
    parsed = parse(b"# How do I log in?\n\nUse your e-mail.\n\n# How do I reset?\n\nClick reset.\n", "faq.md")

    chunks = chunk(parsed, "qa", None, counter)

    assert [(item.question, item.answer) for item in chunks] == [
        ("How do I log in?", "Use your e-mail."),
        ("How do I reset?", "Click reset."),
    ]


def test_table_one_chunk_per_row(counter):
    parsed = parse(DOCS / "revenue-semicolon-decimal-comma.csv")

    chunks = chunk(parsed, "table", None, counter)

    assert len(chunks) == 3
    assert chunks[1].content == "Year: 2023\nMonth: 2\nRevenue: 143,1\nCosts: -814,38"
    assert chunks[1].metadata["columns"]["Revenue"] == "143,1"
    assert all(item.doc_type == "table" for item in chunks)


def test_table_from_tab_separated_text(counter):
    parsed = _text_document("city\tpeople\nBern\t140000\nBasel\t170000\n")

    chunks = chunk(parsed, "table", None, counter)

    assert [item.content for item in chunks] == ["city: Bern\npeople: 140000", "city: Basel\npeople: 170000"]


def test_table_without_rows_raises(counter):
    parsed = parse(DOCS / "gdata-unknown-values-article.pdf", to_page=1)

    with pytest.raises(ChunkingError, match="no table rows"):
        chunk(parsed, "table", None, counter)


def test_one_whole_document(counter):
    parsed = parse(DOCS / "layout-parser-paper-2p.pdf")

    chunks = chunk(parsed, "one", {"chunk_token_num": 16}, counter)

    assert len(chunks) == 1
    assert chunks[0].page_numbers == [1, 2]
    assert chunks[0].token_count > 1000


def test_presentation_one_chunk_per_slide(counter):
    parsed = parse(DOCS / "autogen-slides-table-chart.pptx")

    chunks = chunk(parsed, "presentation", None, counter)

    assert [item.page_numbers for item in chunks] == [[1], [2], [3], [4], [5], [6]]
    assert chunks[2].heading_path


def test_presentation_pdf_pages(counter):
    parsed = parse(DOCS / "layout-parser-paper-2p.pdf")

    chunks = chunk(parsed, "presentation", None, counter)

    assert [item.page_numbers for item in chunks] == [[1], [2]]


def test_laws_articles_keep_hierarchy(counter):
    text = (
        "第一章 总则\n第一条 为了规范数据处理活动，保障数据安全，促进数据开发利用，保护个人、组织的合法权益，维护国家主权、安全和发展利益，制定本法。\n"
        "第二条 在中华人民共和国境内开展数据处理活动及其安全监管，适用本法。\n"
        "第二章 数据安全与发展\n第三条 国家统筹发展和安全，坚持以数据开发利用和产业发展促进数据安全。\n"
    )
    parsed = _text_document(text, "law.txt")

    chunks = chunk(parsed, "laws", {"chunk_token_num": 512}, counter)

    paths = [item.heading_path for item in chunks]
    assert paths == [
        ("第一章 总则", "第一条"),
        ("第一章 总则", "第二条"),
        ("第二章 数据安全与发展", "第三条"),
    ]
    article_three = next(item for item in chunks if item.heading_path[-1] == "第三条")
    assert article_three.content.startswith("第二章 数据安全与发展\n第三条\n国家统筹发展和安全")


def test_laws_english_articles(counter):
    text = "Chapter 1 General\nArticle 1 Scope.\nThis law applies to all.\nArticle 2 Terms.\nA term means a word.\n"
    parsed = _text_document(text, "act.txt")

    chunks = chunk(parsed, "laws", None, counter)

    assert [item.heading_path for item in chunks] == [
        ("Chapter 1 General", "Article 1"),
        ("Chapter 1 General", "Article 2"),
    ]
    assert chunks[1].content == "Chapter 1 General\nArticle 2\nTerms.\nA term means a word."


def test_manual_sections_not_mixed(counter):
    parsed = parse(b"# A\n\nalpha text\n\n## A1\n\nsub text\n\n# B\n\nbeta text\n", "m.md")

    chunks = chunk(parsed, "manual", None, counter)

    assert [item.content for item in chunks] == ["A\nalpha text", "A\nA1\nsub text", "B\nbeta text"]
    assert [item.heading_path for item in chunks] == [("A",), ("A", "A1"), ("B",)]


def test_book_merges_short_sibling_sections(counter):
    parsed = parse(b"# Book\n\n## One\n\nshort\n\n## Two\n\nshort too\n", "b.md")

    chunks = chunk(parsed, "book", None, counter)

    assert len(chunks) == 1
    assert chunks[0].content == "Book\nOne\nshort\nTwo\nshort too"


def test_book_chapter_patterns_in_text(counter):
    parsed = parse(DOCS / "war-and-peace-full.txt")
    parsed.blocks = parsed.blocks[:40]

    chunks = chunk(parsed, "book", {"chunk_token_num": 256}, counter)

    assert chunks[0].heading_path == ("CHAPTER I",)
    assert all(item.token_count <= 256 + 16 for item in chunks)


def test_paper_abstract_chunk(counter):
    parsed = parse(
        b"# Deep Things\n\n## Abstract\n\nWe study things.\n\n## 1 Introduction\n\nThings matter.\n", "p.md"
    )

    chunks = chunk(parsed, "paper", None, counter)

    abstract = [item for item in chunks if item.metadata.get("section") == "abstract"]
    assert len(abstract) == 1
    assert "We study things." in abstract[0].content
    assert chunks[-1].heading_path == ("Deep Things", "1 Introduction")


def test_email_chunks_tagged_with_subject(counter):
    parsed = parse(DOCS / "mime-plain-and-html.eml")

    chunks = chunk(parsed, "email", None, counter)

    assert chunks[0].content.startswith("From: sender@example.com")
    assert all(item.heading_path == ("Subject: Example MIME Email",) for item in chunks)


def test_picture_without_text_gives_no_chunks(counter):
    parsed = ParsedDocument("scan.png", "image")

    assert chunk(parsed, "picture", None, counter) == []


def test_unknown_method_raises(counter):
    with pytest.raises(UnknownChunkMethodError, match="naive"):
        chunk(ParsedDocument("a.txt", "text"), "knowledge", None, counter)


@pytest.mark.parametrize("method", ["naive", "qa", "one", "manual", "paper", "book", "laws", "presentation", "picture", "email"])
def test_no_empty_chunks_on_real_files(method, counter):
    for name in ["tables-nested-merged.docx", "postgresql-doc-tutorial-join.html", "markitdown-readme.md"]:
        parsed = parse(DOCS / name)

        chunks = chunk(parsed, method, {"chunk_token_num": 64}, counter)

        assert chunks, name
        assert all(item.content.strip() for item in chunks)
