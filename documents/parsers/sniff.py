"""Identify a file's real format from its leading bytes and container layout."""

import io
import logging
import zipfile

import olefile

logger = logging.getLogger(__name__)

CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# PDF readers accept the header anywhere in the first 1024 bytes (PDF 1.7, implementation note 13).
PDF_HEADER_WINDOW = 1024

_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
)

# Human-readable names for messages, keyed by the kinds sniff_kind returns.
KIND_NAMES = {
    "pdf": "a PDF document",
    "docx": "a Word document (.docx)",
    "xlsx": "an Excel workbook (.xlsx)",
    "pptx": "a PowerPoint presentation (.pptx)",
    "epub": "an EPUB book",
    "zip": "a ZIP archive",
    "broken_zip": "a damaged ZIP archive",
    "doc": "a Word 97-2003 document (.doc)",
    "xls": "an Excel 97-2003 workbook (.xls)",
    "ppt": "a PowerPoint 97-2003 presentation (.ppt)",
    "msg": "an Outlook message (.msg)",
    "encrypted_ooxml": "a password-protected Office file",
    "cfb": "an OLE2 compound file",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "tiff": "a TIFF image",
    "bmp": "a BMP image",
    "webp": "a WebP image",
    "rtf": "an RTF document",
}


def sniff_kind(data: bytes) -> str | None:
    """Return the format the bytes contain (a KIND_NAMES key), or None for text and unknown data."""
    head = data[:PDF_HEADER_WINDOW]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if head.startswith(CFB_SIGNATURE):
        return _cfb_kind(data)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    for signature, kind in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return kind
    return None


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == b"application/epub+zip":
                return "epub"
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return "broken_zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "META-INF/container.xml" in names:
        return "epub"
    return "zip"


def _cfb_kind(data: bytes) -> str:
    try:
        with olefile.OleFileIO(data) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError, IndexError) as error:
        # olefile raises OSError for a broken header or sector table; the caller reports it.
        logger.info("OLE2 container unreadable: %s", error)
        return "cfb"
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        return "encrypted_ooxml"
    if "WordDocument" in streams:
        return "doc"
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "PowerPoint Document" in streams:
        return "ppt"
    if any(name.startswith("__substg1.0_") for name in streams):
        return "msg"
    return "cfb"
