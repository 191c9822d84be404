"""Word 97-2003 (.doc) and PowerPoint 97-2003 (.ppt) text, read from the OLE2 container.

Word text comes from the piece table described in [MS-DOC] 2.4.1 ("Retrieving Text"); PowerPoint
text comes from the TextCharsAtom and TextBytesAtom records of [MS-PPT] 2.9. Neither reader
interprets styles, so .doc files give paragraphs without heading levels.
"""

import logging
import struct

import olefile

from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, ParsedDocument
from documents.parsers.errors import CorruptDocumentError, EncryptedDocumentError

logger = logging.getLogger(__name__)

_WORD_IDENT = 0xA5EC
_FLAG_ENCRYPTED = 0x0100
_FLAG_TABLE_1 = 0x0200
# Index of fcClx within FibRgFcLcb97 counted in 32-bit values ([MS-DOC] 2.5.6: the 34th pair).
_FC_CLX_INDEX = 66
# Field codes are the text between 0x13 and 0x14; the displayed result follows up to 0x15.
_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END = "\x13", "\x14", "\x15"
# Characters that Word stores for cell ends (0x07), line breaks (0x0B), page breaks (0x0C),
# pictures (0x01), drawn objects (0x08) and footnote references (0x02).
_CELL_END, _LINE_BREAK, _PAGE_BREAK = "\x07", "\x0b", "\x0c"
_OBJECT_MARKS = "\x01\x02\x08"

# PowerPoint record types ([MS-PPT] 2.13.24).
_RT_SLIDE = 0x03EE
_RT_MAIN_MASTER = 0x03F8
_RT_NOTES = 0x03F0
_RT_SLIDE_LIST_WITH_TEXT = 0x0FF0
_RT_SLIDE_PERSIST_ATOM = 0x03F3
_RT_TEXT_CHARS_ATOM = 0x0FA0
_RT_TEXT_BYTES_ATOM = 0x0FA8
# Deepest record nesting followed; real files nest under 10 levels, so this only stops loops.
_MAX_RECORD_DEPTH = 32


def parse_doc(context: ParseContext) -> ParsedDocument:
    with _open_ole(context, "Word 97-2003 document") as ole:
        try:
            text = _word_text(ole, context.filename)
        except (struct.error, IndexError, ValueError, OSError) as error:
            logger.warning("Word binary structure of %s unreadable: %s", context.filename, error)
            raise CorruptDocumentError(
                f"The Word document {context.filename!r} is damaged and cannot be read; "
                "open it in Word, save it as .docx and upload that file."
            ) from error

    parsed = ParsedDocument(context.filename, "doc")
    for paragraph in text.split("\n"):
        paragraph = " ".join(paragraph.split(" ")).strip()
        if paragraph:
            parsed.blocks.append(Block(BlockKind.TEXT, paragraph))
    context.progress(1.0, "Document read.")
    return parsed


def parse_ppt(context: ParseContext) -> ParsedDocument:
    with _open_ole(context, "PowerPoint 97-2003 presentation") as ole:
        if not ole.exists("PowerPoint Document"):
            raise CorruptDocumentError(
                f"The presentation {context.filename!r} has no slide data; "
                "open it in PowerPoint, save it as .pptx and upload that file."
            )
        if ole.exists("EncryptedSummary"):
            raise EncryptedDocumentError(
                f"The presentation {context.filename!r} is protected with a password; "
                "remove the password and upload it again."
            )
        stream = ole.openstream("PowerPoint Document").read()

    slides = _slide_texts(stream)
    parsed = ParsedDocument(context.filename, "ppt", unit_count=len(slides))
    for number, texts in enumerate(slides, start=1):
        for text in texts:
            parsed.blocks.append(Block(BlockKind.TEXT, text, page=number))
    context.progress(1.0, "Presentation read.")
    return parsed


def _open_ole(context: ParseContext, kind: str) -> olefile.OleFileIO:
    try:
        return olefile.OleFileIO(context.data)
    except (OSError, ValueError, IndexError) as error:
        logger.warning("OLE2 container of %s unreadable: %s", context.filename, error)
        raise CorruptDocumentError(
            f"The {kind} {context.filename!r} is damaged and cannot be read; "
            "open and save it again in an office program, then upload it again."
        ) from error


def _word_text(ole: olefile.OleFileIO, filename: str) -> str:
    word = ole.openstream("WordDocument").read()
    ident, = struct.unpack_from("<H", word, 0)
    if ident != _WORD_IDENT:
        raise ValueError(f"WordDocument stream starts with 0x{ident:04X}, not 0xA5EC")
    flags, = struct.unpack_from("<H", word, 0x0A)
    if flags & _FLAG_ENCRYPTED:
        raise EncryptedDocumentError(
            f"The Word document {filename!r} is protected with a password; "
            "remove the password and upload it again."
        )

    # FIB layout ([MS-DOC] 2.5.1): FibBase (32 bytes), csw + fibRgW, cslw + fibRgLw,
    # cbRgFcLcb + fibRgFcLcbBlob.
    offset = 32
    csw, = struct.unpack_from("<H", word, offset)
    offset += 2 + csw * 2
    cslw, = struct.unpack_from("<H", word, offset)
    fib_rg_lw = offset + 2
    ccp_text, = struct.unpack_from("<i", word, fib_rg_lw + 3 * 4)
    offset += 2 + cslw * 4
    offset += 2
    fc_clx, lcb_clx = struct.unpack_from("<II", word, offset + _FC_CLX_INDEX * 4)

    table_name = "1Table" if flags & _FLAG_TABLE_1 else "0Table"
    table = ole.openstream(table_name).read()
    clx = table[fc_clx : fc_clx + lcb_clx]
    pieces = _piece_table(clx)

    chars: list[str] = []
    remaining = max(0, ccp_text)
    for cp_start, cp_end, fc, compressed in pieces:
        if remaining <= 0:
            break
        count = min(cp_end - cp_start, remaining)
        if compressed:
            chars.append(word[fc : fc + count].decode("cp1252", errors="replace"))
        else:
            chars.append(word[fc : fc + 2 * count].decode("utf-16-le", errors="replace"))
        remaining -= count
    return _clean_word_text("".join(chars))


