"""Optical character recognition with Tesseract, when the tesseract program is installed."""

import logging
import shutil
from dataclasses import dataclass

import pytesseract
from PIL import Image

logger = logging.getLogger(__name__)

# Word confidence (0-100) below which Tesseract output is dropped as noise. Illustrations and
# page borders produce words near 0, while real text in clean scans scores above 60.
MIN_WORD_CONFIDENCE = 30
# Images are enlarged to at least this width in pixels before recognition, because Tesseract
# recognises small print poorly. The value is an estimate that brings a 449x110 banner to
# roughly the text height of a 300 dpi page.
MIN_OCR_WIDTH = 1500


class OcrUnavailable(Exception):
    """The tesseract program or a requested language is not installed."""


@dataclass
class OcrLine:
    """One recognised text line with its box in the pixels of the image that was passed in."""

    text: str
    left: float
    top: float
    right: float
    bottom: float


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def available_languages(requested: str) -> str:
    """Return the installed subset of a "+"-joined language list; raises OcrUnavailable if empty."""
    if not tesseract_available():
        raise OcrUnavailable("The tesseract program is not installed.")
    try:
        installed = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractError, OSError) as error:
        raise OcrUnavailable(f"Tesseract failed to list its languages: {error}") from error
    languages = [language for language in requested.split("+") if language in installed]
    if not languages:
        raise OcrUnavailable(f"None of the OCR languages {requested!r} is installed.")
    return "+".join(languages)


def recognise_lines(image: Image.Image, languages: str, timeout: int) -> list[OcrLine]:
    """Recognise the text lines of an image, in reading order.

    Raises OcrUnavailable when Tesseract is missing, RuntimeError on a timeout (pytesseract's own
    error), and pytesseract.TesseractError when the program fails on the image.
    """
    languages = available_languages(languages)
    scale = 1.0
    if image.width < MIN_OCR_WIDTH:
        scale = MIN_OCR_WIDTH / image.width
        image = image.resize((MIN_OCR_WIDTH, max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")

    data = pytesseract.image_to_data(image, lang=languages, output_type=pytesseract.Output.DICT, timeout=timeout)
    lines: dict[tuple[int, int, int], list[int]] = {}
    for index, word in enumerate(data["text"]):
        if not word.strip() or float(data["conf"][index]) < MIN_WORD_CONFIDENCE:
            continue
        key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
        lines.setdefault(key, []).append(index)

    result = []
    for indexes in lines.values():
        words = [data["text"][i] for i in indexes]
        left = min(data["left"][i] for i in indexes)
        top = min(data["top"][i] for i in indexes)
        right = max(data["left"][i] + data["width"][i] for i in indexes)
        bottom = max(data["top"][i] + data["height"][i] for i in indexes)
        result.append(
            OcrLine(_join_words(words), left / scale, top / scale, right / scale, bottom / scale)
        )
    return result


def _join_words(words: list[str]) -> str:
    """Join words with spaces, except between CJK characters, which Tesseract splits one by one."""
    text = words[0]
    for word in words[1:]:
        if _is_cjk(text[-1]) and _is_cjk(word[0]):
            text += word
        else:
            text += " " + word
    return text


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3000 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF
