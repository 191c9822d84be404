"""Text-based formats: TXT encodings, Markdown, CSV, JSON, HTML, EML, EPUB and images."""


import pytest

from documents.parsers import (
    BlockKind,
    CorruptDocumentError,
    EmptyDocumentError,
    MislabelledDocumentError,
    NoticeCode,
    UnsupportedFormatError,
    ocr,
    parse,
)
from tests.corpus import DOCS



def test_txt_generated_gb18030():
    text = "第一章 总则\n\n本法适用于全国。한국어\n"

    parsed = parse(text.encode("gb18030"), "law.txt")

    assert parsed.metadata["encoding"] == "gb18030"
    assert parsed.text == "第一章 总则\n\n本法适用于全国。한국어"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("python-intro-gb18030.txt", "Python（派森）语言"),
        ("debian-faq-zh-cn-gb18030.txt", "Debian GNU/Linux 常见问题（FAQ）"),
        ("fake-text-utf16-bom.txt", "This is a test document to use for unit tests."),
        ("portuguese-latin1.txt", "acha-se tão bem determinada"),
        ("moliere-bio-cp1252.txt", "JEAN-BAPTISTE POQUELIN MOLIÈRE"),
        ("debian 常见问题 zh-cn.txt", "Debian GNU/Linux 常见问题（FAQ）"),
    ],
)
def test_txt_encodings(name, expected):
    parsed = parse(DOCS / name)

    assert expected in parsed.text


def test_txt_nul_bytes_stripped():
    parsed = parse(b"alpha\x00beta\n", "nul.txt")

    assert parsed.text == "alphabeta"


def test_txt_binary_content_raises_mislabelled():
    with pytest.raises(MislabelledDocumentError):
        parse((DOCS / "img-typewriter-dutch.png").read_bytes(), "notes.txt")


def test_txt_whitespace_only_gives_no_blocks():
    parsed = parse(b"  \n\n\t\n", "blank.txt")

    assert parsed.blocks == []
    assert parsed.has_notice(NoticeCode.NO_TEXT)


def test_zero_byte_text_raises_empty():
    with pytest.raises(EmptyDocumentError):
        parse(b"", "empty.txt")


def test_unknown_suffix_raises_unsupported():
    with pytest.raises(UnsupportedFormatError, match=r"\.xyz"):
        parse(b"data", "file.xyz")


def test_markdown_headings_code_and_table():
    source = (
        "# Guide\n\nIntro text.\n\n## Setup\n\n```sh\n# not a heading\npip install x\n```\n\n"
        "| Name | Value |\n| --- | --- |\n| a | 1 |\n"
    )

    parsed = parse(source.encode(), "guide.md")

    headings = [block.text for block in parsed.blocks if block.kind == BlockKind.HEADING]
    assert headings == ["Guide", "Setup"]
    code = next(block for block in parsed.blocks if block.text.startswith("```"))
    assert "# not a heading" in code.text
    assert code.heading_path == ("Guide", "Setup")
    table = next(block for block in parsed.blocks if block.kind == BlockKind.TABLE)
    assert table.rows == [["Name", "Value"], ["a", "1"]]


def test_markdown_latin1():
    parsed = parse(DOCS / "umlauts-latin1.md")

    assert parsed.blocks[0].kind == BlockKind.HEADING
    assert parsed.blocks[0].text == "können"


def test_csv_quoted_multiline_fields():
    source = 'id,comment,score\r\n1,"first line\r\nsecond line, with comma",5\r\n2,"he said ""hi""",7\r\n'

    parsed = parse(source.encode(), "comments.csv")

    rows = [block for block in parsed.blocks if block.kind == BlockKind.ROW]
    assert len(rows) == 2
    assert rows[0].values == ["1", "first line\r\nsecond line, with comma", "5"]
    assert rows[1].values[1] == 'he said "hi"'


def test_csv_real_multiline_file_keeps_records():
    parsed = parse(DOCS / "quoted-multiline-fields.csv")

    # 45 records: one header row and 44 data rows, four of them with line breaks inside quotes.
    assert parsed.unit_count == 44
    assert sum(1 for block in parsed.blocks if any("\n" in value for value in block.values)) == 4
    assert all(len(block.values) == 24 for block in parsed.blocks)


