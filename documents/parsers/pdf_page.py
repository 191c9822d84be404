"""Read the words and ruled tables of one PDF page through pdfium.

pdfium reads a page's objects many times faster than pdfminer, the parser under pdfplumber. The
words and tables come out as pdfplumber 0.11 returns them for ``extract_words`` with
``x_tolerance_ratio`` and ``extra_attrs=["size", "upright"]``, and for ``find_tables`` with its
default "lines" strategy, in points from the top-left corner of the displayed page. Table finding
runs pdfplumber's own TableFinder on character and edge dicts built from pdfium's objects.

The results differ from pdfplumber's in two known ways. pdfium drops the fractional part of glyph
widths in a font's /Widths array, so in TeX output, whose widths have fractions, characters drift
left of pdfminer's positions along a line. The drift reached about 0.3 pt at the end of a line in
the TeX-made manual "An Introduction to R". pdfium's character box also covers glyph outlines
that overhang the advance width (italic "f"), which can close a word gap narrower than the
overhang.
"""

import ctypes
import itertools
import math
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

import pypdfium2
import pypdfium2.raw as pdfium_c
from pdfplumber.table import Table, TableFinder

# Text of a glyph that has no Unicode mapping (pdfium returns U+0000 or a control character for
# it, pdfminer "(cid:N)"). The character keeps its box, so that it does not split its word, and
# callers drop the marker from the text.
UNMAPPED_GLYPH = "\ufffd"
# pdfium returns U+0002 for a hyphen that ends a line (FPDFText_IsHyphen).
LINE_END_HYPHEN = "\x02"
# Characters whose tops differ by more than this (points) are on different lines, and a word
# never spans lines (pdfplumber's default y_tolerance).
CHAR_LINE_TOLERANCE = 3.0
# Ligature characters U+FB00 to U+FB06 ("ff", "fi", "fl", "ffi", "ffl", "st", "st"), which words
# spell out as separate letters.
LIGATURES = {chr(code): unicodedata.normalize("NFKC", chr(code)) for code in range(0xFB00, 0xFB07)}


@dataclass
class PageTable:
    """A ruled table: its box (x0, top, x1, bottom) and its cell texts, None for merged cells."""

    bbox: tuple[float, float, float, float]
    rows: list[list[str | None]]


@dataclass
class PageContent:
    width: float
    height: float
    # Upright words as dicts with text, x0, x1, top, bottom, size and upright; rotated text is
    # left out.
    words: list[dict]
    tables: list[PageTable]