def _piece_table(clx: bytes) -> list[tuple[int, int, int, bool]]:
    """Return (cp_start, cp_end, byte offset, compressed) for each piece of a Clx structure."""
    position = 0
    while position < len(clx) and clx[position] == 0x01:
        # A Prc: 1 type byte, 2 size bytes, then that many bytes of property modifiers.
        size, = struct.unpack_from("<h", clx, position + 1)
        position += 3 + size
    if position >= len(clx) or clx[position] != 0x02:
        raise ValueError("piece table (Pcdt) not found")
    length, = struct.unpack_from("<I", clx, position + 1)
    plc = clx[position + 5 : position + 5 + length]
    count = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    pieces = []
    for index in range(count):
        fc_value, = struct.unpack_from("<I", plc, (count + 1) * 4 + index * 8 + 2)
        compressed = bool(fc_value & 0x40000000)
        fc = fc_value & 0x3FFFFFFF
        if compressed:
            fc //= 2
        pieces.append((cps[index], cps[index + 1], fc, compressed))
    return pieces


def _clean_word_text(text: str) -> str:
    output: list[str] = []
    # Stack of field states: True while inside a field code that is not displayed.
    fields: list[bool] = []
    for char in text:
        if char == _FIELD_BEGIN:
            fields.append(True)
            continue
        if char == _FIELD_SEPARATOR:
            if fields:
                fields[-1] = False
            continue
        if char == _FIELD_END:
            if fields:
                fields.pop()
            continue
        if any(fields):
            continue
        if char in "\r" + _PAGE_BREAK:
            output.append("\n")
        elif char == _LINE_BREAK:
            output.append("\n")
        elif char == _CELL_END:
            output.append(" | ")
        elif char in _OBJECT_MARKS:
            continue
        else:
            output.append(char)
    lines = [line.strip().removesuffix("|").strip() for line in "".join(output).split("\n")]
    return "\n".join(lines)


def _slide_texts(stream: bytes) -> list[list[str]]:
    """Return the text strings of each slide in presentation order, without master or notes text."""
    slides: list[list[str]] = []
    listed: list[list[str]] = []
    _walk_records(stream, 0, len(stream), 0, None, slides, listed)
    # Placeholder text is stored in SlideListWithText and the text of other shapes in the Slide
    # records. Both are kept, without repeating a string already taken from the list.
    merged = []
    for index in range(max(len(slides), len(listed))):
        texts = list(listed[index]) if index < len(listed) else []
        for text in slides[index] if index < len(slides) else []:
            if text not in texts:
                texts.append(text)
        merged.append(texts)
    return [texts for texts in merged if texts]


def _walk_records(stream, start, end, depth, scope, slides, listed) -> None:
    position = start
    while position + 8 <= end and depth <= _MAX_RECORD_DEPTH:
        version_instance, record_type, length = struct.unpack_from("<HHI", stream, position)
        body = position + 8
        record_end = min(end, body + length)
        is_container = (version_instance & 0x000F) == 0x000F
        if record_type in (_RT_MAIN_MASTER, _RT_NOTES):
            pass
        elif record_type == _RT_SLIDE:
            slides.append([])
            _walk_records(stream, body, record_end, depth + 1, "slide", slides, listed)
        elif record_type == _RT_SLIDE_LIST_WITH_TEXT:
            instance = version_instance >> 4
            # Instance 0 lists slides; 1 lists masters and 2 lists notes.
            if instance == 0:
                _walk_records(stream, body, record_end, depth + 1, "list", slides, listed)
        elif record_type == _RT_SLIDE_PERSIST_ATOM and scope == "list":
            listed.append([])
        elif record_type in (_RT_TEXT_CHARS_ATOM, _RT_TEXT_BYTES_ATOM) and scope:
            raw = stream[body:record_end]
            encoding = "latin-1" if record_type == _RT_TEXT_BYTES_ATOM else "utf-16-le"
            text = raw.decode(encoding, errors="replace").replace("\r", "\n").replace("\x0b", "\n").strip()
            target = listed if scope == "list" else slides
            # A lone "*" is the placeholder for the slide number field.
            if text and target and text != "*":
                target[-1].append(text)
        elif is_container:
            _walk_records(stream, body, record_end, depth + 1, scope, slides, listed)
        position = body + length
