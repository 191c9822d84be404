"""HTML pages and fragments: headings, paragraphs and tables, without script or style text."""

import logging
import warnings

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, ProcessingInstruction, Tag, XMLParsedAsHTMLWarning

from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, ParsedDocument

logger = logging.getLogger(__name__)


# Elements whose text a browser does not display.
_INVISIBLE = ("script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object")
_NAVIGATION = ("nav",)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = frozenset(
    "address article aside blockquote body dd details dialog div dl dt fieldset figcaption figure "
    "footer form header hgroup hr html li main ol p pre section summary ul caption center".split()
)


def parse_html(context: ParseContext) -> ParsedDocument:
    parsed = ParsedDocument(context.filename, "html")
    soup = make_soup(context.data)
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if title:
        parsed.metadata["title"] = title
    parsed.blocks = html_blocks(soup)
    context.progress(1.0, "HTML read.")
    return parsed


def make_soup(markup: bytes | str) -> BeautifulSoup:
    """Parse HTML or XHTML with lxml's HTML parser.

    XHTML (EPUB parts, some saved pages) goes through the HTML parser on purpose: it tolerates
    the HTML entities and broken markup that an XML parser rejects.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(markup, "lxml")


def html_blocks(soup: BeautifulSoup | Tag) -> list[Block]:
    """Return the blocks of parsed HTML in document order; removes invisible elements in place."""
    for element in soup.find_all(_INVISIBLE):
        element.decompose()
    for element in soup.find_all(_NAVIGATION):
        element.decompose()
    for element in soup.find_all(attrs={"role": "navigation"}):
        element.decompose()
    for element in soup.find_all(string=lambda text: isinstance(text, (Comment, Doctype, ProcessingInstruction))):
        element.extract()

    walker = _Walker()
    walker.walk(soup)
    walker.flush()
    return walker.blocks


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.headings: list[tuple[int, str]] = []
        self.inline: list[str] = []

    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self.headings)

    def flush(self) -> None:
        text = "".join(self.inline)
        lines = [" ".join(line.split()) for line in text.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append(Block(BlockKind.TEXT, text, heading_path=self.path()))
        self.inline.clear()

    def walk(self, element: Tag) -> None:
        for child in element.children:
            if isinstance(child, NavigableString):
                self.inline.append(str(child))
            elif isinstance(child, Tag):
                self.visit(child)

    def visit(self, tag: Tag) -> None:
        name = tag.name
        if name in _HEADINGS:
            self.flush()
            # Sphinx and other generators append a "¶" permalink to headings.
            title = " ".join(tag.get_text(" ", strip=True).split()).removesuffix("¶").strip()
            if title:
                level = _HEADINGS[name]
                while self.headings and self.headings[-1][0] >= level:
                    self.headings.pop()
                self.blocks.append(Block(BlockKind.HEADING, title, heading_path=self.path(), level=level))
                self.headings.append((level, title))
        elif name == "table":
            self.flush()
            self.add_table(tag)
        elif name == "pre":
            self.flush()
            text = tag.get_text().strip("\n")
            if text.strip():
                self.blocks.append(Block(BlockKind.TEXT, text, heading_path=self.path()))
        elif name == "br":
            self.inline.append("\n")
        elif name in _BLOCKS:
            self.flush()
            self.walk(tag)
            self.flush()
        else:
            self.walk(tag)

    def add_table(self, table: Tag) -> None:
        rows: list[list[str]] = []
        for row in table.find_all("tr"):
            if row.find_parent("table") is not table:
                continue
            cells = [
                " ".join(cell.get_text(" ", strip=True).split())
                for cell in row.find_all(["td", "th"])
                if cell.find_parent("tr") is row
            ]
            if any(cells):
                rows.append(cells)
        if not rows:
            return
        if len(rows) == 1 and len(rows[0]) == 1:
            # A one-cell table is a layout box around text, as in many old pages and filings.
            self.blocks.append(Block(BlockKind.TEXT, rows[0][0], heading_path=self.path()))
            return
        text = "\n".join(" | ".join(cell for cell in cells) for cells in rows)
        self.blocks.append(Block(BlockKind.TABLE, text, heading_path=self.path(), rows=rows))