class _Char(NamedTuple):
    """A character with its box in points from the top-left corner of the displayed page."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    upright: bool


class _DisplayFrame:
    """The map from PDF user space to the displayed page: /Rotate applied, y growing upwards from 0.

    The matrix is the one pdfminer sets up for a page, applied to the page bounding box (the
    intersection of media box and crop box, the area that pdfium renders).
    """

    def __init__(self, page: pypdfium2.PdfPage):
        left, bottom, right, top = page.get_bbox()
        rotation = page.get_rotation() % 360
        if rotation == 90:
            self.matrix = (0.0, -1.0, 1.0, 0.0, -bottom, right)
        elif rotation == 180:
            self.matrix = (-1.0, 0.0, 0.0, -1.0, right, top)
        elif rotation == 270:
            self.matrix = (0.0, 1.0, -1.0, 0.0, top, -left)
        else:
            self.matrix = (1.0, 0.0, 0.0, 1.0, -left, -bottom)
        if rotation in (90, 270):
            self.width, self.height = top - bottom, right - left
        else:
            self.width, self.height = right - left, top - bottom

    def point(self, x: float, y: float) -> tuple[float, float]:
        """Return (x, top) on the displayed page for the user-space point (x, y)."""
        a, b, c, d, e, f = self.matrix
        return a * x + c * y + e, self.height - (b * x + d * y + f)


def read_page(page: pypdfium2.PdfPage, word_gap_ratio: float) -> PageContent:
    """Read the upright words and the ruled tables of ``page``.

    A word ends where the gap to the next character exceeds ``word_gap_ratio`` times the font
    size. Raises pypdfium2.PdfiumError when pdfium cannot load the page's text.
    """
    frame = _DisplayFrame(page)
    textpage = page.get_textpage()
    try:
        chars = _page_chars(textpage, frame)
    finally:
        textpage.close()
    words = _group_words(chars, word_gap_ratio)
    edges = _page_edges(page, frame)
    has_vertical_edge = any(edge["orientation"] == "v" for edge in edges)
    tables = _find_tables(edges, chars, frame) if has_vertical_edge else []
    return PageContent(frame.width, frame.height, words, tables)


def _page_chars(textpage: pypdfium2.PdfTextPage, frame: _DisplayFrame) -> list[_Char]:
    """Return the page's characters in pdfium's text order, with pdfminer's box for each.

    Spaces that pdfium inserted itself between words and lines are left out, because word
    grouping finds breaks from the gaps between characters. Spaces present in the PDF are kept,
    since words break there too.
    """
    handle = textpage.raw
    get_unicode = pdfium_c.FPDFText_GetUnicode
    get_loose_box = pdfium_c.FPDFText_GetLooseCharBox
    is_generated = pdfium_c.FPDFText_IsGenerated
    box = pdfium_c.FS_RECTF()
    runs: dict[int, _TextRun] = {}
    previous_object = run = None
    read: list[tuple[str, float, float, float, float, _TextRun]] = []
    for index in range(pdfium_c.FPDFText_CountChars(handle)):
        code = get_unicode(handle, index)
        # Surrogate halves and values past U+10FFFF are not characters and cannot be stored as text.
        text = UNMAPPED_GLYPH if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else chr(code)
        if text.isspace() and is_generated(handle, index):
            continue
        if text == LINE_END_HYPHEN:
            text = "-"
        elif text < " " and not text.isspace():
            text = UNMAPPED_GLYPH
        text_object = _get_text_object(handle, index)
        if run is None or text_object != previous_object:
            run = runs.get(text_object) if text_object else None
            if run is None:
                run = _TextRun(handle, index, frame)
                if text_object:
                    runs[text_object] = run
            previous_object = text_object
        get_loose_box(handle, index, box)
        read.append((text, box.left, box.bottom, box.right, box.top, run))
        if run.level and not text.isspace():
            run.descent_line = max(run.descent_line, box.bottom)

    chars = []
    # The frame's map of both box corners, written out because this loop runs for every character.
    a, b, c, d, e, f = frame.matrix
    height = frame.height
    for text, left, bottom, right, top, run in read:
        if run.level and run.descent_line > -math.inf:
            bottom = run.descent_line
        x0 = a * left + c * bottom + e
        x1 = a * right + c * top + e
        top, bottom = height - (b * left + d * bottom + f), height - (b * right + d * top + f)
        if x0 > x1:
            x0, x1 = x1, x0
        if top > bottom:
            top, bottom = bottom, top
        if run.upright:
            # pdfminer's character box spans the font size upwards from the descent line.
            top = bottom - run.size
        chars.append(_Char(text, x0, x1, top, bottom, run.size, run.upright))
    return chars


class _TextRun:
    """Font size, orientation and descent line shared by the characters of one PDF text object.

    pdfium makes one text object per text-showing operator, so its characters share font, size,
    matrix and baseline.
    """

    def __init__(self, textpage_handle, index: int, frame: _DisplayFrame):
        font_size = pdfium_c.FPDFText_GetFontSize(textpage_handle, index)
        matrix = pdfium_c.FS_MATRIX()
        pdfium_c.FPDFText_GetMatrix(textpage_handle, index, matrix)
        # The text matrix on the displayed page, as pdfminer computes it to decide "upright".
        frame_a, frame_b, frame_c, frame_d, _, _ = frame.matrix
        a = matrix.a * frame_a + matrix.b * frame_c
        b = matrix.a * frame_b + matrix.b * frame_d
        c = matrix.c * frame_a + matrix.d * frame_c
        d = matrix.c * frame_b + matrix.d * frame_d
        self.upright = a * d > 0 and b * c <= 0
        # pdfminer's size is the height of an upright character's box: the font size scaled by
        # the matrix, which also covers TeX's 1 pt fonts scaled up by the text matrix.
        self.size = font_size * abs(d) if self.upright else font_size * math.hypot(c, d)
        # Level text (no rotation or skew in user space) has its baseline along x. pdfium's loose
        # box joins the font's descent-to-ascent box with the glyph outline, so a descender that
        # reaches below the font's descent ("g", "j") lowers that character's box. The highest
        # box bottom among the run's characters is the font's descent line.
        self.level = matrix.b == 0 and matrix.c == 0 and matrix.a > 0 and matrix.d > 0
        self.descent_line = -math.inf


def _pointer_returning(function):
    """Return ``function`` (a pdfium ctypes function) declared to return a plain address.

    ctypes returns a new pointer object per call otherwise, and two of them never compare equal.
    """
    address = ctypes.cast(function, ctypes.c_void_p).value
    return ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)(address)


_get_text_object = _pointer_returning(pdfium_c.FPDFText_GetTextObject)


def _group_words(chars: list[_Char], gap_ratio: float) -> list[dict]:
    """Group upright characters into words the way pdfplumber's WordExtractor does, and drop the rest.

    Consecutive characters of one size form a group, and a group splits into lines of characters
    whose tops chain within CHAR_LINE_TOLERANCE. Each line, sorted by x, splits into words at
    spaces and where a character starts left of the previous one, more than ``gap_ratio`` times
    the font size after it, or more than CHAR_LINE_TOLERANCE above or below it.
    """
    words = []
    for (upright, _), group in itertools.groupby(chars, key=lambda char: (char.upright, char.size)):
        if not upright:
            # Rotated text is left out: it is mostly margin stamps such as arXiv identifiers, and
            # pdfplumber returns it one character per word, which reads as noise and as
            # one-letter headings.
            continue
        for line in _cluster_lines(list(group)):
            line.sort(key=lambda char: char.x0)
            word: list[_Char] = []
            for char in line:
                if char.text.isspace():
                    if word:
                        words.append(_merge_word(word))
                    word = []
                    continue
                if word:
                    previous = word[-1]
                    if (
                        char.x0 < previous.x0
                        or char.x0 > previous.x1 + gap_ratio * previous.size
                        or abs(char.top - previous.top) > CHAR_LINE_TOLERANCE
                    ):
                        words.append(_merge_word(word))
                        word = []
                word.append(char)
            if word:
                words.append(_merge_word(word))
    return words


def _cluster_lines(chars: list[_Char]) -> list[list[_Char]]:
    """Split characters into lines, top line first, keeping the characters' order in each line.

    The distinct tops, sorted, stay on one line while each is within CHAR_LINE_TOLERANCE of the
    previous one.
    """
    line_of_top = {}
    line = -1
    previous_top = -math.inf
    for top in sorted({char.top for char in chars}):
        if top > previous_top + CHAR_LINE_TOLERANCE:
            line += 1
        line_of_top[top] = line
        previous_top = top
    lines: list[list[_Char]] = [[] for _ in range(line + 1)]
    for char in chars:
        lines[line_of_top[char.top]].append(char)
    return lines


def _merge_word(chars: list[_Char]) -> dict:
    return {
        "text": "".join(LIGATURES.get(char.text, char.text) for char in chars),
        "x0": min(char.x0 for char in chars),
        "x1": max(char.x1 for char in chars),
        "top": min(char.top for char in chars),
        "bottom": max(char.bottom for char in chars),
        "size": chars[0].size,
        "upright": chars[0].upright,
    }


def _page_edges(page: pypdfium2.PdfPage, frame: _DisplayFrame) -> list[dict]:
    """Return the edges of the page's paths as pdfplumber edge dicts, in display coordinates.

    The edges come in pdfplumber's order (those of lines, then rectangles, then curves), because
    snapping averages their positions and the order can change the last digit of a position.
    """
    edges_by_shape: dict[str, list[dict]] = {"line": [], "rect": [], "curve": []}
    for path, matrices in _path_objects(page):
        for operators, points in _subpaths(path, matrices, frame):
            if not operators.startswith("m"):
                # pdfminer ignores a path that does not begin with a move.
                continue
            shape = _subpath_shape(operators, points)
            edges_by_shape[shape].extend(_subpath_edges(shape, points))
    return edges_by_shape["line"] + edges_by_shape["rect"] + edges_by_shape["curve"]


def _path_objects(page: pypdfium2.PdfPage):
    """Yield (path object, matrices from its space to user space) for every path on the page.

    Paths inside form XObjects come with the matrices of their enclosing form objects, innermost
    first, after the path's own matrix.
    """
    count = pdfium_c.FPDFPage_CountObjects(page)
    stack = [(pdfium_c.FPDFPage_GetObject(page, index), ()) for index in reversed(range(count))]
    while stack:
        page_object, outer = stack.pop()
        kind = pdfium_c.FPDFPageObj_GetType(page_object)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            yield page_object, (_object_matrix(page_object), *outer)
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            inner = (_object_matrix(page_object), *outer)
            count = pdfium_c.FPDFFormObj_CountObjects(page_object)
            children = [pdfium_c.FPDFFormObj_GetObject(page_object, index) for index in range(count)]
            stack.extend((child, inner) for child in reversed(children))


def _object_matrix(page_object) -> tuple[float, ...]:
    matrix = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(page_object, matrix):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return (matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f)


def _subpaths(path, matrices: tuple, frame: _DisplayFrame):
    """Yield (operators, points) for each subpath, in display coordinates, as pdfminer records them.

    pdfminer keeps one point per path operator ("m", "l", "c" or "h"): the end point of a line or
    curve, without Bezier control points, and the subpath's first point for "h" (close). It also
    drops a line back to the first point just before "h". pdfium instead marks the last segment as
    closing, after adding that line when the path did not end at its first point.
    """
    x = ctypes.c_float()
    y = ctypes.c_float()
    operators = ""
    points: list[tuple[float, float]] = []
    bezier_points = 0
    for index in range(pdfium_c.FPDFPath_CountSegments(path)):
        segment = pdfium_c.FPDFPath_GetPathSegment(path, index)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            if points:
                yield operators, points
            operators, points, bezier_points = "", [], 0
            operator = "m"
        elif kind == pdfium_c.FPDF_SEGMENT_LINETO:
            operator = "l"
        elif kind == pdfium_c.FPDF_SEGMENT_BEZIERTO:
            # A curve is three BEZIERTO segments: two control points and the end point.
            bezier_points += 1
            if bezier_points % 3:
                continue
            operator = "c"
        else:
            continue
        if not pdfium_c.FPDFPathSegment_GetPoint(segment, x, y):
            continue
        point_x, point_y = x.value, y.value
        for a, b, c, d, e, f in matrices:
            point_x, point_y = a * point_x + c * point_y + e, b * point_x + d * point_y + f
        operators += operator
        points.append(frame.point(point_x, point_y))
        if pdfium_c.FPDFPathSegment_GetClose(segment) and operators[0] == "m":
            if operators[-1] == "l" and len(operators) > 2 and points[-1] == points[0]:
                operators = operators[:-1] + "h"
            else:
                operators += "h"
                points.append(points[0])
    if points:
        yield operators, points


def _subpath_shape(operators: str, points: list[tuple[float, float]]) -> str:
    """Return how pdfminer reads a subpath: "line", "rect" (axis-aligned, closed) or "curve"."""
    if operators in ("ml", "mlh"):
        return "line"
    if operators in ("mlllh", "mllll") and _is_rectangle(points):
        return "rect"
    return "curve"


def _subpath_edges(shape: str, points: list[tuple[float, float]]) -> list[dict]:
    """Return the horizontal and vertical edges that pdfplumber derives from one subpath."""
    if shape == "line":
        (x_a, top_a), (x_b, top_b) = points[0], points[1]
        # pdfplumber calls every line that is not exactly horizontal a vertical edge.
        orientation = "h" if top_a == top_b else "v"
        return [_edge(min(x_a, x_b), min(top_a, top_b), max(x_a, x_b), max(top_a, top_b), orientation)]
    if shape == "rect":
        (x_a, top_a), (x_b, top_b) = points[0], points[2]
        x0, x1 = min(x_a, x_b), max(x_a, x_b)
        top, bottom = min(top_a, top_b), max(top_a, top_b)
        return [
            _edge(x0, top, x1, top, "h"),
            _edge(x0, bottom, x1, bottom, "h"),
            _edge(x0, top, x0, bottom, "v"),
            _edge(x1, top, x1, bottom, "v"),
        ]
    edges = []
    for (x_a, top_a), (x_b, top_b) in zip(points, points[1:]):
        if x_a == x_b:
            orientation = "v"
        elif top_a == top_b:
            orientation = "h"
        else:
            continue
        edges.append(
            _edge(min(x_a, x_b), min(top_a, top_b), max(x_a, x_b), max(top_a, top_b), orientation)
        )
    return edges


def _is_rectangle(points: list[tuple[float, float]]) -> bool:
    """Return True for five points that run around an axis-aligned rectangle back to the start."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3), last = points
    if last != points[0]:
        return False
    vertical_first = x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0
    horizontal_first = y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0
    return vertical_first or horizontal_first