def test_csv_semicolon_and_decimal_comma():
    parsed = parse(DOCS / "revenue-semicolon-decimal-comma.csv")

    assert parsed.metadata["delimiter"] == ";"
    assert parsed.blocks[1].columns == ["Year", "Month", "Revenue", "Costs"]
    assert parsed.blocks[1].values == ["2023", "2", "143,1", "-814,38"]


def test_csv_shift_jis():
    parsed = parse(DOCS / "shift-jis-japanese.csv")

    assert parsed.blocks[0].text == "名前: 佐藤太郎\n年齢: 30\n住所: 東京"


def test_json_array_inside_object():
    parsed = parse(DOCS / "iso-3166-1-countries.json")

    assert len(parsed.blocks) == 249
    assert parsed.blocks[0].record["name"] == "Aruba"
    assert all(block.kind == BlockKind.RECORD for block in parsed.blocks)


def test_jsonl_records_and_invalid_lines():
    parsed = parse(b'{"a": 1}\nnot json\n{"b": "\xc3\xa9"}\n', "rows.jsonl")

    assert [block.record for block in parsed.blocks] == [{"a": 1}, {"b": "é"}]
    assert parsed.has_notice(NoticeCode.CONTENT_SKIPPED)


def test_invalid_json_raises_corrupt():
    with pytest.raises(CorruptDocumentError, match="not valid JSON"):
        parse(b"{broken", "data.json")


def test_html_drops_script_and_style():
    parsed = parse(DOCS / "autogen-blog-post.html")

    assert "function" not in parsed.text
    assert "gtag(" not in parsed.text
    assert "Does Model and Inference Parameter Matter in LLM Applications?" in parsed.text


def test_html_fragment_with_table():
    fragment = b"<h2>Prices</h2><script>alert('x')</script><table><tr><th>Item</th><th>Cost</th></tr><tr><td>Tea</td><td>2</td></tr></table>"

    parsed = parse(fragment, "prices.html")

    assert [block.kind for block in parsed.blocks] == [BlockKind.HEADING, BlockKind.TABLE]
    assert parsed.blocks[1].rows == [["Item", "Cost"], ["Tea", "2"]]
    assert parsed.blocks[1].heading_path == ("Prices",)
    assert "alert" not in parsed.text


def test_html_cp1252():
    parsed = parse(DOCS / "cp1252-encoded.html")

    assert "Die schöne Frau" in parsed.text


def test_email_headers_body_attachments():
    parsed = parse(DOCS / "attachment-equals-in-filename.eml")

    assert parsed.metadata["headers"]["Subject"] == "Odd filename example"
    assert parsed.blocks[0].text.startswith("From: Test User <testuser@example.com>")
    assert len(parsed.metadata["attachments"]) == 1
    assert "=" in parsed.metadata["attachments"][0]
    assert parsed.blocks[-1].text.startswith("Attachments: ")


def test_email_prefers_plain_part():
    parsed = parse(DOCS / "mime-plain-and-html.eml")

    assert "This is the text/plain part." in parsed.text


def test_epub_parts_in_spine_order():
    parsed = parse(DOCS / "winter-sports-in-switzerland.epub")

    assert parsed.unit_count == 10
    pages = [block.page for block in parsed.blocks]
    assert pages == sorted(pages)
    assert "Winter Sports in Switzerland" in parsed.text


def test_epub_repeated_spine_file_read_once():
    parsed = parse(DOCS / "live-manual-en.epub")

    # The spine lists 190 entries that point into 47 files with different #fragments.
    assert parsed.unit_count == 47
    assert max(block.page for block in parsed.blocks) <= 47


def test_image_without_tesseract_gives_notice(monkeypatch):
    monkeypatch.setattr(ocr, "tesseract_available", lambda: False)

    parsed = parse(DOCS / "img-chinese-simplified-text.jpeg")

    assert parsed.blocks == []
    assert parsed.has_notice(NoticeCode.OCR_UNAVAILABLE)


@pytest.mark.skipif(not ocr.tesseract_available(), reason="the tesseract program is not installed")
def test_image_chinese_ocr():
    parsed = parse(DOCS / "img-chinese-simplified-text.jpeg", ocr_languages="chi_sim")

    assert "适用人群" in parsed.text
    assert parsed.blocks[0].positions


def test_truncated_image_raises_corrupt():
    data = (DOCS / "img-typewriter-dutch.png").read_bytes()

    with pytest.raises(CorruptDocumentError):
        parse(data[:2000], "cut.png")
