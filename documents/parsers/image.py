"""Images: text through OCR, or an empty result with a notice when Tesseract is missing."""

import io
import logging

import pytesseract
from PIL import Image, ImageSequence, UnidentifiedImageError

from documents.parsers import ocr
from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, NoticeCode, ParsedDocument
from documents.parsers.errors import CorruptDocumentError, DocumentTooLargeError

logger = logging.getLogger(__name__)

# Pixels accepted in one image: 100 megapixels covers an A3 page scanned at 600 dpi, while
# larger "images" are usually decompression bombs that would exhaust memory.
MAX_IMAGE_PIXELS = 100_000_000
# Frames read from a multi-page TIFF or an animated GIF; fax-style TIFFs rarely exceed this.
MAX_FRAMES = 50


def parse_image(context: ParseContext) -> ParsedDocument:
    parsed = ParsedDocument(context.filename, "image")
    try:
        image = Image.open(io.BytesIO(context.data))
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise DocumentTooLargeError(
                f"The image {context.filename!r} has {width}x{height} pixels, more than the "
                f"{MAX_IMAGE_PIXELS:,} that OCR accepts; scale it down and upload it again."
            )
        image.load()
    except Image.DecompressionBombError as error:
        logger.warning("Pillow rejected %s as a decompression bomb: %s", context.filename, error)
        raise DocumentTooLargeError(
            f"The image {context.filename!r} has more pixels than OCR accepts; scale it down and upload it again."
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        logger.warning("Pillow rejected %s: %s", context.filename, error)
        raise CorruptDocumentError(
            f"The image {context.filename!r} is damaged or truncated and cannot be read."
        ) from error
    parsed.metadata["size"] = [width, height]

    if not context.ocr:
        parsed.add_notice(NoticeCode.NO_TEXT, "OCR is off, so the image's text was not read.")
        return parsed
    try:
        languages = ocr.available_languages(context.ocr_languages)
    except ocr.OcrUnavailable as error:
        logger.info("No OCR for %s: %s", context.filename, error)
        parsed.add_notice(
            NoticeCode.OCR_UNAVAILABLE,
            "The image's text was not read because OCR (Tesseract) is not installed on the server.",
        )
        return parsed

    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        if number > MAX_FRAMES:
            parsed.add_notice(NoticeCode.CONTENT_SKIPPED, f"Only the first {MAX_FRAMES} frames were read.")
            break
        context.check_cancelled()
        try:
            lines = ocr.recognise_lines(frame.copy(), languages, context.ocr_timeout)
        except (RuntimeError, pytesseract.TesseractError) as error:
            logger.warning("OCR failed on frame %d of %s: %s", number, context.filename, error)
            parsed.add_notice(NoticeCode.OCR_FAILED, f"OCR failed or timed out on image frame {number}.")
            continue
        text = "\n".join(line.text for line in lines)
        if text.strip():
            positions = [
                [number, round(line.left), round(line.right), round(line.top), round(line.bottom)]
                for line in lines
            ]
            parsed.blocks.append(Block(BlockKind.TEXT, text, page=number, positions=positions))
    context.progress(1.0, "Image recognised.")
    return parsed