def _edge(x0: float, top: float, x1: float, bottom: float, orientation: str) -> dict:
    return {
        "object_type": "edge",
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": orientation,
    }


class _TableSource:
    """The page attributes that pdfplumber's TableFinder and Table.extract read."""

    def __init__(self, edges: list[dict], chars: list[_Char], frame: _DisplayFrame):
        self.edges = edges
        self.chars = [
            {
                "text": char.text,
                "x0": char.x0,
                "x1": char.x1,
                "top": char.top,
                "bottom": char.bottom,
                "doctop": char.top,
                "size": char.size,
                "upright": char.upright,
            }
            for char in chars
        ]
        self.bbox = (0.0, 0.0, frame.width, frame.height)


def _find_tables(edges: list[dict], chars: list[_Char], frame: _DisplayFrame) -> list[PageTable]:
    # NOTE: TableFinder and Table.extract expect a pdfplumber Page, but pdfplumber 0.11 reads only
    # ``edges``, ``chars`` and ``bbox`` from it. The PDF table tests fail if a later version reads more.
    finder = TableFinder(_TableSource(edges, [], frame))
    tables = []
    for table in finder.tables:
        # Table.extract tests every character of its page against every row, so give it only the
        # characters whose middle lies in the table, by the same half-open test it applies.
        x0, top, x1, bottom = table.bbox
        inside = [
            char
            for char in chars
            if x0 <= (char.x0 + char.x1) / 2 < x1 and top <= (char.top + char.bottom) / 2 < bottom
        ]
        cells = Table(_TableSource([], inside, frame), table.cells).extract()
        tables.append(PageTable(table.bbox, cells))
    return tables
