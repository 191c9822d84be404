"""File kinds by extension, the chunk method some kinds force, and content signature checks."""

from dataclasses import dataclass

from documents.choices import DocumentType

DOC_SUFFIXES = frozenset(
    "msg eml doc docx ppt pptx yml xml htm json jsonl ldjson csv txt ini xls xlsx wps rtf hlp pages "
    "numbers key md mdx py js java c cpp h php go ts sh cs kt html sql epub".split()
)
AURAL_SUFFIXES = frozenset("wav flac ape alac wavpack wv mp3 aac ogg vorbis opus".split())
VISUAL_SUFFIXES = frozenset(
    "jpg jpeg png tif tiff gif bmp pcx tga exif fpx svg psd cdr pcd dxf ufo eps ai raw wmf webp avif "
    "apng icon ico mpg mpeg avi rm rmvb mov wmv asf dat asx wvx mpe mpa mp4 mkv".split()
)
PRESENTATION_SUFFIXES = frozenset({"ppt", "pptx", "pages"})
EMAIL_SUFFIXES = frozenset({"msg", "eml"})


def suffix_of(name: str) -> str:
    """Return the lower-cased extension of ``name`` without the dot, or "" when it has none."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        return ""
    return suffix.lower()


def document_type_of(name: str) -> str:
    """Return the DocumentType value of a file name; ``other`` means the upload is not supported."""
    suffix = suffix_of(name)
    if suffix == "pdf":
        return DocumentType.PDF
    if suffix in DOC_SUFFIXES:
        return DocumentType.DOC
    if suffix in AURAL_SUFFIXES:
        return DocumentType.AURAL
    if suffix in VISUAL_SUFFIXES:
        return DocumentType.VISUAL
    return DocumentType.OTHER


def forced_chunk_method(name: str, doc_type: str) -> str | None:
    """Return the chunk method a file kind always uses, or None to use the dataset's method."""
    suffix = suffix_of(name)
    if doc_type == DocumentType.VISUAL:
        return "picture"
    if doc_type == DocumentType.AURAL:
        return "audio"
    if suffix in PRESENTATION_SUFFIXES:
        return "presentation"
    if suffix in EMAIL_SUFFIXES:
        return "email"
    return None


# Leading bytes of the containers that binary formats use.
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Compound File Binary (OLE2): legacy Office files, Outlook .msg, and password-protected
# Office Open XML files, which are encrypted into a CFB container instead of a ZIP archive.
CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# PDF readers accept the header anywhere in the first 1024 bytes (PDF 1.7 implementation note 13).
PDF_HEADER_WINDOW = 1024
SIGNATURE_PROBE_BYTES = PDF_HEADER_WINDOW


@dataclass(frozen=True)
class ContentRule:
    signatures: tuple[bytes, ...]
    expected: str


_OOXML = ContentRule(ZIP_SIGNATURES + (CFB_SIGNATURE,), "an Office Open XML file (a ZIP archive)")
_CFB = ContentRule((CFB_SIGNATURE,), "a Microsoft Office 97-2003 file (an OLE2 compound file)")

# NOTE: text formats and .xls are not checked: text has no signature, and spreadsheet exports
# named .xls are often HTML or CSV that the table parser still reads.
CONTENT_RULES = {
    "docx": _OOXML,
    "xlsx": _OOXML,
    "pptx": _OOXML,
    "epub": ContentRule(ZIP_SIGNATURES, "an EPUB book (a ZIP archive)"),
    "doc": ContentRule((CFB_SIGNATURE, b"{\\rtf"), "a Word 97-2003 document (an OLE2 compound file or RTF)"),
    "ppt": _CFB,
    "msg": ContentRule((CFB_SIGNATURE,), "an Outlook message (an OLE2 compound file)"),
    "png": ContentRule((b"\x89PNG\r\n\x1a\n",), "a PNG image"),
    "jpg": ContentRule((b"\xff\xd8\xff",), "a JPEG image"),
    "jpeg": ContentRule((b"\xff\xd8\xff",), "a JPEG image"),
    "gif": ContentRule((b"GIF87a", b"GIF89a"), "a GIF image"),
    "bmp": ContentRule((b"BM",), "a BMP image"),
    "tif": ContentRule((b"II*\x00", b"MM\x00*"), "a TIFF image"),
    "tiff": ContentRule((b"II*\x00", b"MM\x00*"), "a TIFF image"),
}


def content_mismatch(suffix: str, head: bytes) -> str | None:
    """Return what a file with this extension must contain when ``head`` does not match, else None.

    ``head`` is the first SIGNATURE_PROBE_BYTES bytes of the file. Empty files always pass,
    because an empty upload is accepted as an empty document.
    """
    if not head:
        return None
    if suffix == "pdf":
        return None if b"%PDF-" in head[:PDF_HEADER_WINDOW] else "a PDF document (starting with %PDF-)"
    if suffix == "webp":
        return None if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else "a WebP image"
    rule = CONTENT_RULES.get(suffix)
    if rule is None or head.startswith(rule.signatures):
        return None
    return rule.expected
