"""Decode text files: BOM first, then UTF-8, then GB18030, then a statistical detector."""

import codecs
import logging

from charset_normalizer import from_bytes

from documents.parsers.errors import MislabelledDocumentError

logger = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Share of two-byte GB18030 characters whose second byte is ASCII above which the GB18030 reading
# is rejected. Chinese text in GB2312/GBK uses second bytes 0xA1-0xFE almost always, while Latin-1
# or cp1252 text misread as GB18030 pairs an accented letter with the ASCII letter after it.
_GB_ASCII_TRAIL_LIMIT = 0.3
# Share of control characters (other than tab, newline, carriage return, form feed and escape)
# above which decoded "text" is treated as a binary file. Real text has almost none.
_BINARY_CONTROL_LIMIT = 0.05
# Bytes given to the detector; it samples anyway, and more only costs time on large files.
_DETECTOR_SAMPLE_BYTES = 1_000_000


def decode_text(data: bytes, filename: str) -> tuple[str, str, bool]:
    """Return the decoded text, the encoding name, and whether the encoding was only guessed.

    NUL characters are removed from the result. Raises MislabelledDocumentError when the bytes
    look like a binary file rather than text.
    """
    text, encoding, guessed = _decode(data, filename)
    text = text.replace("\x00", "")
    if _looks_binary(text):
        raise MislabelledDocumentError(
            f"The file {filename!r} is named as text but contains binary data; "
            "upload it with the extension of its real format."
        )
    return text, encoding, guessed


def _decode(data: bytes, filename: str) -> tuple[str, str, bool]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace"), encoding, False

    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        pass

    utf16 = _utf16_without_bom(data)
    if utf16:
        return data.decode(utf16, errors="replace"), utf16, True

    if _plausible_gb18030(data):
        return data.decode("gb18030"), "gb18030", False

    best = _detect(data[:_DETECTOR_SAMPLE_BYTES])
    if best is not None:
        logger.info("Detected encoding %s for %s", best, filename)
        return data.decode(best, errors="replace"), best, True

    logger.warning("No encoding detected for %s; decoding as UTF-8 with replacement", filename)
    return data.decode("utf-8", errors="replace"), "utf-8", True


def _detect(sample: bytes) -> str | None:
    """Return the detector's encoding, preferring cp1252 among candidates that score as well.

    For short Western European text several code pages decode every byte to a letter and score
    the same. charset-normalizer 3.5 ranks cp1250 first for Portuguese Latin-1 text, which turns
    "ã" into "ă", while cp1252 is by far the most common of these code pages.
    """
    matches = list(from_bytes(sample))
    if not matches:
        return None
    best = matches[0]
    for match in matches:
        # Tolerances below the score differences between code pages that decode text differently.
        tied = match.chaos <= best.chaos + 0.01 and match.coherence >= best.coherence - 0.05
        if match.encoding == "cp1252" and tied:
            return "cp1252"
    return best.encoding


def _utf16_without_bom(data: bytes) -> str | None:
    """Return a UTF-16 codec name when every other byte is NUL, as in BOM-less UTF-16 ASCII text."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    # Mostly-ASCII UTF-16 has a NUL in nearly every high byte; 0.8 leaves room for non-ASCII text.
    if odd_nuls > 0.8 and even_nuls < 0.1:
        return "utf-16-le"
    if even_nuls > 0.8 and odd_nuls < 0.1:
        return "utf-16-be"
    return None


def _plausible_gb18030(data: bytes) -> bool:
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return False

    pairs = 0
    ascii_trails = 0
    index = 0
    length = len(data)
    while index < length:
        byte = data[index]
        if byte < 0x80:
            index += 1
            continue
        trail = data[index + 1] if index + 1 < length else 0
        if 0x30 <= trail <= 0x39:
            # A four-byte GB18030 sequence: lead, digit, lead, digit.
            index += 4
            continue
        pairs += 1
        if trail < 0x80:
            ascii_trails += 1
        index += 2
    return pairs > 0 and ascii_trails / pairs <= _GB_ASCII_TRAIL_LIMIT


def _looks_binary(text: str) -> bool:
    sample = text[:10000]
    if not sample:
        return False
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\t\n\r\f\x1b")
    return controls / len(sample) > _BINARY_CONTROL_LIMIT
