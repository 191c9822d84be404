"""EPUB books: the XHTML parts in spine order, read from the ZIP container."""

import io
import logging
import posixpath
import zipfile
from urllib.parse import unquote

from bs4 import BeautifulSoup

from documents.parsers.context import ParseContext
from documents.parsers.document import ParsedDocument
from documents.parsers.errors import CorruptDocumentError, DocumentTooLargeError, EncryptedDocumentError
from documents.parsers.markup import html_blocks, make_soup

logger = logging.getLogger(__name__)

# Uncompressed bytes read from one book. Text-heavy EPUBs are a few MB; the limit stops ZIP
# archives that expand to gigabytes from exhausting memory.
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
_XHTML_TYPES = ("application/xhtml+xml", "text/html")


def parse_epub(context: ParseContext) -> ParsedDocument:
    try:
        archive = zipfile.ZipFile(io.BytesIO(context.data))
    except zipfile.BadZipFile as error:
        logger.warning("EPUB archive of %s unreadable: %s", context.filename, error)
        raise CorruptDocumentError(
            f"The book {context.filename!r} is damaged: its ZIP container cannot be read."
        ) from error

    with archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
            raise DocumentTooLargeError(
                f"The book {context.filename!r} expands to more than "
                f"{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB and is not parsed."
            )
        if _has_drm(archive):
            raise EncryptedDocumentError(
                f"The book {context.filename!r} is protected by DRM; upload a copy without DRM."
            )
        try:
            parts, title = _spine_parts(archive)
        except (KeyError, ValueError) as error:
            logger.warning("EPUB package of %s unreadable: %s", context.filename, error)
            raise CorruptDocumentError(
                f"The book {context.filename!r} is damaged: its package document is missing or invalid."
            ) from error

        parsed = ParsedDocument(context.filename, "epub", unit_count=len(parts))
        if title:
            parsed.metadata["title"] = title
        for number, name in enumerate(parts, start=1):
            try:
                markup = archive.read(name)
            except (KeyError, zipfile.BadZipFile, OSError) as error:
                logger.warning("EPUB part %s of %s unreadable: %s", name, context.filename, error)
                continue
            for block in html_blocks(make_soup(markup)):
                block.page = number
                parsed.blocks.append(block)
            context.progress(number / max(1, len(parts)), f"Part {number} of {len(parts)} read.")
    return parsed


def _has_drm(archive: zipfile.ZipFile) -> bool:
    """Return True when encryption.xml encrypts content; font obfuscation alone is not DRM."""
    try:
        encryption = archive.read("META-INF/encryption.xml")
    except KeyError:
        return False
    soup = BeautifulSoup(encryption, "xml")
    algorithms = [method.get("Algorithm", "") for method in soup.find_all("EncryptionMethod")]
    return any("obfuscation" not in algorithm and "font" not in algorithm for algorithm in algorithms)


def _spine_parts(archive: zipfile.ZipFile) -> tuple[list[str], str]:
    container = BeautifulSoup(archive.read("META-INF/container.xml"), "xml")
    rootfile = container.find("rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise ValueError("container.xml names no package document")
    package_path = rootfile["full-path"]
    package = BeautifulSoup(archive.read(package_path), "xml")
    base = posixpath.dirname(package_path)

    manifest = {}
    for item in package.find_all("item"):
        if item.get("id") and item.get("href"):
            manifest[item["id"]] = (posixpath.normpath(posixpath.join(base, unquote(item["href"]))), item.get("media-type", ""))

    parts = []
    for itemref in package.find_all("itemref"):
        entry = manifest.get(itemref.get("idref", ""))
        # Some books list one file several times with different #fragments; read it once.
        name = entry[0].split("#", 1)[0] if entry else ""
        if entry and entry[1] in _XHTML_TYPES and name not in parts:
            parts.append(name)
    title_tag = package.find("title")
    return parts, title_tag.get_text(strip=True) if title_tag else ""
